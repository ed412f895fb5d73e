"""Results as one self-contained HTML file: summary, baseline, controls with per-group charts, clause matrix and drill-down.

The page loads nothing: styles are inline, and matplotlib draws each chart as SVG
embedded as a `data:` URI in an `<img>`, where a browser runs no script. A Content
Security Policy forbids every other source. All text from policies and bundles is
escaped. matplotlib is an optional dependency (`pip install 'govdsl[html]'`);
`missing_dependency` lets the CLI report its absence before evaluation.
"""

from __future__ import annotations

import base64
import hashlib
import html
import importlib.util
import io
from collections.abc import Iterable

from govdsl.engine.results import CheckResult, ClauseResult, ControlResult, Results
from govdsl.errors import GovdslError
from govdsl.report.views import (
    STATUS_RANK,
    baseline_recorded,
    change_label,
    changed_controls,
    components,
    format_interval,
    format_number,
    format_threshold,
    gate_regressions,
    group_fraction,
    group_label,
    interval_method,
    interval_of,
    metric_move,
    model_line,
    needs_attention,
    ordered_controls,
    overall_interval,
    overall_rows,
    policy_names,
    regression_rule,
    status_summary,
)

# Okabe-Ito colours, which stay distinct under the common forms of colour blindness.
STATUS_COLOURS = {
    "pass": "#009E73",
    "fail": "#D55E00",
    "error": "#CC79A7",
    "insufficient": "#E69F00",
    "blocked": "#882255",
    "waived": "#0072B2",
    "skipped": "#BBBBBB",
}
_DARK_TEXT = {"insufficient", "skipped"}
_COMPONENT_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]

# Charts beyond these sizes would be unreadable; the tables beside them list everything.
MAX_CHART_GROUPS = 40
MAX_MATRIX_CLAUSES = 120
MAX_MATRIX_CONTROLS = 60

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


class MissingDependencyError(GovdslError):
    """An optional package that the requested output needs is not installed."""


def missing_dependency() -> str | None:
    """Return why the HTML report cannot be made here, or None when matplotlib is installed."""
    if importlib.util.find_spec("matplotlib") is None:
        return "the html format needs matplotlib, which is not installed; install it with `pip install 'govdsl[html]'`"
    return None


def _text(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _anchor(kind: str, name: str) -> str:
    """A fragment id for a control or clause: ids may contain any character, fragments should not."""
    return f"{kind}-{hashlib.sha256(name.encode('utf-8')).hexdigest()[:12]}"


def _badge(status: str) -> str:
    return f'<span class="badge s-{_text(status)}">{_text(status.upper())}</span>'


# --- charts -------------------------------------------------------------------------------


def _plain(label: str) -> str:
    """Keep matplotlib from reading `$...$` in policy text as mathematical notation."""
    return label.replace("$", r"\$")


def _svg_data_uri(figure) -> str:
    import matplotlib

    buffer = io.BytesIO()
    # A fixed salt and no date make the SVG bytes, and so the report, the same on every run.
    # Text stays text (fonttype "none"), so the charts are smaller and their labels searchable.
    with matplotlib.rc_context({"svg.hashsalt": "govdsl", "svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _group_chart(check: CheckResult) -> str:
    """Draw one horizontal bar per group and value name, with error bars where the results have intervals."""
    from matplotlib.figure import Figure

    groups = check.groups[:MAX_CHART_GROUPS]
    names = components(check)
    rows = len(groups) * len(names)
    figure = Figure(figsize=(7.5, 1.2 + 0.28 * rows))
    axes = figure.add_subplot()
    height = 0.8 / len(names)
    has_interval = False
    for index, name in enumerate(names):
        positions, values, errors, labels = [], [], [[], []], []
        component_has_interval = False
        for row, group in enumerate(groups):
            position = row + (index - (len(names) - 1) / 2) * height
            value = group.values.get(name)
            if value is None:
                axes.text(0, position, "  undefined", va="center", fontsize=8, color="#555555")
                continue
            positions.append(position)
            values.append(value)
            interval = interval_of(group, name)
            low, high = interval if interval is not None else (value, value)
            component_has_interval = component_has_interval or interval is not None
            errors[0].append(max(value - low, 0.0))
            errors[1].append(max(high - value, 0.0))
            labels.append(format_number(value))
        colour = _COMPONENT_COLOURS[index % len(_COMPONENT_COLOURS)]
        bars = axes.barh(positions, values, height=height * 0.9, color=colour, label=_plain(name.replace("_", " ")))
        if component_has_interval:
            has_interval = True
            axes.errorbar(values, positions, xerr=errors, fmt="none", ecolor="#222222", capsize=3, linewidth=1)
        axes.bar_label(bars, labels=labels, padding=3, fontsize=8)
    axes.set_yticks(range(len(groups)), [_plain(group_label(g.group)) for g in groups], fontsize=9)
    axes.invert_yaxis()
    axes.axvline(0, color="#444444", linewidth=0.8)
    axes.margins(x=0.15)
    axes.spines[["top", "right"]].set_visible(False)
    axes.set_xlabel(_plain(", ".join(n.replace("_", " ") for n in names)), fontsize=9)
    if len(names) > 1 or has_interval:
        title = "error bars: interval of each value" if has_interval else None
        axes.legend(fontsize=8, title=title, title_fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    return _svg_data_uri(figure)


def _matrix(results: Results) -> tuple[list[ClauseResult], list[str]]:
    clauses = list(results.clauses[:MAX_MATRIX_CLAUSES])
    mapped = {control for clause in clauses for control, _ in clause.controls}
    controls = [c.id for c in results.controls if c.id in mapped][:MAX_MATRIX_CONTROLS]
    return clauses, controls


def _heat_map(clauses: list[ClauseResult], controls: list[str]) -> str:
    """Draw the clause matrix: one row per clause, its combined status first, then one column per control."""
    from matplotlib.colors import to_rgb
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    columns = ["clause status"] + controls
    figure = Figure(figsize=(2.5 + 0.55 * len(columns), 1.8 + 0.32 * len(clauses)))
    axes = figure.add_subplot()
    empty = to_rgb("#F4F4F4")
    image = []
    for row, clause in enumerate(clauses):
        statuses = dict(clause.controls)
        cells = [clause.status] + [statuses.get(control) for control in controls]
        image.append([to_rgb(STATUS_COLOURS.get(s, "#FFFFFF")) if s else empty for s in cells])
        for column, status in enumerate(cells):
            if status:
                colour = "#111111" if status in _DARK_TEXT or status not in STATUS_COLOURS else "#FFFFFF"
                axes.text(column, row, status, ha="center", va="center", fontsize=7, color=colour)
    axes.imshow(image, aspect="auto", interpolation="nearest")
    axes.set_xticks(range(len(columns)), [_plain(c) for c in columns], rotation=40, ha="left", rotation_mode="anchor", fontsize=8)
    axes.set_yticks(range(len(clauses)), [_plain(c.reference) for c in clauses], fontsize=8)
    axes.xaxis.tick_top()
    axes.set_xticks([x - 0.5 for x in range(1, len(columns))], minor=True)
    axes.set_yticks([y - 0.5 for y in range(1, len(clauses))], minor=True)
    axes.grid(which="minor", color="white", linewidth=1.5)
    axes.tick_params(which="minor", length=0)
    axes.axvline(0.5, color="#222222", linewidth=1.5)
    shown = sorted({s for c in clauses for s in [c.status, *dict(c.controls).values()] if s in STATUS_COLOURS}, key=STATUS_RANK.get)
    handles = [Patch(color=STATUS_COLOURS[s], label=s) for s in shown] + [Patch(color=empty, label="not mapped")]
    axes.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return _svg_data_uri(figure)


# --- sections -----------------------------------------------------------------------------


def _summary(results: Results) -> str:
    gate = results.gate
    if gate.passed:
        verdict = f"Gate: PASSED ({_text(status_summary(results))})"
    else:
        reasons = []
        if gate.blocking_controls:
            blocking = ", ".join(
                f'<a href="#{_anchor("control", c)}"><code>{_text(c)}</code></a>' for c in gate.blocking_controls
            )
            reasons.append(f"{len(gate.blocking_controls)} control(s): {blocking}")
        if gate.regressions:
            reasons.append(f'<a href="#baseline">{len(gate.regressions)} regression(s) against the baseline</a>')
        verdict = f"Gate: BLOCKED by {' and '.join(reasons)}" if reasons else "Gate: BLOCKED"
    regressions = gate_regressions(results)
    regression_list = ""
    if regressions:
        items = "".join(f"<li>{_text(regression.text)}</li>" for regression in regressions)
        regression_list = f'<p>Regressions against the baseline (--fail-on-regression):</p><ul class="regressions">{items}</ul>'
    rows = [
        ("Policies", _text(policy_names(results))),
        ("Bundle", f"<code>{_text(results.bundle.get('path', ''))}</code>"),
        ("Model", _text(model_line(results))),
        ("As of", _text(results.as_of)),
        ("Controls", _text(status_summary(results))),
        ("govdsl", _text(results.govdsl_version)),
    ]
    for dataset in results.bundle.get("datasets", []):
        rows.append(
            (
                f"Dataset {_text(dataset.get('name'))}",
                f"<code>{_text(dataset.get('path'))}</code> ({_text(dataset.get('role'))}), "
                f"SHA-256 <code class=\"digest\">{_text(dataset.get('sha256'))}</code>",
            )
        )
    for parameter in results.parameters:
        rows.append((f"Parameter {_text(parameter.get('name'))}", f"{_text(parameter.get('value'))} ({_text(parameter.get('source'))})"))
    items = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows)
    note = ""
    if gate.insufficient_relaxed:
        relaxed = ", ".join(f"<code>{_text(c)}</code>" for c in gate.relaxed_controls) or "none"
        note = f'<p class="note">--allow-insufficient was given, so <code>insufficient</code> controls did not block the gate (relaxed: {relaxed}).</p>'
    state = "passed" if gate.passed else "blocked"
    return (
        f'<header><h1>govdsl check</h1><p class="gate gate-{state}">{verdict}</p>{regression_list}{note}'
        f'<dl class="summary">{items}</dl></header>'
    )


def _baseline_section(baseline: dict) -> str:
    """Render the comparison with --baseline results: controls whose status changed, then how each check's value moved."""
    recorded = f" ({_text(baseline_recorded(baseline))})" if baseline_recorded(baseline) else ""
    parts = [
        '<section id="baseline"><h2>Baseline</h2>',
        f"<p>Compared with <code>{_text(baseline.get('file'))}</code>{recorded}. {_text(regression_rule(baseline))}</p>",
    ]
    parts.extend(f'<p class="note">Warning: {_text(warning)}</p>' for warning in baseline.get("warnings", []))
    parts.append("<h3>Controls whose status changed</h3>")
    changed = changed_controls(baseline)
    if changed:
        rows = "".join(
            f'<tr><td><code>{_text(c["id"])}</code></td><td>{_text(change_label(c["change"]))}</td>'
            f'<td>{_badge(c["before"]) if c.get("before") else "absent"}</td>'
            f'<td>{_badge(c["after"]) if c.get("after") else "removed"}</td></tr>'
            for c in changed
        )
        parts.append(
            '<table class="baseline-controls"><thead><tr><th>control</th><th>change</th><th>baseline status</th>'
            f"<th>status now</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    else:
        parts.append("<p>No control changed status.</p>")
    metrics = baseline.get("metrics", [])
    if metrics:
        rows = []
        for metric in metrics:
            move = metric_move(metric, baseline)
            rows.append(
                f'<tr><td><code>{_text(metric["check"])}</code></td><td>{_text(metric.get("measured") or metric.get("metric") or "")}</td>'
                f'<td class="num">{format_number(metric["before"])}</td><td class="num">{format_number(metric["after"])}</td>'
                f'<td class="num">{metric["delta"]:+.4f}</td><td>{f"<strong>{_text(move)}</strong>" if move else ""}</td></tr>'
            )
        parts.append(
            '<h3>Values of the checks</h3><table class="baseline-metrics"><thead><tr><th>check</th><th>metric</th>'
            "<th>baseline value</th><th>value now</th><th>change</th><th>move</th></tr></thead>"
            f'<tbody>{"".join(rows)}</tbody></table>'
        )
    parts.append("</section>")
    return "".join(parts)


def _group_table(check: CheckResult) -> str:
    names = components(check)
    head = "".join(f"<th>{_text(name)}</th>" for name in names)
    rows = []
    shown_interval = shown_fraction = False
    favorable = (check.details or {}).get("favorable")
    for group in check.groups:
        cells = []
        for name in names:
            cell = _text(format_number(group.values.get(name)))
            interval = interval_of(group, name)
            if interval is not None:
                shown_interval = True
                cell += f' <span class="interval">{format_interval(interval)}</span>'
            fraction = group_fraction(group, name, favorable)
            if fraction is not None:
                shown_fraction = True
                cell += f' <span class="fraction">({fraction[0]}/{fraction[1]})</span>'
            # A rate cell contains the rate, its interval and its fraction, so it is left-aligned to keep the rates in one column.
            cells.append(f'<td class="rate">{cell}</td>')
        rows.append(f"<tr><td>{_text(group_label(group.group))}</td><td class=\"num\">{group.n}</td>{''.join(cells)}</tr>")
    # The check's interval method describes its value, such as a difference of two rates. Each
    # group's interval may come from another method, so the caption names only the level.
    confidence = (check.details or {}).get("confidence")
    level = f"{confidence:.0%} " if isinstance(confidence, (int, float)) else ""
    notes = []
    if shown_interval:
        notes.append(f"In brackets: the {level}confidence interval of each group's value.")
    if shown_fraction:
        notes.append("In parentheses: the numerator and denominator of each rate.")
    caption = f"<caption>{' '.join(notes)}</caption>" if notes else ""
    return f'<table class="groups">{caption}<thead><tr><th>group</th><th>n</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _interval_text(check: CheckResult, interval: tuple[float, float]) -> str:
    """The interval of a check's value, with the groups it compares when the results name them."""
    text = format_interval(interval)
    details = getattr(check, "details", None) or {}
    where = details.get("interval") if isinstance(details, dict) else None
    if isinstance(where, dict) and isinstance(where.get("group"), dict) and isinstance(where.get("compared_with"), dict):
        text += f" ({group_label(where['group'])} against {group_label(where['compared_with'])})"
    return text


def _check_section(check: CheckResult) -> str:
    facts = []
    threshold = format_threshold(check)
    evaluated = check.status not in ("error", "blocked", "skipped")
    if evaluated and (check.value is not None or check.reason):
        facts.append(("value", format_number(check.value)))
    estimate = check.metric_value
    if evaluated and estimate is not None and estimate != check.value:
        # The check compared a bound or an aggregate; the interval below belongs to the metric's own value.
        facts.append((f"{check.metric} (the metric's own value)", format_number(estimate)))
    interval = interval_of(check)
    if interval is not None:
        method = interval_method(check)
        facts.append((f"interval ({method})" if method else "interval", _interval_text(check, interval)))
    if threshold:
        facts.append(("threshold", threshold))
    if check.reason and evaluated:
        facts.append(("reason", check.reason))
    if check.dataset:
        facts.append(("dataset", check.dataset))
    for name, value in check.overall.items():
        facts.append((f"overall {name}", f"{format_number(value)} {format_interval(overall_interval(check, name))}".strip()))
    rows = overall_rows(check)
    if check.overall and rows is not None:
        facts.append(("overall rows", str(rows)))
    if check.rows_excluded:
        facts.append(("rows left out", f"{check.rows_excluded} without a label or prediction"))
    if check.excluded_groups:
        left_out = "; ".join(f"{group_label(g['group'])} (n = {g['n']})" for g in check.excluded_groups)
        facts.append(("groups left out for their size", left_out))
    facts_html = "".join(f"<dt>{_text(name)}</dt><dd>{_text(value)}</dd>" for name, value in facts)
    parts = [
        f'<div class="check"><h3>{_badge(check.status)} check <code>{_text(check.id.rsplit(".", 1)[-1])}</code>: '
        f"<code>{_text(check.source)}</code></h3>",
        f"<p>{_text(check.message)}</p>",
    ]
    if facts_html:
        parts.append(f'<dl class="facts">{facts_html}</dl>')
    if check.groups and components(check):
        shown = min(len(check.groups), MAX_CHART_GROUPS)
        alt = f"bar chart of {', '.join(components(check))} for {shown} groups"
        parts.append(f'<figure><img class="chart" alt="{_text(alt)}" src="{_group_chart(check)}">')
        if len(check.groups) > MAX_CHART_GROUPS:
            parts.append(f"<figcaption>The chart shows the first {MAX_CHART_GROUPS} of {len(check.groups)} groups; the table lists all.</figcaption>")
        parts.append("</figure>")
        parts.append(_group_table(check))
    parts.append("</div>")
    return "".join(parts)


def _waiver_html(control: ControlResult) -> str:
    waiver = getattr(control, "waiver", None)
    if not isinstance(waiver, dict):
        return ""
    approver = waiver.get("approved_by") or {}
    return (
        f'<p class="waiver">Waived ({_text(waiver.get("status_waived"))}) by <code>{_text(waiver.get("id"))}</code>, '
        f"approved by {_text(approver.get('name'))} ({_text(approver.get('role'))}) on {_text(waiver.get('approved_on'))}, "
        f"until {_text(waiver.get('expires'))}: {_text(waiver.get('justification'))}</p>"
    )


def _control_section(control: ControlResult) -> str:
    gate = "blocks the gate" if control.blocks_gate else "does not block the gate"
    title = f" {_text(control.title)}" if control.title else ""
    maps = ", ".join(f'<a href="#{_anchor("clause", r)}"><code>{_text(r)}</code></a>' for r in control.maps) or "no clause"
    opened = " open" if needs_attention(control) else ""
    parts = [
        f'<details class="control s-{_text(control.status)}" id="{_anchor("control", control.id)}"{opened}>',
        f"<summary>{_badge(control.status)} <code>{_text(control.id)}</code>{title} "
        f'<span class="meta">({_text(control.enforcement)}, {_text(control.severity)}; {gate})</span></summary>',
        f"<p>Maps: {maps}</p>",
    ]
    if control.owner:
        parts.append(f"<p>Owner: {_text(control.owner)}</p>")
    if not control.checks or control.status in ("blocked", "skipped", "waived"):
        parts.append(f"<p>{_text(control.message)}</p>")
    parts.append(_waiver_html(control))
    parts.extend(_check_section(check) for check in control.checks)
    if control.remediation and needs_attention(control):
        parts.append(f'<p class="remediation"><strong>Remediation:</strong> {_text(control.remediation)}</p>')
    parts.append("</details>")
    return "".join(parts)


def _matrix_section(results: Results) -> str:
    if not results.clauses:
        return '<section id="matrix"><h2>Clause matrix</h2><p>The policies map no clause.</p></section>'
    clauses, controls = _matrix(results)
    alt = f"heat map of the status of {len(controls)} controls for {len(clauses)} clauses"
    note = ""
    if len(clauses) < len(results.clauses) or len(controls) < len({c for cl in results.clauses for c, _ in cl.controls}):
        note = f"<p>The heat map shows the first {len(clauses)} clauses and {len(controls)} controls; the table below lists all.</p>"
    return (
        '<section id="matrix"><h2>Clause matrix</h2>'
        "<p>Only clauses that a control maps; <code>govdsl coverage POLICY...</code> lists the clauses no control covers.</p>"
        f'<figure><img class="chart heatmap" alt="{_text(alt)}" src="{_heat_map(clauses, controls)}"></figure>{note}'
        f"{_matrix_table(results.clauses)}</section>"
    )


def _matrix_table(clauses: Iterable[ClauseResult]) -> str:
    """Render the clause matrix as a table for readers who cannot see the heat map: one row group per clause, one row per control."""
    groups = []
    for clause in clauses:
        marks = []
        if clause.clause_status != "in_force":
            marks.append(clause.clause_status)
        if clause.superseded_by:
            marks.append(f"superseded by {clause.superseded_by}")
        mark = f" ({_text('; '.join(marks))})" if marks else ""
        span = len(clause.controls)
        clause_cells = (
            f'<th scope="rowgroup" rowspan="{span}"><a href="#{_anchor("clause", clause.reference)}">'
            f'<code>{_text(clause.reference)}</code></a>{mark}</th><td rowspan="{span}">{_badge(clause.status)}</td>'
        )
        rows = []
        for index, (control_id, status) in enumerate(clause.controls):
            link = f'<a href="#{_anchor("control", control_id)}"><code>{_text(control_id)}</code></a>'
            control_cells = f"<td>{link}</td><td>{_badge(status)}</td>"
            rows.append(f"<tr>{clause_cells if index == 0 else ''}{control_cells}</tr>")
        groups.append(f"<tbody>{''.join(rows)}</tbody>")
    return (
        '<table class="matrix"><thead><tr><th scope="col">clause</th><th scope="col">clause status</th>'
        f'<th scope="col">control</th><th scope="col">control status</th></tr></thead>{"".join(groups)}</table>'
    )


def _clause_section(clauses: Iterable[ClauseResult], controls: dict[str, ControlResult]) -> str:
    items = []
    for clause in clauses:
        facts = [("assessable", clause.assessable)]
        if clause.applies_from:
            facts.append(("applies from", clause.applies_from))
        facts.append(("catalog status", clause.clause_status))
        if clause.superseded_by:
            facts.append(("superseded by", clause.superseded_by))
        facts_html = "".join(f"<dt>{_text(name)}</dt><dd>{_text(value)}</dd>" for name, value in facts)
        rows = []
        for control_id, status in clause.controls:
            control = controls.get(control_id)
            title = _text(control.title) if control and control.title else ""
            enforcement = _text(control.enforcement) if control else ""
            rows.append(
                f'<tr><td><a href="#{_anchor("control", control_id)}"><code>{_text(control_id)}</code></a></td>'
                f"<td>{title}</td><td>{enforcement}</td><td>{_badge(status)}</td></tr>"
            )
        items.append(
            f'<details class="clause" id="{_anchor("clause", clause.reference)}"><summary>{_badge(clause.status)} '
            f"<code>{_text(clause.reference)}</code> {_text(clause.label)}</summary>"
            f'<dl class="facts">{facts_html}</dl>'
            f'<table><thead><tr><th>control</th><th>title</th><th>enforcement</th><th>status</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
            "</details>"
        )
    return f'<section id="clauses"><h2>Clauses</h2>{"".join(items)}</section>'


_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:72rem;padding:1rem 2rem;color:#1b1b1b;line-height:1.45}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.92em;overflow-wrap:anywhere}
.gate{font-size:1.3rem;font-weight:600;padding:.5rem .8rem;border-radius:4px}
.gate-passed{background:#e3f4ee;border-left:6px solid #009E73}.gate-blocked{background:#fbe9e0;border-left:6px solid #D55E00}
dl.summary,dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:.6rem 0}
dt{font-weight:600}dd{margin:0}
.badge{display:inline-block;min-width:5.5rem;text-align:center;font-size:.75rem;font-weight:700;padding:.1rem .3rem;border-radius:3px;color:#fff}
.s-pass{background:#009E73}.s-fail{background:#D55E00}.s-error{background:#CC79A7}.s-insufficient{background:#E69F00;color:#111}
.s-blocked{background:#882255}.s-waived{background:#0072B2}.s-skipped{background:#BBBBBB;color:#111}
details.control,details.clause{border:1px solid #ccc;border-radius:4px;margin:.6rem 0;padding:.3rem .8rem;background:#fff}
details.control>summary,details.clause>summary{cursor:pointer;padding:.3rem 0}
.meta{color:#555;font-size:.9em}
.check{border-top:1px solid #eee;padding:.4rem 0}
.check h3{margin:.3rem 0;font-weight:500;font-size:1rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ddd;padding:.2rem .5rem;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}td.rate{font-variant-numeric:tabular-nums}.interval,.fraction{color:#555}
table.matrix th[scope=rowgroup]{font-weight:normal}table.matrix [rowspan]{vertical-align:top}ul.regressions{margin:.3rem 0 .6rem}
img.chart{max-width:100%;height:auto}figure{margin:.5rem 0}
.remediation{background:#fff7e0;padding:.4rem .6rem;border-left:4px solid #E69F00}
.waiver{background:#e6f0f8;padding:.4rem .6rem;border-left:4px solid #0072B2}
.digest{font-size:.8em}nav a{margin-right:1rem}footer{color:#666;font-size:.85em;margin-top:2rem}
"""


def render_html(results: Results) -> str:
    """Render results as one HTML document; raise MissingDependencyError when matplotlib is not installed."""
    problem = missing_dependency()
    if problem:
        raise MissingDependencyError(problem)
    controls = {c.id: c for c in results.controls}
    state = "PASSED" if results.gate.passed else "BLOCKED"
    title = f"govdsl check: {model_line(results)}: gate {state}"
    baseline_link = '<a href="#baseline">Baseline</a>' if results.baseline is not None else ""
    body = [
        _summary(results),
        f'<nav>{baseline_link}<a href="#controls">Controls</a><a href="#matrix">Clause matrix</a><a href="#clauses">Clauses</a></nav>',
        _baseline_section(results.baseline) if results.baseline is not None else "",
        '<section id="controls"><h2>Controls</h2>',
        *(_control_section(c) for c in ordered_controls(results)),
        "</section>",
        _matrix_section(results),
        _clause_section(results.clauses, controls),
        f"<footer>Made by govdsl {_text(results.govdsl_version)} as of {_text(results.as_of)}.</footer>",
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_text(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
