"""Control coverage: which controls map to each leaf clause of the chosen frameworks, and how much is covered.

Coverage counts leaf clauses only. A control mapped to a parent clause covers that
parent, not its children. Clauses reached through a crosswalk are listed as derived
and never count as covered. Deleted clauses are listed but not counted.

A clause is covered only when a control that maps it has a check that reads
something. Coverage by *evidence* needs a check that reads a dataset (its rows, or
results recomputed from them), the model card, the approvals, or evidence files by
their digests. Coverage by *attestation* means that the mapped controls read only
attestations: recorded statements that someone in a role vouches for. A clause whose
controls check nothing, or only `model` fields and constants, is `unchecked` and
not covered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from govdsl.catalog.model import CatalogSet
from govdsl.compiler.plan import CheckSpec, ControlSpec, Plan

# Static statuses of a clause row.
COVERED = "covered"  # a mapped control has a check that reads evidence
ATTESTED = "attested"  # the mapped controls read attestations but no evidence
UNCHECKED = "unchecked"  # mapped, but no mapped control reads evidence or attestations
UNCOVERED = "uncovered"
DELETED = "deleted"
PARENT = "parent"  # a parent clause a control maps directly; listed, never counted

# The basis of a control's or a clause's coverage.
EVIDENCE = "evidence"
ATTESTATION = "attestation"
NONE = "none"

# The kinds of input a check reads.
DATA = "data"  # rows of a bundle dataset, or published results recomputed from them
MODEL_CARD = "model_card"
APPROVALS = "approvals"
FILES = "files"  # evidence files, checked against their declared digests
BUNDLE = "bundle"  # another declaration of bundle.yaml that a metric reads
ATTESTATIONS = "attestations"
MODEL_FIELDS = "model_fields"  # `model.FIELD`: the bundle's own description of the model, not evidence
EVIDENCE_READS = frozenset({DATA, MODEL_CARD, APPROVALS, FILES, BUNDLE})

# Reduction kinds that read no dataset, by what they read; any other such kind reads BUNDLE.
_KIND_READS = {
    "model_card_sections": MODEL_CARD,
    "model_card_metadata": MODEL_CARD,
    "approvals": APPROVALS,
    "approval_age": APPROVALS,
    "evidence_digests": FILES,
    "attestations": ATTESTATIONS,
}
_REQUIREMENT_READS = {"approval": APPROVALS, "card_section": MODEL_CARD, "evidence": FILES}
_OBJECT_READS = {"card": MODEL_CARD, "model": MODEL_FIELDS}


def check_reads(check: CheckSpec, plan: Plan) -> frozenset[str]:
    """Return what a check or requirement reads: DATA, MODEL_CARD, ATTESTATIONS and the other kinds above."""
    reads: set[str] = set()
    for reduction_id in check.reductions:
        spec = plan.reductions[reduction_id]
        reads.add(DATA if spec.roles else _KIND_READS.get(spec.kind, BUNDLE))
    if check.requirement is not None:
        reads.add(_REQUIREMENT_READS.get(check.requirement.get("kind"), BUNDLE))
    if check.expression is not None:
        reads.update(_expression_reads(check.expression))
    return frozenset(reads)


def _expression_reads(node) -> set[str]:
    """Return what the `card.SECTION` and `model.FIELD` reads in an expression tree read: MODEL_CARD or MODEL_FIELDS."""
    reads: set[str] = set()
    if isinstance(node, dict):
        target = node.get("target")
        if node.get("kind") == "field" and isinstance(target, dict) and target.get("kind") == "object":
            reads.add(_OBJECT_READS.get(target.get("name"), BUNDLE))
        for value in node.values():
            reads.update(_expression_reads(value))
    elif isinstance(node, list):
        for item in node:
            reads.update(_expression_reads(item))
    return reads


def control_basis(control: ControlSpec, plan: Plan) -> str:
    """Return EVIDENCE when a check of the control reads evidence, else ATTESTATION when one reads attestations, else NONE."""
    reads: set[str] = set()
    for check_id in control.checks:
        reads.update(check_reads(plan.checks[check_id], plan))
    if reads & EVIDENCE_READS:
        return EVIDENCE
    if ATTESTATIONS in reads:
        return ATTESTATION
    return NONE


def _combined_basis(bases: list[str]) -> str:
    for basis in (EVIDENCE, ATTESTATION):
        if basis in bases:
            return basis
    return NONE


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
    basis: str = NONE  # EVIDENCE, ATTESTATION or NONE, from the mapped controls
    control_bases: tuple[str, ...] = ()  # the basis of each control in `controls`

    @property
    def covered(self) -> bool:
        return self.basis != NONE

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
            "basis": self.basis,
            "controls": [
                {"id": c, "status": s, "basis": basis} for (c, s), basis in zip(self.controls, self.control_bases)
            ],
            "derived": [d.to_dict() for d in self.derived],
        }


@dataclass(frozen=True)
class Tally:
    """Covered and total counted leaf clauses of one framework, group or assessable kind.

    `covered` is `evidence` plus `attestation`: the clauses covered by evidence, and
    those covered by attestations only.
    """

    name: str
    label: str
    total: int
    covered: int
    evidence: int = 0
    attestation: int = 0

    @property
    def not_covered(self) -> int:
        return self.total - self.covered

    @property
    def exact_percent(self) -> float | None:
        return None if self.total == 0 else 100.0 * self.covered / self.total

    @property
    def percent(self) -> float | None:
        """The percentage rounded to one decimal, for display; minimums compare `exact_percent`."""
        exact = self.exact_percent
        return None if exact is None else round(exact, 1)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "label": self.label,
            "total": self.total,
            "covered": self.covered,
            "evidence": self.evidence,
            "attestation": self.attestation,
            "not_covered": self.not_covered,
            "percent": self.percent,
        }


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
    # The compiled controls by id, for renderers that show a control's title and enforcement.
    controls: Mapping[str, ControlSpec] = field(default_factory=dict, compare=False, repr=False)

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


# The policy library that govdsl ships, one policy per framework; docs/coverage.md reports its coverage.
LIBRARY_POLICIES = (
    "govdsl:eu-ai-act/high-risk.gov",
    "govdsl:nist-ai-rmf/core.gov",
    "govdsl:sr-11-7/model-risk.gov",
    "govdsl:iso-42001/annex-a.gov",
)


def library_coverage(catalogs: CatalogSet | None = None) -> Coverage:
    """Compile the shipped policy library and return its static coverage of every framework it maps.

    The result does not depend on the date: the compiler's date notes and
    supersession warnings are left to `govdsl lint`.
    """
    from govdsl.catalog import load_catalogs
    from govdsl.compiler import compile_policies

    catalogs = catalogs or load_catalogs()
    plan, _ = compile_policies(LIBRARY_POLICIES, catalogs)
    return compute_coverage(plan, catalogs)


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
    bases: dict[str, str] = {}
    for control in sorted(plan.controls.values(), key=lambda c: c.id):
        bases[control.id] = control_basis(control, plan)
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
            control_bases = tuple(bases[c] for c in controls)
            basis = _combined_basis(list(control_bases)) if counted else NONE
            status = _clause_status(controls, clause.status, basis, control_statuses) if leaf else PARENT
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
                    basis=basis,
                    control_bases=control_bases,
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
    return Coverage(tuple(summaries), tuple(rows), min_coverage, below, policies, as_of, dict(plan.controls))


def _clause_status(controls: list[str], clause_status: str, basis: str, control_statuses: dict[str, str] | None) -> str:
    if clause_status == "deleted":
        return DELETED
    if not controls:
        return UNCOVERED
    if control_statuses is None:
        return {EVIDENCE: COVERED, ATTESTATION: ATTESTED}.get(basis, UNCHECKED)
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
    evidence = sum(1 for r in counted if r.basis == EVIDENCE)
    attestation = sum(1 for r in counted if r.basis == ATTESTATION)
    return Tally(name, label, len(counted), evidence + attestation, evidence, attestation)


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
