"""Attestations: which recorded statements in bundle.yaml count for a subject and role, and the attestation metrics.

An attestation of a subject by a role counts (is *current*) on the evaluation date
when all of these hold:

- its `subject` equals the requested subject, ignoring case and repeated spaces;
- its `attested_by.role` equals the requested role exactly;
- it is dated on or before the evaluation date, and `expires` is on or after it,
  so the attestation still counts on its expiry day and no longer the day after;
- where it names a `model_version`, that is the model's `version`.

Attestations record procedural obligations that no check on data can show, such
as human oversight arrangements. govdsl verifies that a statement exists, is in
force and comes from the named role; it cannot verify that the statement is true.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from govdsl.metrics.records import RecordTally, same_text
from govdsl.metrics.values import GroupValues, MetricValue

# The features of the rows an attestation metric reports: one row per attestation of the subject.
ATTESTATION_FEATURES = ("id", "role", "attested_by", "date", "expires", "finding")
CURRENT = "current"


@dataclass(frozen=True)
class Assessment:
    """One attestation of the subject and what keeps it from counting (nothing, when it is current)."""

    attestation: dict
    index: int  # position in the bundle's `attestations` list
    expires: datetime.date | None
    problems: tuple[str, ...]

    @property
    def current(self) -> bool:
        return not self.problems

    @property
    def role(self) -> str:
        return str(_attester(self.attestation).get("role", "?"))

    @property
    def name(self) -> str:
        return str(_attester(self.attestation).get("name", "?"))

    def row(self, component: str, value: float | None) -> GroupValues:
        finding = CURRENT if self.current else "; ".join(self.problems)
        attestation = self.attestation
        key = (
            str(attestation.get("id")),
            self.role,
            self.name,
            str(attestation.get("date")),
            str(attestation.get("expires")),
            finding,
        )
        return GroupValues(key, RecordTally("attestations"), {component: value})

    def to_dict(self) -> dict:
        data = {key: self.attestation.get(key) for key in ("id", "subject", "statement", "date", "expires", "evidence")}
        data.update(
            attested_by=dict(_attester(self.attestation)),
            model_version=self.attestation.get("model_version"),
            current=self.current,
            problems=list(self.problems),
        )
        return data


def _attester(attestation: dict) -> dict:
    attester = attestation.get("attested_by")
    return attester if isinstance(attester, dict) else {}


def _date(value: object) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        return None


def of_subject(attestations, subject: str) -> list[tuple[int, dict]]:
    """Return the attestations of a subject with their positions in bundle.yaml."""
    return [(index, a) for index, a in enumerate(attestations) if same_text(a.get("subject"), subject)]


def assess(model: dict, attestations, subject: str, role: str, as_of: datetime.date) -> list[Assessment]:
    """Assess every attestation of `subject` against the rules in this module's docstring, in bundle order."""
    version = model.get("version")
    assessments = []
    for index, attestation in of_subject(attestations, subject):
        problems = []
        attested_role = _attester(attestation).get("role")
        if attested_role != role:
            problems.append(f"role `{attested_role}`, not `{role}`")
        attested_version = attestation.get("model_version")
        if attested_version is not None and attested_version != version:
            problems.append(f"about version `{attested_version}`, not `{version}`")
        date, expires = _date(attestation.get("date")), _date(attestation.get("expires"))
        if date is None:
            problems.append(f"date `{attestation.get('date')}` is not a valid date (YYYY-MM-DD)")
        elif date > as_of:
            problems.append(f"dated {date.isoformat()}, after the evaluation date")
        if expires is None:
            problems.append(f"expiry `{attestation.get('expires')}` is not a valid date (YYYY-MM-DD)")
        elif expires < as_of:
            problems.append(f"expired on {expires.isoformat()}")
        assessments.append(Assessment(attestation, index, expires, tuple(problems)))
    return assessments


def missing_attestation_message(subject: str, attestations) -> str:
    """Describe a bundle that records no attestation of `subject`, with the subjects it does record."""
    subjects = sorted({str(a.get("subject")) for a in attestations})
    if not subjects:
        return f"bundle.yaml records no attestations, so none of `{subject}`; add one under `attestations`"
    return f"bundle.yaml records no attestation of `{subject}` (subjects attested: {', '.join(subjects)})"


def no_current_message(subject: str, role: str, as_of: datetime.date, assessments: list[Assessment]) -> str:
    """Describe why no attestation of `subject` by `role` is current, naming each candidate's problems."""
    problems = " | ".join(f"{a.attestation.get('id')} by {a.name}: {'; '.join(a.problems)}" for a in assessments)
    return f"no current attestation of `{subject}` by role `{role}` on {as_of.isoformat()}: {problems}"


def _newest_current(assessments: list[Assessment]) -> Assessment | None:
    """Return the current attestation that expires last, the latest listed among equals."""
    current = [a for a in assessments if a.current]
    return max(current, key=lambda a: (a.expires, a.index)) if current else None


def _details(arguments: dict, table, assessments: list[Assessment]) -> dict:
    return {
        "subject": arguments["subject"],
        "role": arguments["role"],
        "as_of": table.as_of.isoformat(),
        "attestations": [a.to_dict() for a in assessments],
    }


# Metric implementations, called as function(table, arguments). The tables come from
# govdsl.evidence.attestations and hold `model`, `attestations` and `as_of`. The
# reduction raises EvidenceMissing when the bundle records no attestation of the subject.


def attestation(table, arguments: dict) -> MetricValue:
    """1 when a current attestation of the subject by the role exists, else 0; one row per attestation of the subject."""
    assessments = assess(table.model, table.attestations, arguments["subject"], arguments["role"], table.as_of)
    newest = _newest_current(assessments)
    details = _details(arguments, table, assessments)
    rows = tuple(a.row("current", 1.0 if a.current else 0.0) for a in assessments)
    if newest is None:
        if assessments:
            details["note"] = no_current_message(arguments["subject"], arguments["role"], table.as_of, assessments)
        else:
            details["note"] = missing_attestation_message(arguments["subject"], table.attestations)
        return MetricValue(0, groups=rows, details=details)
    details["attestation"] = newest.to_dict()
    return MetricValue(1, groups=rows, details=details)


def attestation_days_to_expiry(table, arguments: dict) -> MetricValue:
    """Days from the evaluation date to the last day of the current attestation that expires last."""
    assessments = assess(table.model, table.attestations, arguments["subject"], arguments["role"], table.as_of)
    newest = _newest_current(assessments)
    details = _details(arguments, table, assessments)
    if newest is None:
        rows = tuple(a.row("days_to_expiry", None) for a in assessments)
        if assessments:
            reason = no_current_message(arguments["subject"], arguments["role"], table.as_of, assessments)
        else:
            reason = missing_attestation_message(arguments["subject"], table.attestations)
        return MetricValue(None, reason, groups=rows, details=details)
    rows = tuple(
        a.row("days_to_expiry", float((a.expires - table.as_of).days) if a.current else None) for a in assessments
    )
    details["attestation"] = newest.to_dict()
    return MetricValue((newest.expires - table.as_of).days, groups=rows, details=details)
