"""Requirements on documents and process: a model card section, an approval, an evidence file with its digest."""

from __future__ import annotations

import datetime

from govdsl.compiler.plan import CheckSpec
from govdsl.engine import status as st
from govdsl.engine.expressions import Duration, Environment, Evaluator
from govdsl.engine.results import CheckResult
from govdsl.evidence.bundle import Bundle
from govdsl.evidence.model_card import STANDARD_SECTIONS, section_key, standard_title
from govdsl.metrics.process import assess, missing_approval_message, newest_valid


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
    """Find a card section with real text; a standard section's name also finds its usual headings."""
    card = environment.card
    if card is None:
        return st.ERROR, "the bundle declares no model card (`model_card` in bundle.yaml)", {}
    matches = card.lookup(subject)
    if not matches:
        found = ", ".join(dict.fromkeys(card.headings)) or "none"
        message = f"model card `{card.path}` has no section `{subject}` (sections: {found})"
        title = standard_title(subject)
        if title is not None:
            others = [h for h in STANDARD_SECTIONS[title] if section_key(h) != section_key(subject)]
            message += f"; other headings accepted for it: {', '.join(others)}"
        return st.FAIL, message, {"present": False}
    section = next((s for s in matches if not s.placeholder), None)
    if section is None:
        first = matches[0]
        where = "" if first.key == section_key(subject) else f" (heading `{first.heading}`, line {first.line})"
        details = {"present": True, "placeholder": True, "heading": first.heading, "line": first.line}
        return st.FAIL, f"section `{subject}`{where} of `{card.path}` is empty or only a placeholder", details
    words = section.words
    noun = "word" if words == 1 else "words"
    heading = "" if section.key == section_key(subject) else f" as `{section.heading}`"
    details = {"present": True, "placeholder": False, "heading": section.heading, "line": section.line, "words": words}
    return st.PASS, f"section `{subject}` of `{card.path}` is present{heading} ({words} {noun})", details


def _approval(role: str, within: Duration | None, bundle: Bundle, as_of: datetime.date):
    """Find the newest approval by the role that counts (see govdsl.metrics.process for the rules)."""
    within_days = None if within is None else within.days
    assessments = assess(bundle.model, bundle.approvals, role, as_of, within_days=within_days)
    details = {"approvals": [a.to_dict() for a in assessments]}
    newest = newest_valid(assessments)
    if newest is None:
        details["rejected"] = [f"{a.describe()}: {'; '.join(a.problems)}" for a in assessments]
        return st.FAIL, missing_approval_message(role, assessments, bundle.approvals), details
    details.update(approver=newest.name, date=newest.approval["date"], age_days=newest.age_days)
    message = f"approved by {newest.name} ({role}) on {newest.approval['date']}, {_days(newest.age_days)} ago"
    return st.PASS, message, details


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
