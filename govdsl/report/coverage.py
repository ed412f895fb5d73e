"""Control coverage: which controls map to each leaf clause of the chosen frameworks, and how much is covered.

Coverage counts leaf clauses only. A control mapped to a parent clause covers that
parent, not its children. Clauses reached through a crosswalk are listed as derived
and never count as covered. Deleted clauses are listed but not counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from govdsl.catalog.model import CatalogSet
from govdsl.compiler.plan import Plan

COVERED = "covered"
UNCOVERED = "uncovered"
DELETED = "deleted"
PARENT = "parent"  # a parent clause a control maps directly; listed, never counted


@dataclass(frozen=True)
class DerivedLink:
    control: str
    via: str  # the clause the control maps directly
    crosswalk: str
    source: str

    def to_dict(self) -> dict:
        return {"control": self.control, "via": self.via, "crosswalk": self.crosswalk, "source": self.source}


@dataclass(frozen=True)
class ClauseRow:
    reference: str
    framework: str
    clause_id: str
    parent: str | None
    group: str  # top-level ancestor: article, annex, function or section
    label: str
    assessable: str
    leaf: bool
    counted: bool
    status: str
    controls: tuple[tuple[str, str | None], ...]  # (control id, control status or None when static)
    derived: tuple[DerivedLink, ...] = ()

    def to_dict(self) -> dict:
        return {
            "reference": self.reference,
            "framework": self.framework,
            "clause": self.clause_id,
            "parent": self.parent,
            "group": self.group,
            "label": self.label,
            "assessable": self.assessable,
            "leaf": self.leaf,
            "counted": self.counted,
            "status": self.status,
            "controls": [{"id": c, "status": s} for c, s in self.controls],
            "derived": [d.to_dict() for d in self.derived],
        }


@dataclass(frozen=True)
class Tally:
    """Covered and total counted leaf clauses of one framework, group or assessable kind."""

    name: str
    label: str
    total: int
    covered: int

    @property
    def exact_percent(self) -> float | None:
        return None if self.total == 0 else 100.0 * self.covered / self.total

    @property
    def percent(self) -> float | None:
        """The percentage rounded to one decimal, for display; minimums compare `exact_percent`."""
        exact = self.exact_percent
        return None if exact is None else round(exact, 1)

    def to_dict(self) -> dict:
        return {"name": self.name, "label": self.label, "total": self.total, "covered": self.covered, "percent": self.percent}


@dataclass(frozen=True)
class FrameworkCoverage:
    framework: str
    name: str
    version: str
    overall: Tally
    technical: Tally
    procedural: Tally
    groups: tuple[Tally, ...]
    superseded_by: str | None = None

    def to_dict(self) -> dict:
        return {
            "framework": self.framework,
            "name": self.name,
            "version": self.version,
            "superseded_by": self.superseded_by,
            "overall": self.overall.to_dict(),
            "technical": self.technical.to_dict(),
            "procedural": self.procedural.to_dict(),
            "groups": [g.to_dict() for g in self.groups],
        }


@dataclass(frozen=True)
class Coverage:
    frameworks: tuple[FrameworkCoverage, ...]
    rows: tuple[ClauseRow, ...]
    min_coverage: float | None = None
    below_minimum: tuple[str, ...] = field(default=())
    policies: tuple[dict, ...] = ()
    as_of: str | None = None

    def to_dict(self) -> dict:
        return {
            "coverage_version": "1.0",
            "as_of": self.as_of,
            "policies": list(self.policies),
            "frameworks": [f.to_dict() for f in self.frameworks],
            "clauses": [r.to_dict() for r in self.rows],
            "min_coverage": self.min_coverage,
            "below_minimum": list(self.below_minimum),
        }


def frameworks_mapped(plan: Plan) -> list[str]:
    return sorted({reference.split(":", 1)[0] for reference in plan.clauses})


def compute_coverage(
    plan: Plan,
    catalogs: CatalogSet,
    frameworks: Sequence[str] | None = None,
    control_statuses: dict[str, str] | None = None,
    min_coverage: float | None = None,
    as_of: str | None = None,
) -> Coverage:
    """Build the coverage matrix of a plan over the chosen frameworks.

    `frameworks` defaults to those the plan maps. `control_statuses`, when given,
    turns the static `covered` into each clause's evaluated status.
    """
    chosen = list(dict.fromkeys(frameworks)) if frameworks else frameworks_mapped(plan)
    mapped: dict[str, list[str]] = {}
    for control in sorted(plan.controls.values(), key=lambda c: c.id):
        for reference in control.maps:
            mapped.setdefault(reference, []).append(control.id)
    derived = _derived_links(mapped, catalogs)

    rows: list[ClauseRow] = []
    summaries: list[FrameworkCoverage] = []
    for prefix in chosen:
        catalog = catalogs.catalogs[prefix]
        framework_rows = []
        for clause in catalog.clauses.values():
            leaf = catalog.is_leaf(clause.id)
            controls = mapped.get(clause.reference, [])
            if not leaf and not controls:
                continue  # a parent appears only when a control maps it
            counted = leaf and clause.status != "deleted"
            status = _clause_status(controls, clause.status, control_statuses) if leaf else PARENT
            framework_rows.append(
                ClauseRow(
                    reference=clause.reference,
                    framework=prefix,
                    clause_id=clause.id,
                    parent=clause.parent,
                    group=catalog.root(clause.id).id,
                    label=clause.label,
                    assessable=clause.assessable,
                    leaf=leaf,
                    counted=counted,
                    status=status,
                    controls=tuple((c, (control_statuses or {}).get(c)) for c in controls),
                    derived=tuple(derived.get(clause.reference, ())),
                )
            )
        rows.extend(framework_rows)
        summaries.append(_summarize(catalog, framework_rows))

    below = tuple(
        s.framework
        for s in summaries
        if min_coverage is not None and (s.overall.exact_percent is None or s.overall.exact_percent < min_coverage)
    )
    policies = tuple({"name": p.name, "version": p.version, "file": p.file, "sha256": p.sha256} for p in plan.policies)
    return Coverage(tuple(summaries), tuple(rows), min_coverage, below, policies, as_of)


def _clause_status(controls: list[str], clause_status: str, control_statuses: dict[str, str] | None) -> str:
    if clause_status == "deleted":
        return DELETED
    if not controls:
        return UNCOVERED
    if control_statuses is None:
        return COVERED
    from govdsl.engine.status import combine_clause

    return combine_clause([control_statuses[c] for c in controls if c in control_statuses])


def _derived_links(mapped: dict[str, list[str]], catalogs: CatalogSet) -> dict[str, list[DerivedLink]]:
    derived: dict[str, list[DerivedLink]] = {}
    for reference, controls in sorted(mapped.items()):
        for link in catalogs.related(reference):
            for control in controls:
                derived.setdefault(link.related, []).append(DerivedLink(control, reference, link.crosswalk, link.source))
    return derived


def _tally(name: str, label: str, rows: list[ClauseRow]) -> Tally:
    counted = [r for r in rows if r.counted]
    return Tally(name, label, len(counted), sum(1 for r in counted if r.controls))


def _summarize(catalog, rows: list[ClauseRow]) -> FrameworkCoverage:
    leaves = [r for r in rows if r.leaf]
    groups = []
    for clause in catalog.clauses.values():
        if clause.parent is None:
            in_group = [r for r in leaves if r.group == clause.id]
            groups.append(_tally(clause.id, clause.label, in_group))
    return FrameworkCoverage(
        framework=catalog.prefix,
        name=catalog.name,
        version=catalog.version,
        overall=_tally(catalog.prefix, catalog.name, leaves),
        technical=_tally("technical", "technical clauses", [r for r in leaves if r.assessable == "technical"]),
        procedural=_tally("procedural", "procedural clauses", [r for r in leaves if r.assessable == "procedural"]),
        groups=tuple(groups),
        superseded_by=catalog.superseded_by,
    )
