"""Attestation metrics: recorded statements in bundle.yaml that an obligation is met, by a named role, in force on a date."""

from __future__ import annotations

from govdsl.metrics.declaration import STRING, MetricDeclaration, Parameter, mark_integer_valued

_IMPL = "govdsl.metrics.attestation"

SUBJECT = Parameter(
    "subject",
    STRING,
    True,
    "The clause or topic attested, as written in `attestations[].subject` of bundle.yaml, such as"
    ' "EU-AI-ACT:Art.14(4)"; compared without regard to case and repeated spaces.',
)
ROLE = Parameter(
    "role",
    STRING,
    True,
    "The role that must attest, as written in `attestations[].attested_by.role` of bundle.yaml; compared exactly.",
)

_RULES = (
    "an attestation counts (is current) when its subject matches, `attested_by.role` is the role, it is dated on"
    " or before the evaluation date, `expires` is on or after it, and any `model_version` it names is the model's"
    " `version`"
)
_MISSING = (
    "a bundle that records no attestation of the subject makes the check `error` (missing evidence), and the"
    " message lists the subjects it does record; `--allow-insufficient` does not relax it"
)
_ROWS = (
    "each row is one attestation of the subject, by any role, with its finding: `current` or what keeps it from"
    " counting"
)
_TRUTH = (
    "govdsl checks that a statement is recorded, in force and made in the named role; it cannot check that the"
    " statement is true, so an attestation shows accountability, not evidence"
)

_COMMON = dict(
    kind="overall",
    family="attestation",
    roles=(),
    calling="arguments",
    reduction="attestations",
    reduction_arguments=("subject",),
    parameters=(SUBJECT, ROLE),
)

DECLARATIONS = [
    MetricDeclaration(
        name="attestation",
        summary=(
            "1 when bundle.yaml records a current attestation of the subject by the role: dated on or before the"
            " evaluation date (`--as-of`) and expiring on or after it; 0 when the subject is attested but no"
            " attestation counts."
        ),
        components=("current",),
        value_range=(0.0, 1.0),
        implementation=f"{_IMPL}:attestation",
        better="higher",
        edge_cases=(
            _RULES,
            "an attestation counts on its expiry day and no longer the day after; one dated after the evaluation"
            " date does not count yet",
            "an attestation of the subject by another role, an expired one, or one about another model version"
            " gives 0, so `attestation(...) >= 1` fails and the report lists each attestation with its problems",
            _MISSING,
        ),
        limitations=(
            _ROWS,
            _TRUTH,
            "an attestation of a parent clause does not count for its points: the subject must match exactly",
        ),
        **_COMMON,
    ),
    MetricDeclaration(
        name="attestation_days_to_expiry",
        summary=(
            "Days from the evaluation date (`--as-of`) to the last day of the current attestation of the subject"
            " by the role that expires last; 0 on its expiry day."
        ),
        components=("days_to_expiry",),
        value_range=(0.0, float("inf")),
        implementation=f"{_IMPL}:attestation_days_to_expiry",
        better="higher",
        edge_cases=(
            _RULES,
            "without a current attestation the value is undefined and the check is `insufficient`, with each"
            " attestation's problems as the reason; pair it with `attestation(...) >= 1`, which fails in that case",
            _MISSING,
        ),
        limitations=(
            _ROWS,
            "meant for an advisory control that warns before an attestation lapses, such as"
            " `attestation_days_to_expiry(...) >= 30`",
        ),
        **_COMMON,
    ),
]

# Counts of rows, values, files or days, and 0/1 indicators: `==` compares them exactly.
DECLARATIONS = mark_integer_valued(DECLARATIONS, {"attestation", "attestation_days_to_expiry"})
