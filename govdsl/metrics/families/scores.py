"""Score-based classification metrics read from per-group counts of (score, label) pairs."""

from __future__ import annotations

from govdsl.metrics.declaration import (
    BY,
    BY_OPTIONAL,
    DATASET,
    EXCLUDE_SMALL,
    MIN_GROUP_SIZE,
    NUMBER,
    STRING,
    MetricDeclaration,
    Parameter,
)
from govdsl.metrics.families.fairness import CONFIDENCE

SCORE_COLUMN = Parameter(
    "score_column",
    STRING,
    False,
    "Column of scores to read instead of the dataset's `score_column`."
    " Log loss, Brier score and calibration error need the predicted probability of the positive class.",
)
BINS = Parameter(
    "bins",
    NUMBER,
    False,
    "Number of bins, a whole number from 1 to 10,000; default 10.",
    integer=True,
    minimum=1,
    maximum=10_000,
)
STRATEGY = Parameter(
    "strategy",
    STRING,
    False,
    '"uniform" (default) for equal-width bins over [0, 1]; "quantile" for edges at quantiles of the scores,'
    " so that bins hold about equal numbers of rows.",
    choices=("uniform", "quantile"),
)

_IMPL = "govdsl.metrics.scores"
_NO_ROWS = "a group without rows that have both a label and a score has no value, and the check is `insufficient`"
_ONE_CLASS = (
    "a dataset or group whose rows all have the same label has no ROC AUC, and the check is `insufficient`;"
    " scikit-learn 1.9's roc_auc_score warns and returns NaN there"
)
_SMALL = "with `min_group_size`, a smaller group has no value (or is left out with `exclude_small`)"
_ONE_GROUP = "fewer than two groups leaves nothing to compare, and the check is `insufficient`"
_PROBABILITIES = (
    "scores outside [0, 1] are invalid input (E410): the run stops and evaluates nothing,"
    " because these metrics need probabilities, not scores on another scale"
)
_MISSING_SCORE = "a dataset without `score_column`, and no `score_column` argument, gives the check status `error`"
_MEMORY = (
    "the reduction keeps one entry per distinct score in each group, so memory grows with the number of distinct"
    " scores; round continuous scores in the evidence file (4 decimals give at most 10,001 values) to bound it"
)

_OVERALL_PARAMETERS = (BY_OPTIONAL, DATASET, SCORE_COLUMN, MIN_GROUP_SIZE, EXCLUDE_SMALL)
_BETWEEN_PARAMETERS = (BY, DATASET, SCORE_COLUMN, MIN_GROUP_SIZE, EXCLUDE_SMALL)


def _declaration(
    name: str,
    summary: str,
    component: str,
    value_range: tuple[float, float],
    better: str,
    edge_cases: tuple[str, ...],
    probabilities: bool = True,
    between: bool = False,
    binned: bool = False,
    interval: bool = False,
) -> MetricDeclaration:
    parameters = _BETWEEN_PARAMETERS if between else _OVERALL_PARAMETERS
    if binned:
        parameters += (BINS, STRATEGY)
    if interval:
        parameters += (CONFIDENCE,)
    cases = edge_cases + (_NO_ROWS, _SMALL) + ((_ONE_GROUP,) if between else ()) + (_MISSING_SCORE,)
    if probabilities:
        cases += (_PROBABILITIES,)
    return MetricDeclaration(
        name=name,
        summary=summary,
        kind="between_groups" if between else "overall",
        components=(component,),
        value_range=value_range,
        reduction="probability_counts" if probabilities else "score_counts",
        implementation=f"{_IMPL}:{name}",
        parameters=parameters,
        better=better,
        edge_cases=cases,
        family="scores",
        limitations=(_MEMORY,),
        reduction_arguments=("score_column",),
        calling="arguments",
    )


_AUC_INTERVAL = (
    "the 95% (or `confidence`) interval is DeLong's normal interval, cut to [0, 1]. It needs at least two positive and"
    " two negative rows. When positives and negatives do not overlap, its width is 0, which shows nothing about"
    " small samples"
)
_AUC = (
    "Area under the ROC curve: the probability that a random positive row scores higher than a random negative row,"
    " with tied scores counting one half, as in scikit-learn's roc_auc_score. Reads scores on any scale."
)
_LOG_LOSS = (
    "Mean negative natural logarithm of the probability the score gives to the observed label;"
    " probabilities are clipped to [2.22e-16, 1 - 2.22e-16], as scikit-learn's log_loss does."
)
_BRIER = "Mean squared difference between the predicted probability and the label (1 for positive, 0 for negative)."
_ECE = (
    "Expected calibration error: over bins of the predicted probability, the share of rows in each bin times the"
    " absolute difference between the bin's positive rate and its mean probability, summed."
)

DECLARATIONS = [
    _declaration(
        "roc_auc", _AUC, "roc_auc", (0.0, 1.0), "higher", (_ONE_CLASS, _AUC_INTERVAL), probabilities=False, interval=True
    ),
    _declaration(
        "roc_auc_difference",
        "Largest minus smallest group ROC AUC.",
        "roc_auc",
        (0.0, 1.0),
        "lower",
        (_ONE_CLASS, _AUC_INTERVAL),
        probabilities=False,
        between=True,
        interval=True,
    ),
    _declaration("log_loss", _LOG_LOSS, "log_loss", (0.0, float("inf")), "lower", ()),
    _declaration("brier_score", _BRIER, "brier_score", (0.0, 1.0), "lower", ()),
    _declaration(
        "brier_score_difference",
        "Largest minus smallest group Brier score.",
        "brier_score",
        (0.0, 1.0),
        "lower",
        (),
        between=True,
    ),
    _declaration(
        "expected_calibration_error", _ECE, "expected_calibration_error", (0.0, 1.0), "lower", (), binned=True
    ),
    _declaration(
        "expected_calibration_error_difference",
        "Largest minus smallest group expected calibration error;"
        ' with `strategy = "quantile"`, each group\'s bin edges are quantiles of its own scores.',
        "expected_calibration_error",
        (0.0, 1.0),
        "lower",
        (),
        between=True,
        binned=True,
    ),
]
