"""Render a Coverage matrix as text, JSON, CSV, Markdown, HTML or OSCAL, and write the coverage page of the shipped policies.

Run as `python -m govdsl.report.coverage_render docs/coverage.md` to regenerate
that page from the policies in policies/.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

from govdsl.report.coverage import Coverage, Tally, library_coverage
from govdsl.report.coverage_html import render_coverage_html
from govdsl.report.coverage_oscal import render_coverage_oscal

COVERAGE_PAGE_COMMAND = "python -m govdsl.report.coverage_render docs/coverage.md"


def _percent(tally: Tally) -> str:
    return "n/a" if tally.percent is None else f"{tally.percent:.1f}%"


def _controls_text(row) -> str:
    parts = []
    for control, status in row.controls:
        parts.append(f"{control} ({status})" if status else control)
    return ", ".join(parts)


def _derived_text(row) -> str:
    return ", ".join(f"{d.control} via {d.via}" for d in row.derived)


def _basis_text(framework) -> str:
    """Describe how the covered clauses of a framework are covered: by evidence, or by attestations only."""
    parts = []
    for title, field in (("by evidence", "evidence"), ("by attestation only", "attestation")):
        technical, procedural = getattr(framework.technical, field), getattr(framework.procedural, field)
        parts.append(f"{title}: {getattr(framework.overall, field)} (technical {technical}, procedural {procedural})")
    parts.append(f"not covered: {framework.overall.not_covered}")
    return "; ".join(parts)


def render_coverage_text(coverage: Coverage) -> str:
    lines: list[str] = []
    for framework in coverage.frameworks:
        title = f"{framework.framework}: {framework.name}"
        if framework.version not in framework.name:
            title += f" ({framework.version})"
        if framework.superseded_by:
            title += f", superseded by {framework.superseded_by}"
        lines += [title, "=" * len(title)]
        lines.append(
            f"leaf clauses covered: {framework.overall.covered} of {framework.overall.total} ({_percent(framework.overall)});"
            f" technical {framework.technical.covered} of {framework.technical.total} ({_percent(framework.technical)});"
            f" procedural {framework.procedural.covered} of {framework.procedural.total} ({_percent(framework.procedural)})"
        )
        lines.append(_basis_text(framework))
        for group in framework.groups:
            lines.append(f"  {group.name:<12} {group.covered:>3} of {group.total:<3} {_percent(group):>7}  {group.label}")
        lines.append("")
        rows = [r for r in coverage.rows if r.framework == framework.framework]
        width = max([len(r.clause_id) for r in rows] + [6])
        for row in rows:
            note = "" if row.leaf else "  (not counted: coverage counts leaf clauses)"
            controls = _controls_text(row) or "-"
            lines.append(f"  {row.clause_id:<{width}}  {row.status:<12} {row.assessable:<10} {controls}{note}")
            if row.derived:
                lines.append(f"  {'':<{width}}  {'':<12} {'':<10} derived, not counted: {_derived_text(row)}")
        lines.append("")
    if coverage.min_coverage is not None:
        if coverage.below_minimum:
            lines.append(f"Coverage below the minimum of {coverage.min_coverage:g}%: {', '.join(coverage.below_minimum)}")
        else:
            lines.append(f"Coverage meets the minimum of {coverage.min_coverage:g}% in every framework")
    return "\n".join(lines).rstrip() + "\n"


def render_coverage_json(coverage: Coverage) -> str:
    return json.dumps(coverage.to_dict(), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


_CSV_COLUMNS = [
    "framework", "superseded_by", "clause", "parent", "group", "assessable", "leaf", "counted", "status", "basis", "controls",
    "derived", "label",
]


def render_coverage_csv(coverage: Coverage) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(_CSV_COLUMNS)
    superseded = {f.framework: f.superseded_by or "" for f in coverage.frameworks}
    for row in coverage.rows:
        writer.writerow(
            [
                row.framework,
                superseded[row.framework],
                row.clause_id,
                row.parent or "",
                row.group,
                row.assessable,
                "yes" if row.leaf else "no",
                "yes" if row.counted else "no",
                row.status,
                row.basis,
                "; ".join(f"{c}={s}" if s else c for c, s in row.controls),
                "; ".join(f"{d.control} via {d.via}" for d in row.derived),
                row.label,
            ]
        )
    return buffer.getvalue()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_coverage_markdown(coverage: Coverage) -> str:
    lines: list[str] = []
    for framework in coverage.frameworks:
        lines.append(f"## {framework.framework}: {_cell(framework.name)}")
        lines.append("")
        if framework.superseded_by:
            lines.append(f"Superseded by {framework.superseded_by}.")
            lines.append("")
        lines.append("| scope | covered | by evidence | by attestation only | not covered | total | percent covered |")
        lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for tally in (framework.overall, framework.technical, framework.procedural, *framework.groups):
            lines.append(
                f"| {_cell(tally.name)} | {tally.covered} | {tally.evidence} | {tally.attestation} | {tally.not_covered}"
                f" | {tally.total} | {_percent(tally)} |"
            )
        lines.append("")
        lines.append("| clause | status | assessable | controls | derived (not counted) |")
        lines.append("| --- | --- | --- | --- | --- |")
        for row in coverage.rows:
            if row.framework != framework.framework:
                continue
            clause = row.clause_id if row.leaf else f"{row.clause_id} (parent, not counted)"
            lines.append(
                f"| {_cell(clause)} | {row.status} | {row.assessable} | {_cell(_controls_text(row)) or '-'} | {_cell(_derived_text(row))} |"
            )
        lines.append("")
    if coverage.below_minimum:
        lines.append(f"Below the minimum of {coverage.min_coverage:g}%: {', '.join(coverage.below_minimum)}")
    return "\n".join(lines).rstrip() + "\n"


COVERAGE_RENDERERS = {
    "text": render_coverage_text,
    "json": render_coverage_json,
    "csv": render_coverage_csv,
    "markdown": render_coverage_markdown,
    "html": render_coverage_html,
    "oscal": render_coverage_oscal,
}


_PAGE_INTRO = """\
A leaf clause is covered **by evidence** when a control that maps it has a check that
reads the bundle's evidence. Evidence is a dataset (its rows, or published results
recomputed from them), the model card, the approvals, or evidence files checked against
their digests.
It is covered **by attestation only** when the controls that map it read nothing but
attestations: statements in `bundle.yaml` by a named person in a role, in force on the
evaluation date, which govdsl can find but cannot verify. A clause that no control maps,
or whose controls check nothing or only fields of `model`, is **not covered**. Parent
clauses, deleted clauses and links through crosswalks are never counted. In the tables
of clauses, the status `covered` means covered by evidence, `attested` covered by
attestation only, `unchecked` mapped by controls that check nothing, and `uncovered`
mapped by no control.

The header comment of each policy file states what it expects of a bundle and why the
clauses it leaves out are left out. [catalogs.md](catalogs.md) describes the coverage
matrix, and `govdsl coverage POLICY... --format markdown` prints it for any policies.
"""


def render_coverage_page(coverage: Coverage) -> str:
    """Render the Markdown page of the shipped policies' coverage: a summary per framework, then each matrix."""
    lines = [
        "# Coverage of the shipped policies",
        "",
        f"<!-- Generated by `{COVERAGE_PAGE_COMMAND}` from the policies in policies/; do not edit by hand. -->",
        "",
        "govdsl ships one policy per framework. This page gives their coverage as `govdsl coverage` computes it;"
        f" `{COVERAGE_PAGE_COMMAND}` regenerates it, and a test fails when it is out of date.",
        "",
        "| policy | version | file |",
        "| --- | --- | --- |",
    ]
    for policy in coverage.policies:
        lines.append(f"| `{policy['name']}` | {policy['version'] or ''} | `{policy['file']}` |")
    lines += ["", _PAGE_INTRO, "## Summary", ""]
    lines.append(
        "| framework | leaf clauses | by evidence | by attestation only | not covered"
        " | technical | technical by evidence | technical by attestation only |"
    )
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for framework in coverage.frameworks:
        overall, technical = framework.overall, framework.technical
        lines.append(
            f"| {framework.framework} | {overall.total} | {overall.evidence} | {overall.attestation} | {overall.not_covered}"
            f" | {technical.total} | {technical.evidence} | {technical.attestation} |"
        )
    lines += ["", render_coverage_markdown(coverage)]
    return "\n".join(lines).rstrip() + "\n"


def main(arguments: list[str] | None = None) -> int:
    """Write the coverage page of the shipped policies to the file named, or to stdout without one."""
    arguments = sys.argv[1:] if arguments is None else arguments
    page = render_coverage_page(library_coverage())
    if not arguments:
        sys.stdout.write(page)
        return 0
    Path(arguments[0]).write_text(page, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
