"""Approvals and independent validation: which approvals in bundle.yaml count, and the process metrics.

An approval by a role counts for the model when all of these hold:

- its decision is `approved` (or `conditional`, where the caller accepts conditions);
- it names the model's version in `model_version`;
- neither the approver nor the approver's `team` is listed in `model.developers`
  (separation of duties), and, for an independent validation, neither is `model.owner`;
- it is dated on or before the evaluation date, and within the age limit if one is given;
- no later decision of the same role on the same version replaces it: a `rejected`
  decision (or a `conditional` one, where conditions are not accepted) dated after it,
  or on the same day but listed after it in bundle.yaml.

Names compare without regard to case and repeated spaces.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from govdsl.metrics.records import RecordTally, same_text
from govdsl.metrics.values import GroupValues, MetricValue

# The features of the rows a process metric reports: one row per approval.
APPROVAL_FEATURES = ("role", "approver", "date", "finding")
VALID = "valid"


@dataclass(frozen=True)
class Assessment:
    """One approval in bundle.yaml and what keeps it from counting (nothing, when it is valid)."""

    approval: dict
    index: int  # position in the bundle's `approvals` list
    date: datetime.date | None  # None when `date` is not a valid date
    age_days: int | None  # days from its date to the evaluation date; negative when dated later
    problems: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def name(self) -> str:
        return str(self.approval.get("name", "?"))

    def describe(self) -> str:
        return f"{self.name} on {self.approval.get('date')}"

    def row(self, rates: dict) -> GroupValues:
        finding = VALID if self.valid else "; ".join(self.problems)
        key = (str(self.approval.get("role")), self.name, str(self.approval.get("date")), finding)
        return GroupValues(key, RecordTally("approvals"), rates)

    def to_dict(self) -> dict:
        data = {key: self.approval.get(key) for key in ("role", "name", "team", "decision", "date", "model_version")}
        data.update(age_days=self.age_days, valid=self.valid, problems=list(self.problems))
        return data


def _date(approval: dict) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(approval.get("date")))
    except ValueError:
        return None


def _days(count: float) -> str:
    return f"{count:g} day" if count == 1 else f"{count:g} days"


def _decision_problem(approval: dict, accepted: tuple[str, ...]) -> str | None:
    decision = approval.get("decision")
    if decision in accepted:
        return None
    note = approval.get("note")
    return f"decision is `{decision}`" + (f' (note: "{note}")' if note else "")


def _duty_problems(approval: dict, model: dict, independent: bool) -> list[str]:
    """Return the separation-of-duties problems: the approver or their team developed (or owns) the model."""
    name, team = approval.get("name"), approval.get("team")
    developers = [str(d) for d in model.get("developers", [])]
    owner = model.get("owner")
    problems = []
    if any(same_text(name, developer) for developer in developers):
        problems.append("the approver is one of the model's developers")
    elif any(same_text(team, developer) for developer in developers):
        problems.append(f"the approver's team `{team}` is listed among the model's developers")
    if independent and same_text(name, owner):
        problems.append("the validator is the model's owner")
    elif independent and same_text(team, owner):
        problems.append(f"the validator's team `{team}` is the model's owner")
    return problems


def _replacement(
    index: int, date: datetime.date, decisions: list[tuple[int, dict, datetime.date]], accepted: tuple[str, ...]
) -> str | None:
    """Return the problem of the approval at `index` when a later decision of its role replaces it, or None."""
    for other_index, other, other_date in decisions:
        is_later = other_date > date or (other_date == date and other_index > index)
        if is_later and other.get("decision") not in accepted:
            return (
                f"a later decision replaces it: `{other.get('decision')}` by {other.get('name')} on {other.get('date')}"
            )
    return None


def assess(
    model: dict,
    approvals: tuple[dict, ...] | list[dict],
    role: str,
    as_of: datetime.date,
    *,
    within_days: float | None = None,
    accept_conditional: bool = False,
    independent: bool = False,
) -> list[Assessment]:
    """Assess every approval by `role` against the rules in this module's docstring, in bundle order."""
    version = model.get("version")
    accepted = ("approved", "conditional") if accept_conditional else ("approved",)
    candidates = [(index, a) for index, a in enumerate(approvals) if a.get("role") == role]
    # Decisions that can replace an earlier approval: same role and version, dated, not after the evaluation date.
    decisions = [
        (index, a, _date(a))
        for index, a in candidates
        if a.get("model_version") == version and _date(a) is not None and _date(a) <= as_of
    ]
    assessments = []
    for index, approval in candidates:
        problems = []
        decision = _decision_problem(approval, accepted)
        if decision:
            problems.append(decision)
        if approval.get("model_version") is None:
            problems.append(f"it names no model version, so it cannot be bound to version `{version}`")
        elif approval.get("model_version") != version:
            problems.append(f"it approves version `{approval.get('model_version')}`, not `{version}`")
        problems.extend(_duty_problems(approval, model, independent))
        date = _date(approval)
        age = None if date is None else (as_of - date).days
        if date is None:
            problems.append(f"its date `{approval.get('date')}` is not a valid date (YYYY-MM-DD)")
        elif age < 0:
            problems.append(f"it is dated {approval['date']}, after the evaluation date {as_of.isoformat()}")
        elif within_days is not None and age > within_days:
            problems.append(f"it is {_days(age)} old, more than {_days(within_days)}")
        if not problems:
            replaced = _replacement(index, date, decisions, accepted)
            if replaced:
                problems.append(replaced)
        assessments.append(Assessment(approval, index, date, age, tuple(problems)))
    return assessments


def newest_valid(assessments: list[Assessment]) -> Assessment | None:
    valid = [a for a in assessments if a.valid]
    return min(valid, key=lambda a: (a.age_days, -a.index)) if valid else None


def missing_approval_message(role: str, assessments: list[Assessment], approvals, noun: str = "approval") -> str:
    """Describe why no approval by `role` counts: none exists, or each one's problems."""
    if not assessments:
        roles = ", ".join(sorted({str(a.get("role", "?")) for a in approvals})) or "none"
        return f"no {noun} by role `{role}` (roles with approvals: {roles})"
    problems = " | ".join(f"{a.describe()}: {'; '.join(a.problems)}" for a in assessments)
    return f"no valid {noun} by role `{role}`: {problems}"


# Metric implementations, called as function(table, arguments). The tables come from
# govdsl.evidence.approvals and hold `model`, `approvals` and `as_of`.


def approval_age_days(table, arguments: dict) -> MetricValue:
    """Days from the newest valid approval by the role to the evaluation date."""
    role = arguments["role"]
    assessments = assess(
        table.model, table.approvals, role, table.as_of, accept_conditional=arguments.get("accept_conditional", False)
    )
    newest = newest_valid(assessments)
    rows = tuple(a.row({"age_days": a.age_days}) for a in assessments)
    details = {
        "role": role,
        "as_of": table.as_of.isoformat(),
        "accept_conditional": bool(arguments.get("accept_conditional", False)),
        "approvals": [a.to_dict() for a in assessments],
    }
    if newest is None:
        # The reduction raises EvidenceMissing first; this covers a table built another way.
        return MetricValue(None, missing_approval_message(role, assessments, table.approvals), groups=rows, details=details)
    details["approval"] = newest.to_dict()
    return MetricValue(newest.age_days, groups=rows, details=details)


def independent_validations(table, arguments: dict) -> MetricValue:
    """Number of valid validations of this model version by the role, each independent of development and ownership."""
    role = arguments.get("role", "validator")
    assessments = assess(
        table.model,
        table.approvals,
        role,
        table.as_of,
        accept_conditional=arguments.get("accept_conditional", False),
        independent=True,
    )
    count = sum(1 for a in assessments if a.valid)
    details = {
        "role": role,
        "as_of": table.as_of.isoformat(),
        "accept_conditional": bool(arguments.get("accept_conditional", False)),
        "validations": [a.to_dict() for a in assessments],
    }
    if not assessments:
        details["note"] = missing_approval_message(role, assessments, table.approvals, "validation")
    rows = tuple(a.row({"independent_and_valid": 1.0 if a.valid else 0.0}) for a in assessments)
    return MetricValue(count, groups=rows, details=details)


def self_approvals(table, arguments: dict) -> MetricValue:
    """Number of approvals of this model version, by any role, given by its developers or their teams."""
    version = table.model.get("version")
    rows = []
    offending = []
    for index, approval in enumerate(table.approvals):
        if approval.get("model_version") != version or approval.get("decision") not in ("approved", "conditional"):
            continue
        problems = _duty_problems(approval, table.model, independent=False)
        if problems:
            date = _date(approval)
            age = None if date is None else (table.as_of - date).days
            assessment = Assessment(approval, index, date, age, tuple(problems))
            offending.append(assessment.to_dict())
            rows.append(assessment.row({}))
    details = {"model_version": version, "developers": list(table.model.get("developers", [])), "self_approvals": offending}
    return MetricValue(len(offending), groups=tuple(rows), details=details)
