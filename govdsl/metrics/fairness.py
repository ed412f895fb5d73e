"""Group fairness metrics as pure functions of per-group confusion counts.

Rates follow fairlearn's definitions; where fairlearn returns a number for a rate
with a zero denominator, these functions return an undefined value and the reason.
"""

from __future__ import annotations

from collections.abc import Callable

from govdsl.metrics.counts import ConfusionCounts, GroupedConfusion, GroupKey
from govdsl.metrics.values import GroupValues, MetricValue

# Each rate: (numerator, denominator, name of the denominator for messages).
_RATES: dict[str, Callable[[ConfusionCounts], tuple[int, int, str]]] = {
    "selection_rate": lambda c: (c.predicted_positives, c.n, "rows"),
    "true_positive_rate": lambda c: (c.tp, c.actual_positives, "actual positives"),
    "false_positive_rate": lambda c: (c.fp, c.actual_negatives, "actual negatives"),
    "false_negative_rate": lambda c: (c.fn, c.actual_positives, "actual positives"),
    "true_negative_rate": lambda c: (c.tn, c.actual_negatives, "actual negatives"),
    "recall": lambda c: (c.tp, c.actual_positives, "actual positives"),
    "precision": lambda c: (c.tp, c.predicted_positives, "predicted positives"),
    "accuracy": lambda c: (c.tp + c.tn, c.n, "rows"),
    "f1_score": lambda c: (2 * c.tp, 2 * c.tp + c.fp + c.fn, "true positives, false positives or false negatives"),
}


def balanced_accuracy(counts: ConfusionCounts) -> float | None:
    """Mean of the true positive and true negative rates; undefined when either class is absent."""
    positive = rate("true_positive_rate", counts)
    negative = rate("true_negative_rate", counts)
    if positive is None or negative is None:
        return None
    return (positive + negative) / 2


def rate(name: str, counts: ConfusionCounts) -> float | None:
    """Return the named rate, or None when its denominator is zero."""
    if name == "balanced_accuracy":
        return balanced_accuracy(counts)
    numerator, denominator, _ = _RATES[name](counts)
    if denominator == 0:
        return None
    return numerator / denominator


def rate_fraction(name: str, counts: ConfusionCounts) -> tuple[int, int] | None:
    """Return the numerator and denominator of the named rate, or None for a rate that is not one fraction."""
    if name not in _RATES:
        return None
    numerator, denominator, _ = _RATES[name](counts)
    return numerator, denominator


def undefined_reason(name: str, counts: ConfusionCounts, where: str) -> str:
    if name == "balanced_accuracy":
        return f"balanced accuracy is undefined for {where}: it needs actual positives and actual negatives (n = {counts.n})"
    _, _, denominator_name = _RATES[name](counts)
    return f"{name.replace('_', ' ')} is undefined for {where}: it has 0 {denominator_name} (n = {counts.n})"


def describe_group(features: tuple[str, ...], key: GroupKey) -> str:
    return ", ".join(f"{feature}={value}" for feature, value in zip(features, key))


def _group_values(table: GroupedConfusion, components: tuple[str, ...]) -> tuple[GroupValues, ...]:
    return tuple(
        GroupValues(key, counts, {name: rate(name, counts) for name in components})
        for key, counts in table.sorted_groups()
    )


def _overall_rates(table: GroupedConfusion, components: tuple[str, ...]) -> dict[str, float | None]:
    overall = table.overall
    return {name: rate(name, overall) for name in components}


def overall_rate(table: GroupedConfusion, components: tuple[str, ...]) -> MetricValue:
    """Compute one rate over the whole dataset."""
    (name,) = components
    overall = table.overall
    value = rate(name, overall)
    reason = None if value is not None else undefined_reason(name, overall, "the whole dataset")
    return MetricValue(value, reason, {name: value}, ())


def _spread(
    table: GroupedConfusion,
    components: tuple[str, ...],
    combine: Callable[[float, float], float],
    min_group_size: float | None = None,
    exclude_small: bool = False,
) -> tuple[dict[str, float], MetricValue | None, tuple[GroupValues, ...], dict, tuple]:
    """Compute combine(min, max) of each component rate across groups.

    Groups with fewer rows than `min_group_size` make the value undefined, unless
    `exclude_small` leaves them out. Returns the per-component values, or an
    undefined MetricValue naming the groups that make it undefined.
    """
    all_groups = _group_values(table, components)
    overall = _overall_rates(table, components)
    small = tuple((g.key, g.counts.n) for g in all_groups if min_group_size is not None and g.counts.n < min_group_size)
    groups = all_groups
    if small and not exclude_small:
        names = ", ".join(f"{describe_group(table.features, key)} (n = {n})" for key, n in small)
        reason = f"groups below the minimum size of {min_group_size:g} rows: {names}"
        return {}, MetricValue(None, reason, overall, all_groups), all_groups, {}, small
    if small:
        kept = {key for key, _ in small}
        groups = tuple(g for g in all_groups if g.key not in kept)
    if len(groups) < 2:
        found = ", ".join(describe_group(table.features, g.key) for g in groups) or "none"
        reason = f"fewer than two groups to compare by {', '.join(table.features)} (groups: {found})"
        return {}, MetricValue(None, reason, overall, all_groups, excluded=small), all_groups, {}, small

    values: dict[str, float] = {}
    extremes: dict[str, tuple[GroupKey, GroupKey]] = {}
    for name in components:
        undefined = [g for g in groups if g.rates[name] is None]
        if undefined:
            reasons = "; ".join(
                undefined_reason(name, g.counts, f"group {describe_group(table.features, g.key)}") for g in undefined
            )
            return {}, MetricValue(None, reasons, overall, all_groups, excluded=small), all_groups, {}, small
        low = min(groups, key=lambda g: (g.rates[name], g.key))
        high = max(groups, key=lambda g: (g.rates[name], g.key))
        result = combine(low.rates[name], high.rates[name])
        if result is None:
            reason = (
                f"{name.replace('_', ' ')} ratio is undefined: every group's {name.replace('_', ' ')} is 0"
            )
            return {}, MetricValue(None, reason, overall, all_groups, excluded=small), all_groups, {}, small
        values[name] = result
        extremes[name] = (low.key, high.key)
    return values, None, all_groups, extremes, small


def per_group(table: GroupedConfusion, components: tuple[str, ...]) -> MetricValue:
    """Compute one rate per group; the value is per group, so the scalar value is None without a reason."""
    return MetricValue(None, None, _overall_rates(table, components), _group_values(table, components))


def between_groups_difference(
    table: GroupedConfusion, components: tuple[str, ...], min_group_size: float | None = None, exclude_small: bool = False
) -> MetricValue:
    """Largest minus smallest group rate; with several components, the largest of those differences."""
    values, undefined, groups, extremes, small = _spread(
        table, components, lambda low, high: high - low, min_group_size, exclude_small
    )
    if undefined is not None:
        return undefined
    return MetricValue(max(values.values()), None, _overall_rates(table, components), groups, extremes, small)


def between_groups_ratio(
    table: GroupedConfusion, components: tuple[str, ...], min_group_size: float | None = None, exclude_small: bool = False
) -> MetricValue:
    """Smallest divided by largest group rate; with several components, the smallest of those ratios."""

    def ratio(low: float, high: float) -> float | None:
        return None if high == 0 else low / high

    values, undefined, groups, extremes, small = _spread(table, components, ratio, min_group_size, exclude_small)
    if undefined is not None:
        return undefined
    return MetricValue(min(values.values()), None, _overall_rates(table, components), groups, extremes, small)
