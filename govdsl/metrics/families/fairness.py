"""Group fairness and classification performance metrics read from per-group confusion counts."""

from __future__ import annotations

from govdsl.metrics.declaration import BY, BY_OPTIONAL, DATASET, EXCLUDE_SMALL, MIN_GROUP_SIZE, MetricDeclaration

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

_UNDEFINED_RATE = "a rate whose denominator is zero is undefined, and the check is `insufficient`"
_ONE_GROUP = "fewer than two groups leaves nothing to compare, and the check is `insufficient`"
_ZERO_MAX = "a ratio whose largest group rate is 0 is undefined (0/0), and the check is `insufficient`"

_IMPL = "govdsl.metrics.fairness"


def _overall(rate: str) -> MetricDeclaration:
    return MetricDeclaration(
        name=rate,
        summary=f"Overall {rate.replace('_', ' ')}: {_RATE_DOCS[rate]}.",
        kind="overall",
        components=(rate,),
        value_range=(0.0, 1.0),
        reduction="group_confusion",
        implementation=f"{_IMPL}:overall_rate",
        parameters=(BY_OPTIONAL, DATASET),
        better="lower" if rate in ("selection_rate", "false_positive_rate", "false_negative_rate") else "higher",
        edge_cases=(_UNDEFINED_RATE,),
        family="performance",
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
        parameters=(BY, DATASET, MIN_GROUP_SIZE, EXCLUDE_SMALL),
        better="higher" if is_ratio else "lower",
        edge_cases=(_UNDEFINED_RATE, _ONE_GROUP) + ((_ZERO_MAX,) if is_ratio else ()),
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
]

