"""A Coverage matrix as one self-contained HTML file: shares per framework and group, then every clause.

Like the check report of govdsl.report.html, the page loads nothing and runs no
script: styles are inline, a Content Security Policy forbids every source, and all
text from policies and catalogs is escaped. The share bars are CSS widths, so the
page needs no chart library.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

from govdsl.compiler.plan import ControlSpec
from govdsl.report.coverage import (
    ATTESTED,
    COVERED,
    DELETED,
    PARENT,
    UNCHECKED,
    UNCOVERED,
    ClauseRow,
    Coverage,
    FrameworkCoverage,
    Tally,
)
from govdsl.report.html import STATUS_COLOURS

# The check report's colours, reused for the static statuses by their meaning.
COVERAGE_COLOURS = {
    COVERED: STATUS_COLOURS["pass"],
    ATTESTED: STATUS_COLOURS["waived"],
    UNCHECKED: STATUS_COLOURS["insufficient"],
    UNCOVERED: STATUS_COLOURS["fail"],
    DELETED: STATUS_COLOURS["skipped"],
    PARENT: STATUS_COLOURS["skipped"],
}
_DARK_TEXT = {UNCHECKED, DELETED, PARENT, "insufficient", "skipped"}

_CSP = "default-src 'none'; style-src 'unsafe-inline'"

_STATUS_MEANINGS = (
    (COVERED, "a mapped control has a check that reads evidence"),
    (ATTESTED, "the mapped controls read attestations only"),
    (UNCHECKED, "mapped by controls whose checks read no evidence or attestation"),
    (UNCOVERED, "no control maps the clause"),
    (DELETED, "deleted from the catalog, not counted"),
    (PARENT, "a parent clause that a control maps directly, not counted"),
)


def _text(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _colour(status: str) -> str:
    return COVERAGE_COLOURS.get(status) or STATUS_COLOURS.get(status, "#FFFFFF")


def _badge(status: str) -> str:
    text_colour = "#111111" if status in _DARK_TEXT else "#FFFFFF"
    return f'<span class="badge" style="background:{_colour(status)};color:{text_colour}">{_text(status)}</span>'


def _percent(tally: Tally) -> str:
    return "n/a" if tally.percent is None else f"{tally.percent:.1f}%"


def _share_bar(tally: Tally) -> str:
    """Draw the evidence and attestation shares of a tally as two CSS bars on a grey track."""
    if not tally.total:
        return '<span class="track"></span>'
    evidence = 100.0 * tally.evidence / tally.total
    attestation = 100.0 * tally.attestation / tally.total
    return (
        '<span class="track">'
        f'<span class="fill" style="width:{evidence:.2f}%;background:{COVERAGE_COLOURS[COVERED]}"></span>'
        f'<span class="fill" style="width:{attestation:.2f}%;background:{COVERAGE_COLOURS[ATTESTED]}"></span>'
        "</span>"
    )


def _tally_row(scope: str, tally: Tally) -> str:
    cells = [
        f"<td>{scope}</td>",
        *(f'<td class="num">{number}</td>' for number in (tally.covered, tally.evidence, tally.attestation, tally.not_covered, tally.total)),
        f'<td class="num">{_percent(tally)}</td>',
        f"<td>{_share_bar(tally)}</td>",
    ]
    return f"<tr>{''.join(cells)}</tr>"


def _tally_table(framework: FrameworkCoverage) -> str:
    rows = [
        _tally_row("<strong>all leaf clauses</strong>", framework.overall),
        _tally_row("technical clauses", framework.technical),
        _tally_row("procedural clauses", framework.procedural),
    ]
    for group in framework.groups:
        rows.append(_tally_row(f"<code>{_text(group.name)}</code> {_text(group.label)}", group))
    head = "".join(
        f"<th>{name}</th>"
        for name in ("scope", "covered", "by evidence", "by attestation only", "not covered", "total", "percent covered", "share")
    )
    return f'<table class="tallies"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _controls_cell(row: ClauseRow, controls: Mapping[str, ControlSpec]) -> str:
    items = []
    for (control_id, status), basis in zip(row.controls, row.control_bases):
        spec = controls.get(control_id)
        parts = [f"<code>{_text(control_id)}</code>"]
        if spec is not None and spec.title:
            parts.append(_text(spec.title))
        details = [f"basis {basis}"]
        if spec is not None:
            details.insert(0, f"enforcement {spec.enforcement}")
        parts.append(f'<span class="meta">({_text(", ".join(details))})</span>')
        if status:
            parts.append(_badge(status))
        items.append(f"<li>{' '.join(parts)}</li>")
    return f"<ul>{''.join(items)}</ul>" if items else "-"


def _derived_cell(row: ClauseRow) -> str:
    items = [
        f"<li><code>{_text(link.control)}</code> via <code>{_text(link.via)}</code> "
        f'<span class="meta">(crosswalk {_text(link.crosswalk)}, source {_text(link.source)})</span></li>'
        for link in row.derived
    ]
    return f"<ul>{''.join(items)}</ul>" if items else ""


def _clause_table(rows: list[ClauseRow], controls: Mapping[str, ControlSpec]) -> str:
    body = []
    for row in rows:
        clause = f"<code>{_text(row.clause_id)}</code>"
        if not row.counted:
            clause += ' <span class="meta">(not counted)</span>'
        body.append(
            f'<tr class="clause-row" style="border-left:6px solid {_colour(row.status)}">'
            f"<td>{clause}</td><td>{_text(row.label)}</td><td>{_badge(row.status)}</td>"
            f"<td>{_text(row.assessable)}</td><td>{_text(row.basis)}</td>"
            f"<td>{_controls_cell(row, controls)}</td><td>{_derived_cell(row)}</td></tr>"
        )
    head = "".join(
        f"<th>{name}</th>" for name in ("clause", "title", "status", "assessable", "basis", "controls", "derived (not counted)")
    )
    return f'<table class="clauses"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _framework_section(framework: FrameworkCoverage, coverage: Coverage, controls: Mapping[str, ControlSpec]) -> str:
    rows = [r for r in coverage.rows if r.framework == framework.framework]
    parts = [
        f'<section class="framework" id="fw-{_text(framework.framework)}">',
        f"<h2><code>{_text(framework.framework)}</code> {_text(framework.name)}</h2>",
        f"<p>Catalog version {_text(framework.version)}.</p>",
    ]
    if framework.superseded_by:
        parts.append(f'<p class="note">Superseded by <code>{_text(framework.superseded_by)}</code>.</p>')
    overall = framework.overall
    parts.append(
        f"<p>{overall.covered} of {overall.total} leaf clauses covered ({_percent(overall)}): "
        f"{overall.evidence} by evidence, {overall.attestation} by attestation only, {overall.not_covered} not covered.</p>"
    )
    if framework.framework in coverage.below_minimum:
        parts.append(f'<p class="below">Below the minimum of {coverage.min_coverage:g}%.</p>')
    parts.append(_tally_table(framework))
    parts.append(f"<h3>Clauses of {_text(framework.framework)}</h3>")
    parts.append(_clause_table(rows, controls))
    parts.append("</section>")
    return "".join(parts)


def _header(coverage: Coverage) -> str:
    policies = "".join(
        f"<li><code>{_text(p['name'])}</code> {_text(p.get('version') or '')} from <code>{_text(p['file'])}</code>, "
        f'SHA-256 <code class="digest">{_text(p["sha256"])}</code></li>'
        for p in coverage.policies
    )
    legend = "".join(f"<li>{_badge(status)} {_text(meaning)}</li>" for status, meaning in _STATUS_MEANINGS)
    minimum = ""
    if coverage.min_coverage is not None:
        if coverage.below_minimum:
            below = ", ".join(f"<code>{_text(f)}</code>" for f in coverage.below_minimum)
            minimum = f'<p class="below">Coverage is below the minimum of {coverage.min_coverage:g}% in {below}.</p>'
        else:
            minimum = f"<p>Coverage meets the minimum of {coverage.min_coverage:g}% in every framework.</p>"
    return (
        "<header><h1>govdsl coverage</h1>"
        f"<p>Static clause coverage of the policies as of {_text(coverage.as_of or 'an unrecorded date')}, without a bundle. "
        "Only leaf clauses are counted; derived links through crosswalks never count.</p>"
        f"<ul>{policies}</ul>{minimum}<ul class=\"legend\">{legend}</ul></header>"
    )


_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:80rem;padding:1rem 2rem;color:#1b1b1b;line-height:1.45}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.92em;overflow-wrap:anywhere}
.badge{display:inline-block;min-width:5.5rem;text-align:center;font-size:.75rem;font-weight:700;padding:.1rem .3rem;border-radius:3px}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td ul{margin:0;padding-left:1rem}ul.legend{list-style:none;padding:0}
.track{display:inline-flex;width:10rem;height:.8rem;background:#eee;border-radius:2px;overflow:hidden}.fill{display:block;height:100%}
.meta{color:#555;font-size:.9em}.digest{font-size:.8em}
.below{background:#fbe9e0;border-left:6px solid #D55E00;padding:.4rem .6rem;font-weight:600}
.note{background:#fff7e0;border-left:4px solid #E69F00;padding:.4rem .6rem}
section.framework{margin-top:2rem}footer{color:#666;font-size:.85em;margin-top:2rem}
"""


def render_coverage_html(coverage: Coverage, controls: Mapping[str, ControlSpec] | None = None) -> str:
    """Render a Coverage as one HTML document.

    `controls` maps control ids to their compiled specs. The matrix shows the title
    and enforcement of each control found there beside its id, and the id alone otherwise.
    """
    controls = coverage.controls if controls is None else controls
    names = ", ".join(p["name"] for p in coverage.policies) or "no policy"
    body = [_header(coverage)]
    if len(coverage.frameworks) > 1:
        links = "".join(f'<a href="#fw-{_text(f.framework)}">{_text(f.framework)}</a> ' for f in coverage.frameworks)
        body.append(f"<nav>{links}</nav>")
    if not coverage.frameworks:
        body.append("<p>The policies map no clause of any framework.</p>")
    body.extend(_framework_section(f, coverage, controls) for f in coverage.frameworks)
    body.append(f"<footer>Made by govdsl coverage as of {_text(coverage.as_of or 'an unrecorded date')}.</footer>")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_text(f'govdsl coverage: {names}')}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
