"""Load regulation catalogs from YAML, validate them against the catalog JSON Schema, check their ids."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from govdsl import resources
from govdsl.catalog.crosswalk import load_crosswalk_file
from govdsl.catalog.model import Catalog, CatalogSet, Clause
from govdsl.diagnostics import Diagnostic, error
from govdsl.errors import InvalidInputError

log = logging.getLogger("govdsl")


def load_catalog_file(path: Path) -> Catalog:
    """Load one catalog file; raise InvalidInputError naming the file and key of each problem."""
    # PyYAML and jsonschema load only when a catalog is read, not when the cache has it.
    import yaml

    from govdsl.yamlfiles import stringify_dates

    name = str(path)
    try:
        # libyaml's loader, where installed, reads the catalogs several times faster.
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInputError([error("E601", f"cannot read catalog `{name}`: {exc}")]) from None
    data = stringify_dates(data)
    import jsonschema

    validator = jsonschema.Draft202012Validator(resources.load_package_schema("catalog.schema.json"))
    problems = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if problems:
        raise InvalidInputError(
            [
                error("E602", f"catalog `{name}` is invalid at `{_json_path(p.absolute_path)}`: {p.message}")
                for p in problems
            ]
        )

    diagnostics: list[Diagnostic] = []
    clauses: dict[str, Clause] = {}
    for index, raw in enumerate(data["clauses"]):
        if raw["id"] in clauses:
            diagnostics.append(error("E603", f"catalog `{name}` repeats clause id `{raw['id']}` at clauses[{index}]"))
            continue
        clauses[raw["id"]] = Clause(
            catalog=data["catalog"],
            id=raw["id"],
            parent=raw.get("parent"),
            title=raw.get("title"),
            topic=raw.get("topic"),
            assessable=raw["assessable"],
            applies_from=raw.get("applies_from"),
            status=raw.get("status", "in_force"),
            replaced_by=raw.get("replaced_by"),
            note=raw.get("note"),
        )
    for clause in clauses.values():
        if clause.parent is not None and clause.parent not in clauses:
            diagnostics.append(
                error("E604", f"catalog `{name}`: clause `{clause.id}` names parent `{clause.parent}`, which does not exist")
            )
    if diagnostics:
        raise InvalidInputError(diagnostics)

    return Catalog(
        prefix=data["catalog"],
        name=data["name"],
        version=data["version"],
        clauses=_inherit_dates(clauses),
        published=data.get("published"),
        sources=data.get("sources", []),
        applies_from=data.get("applies_from", []),
        supersedes=data.get("supersedes"),
        superseded_by=data.get("superseded_by"),
        unverified=data.get("unverified", []),
        superseded_on=data.get("superseded_on"),
        relation_note=data.get("relation_note"),
        note=data.get("note"),
        alias_prefixes=data.get("alias_prefixes", []),
        path=path.name,
    )


def _inherit_dates(clauses: dict[str, Clause]) -> dict[str, Clause]:
    """Give each clause without its own `applies_from` the date of its nearest ancestor that has one."""
    resolved: dict[str, Clause] = {}
    for clause_id, clause in clauses.items():
        date = clause.applies_from
        parent = clause.parent
        while date is None and parent is not None:
            date = clauses[parent].applies_from
            parent = clauses[parent].parent
        resolved[clause_id] = Clause(**{**clause.__dict__, "applies_from": date})
    return resolved


def _json_path(parts) -> str:
    text = "$"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


@cache
def load_catalogs(folder: str | None = None) -> CatalogSet:
    """Load every `*.yaml` catalog of a folder and the crosswalks in its `crosswalks/` subfolder.

    The default folder is the shipped regulations. A validated set is kept in the
    parse cache folder, keyed by the content of every file read, so later runs skip
    parsing and schema validation until a file changes.
    """
    directory = Path(folder) if folder else resources.data_path("regulations")
    key = _catalogs_key(directory)
    cached = _cached_catalogs(key)
    if cached is not None:
        return cached
    result = _load_catalogs(directory)
    _store_catalogs(key, result)
    return result


def _catalog_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.yaml")) + sorted((directory / "crosswalks").glob("*.yaml"))


def _catalogs_key(directory: Path) -> str | None:
    """Return a digest of govdsl's version and of each catalog file's name and bytes, or None when one is unreadable."""
    import hashlib

    from govdsl import __version__

    digest = hashlib.sha256(f"catalogs\0{__version__}\0{directory.resolve()}".encode())
    try:
        for path in _catalog_files(directory):
            data = path.read_bytes()
            digest.update(f"\0{path.relative_to(directory).as_posix()}\0{len(data)}\0".encode())
            digest.update(data)
    except OSError:
        return None
    return digest.hexdigest()


def _entry(key: str) -> Path | None:
    from govdsl.syntax.cache import cache_folder

    folder = cache_folder()
    return None if folder is None else folder / f"catalogs-{key}.pickle"


def _cached_catalogs(key: str | None) -> CatalogSet | None:
    import pickle

    from govdsl.catalog import crosswalk, model

    entry = _entry(key) if key else None
    if entry is None:
        return None
    allowed = {model.__name__: model, crosswalk.__name__: crosswalk}

    class CatalogUnpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> type:
            found = getattr(allowed.get(module), name, None)
            if isinstance(found, type):
                return found
            raise pickle.UnpicklingError(f"`{module}.{name}` is not allowed in a catalog cache entry")

    try:
        with entry.open("rb") as handle:
            stored = CatalogUnpickler(handle).load()
    except FileNotFoundError:
        return None
    except Exception as exc:  # a damaged entry can raise almost anything; each one is a miss
        log.debug("ignoring unreadable catalog cache entry %s: %s: %s", entry, type(exc).__name__, exc)
        return None
    if isinstance(stored, tuple) and len(stored) == 2 and stored[0] == key and isinstance(stored[1], CatalogSet):
        return stored[1]
    return None


def _store_catalogs(key: str | None, catalogs: CatalogSet) -> None:
    import pickle

    from govdsl.syntax.cache import write_entry

    entry = _entry(key) if key else None
    if entry is not None:
        write_entry(entry.parent, entry, pickle.dumps((key, catalogs), protocol=pickle.HIGHEST_PROTOCOL))


def _load_catalogs(directory: Path) -> CatalogSet:
    catalogs = [load_catalog_file(path) for path in sorted(directory.glob("*.yaml"))]
    prefixes = [c.prefix for c in catalogs]
    duplicates = sorted({p for p in prefixes if prefixes.count(p) > 1})
    if duplicates:
        raise InvalidInputError([error("E605", f"more than one catalog uses the prefix `{d}`") for d in duplicates])
    by_prefix = {c.prefix: c for c in catalogs}
    for catalog in catalogs:
        for field_name in ("supersedes", "superseded_by"):
            other = getattr(catalog, field_name)
            if other is not None and other not in by_prefix:
                raise InvalidInputError(
                    [error("E606", f"catalog `{catalog.path}`: `{field_name}` names `{other}`, which is not a loaded catalog")]
                )
    crosswalks = [load_crosswalk_file(path, by_prefix) for path in sorted((directory / "crosswalks").glob("*.yaml"))]
    log.debug("loaded %d catalogs and %d crosswalks from %s", len(catalogs), len(crosswalks), directory)
    return CatalogSet(catalogs, crosswalks)
