"""List audit records for auditors: when, which model, which policies, the gate decision and who ran it."""

from __future__ import annotations

import csv
import datetime
import io
import json

_COLUMNS = ("index", "time", "model", "version", "policies", "gate", "blocking", "regressions", "user", "host", "ci_run")


def _row(index: int, record: dict) -> dict:
    bundle = record.get("bundle", {})
    model = bundle.get("model", {})
    run_by = record.get("run_by", {})
    ci = run_by.get("ci", {})
    run = ci.get("GITHUB_RUN_ID") or ci.get("CI_PIPELINE_ID") or ci.get("BUILD_ID") or ""
    return {
        "index": index,
        "time": record.get("time", ""),
        "model": model.get("id", ""),
        "version": model.get("version", ""),
        "policies": " ".join(f"{p.get('name')}@{p.get('version') or ''}".rstrip("@") for p in record.get("policies", [])),
        "gate": record.get("gate", {}).get("decision", ""),
        "blocking": " ".join(record.get("gate", {}).get("blocking_controls", [])),
        "regressions": len(record.get("gate", {}).get("regressions", [])),
        "user": run_by.get("user") or "",
        "host": run_by.get("host") or "",
        "ci_run": run,
    }


def select_records(records: list[dict], model_id: str | None, since: datetime.date | None) -> list[tuple[int, dict]]:
    """Return (index, record) pairs for the model and from the date given, in log order."""
    selected = []
    for index, record in enumerate(records):
        model = record.get("bundle", {}).get("model", {}).get("id")
        if model_id is not None and model != model_id:
            continue
        if since is not None and record.get("time", "")[:10] < since.isoformat():
            continue
        selected.append((index, record))
    return selected


def render_records(records: list[tuple[int, dict]], output_format: str) -> str:
    if output_format == "json":
        return json.dumps([{"index": index, "record": record} for index, record in records], indent=2) + "\n"
    rows = [_row(index, record) for index, record in records]
    if output_format == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue()
    if not rows:
        return "no records\n"
    text_columns = ("index", "time", "model", "version", "policies", "gate", "user", "ci_run")
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in text_columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in text_columns).rstrip()]
    lines += ["  ".join(str(r[c]).ljust(widths[c]) for c in text_columns).rstrip() for r in rows]
    return "\n".join(lines) + "\n"
