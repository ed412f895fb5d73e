"""Regression metrics as pure functions of per-group error sums and target moments.

Each group keeps its row count, the sums of absolute and squared errors, and the
mean, sum of squared deviations, minimum and maximum of the target. Counts and sums
of two chunks add up, and their target means and deviations merge by the pairwise
update M = M1 + M2 + delta² n1 n2 / n, so chunked reading gives the same values up to
floating-point rounding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

from govdsl.metrics.counts import GroupKey
from govdsl.metrics.scores import between_groups_difference, overall_or_per_group
from govdsl.metrics.values import MetricValue

TITLES = {
    "mean_absolute_error": "mean absolute error",
    "mean_squared_error": "mean squared error",
    "root_mean_squared_error": "root mean squared error",
    "r2_score": "R²",
}


@dataclass(frozen=True)
class RegressionSums:
    """Sufficient statistics of one group's targets and predictions."""

    n: int = 0
    absolute_error: float = 0.0  # sum of |target - prediction|
    squared_error: float = 0.0  # sum of (target - prediction)²
    target_mean: float = 0.0
    target_deviation: float = 0.0  # sum of (target - target mean)²
    target_min: float = math.inf
    target_max: float = -math.inf

    def merge(self, other: RegressionSums) -> RegressionSums:
        if other.n == 0:
            return self
        if self.n == 0:
            return other
        n = self.n + other.n
        delta = other.target_mean - self.target_mean
        return RegressionSums(
            n,
            self.absolute_error + other.absolute_error,
            self.squared_error + other.squared_error,
            self.target_mean + delta * other.n / n,
            self.target_deviation + other.target_deviation + delta * delta * self.n * other.n / n,
            min(self.target_min, other.target_min),
            max(self.target_max, other.target_max),
        )

    def to_dict(self) -> dict[str, int]:
        return {"n": self.n}


@dataclass
class RegressionTable:
    """Regression sums per group of the sensitive features (one group `()` without features).

    `rows_excluded` counts rows without a target or a prediction, which no group holds.
    """

    features: tuple[str, ...]
    groups: dict[GroupKey, RegressionSums]
    rows_excluded: int
    target_column: str
    prediction_column: str

    @cached_property
    def overall(self) -> RegressionSums:
        total = RegressionSums()
        for sums in self.groups.values():
            total = total.merge(sums)
        return total


def _no_rows() -> tuple[None, str]:
    return None, "it has no rows with a target and a prediction"


def mean_absolute_error_value(sums: RegressionSums) -> tuple[float | None, str | None]:
    if sums.n == 0:
        return _no_rows()
    return sums.absolute_error / sums.n, None


def mean_squared_error_value(sums: RegressionSums) -> tuple[float | None, str | None]:
    if sums.n == 0:
        return _no_rows()
    return sums.squared_error / sums.n, None


def root_mean_squared_error_value(sums: RegressionSums) -> tuple[float | None, str | None]:
    if sums.n == 0:
        return _no_rows()
    return math.sqrt(sums.squared_error / sums.n), None


def r2_score_value(sums: RegressionSums) -> tuple[float | None, str | None]:
    """Return 1 minus the squared error over the target's squared deviation from its mean, or None for a constant target."""
    if sums.n == 0:
        return _no_rows()
    # Minimum and maximum are exact, so they tell a constant target apart from a tiny rounding residue.
    if sums.target_min == sums.target_max:
        return None, f"the target is constant ({sums.target_min:g} in all {sums.n} rows), so there is no variance to explain"
    return 1 - sums.squared_error / sums.target_deviation, None


_VALUES = {
    "mean_absolute_error": mean_absolute_error_value,
    "mean_squared_error": mean_squared_error_value,
    "root_mean_squared_error": root_mean_squared_error_value,
    "r2_score": r2_score_value,
}


def _details(table: RegressionTable) -> dict:
    return {"target_column": table.target_column, "prediction_column": table.prediction_column}


def _overall(component: str):
    def metric(table: RegressionTable, arguments: dict) -> MetricValue:
        return overall_or_per_group(table, arguments, component, TITLES[component], _VALUES[component], _details(table))

    metric.__name__ = component
    return metric


def _difference(component: str):
    def metric(table: RegressionTable, arguments: dict) -> MetricValue:
        return between_groups_difference(
            table, arguments, component, TITLES[component], _VALUES[component], _details(table)
        )

    metric.__name__ = f"{component}_difference"
    return metric


mean_absolute_error = _overall("mean_absolute_error")
mean_squared_error = _overall("mean_squared_error")
root_mean_squared_error = _overall("root_mean_squared_error")
r2_score = _overall("r2_score")
mean_absolute_error_difference = _difference("mean_absolute_error")
root_mean_squared_error_difference = _difference("root_mean_squared_error")
