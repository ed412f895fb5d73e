"""Metric declarations: name, parameters, value range, the reduction a metric reads, and docs.

This module imports no numeric library. The implementation named by each
declaration is imported only when a check calls it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

# Parameter types the compiler checks arguments against.
FEATURES = "features"  # one sensitive-feature column name, or a list of them
STRING = "string"
NUMBER = "number"
BOOL = "bool"


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    required: bool
    doc: str


@dataclass(frozen=True)
class MetricDeclaration:
    """Everything the compiler and the docs need to know about a metric, without computing it."""

    name: str
    summary: str
    kind: str  # "overall": one value for the whole dataset; "between_groups": compares groups
    components: tuple[str, ...]  # the rates computed per group and shown in reports
    value_range: tuple[float, float]
    reduction: str
    implementation: str  # "module:function"
    parameters: tuple[Parameter, ...] = ()
    better: str = "lower"  # which direction of the value means less disparity or error
    edge_cases: tuple[str, ...] = field(default=())

    def parameter(self, name: str) -> Parameter | None:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        return None

    def load(self) -> Callable:
        module_name, function_name = self.implementation.split(":")
        return getattr(importlib.import_module(module_name), function_name)


_BY = Parameter(
    "by",
    FEATURES,
    True,
    "Sensitive feature column, or list of columns, whose values (or combinations of values) form the groups.",
)
_BY_OPTIONAL = Parameter(
    "by",
    FEATURES,
    False,
    "Sensitive feature column, or list of columns; with it, the metric gives one value per group,"
    " which a check compares through an aggregate such as `max(...)` or a quantifier such as `every g in ...`.",
)
_MIN_GROUP_SIZE = Parameter(
    "min_group_size",
    NUMBER,
    False,
    "Fewest rows a group needs; a smaller group makes the value `insufficient`, naming the group and its size.",
)
_EXCLUDE_SMALL = Parameter(
    "exclude_small",
    BOOL,
    False,
    "With `min_group_size`, leave smaller groups out instead of making the value `insufficient`;"
    " the report lists the groups left out.",
)
_DATASET = Parameter(
    "dataset",
    STRING,
    False,
    "Name of the bundle dataset to read; default: the dataset whose role is `predictions`.",
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
        parameters=(_BY_OPTIONAL, _DATASET),
        better="lower" if rate in ("selection_rate", "false_positive_rate", "false_negative_rate") else "higher",
        edge_cases=(_UNDEFINED_RATE,),
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
        parameters=(_BY, _DATASET, _MIN_GROUP_SIZE, _EXCLUDE_SMALL),
        better="higher" if is_ratio else "lower",
        edge_cases=(_UNDEFINED_RATE, _ONE_GROUP) + ((_ZERO_MAX,) if is_ratio else ()),
    )


_DECLARATIONS = [
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

REGISTRY: dict[str, MetricDeclaration] = {d.name: d for d in _DECLARATIONS}


def get_metric(name: str) -> MetricDeclaration | None:
    return REGISTRY.get(name)


def group_comparisons(rate: str) -> list[str]:
    """Return the between-group metrics built on one rate, such as those comparing selection rates."""
    return [d.name for d in REGISTRY.values() if d.kind == "between_groups" and d.components == (rate,)]
