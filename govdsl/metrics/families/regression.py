"""Regression metrics read from per-group error sums; the target is `label_column`, the prediction `prediction_column`."""

from __future__ import annotations

from govdsl.metrics.declaration import BY, BY_OPTIONAL, DATASET, EXCLUDE_SMALL, MIN_GROUP_SIZE, MetricDeclaration

_IMPL = "govdsl.metrics.regression"
_INF = float("inf")

_NO_ROWS = "a group without rows that have both a target and a prediction has no value, and the check is `insufficient`"
_SMALL = "with `min_group_size`, a smaller group has no value (or is left out with `exclude_small`)"
_ONE_GROUP = "fewer than two groups leaves nothing to compare, and the check is `insufficient`"
_NOT_NUMBER = "a target or prediction that is not a finite number is invalid input (E410), and the run stops"
_CONSTANT = (
    "a constant target has no variance to explain, so R² is undefined and the check is `insufficient`;"
    " scikit-learn's r2_score returns 1.0 for a perfect prediction there and 0.0 otherwise"
)

_OVERALL_PARAMETERS = (BY_OPTIONAL, DATASET, MIN_GROUP_SIZE, EXCLUDE_SMALL)
_BETWEEN_PARAMETERS = (BY, DATASET, MIN_GROUP_SIZE, EXCLUDE_SMALL)


def _declaration(
    name: str,
    summary: str,
    component: str,
    value_range: tuple[float, float],
    better: str = "lower",
    edge_cases: tuple[str, ...] = (),
    between: bool = False,
) -> MetricDeclaration:
    cases = edge_cases + (_NO_ROWS, _SMALL) + ((_ONE_GROUP,) if between else ()) + (_NOT_NUMBER,)
    return MetricDeclaration(
        name=name,
        summary=summary,
        kind="between_groups" if between else "overall",
        components=(component,),
        value_range=value_range,
        reduction="regression_sums",
        implementation=f"{_IMPL}:{name}",
        parameters=_BETWEEN_PARAMETERS if between else _OVERALL_PARAMETERS,
        better=better,
        edge_cases=cases,
        family="regression",
        calling="arguments",
    )


DECLARATIONS = [
    _declaration(
        "mean_absolute_error", "Mean absolute difference between target and prediction.", "mean_absolute_error", (0.0, _INF)
    ),
    _declaration(
        "mean_squared_error", "Mean squared difference between target and prediction.", "mean_squared_error", (0.0, _INF)
    ),
    _declaration(
        "root_mean_squared_error",
        "Square root of the mean squared difference between target and prediction, in the target's unit.",
        "root_mean_squared_error",
        (0.0, _INF),
    ),
    _declaration(
        "r2_score",
        "Coefficient of determination R²: 1 minus the squared error divided by the target's squared deviation"
        " from its mean; 1 is a perfect prediction, 0 is no better than predicting the mean.",
        "r2_score",
        (-_INF, 1.0),
        better="higher",
        edge_cases=(_CONSTANT,),
    ),
    _declaration(
        "mean_absolute_error_difference",
        "Largest minus smallest group mean absolute error.",
        "mean_absolute_error",
        (0.0, _INF),
        between=True,
    ),
    _declaration(
        "root_mean_squared_error_difference",
        "Largest minus smallest group root mean squared error.",
        "root_mean_squared_error",
        (0.0, _INF),
        between=True,
    ),
]
