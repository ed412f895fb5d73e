"""Statuses of checks, controls and clauses, and the rules that combine them."""

from __future__ import annotations

PASS = "pass"
FAIL = "fail"
ERROR = "error"
INSUFFICIENT = "insufficient"
SKIPPED = "skipped"
BLOCKED = "blocked"
WAIVED = "waived"

ALL = (PASS, FAIL, ERROR, INSUFFICIENT, SKIPPED, BLOCKED, WAIVED)

# Statuses of a soft or hard control that block the gate unless a waiver covers them.
BLOCKING = frozenset({FAIL, ERROR, BLOCKED, INSUFFICIENT})


def combine_checks(statuses: list[str]) -> str:
    """Combine check statuses into a control's status: a failure wins over an error, an error over `insufficient`.

    A control without checks shows nothing, so it is `insufficient`.
    """
    if not statuses:
        return INSUFFICIENT
    for status in (FAIL, ERROR, INSUFFICIENT):
        if status in statuses:
            return status
    return PASS


def combine_clause(statuses: list[str]) -> str:
    """Combine the statuses of the controls that map to a clause into the clause's status.

    Any mapped control that fails, errs or is blocked makes the clause `fail`. Otherwise
    any `insufficient` control makes it `insufficient`. A clause whose controls all pass
    or are waived passes, and one whose controls are all skipped is `skipped`.
    """
    if any(s in (FAIL, ERROR, BLOCKED) for s in statuses):
        return FAIL
    if INSUFFICIENT in statuses:
        return INSUFFICIENT
    if statuses and all(s == SKIPPED for s in statuses):
        return SKIPPED
    if any(s in (PASS, WAIVED) for s in statuses):
        return PASS
    return "uncovered"
