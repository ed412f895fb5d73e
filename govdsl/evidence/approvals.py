"""Reductions of a bundle's approvals: what the process metrics read, as of the evaluation date.

These reductions read no dataset. They are called as `function(bundle, spec, as_of)`
(see `govdsl.evidence.kinds`) and return a table with the model's fields, the
approvals in bundle.yaml and the evaluation date.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from govdsl.evidence.bundle import Bundle
from govdsl.evidence.reductions import EvidenceMissing
from govdsl.metrics.process import APPROVAL_FEATURES, assess, missing_approval_message, newest_valid


@dataclass(frozen=True)
class ApprovalTable:
    model: dict
    approvals: tuple[dict, ...]
    as_of: datetime.date
    features: tuple[str, ...] = APPROVAL_FEATURES
    rows_excluded: int = 0


def reduce_approvals(bundle: Bundle, spec, as_of: datetime.date) -> ApprovalTable:
    return ApprovalTable(bundle.model, tuple(bundle.approvals), as_of)


def reduce_approval_age(bundle: Bundle, spec, as_of: datetime.date) -> ApprovalTable:
    """Return the approvals; raise EvidenceMissing when none by the role counts, so the check is `error`.

    An age of no approval is not a number, and a missing approval must block the gate
    even where `--allow-insufficient` relaxes undefined values.
    """
    role = spec.option("role")
    assessments = assess(bundle.model, bundle.approvals, role, as_of, accept_conditional=spec.option("accept_conditional", False))
    if newest_valid(assessments) is None:
        raise EvidenceMissing(missing_approval_message(role, assessments, bundle.approvals))
    return ApprovalTable(bundle.model, tuple(bundle.approvals), as_of)
