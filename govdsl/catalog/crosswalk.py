"""Crosswalks: rows relating clauses of two catalogs, each backed by a named public source.

A link found through a crosswalk is derived: reports show it beside direct
mappings, and coverage never counts it as covering a clause.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from govdsl import resources
from govdsl.catalog.model import Catalog
from govdsl.diagnostics import Diagnostic, error
from govdsl.errors import InvalidInputError


@dataclass(frozen=True)
class CrosswalkLink:
    """One clause related to another by a crosswalk row, read in either direction."""

    reference: str  # the clause a control maps
    related: str  # the clause of the other framework
    crosswalk: str
    source: str  # title of the public source of the row
    relation: str


@dataclass(frozen=True)
class Crosswalk:
    name: str
    from_catalog: str
    to_catalog: str
    sources: dict[str, dict]
    rows: tuple[tuple[str, tuple[str, ...], str, str], ...]  # (from id, to ids, source id, relation)
    path: str

    def links(self) -> list[CrosswalkLink]:
        """Return every row as links in both directions, with canonical references."""
        found = []
        for from_id, to_ids, source_id, relation in self.rows:
            title = self.sources[source_id]["title"]
            for to_id in to_ids:
                left = f"{self.from_catalog}:{from_id}"
                right = f"{self.to_catalog}:{to_id}"
                found.append(CrosswalkLink(left, right, self.name, title, relation))
                found.append(CrosswalkLink(right, left, self.name, title, relation))
        return found


def load_crosswalk_file(path: Path, catalogs: dict[str, Catalog]) -> Crosswalk:
    """Load one crosswalk; every endpoint must exist in its catalog and every row must name a source."""
    import yaml

    name = str(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInputError([error("E611", f"cannot read crosswalk `{name}`: {exc}")]) from None
    import jsonschema

    validator = jsonschema.Draft202012Validator(resources.load_package_schema("crosswalk.schema.json"))
    problems = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if problems:
        raise InvalidInputError(
            [error("E612", f"crosswalk `{name}` is invalid at `{'/'.join(map(str, p.absolute_path))}`: {p.message}") for p in problems]
        )

    diagnostics: list[Diagnostic] = []
    ends = {}
    for end in ("from", "to"):
        catalog = catalogs.get(data[end])
        if catalog is None:
            diagnostics.append(error("E613", f"crosswalk `{name}` names unknown catalog `{data[end]}` in `{end}`"))
        ends[end] = catalog
    if diagnostics:
        raise InvalidInputError(diagnostics)

    sources = {source["id"]: source for source in data["sources"]}
    rows = []
    for index, row in enumerate(data["mappings"]):
        if row["source"] not in sources:
            diagnostics.append(
                error("E614", f"crosswalk `{name}`: mappings[{index}] names source `{row['source']}`, which `sources` does not list")
            )
        left = ends["from"].find(row["from"])
        if left is None:
            diagnostics.append(
                error("E615", f"crosswalk `{name}`: mappings[{index}].from `{row['from']}` is not a clause of {data['from']}")
            )
        targets = []
        for target in row["to"]:
            right = ends["to"].find(target)
            if right is None:
                diagnostics.append(
                    error("E615", f"crosswalk `{name}`: mappings[{index}].to `{target}` is not a clause of {data['to']}")
                )
                continue
            targets.append(right.id)
        if left is not None and targets:
            rows.append((left.id, tuple(dict.fromkeys(targets)), row["source"], row.get("relation", "related")))
    if diagnostics:
        raise InvalidInputError(diagnostics)
    return Crosswalk(data["crosswalk"], data["from"], data["to"], sources, tuple(rows), path.name)
