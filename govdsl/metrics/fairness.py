"""Group fairness metrics as pure functions of per-group confusion counts, with confidence intervals.

Rates follow fairlearn's definitions; where fairlearn returns a number for a rate
with a zero denominator, these functions return an undefined value and the reason.
Intervals come from `govdsl.metrics.intervals`: the Wilson interval for a rate,
Newcombe's hybrid score interval for a difference of two rates, and the Katz log
interval for a ratio.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from govdsl.metrics import intervals as ci
from govdsl.metrics.counts import ConfusionCounts, GroupedConfusion, GroupKey
from govdsl.metrics.values import GroupValues, Interval, MetricValue

DEFAULT_CONFIDENCE = 0.95

# The `reference` value that compares each group with the rate over the whole dataset.
OVERALL = "overall"

# Most combinations of sensitive-feature values that are enumerated to list the empty
# ones; past it, only their number is reported.
MAX_LISTED_COMBINATIONS = 10_000

# A rate's numerator, denominator, and the name of the denominator for messages.
Fraction = Callable[[ConfusionCounts], tuple[int, int, str]]

_RATES: dict[str, Fraction] = {
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

# Rates that count successes among independent trials (rows), so a binomial interval applies.
# The F1 score is a fraction of counts but not such a proportion; balanced accuracy is a mean of two.
PROPORTIONS = frozenset(_RATES) - {"f1_score"}

# Favorable-outcome rates for disparate impact: the share of rows whose prediction is favorable.
FAVORABLE_RATES: dict[str, Fraction] = {
    "positive": lambda c: (c.predicted_positives, c.n, "rows"),
    "negative": lambda c: (c.n - c.predicted_positives, c.n, "rows"),
}

_METHODS = {"difference": "newcombe", "ratio": "katz", "impact": "katz"}


class UnknownGroup(LookupError):
    """A `reference` naming a feature value that no row of the data has; the check gets status `error`."""


@dataclass(frozen=True)
class FavorableConfusion:
    """Per-group confusion counts and which prediction (`positive` or `negative`) is favorable to the person."""

    confusion: GroupedConfusion
    favorable: str

    @property
    def features(self) -> tuple[str, ...]:
        return self.confusion.features

    @property
    def rows_excluded(self) -> int:
        return self.confusion.rows_excluded


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
    return _fraction_rate(_RATES[name], counts)


def _fraction_rate(fraction: Fraction, counts: ConfusionCounts) -> float | None:
    numerator, denominator, _ = fraction(counts)
    return None if denominator == 0 else numerator / denominator


def rate_fraction(name: str, counts: ConfusionCounts) -> tuple[int, int] | None:
    """Return the numerator and denominator of the named rate, or None for a rate that is not one fraction."""
    if name not in _RATES:
        return None
    numerator, denominator, _ = _RATES[name](counts)
    return numerator, denominator


def rate_interval(name: str, counts: ConfusionCounts, confidence: float) -> Interval | None:
    """Wilson interval of the named rate; None when the rate is undefined or is not a proportion."""
    if name not in PROPORTIONS:
        return None
    return _wilson(_RATES[name], counts, confidence)


def _wilson(fraction: Fraction, counts: ConfusionCounts, confidence: float) -> Interval | None:
    numerator, denominator, _ = fraction(counts)
    bounds = ci.wilson(numerator, denominator, confidence)
    return None if bounds is None else Interval(*bounds, confidence, "wilson")


def undefined_reason(name: str, counts: ConfusionCounts, where: str) -> str:
    # Favorable-outcome rates, like the selection rate, have the rows as denominator.
    return _undefined(name, _RATES.get(name, FAVORABLE_RATES["positive"]), counts, where)


def _undefined(name: str, fraction: Fraction | None, counts: ConfusionCounts, where: str) -> str:
    if name == "balanced_accuracy":
        return f"balanced accuracy is undefined for {where}: it needs actual positives and actual negatives (n = {counts.n})"
    _, _, denominator_name = fraction(counts)
    return f"{name.replace('_', ' ')} is undefined for {where}: it has 0 {denominator_name} (n = {counts.n})"


def describe_group(features: tuple[str, ...], key: GroupKey) -> str:
    return ", ".join(f"{feature}={value}" for feature, value in zip(features, key))


def _group_dict(features: tuple[str, ...], key: GroupKey) -> dict[str, str]:
    return dict(zip(features, key))


# Groups, including the combinations of feature values that no row has.


def empty_combinations(table: GroupedConfusion) -> tuple[list[GroupKey], int]:
    """Return the combinations of the features' values that no row has, and how many there are.

    The values of each feature are those found in the data, so only a `by` with
    several features can leave combinations empty. Past MAX_LISTED_COMBINATIONS
    combinations, the list is empty and only the number is returned.
    """
    if len(table.features) < 2 or not table.groups:
        return [], 0
    values = [sorted({key[index] for key in table.groups}) for index in range(len(table.features))]
    total = math.prod(len(v) for v in values)
    missing = total - len(table.groups)
    if missing == 0 or total > MAX_LISTED_COMBINATIONS:
        return [], missing
    return [key for key in itertools.product(*values) if key not in table.groups], missing


def _all_groups(table: GroupedConfusion) -> tuple[list[tuple[GroupKey, ConfusionCounts]], int]:
    """Return every group with its counts, empty combinations included, and the number of empty ones not listed."""
    empty, missing = empty_combinations(table)
    if not empty:
        return table.sorted_groups(), missing
    items = table.sorted_groups() + [(key, ConfusionCounts()) for key in empty]
    return sorted(items), missing - len(empty)


def _group_values(
    items: list[tuple[GroupKey, ConfusionCounts]], rates: dict[str, Fraction | None], confidence: float
) -> tuple[GroupValues, ...]:
    return tuple(
        GroupValues(
            key,
            counts,
            {name: _value(name, fraction, counts) for name, fraction in rates.items()},
            intervals={name: _interval(name, fraction, counts, confidence) for name, fraction in rates.items()},
        )
        for key, counts in items
    )


def _value(name: str, fraction: Fraction | None, counts: ConfusionCounts) -> float | None:
    return rate(name, counts) if fraction is None else _fraction_rate(fraction, counts)


def _interval(name: str, fraction: Fraction | None, counts: ConfusionCounts, confidence: float) -> Interval | None:
    if fraction is None or name == "f1_score":
        return None
    return _wilson(fraction, counts, confidence)


def _rates(components: tuple[str, ...]) -> dict[str, Fraction | None]:
    """Return each component's fraction; None for balanced accuracy, which is not one fraction."""
    return {name: _RATES.get(name) for name in components}


def _common_details(
    table: GroupedConfusion, groups, overall: dict[str, Interval | None], confidence: float, unlisted: int
) -> dict:
    details: dict = {
        "confidence": confidence,
        "overall_intervals": {name: None if i is None else i.to_dict() for name, i in overall.items()},
    }
    # Every group the data has holds at least one row, so the groups of 0 rows are the empty combinations.
    empty = [g.key for g in groups if g.counts.n == 0]
    if empty or unlisted:
        details["empty_groups"] = [{"group": _group_dict(table.features, key), "n": 0} for key in empty]
    if unlisted:
        details["empty_groups_not_listed"] = unlisted
    return details


# Metrics of one rate: over the whole dataset, or per group.


def overall_rate(table: GroupedConfusion, components: tuple[str, ...], confidence: float = DEFAULT_CONFIDENCE) -> MetricValue:
    """Compute one rate over the whole dataset, with its Wilson interval."""
    (name,) = components
    overall = table.overall
    value = rate(name, overall)
    interval = _interval(name, _rates(components)[name], overall, confidence)
    reason = None if value is not None else undefined_reason(name, overall, "the whole dataset")
    details = {"confidence": confidence, "overall_intervals": {name: None if interval is None else interval.to_dict()}}
    if interval is not None:
        details["interval"] = {**interval.to_dict(), "method": interval.method}
    return MetricValue(
        value, reason, {name: value}, (), details=details, interval=interval, overall_intervals={name: interval}
    )


def per_group(
    table: GroupedConfusion,
    components: tuple[str, ...],
    confidence: float = DEFAULT_CONFIDENCE,
    min_group_size: float | None = None,
    exclude_small: bool = False,
) -> MetricValue:
    """Compute one rate per group; the value is per group, so the scalar value is None.

    A group with fewer rows than `min_group_size` has no value, and the reason says so,
    so an aggregate or a quantifier over the groups is `insufficient`. With
    `exclude_small`, the group keeps its rate for the report and is listed in `excluded`.
    """
    rates = _rates(components)
    items, unlisted = _all_groups(table)
    groups = _group_values(items, rates, confidence)
    overall_counts = table.overall
    overall = {name: _interval(name, fraction, overall_counts, confidence) for name, fraction in rates.items()}
    details = _common_details(table, groups, overall, confidence, unlisted)
    small = _below_minimum(groups, min_group_size)
    if small and not exclude_small:
        small_keys = {key for key, _ in small}
        groups = tuple(_without_values(g, min_group_size) if g.key in small_keys else g for g in groups)
    return MetricValue(
        None,
        _unlisted_reason(table, unlisted, min_group_size, exclude_small),
        {name: rate(name, overall_counts) for name in components},
        groups,
        excluded=small if exclude_small else (),
        details=details,
        overall_intervals=overall,
    )


def _without_values(group: GroupValues, min_group_size: float) -> GroupValues:
    """Return the group with every value undefined, because it is below the minimum size."""
    reason = f"it has {group.counts.n} rows, below the minimum size of {min_group_size:g}"
    return GroupValues(
        group.key,
        group.counts,
        {name: None for name in group.rates},
        {name: reason for name in group.rates},
        {name: None for name in group.rates},
    )


def _below_minimum(groups, min_group_size: float | None) -> tuple[tuple[GroupKey, int], ...]:
    """Return the key and size of each group with fewer rows than the minimum."""
    if min_group_size is None:
        return ()
    return tuple((g.key, g.counts.n) for g in groups if g.counts.n < min_group_size)


def _unlisted_reason(table: GroupedConfusion, unlisted: int, min_group_size: float | None, exclude_small: bool):
    """Return why empty combinations too many to list make the value undefined, unless they are left out."""
    if not unlisted or (exclude_small and min_group_size is not None and min_group_size > 0):
        return None
    return (
        f"{unlisted} combinations of {', '.join(table.features)} have no rows;"
        " `min_group_size = 1, exclude_small = true` leaves them out"
    )


def _small_groups_reason(table: GroupedConfusion, small, min_group_size: float | None) -> str:
    names = ", ".join(f"{describe_group(table.features, key)} (n = {n})" for key, n in small)
    return f"groups below the minimum size of {min_group_size:g} rows: {names}"


# Metrics that compare groups.


class _NoValue(Exception):
    """The reason a comparison of groups has no value, raised where it is found."""


@dataclass(frozen=True)
class _Pair:
    """One comparison of a group's rate: the compared value, its interval, and the two sides."""

    value: float
    bounds: ci.Bounds | None
    group: GroupKey
    other: GroupKey | None  # None for the overall rate


def between_groups_difference(
    table: GroupedConfusion,
    components: tuple[str, ...],
    min_group_size: float | None = None,
    exclude_small: bool = False,
    reference: str | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
) -> MetricValue:
    """Largest minus smallest group rate, or the largest distance of a group's rate from the reference's.

    With several components, the largest of those values.
    """
    return _compare_groups(table, _rates(components), "difference", min_group_size, exclude_small, reference, confidence)


def between_groups_ratio(
    table: GroupedConfusion,
    components: tuple[str, ...],
    min_group_size: float | None = None,
    exclude_small: bool = False,
    reference: str | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
) -> MetricValue:
    """Smallest divided by largest group rate, or the smallest of min(rate/reference, reference/rate).

    With several components, the smallest of those values.
    """
    return _compare_groups(table, _rates(components), "ratio", min_group_size, exclude_small, reference, confidence)


def disparate_impact_ratio(table: FavorableConfusion, arguments: dict) -> MetricValue:
    """Favorable-outcome rate of each group divided by the reference's; the smallest of those ratios.

    Without `reference`, the reference is the group with the highest favorable rate,
    as in the four-fifths rule.
    """
    reference = arguments.get("reference")
    value = _compare_groups(
        table.confusion,
        {"favorable_rate": FAVORABLE_RATES[table.favorable]},
        "ratio" if reference is None else "impact",
        arguments.get("min_group_size"),
        arguments.get("exclude_small", False),
        reference,
        arguments.get("confidence", DEFAULT_CONFIDENCE),
    )
    value.details["favorable"] = table.favorable
    return value


def _compare_groups(
    table: GroupedConfusion,
    rates: dict[str, Fraction],
    aggregate: str,
    min_group_size: float | None,
    exclude_small: bool,
    reference: str | None,
    confidence: float,
) -> MetricValue:
    """Compare the groups' rates by `aggregate`: "difference", "ratio", or "impact" (a ratio to the reference, not folded)."""
    items, unlisted = _all_groups(table)
    groups = _group_values(items, rates, confidence)
    overall = table.overall
    overall_rates = {name: _value(name, fraction, overall) for name, fraction in rates.items()}
    overall_intervals = {name: _interval(name, fraction, overall, confidence) for name, fraction in rates.items()}
    details = _common_details(table, groups, overall_intervals, confidence, unlisted)
    reference_key = _reference_key(table, [key for key, _ in items], reference)
    details["reference"] = reference_key if reference_key in (None, OVERALL) else _group_dict(table.features, reference_key)
    small = _below_minimum(groups, min_group_size)
    excluded = small if exclude_small else ()

    try:
        compared = _compared_groups(table, groups, small, unlisted, reference_key, min_group_size, exclude_small)
        pairs = {
            name: _component_pair(table, overall, compared, name, fraction, aggregate, reference_key, confidence, details)
            for name, fraction in rates.items()
        }
    except _NoValue as exc:
        return MetricValue(
            None, str(exc), overall_rates, groups, excluded=excluded, details=details, overall_intervals=overall_intervals
        )
    extremes = {name: _extreme_groups(compared, name) for name in rates}
    value, bounds, name = _combine(pairs, aggregate)
    interval = None if bounds is None else Interval(*bounds, confidence, _method(aggregate, reference_key))
    if interval is not None:
        details["interval"] = _interval_details(table.features, interval, name, pairs[name])
    return MetricValue(
        value, None, overall_rates, groups, extremes, excluded, details, interval=interval, overall_intervals=overall_intervals
    )


def _compared_groups(
    table: GroupedConfusion, groups, small, unlisted: int, reference_key, min_group_size: float | None, exclude_small: bool
) -> list[GroupValues]:
    """Return the groups to compare, after the minimum size; raise _NoValue when they cannot be compared."""
    if small and not exclude_small:
        names = ", ".join(f"{describe_group(table.features, key)} (n = {n})" for key, n in small)
        raise _NoValue(f"groups below the minimum size of {min_group_size:g} rows: {names}")
    reason = _unlisted_reason(table, unlisted, min_group_size, exclude_small)
    if reason is not None:
        raise _NoValue(reason)
    sizes = dict(small)
    if reference_key in sizes:
        raise _NoValue(
            f"reference group {describe_group(table.features, reference_key)} has {sizes[reference_key]} rows,"
            f" below the minimum size of {min_group_size:g}; it cannot be left out"
        )
    compared = [g for g in groups if g.key not in sizes]
    if len(compared) < 2:
        found = ", ".join(describe_group(table.features, g.key) for g in compared) or "none"
        raise _NoValue(f"fewer than two groups to compare by {', '.join(table.features)} (groups: {found})")
    return compared


def _component_pair(table, overall, compared, name, fraction, aggregate, reference_key, confidence, details) -> _Pair:
    """Return the comparison that sets one component's value; record per-group values against a reference."""
    missing = [g for g in compared if g.rates[name] is None]
    if missing:
        raise _NoValue(_missing_reason(table.features, name, fraction, missing))
    if reference_key is None:
        low, high = (next(g for g in compared if g.key == key) for key in _extreme_groups(compared, name))
        return _extreme_pair(low, high, name, fraction, aggregate, confidence)
    pairs = _reference_pairs(compared, reference_key, overall, name, fraction, aggregate, confidence)
    details.setdefault("to_reference", {})[name] = [
        {"group": _group_dict(table.features, pair.group), "value": pair.value} for pair in pairs
    ]
    return _worst(pairs, aggregate)


def _extreme_groups(compared: list[GroupValues], name: str) -> tuple[GroupKey, GroupKey]:
    """Return the keys of the groups with the lowest and the highest rate; ties go to the first and the last key."""
    low = min(compared, key=lambda g: (g.rates[name], g.key))
    high = max(compared, key=lambda g: (g.rates[name], g.key))
    return low.key, high.key


def _interval_details(features, interval: Interval, component: str, pair: _Pair) -> dict:
    other = OVERALL if pair.other is None else _group_dict(features, pair.other)
    return {
        **interval.to_dict(),
        "method": interval.method,
        "component": component,
        "group": _group_dict(features, pair.group),
        "compared_with": other,
    }


def _missing_reason(features, name: str, fraction: Fraction | None, missing: list[GroupValues]) -> str:
    """Say why groups have no value: each group with a zero denominator, then the empty combinations together."""
    empty = [g for g in missing if g.counts.n == 0]
    parts = [_undefined(name, fraction, g.counts, f"group {describe_group(features, g.key)}") for g in missing if g.counts.n]
    if empty:
        names = "; ".join(describe_group(features, g.key) for g in empty)
        subject = "the combination" if len(empty) == 1 else f"these {len(empty)} combinations:"
        parts.append(f"no row has {subject} {names}; `min_group_size = 1, exclude_small = true` leaves out empty combinations")
    return "; ".join(parts)


def _method(aggregate: str, reference_key) -> str:
    method = _METHODS[aggregate]
    return f"{method}-to-overall" if reference_key == OVERALL else method


def _extreme_pair(low: GroupValues, high: GroupValues, name, fraction, aggregate, confidence) -> _Pair:
    """Compare the groups with the lowest and highest rate."""
    if aggregate == "difference":
        value = high.rates[name] - low.rates[name]
    elif high.rates[name] == 0:
        raise _NoValue(f"{name.replace('_', ' ')} ratio is undefined: every group's {name.replace('_', ' ')} is 0")
    else:
        value = low.rates[name] / high.rates[name]
    return _Pair(value, _pair_bounds(low.counts, high.counts, fraction, aggregate, confidence), low.key, high.key)


def _pair_bounds(counts, other, fraction, aggregate, confidence) -> ci.Bounds | None:
    """Interval of the comparison of two independent groups: Newcombe for a difference, Katz for a ratio."""
    successes, trials, _ = fraction(counts)
    other_successes, other_trials, _ = fraction(other)
    if aggregate == "difference":
        bounds = ci.newcombe_difference(successes, trials, other_successes, other_trials, confidence)
        return None if bounds is None else ci.fold_difference(bounds)
    bounds = ci.katz_ratio(successes, trials, other_successes, other_trials, confidence)
    if bounds is None or aggregate == "impact":
        return bounds
    return ci.fold_ratio(bounds)


def _overall_bounds(counts, overall, fraction, aggregate, confidence) -> ci.Bounds | None:
    """Interval of the comparison of a group with the overall rate of data that includes the group."""
    successes, trials, _ = fraction(counts)
    total_successes, total_trials, _ = fraction(overall)
    if aggregate == "difference":
        bounds = ci.difference_to_overall(successes, trials, total_successes, total_trials, confidence)
        return None if bounds is None else ci.fold_difference(bounds)
    bounds = ci.ratio_to_overall(successes, trials, total_successes, total_trials, confidence)
    if bounds is None or aggregate == "impact":
        return bounds
    return ci.fold_ratio(bounds)


def _reference_pairs(compared, reference_key, overall, name, fraction, aggregate, confidence) -> list[_Pair]:
    """Compare every group with the reference: the overall rate, or the reference group."""
    if reference_key == OVERALL:
        reference = None
        reference_rate = _fraction_rate(fraction, overall)
        others = compared
    else:
        reference = next(g for g in compared if g.key == reference_key)
        reference_rate = reference.rates[name]
        others = [g for g in compared if g.key != reference_key]
    pairs = []
    for group in others:
        value = _to_reference(group.rates[name], reference_rate, aggregate, name, reference is None)
        if reference is None:
            bounds = _overall_bounds(group.counts, overall, fraction, aggregate, confidence)
            pairs.append(_Pair(value, bounds, group.key, None))
        else:
            bounds = _pair_bounds(group.counts, reference.counts, fraction, aggregate, confidence)
            pairs.append(_Pair(value, bounds, group.key, reference.key))
    return pairs


def _to_reference(group_rate: float, reference_rate: float, aggregate: str, name: str, is_overall: bool) -> float:
    """Compare one group's rate with the reference's: distance, folded ratio, or plain ratio for "impact"."""
    if aggregate == "difference":
        return abs(group_rate - reference_rate)
    if reference_rate == 0 and (aggregate == "impact" or group_rate == 0):
        where = "the overall" if is_overall else "the reference group's"
        title = name.replace("_", " ")
        raise _NoValue(f"{title} ratio to the reference is undefined: {where} {title} is 0")
    if aggregate == "impact":
        return group_rate / reference_rate
    return min(group_rate, reference_rate) / max(group_rate, reference_rate)


def _worst(pairs: list[_Pair], aggregate: str) -> _Pair:
    """Return the pair with the largest difference or the smallest ratio; ties go to the first group in sort order."""
    if aggregate == "difference":
        return min(pairs, key=lambda p: (-p.value, p.group))
    return min(pairs, key=lambda p: (p.value, p.group))


def _combine(pairs: dict[str, _Pair], aggregate: str) -> tuple[float, ci.Bounds | None, str]:
    """Combine the components: the largest difference or the smallest ratio.

    The interval takes the largest (or smallest) bound of each side, which is the
    image of the components' intervals under max (or min).
    """
    pick = max if aggregate == "difference" else min
    name = pick(pairs, key=lambda n: pairs[n].value)
    value = pairs[name].value
    if any(p.bounds is None for p in pairs.values()):
        return value, None, name
    low = pick(p.bounds[0] for p in pairs.values())
    high = pick(p.bounds[1] for p in pairs.values())
    return value, (low, high), name


def _reference_key(table: GroupedConfusion, keys: list[GroupKey], reference: str | None):
    """Resolve a `reference` to OVERALL, None, or a group key; raise UnknownGroup for a value no row has.

    A group is written as its value when there is one feature (`Caucasian`), or as
    the report names it (`race=Caucasian, sex=Male`), in any order of the features.
    """
    if reference is None or reference == OVERALL:
        return reference
    features = table.features
    if len(features) == 1 and not reference.startswith(f"{features[0]}="):
        requested = {features[0]: reference}
    else:
        pattern = ", (?=(?:" + "|".join(re.escape(f) for f in features) + ")=)"
        parts = [part.split("=", 1) for part in re.split(pattern, reference)]
        requested = {part[0]: part[1] for part in parts if len(part) == 2}
        if sorted(requested) != sorted(features) or len(parts) != len(features):
            example = ", ".join(f"{f}=..." for f in features)
            raise UnknownGroup(f'reference `{reference}` does not name one value per feature; write it as "{example}"')
    for index, feature in enumerate(features):
        values = sorted({key[index] for key in keys})
        if requested[feature] not in values:
            listed = ", ".join(f"`{v}`" for v in values[:12]) + (" and more" if len(values) > 12 else "")
            raise UnknownGroup(f"reference `{reference}`: no row has {feature}={requested[feature]} (values: {listed})")
    return tuple(requested[feature] for feature in features)
