"""Score-based classification metrics as pure functions of per-group counts of (score, label) pairs.

ROC AUC, log loss, Brier score and expected calibration error are computed exactly
from the number of positive and negative rows at each distinct score, so the counts
of several chunks of data merge without changing any value. ROC AUC has DeLong's
confidence interval. The helpers that turn a
per-group computation into an overall, per-group or between-group metric value are
shared with the regression metrics.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from govdsl.diagnostics import error
from govdsl.errors import InvalidInputError
from govdsl.metrics import intervals as ci
from govdsl.metrics.counts import GroupKey
from govdsl.metrics.fairness import DEFAULT_CONFIDENCE, describe_group
from govdsl.metrics.values import GroupValues, Interval, MetricValue

# Log loss clips probabilities to [EPSILON, 1 - EPSILON], as scikit-learn 1.9's log_loss
# does for float64 input, so a confident wrong prediction costs about 36 nats, not infinity.
LOG_LOSS_EPSILON = float(np.finfo(np.float64).eps)

DEFAULT_BINS = 10
MAX_BINS = 10_000
DELONG = "delong"
STRATEGIES = ("uniform", "quantile")

TITLES = {
    "roc_auc": "ROC AUC",
    "log_loss": "log loss",
    "brier_score": "Brier score",
    "expected_calibration_error": "expected calibration error",
}

# A per-group computation: counts -> (value, None), or (None, why the value is undefined).
Compute = Callable[[object], tuple[float | None, str | None]]


@dataclass(frozen=True)
class ScoreCounts:
    """Rows of one group at each distinct score, split into positive and negative labels.

    `scores` is sorted ascending and contains each score once. `positives[i]` and
    `negatives[i]` count the rows with score `scores[i]`.
    """

    scores: np.ndarray
    positives: np.ndarray
    negatives: np.ndarray

    @classmethod
    def empty(cls) -> ScoreCounts:
        return cls(np.zeros(0, np.float64), np.zeros(0, np.int64), np.zeros(0, np.int64))

    @classmethod
    def combine(cls, parts: Sequence[ScoreCounts]) -> ScoreCounts:
        """Add up the counts of several parts, such as the same group in several chunks."""
        parts = [part for part in parts if len(part.scores)]
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        scores, inverse = np.unique(np.concatenate([p.scores for p in parts]), return_inverse=True)
        positives = np.bincount(inverse, np.concatenate([p.positives for p in parts]), len(scores))
        negatives = np.bincount(inverse, np.concatenate([p.negatives for p in parts]), len(scores))
        return cls(scores, positives.astype(np.int64), negatives.astype(np.int64))

    @property
    def n(self) -> int:
        return self.n_positive + self.n_negative

    @cached_property
    def n_positive(self) -> int:
        return int(self.positives.sum())

    @cached_property
    def n_negative(self) -> int:
        return int(self.negatives.sum())

    def to_dict(self) -> dict[str, int]:
        return {"positives": self.n_positive, "negatives": self.n_negative, "distinct_scores": len(self.scores)}


@dataclass
class ScoreTable:
    """Score counts per group of the sensitive features (one group `()` without features).

    `rows_excluded` counts rows without a label or a score, which no group holds.
    """

    features: tuple[str, ...]
    groups: dict[GroupKey, ScoreCounts]
    rows_excluded: int
    score_column: str

    @cached_property
    def overall(self) -> ScoreCounts:
        return ScoreCounts.combine(list(self.groups.values()))


# Group helpers shared by the score and regression metrics.


def _minimum_size(arguments: dict) -> float | None:
    return arguments.get("min_group_size")


def _undefined(title: str, reason: str, where: str | None = None) -> str:
    place = f" for {where}" if where else ""
    return f"{title} is undefined{place}: {reason}"


def _small_reason(n: int, minimum: float) -> str:
    return f"it has {n} rows, fewer than the minimum group size of {minimum:g}"


def _group_values(table, component: str, title: str, compute: Compute) -> tuple[GroupValues, ...]:
    """Compute each group's value, with the reason where it is undefined, in the order of the group keys."""
    groups = []
    for key, counts in sorted(table.groups.items()):
        value, reason = compute(counts)
        reasons = {} if value is not None else {component: _undefined(title, reason)}
        groups.append(GroupValues(key, counts, {component: value}, reasons))
    return tuple(groups)


def _too_small(groups: tuple[GroupValues, ...], arguments: dict) -> tuple[tuple[GroupKey, int], ...]:
    minimum = _minimum_size(arguments)
    if minimum is None:
        return ()
    return tuple((g.key, g.counts.n) for g in groups if g.counts.n < minimum)


def _without_value(group: GroupValues, component: str, title: str, minimum: float) -> GroupValues:
    reason = _undefined(title, _small_reason(group.counts.n, minimum))
    return GroupValues(group.key, group.counts, {component: None}, {component: reason})


def overall_or_per_group(
    table, arguments: dict, component: str, title: str, compute: Compute, details: dict | None = None
) -> MetricValue:
    """Compute one value over the whole dataset or, with `by`, one value per group and the overall value.

    With `min_group_size`, a smaller group's value is undefined, so an aggregate or a
    quantifier over the groups is `insufficient`. With `exclude_small`, the group is left out.
    """
    overall_value, overall_reason = compute(table.overall)
    overall = {component: overall_value}
    details = details or {}
    minimum = _minimum_size(arguments)
    if table.features:
        groups = _group_values(table, component, title, compute)
        small = _too_small(groups, arguments)
        if arguments.get("exclude_small"):
            left_out = {key for key, _ in small}
            kept = tuple(g for g in groups if g.key not in left_out)
            return MetricValue(None, None, overall, kept, excluded=small, details=details)
        too_small = {key for key, _ in small}
        groups = tuple(_without_value(g, component, title, minimum) if g.key in too_small else g for g in groups)
        return MetricValue(None, None, overall, groups, details=details)
    if minimum is not None and table.overall.n < minimum:
        reason = _undefined(title, _small_reason(table.overall.n, minimum), "the whole dataset")
        return MetricValue(None, reason, overall, details=details)
    reason = None if overall_value is not None else _undefined(title, overall_reason, "the whole dataset")
    return MetricValue(overall_value, reason, overall, details=details)


def between_groups_difference(
    table, arguments: dict, component: str, title: str, compute: Compute, details: dict | None = None
) -> MetricValue:
    """Compute the largest minus the smallest group value.

    The value is undefined when a compared group's value is undefined or fewer than two
    groups remain.

    With `min_group_size`, a smaller group makes the value undefined, unless `exclude_small`
    leaves it out of the comparison. Every group is reported with its own value.
    """
    overall_value, _ = compute(table.overall)
    overall = {component: overall_value}
    details = details or {}
    groups = _group_values(table, component, title, compute)
    small = _too_small(groups, arguments)
    excluded = small if arguments.get("exclude_small") else ()

    def undefined(reason: str) -> MetricValue:
        return MetricValue(None, reason, overall, groups, excluded=excluded, details=details)

    if small and not excluded:
        names = ", ".join(f"{describe_group(table.features, key)} (n = {n})" for key, n in small)
        return undefined(f"groups below the minimum size of {_minimum_size(arguments):g} rows: {names}")
    left_out = {key for key, _ in excluded}
    compared = [g for g in groups if g.key not in left_out]
    if len(compared) < 2:
        found = ", ".join(describe_group(table.features, g.key) for g in compared) or "none"
        return undefined(f"fewer than two groups to compare by {', '.join(table.features)} (groups: {found})")
    missing = [g for g in compared if g.rates[component] is None]
    if missing:
        return undefined("; ".join(f"{describe_group(table.features, g.key)}: {g.reasons[component]}" for g in missing))
    low = min(compared, key=lambda g: (g.rates[component], g.key))
    high = max(compared, key=lambda g: (g.rates[component], g.key))
    value = high.rates[component] - low.rates[component]
    return MetricValue(value, None, overall, groups, {component: (low.key, high.key)}, excluded, details)


# The metrics.


def _no_rows(counts: ScoreCounts) -> str | None:
    return "it has no rows with a label and a score" if counts.n == 0 else None


def roc_auc_value(counts: ScoreCounts) -> tuple[float | None, str | None]:
    """Compute the area under the ROC curve: the chance that a random positive scores above a random negative.

    Tied scores count one half. This Mann-Whitney form of the area equals the trapezoidal
    area that scikit-learn's roc_auc_score computes, including its handling of ties.
    """
    if counts.n_positive == 0 or counts.n_negative == 0:
        return None, _one_class(counts)
    negatives_below = np.cumsum(counts.negatives) - counts.negatives
    # Twice the number of (positive, negative) pairs ranked correctly, plus tied pairs once: exact in int64
    # while positives * negatives stays below 2**62, that is for up to about 4 * 10**9 rows.
    doubled = int(np.dot(counts.positives, 2 * negatives_below + counts.negatives))
    return doubled / (2 * counts.n_positive * counts.n_negative), None


def _one_class(counts: ScoreCounts) -> str:
    if counts.n == 0:
        return _no_rows(counts)
    label = "positive" if counts.n_negative == 0 else "negative"
    return f"all {counts.n} rows have the {label} label, and it needs positive and negative rows"


def log_loss_value(counts: ScoreCounts) -> tuple[float | None, str | None]:
    """Compute the mean negative natural logarithm of the clipped probability given to the observed label."""
    if counts.n == 0:
        return None, _no_rows(counts)
    probabilities = np.clip(counts.scores, LOG_LOSS_EPSILON, 1 - LOG_LOSS_EPSILON)
    total = np.dot(counts.positives, np.log(probabilities)) + np.dot(counts.negatives, np.log(1 - probabilities))
    return float(-total / counts.n), None


def brier_score_value(counts: ScoreCounts) -> tuple[float | None, str | None]:
    """Compute the mean squared difference between the probability and the label (1 positive, 0 negative)."""
    if counts.n == 0:
        return None, _no_rows(counts)
    total = np.dot(counts.positives, (1 - counts.scores) ** 2) + np.dot(counts.negatives, counts.scores**2)
    return float(total / counts.n), None


def _details(table: ScoreTable, **settings) -> dict:
    return {"score_column": table.score_column, **settings}


def roc_auc_variance(counts: ScoreCounts) -> float | None:
    """Return DeLong's estimate of the variance of the ROC AUC; None with fewer than two positive or negative rows.

    DeLong, DeLong and Clarke-Pearson (1988, Biometrics 44): each positive row's
    placement is the share of negative rows it outscores (ties count one half), each
    negative row's the share of positive rows that outscore it. The variance is the
    variance of the positive placements over the positives plus that of the negative
    placements over the negatives. Rows with equal scores share one placement, so the
    counts per distinct score suffice.
    """
    positives, negatives = counts.n_positive, counts.n_negative
    if positives < 2 or negatives < 2:
        return None
    negatives_below = np.cumsum(counts.negatives) - counts.negatives
    positives_above = positives - np.cumsum(counts.positives)
    positive_placement = (negatives_below + counts.negatives / 2) / negatives
    negative_placement = (positives_above + counts.positives / 2) / positives
    area = float(np.dot(counts.positives, positive_placement)) / positives
    positive_spread = float(np.dot(counts.positives, (positive_placement - area) ** 2)) / (positives - 1)
    negative_spread = float(np.dot(counts.negatives, (negative_placement - area) ** 2)) / (negatives - 1)
    return positive_spread / positives + negative_spread / negatives


def roc_auc_interval(counts: ScoreCounts, confidence: float) -> Interval | None:
    """Return the DeLong normal interval of the ROC AUC, cut to [0, 1]; None where the variance is undefined."""
    area, _ = roc_auc_value(counts)
    variance = roc_auc_variance(counts)
    if area is None or variance is None:
        return None
    half_width = ci.z_value(confidence) * math.sqrt(variance)
    return Interval(max(0.0, area - half_width), min(1.0, area + half_width), confidence, DELONG)


def roc_auc(table: ScoreTable, arguments: dict) -> MetricValue:
    confidence = arguments.get("confidence", DEFAULT_CONFIDENCE)
    result = overall_or_per_group(table, arguments, "roc_auc", TITLES["roc_auc"], roc_auc_value, _details(table))
    overall = roc_auc_interval(table.overall, confidence)
    groups = tuple(_with_interval(group, confidence) for group in result.groups)
    details = {**result.details, "confidence": confidence}
    interval = None
    if not table.features and result.value is not None:
        interval = overall
        if overall is not None:
            details["interval"] = {**overall.to_dict(), "method": DELONG}
    details["overall_intervals"] = {"roc_auc": None if overall is None else overall.to_dict()}
    return replace(result, groups=groups, details=details, interval=interval, overall_intervals={"roc_auc": overall})


def _with_interval(group: GroupValues, confidence: float) -> GroupValues:
    if group.rates.get("roc_auc") is None:
        return group
    return replace(group, intervals={"roc_auc": roc_auc_interval(group.counts, confidence)})


def roc_auc_difference(table: ScoreTable, arguments: dict) -> MetricValue:
    """Largest minus smallest group ROC AUC, with a normal interval from the two groups' DeLong variances.

    The groups hold different rows, so their AUCs are independent and the variance of
    the difference is the sum of the two variances. As for the rate differences, the
    interval is that of the two groups with the extreme values, not of the maximum
    minus the minimum over all groups.
    """
    confidence = arguments.get("confidence", DEFAULT_CONFIDENCE)
    result = between_groups_difference(table, arguments, "roc_auc", TITLES["roc_auc"], roc_auc_value, _details(table))
    groups = tuple(_with_interval(group, confidence) for group in result.groups)
    overall = roc_auc_interval(table.overall, confidence)
    details = {**result.details, "confidence": confidence}
    details["overall_intervals"] = {"roc_auc": None if overall is None else overall.to_dict()}
    interval = None
    if result.value is not None:
        low_key, high_key = result.extremes["roc_auc"]
        variances = [roc_auc_variance(table.groups[key]) for key in (low_key, high_key)]
        if None not in variances:
            half_width = ci.z_value(confidence) * math.sqrt(sum(variances))
            interval = Interval(max(-1.0, result.value - half_width), min(1.0, result.value + half_width), confidence, DELONG)
            details["interval"] = {
                **interval.to_dict(),
                "method": DELONG,
                "component": "roc_auc",
                "group": dict(zip(table.features, low_key)),
                "compared_with": dict(zip(table.features, high_key)),
            }
    return replace(result, groups=groups, details=details, interval=interval, overall_intervals={"roc_auc": overall})


def log_loss(table: ScoreTable, arguments: dict) -> MetricValue:
    details = _details(table, clipping=[LOG_LOSS_EPSILON, 1 - LOG_LOSS_EPSILON], logarithm="natural")
    return overall_or_per_group(table, arguments, "log_loss", TITLES["log_loss"], log_loss_value, details)


def brier_score(table: ScoreTable, arguments: dict) -> MetricValue:
    return overall_or_per_group(table, arguments, "brier_score", TITLES["brier_score"], brier_score_value, _details(table))


def brier_score_difference(table: ScoreTable, arguments: dict) -> MetricValue:
    return between_groups_difference(
        table, arguments, "brier_score", TITLES["brier_score"], brier_score_value, _details(table)
    )


# Expected calibration error.


@dataclass(frozen=True)
class Binning:
    bins: int
    strategy: str


def binning_from(arguments: dict, metric: str) -> Binning:
    """Read and check the `bins` and `strategy` arguments; raise InvalidInputError for a value out of range.

    The compiler rejects the same values in a policy (E304); this check covers calls
    through the Python API.
    """
    bins = arguments.get("bins", DEFAULT_BINS)
    if bins != int(bins) or not 1 <= bins <= MAX_BINS:
        raise InvalidInputError(
            [
                error(
                    "E304",
                    f"argument `bins` of `{metric}` must be a whole number from 1 to {MAX_BINS:,}, not `{bins:g}`",
                    help=f"for example `{metric}(bins = {DEFAULT_BINS})`",
                )
            ]
        )
    strategy = arguments.get("strategy", "uniform")
    if strategy not in STRATEGIES:
        raise InvalidInputError(
            [
                error(
                    "E304",
                    f'argument `strategy` of `{metric}` must be "uniform" or "quantile", not "{strategy}"',
                    help='"uniform" gives equal-width bins over [0, 1]; "quantile" gives bins with about equal numbers of rows',
                )
            ]
        )
    return Binning(int(bins), strategy)


def bin_edges(counts: ScoreCounts, binning: Binning) -> np.ndarray:
    """Return the `bins + 1` bin edges: equal-width over [0, 1], or quantiles of the group's scores.

    Quantile edges interpolate linearly between order statistics, computed as
    numpy.percentile's default method does (numpy 2.4), which scikit-learn's
    calibration_curve uses for `strategy="quantile"`.
    """
    if binning.strategy == "uniform":
        return np.linspace(0.0, 1.0, binning.bins + 1)
    # calibration_curve passes percentages, which numpy.percentile divides by 100 again.
    quantiles = (np.linspace(0, 1, binning.bins + 1) * 100) / 100
    positions = (counts.n - 1) * quantiles
    lower = np.floor(positions)
    fraction = positions - lower
    lower = lower.astype(np.int64)
    upper = np.minimum(lower + 1, counts.n - 1)
    cumulative = np.cumsum(counts.positives + counts.negatives)
    low = counts.scores[np.searchsorted(cumulative, lower, side="right")]
    high = counts.scores[np.searchsorted(cumulative, upper, side="right")]
    difference = high - low
    return np.where(fraction >= 0.5, high - difference * (1 - fraction), low + difference * fraction)


def calibration_bins(counts: ScoreCounts, binning: Binning) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return the edges and, per bin, the rows, the sum of scores and the positive rows.

    A score equal to an inner edge falls into the bin below it, as in scikit-learn's
    calibration_curve. The first bin includes 0 and the last includes 1.
    """
    edges = bin_edges(counts, binning)
    index = np.searchsorted(edges[1:-1], counts.scores, side="left")
    rows = counts.positives + counts.negatives
    size = binning.bins
    return (
        edges,
        np.bincount(index, rows, size),
        np.bincount(index, rows * counts.scores, size),
        np.bincount(index, counts.positives, size),
    )


def calibration_error_value(binning: Binning) -> Compute:
    def compute(counts: ScoreCounts) -> tuple[float | None, str | None]:
        if counts.n == 0:
            return None, _no_rows(counts)
        _, _, score_sums, positives = calibration_bins(counts, binning)
        # Per bin, rows / n times |positive rate - mean score| is |positives - score sum| / n.
        return float(np.abs(positives - score_sums).sum() / counts.n), None

    return compute


def calibration_table(counts: ScoreCounts, binning: Binning) -> list[dict]:
    """Describe each non-empty bin: its edges, rows, mean score and share of positive rows."""
    if counts.n == 0:
        return []
    edges, rows, score_sums, positives = calibration_bins(counts, binning)
    return [
        {
            "lower": float(edges[i]),
            "upper": float(edges[i + 1]),
            "n": int(rows[i]),
            "mean_score": float(score_sums[i] / rows[i]),
            "positive_rate": float(positives[i] / rows[i]),
        }
        for i in np.flatnonzero(rows)
    ]


def _calibration_details(table: ScoreTable, binning: Binning) -> dict:
    details = _details(table, bins=binning.bins, strategy=binning.strategy)
    details["calibration"] = calibration_table(table.overall, binning)
    if binning.strategy == "quantile" and table.features:
        details["group_edges"] = {
            describe_group(table.features, key): [float(e) for e in bin_edges(counts, binning)]
            for key, counts in sorted(table.groups.items())
            if counts.n
        }
    return details


def expected_calibration_error(table: ScoreTable, arguments: dict) -> MetricValue:
    binning = binning_from(arguments, "expected_calibration_error")
    return overall_or_per_group(
        table,
        arguments,
        "expected_calibration_error",
        TITLES["expected_calibration_error"],
        calibration_error_value(binning),
        _calibration_details(table, binning),
    )


def expected_calibration_error_difference(table: ScoreTable, arguments: dict) -> MetricValue:
    binning = binning_from(arguments, "expected_calibration_error_difference")
    return between_groups_difference(
        table,
        arguments,
        "expected_calibration_error",
        TITLES["expected_calibration_error"],
        calibration_error_value(binning),
        _calibration_details(table, binning),
    )


__all__ = [
    "LOG_LOSS_EPSILON",
    "ScoreCounts",
    "ScoreTable",
    "between_groups_difference",
    "brier_score",
    "brier_score_difference",
    "expected_calibration_error",
    "expected_calibration_error_difference",
    "log_loss",
    "overall_or_per_group",
    "roc_auc",
    "roc_auc_difference",
]
