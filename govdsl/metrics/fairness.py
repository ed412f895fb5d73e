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
}


def rate(name: str, counts: ConfusionCounts) -> float | None:
    """Return the named rate, or None when its denominator is zero."""
    numerator, denominator, _ = _RATES[name](counts)
    if denominator == 0:
        return None
    return numerator / denominator


def rate_fraction(name: str, counts: ConfusionCounts) -> tuple[int, int]:
    """Return the numerator and denominator of the named rate."""
    numerator, denominator, _ = _RATES[name](counts)
    return numerator, denominator


def _undefined_reason(name: str, counts: ConfusionCounts, where: str) -> str:
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
    reason = None if value is not None else _undefined_reason(name, overall, "the whole dataset")
    return MetricValue(value, reason, {name: value}, ())


def _spread(
    table: GroupedConfusion, components: tuple[str, ...], combine: Callable[[float, float], float]
) -> tuple[dict[str, float], MetricValue | None, tuple[GroupValues, ...], dict]:
    """Compute combine(min, max) of each component rate across groups.

    Returns the per-component values, or an undefined MetricValue naming the first
    group whose rate is undefined.
    """
    groups = _group_values(table, components)
    overall = _overall_rates(table, components)
    if len(groups) < 2:
        found = ", ".join(describe_group(table.features, g.key) for g in groups) or "none"
        reason = f"fewer than two groups to compare by {', '.join(table.features)} (groups: {found})"
        return {}, MetricValue(None, reason, overall, groups), groups, {}

    values: dict[str, float] = {}
    extremes: dict[str, tuple[GroupKey, GroupKey]] = {}
    for name in components:
        undefined = [g for g in groups if g.rates[name] is None]
        if undefined:
            reasons = "; ".join(
                _undefined_reason(name, g.counts, f"group {describe_group(table.features, g.key)}") for g in undefined
            )
            return {}, MetricValue(None, reasons, overall, groups), groups, {}
        low = min(groups, key=lambda g: (g.rates[name], g.key))
        high = max(groups, key=lambda g: (g.rates[name], g.key))
        result = combine(low.rates[name], high.rates[name])
        if result is None:
            reason = (
                f"{name.replace('_', ' ')} ratio is undefined: every group's {name.replace('_', ' ')} is 0"
            )
            return {}, MetricValue(None, reason, overall, groups), groups, {}
        values[name] = result
        extremes[name] = (low.key, high.key)
    return values, None, groups, extremes


def per_group(table: GroupedConfusion, components: tuple[str, ...]) -> MetricValue:
    """Compute one rate per group; the value is per group, so the scalar value is None without a reason."""
    return MetricValue(None, None, _overall_rates(table, components), _group_values(table, components))


def between_groups_difference(table: GroupedConfusion, components: tuple[str, ...]) -> MetricValue:
    """Largest minus smallest group rate; with several components, the largest of those differences."""
    values, undefined, groups, extremes = _spread(table, components, lambda low, high: high - low)
    if undefined is not None:
        return undefined
    return MetricValue(max(values.values()), None, _overall_rates(table, components), groups, extremes)


def between_groups_ratio(table: GroupedConfusion, components: tuple[str, ...]) -> MetricValue:
    """Smallest divided by largest group rate; with several components, the smallest of those ratios."""

    def ratio(low: float, high: float) -> float | None:
        return None if high == 0 else low / high

    values, undefined, groups, extremes = _spread(table, components, ratio)
    if undefined is not None:
        return undefined
    return MetricValue(min(values.values()), None, _overall_rates(table, components), groups, extremes)
