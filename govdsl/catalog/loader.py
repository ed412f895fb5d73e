"""Load regulation catalogs from YAML, validate them against the catalog JSON Schema, check their ids."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

import jsonschema
import yaml

from govdsl import resources
from govdsl.catalog.crosswalk import load_crosswalk_file
from govdsl.catalog.model import Catalog, CatalogSet, Clause
from govdsl.diagnostics import Diagnostic, error
from govdsl.errors import InvalidInputError
from govdsl.yamlfiles import stringify_dates

log = logging.getLogger("govdsl")




def load_catalog_file(path: Path) -> Catalog:
    """Load one catalog file; raise InvalidInputError naming the file and key of each problem."""
    name = str(path)
    try:
        # libyaml's loader, where installed, reads the catalogs several times faster.
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInputError([error("E601", f"cannot read catalog `{name}`: {exc}")]) from None
    data = stringify_dates(data)
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

    The default folder is the shipped regulations.
    """
    directory = Path(folder) if folder else resources.data_path("regulations")
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
