"""Metric values: the value or the reason it is undefined, with the per-group detail behind it."""

from __future__ import annotations

from dataclasses import dataclass, field

from govdsl.metrics.counts import ConfusionCounts, GroupKey


@dataclass(frozen=True)
class Interval:
    """A confidence interval: its bounds, the confidence level and the method that computed it."""

    low: float
    high: float
    confidence: float
    method: str

    def to_dict(self) -> dict:
        return {"low": self.low, "high": self.high}


@dataclass(frozen=True)
class GroupValues:
    """One group's counts and the component values computed from them (None where undefined).

    `counts` is `ConfusionCounts` for classification metrics; other families give any
    object with an `n` (the group's rows) and a `to_dict()` of its counts. `reasons`
    says why a value is None, where the counts alone do not.
    """

    key: GroupKey
    counts: ConfusionCounts
    rates: dict[str, float | None]
    reasons: dict[str, str] = field(default_factory=dict)
    # Confidence intervals of the component values, None where a value has none.
    intervals: dict[str, Interval | None] = field(default_factory=dict)


@dataclass(frozen=True)
class MetricValue:
    """A metric's value, or None with the reason it is undefined."""

    value: float | None
    reason: str | None = None
    overall_rates: dict[str, float | None] = field(default_factory=dict)
    groups: tuple[GroupValues, ...] = ()
    # For between-group metrics: per component rate, the groups with the lowest and highest rate.
    extremes: dict[str, tuple[GroupKey, GroupKey]] = field(default_factory=dict)
    # Groups left out because they have fewer rows than the check's minimum group size.
    excluded: tuple[tuple[GroupKey, int], ...] = ()
    # What else a report needs to reproduce the value: the method and settings used (bins,
    # smoothing, the statistical test), per-feature results, as JSON-ready data.
    details: dict = field(default_factory=dict)
    # The confidence interval of `value`, and of each overall component value, where the metric has one.
    interval: Interval | None = None
    overall_intervals: dict[str, Interval | None] = field(default_factory=dict)

    @property
    def defined(self) -> bool:
        return self.value is not None
