"""Drift between a reference and a current dataset, as pure functions of per-column value counts.

The `drift_histograms` reduction (`govdsl.evidence.histograms`) hands over a
DriftTable: for each compared column, the counts of its distinct values in both
datasets, its missing values and, for a numeric column, its exact mean and variance.
The metrics here bin or order those counts themselves, so checks with different bins
share one pass over the data. An undefined value is None with the reason, never 0 or NaN.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from govdsl.metrics.values import GroupValues, MetricValue

NUMERIC = "numeric"
CATEGORICAL = "categorical"

QUANTILE = "quantile"
EQUAL_WIDTH = "equal_width"
DEFAULT_BINNING = QUANTILE
DEFAULT_BINS = 10
MAX_BINS = 10_000
DEFAULT_EPSILON = 1e-4
MISSING_BIN = "(missing)"

# scipy's ks_2samp computes an exact p-value when neither sample is larger than this
# (scipy 1.17, method "auto"); above it, both use the asymptotic distribution.
EXACT_KS_MAX_VALUES = 10_000

# The tests `drifted_share` accepts: the statistic it reads, the default threshold, and
# whether a feature drifted when the statistic is at least the threshold ("distance")
# or below it ("p_value").
TESTS: dict[str, tuple[str, float, str]] = {
    "psi": ("psi", 0.2, "distance"),
    "ks": ("ks_p_value", 0.05, "p_value"),
    "chi_square": ("chi_square_p_value", 0.05, "p_value"),
    "jensen_shannon": ("jensen_shannon_distance", 0.1, "distance"),
    "wasserstein": ("normalized_wasserstein_distance", 0.1, "distance"),
    "missing_rate": ("missing_rate_change", 0.05, "distance"),
}
DEFAULT_TEST = "psi"


@dataclass(frozen=True)
class NumericSample:
    """One numeric column of one dataset: its sorted distinct values with their counts, and missing values.

    `mean` and `variance` (population variance, ddof = 0) are exact, computed before
    any rounding; both are None when the column has no values. `digits` is the number
    of significant digits the values were rounded to so that the distinct values fit
    in memory, or None when they are exact.
    """

    values: np.ndarray
    counts: np.ndarray
    rows: int
    missing: int
    mean: float | None = None
    variance: float | None = None
    digits: int | None = None

    @property
    def present(self) -> int:
        return self.rows - self.missing


@dataclass(frozen=True)
class CategoricalSample:
    """One categorical column of one dataset: the count of each category, and missing values."""

    counts: dict[str, int]
    rows: int
    missing: int

    @property
    def present(self) -> int:
        return self.rows - self.missing


Sample = NumericSample | CategoricalSample


@dataclass(frozen=True)
class ColumnPair:
    """One compared column: its declared type and its samples in the reference and the current dataset."""

    name: str
    type: str  # NUMERIC or CATEGORICAL
    reference: Sample
    current: Sample


@dataclass(frozen=True)
class FeatureRows:
    """The rows behind one feature's value in a report; `n` is the current dataset's rows."""

    reference_rows: int
    current_rows: int
    reference_missing: int
    current_missing: int

    @property
    def n(self) -> int:
        return self.current_rows

    def to_dict(self) -> dict[str, int]:
        return {
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "reference_missing": self.reference_missing,
            "current_missing": self.current_missing,
        }


@dataclass(frozen=True)
class DriftTable:
    """The compared columns of a reference and a current dataset, which every drift metric reads.

    Per-feature values are groups keyed by the column name, so `features` names the
    one grouping "feature" and a report shows a row such as `feature=age`.
    """

    reference: str  # dataset names
    current: str
    columns: dict[str, ColumnPair]
    features: tuple[str, ...] = ("feature",)
    rows_excluded: int = 0


class InvalidArgument(Exception):
    """An argument value that a metric cannot use, such as `bins = 2.5`; the value is undefined with this reason."""


@dataclass(frozen=True)
class Settings:
    """Binning of numeric values and smoothing of empty bins, as a check's arguments set them."""

    binning: str = DEFAULT_BINNING
    bins: int = DEFAULT_BINS
    epsilon: float = DEFAULT_EPSILON


def read_settings(arguments: dict) -> Settings:
    """Read `binning`, `bins` and `epsilon` from a call's arguments; raise InvalidArgument for unusable values."""
    binning = arguments.get("binning", DEFAULT_BINNING)
    if binning not in (QUANTILE, EQUAL_WIDTH):
        raise InvalidArgument(f'argument `binning` must be "{QUANTILE}" or "{EQUAL_WIDTH}", not "{binning}"')
    bins = arguments.get("bins", DEFAULT_BINS)
    if bins != int(bins) or not 2 <= bins <= MAX_BINS:
        raise InvalidArgument(f"argument `bins` must be a whole number from 2 to {MAX_BINS}, not {bins:g}")
    epsilon = arguments.get("epsilon", DEFAULT_EPSILON)
    if not 0 <= epsilon < 1:
        raise InvalidArgument(f"argument `epsilon` must be at least 0 and below 1, not {epsilon:g}")
    return Settings(binning, int(bins), float(epsilon))


@dataclass(frozen=True)
class Statistic:
    """One feature's statistic, or None with the reason, and how it was computed."""

    value: float | None
    reason: str | None = None
    details: dict = field(default_factory=dict)


# Histograms


@dataclass(frozen=True)
class Histogram:
    """Counts of the reference and the current sample in the same bins; missing values are the last bin, if any."""

    labels: tuple[str, ...]
    reference: np.ndarray
    current: np.ndarray
    edges: tuple[float, ...] = ()  # interior edges of numeric bins; each bin includes its upper edge

    def to_dict(self) -> dict:
        data: dict = {
            "histogram": [
                {"bin": label, "reference": int(r), "current": int(c)}
                for label, r, c in zip(self.labels, self.reference, self.current)
            ]
        }
        if self.edges:
            data["edges"] = list(self.edges)
        return data


def _sample_position(values: np.ndarray, cumulative: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Return the values at 0-based positions of the sorted sample that `values` and their counts describe."""
    return values[np.searchsorted(cumulative, positions, side="right")]


def quantile_edges(sample: NumericSample, bins: int) -> np.ndarray:
    """Return the distinct quantiles at 1/bins, ..., (bins-1)/bins of a sample.

    The quantiles interpolate linearly between sorted values, as numpy.quantile's
    default method does: position h = (n - 1) p, value x[floor h] + (h - floor h) *
    (x[floor h + 1] - x[floor h]). Equal quantiles give one edge.
    """
    n = int(sample.counts.sum())
    cumulative = np.cumsum(sample.counts)
    positions = (n - 1) * np.arange(1, bins) / bins
    below = np.floor(positions)
    fraction = positions - below
    low = _sample_position(sample.values, cumulative, below)
    high = _sample_position(sample.values, cumulative, np.minimum(below + 1, n - 1))
    return np.unique(low + fraction * (high - low))


def equal_width_edges(sample: NumericSample, bins: int) -> np.ndarray:
    """Return the edges that cut the range from the sample's smallest to its largest value into equal bins."""
    low, high = float(sample.values[0]), float(sample.values[-1])
    return np.unique(low + (high - low) * np.arange(1, bins) / bins)


def _interval_labels(edges: np.ndarray) -> list[str]:
    bounds = ["-inf", *(format(float(edge), ".12g") for edge in edges), "inf"]
    return [
        f"({low}, {high})" if high == "inf" else f"({low}, {high}]" for low, high in zip(bounds[:-1], bounds[1:])
    ]


def _bin_counts(sample: NumericSample, edges: np.ndarray) -> np.ndarray:
    """Count a sample's values per bin; a value equal to an edge falls into the bin below it."""
    index = np.searchsorted(edges, sample.values, side="left")
    return np.bincount(index, weights=sample.counts, minlength=len(edges) + 1).astype(np.int64)


def histogram(pair: ColumnPair, settings: Settings) -> Histogram:
    """Bin both samples of a column the same way, with a last bin for missing values when either has any.

    Numeric bins come from the reference's values (quantiles or equal widths), and the
    outer bins are open, so current values outside the reference's range are counted.
    Categorical bins are the categories found in either dataset.
    """
    reference, current = pair.reference, pair.current
    edges: tuple[float, ...] = ()
    if pair.type == NUMERIC:
        if reference.present == 0:
            cut = np.empty(0)
        elif settings.binning == QUANTILE:
            cut = quantile_edges(reference, settings.bins)
        else:
            cut = equal_width_edges(reference, settings.bins)
        labels = _interval_labels(cut)
        reference_counts = _bin_counts(reference, cut)
        current_counts = _bin_counts(current, cut)
        edges = tuple(float(edge) for edge in cut)
    else:
        labels = sorted(set(reference.counts) | set(current.counts))
        reference_counts = np.array([reference.counts.get(label, 0) for label in labels], dtype=np.int64)
        current_counts = np.array([current.counts.get(label, 0) for label in labels], dtype=np.int64)
    if reference.missing or current.missing:
        labels = [*labels, MISSING_BIN]
        reference_counts = np.append(reference_counts, reference.missing)
        current_counts = np.append(current_counts, current.missing)
    return Histogram(tuple(labels), reference_counts, current_counts, edges)


# Statistics of one feature


def _missing_rates(pair: ColumnPair) -> dict:
    def rate(sample: Sample) -> float | None:
        return sample.missing / sample.rows if sample.rows else None

    return {"reference_missing_rate": rate(pair.reference), "current_missing_rate": rate(pair.current)}


def _empty_reason(pair: ColumnPair, what: str, present: bool = False) -> str | None:
    """Return why a statistic is undefined for want of rows (or of non-missing values), or None."""
    for role, sample in (("reference", pair.reference), ("current", pair.current)):
        if sample.rows == 0:
            return f"{what} of feature `{pair.name}` is undefined: the {role} dataset has no rows"
        if present and sample.present == 0:
            return f"{what} of feature `{pair.name}` is undefined: every {role} value is missing"
    return None


def _binned_settings(settings: Settings, pair: ColumnPair) -> dict:
    if pair.type != NUMERIC:
        return {"binning": "categories"}
    return {"binning": settings.binning, "bins": settings.bins}


def population_stability_index(pair: ColumnPair, settings: Settings) -> Statistic:
    """Compute PSI = sum over bins of (c - r) ln(c / r), with r and c the bins' shares of the reference and current rows.

    A share of 0 is replaced by `epsilon` so that the logarithm is finite.
    """
    details = {**_binned_settings(settings, pair), "epsilon": settings.epsilon, **_missing_rates(pair)}
    reason = _empty_reason(pair, "PSI")
    if reason:
        return Statistic(None, reason, details)
    bins = histogram(pair, settings)
    details.update(bins.to_dict())
    reference = bins.reference / pair.reference.rows
    current = bins.current / pair.current.rows
    one_sided = (reference == 0) != (current == 0)
    details["smoothed_bins"] = int(np.count_nonzero(one_sided))
    if settings.epsilon == 0 and one_sided.any():
        empty = [label for label, flag in zip(bins.labels, one_sided) if flag]
        return Statistic(
            None,
            f"PSI of feature `{pair.name}` is infinite: bin {', '.join(empty)} is empty in one dataset"
            " and `epsilon` is 0",
            details,
        )
    reference = np.where(reference == 0, settings.epsilon, reference)
    current = np.where(current == 0, settings.epsilon, current)
    value = float(np.sum((current - reference) * np.log(current / reference)))
    return Statistic(value, None, details)


def jensen_shannon(pair: ColumnPair, settings: Settings) -> Statistic:
    """Compute the square root of the Jensen-Shannon divergence of the two binned distributions, base 2 (0 to 1)."""
    details = {**_binned_settings(settings, pair), "base": 2, **_missing_rates(pair)}
    reason = _empty_reason(pair, "the Jensen-Shannon distance")
    if reason:
        return Statistic(None, reason, details)
    bins = histogram(pair, settings)
    details.update(bins.to_dict())
    reference = bins.reference / pair.reference.rows
    current = bins.current / pair.current.rows
    middle = (reference + current) / 2

    def divergence(shares: np.ndarray) -> float:
        used = shares > 0
        return float(np.sum(shares[used] * np.log2(shares[used] / middle[used])))

    value = (divergence(reference) + divergence(current)) / 2
    # Rounding can leave the divergence a few ulps outside [0, 1].
    return Statistic(math.sqrt(min(max(value, 0.0), 1.0)), None, details)


def chi_square(pair: ColumnPair, settings: Settings) -> tuple[Statistic, Statistic]:
    """Run Pearson's chi-square test of homogeneity on the 2 x k table of bin counts, without continuity correction.

    Bins empty in both datasets are left out. Returns the statistic and the p-value,
    from the chi-square distribution with k - 1 degrees of freedom. With one bin left
    (k = 1) there is nothing to compare: the statistic is 0 and the p-value 1, as
    scipy's chi2_contingency gives.
    """
    details = {**_binned_settings(settings, pair), "continuity_correction": False, **_missing_rates(pair)}
    reason = _empty_reason(pair, "the chi-square test")
    if reason:
        return Statistic(None, reason, details), Statistic(None, reason, details)
    bins = histogram(pair, settings)
    details.update(bins.to_dict())
    observed = np.vstack([bins.reference, bins.current]).astype(float)
    observed = observed[:, observed.sum(axis=0) > 0]
    freedom = observed.shape[1] - 1
    details["degrees_of_freedom"] = freedom
    if freedom == 0:
        return Statistic(0.0, None, details), Statistic(1.0, None, details)
    expected = observed.sum(axis=1, keepdims=True) * observed.sum(axis=0, keepdims=True) / observed.sum()
    statistic = float(np.sum((observed - expected) ** 2 / expected))
    details["min_expected_count"] = float(expected.min())
    # The chi-square approximation is commonly trusted when every expected count is at least 5.
    details["cells_expected_below_5"] = int(np.count_nonzero(expected < 5))

    from scipy.stats import chi2

    p_value = float(chi2.sf(statistic, freedom))
    return Statistic(statistic, None, details), Statistic(p_value, None, details)


def _numeric_reason(pair: ColumnPair, what: str, instead: str) -> str | None:
    if pair.type == NUMERIC:
        return None
    return f"{what} needs a numeric feature, and `{pair.name}` is declared {pair.type}; use {instead} instead"


def _cumulative_shares(sample: NumericSample, points: np.ndarray) -> np.ndarray:
    """Return the sample's empirical distribution function at each point: the share of values at or below it."""
    cumulative = np.concatenate([[0], np.cumsum(sample.counts)])
    return cumulative[np.searchsorted(sample.values, points, side="right")] / sample.present


def _digits(pair: ColumnPair) -> int | None:
    """Return the significant digits both samples were rounded to, or None when their values are exact.

    The reduction rounds both samples of a column alike, so their values stay comparable.
    """
    if pair.type != NUMERIC:
        return None
    return pair.reference.digits or pair.current.digits


def _rounding_details(pair: ColumnPair) -> dict:
    digits = _digits(pair)
    return {} if digits is None else {"rounded_to_significant_digits": digits}


def kolmogorov_smirnov(pair: ColumnPair, p_value: bool = False) -> Statistic:
    """Run the two-sample, two-sided Kolmogorov-Smirnov test on the non-missing values; return the statistic or the p-value.

    The statistic D is the largest distance between the two empirical distribution
    functions, evaluated at every distinct value, so it is exact, ties included. The
    p-value is exact when neither sample has more than EXACT_KS_MAX_VALUES values, and
    scipy.stats.ks_2samp computes it on the samples rebuilt from the counts. Otherwise
    it comes from the asymptotic distribution, scipy.stats.kstwo.sf(D, round(m n / (m + n))),
    as ks_2samp does for large samples.
    """
    details = {"missing_values": "left out", **_missing_rates(pair), **_rounding_details(pair)}
    what = "the Kolmogorov-Smirnov test"
    reason = _numeric_reason(pair, what, "chi_square_p_value or psi") or _empty_reason(pair, what, present=True)
    if reason:
        return Statistic(None, reason, details)
    reference, current = pair.reference, pair.current
    points = np.union1d(reference.values, current.values)
    distances = np.abs(_cumulative_shares(reference, points) - _cumulative_shares(current, points))
    where = int(np.argmax(distances))
    statistic = float(distances[where])
    details.update(
        statistic_location=float(points[where]), reference_values=reference.present, current_values=current.present
    )
    if _digits(pair) is not None:
        # Within one rounded value, each distribution function rises by at most that value's share.
        details["statistic_error_bound"] = max(
            float(reference.counts.max()) / reference.present, float(current.counts.max()) / current.present
        )
    if not p_value:
        return Statistic(statistic, None, details)
    # The exact p-value costs far more than the statistic (about 0.1 s for samples of a few
    # thousand values with scipy 1.17, measured), so only ks_p_value computes it.
    probability, method = _ks_p_value(reference, current, statistic)
    details.update(statistic=statistic, p_value_method=method)
    return Statistic(probability, None, details)


def _ks_p_value(reference: NumericSample, current: NumericSample, statistic: float) -> tuple[float, str]:
    from scipy import stats

    if max(reference.present, current.present) <= EXACT_KS_MAX_VALUES:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = stats.ks_2samp(
                np.repeat(reference.values, reference.counts), np.repeat(current.values, current.counts), method="exact"
            )
        # ks_2samp warns and falls back to the asymptotic distribution when the exact computation fails.
        method = "asymptotic" if any("Switching to" in str(w.message) for w in caught) else "exact"
        return float(result.pvalue), method
    larger, smaller = sorted((float(reference.present), float(current.present)), reverse=True)
    effective = round(larger * smaller / (larger + smaller))
    return float(np.clip(stats.kstwo.sf(statistic, effective), 0.0, 1.0)), "asymptotic"


def _unit(values: np.ndarray, digits: int) -> float:
    """Return one unit in the last kept digit of the largest absolute value, a bound on each value's rounding."""
    largest = float(np.max(np.abs(values))) if len(values) else 0.0
    if largest == 0:
        return 0.0
    return 10.0 ** (math.floor(math.log10(largest)) - digits + 1)


def wasserstein(pair: ColumnPair) -> Statistic:
    """Compute the first Wasserstein distance between the non-missing values over the reference's standard deviation.

    W1 is the area between the two empirical distribution functions, computed exactly
    from the counts. The standard deviation is the population one (ddof = 0).
    """
    details = {
        "normalization": "divided by the reference's standard deviation (ddof = 0)",
        "missing_values": "left out",
        **_missing_rates(pair),
        **_rounding_details(pair),
    }
    what = "the normalized Wasserstein distance"
    reason = _numeric_reason(pair, what, "psi or jensen_shannon_distance") or _empty_reason(pair, what, present=True)
    if reason:
        return Statistic(None, reason, details)
    reference, current = pair.reference, pair.current
    deviation = math.sqrt(reference.variance)
    details["reference_standard_deviation"] = deviation
    if deviation == 0:
        return Statistic(
            None,
            f"{what} of feature `{pair.name}` is undefined: every reference value is {float(reference.values[0]):g},"
            " so the reference's standard deviation is 0",
            details,
        )
    points = np.union1d(reference.values, current.values)
    gaps = np.abs(_cumulative_shares(reference, points) - _cumulative_shares(current, points))[:-1]
    distance = float(np.sum(gaps * np.diff(points)))
    details["wasserstein_distance"] = distance
    digits = _digits(pair)
    if digits is not None:
        # Moving every value of one sample by at most u moves W1 by at most u.
        bound = _unit(reference.values, digits) + _unit(current.values, digits)
        details["error_bound"] = bound / deviation
    return Statistic(distance / deviation, None, details)


def missing_rate_difference(pair: ColumnPair) -> Statistic:
    """Compute the absolute difference between the current and the reference share of missing values."""
    details = _missing_rates(pair)
    reason = _empty_reason(pair, "the missing rate change")
    if reason:
        return Statistic(None, reason, details)
    value = abs(details["current_missing_rate"] - details["reference_missing_rate"])
    return Statistic(value, None, details)


# Metrics: each statistic for one feature, per feature, and the share of drifted features

# The statistic each metric reads, by component name, as function(pair, settings).
STATISTICS: dict[str, Callable[[ColumnPair, Settings], Statistic]] = {
    "psi": population_stability_index,
    "jensen_shannon_distance": jensen_shannon,
    "chi_square_statistic": lambda pair, settings: chi_square(pair, settings)[0],
    "chi_square_p_value": lambda pair, settings: chi_square(pair, settings)[1],
    "ks_statistic": lambda pair, settings: kolmogorov_smirnov(pair),
    "ks_p_value": lambda pair, settings: kolmogorov_smirnov(pair, p_value=True),
    "normalized_wasserstein_distance": lambda pair, settings: wasserstein(pair),
    "missing_rate_change": lambda pair, settings: missing_rate_difference(pair),
}

# The test behind each statistic, and the settings that change it, for the details of every result.
_METHODS: dict[str, tuple[str, tuple[str, ...]]] = {
    "psi": ("population stability index", ("binning", "bins", "epsilon")),
    "jensen_shannon_distance": ("Jensen-Shannon distance, base 2", ("binning", "bins")),
    "chi_square_statistic": ("Pearson's chi-square test of homogeneity", ("binning", "bins")),
    "chi_square_p_value": ("Pearson's chi-square test of homogeneity", ("binning", "bins")),
    "ks_statistic": ("two-sample Kolmogorov-Smirnov test, two-sided", ()),
    "ks_p_value": ("two-sample Kolmogorov-Smirnov test, two-sided", ()),
    "normalized_wasserstein_distance": ("first Wasserstein distance over the reference's standard deviation", ()),
    "missing_rate_change": ("absolute change in the share of missing values", ()),
}


def _method(statistic: str, settings: Settings, table: DriftTable) -> dict:
    test, used = _METHODS[statistic]
    details = {"test": test, "reference": table.reference, "current": table.current}
    for name in used:
        details[name] = getattr(settings, name)
    return details


def _feature_rows(pair: ColumnPair) -> FeatureRows:
    return FeatureRows(pair.reference.rows, pair.current.rows, pair.reference.missing, pair.current.missing)


def _one_feature(statistic: str) -> Callable[[DriftTable, dict], MetricValue]:
    def compute(table: DriftTable, arguments: dict) -> MetricValue:
        try:
            settings = read_settings(arguments)
        except InvalidArgument as exc:
            return MetricValue(None, str(exc))
        pair = table.columns[arguments["feature"]]
        result = STATISTICS[statistic](pair, settings)
        # The statistic's own details give the settings as applied, such as no bins for a categorical feature.
        test, _ = _METHODS[statistic]
        details = {"test": test, "reference": table.reference, "current": table.current, "feature": pair.name}
        details.update(result.details)
        return MetricValue(result.value, result.reason, {statistic: result.value}, details=details)

    compute.__name__ = statistic
    compute.__doc__ = f"Compute {statistic} for the feature named by the argument `feature`."
    return compute


def _each_feature(statistic: str) -> Callable[[DriftTable, dict], MetricValue]:
    def compute(table: DriftTable, arguments: dict) -> MetricValue:
        try:
            settings = read_settings(arguments)
        except InvalidArgument as exc:
            # Each feature carries the reason: with no groups at all, `every f in ...` would hold.
            undefined = tuple(
                GroupValues((name,), _feature_rows(table.columns[name]), {statistic: None}, {statistic: str(exc)})
                for name in arguments["features"]
            )
            return MetricValue(None, str(exc), {}, undefined)
        groups = []
        per_feature = {}
        for name in arguments["features"]:
            pair = table.columns[name]
            result = STATISTICS[statistic](pair, settings)
            reasons = {} if result.reason is None else {statistic: result.reason}
            groups.append(GroupValues((name,), _feature_rows(pair), {statistic: result.value}, reasons))
            per_feature[name] = {"value": result.value, "reason": result.reason, **result.details}
        details = {**_method(statistic, settings, table), "features": per_feature}
        return MetricValue(None, None, {}, tuple(groups), details=details)

    compute.__name__ = f"{statistic}_per_feature"
    compute.__doc__ = f"Compute {statistic} for each feature named by the argument `features`, as per-group values."
    return compute


psi = _one_feature("psi")
psi_per_feature = _each_feature("psi")
jensen_shannon_distance = _one_feature("jensen_shannon_distance")
jensen_shannon_distance_per_feature = _each_feature("jensen_shannon_distance")
chi_square_statistic = _one_feature("chi_square_statistic")
chi_square_statistic_per_feature = _each_feature("chi_square_statistic")
chi_square_p_value = _one_feature("chi_square_p_value")
chi_square_p_value_per_feature = _each_feature("chi_square_p_value")
ks_statistic = _one_feature("ks_statistic")
ks_statistic_per_feature = _each_feature("ks_statistic")
ks_p_value = _one_feature("ks_p_value")
ks_p_value_per_feature = _each_feature("ks_p_value")
normalized_wasserstein_distance = _one_feature("normalized_wasserstein_distance")
normalized_wasserstein_distance_per_feature = _each_feature("normalized_wasserstein_distance")
missing_rate_change = _one_feature("missing_rate_change")
missing_rate_change_per_feature = _each_feature("missing_rate_change")


def _read_test(arguments: dict) -> tuple[str, str, float, str]:
    """Return the test's name, the statistic it reads, the threshold and the kind of rule; raise InvalidArgument."""
    test = arguments.get("test", DEFAULT_TEST)
    if test not in TESTS:
        known = ", ".join(f'"{name}"' for name in TESTS)
        raise InvalidArgument(f'argument `test` must be one of {known}, not "{test}"')
    statistic, default_threshold, rule = TESTS[test]
    threshold = float(arguments.get("threshold", default_threshold))
    if rule == "p_value" and not 0 < threshold <= 1:
        raise InvalidArgument(f"argument `threshold` is a significance level for the {test} test, so above 0 and at most 1, not {threshold:g}")
    return test, statistic, threshold, rule


def drifted_share(table: DriftTable, arguments: dict) -> MetricValue:
    """Compute the share of the listed features that drifted by one test, such as PSI at least 0.2.

    A feature drifted when its distance is at least the threshold, or its p-value is
    below the threshold (the significance level). When any feature's statistic is
    undefined, so is the share: that feature might have drifted.
    """
    try:
        settings = read_settings(arguments)
        test, statistic, threshold, rule = _read_test(arguments)
    except InvalidArgument as exc:
        return MetricValue(None, str(exc))
    if rule == "p_value":
        rule_text = f"a feature drifted when its {statistic} is below {threshold:g}"
    else:
        rule_text = f"a feature drifted when its {statistic} is at least {threshold:g}"
    groups = []
    listed = []
    undefined = []
    for name in arguments["features"]:
        pair = table.columns[name]
        result = STATISTICS[statistic](pair, settings)
        if result.value is None:
            drifted = None
            undefined.append(f"{name}: {result.reason}")
        elif rule == "p_value":
            drifted = result.value < threshold
        else:
            drifted = result.value >= threshold
        reasons = {} if result.reason is None else {statistic: result.reason}
        groups.append(GroupValues((name,), _feature_rows(pair), {statistic: result.value}, reasons))
        listed.append({"feature": name, "statistic": result.value, "drifted": drifted, "reason": result.reason})
    details = {
        **_method(statistic, settings, table),
        "threshold": threshold,
        "rule": rule_text,
        "features": listed,
        "drifted_features": [item["feature"] for item in listed if item["drifted"]],
    }
    if undefined:
        reason = "the share of drifted features is undefined, because a statistic is undefined for " + "; ".join(undefined)
        return MetricValue(None, reason, {}, tuple(groups), details=details)
    value = len(details["drifted_features"]) / len(listed)
    # No overall rates: a report would add up the rows of every feature as if they were groups.
    return MetricValue(value, None, {}, tuple(groups), details=details)
