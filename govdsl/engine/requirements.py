"""Requirements on documents and process: a model card section, an approval, an evidence file with its digest."""

from __future__ import annotations

import datetime

from govdsl.compiler.plan import CheckSpec
from govdsl.engine import status as st
from govdsl.engine.expressions import Duration, Environment, Evaluator
from govdsl.engine.results import CheckResult
from govdsl.evidence.bundle import Bundle


def evaluate_requirement(spec: CheckSpec, bundle: Bundle, environment: Environment) -> CheckResult:
    requirement = spec.requirement
    kind = requirement["kind"]
    if kind == "card_section":
        status, message, details = _card_section(requirement["subject"], environment)
    elif kind == "approval":
        within = None
        if requirement["within"] is not None:
            within = Evaluator(environment).evaluate(requirement["within"])
        status, message, details = _approval(requirement["subject"], within, bundle, environment.as_of)
    else:
        status, message, details = _evidence(requirement["subject"], bundle)
    reason = message if status == st.ERROR else None
    return CheckResult(
        id=spec.id,
        kind="require",
        status=status,
        message=message,
        source=spec.source,
        reason=reason,
        requirement={"kind": kind, "subject": requirement["subject"], **details},
    )


def _card_section(subject: str, environment: Environment):
    card = environment.card
    if card is None:
        return st.ERROR, "the bundle declares no model card (`model_card` in bundle.yaml)", {}
    from govdsl.evidence.model_card import section_key

    key = section_key(subject)
    if key not in card.sections:
        found = ", ".join(card.headings.values()) or "none"
        return st.FAIL, f"model card `{card.path}` has no section `{subject}` (sections: {found})", {"present": False}
    text = card.section(subject)
    if text is None:
        return st.FAIL, f"section `{subject}` of `{card.path}` is empty or only a placeholder", {"present": True, "placeholder": True}
    words = len(text.split())
    noun = "word" if words == 1 else "words"
    return st.PASS, f"section `{subject}` of `{card.path}` is present ({words} {noun})", {"present": True, "placeholder": False}


def _approval(role: str, within: Duration | None, bundle: Bundle, as_of: datetime.date):
    version = bundle.model.get("version")
    developers = {name.strip().lower() for name in bundle.model.get("developers", [])}
    candidates = [a for a in bundle.approvals if a.get("role") == role]
    if not candidates:
        roles = ", ".join(sorted({a.get("role", "?") for a in bundle.approvals})) or "none"
        return st.FAIL, f"no approval by role `{role}` (roles with approvals: {roles})", {"approvals": []}
    problems = []
    for approval in candidates:
        issues = []
        if approval.get("decision") != "approved":
            issues.append(f"decision is `{approval.get('decision')}`")
        if approval.get("model_version") is None:
            issues.append(f"it names no model version, so it cannot be bound to version `{version}`")
        elif approval.get("model_version") != version:
            issues.append(f"it approves version `{approval.get('model_version')}`, not `{version}`")
        if approval.get("name", "").strip().lower() in developers:
            issues.append("the approver is one of the model's developers")
        date = datetime.date.fromisoformat(approval["date"])
        age = (as_of - date).days
        if age < 0:
            issues.append(f"it is dated {approval['date']}, after the evaluation date {as_of.isoformat()}")
        elif within is not None and age > within.days:
            issues.append(f"it is {_days(age)} old, more than {_days(within.days)}")
        if not issues:
            detail = {"approver": approval.get("name"), "date": approval["date"], "age_days": age}
            return st.PASS, f"approved by {approval.get('name')} ({role}) on {approval['date']}, {_days(age)} ago", detail
        problems.append(f"{approval.get('name')} on {approval['date']}: {'; '.join(issues)}")
    return st.FAIL, f"no valid approval by role `{role}`: " + " | ".join(problems), {"rejected": problems}


def _days(count: float) -> str:
    return f"{count:g} day" if count == 1 else f"{count:g} days"


def _evidence(name: str, bundle: Bundle):
    dataset = bundle.datasets.get(name)
    if dataset is None:
        return st.FAIL, f"the bundle declares no dataset `{name}` (datasets: {', '.join(bundle.datasets) or 'none'})", {}
    if dataset.declared_sha256 is None:
        return st.FAIL, f"dataset `{name}` declares no `sha256`, so its file cannot be verified", {"file": dataset.relative_path}
    # The loader has already rejected a file whose digest differs from the declared one.
    return st.PASS, f"`{dataset.relative_path}` is present and matches its SHA-256", {"file": dataset.relative_path, "sha256": dataset.sha256}
