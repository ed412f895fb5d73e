"""Results of one evaluation as plain data: per check, per control, per clause, and the gate decision.

`to_dict` gives the JSON form described by docs/schemas/results-v2.schema.json:
an undefined value is None (JSON null) with a reason beside it, never NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

RESULTS_SCHEMA_VERSION = "2.1"


def _number(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class GroupResult:
    group: dict[str, str]
    n: int
    counts: dict[str, int]
    values: dict[str, float | None]
    # Confidence interval bounds per value, as {"low": ..., "high": ...}, or None; empty for metrics without intervals.
    intervals: dict[str, dict | None] = field(default_factory=dict)

    def to_dict(self) -> dict:
        data = {
            "group": self.group,
            "n": self.n,
            "counts": self.counts,
            "values": {name: _number(value) for name, value in self.values.items()},
        }
        if self.intervals:
            data["intervals"] = self.intervals
        return data


@dataclass(frozen=True)
class CheckResult:
    """One check or requirement. The metric fields describe the first metric the check read, if any.

    `value` is the number the check compared with its threshold: the metric's value,
    or for a check such as `lower(roc_auc()) >= 0.9` or `max(psi_per_feature(...)) < 0.2`
    the bound or aggregate it compared. `metric_value` is the first metric's own value.
    """

    id: str
    kind: str  # "check" or "require"
    status: str
    message: str
    source: str
    metric: str | None = None
    arguments: dict | None = None
    operator: str | None = None
    threshold: float | None = None
    value: float | None = None
    reason: str | None = None
    dataset: str | None = None
    overall: dict[str, float | None] = field(default_factory=dict)
    groups: tuple[GroupResult, ...] = ()
    rows_excluded: int = 0
    extremes: dict[str, dict] = field(default_factory=dict)
    comparisons: tuple[dict, ...] = ()
    failing_groups: tuple[dict, ...] = ()
    requirement: dict | None = None
    excluded_groups: tuple[dict, ...] = ()
    details: dict = field(default_factory=dict)
    metric_value: float | None = None
    # The source of the expression compared with the threshold, such as `lower(roc_auc())`, when it is not the metric alone.
    measured: str | None = None

    def to_dict(self) -> dict:
        comparison = None
        if self.operator is not None and self.threshold is not None:
            comparison = {"operator": self.operator, "threshold": _number(self.threshold)}
        return {
            "id": self.id,
            "kind": self.kind,
            "metric": self.metric,
            "arguments": self.arguments,
            "comparison": comparison,
            "comparisons": list(self.comparisons),
            "failing_groups": list(self.failing_groups),
            "excluded_groups": list(self.excluded_groups),
            "requirement": self.requirement,
            "status": self.status,
            "value": _number(self.value),
            "metric_value": _number(self.metric_value),
            "measured": self.measured,
            "reason": self.reason,
            "message": self.message,
            "source": self.source,
            "dataset": self.dataset,
            "overall": {name: _number(value) for name, value in self.overall.items()},
            "groups": [g.to_dict() for g in self.groups],
            "rows_excluded": self.rows_excluded,
            "extremes": self.extremes,
            "details": self.details,
        }


@dataclass(frozen=True)
class ControlResult:
    id: str
    title: str | None
    severity: str
    enforcement: str
    status: str
    blocks_gate: bool
    message: str
    maps: tuple[str, ...]
    requires: tuple[str, ...]
    remediation: str | None
    owner: str | None
    checks: tuple[CheckResult, ...]
    waivable_by: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    # The waiver that turned a blocking status into `waived`, with the status it covers.
    waiver: dict | None = None

    def to_dict(self) -> dict:
        return {
            "waiver": self.waiver,
            "waivable_by": list(self.waivable_by),
            "tags": list(self.tags),
            "references": list(self.references),
            "id": self.id,
            "title": self.title,
            "severity": self.severity,
            "enforcement": self.enforcement,
            "owner": self.owner,
            "status": self.status,
            "blocks_gate": self.blocks_gate,
            "message": self.message,
            "maps": list(self.maps),
            "requires": list(self.requires),
            "remediation": self.remediation,
            "checks": [c.to_dict() for c in self.checks],
        }


@dataclass(frozen=True)
class ClauseResult:
    reference: str
    label: str
    assessable: str
    applies_from: str | None
    status: str
    controls: tuple[tuple[str, str], ...]  # (control id, control status)
    clause_status: str = "in_force"
    superseded_by: str | None = None

    def to_dict(self) -> dict:
        return {
            "clause_status": self.clause_status,
            "superseded_by": self.superseded_by,
            "reference": self.reference,
            "label": self.label,
            "assessable": self.assessable,
            "applies_from": self.applies_from,
            "status": self.status,
            "controls": [{"id": control, "status": status} for control, status in self.controls],
        }


@dataclass(frozen=True)
class Gate:
    decision: str  # "passed" or "blocked"
    blocking_controls: tuple[str, ...]
    insufficient_relaxed: bool
    relaxed_controls: tuple[str, ...]
    status_counts: dict[str, int]
    # With --fail-on-regression: what moved for the worse against the baseline, which blocks the gate.
    regressions: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.decision == "passed"

    def to_dict(self) -> dict:
        return {
            "decision": self.decision,
            "blocking_controls": list(self.blocking_controls),
            "insufficient_relaxed": self.insufficient_relaxed,
            "relaxed_controls": list(self.relaxed_controls),
            "status_counts": self.status_counts,
            "regressions": list(self.regressions),
        }


@dataclass(frozen=True)
class Results:
    govdsl_version: str
    as_of: str
    policies: tuple[dict, ...]
    bundle: dict
    controls: tuple[ControlResult, ...]
    clauses: tuple[ClauseResult, ...]
    gate: Gate
    parameters: tuple[dict, ...] = ()
    # Every waiver given to the run, with its state: applied, unused or why it was refused.
    waivers: tuple[dict, ...] = ()
    # The comparison with --baseline results, or None without a baseline.
    baseline: dict | None = None
    # Where the audit record of this run went (log, index, leaf hash, tree size, root), or None with --no-audit.
    audit: dict | None = None

    def to_dict(self) -> dict:
        return {
            "audit": self.audit,
            "baseline": self.baseline,
            "waivers": list(self.waivers),
            "parameters": list(self.parameters),
            "schema_version": RESULTS_SCHEMA_VERSION,
            "govdsl_version": self.govdsl_version,
            "as_of": self.as_of,
            "policies": list(self.policies),
            "bundle": self.bundle,
            "controls": [c.to_dict() for c in self.controls],
            "clauses": [c.to_dict() for c in self.clauses],
            "gate": self.gate.to_dict(),
        }
