"""Results as a plain-text report for a terminal or a CI log: controls, clause matrix, gate decision."""

from __future__ import annotations

from govdsl.engine.results import CheckResult, ControlResult, GroupResult, Results
from govdsl.report.views import INTERVAL_METHODS as _METHODS
from govdsl.report.views import group_fraction


def _number(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.4f}"


def _bounds(interval: dict | None) -> str:
    """Format interval bounds to follow a value, such as ` [0.3987, 0.4485]`, or nothing without an interval."""
    if not interval:
        return ""
    return f" [{_number(interval['low'])}, {_number(interval['high'])}]"


def _rate_cell(group: GroupResult, component: str, favorable: str | None = None) -> str:
    """Format a group's rate with its interval and the counts behind it, such as `0.4234 [0.3987, 0.4485] (641/1514)`."""
    text = _number(group.values[component]) + _bounds(group.intervals.get(component))
    fraction = group_fraction(group, component, favorable)
    if fraction is None:
        return text
    return f"{text} ({fraction[0]}/{fraction[1]})"


def _interval_line(check: CheckResult) -> str | None:
    """Describe the confidence interval of the check's value, with the level, the method and the groups compared."""
    interval = check.details.get("interval")
    # The interval belongs to the metric's own value, which differs from the compared value in `lower(...)` checks.
    estimate = check.metric_value if check.metric_value is not None else check.value
    if not isinstance(interval, dict) or interval.get("method") not in _METHODS or estimate is None:
        return None
    level = f"{check.details.get('confidence', 0.95) * 100:g}%"
    compared = ""
    if "group" in interval:
        group = ", ".join(f"{k}={v}" for k, v in interval["group"].items())
        other = interval["compared_with"]
        other = "the overall rate" if other == "overall" else ", ".join(f"{k}={v}" for k, v in other.items())
        compared = f" for {group} against {other}"
    # When the check compared a bound or an aggregate, the line names the metric whose value and interval it gives.
    label = "value" if check.metric_value in (None, check.value) else str(check.metric)
    return f"{label} {_number(estimate)}, {level} interval{_bounds(interval)}{compared} ({_METHODS[interval['method']]})"


def _table(
    headers: list[str], rows: list[list[str]], indent: str, numeric_from: int | None = None, numeric_to: int | None = None
) -> list[str]:
    """Lay out a table; columns from index `numeric_from` up to, not including, `numeric_to` are right-aligned."""
    widths = [max([len(headers[i])] + [len(r[i]) for r in rows]) for i in range(len(headers))]
    right = range(len(headers))[numeric_from:numeric_to] if numeric_from is not None else range(0)

    def cell(text: str, index: int) -> str:
        width = widths[index]
        return text.rjust(width) if index in right else text.ljust(width)

    lines = [indent + "  ".join(cell(h, i) for i, h in enumerate(headers)).rstrip()]
    for row in rows:
        lines.append(indent + "  ".join(cell(text, i) for i, text in enumerate(row)).rstrip())
    return lines


def _check_lines(check: CheckResult) -> list[str]:
    name = check.id.rsplit(".", 1)[1]
    if check.kind == "require":
        lines = [f"    {check.status.upper():<12} {check.source}"]
    else:
        lines = [f"    {check.status.upper():<12} check {name}: {check.source}"]
    lines.append(f"                 {check.message}")
    if check.status in ("blocked", "error", "skipped") or check.kind == "require":
        return lines
    interval_line = _interval_line(check)
    if interval_line:
        lines.append(f"                 {interval_line}")
    if check.overall:
        total = sum(g.n for g in check.groups)
        intervals = check.details.get("overall_intervals") or {}
        overall = ", ".join(f"{name} {_number(v)}{_bounds(intervals.get(name))}" for name, v in check.overall.items())
        where = f" over {total} rows" if check.groups else ""
        lines.append(f"                 overall: {overall}{where}")
    if check.excluded_groups:
        left_out = ", ".join(
            f"{', '.join(f'{k}={v}' for k, v in g['group'].items())} (n = {g['n']})" for g in check.excluded_groups
        )
        lines.append(f"                 groups left out for their size: {left_out}")
    if check.rows_excluded:
        lines.append(f"                 {check.rows_excluded} rows without a label or prediction were left out")
    if check.groups:
        components = list(check.groups[0].values)
        headers = ["group", "n"] + components
        favorable = check.details.get("favorable")
        rows = [
            [", ".join(f"{k}={v}" for k, v in g.group.items()), str(g.n)] + [_rate_cell(g, c, favorable) for c in components]
            for g in check.groups
        ]
        # A rate cell contains the rate, its interval and its fraction, so it is left-aligned
        # to keep the rates in one column.
        lines.extend(_table(headers, rows, "                 ", numeric_from=1, numeric_to=2))
    return lines


def _control_lines(control: ControlResult) -> list[str]:
    gate = "blocks the gate" if control.blocks_gate else "does not block"
    lines = [f"{control.status.upper():<12} {control.id}  [{control.enforcement}, {control.severity}; {gate}]"]
    if control.title:
        lines.append(f"             {control.title}")
    lines.append(f"             maps: {', '.join(control.maps) or 'no clause'}")
    if control.status in ("blocked", "skipped") or not control.checks:
        lines.append(f"             {control.message}")
        if control.status == "skipped":
            return lines
    for check in control.checks:
        lines.extend(_check_lines(check))
    if control.waiver is not None:
        waiver = control.waiver
        lines.append(
            f"    waived: {waiver['status_waived']} accepted by waiver {waiver['id']}, approved by"
            f" {waiver['approved_by']['name']} ({waiver['approved_by']['role']}) on {waiver['approved_on']},"
            f" expires {waiver['expires']}"
        )
        lines.append(f"    justification: {waiver['justification']}")
    if control.status not in ("pass", "skipped", "waived") and control.remediation:
        lines.append(f"    remediation: {control.remediation}")
    return lines


def _baseline_lines(baseline: dict) -> list[str]:
    model = " ".join(part for part in (baseline.get("model_id"), baseline.get("model") and f"version {baseline['model']}") if part)
    recorded = ", ".join(part for part in (baseline["as_of"] and f"as of {baseline['as_of']}", model and f"model {model}") if part)
    lines = ["Baseline", "=" * 8, f"compared with {baseline['file']}" + (f" ({recorded})" if recorded else "")]
    lines.extend(f"warning: {warning}" for warning in baseline.get("warnings", []))
    changed = [c for c in baseline["controls"] if c["change"] != "unchanged"]
    for control in changed:
        before = control["before"] or "(absent)"
        after = control["after"] or "(removed)"
        lines.append(f"{control['change'].replace('_', ' '):<15} {control['id']}: {before} -> {after}")
    if not changed:
        lines.append("no control changed status")
    rows = [
        [m["check"], _number(m["before"]), _number(m["after"]), f"{m['delta']:+.4f}", "worse" if m["worsened"] else ""]
        for m in baseline["metrics"]
    ]
    if rows:
        lines.append("")
        lines.extend(_table(["check", "before", "after", "change", ""], rows, "", numeric_from=1))
    lines.append("")
    return lines


def render_text(results: Results) -> str:
    model = results.bundle["model"]
    policies = ", ".join(f"{p['name']} {p['version'] or ''}".strip() for p in results.policies)
    lines = [
        f"govdsl {results.govdsl_version}: policy {policies}",
        f"bundle {results.bundle['path']}: {model['id']} {model['version']} (risk tier {model['risk_tier']}), as of {results.as_of}",
    ]
    if results.parameters:
        values = ", ".join(f"{p['name']} = {p['value']} ({p['source']})" for p in results.parameters)
        lines.append(f"parameters: {values}")
    lines += ["", "Controls", "=" * 8]
    # Controls that block the gate first, so a CI log shows them before what passed; policy order otherwise.
    ordered = sorted(results.controls, key=lambda c: (not c.blocks_gate, c.status == "pass"))
    for control in ordered:
        lines.extend(_control_lines(control))
        lines.append("")

    lines += ["Clause matrix", "=" * 13]
    rows = []
    for clause in results.clauses:
        marks = []
        if clause.clause_status != "in_force":
            marks.append(clause.clause_status)
        if clause.superseded_by:
            marks.append(f"superseded by {clause.superseded_by}")
        if clause.applies_from and clause.applies_from > results.as_of:
            # Before this date the result shows readiness, not a legal duty.
            marks.append(f"applies from {clause.applies_from}")
        name = clause.reference + (f" ({'; '.join(marks)})" if marks else "")
        for index, (control, status) in enumerate(clause.controls):
            first = index == 0
            rows.append([name if first else "", clause.status if first else "", control, status])
    lines.extend(_table(["clause", "clause status", "control", "control status"], rows, ""))
    lines.append("only clauses that a control maps; `govdsl coverage POLICY...` lists the clauses no control covers")
    lines.append("")

    if results.waivers:
        lines += ["Waivers", "=" * 7]
        rows = [[w["id"], w["control"], w["state"].replace("_", " "), w["reason"]] for w in results.waivers]
        lines.extend(_table(["waiver", "control", "state", "reason"], rows, ""))
        lines.append("")

    if results.baseline is not None:
        lines.extend(_baseline_lines(results.baseline))

    gate = results.gate
    counts = ", ".join(f"{n} {s}" for s, n in gate.status_counts.items() if n)
    if gate.passed:
        lines.append(f"Gate: PASSED ({counts})")
    else:
        if gate.blocking_controls:
            also = f" and {len(gate.regressions)} regression(s) against the baseline" if gate.regressions else ""
            lines.append(f"Gate: BLOCKED by {len(gate.blocking_controls)} control(s){also}: {', '.join(gate.blocking_controls)}")
        else:
            lines.append(f"Gate: BLOCKED by {len(gate.regressions)} regression(s) against the baseline")
        lines.append(f"      controls: {counts}")
    for regression in gate.regressions:
        lines.append(f"      regression (--fail-on-regression): {regression}")
    if results.audit is not None:
        audit = results.audit
        lines.append(f"Audit record {audit['index']} (leaf sha256:{audit['leaf_hash'][:16]}) in {audit['log']}")
    if gate.insufficient_relaxed:
        relaxed = ", ".join(gate.relaxed_controls) or "none"
        lines.append(f"Note: --allow-insufficient was given, so `insufficient` controls did not block (relaxed: {relaxed})")
    return "\n".join(lines) + "\n"
