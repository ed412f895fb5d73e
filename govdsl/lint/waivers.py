"""Lint a waivers file leniently: report expired waivers, unknown controls and missing justifications as findings.

`govdsl check` rejects a malformed waivers file outright. Lint reads the same file to
point out problems in a pull request before they stop a gate: a file that is not
YAML, or breaks the schema in other ways, gives the loader's own errors.
"""

from __future__ import annotations

import datetime
import difflib
from pathlib import Path

import yaml

from govdsl.diagnostics import Diagnostic, Span, error
from govdsl.errors import InvalidInputError
from govdsl.evidence.model_card import is_placeholder
from govdsl.lint.rules import finding
from govdsl.yamlfiles import load_yaml, locate


def lint_waiver_file(path: str, control_ids: set[str] | None, as_of: datetime.date | None) -> tuple[list[Diagnostic], str]:
    today = as_of or datetime.datetime.now(datetime.timezone.utc).date()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [error("E801", f"cannot read waivers file `{path}`: {exc}")], ""
    findings: list[Diagnostic] = []
    entries = _entries(text)
    for index, entry in enumerate(entries):
        def span(key: str) -> Span | None:
            position = locate(text, ["waivers", index, key]) or locate(text, ["waivers", index])
            return Span.point(path, *position) if position else None

        waiver_id = entry.get("id", f"waivers[{index}]")
        justification = entry.get("justification")
        if not isinstance(justification, str) or is_placeholder(justification):
            findings.append(finding("L603", f"waiver `{waiver_id}` gives no justification", span("justification"),
                                    "say why the risk is accepted, in a sentence an auditor can check"))
        expires = _date(entry.get("expires"))
        if expires is not None and expires < today:
            findings.append(finding("L601", f"waiver `{waiver_id}` expired on {expires.isoformat()}", span("expires"),
                                    "renew it with a new approval, or remove it"))
        control = entry.get("control")
        if control_ids is not None and isinstance(control, str) and control not in control_ids:
            close = difflib.get_close_matches(control, sorted(control_ids), n=1)
            hint = f"did you mean `{close[0]}`?" if close else "check the control id: `govdsl compile` lists them"
            findings.append(finding("L602", f"waiver `{waiver_id}` names unknown control `{control}`", span("control"), hint))
    return _loader_problems(path) + findings, text


def _entries(text: str) -> list[dict]:
    try:
        data = load_yaml(text)
    except yaml.YAMLError:
        return []  # the loader's error, with its position, is reported by `_loader_problems`
    waivers = data.get("waivers") if isinstance(data, dict) else None
    return [entry for entry in waivers if isinstance(entry, dict)] if isinstance(waivers, list) else []


def _loader_problems(path: str) -> list[Diagnostic]:
    from govdsl.evidence.waivers import load_waivers

    try:
        load_waivers(path)
    except InvalidInputError as exc:
        return [d for d in exc.diagnostics if "justification" not in d.message]
    return []


def _date(value) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        return None
