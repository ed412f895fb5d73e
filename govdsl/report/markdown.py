"""Results as Markdown for a pull-request comment: the gate, controls that need attention, the baseline, the clause matrix.

GitHub rejects a comment longer than 65,536 characters, so the report is cut at a
block boundary to fit `max_chars`, and a note lists what was left out. Text from
policies and bundles is escaped, so it cannot open HTML elements or Markdown links.
"""

from __future__ import annotations

import html
import re

from govdsl.engine.results import CheckResult, ControlResult, Results
from govdsl.report.views import (
    baseline_recorded,
    change_label,
    changed_controls,
    components,
    format_number,
    format_threshold,
    gate_regressions,
    group_label,
    interval_of,
    metric_move,
    model_line,
    needs_attention,
    ordered_controls,
    policy_names,
    regression_rule,
    status_summary,
)

GITHUB_COMMENT_LIMIT = 65_536
MAX_GROUP_ROWS = 50
_MIN_CLIP = 2_000

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|!~$])")


def escape(text: str) -> str:
    """Escape text for Markdown: HTML-significant characters become entities, Markdown syntax gets a backslash."""
    text = text.replace("&", "&amp;")
    text = _SPECIAL.sub(lambda m: {"<": "&lt;", ">": "&gt;"}.get(m.group(1), "\\" + m.group(1)), text)
    return " ".join(text.split())


def code(text: str) -> str:
    """Return text as an inline code span, with a fence longer than any run of backticks inside it."""
    text = " ".join(text.split())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def _table_code(text: str) -> str:
    """An inline code span for a table cell: GitHub splits cells on `|` even inside code spans."""
    return code(text).replace("|", "\\|")


def _value_cell(check: CheckResult) -> str:
    if check.status in ("error", "blocked", "skipped"):
        return "-"
    if check.value is None and check.reason:
        return "undefined"
    if check.value is None:
        return "-"
    if check.metric_value is not None and check.metric_value != check.value:
        # The value is a bound or an aggregate of the metric; the estimate is shown beside it.
        return f"{format_number(check.value)} ({escape(str(check.metric))} {format_number(check.metric_value)})"
    return format_number(check.value)


def _check_row(check: CheckResult) -> str:
    threshold = format_threshold(check)
    name = _table_code(check.id.rsplit(".", 1)[-1])
    if check.kind == "require":
        # A requirement has no value or threshold, so its statement shows what was required.
        name += " " + _table_code(check.source)
    cells = [
        name,
        f"**{check.status}**" if check.status not in ("pass", "skipped") else check.status,
        _value_cell(check),
        _table_code(threshold) if threshold else "-",
        escape(check.message),
    ]
    return "| " + " | ".join(cells) + " |"


def _group_table(check: CheckResult) -> list[str]:
    names = components(check)
    lines = ["| group | n | " + " | ".join(escape(name) for name in names) + " |"]
    lines.append("| --- | ---: | " + " | ".join("---:" for _ in names) + " |")
    for group in check.groups[:MAX_GROUP_ROWS]:
        cells = []
        for name in names:
            cell = format_number(group.values.get(name))
            interval = interval_of(group, name)
            if interval is not None:
                cell += f" [{interval[0]:.4f}, {interval[1]:.4f}]"
            cells.append(cell)
        lines.append(f"| {escape(group_label(group.group))} | {group.n} | " + " | ".join(cells) + " |")
    if len(check.groups) > MAX_GROUP_ROWS:
        lines.append(f"\n{len(check.groups) - MAX_GROUP_ROWS} more groups are left out; the JSON results list them all.")
    return lines


def _control_heading(control: ControlResult, in_html: bool = False) -> str:
    """The heading of a control; `in_html` escapes it for an HTML element, where GitHub renders no Markdown."""
    gate = "blocks the gate" if control.blocks_gate else "does not block the gate"
    if in_html:
        title = f": {html.escape(control.title)}" if control.title else ""
        control_id = f"<code>{html.escape(control.id)}</code>"
    else:
        title = f": {escape(control.title)}" if control.title else ""
        control_id = code(control.id)
    return f"{control.status.upper()} {control_id}{title} ({control.enforcement}, {control.severity}; {gate})"


def _control_body(control: ControlResult) -> list[str]:
    lines = []
    if control.maps:
        lines.append("Maps: " + ", ".join(code(reference) for reference in control.maps))
        lines.append("")
    if control.checks:
        lines.append("| check | status | value | threshold | message |")
        lines.append("| --- | --- | ---: | --- | --- |")
        lines.extend(_check_row(check) for check in control.checks)
    else:
        lines.append(escape(control.message))
    waiver = getattr(control, "waiver", None)
    if isinstance(waiver, dict):
        approver = waiver.get("approved_by") or {}
        lines += [
            "",
            f"**Waived** ({escape(str(waiver.get('status_waived')))}) by {code(str(waiver.get('id')))}, approved by "
            f"{escape(str(approver.get('name')))} ({escape(str(approver.get('role')))}) until {escape(str(waiver.get('expires')))}: "
            f"{escape(str(waiver.get('justification')))}",
        ]
    for check in control.checks:
        if check.groups:
            name = html.escape(check.id.rsplit(".", 1)[-1])
            lines += ["", f"<details><summary>Groups of check <code>{name}</code></summary>", ""]
            lines.extend(_group_table(check))
            lines += ["", "</details>"]
    if control.remediation and needs_attention(control):
        lines += ["", f"**Remediation:** {escape(control.remediation)}"]
    return lines


def _attention_block(control: ControlResult) -> str:
    return "\n".join([f"#### {_control_heading(control)}", "", *_control_body(control), ""])


def _passing_block(control: ControlResult) -> str:
    summary = f"<details><summary>{_control_heading(control, in_html=True)}</summary>"
    return "\n".join([summary, "", *_control_body(control), "", "</details>", ""])


def _header(results: Results) -> str:
    gate = results.gate
    if gate.passed:
        verdict = f"**Gate: PASSED** ({status_summary(results)})"
    else:
        reasons = []
        if gate.blocking_controls:
            blocking = ", ".join(code(c) for c in gate.blocking_controls)
            reasons.append(f"{len(gate.blocking_controls)} control(s): {blocking}")
        if gate.regressions:
            reasons.append(f"{len(gate.regressions)} regression(s) against the baseline")
        blocked_by = f" by {' and '.join(reasons)}" if reasons else ""
        verdict = f"**Gate: BLOCKED**{blocked_by} ({status_summary(results)})"
    lines = ["## govdsl check", "", verdict, ""]
    regressions = gate_regressions(results)
    if regressions:
        lines.append("Regressions against the baseline (`--fail-on-regression`):")
        lines.append("")
        lines.extend(f"- {escape(regression.text)}" for regression in regressions)
        lines.append("")
    lines += [
        f"Policy {escape(policy_names(results))}; bundle {code(str(results.bundle.get('path', '')))}: "
        f"{escape(model_line(results))}; as of {results.as_of}; govdsl {results.govdsl_version}.",
    ]
    if gate.insufficient_relaxed:
        relaxed = ", ".join(code(c) for c in gate.relaxed_controls) or "none"
        lines += ["", f"`--allow-insufficient` was given, so `insufficient` controls did not block the gate (relaxed: {relaxed})."]
    return "\n".join(lines) + "\n"


def _clause_matrix(results: Results) -> str:
    lines = [
        "### Clause matrix",
        "",
        "Only clauses that a control maps; `govdsl coverage POLICY...` lists the clauses no control covers.",
        "",
        "| clause | clause status | control | control status |",
        "| --- | --- | --- | --- |",
    ]
    for clause in results.clauses:
        marks = []
        if clause.clause_status != "in_force":
            marks.append(clause.clause_status)
        if clause.superseded_by:
            marks.append(f"superseded by {clause.superseded_by}")
        if clause.applies_from and clause.applies_from > results.as_of:
            # Before this date the result shows readiness, not a legal duty.
            marks.append(f"applies from {clause.applies_from}")
        name = _table_code(clause.reference) + (f" ({escape('; '.join(marks))})" if marks else "")
        for index, (control, status) in enumerate(clause.controls):
            first = index == 0
            lines.append(f"| {name if first else ''} | {clause.status if first else ''} | {_table_code(control)} | {status} |")
    return "\n".join(lines) + "\n"


def _baseline_section(baseline: dict) -> str:
    """Render the comparison with --baseline results: controls whose status changed, then how each check's value moved."""
    recorded = f" ({escape(baseline_recorded(baseline))})" if baseline_recorded(baseline) else ""
    source = f"Compared with {code(str(baseline.get('file')))}{recorded}."
    lines = ["### Baseline", "", f"{source} {escape(regression_rule(baseline))}", ""]
    lines.extend(f"**Warning:** {escape(str(warning))}\n" for warning in baseline.get("warnings", []))
    changed = changed_controls(baseline)
    if changed:
        lines += ["| control | change | baseline status | status now |", "| --- | --- | --- | --- |"]
        for control in changed:
            before = control.get("before") or "absent"
            after = control.get("after") or "removed"
            lines.append(f"| {_table_code(control['id'])} | {change_label(control['change'])} | {before} | {after} |")
    else:
        lines.append("No control changed status.")
    metrics = baseline.get("metrics", [])
    if metrics:
        lines += ["", "| check | metric | baseline value | value now | change | move |", "| --- | --- | ---: | ---: | ---: | --- |"]
        for metric in metrics:
            label = metric.get("measured") or metric.get("metric")
            name = _table_code(str(label)) if label else "-"
            move = metric_move(metric, baseline)
            cells = [
                _table_code(metric["check"]),
                name,
                format_number(metric["before"]),
                format_number(metric["after"]),
                f"{metric['delta']:+.4f}",
                f"**{move}**" if move else "",
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _blocks(results: Results) -> list[tuple[str, str]]:
    """Return the report's blocks in priority order, each with a short name for the truncation note."""
    blocks = [("summary", _header(results))]
    ordered = ordered_controls(results)
    attention = [c for c in ordered if needs_attention(c)]
    passing = [c for c in ordered if not needs_attention(c)]
    if attention:
        blocks.append(("heading", "### Controls that need attention\n"))
        blocks.extend((f"control {c.id}", _attention_block(c)) for c in attention)
    if results.baseline is not None:
        blocks.append(("the baseline comparison", _baseline_section(results.baseline)))
    if passing:
        blocks.append(("heading", f"### Controls that pass or do not apply ({len(passing)})\n"))
        blocks.extend((f"control {c.id}", _passing_block(c)) for c in passing)
    if results.clauses:
        blocks.append(("the clause matrix", _clause_matrix(results)))
    return blocks


def _truncation_note(left_out: list[str], shortened: str | None) -> str:
    controls = sum(1 for name in left_out if name.startswith("control "))
    parts = []
    if shortened:
        parts.append(f"{shortened} is shortened")
    if controls:
        parts.append(f"{controls} control(s) are left out")
    for section in ("the baseline comparison", "the clause matrix"):
        if section in left_out:
            parts.append(f"{section} is left out")
    what = ", ".join(parts) or "the end is left out"
    return (
        f"\n---\nThis comment was cut to fit GitHub's limit of {GITHUB_COMMENT_LIMIT:,} characters: {what}. "
        "The JSON or HTML report of the same run has everything.\n"
    )


def render_markdown(results: Results, max_chars: int = GITHUB_COMMENT_LIMIT) -> str:
    """Render results as Markdown of at most `max_chars` characters, cutting whole blocks from the end.

    A block that does not fit is shortened at a line boundary when at least
    `_MIN_CLIP` characters remain for it, and left out otherwise.
    """
    blocks = _blocks(results)
    full = "\n".join(text for _, text in blocks)
    if len(full) <= max_chars:
        return full
    names = [name for name, _ in blocks]
    budget = max_chars - len(_truncation_note(names, max(names, key=len)))
    kept: list[str] = []
    used = 0
    for index, (name, text) in enumerate(blocks):
        if used + len(text) + 1 <= budget:
            kept.append(text)
            used += len(text) + 1
            continue
        shortened = None
        remaining = budget - used
        if remaining >= _MIN_CLIP or index == 0:
            kept.append(_clip(text, remaining))
            shortened = name
        left_out = [n for n in names[index + 1 if shortened else index :] if n != "heading"]
        return "\n".join(kept) + _truncation_note(left_out, shortened)
    return "\n".join(kept)


def _clip(text: str, budget: int) -> str:
    """Cut a block that alone exceeds the budget at a line boundary, closing a `<details>` it opened."""
    closing = "\n</details>\n"
    cut = text[: max(budget - len(closing), 0)]
    cut = cut[: cut.rfind("\n") + 1] if "\n" in cut else ""
    if cut.count("<details>") > cut.count("</details>"):
        cut += closing
    return cut
