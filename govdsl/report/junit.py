"""Results as JUnit XML for CI pages: one test suite per policy, one test case per check.

A test case's classname is the control id and its name the check id, so CI tools
track each check across runs by the same ids that waivers and the audit log use.
Check statuses map to JUnit outcomes as `junit_outcome` defines; docs/results.md
lists the mapping. When --fail-on-regression blocks the gate, a `baseline` test
suite contains one failed test case per regression, so that a CI page shows a failure
even when every check passed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from govdsl.engine.results import CheckResult, ControlResult, Gate, Results
from govdsl.report.views import (
    Regression,
    baseline_source,
    format_number,
    format_threshold,
    gate_regressions,
    group_label,
    model_line,
    policy_names,
    status_summary,
)

PASSED, FAILURE, ERROR, SKIPPED = "passed", "failure", "error", "skipped"

# The name of the test suite that contains the regressions against the baseline, and the classname of its test cases.
BASELINE_SUITE = "baseline"

# Characters that XML 1.0 does not allow, even escaped.
_INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def junit_outcome(status: str, control: ControlResult, gate: Gate) -> str:
    """Map a check status to a JUnit outcome: passed, failure, error or skipped.

    Every check that did not pass in a waived control is skipped. Otherwise `fail`
    is a failure, and `insufficient` is one too unless it cannot block the gate
    (the control is advisory, or --allow-insufficient relaxed it), when it is
    skipped. `error` and `blocked` are errors, because the check could not be
    evaluated. `skipped` is skipped.
    """
    if status == "pass":
        return PASSED
    if control.status == "waived" or status == "waived":
        return SKIPPED
    if status == "fail":
        return FAILURE
    if status == "insufficient":
        relaxed = gate.insufficient_relaxed or control.enforcement == "advisory"
        return SKIPPED if relaxed else FAILURE
    if status in ("error", "blocked"):
        return ERROR
    return SKIPPED


def _outcome_type(status: str, control: ControlResult) -> str:
    """The `type` attribute of a JUnit outcome: the check status, or `waived` in a waived control."""
    return "waived" if control.status == "waived" else status


def _clean(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", text)


def _control_line(control: ControlResult) -> str:
    gate = "blocks the gate" if control.blocks_gate else "does not block the gate"
    return f"control {control.id}: {control.status} ({control.enforcement}, {control.severity}; {gate})"


def _check_details(check: CheckResult, control: ControlResult) -> str:
    lines = [f"check: {check.source}", f"status: {check.status}", _control_line(control), check.message]
    if check.value is not None or check.reason:
        threshold = format_threshold(check)
        value = format_number(check.value)
        lines.append(f"value: {value}" + (f" (threshold {threshold})" if threshold else ""))
        if check.metric_value is not None and check.metric_value != check.value:
            lines.append(f"{check.metric}: {format_number(check.metric_value)} (the value is {check.measured or 'a bound or aggregate of it'})")
    if check.reason:
        lines.append(f"reason: {check.reason}")
    for group in check.groups:
        values = ", ".join(f"{name} {format_number(value)}" for name, value in group.values.items())
        lines.append(f"group {group_label(group.group)} (n = {group.n}): {values}")
    if check.failing_groups:
        lines.append("failing groups: " + "; ".join(str(g.get("group")) for g in check.failing_groups))
    waiver = getattr(control, "waiver", None)
    if isinstance(waiver, dict):
        approver = waiver.get("approved_by") or {}
        lines.append(
            f"waived by {waiver.get('id')} ({approver.get('role')}, until {waiver.get('expires')}): {waiver.get('justification')}"
        )
    if control.remediation and check.status != "pass":
        lines.append(f"remediation: {control.remediation}")
    return "\n".join(lines)


def _message(check: CheckResult) -> str:
    threshold = format_threshold(check)
    if check.value is not None and threshold:
        return f"{check.message} (value {format_number(check.value)}, threshold {threshold})"
    return check.message


def _test_case(parent: ET.Element, control: ControlResult, check: CheckResult, gate: Gate) -> str:
    case = ET.SubElement(parent, "testcase", classname=_clean(control.id), name=_clean(check.id))
    outcome = junit_outcome(check.status, control, gate)
    if outcome != PASSED:
        message = _message(check)
        waiver = getattr(control, "waiver", None)
        if control.status == "waived" and isinstance(waiver, dict):
            message = f"{check.status} waived by `{waiver.get('id')}`: {message}"
        element = ET.SubElement(case, outcome, message=_clean(message), type=_outcome_type(check.status, control))
        element.text = _clean(_check_details(check, control))
    else:
        ET.SubElement(case, "system-out").text = _clean(_check_details(check, control))
    return outcome


def _regression_case(parent: ET.Element, regression: Regression, index: int, results: Results) -> None:
    """Add a failed test case for a regression, named after the control or check it concerns."""
    name = regression.subject or f"regression {index}"
    case = ET.SubElement(parent, "testcase", classname=BASELINE_SUITE, name=_clean(name))
    failure = ET.SubElement(case, FAILURE, message=_clean(regression.text), type="regression")
    lines = [f"regression (--fail-on-regression): {regression.text}", *regression.details]
    if results.baseline is not None:
        lines.append(f"baseline: {baseline_source(results.baseline)}")
    failure.text = _clean("\n".join(lines))


def _control_without_checks(control: ControlResult) -> CheckResult:
    """Stand in for the checks of a control that has none, so that the control still has a test case."""
    return CheckResult(id=control.id, kind="check", status=control.status, message=control.message, source="(no checks)")


def render_junit(results: Results) -> str:
    """Render results as a JUnit XML document (`testsuites` root) and return its text."""
    root = ET.Element("testsuites", name=_clean(f"govdsl: {policy_names(results)}"))
    totals = {"tests": 0, FAILURE: 0, ERROR: 0, SKIPPED: 0}
    suites: dict[str, ET.Element] = {}
    counts: dict[str, dict[str, int]] = {}
    for control in results.controls:
        policy = control.id.split(".", 1)[0]
        if policy not in suites:
            suites[policy] = ET.SubElement(root, "testsuite", name=_clean(policy))
            _properties(suites[policy], results)
            counts[policy] = {"tests": 0, FAILURE: 0, ERROR: 0, SKIPPED: 0}
        for check in control.checks or (_control_without_checks(control),):
            outcome = _test_case(suites[policy], control, check, results.gate)
            for tally in (counts[policy], totals):
                tally["tests"] += 1
                if outcome != PASSED:
                    tally[outcome] += 1
    regressions = gate_regressions(results)
    if regressions:
        # Kept apart from `suites`, which a policy named `baseline` would share.
        baseline_suite = ET.SubElement(root, "testsuite", name=BASELINE_SUITE)
        _properties(baseline_suite, results)
        for index, regression in enumerate(regressions, start=1):
            _regression_case(baseline_suite, regression, index, results)
        _set_counts(baseline_suite, {"tests": len(regressions), FAILURE: len(regressions), ERROR: 0, SKIPPED: 0})
        totals["tests"] += len(regressions)
        totals[FAILURE] += len(regressions)
    for policy, suite in suites.items():
        _set_counts(suite, counts[policy])
    _set_counts(root, totals)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _set_counts(element: ET.Element, tally: dict[str, int]) -> None:
    element.set("tests", str(tally["tests"]))
    element.set("failures", str(tally[FAILURE]))
    element.set("errors", str(tally[ERROR]))
    element.set("skipped", str(tally[SKIPPED]))


def _properties(suite: ET.Element, results: Results) -> None:
    gate = results.gate
    entries = {
        "gate": gate.decision,
        "blocking_controls": ", ".join(gate.blocking_controls),
        "regressions": "; ".join(gate.regressions),
        "controls": status_summary(results),
        "insufficient_relaxed": "yes" if gate.insufficient_relaxed else "no",
        "bundle": str(results.bundle.get("path", "")),
        "model": model_line(results),
        "as_of": results.as_of,
        "govdsl_version": results.govdsl_version,
    }
    properties = ET.SubElement(suite, "properties")
    for name, value in entries.items():
        ET.SubElement(properties, "property", name=name, value=_clean(value))
