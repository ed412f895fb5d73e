"""The evaluated clause matrix as CSV for spreadsheets: one row per clause and mapped control.

The rows are in long form (clause x control x status), so a pivot table can rebuild
any matrix. Column names follow the JSON results: `clause_status` is the clause's
state in its catalog (such as `in_force`), `status` its status combined from its
controls. A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
gets a leading `'`, so that a spreadsheet shows policy text instead of running it
as a formula. Clauses that no control maps are absent: `govdsl coverage --format csv`
lists those.
"""

from __future__ import annotations

import csv
import io

from govdsl.engine.results import Results
from govdsl.report.views import split_reference

COLUMNS = [
    "framework",
    "clause",
    "reference",
    "label",
    "assessable",
    "applies_from",
    "clause_status",
    "superseded_by",
    "status",
    "control",
    "control_title",
    "control_status",
    "enforcement",
    "severity",
    "blocks_gate",
]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def render_csv(results: Results) -> str:
    """Render the clause matrix of results as CSV text with a header row."""
    controls = {c.id: c for c in results.controls}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for clause in results.clauses:
        framework, clause_id = split_reference(clause.reference)
        for control_id, control_status in clause.controls:
            control = controls.get(control_id)
            row = [
                framework,
                clause_id,
                clause.reference,
                clause.label,
                clause.assessable,
                clause.applies_from,
                clause.clause_status,
                clause.superseded_by,
                clause.status,
                control_id,
                control.title if control else None,
                control_status,
                control.enforcement if control else None,
                control.severity if control else None,
                _yes_no(control.blocks_gate) if control else None,
            ]
            writer.writerow([_cell(value) for value in row])
    return buffer.getvalue()
