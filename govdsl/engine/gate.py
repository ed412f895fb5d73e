"""The gate rule and waivers: whether a control blocks the gate, and whether a waiver may cover it.

Both are pure functions of the control's enforcement and status, the waiver, the
model under evaluation and the evaluation date, so they are tested as decision tables.

Waiver rules:
- a waiver covers a control of the plan, for a model id and version it names;
- it is in force from its approval date through its expiry date, both days included:
  on the expiry day it still applies, on the day after it does not;
- its approver's role must be one the control lists in `waivable_by` (or the policy's
  default); a `hard` control that lists no role cannot be waived, while a `soft` or
  `advisory` control that lists none accepts any role;
- it changes only a status that would block: `fail`, `error`, `blocked` or
  `insufficient` become `waived`; on a passing or skipped control it is unused.
"""

from __future__ import annotations

import datetime
import difflib
from dataclasses import dataclass

from govdsl.engine import status as st

APPLIED = "applied"
UNUSED = "unused"
EXPIRED = "expired"
NOT_YET_VALID = "not_yet_valid"
ROLE_NOT_ALLOWED = "role_not_allowed"
NOT_WAIVABLE = "not_waivable"
UNKNOWN_CONTROL = "unknown_control"
OTHER_MODEL = "other_model"

# States that mean the waiver file asks for something the run refused: reported as warnings.
REFUSED = frozenset({EXPIRED, NOT_YET_VALID, ROLE_NOT_ALLOWED, NOT_WAIVABLE, UNKNOWN_CONTROL})


@dataclass(frozen=True)
class WaiverOutcome:
    waiver: object  # govdsl.evidence.waivers.Waiver
    state: str
    reason: str

    def to_dict(self) -> dict:
        return {**self.waiver.to_dict(), "state": self.state, "reason": self.reason}


def blocks(enforcement: str, status: str, allow_insufficient: bool) -> bool:
    """Whether a control with this enforcement and (final) status blocks the gate."""
    if enforcement == "advisory" or status not in st.BLOCKING:
        return False
    return not (allow_insufficient and status == st.INSUFFICIENT)


def waived_status(status: str, waiver_in_force: bool) -> str:
    """The status after waivers: a blocking status covered by a waiver in force becomes `waived`."""
    if waiver_in_force and status in st.BLOCKING:
        return st.WAIVED
    return status


def refusal(waiver, control, model_id: str, version: str, as_of: datetime.date, control_ids=()) -> tuple[str, str] | None:
    """Return (state, reason) when the waiver cannot cover its control in this run, else None.

    `control` is the plan's ControlSpec for `waiver.control`, or None when the plan has
    no such control; `control_ids` are the plan's controls, for a suggestion.
    """
    if control is None:
        close = difflib.get_close_matches(waiver.control, list(control_ids), n=1)
        hint = f"; did you mean `{close[0]}`?" if close else ""
        return UNKNOWN_CONTROL, f"the policies have no control `{waiver.control}`{hint}"
    if not waiver.covers(model_id, version):
        scopes = "; ".join(f"{m.id} {', '.join(m.versions) or 'every version'}" for m in waiver.models)
        return OTHER_MODEL, f"it covers {scopes}, not model `{model_id}` version `{version}`"
    if as_of < waiver.approved_on:
        return NOT_YET_VALID, f"it was approved on {waiver.approved_on.isoformat()}, after the evaluation date {as_of.isoformat()}"
    if as_of > waiver.expires:
        return EXPIRED, f"it expired on {waiver.expires.isoformat()} (evaluation date {as_of.isoformat()})"
    allowed = tuple(control.waivable_by)
    if control.enforcement == "hard" and not allowed:
        return NOT_WAIVABLE, f"`{control.id}` is a hard control that lists no role allowed to waive it"
    if allowed and waiver.approver_role not in allowed:
        return (
            ROLE_NOT_ALLOWED,
            f"approver role `{waiver.approver_role}` may not waive `{control.id}` (allowed: {', '.join(allowed)})",
        )
    return None
