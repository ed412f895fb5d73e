"""Group fairness and classification performance metrics read from per-group confusion counts."""

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

_RATE_DOCS = {
    "true_negative_rate": "share of actual negatives predicted negative: TN / (TN + FP)",
    "recall": "share of actual positives predicted positive: TP / (TP + FN); the true positive rate",
    "precision": "share of positive predictions that are correct: TP / (TP + FP)",
    "accuracy": "share of correct predictions: (TP + TN) / n",
    "f1_score": "harmonic mean of precision and recall: 2 TP / (2 TP + FP + FN)",
    "balanced_accuracy": "mean of the true positive and true negative rates",
    "selection_rate": "share of rows predicted positive: (TP + FP) / n",
    "true_positive_rate": "share of actual positives predicted positive: TP / (TP + FN)",
    "false_positive_rate": "share of actual negatives predicted positive: FP / (FP + TN)",
    "false_negative_rate": "share of actual positives predicted negative: FN / (TP + FN)",
}

CONFIDENCE = Parameter(
    "confidence",
    NUMBER,
    False,
    "Confidence level of the intervals the metric reports and that `lower(...)` and `upper(...)` read,"
    " between 0 and 1 (exclusive), such as 0.9 or 90%; default 0.95.",
    above=0,
    below=1,
)
REFERENCE = Parameter(
    "reference",
    STRING,
    False,
    'What each group is compared with: `"overall"`, the rate over the whole dataset, or one group, written as'
    ' its value (`"Caucasian"`) or, with several features, as the report names it (`"race=Caucasian, sex=Male"`).'
    " Without it, the metric compares the groups with the lowest and highest rates.",
)
FAVORABLE = Parameter(
    "favorable",
    STRING,
    False,
    '`"positive"` or `"negative"`: which prediction is favorable to the person;'
    " default: the dataset's `favorable` field in bundle.yaml.",
    choices=("positive", "negative"),
)

_UNDEFINED_RATE = "a rate whose denominator is zero is undefined, and the check is `insufficient`"
_ONE_GROUP = "fewer than two groups leaves nothing to compare, and the check is `insufficient`"
_ZERO_MAX = "a ratio whose largest group rate is 0 is undefined (0/0), and the check is `insufficient`"
_EMPTY_COMBINATION = (
    "with several features in `by`, a combination of values that no row has is reported as a group with n = 0;"
    " it has no rate, so the check is `insufficient` unless `min_group_size` and `exclude_small = true` leave it out"
)
_ZERO_REFERENCE = (
    "with `reference`, a ratio of two rates that are both 0 is undefined (0/0), and the check is `insufficient`"
)
_UNKNOWN_REFERENCE = "a `reference` naming a value that no row has makes the check `error`"
_NO_INTERVAL = "no confidence interval: the value is not a proportion of rows, so `lower(...)` and `upper(...)` reject it"
_PAIR_INTERVAL = (
    "the interval describes the one comparison that sets the value (the groups with the lowest and highest rates,"
    " or the group farthest from the reference) as if that pair had been chosen in advance; it is not"
    " simultaneous over all groups, so with many groups it understates the uncertainty of the largest gap"
)
_MIN_SIZE_WITH_BY = "`min_group_size` and `exclude_small` apply with `by` only"

_IMPL = "govdsl.metrics.fairness"


def _overall(rate: str) -> MetricDeclaration:
    # The F1 score and balanced accuracy are not proportions of rows, so they have no Wilson interval.
    has_interval = rate not in ("f1_score", "balanced_accuracy")
    return MetricDeclaration(
        name=rate,
        summary=f"Overall {rate.replace('_', ' ')}: {_RATE_DOCS[rate]}.",
        kind="overall",
        components=(rate,),
        value_range=(0.0, 1.0),
        reduction="group_confusion",
        implementation=f"{_IMPL}:overall_rate",
        parameters=(BY_OPTIONAL, DATASET, MIN_GROUP_SIZE, EXCLUDE_SMALL) + ((CONFIDENCE,) if has_interval else ()),
        better="lower" if rate in ("selection_rate", "false_positive_rate", "false_negative_rate") else "higher",
        edge_cases=(_UNDEFINED_RATE, _EMPTY_COMBINATION) + (() if has_interval else (_NO_INTERVAL,)),
        family="performance",
        limitations=(_MIN_SIZE_WITH_BY,) + (("the interval is the Wilson score interval of the rate",) if has_interval else ()),
    )


def _between(name: str, components: tuple[str, ...], aggregate: str, summary: str) -> MetricDeclaration:
    is_ratio = aggregate == "ratio"
    return MetricDeclaration(
        name=name,
        summary=summary,
        kind="between_groups",
        components=components,
        value_range=(0.0, 1.0),
        reduction="group_confusion",
        implementation=f"{_IMPL}:between_groups_{aggregate}",
        parameters=(BY, DATASET, MIN_GROUP_SIZE, EXCLUDE_SMALL, REFERENCE, CONFIDENCE),
        better="higher" if is_ratio else "lower",
        edge_cases=(_UNDEFINED_RATE, _ONE_GROUP, _EMPTY_COMBINATION, _UNKNOWN_REFERENCE)
        + ((_ZERO_MAX, _ZERO_REFERENCE) if is_ratio else ()),
        limitations=(_PAIR_INTERVAL,)
        + ((_COMPONENTS_INTERVAL,) if len(components) > 1 else ()),
    )


_COMPONENTS_INTERVAL = (
    "the interval takes, on each side, the largest (difference) or smallest (ratio) bound of the two rates'"
    " intervals; each has the stated confidence, the pair together somewhat less"
)

_DISPARATE_IMPACT = MetricDeclaration(
    name="disparate_impact_ratio",
    summary=(
        "Smallest ratio of a group's favorable-outcome rate to the reference's; without `reference`, the"
        " lowest group rate divided by the highest, the ratio the four-fifths rule compares with 0.8."
    ),
    kind="between_groups",
    components=("favorable_rate",),
    value_range=(0.0, float("inf")),
    reduction="favorable_confusion",
    implementation=f"{_IMPL}:disparate_impact_ratio",
    parameters=(BY, DATASET, FAVORABLE, REFERENCE, MIN_GROUP_SIZE, EXCLUDE_SMALL, CONFIDENCE),
    better="higher",
    edge_cases=(
        "the favorable-outcome rate is the share of rows whose prediction is favorable: the selection rate when"
        " `favorable` is positive, one minus it when negative",
        "without `favorable` in the call or in the dataset's declaration, the check is `error`",
        "with a named `reference`, a group with a higher favorable rate than the reference gives a ratio above 1;"
        " the value is the smallest ratio, so it is above 1 only when every group fares better than the reference",
        "a reference whose favorable rate is 0 makes the ratio undefined, and the check is `insufficient`",
        _ONE_GROUP,
        _EMPTY_COMBINATION,
        _UNKNOWN_REFERENCE,
    ),
    limitations=(
        _PAIR_INTERVAL,
        "the four-fifths rule is a rule of thumb for adverse impact, not a test of significance;"
        " compare `lower(...)` with 0.8 to ask whether the data show the ratio is above it",
        "it reads the same confusion counts as the other metrics, but in a pass of its own over the data",
    ),
    reduction_arguments=("favorable",),
    calling="arguments",
)


DECLARATIONS = [
    _overall("selection_rate"),
    _overall("true_positive_rate"),
    _overall("false_positive_rate"),
    _overall("false_negative_rate"),
    _overall("true_negative_rate"),
    _overall("recall"),
    _overall("precision"),
    _overall("accuracy"),
    _overall("balanced_accuracy"),
    _overall("f1_score"),
    _between(
        "predictive_parity_difference",
        ("precision",),
        "difference",
        "Largest minus smallest group precision (positive predictive value).",
    ),
    _between(
        "predictive_parity_ratio",
        ("precision",),
        "ratio",
        "Smallest divided by largest group precision (positive predictive value).",
    ),
    _between(
        "accuracy_difference",
        ("accuracy",),
        "difference",
        "Largest minus smallest group accuracy.",
    ),
    _between(
        "accuracy_ratio",
        ("accuracy",),
        "ratio",
        "Smallest divided by largest group accuracy.",
    ),
    _between(
        "demographic_parity_difference",
        ("selection_rate",),
        "difference",
        "Largest minus smallest group selection rate.",
    ),
    _between(
        "demographic_parity_ratio",
        ("selection_rate",),
        "ratio",
        "Smallest divided by largest group selection rate.",
    ),
    _between(
        "equal_opportunity_difference",
        ("true_positive_rate",),
        "difference",
        "Largest minus smallest group true positive rate.",
    ),
    _between(
        "equal_opportunity_ratio",
        ("true_positive_rate",),
        "ratio",
        "Smallest divided by largest group true positive rate.",
    ),
    _between(
        "equalized_odds_difference",
        ("true_positive_rate", "false_positive_rate"),
        "difference",
        "The larger of the between-group differences in true positive rate and in false positive rate.",
    ),
    _between(
        "equalized_odds_ratio",
        ("true_positive_rate", "false_positive_rate"),
        "ratio",
        "The smaller of the between-group ratios of true positive rates and of false positive rates.",
    ),
    _between(
        "selection_rate_difference",
        ("selection_rate",),
        "difference",
        "Largest minus smallest group selection rate; the same value as demographic_parity_difference.",
    ),
    _between(
        "selection_rate_ratio",
        ("selection_rate",),
        "ratio",
        "Smallest divided by largest group selection rate; the same value as demographic_parity_ratio.",
    ),
    _between(
        "true_positive_rate_difference",
        ("true_positive_rate",),
        "difference",
        "Largest minus smallest group true positive rate; the same value as equal_opportunity_difference.",
    ),
    _between(
        "true_positive_rate_ratio",
        ("true_positive_rate",),
        "ratio",
        "Smallest divided by largest group true positive rate; the same value as equal_opportunity_ratio.",
    ),
    _between(
        "false_positive_rate_difference",
        ("false_positive_rate",),
        "difference",
        "Largest minus smallest group false positive rate.",
    ),
    _between(
        "false_positive_rate_ratio",
        ("false_positive_rate",),
        "ratio",
        "Smallest divided by largest group false positive rate.",
    ),
    _between(
        "false_negative_rate_difference",
        ("false_negative_rate",),
        "difference",
        "Largest minus smallest group false negative rate.",
    ),
    _between(
        "false_negative_rate_ratio",
        ("false_negative_rate",),
        "ratio",
        "Smallest divided by largest group false negative rate.",
    ),
    _DISPARATE_IMPACT,
]
