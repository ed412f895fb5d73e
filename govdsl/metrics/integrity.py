"""Integrity metrics: evidence files against their declared SHA-256 digests, reported metrics against recomputed ones.

The tables are built by `govdsl.evidence.quality_reductions`. Each function is
called as `function(table, arguments)` and returns a MetricValue.
"""

from __future__ import annotations

from dataclasses import dataclass

from govdsl.metrics.quality import RowCounts
from govdsl.metrics.values import GroupValues, MetricValue

# Absolute tolerance when neither the check nor the bundle states one: enough for
# floating-point noise, so a reported value must otherwise match to the last digit.
DEFAULT_TOLERANCE = 1e-9

VERIFIED, NO_DIGEST, MISMATCH, MISSING = "verified", "no digest", "mismatch", "missing"


@dataclass(frozen=True)
class FileDigest:
    """One evidence file: where bundle.yaml declares it, the digests declared for it and its digest now."""

    path: str  # relative to the bundle folder
    declared_at: tuple[str, ...]  # keys of bundle.yaml, such as `datasets[0].path`
    declared: tuple[str, ...]  # the distinct SHA-256 digests declared for the file
    actual: str | None  # None when the file does not exist
    size: int | None

    @property
    def status(self) -> str:
        if self.actual is None:
            return MISSING
        if not self.declared:
            return NO_DIGEST
        if self.declared != (self.actual,):
            return MISMATCH
        return VERIFIED

    def to_dict(self) -> dict:
        return {
            "file": self.path,
            "status": self.status,
            "declared_at": list(self.declared_at),
            "declared_sha256": list(self.declared),
            "sha256": self.actual,
            "bytes": self.size,
        }


@dataclass(frozen=True)
class EvidenceDigests:
    """Every evidence file a bundle declares, hashed when the check ran."""

    manifest: str
    manifest_sha256: str
    files: tuple[FileDigest, ...]
    features: tuple[str, ...] = ("file",)
    rows_excluded: int = 0


@dataclass(frozen=True)
class ReportedValue:
    """One value a bundle reports for a metric, beside the value govdsl computes from the evidence.

    `recomputed` is None with `reason` when the metric is undefined on the evidence,
    or when the evidence it needs is missing (`available` is then False).
    """

    label: str  # the metric call, and the group for a per-group value
    key: str  # where the value is declared in bundle.yaml
    reported: float | None
    recomputed: float | None
    reason: str | None = None
    tolerance: float | None = None  # the tolerance the bundle states for this value
    source: str | None = None
    available: bool = True


@dataclass(frozen=True)
class ReportedMetrics:
    dataset: str
    values: tuple[ReportedValue, ...]
    features: tuple[str, ...] = ("metric",)
    rows_excluded: int = 0


# Evidence digests


def _digest_groups(table: EvidenceDigests, statuses: set[str]) -> tuple[GroupValues, ...]:
    return tuple(
        GroupValues((f"{f.path} ({f.status})",), RowCounts(1, {"bytes": f.size or 0}), {})
        for f in table.files
        if f.status in statuses
    )


def _digest_details(table: EvidenceDigests) -> dict:
    counts = {status: sum(1 for f in table.files if f.status == status) for status in (VERIFIED, NO_DIGEST, MISMATCH, MISSING)}
    return {
        "manifest": table.manifest,
        "manifest_sha256": table.manifest_sha256,
        "files": [f.to_dict() for f in table.files],
        "counts": counts,
    }


def unverified_evidence_files(table: EvidenceDigests, arguments: dict) -> MetricValue:
    """Count the declared evidence files that have no declared SHA-256, are missing, or do not match it."""
    count = sum(1 for f in table.files if f.status != VERIFIED)
    groups = _digest_groups(table, {VERIFIED, NO_DIGEST, MISMATCH, MISSING})
    return MetricValue(count, groups=groups, details=_digest_details(table))


def evidence_digest_mismatches(table: EvidenceDigests, arguments: dict) -> MetricValue:
    """Count the declared evidence files that are missing or differ from a SHA-256 declared for them."""
    count = sum(1 for f in table.files if f.status in (MISMATCH, MISSING))
    groups = _digest_groups(table, {VERIFIED, MISMATCH, MISSING})
    return MetricValue(count, groups=groups, details=_digest_details(table))


# Reported metrics


def _tolerance(value: ReportedValue, arguments: dict) -> float:
    if "tolerance" in arguments:
        return float(arguments["tolerance"])
    if value.tolerance is not None:
        return value.tolerance
    return DEFAULT_TOLERANCE


def _outcome(value: ReportedValue, tolerance: float) -> str:
    """Return `match`, `mismatch` or `undefined` (a reported number that cannot be recomputed)."""
    if value.recomputed is None:
        return "match" if value.reported is None and value.available else "undefined"
    if value.reported is None:
        return "mismatch"
    return "match" if abs(value.reported - value.recomputed) <= tolerance else "mismatch"


def reported_metrics_mismatch(table: ReportedMetrics, arguments: dict) -> MetricValue:
    """Count the values reported in the bundle that differ from the recomputed value by more than the tolerance."""
    rows = []
    groups = []
    for value in table.values:
        tolerance = _tolerance(value, arguments)
        outcome = _outcome(value, tolerance)
        difference = None
        if value.reported is not None and value.recomputed is not None:
            difference = abs(value.reported - value.recomputed)
        rows.append({
            "metric": value.label,
            "key": value.key,
            "reported": value.reported,
            "recomputed": value.recomputed,
            "difference": difference,
            "tolerance": tolerance,
            "outcome": outcome,
            "reason": value.reason,
            "source": value.source,
        })
        reasons = {name: value.reason for name in ("recomputed", "difference") if value.reason and value.recomputed is None}
        groups.append(
            GroupValues(
                (value.label,),
                RowCounts(1, {}),
                {"reported": value.reported, "recomputed": value.recomputed, "difference": difference},
                reasons,
            )
        )
    details = {"dataset": table.dataset, "values": rows}
    undefined = [row for row in rows if row["outcome"] == "undefined"]
    mismatches = sum(1 for row in rows if row["outcome"] == "mismatch")
    if undefined:
        named = "; ".join(f"{row['metric']} ({row['key']}): {row['reason']}" for row in undefined)
        reason = f"{len(undefined)} reported value(s) cannot be recomputed, besides {mismatches} mismatch(es): {named}"
        return MetricValue(None, reason, groups=tuple(groups), details=details)
    return MetricValue(mismatches, groups=tuple(groups), details=details)
