"""Generate a model card with the nine sections of Mitchell et al. (2019), "Model Cards for Model Reporting".

The card is filled from the bundle (model metadata, datasets, approvals, the text of
the bundle's own model card) and, when results are given, from an evaluation: the
metrics checked, their thresholds and the per-group values. A section the evidence
does not cover says so; nothing is invented. One list of blocks feeds both the
Markdown and the HTML form. The HTML form renders the text carried from the bundle's
card as CommonMark with pipe tables, and escapes any raw HTML in it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from markdown_it import MarkdownIt

from govdsl.report.views import INTERVAL_METHODS

SECTIONS = (
    "Model Details",
    "Intended Use",
    "Factors",
    "Metrics",
    "Evaluation Data",
    "Training Data",
    "Quantitative Analyses",
    "Ethical Considerations",
    "Caveats and Recommendations",
)

_EVALUATION_ROLES = ("predictions", "current")
_TRAINING_ROLES = ("training", "reference")


@dataclass
class Section:
    title: str
    # Blocks in order: ("p", plain text), ("markdown", Markdown text), ("list", [items]),
    # ("table", headers, rows), ("h", subheading).
    blocks: list[tuple] = field(default_factory=list)

    def paragraph(self, text: str) -> None:
        self.blocks.append(("p", text))

    def markdown(self, text: str) -> None:
        self.blocks.append(("markdown", text))

    def table(self, headers: list[str], rows: list[list[str]]) -> None:
        if rows:
            self.blocks.append(("table", headers, rows))

    def items(self, items: list[str]) -> None:
        if items:
            self.blocks.append(("list", items))

    def heading(self, text: str) -> None:
        self.blocks.append(("h", text))


def build_card(bundle, card, results: dict | None) -> tuple[str, list[Section]]:
    """Return the card's title and its nine sections; `card` is the bundle's ModelCard or None, `results` a results dict."""
    model = bundle.model
    title = f"Model card: {model.get('name') or model.get('id')} {model.get('version', '')}".strip()
    existing = (lambda key: card.section(key)) if card is not None else (lambda key: None)
    sections = {name: Section(name) for name in SECTIONS}

    details = sections["Model Details"]
    fields = [
        ("Name", model.get("name")),
        ("Id", model.get("id")),
        ("Version", model.get("version")),
        ("Owner", model.get("owner")),
        ("Developers", ", ".join(model.get("developers", [])) or None),
        ("Task", model.get("task")),
        ("Risk tier", model.get("risk_tier")),
        ("Model type", model.get("model_type")),
        ("Jurisdictions", ", ".join(model.get("jurisdictions", [])) or None),
        ("Deployment regions", ", ".join(model.get("deployment_regions", [])) or None),
    ]
    details.table(["field", "value"], [[name, str(value)] for name, value in fields if value])
    _carry(details, existing("model_details"))
    if bundle.approvals:
        details.heading("Approvals")
        details.table(
            ["role", "name", "decision", "date", "model version"],
            [[a["role"], a["name"], a["decision"], a["date"], a.get("model_version", "not stated")] for a in bundle.approvals],
        )

    intended = sections["Intended Use"]
    if model.get("intended_use"):
        intended.paragraph(str(model["intended_use"]).strip())
    _carry(intended, existing("intended_use"))

    factors = sections["Factors"]
    features = {f for d in bundle.datasets.values() for f in d.sensitive_features}
    if features:
        factors.paragraph(f"Sensitive features declared in the bundle: {', '.join(sorted(features))}.")
    _carry(factors, existing("factors"))

    _data_section(sections["Evaluation Data"], bundle, _EVALUATION_ROLES, existing("evaluation_data"))
    _data_section(sections["Training Data"], bundle, _TRAINING_ROLES, existing("training_data"))

    metrics = sections["Metrics"]
    analyses = sections["Quantitative Analyses"]
    caveats = sections["Caveats and Recommendations"]
    if results is not None:
        _results_sections(results, metrics, analyses, caveats)
    else:
        note = "No evaluation results were given; run `govdsl check ... --format json -o results.json` and pass `--results results.json`."
        metrics.markdown(note)
        analyses.markdown(note)
    _carry(metrics, existing("metrics"))
    _carry(analyses, existing("quantitative_analyses"))
    _carry(sections["Ethical Considerations"], existing("ethical_considerations"))
    _carry(caveats, existing("caveats_and_recommendations"))

    for section in sections.values():
        if not section.blocks:
            source = "the bundle's model card" if card is not None else "the bundle, which has no model card,"
            section.paragraph(f"Not documented: {source} says nothing about {section.title.lower()}.")
    return title, [sections[name] for name in SECTIONS]


def _carry(section: Section, text: str | None) -> None:
    if text:
        section.markdown(text)


def _data_section(section: Section, bundle, roles: tuple[str, ...], text: str | None) -> None:
    datasets = [d for d in sorted(bundle.datasets.values(), key=lambda d: d.name) if d.role in roles]
    rows = [
        [d.name, d.role, d.relative_path, d.sha256[:16] + "...", d.label_column or "", d.prediction_column or "", ", ".join(d.sensitive_features)]
        for d in datasets
    ]
    section.table(["dataset", "role", "file", "sha256", "label", "prediction", "sensitive features"], rows)
    _carry(section, text)


def _value(value) -> str:
    if value is None:
        return "undefined"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _interval_text(values: dict, name: str, group: dict) -> str:
    intervals = group.get("intervals") or {}
    bounds = intervals.get(name) if isinstance(intervals, dict) else None
    if isinstance(bounds, dict) and bounds.get("low") is not None and bounds.get("high") is not None:
        return f"{_value(values[name])} [{_value(bounds['low'])}, {_value(bounds['high'])}]"
    return _value(values[name])


def _results_sections(results: dict, metrics: Section, analyses: Section, caveats: Section) -> None:
    checks = [(control, check) for control in results["controls"] for check in control["checks"] if check.get("metric")]
    rows = []
    for control, check in checks:
        comparison = check.get("comparison")
        threshold = f"{comparison['operator']} {_value(comparison['threshold'])}" if comparison else check["source"]
        rows.append([check["metric"], threshold, control["id"], control["enforcement"]])
    metrics.paragraph(f"Metrics checked by govdsl {results.get('govdsl_version', '')} as of {results.get('as_of')}:")
    metrics.table(["metric", "threshold", "control", "enforcement"], rows)

    gate = results["gate"]
    analyses.paragraph(f"{_gate_sentence(gate)} Values as measured on the evaluation data, per group where the check compares groups.")
    for control, check in checks:
        analyses.heading(f"{check['source']} ({check['status']})")
        estimate = check.get("metric_value")
        if estimate is not None and estimate != check.get("value"):
            # The check compared a bound or an aggregate; the interval belongs to the metric's own value.
            summary = f"Value compared {_value(check.get('value'))}; {check.get('metric')} {_value(estimate)}"
        else:
            summary = f"Value {_value(check.get('value'))}"
        interval = (check.get("details") or {}).get("interval")
        if isinstance(interval, dict) and interval.get("low") is not None and interval.get("high") is not None:
            confidence = (check.get("details") or {}).get("confidence", 0.95)
            method = INTERVAL_METHODS.get(interval.get("method"), interval.get("method") or "interval")
            summary += f", {confidence:.0%} interval [{_value(interval['low'])}, {_value(interval['high'])}] ({method})"
        if check.get("reason"):
            summary += f": {check['reason']}"
        analyses.paragraph(summary + ".")
        groups = check.get("groups") or []
        if groups:
            names = list(groups[0]["values"])
            analyses.table(
                ["group", "n"] + names,
                [
                    [", ".join(f"{k}={v}" for k, v in g["group"].items()), str(g["n"])] + [_interval_text(g["values"], n, g) for n in names]
                    for g in groups
                ],
            )
    failing = [c for c in results["controls"] if c["status"] not in ("pass", "skipped")]
    caveats.items(
        [
            f"{c['id']} has the status {c['status']}" + (f". Remediation: {c['remediation']}" if c.get("remediation") else "")
            for c in failing
        ]
    )


def render_markdown(title: str, sections: list[Section]) -> str:
    lines = [f"# {title}", ""]
    for section in sections:
        lines += [f"## {section.title}", ""]
        for block in section.blocks:
            if block[0] in ("p", "markdown"):
                lines += [block[1], ""]
            elif block[0] == "h":
                lines += [f"### {block[1]}", ""]
            elif block[0] == "list":
                lines += [f"- {item}" for item in block[1]] + [""]
            else:
                _, headers, rows = block
                lines.append("| " + " | ".join(headers) + " |")
                lines.append("|" + " --- |" * len(headers))
                lines += ["| " + " | ".join(cell.replace("|", "\\|").replace("\n", " ") for cell in row) + " |" for row in rows]
                lines.append("")
    return "\n".join(lines).rstrip() + "\n"


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}"
    "table{border-collapse:collapse;margin:0.5rem 0 1rem}td,th{border:1px solid #ccc;padding:0.25rem 0.5rem;text-align:left}"
    "th{background:#f2f2f2}h2{border-bottom:1px solid #ddd;padding-bottom:0.2rem}p{white-space:pre-wrap}"
    ".markdown p{white-space:normal}code{background:#f2f2f2;padding:0 0.2rem}"
)

# CommonMark plus pipe tables. With "html" off, markdown-it escapes raw HTML blocks and
# inline tags as text, and its link validation drops javascript:, vbscript: and file: URLs
# (checked with markdown-it-py 3.0.0 and 4.3.0).
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")


def _render_image_as_link(renderer, tokens, idx, options, env) -> str:
    """Render a Markdown image as a link to it, so the page loads nothing."""
    token = tokens[idx]
    alt = renderer.renderInlineAsText(token.children or [], options, env) or token.attrGet("src")
    return f'<a href="{html.escape(str(token.attrGet("src")))}">{html.escape(str(alt))}</a>'


_MARKDOWN.add_render_rule("image", _render_image_as_link)


def _markdown_html(text: str) -> str:
    """Render the card's Markdown, moving its headings two levels down (at most <h6>) to nest under the section's <h2>."""
    tokens = _MARKDOWN.parse(text)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1:]) + 2, 6)}"
    return _MARKDOWN.renderer.render(tokens, _MARKDOWN.options, {})


def render_html(title: str, sections: list[Section]) -> str:
    escape = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
    ]
    for section in sections:
        parts.append(f"<section><h2>{escape(section.title)}</h2>")
        for block in section.blocks:
            if block[0] == "p":
                parts.append(f"<p>{escape(block[1])}</p>")
            elif block[0] == "markdown":
                parts.append(f'<div class="markdown">{_markdown_html(block[1])}</div>')
            elif block[0] == "h":
                parts.append(f"<h3>{escape(block[1])}</h3>")
            elif block[0] == "list":
                parts.append("<ul>" + "".join(f"<li>{escape(item)}</li>" for item in block[1]) + "</ul>")
            else:
                _, headers, rows = block
                head = "".join(f"<th>{escape(h)}</th>" for h in headers)
                body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
                parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _gate_sentence(gate: dict) -> str:
    """Say the gate decision and, when blocked, what blocked it: controls, regressions against a baseline, or both."""
    if gate.get("decision") != "blocked":
        return f"Gate decision: {gate.get('decision')}."
    causes = []
    if gate.get("blocking_controls"):
        causes.append(f"{len(gate['blocking_controls'])} control(s): {', '.join(gate['blocking_controls'])}")
    if gate.get("regressions"):
        causes.append(f"{len(gate['regressions'])} regression(s) against the baseline")
    return "Gate decision: blocked" + (f" by {' and '.join(causes)}." if causes else ".")
