"""Data drift metrics: how the distribution of a feature moved from a reference dataset to a current one."""

from __future__ import annotations

from govdsl.metrics.declaration import FEATURES, NUMBER, STRING, MetricDeclaration, Parameter

_IMPL = "govdsl.metrics.drift"
_INFINITY = float("inf")

FEATURE = Parameter(
    "feature",
    STRING,
    True,
    "Column to compare between the reference and the current dataset; one of the datasets declares it"
    " under `features` in bundle.yaml, as numeric or categorical.",
)
FEATURE_LIST = Parameter(
    "features",
    FEATURES,
    True,
    "Columns to compare, each declared under `features` in bundle.yaml; the metric gives one value per column,"
    " which a check compares through `max(...)` or a quantifier such as `every f in ...`.",
)
TESTED_FEATURES = Parameter(
    "features",
    FEATURES,
    True,
    "Columns to test for drift, each declared under `features` in bundle.yaml.",
)
REFERENCE = Parameter(
    "reference", STRING, False, "Name of the bundle dataset to compare against; default: the dataset whose role is `reference`."
)
CURRENT = Parameter(
    "current", STRING, False, "Name of the bundle dataset to compare; default: the dataset whose role is `current`."
)
BINNING = Parameter(
    "binning",
    STRING,
    False,
    'How numeric values are binned: "quantile" (default), bins holding equal shares of the reference, or'
    ' "equal_width", bins of equal width between the reference\'s smallest and largest value.'
    " The outer bins are open, so current values outside the reference's range are counted.",
    choices=("quantile", "equal_width"),
)
BINS = Parameter(
    "bins", NUMBER, False, "Number of bins for a numeric feature, from 2 to 10000; default 10.", integer=True, minimum=2, maximum=10_000
)
EPSILON = Parameter(
    "epsilon",
    NUMBER,
    False,
    "Share that replaces 0 in a bin that is empty in one dataset, so the logarithm stays finite; default 0.0001.",
    minimum=0,
    below=1,
)
TEST = Parameter(
    "test",
    STRING,
    False,
    'The test that decides whether a feature drifted: "psi" (default), "ks", "chi_square", "jensen_shannon",'
    ' "wasserstein" or "missing_rate".',
    choices=("psi", "ks", "chi_square", "jensen_shannon", "wasserstein", "missing_rate"),
)
THRESHOLD = Parameter(
    "threshold",
    NUMBER,
    False,
    "A feature drifted when its distance is at least this, or its p-value (for ks and chi_square) is below it."
    " Defaults: psi 0.2, ks 0.05, chi_square 0.05, jensen_shannon 0.1, wasserstein 0.1, missing_rate 0.05.",
)

_DATASETS = (REFERENCE, CURRENT)
_BINNED = (BINNING, BINS)

_EMPTY = "a dataset without rows makes the value undefined, and the check is `insufficient`"
_MISSING_BIN = (
    "missing values form their own bin, so a change in the share of missing values raises the value"
    " even when the other values did not move"
)
_NUMERIC_ONLY = "a categorical feature makes the value undefined, and the check is `insufficient`"
_ALL_MISSING = "a feature whose values are all missing in either dataset makes the value undefined"
_LEFT_OUT = (
    "missing values are left out; missing_rate_change detects a change in their share"
)
_ROUNDED = (
    "a numeric column with more than 100,000 distinct values in one dataset is rounded to fewer significant"
    " digits; the details then give the rounding and a bound on the error"
)


def _declare(
    name: str,
    what: str,
    definition: str,
    value_range: tuple[float, float],
    options: tuple[Parameter, ...],
    edge_cases: tuple[str, ...],
    better: str = "lower",
    limitations: tuple[str, ...] = (),
) -> list[MetricDeclaration]:
    """Declare a statistic twice: for one feature (`name`) and per feature (`name_per_feature`)."""
    common = dict(
        kind="overall",
        components=(name,),
        value_range=value_range,
        reduction="drift_histograms",
        better=better,
        edge_cases=edge_cases,
        family="drift",
        limitations=tuple(limitations),
        roles=("reference", "current"),
        calling="arguments",
    )
    return [
        MetricDeclaration(
            name=name,
            summary=f"{what} of a feature: {definition}",
            implementation=f"{_IMPL}:{name}",
            parameters=(FEATURE, *_DATASETS, *options),
            reduction_arguments=("feature", "reference", "current"),
            **common,
        ),
        MetricDeclaration(
            name=f"{name}_per_feature",
            summary=f"{what} of each listed feature, one value per feature: {definition}",
            implementation=f"{_IMPL}:{name}_per_feature",
            parameters=(FEATURE_LIST, *_DATASETS, *options),
            reduction_arguments=("features", "reference", "current"),
            per_group=True,
            **common,
        ),
    ]


DECLARATIONS = [
    *_declare(
        "psi",
        "Population stability index",
        "the sum over bins of (c - r) ln(c / r), where r and c are the bin's shares of the reference and the current rows; below 0.1 is commonly read as stable,"
        " 0.2 or more as a significant shift.",
        (0.0, _INFINITY),
        (*_BINNED, EPSILON),
        (_EMPTY, _MISSING_BIN, "a bin empty in one dataset gets the share `epsilon`; with `epsilon = 0` the value"
         " is infinite, so undefined"),
    ),
    *_declare(
        "jensen_shannon_distance",
        "Jensen-Shannon distance",
        "between the binned reference and current distributions, the square root of the Jensen-Shannon divergence in base 2, from 0 (equal) to 1 (disjoint).",
        (0.0, 1.0),
        _BINNED,
        (_EMPTY, _MISSING_BIN),
    ),
    *_declare(
        "chi_square_statistic",
        "Pearson's chi-square statistic",
        "the test of homogeneity on the reference and current counts per category (or numeric bin),"
        " without continuity correction.",
        (0.0, _INFINITY),
        _BINNED,
        (_EMPTY, _MISSING_BIN, "bins empty in both datasets are left out; with one bin left the statistic is 0"),
        limitations=("the chi-square approximation is poor when expected counts are below 5; the details count"
                     " those cells",),
    ),
    *_declare(
        "chi_square_p_value",
        "Chi-square p-value",
        "Pearson's test of homogeneity on the reference and current counts per category (or numeric bin);"
        " a small p-value means the distributions differ.",
        (0.0, 1.0),
        _BINNED,
        (_EMPTY, _MISSING_BIN, "bins empty in both datasets are left out; with one bin left the p-value is 1"),
        better="higher",
        limitations=("with large datasets a tiny, harmless shift gives a small p-value; pair it with a distance"
                     " such as psi",),
    ),
    *_declare(
        "ks_statistic",
        "Two-sample Kolmogorov-Smirnov statistic",
        "the largest distance between the empirical distribution functions of the reference and current"
        " values, from 0 to 1; numeric features only.",
        (0.0, 1.0),
        (),
        (_EMPTY, _NUMERIC_ONLY, _ALL_MISSING, _LEFT_OUT),
        limitations=(_ROUNDED,),
    ),
    *_declare(
        "ks_p_value",
        "Kolmogorov-Smirnov p-value",
        "the two-sample, two-sided test, exact when neither dataset has more than 10,000 values, else"
        " asymptotic; a small p-value means the distributions differ; numeric features only.",
        (0.0, 1.0),
        (),
        (_EMPTY, _NUMERIC_ONLY, _ALL_MISSING, _LEFT_OUT),
        better="higher",
        limitations=(_ROUNDED, "the test assumes continuous values; with many ties the p-value is conservative"),
    ),
    *_declare(
        "normalized_wasserstein_distance",
        "Normalized Wasserstein distance",
        "the first Wasserstein (earth mover's) distance between the reference and current values, divided by"
        " the reference's standard deviation (ddof = 0); numeric features only.",
        (0.0, _INFINITY),
        (),
        (_EMPTY, _NUMERIC_ONLY, _ALL_MISSING, _LEFT_OUT,
         "a constant reference (standard deviation 0) makes the value undefined"),
        limitations=(_ROUNDED,),
    ),
    *_declare(
        "missing_rate_change",
        "Missing rate change",
        "the absolute difference between the current and the reference share of missing values.",
        (0.0, 1.0),
        (),
        (_EMPTY,),
    ),
    MetricDeclaration(
        name="drifted_share",
        summary="Share of the listed features that drifted by one test, such as psi at least 0.2;"
        " the details list each feature with its statistic and whether it drifted.",
        kind="overall",
        components=("drifted_share",),
        value_range=(0.0, 1.0),
        reduction="drift_histograms",
        implementation=f"{_IMPL}:drifted_share",
        parameters=(TESTED_FEATURES, *_DATASETS, TEST, THRESHOLD, *_BINNED, EPSILON),
        edge_cases=(
            _EMPTY,
            "an undefined statistic for any feature makes the share undefined, because that feature might have drifted",
        ),
        family="drift",
        limitations=(),
        roles=("reference", "current"),
        reduction_arguments=("features", "reference", "current"),
        calling="arguments",
    ),
]
