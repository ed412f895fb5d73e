"""Process metrics: approval age, independent validation and separation of duties, read from bundle.yaml."""

from __future__ import annotations

from govdsl.metrics.declaration import BOOL, STRING, MetricDeclaration, Parameter, mark_integer_valued

_IMPL = "govdsl.metrics.process"

_RULES = (
    "an approval counts when its decision is `approved`, it names the model's `version` in `model_version`,"
    " neither the approver nor their `team` is in `model.developers`, it is dated on or before the evaluation"
    " date, and no later `rejected` or `conditional` decision of the same role on the same version replaces it"
)
_ROWS = "each row is one approval by the role, with its finding: `valid` or what keeps it from counting"

ACCEPT_CONDITIONAL = Parameter(
    "accept_conditional",
    BOOL,
    False,
    "Count a `conditional` decision as an approval; by default only `approved` counts.",
)

_COMMON = dict(kind="overall", family="process", roles=(), calling="arguments")

DECLARATIONS = [
    MetricDeclaration(
        name="approval_age_days",
        summary="Days from the newest valid approval by a role to the evaluation date (`--as-of`).",
        components=("age_days",),
        value_range=(0.0, float("inf")),
        reduction="approval_age",
        implementation=f"{_IMPL}:approval_age_days",
        parameters=(
            Parameter("role", STRING, True, "The approver role, as written in `approvals[].role` of bundle.yaml."),
            ACCEPT_CONDITIONAL,
        ),
        better="lower",
        reduction_arguments=("role", "accept_conditional"),
        edge_cases=(
            _RULES,
            "without a valid approval by the role the check is `error`, and the message lists each approval"
            " of the role with its problems; `--allow-insufficient` does not relax it",
            "an approval dated on the evaluation date is 0 days old; one dated later does not count",
        ),
        limitations=(_ROWS, "`require approval \"ROLE\" within 90d` checks the same rules with a fixed limit"),
        **_COMMON,
    ),
    MetricDeclaration(
        name="independent_validations",
        summary=(
            "Number of valid validations of this model version by a validator independent of the model:"
            " neither the validator nor their `team` is among `model.developers` or is `model.owner`."
        ),
        components=("independent_and_valid",),
        value_range=(0.0, float("inf")),
        reduction="approvals",
        implementation=f"{_IMPL}:independent_validations",
        parameters=(
            Parameter(
                "role",
                STRING,
                False,
                "The validator role, as written in `approvals[].role` of bundle.yaml; default `validator`.",
            ),
            ACCEPT_CONDITIONAL,
        ),
        better="higher",
        edge_cases=(
            _RULES + "; a validation also fails independence when the validator or their team is the model's owner",
            "no validation by the role gives 0, not an undefined value",
        ),
        limitations=(
            _ROWS,
            "independence is judged from names and teams in bundle.yaml; reporting lines are not modelled",
        ),
        **_COMMON,
    ),
    MetricDeclaration(
        name="self_approvals",
        summary=(
            "Number of approvals of this model version, by any role, given by one of the model's developers"
            " or by a team listed among them (a separation-of-duties breach)."
        ),
        components=(),
        value_range=(0.0, float("inf")),
        reduction="approvals",
        implementation=f"{_IMPL}:self_approvals",
        better="lower",
        edge_cases=(
            "approvals of other model versions and `rejected` decisions are not counted",
            "a bundle without `model.developers` has no developers, so the value is 0",
        ),
        limitations=("each row is one self-approval", "names compare without case or repeated spaces, so spell them alike"),
        **_COMMON,
    ),
]

# Counts of rows, values, files or days, and 0/1 indicators: `==` compares them exactly.
DECLARATIONS = mark_integer_valued(DECLARATIONS, {"approval_age_days", "independent_validations", "self_approvals"})
