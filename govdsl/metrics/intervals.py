"""Confidence intervals for rates, and for differences and ratios of two rates, computed from counts.

Every function takes the counts behind the rates (successes and trials) and a
confidence level, and returns the bounds as `(low, high)`, or None when the rates
are undefined. The module uses only the standard library: `statistics.NormalDist`
gives the normal quantile.

Methods:

- one rate: the Wilson score interval;
- a difference of two independent rates: Newcombe's hybrid score interval, which
  combines the two Wilson intervals (Newcombe 1998, Statistics in Medicine 17,
  method 10);
- a ratio of two independent rates: the Katz log interval (Katz et al. 1978,
  Biometrics 34), with 0.5 added to every count and group size of both rates when
  one of the counts is 0.
"""

from __future__ import annotations

import math
from functools import lru_cache
from statistics import NormalDist

Bounds = tuple[float, float]


@lru_cache(maxsize=64)
def z_value(confidence: float) -> float:
    """Return the two-sided standard normal quantile of a confidence level, such as 1.96 for 0.95."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson(successes: int, trials: int, confidence: float) -> Bounds | None:
    """Wilson score interval of the rate successes / trials; None when there are no trials."""
    if trials == 0:
        return None
    z = z_value(confidence)
    z2 = z * z
    center = (successes + z2 / 2) / (trials + z2)
    half_width = z / (trials + z2) * math.sqrt(successes * (trials - successes) / trials + z2 / 4)
    # In exact arithmetic the bounds of 0/n and n/n are 0 and 1; rounding must not move them.
    low = 0.0 if successes == 0 else max(0.0, center - half_width)
    high = 1.0 if successes == trials else min(1.0, center + half_width)
    return low, high


def newcombe_difference(
    successes1: int, trials1: int, successes2: int, trials2: int, confidence: float
) -> Bounds | None:
    """Newcombe's hybrid score interval of rate1 - rate2 for independent samples; None when a rate is undefined."""
    first = wilson(successes1, trials1, confidence)
    second = wilson(successes2, trials2, confidence)
    if first is None or second is None:
        return None
    rate1, rate2 = successes1 / trials1, successes2 / trials2
    (low1, high1), (low2, high2) = first, second
    difference = rate1 - rate2
    low = difference - math.sqrt((rate1 - low1) ** 2 + (high2 - rate2) ** 2)
    high = difference + math.sqrt((high1 - rate1) ** 2 + (rate2 - low2) ** 2)
    return max(-1.0, low), min(1.0, high)


def _katz(successes1: float, trials1: float, successes2: float, trials2: float, z: float) -> Bounds:
    ratio = (successes1 / trials1) / (successes2 / trials2)
    spread = z * math.sqrt(1 / successes1 - 1 / trials1 + 1 / successes2 - 1 / trials2)
    return ratio * math.exp(-spread), ratio * math.exp(spread)


def katz_ratio(successes1: int, trials1: int, successes2: int, trials2: int, confidence: float) -> Bounds | None:
    """Katz log interval of rate1 / rate2 for independent samples.

    Returns None when a rate is undefined or both rates are 0. When rate1 is 0 the
    ratio is 0, the lower bound is 0, and the upper bound comes from the counts with
    0.5 added to each count and each group size. When rate2 is 0 the ratio is
    infinite, the upper bound is infinity, and the lower bound comes the same way.
    """
    if trials1 == 0 or trials2 == 0 or (successes1 == 0 and successes2 == 0):
        return None
    z = z_value(confidence)
    if successes1 and successes2:
        return _katz(successes1, trials1, successes2, trials2, z)
    low, high = _katz(successes1 + 0.5, trials1 + 0.5, successes2 + 0.5, trials2 + 0.5, z)
    return (0.0, high) if successes1 == 0 else (low, math.inf)


def fold_difference(bounds: Bounds) -> Bounds:
    """Map an interval of a difference d to the interval of |d|."""
    low, high = bounds
    if low >= 0:
        return low, high
    if high <= 0:
        return -high, -low
    return 0.0, max(-low, high)


def fold_ratio(bounds: Bounds) -> Bounds:
    """Map an interval of a ratio t > 0 to the interval of min(t, 1/t), the smaller rate over the larger."""
    low, high = bounds

    def inverse(value: float) -> float:
        return 0.0 if value == math.inf else 1 / value

    if high <= 1:
        return low, high
    if low >= 1:
        return inverse(high), inverse(low)
    return min(low, inverse(high)), 1.0


def difference_to_overall(
    successes: int, trials: int, total_successes: int, total_trials: int, confidence: float
) -> Bounds | None:
    """Interval of a group's rate minus the overall rate of data that includes the group.

    The group and the overall data overlap, so they are not independent samples.
    With w the group's share of the trials, rate - overall = (1 - w)(rate - rest),
    where `rest` is the rate of the other rows; the interval is Newcombe's for
    rate - rest, scaled by 1 - w. When every trial is in the group, the difference
    is exactly 0.
    """
    rest_trials = total_trials - trials
    if trials == 0:
        return None
    if rest_trials == 0:
        return 0.0, 0.0
    bounds = newcombe_difference(successes, trials, total_successes - successes, rest_trials, confidence)
    scale = rest_trials / total_trials
    return bounds[0] * scale, bounds[1] * scale


def ratio_to_overall(
    successes: int, trials: int, total_successes: int, total_trials: int, confidence: float
) -> Bounds | None:
    """Interval of a group's rate divided by the overall rate of data that includes the group.

    With w the group's share of the trials and t = rate / rest (the rate of the
    other rows), rate / overall = t / (w t + 1 - w), which increases with t; the
    interval maps the Katz interval of t through that function. When every
    trial is in the group, the ratio is exactly 1.
    """
    rest_trials = total_trials - trials
    if trials == 0:
        return None
    if rest_trials == 0:
        return 1.0, 1.0
    bounds = katz_ratio(successes, trials, total_successes - successes, rest_trials, confidence)
    if bounds is None:
        return None
    share = trials / total_trials

    def to_overall(ratio: float) -> float:
        return 1 / share if ratio == math.inf else ratio / (share * ratio + 1 - share)

    return to_overall(bounds[0]), to_overall(bounds[1])
