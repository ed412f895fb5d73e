"""The kinds of reduction a compiled plan can ask for, each a function loaded when a plan needs it.

A reduction function is called as `function(datasets, spec, chunk_rows)`: `datasets`
maps each role of `spec.roles` to the bundle's `Dataset` for it, `spec` is the plan's
`ReductionSpec` (features and options), and `chunk_rows` bounds the rows read at once.
It returns the table the metric implementations read. It raises `EvidenceMissing`
when the bundle lacks what it needs (the checks that read it get status `error`),
`EvidenceInvalid` when the data contradicts the bundle's declarations, and
`EvidenceReadError` when a file cannot be read (both invalid input, exit 2).

A kind whose metrics declare no dataset role (`roles=()`) reads bundle.yaml itself, such as the
approvals or the model card: it is called as `function(bundle, spec, as_of)`, with the evaluation date.

The table has `rows_excluded` (rows no group holds, such as rows without a label)
and `features` (the columns whose values name its groups, or an empty tuple).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

REDUCTION_KINDS: dict[str, str] = {
    "group_confusion": "govdsl.evidence.reductions:reduce_for_plan",
    "model_card_sections": "govdsl.evidence.model_card:reduce_card_sections",
    "model_card_metadata": "govdsl.evidence.model_card:reduce_card_metadata",
    "approvals": "govdsl.evidence.approvals:reduce_approvals",
    "approval_age": "govdsl.evidence.approvals:reduce_approval_age",
    "attestations": "govdsl.evidence.attestations:reduce_attestations",
    "column_profile": "govdsl.evidence.quality_reductions:reduce_column_profile",
    "schema_profile": "govdsl.evidence.quality_reductions:reduce_schema_profile",
    "duplicate_rows": "govdsl.evidence.quality_reductions:reduce_duplicate_rows",
    "group_shares": "govdsl.evidence.quality_reductions:reduce_group_shares",
    "evidence_digests": "govdsl.evidence.quality_reductions:reduce_evidence_digests",
    "reported_metrics": "govdsl.evidence.quality_reductions:reduce_reported_metrics",
    "drift_histograms": "govdsl.evidence.histograms:reduce_drift",
    "favorable_confusion": "govdsl.evidence.favorable:reduce_favorable",
    "score_counts": "govdsl.evidence.score_reductions:reduce_scores",
    "probability_counts": "govdsl.evidence.score_reductions:reduce_probabilities",
    "regression_sums": "govdsl.evidence.score_reductions:reduce_regression",
}


def reduction_function(kind: str) -> Callable:
    module_name, function_name = REDUCTION_KINDS[kind].split(":")
    return getattr(importlib.import_module(module_name), function_name)
