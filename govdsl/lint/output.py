"""Lint findings as JSON, SARIF 2.1.0 and GitHub workflow commands, and rule documentation as text and Markdown."""

from __future__ import annotations

import json
from pathlib import Path

from govdsl import __version__
from govdsl.diagnostics import Diagnostic, Severity
from govdsl.lint.rules import RULES, Rule

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_GITHUB_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _rule_name(code: str) -> str:
    rule = RULES.get(code)
    return rule.name if rule else code


def render_json(findings: list[Diagnostic]) -> str:
    items = [
        {
            "code": d.code,
            "rule": _rule_name(d.code),
            "severity": d.severity.value,
            "message": d.message,
            "help": d.help,
            "span": d.span.to_dict() if d.span else None,
        }
        for d in findings
    ]
    return json.dumps(items, indent=2) + "\n"


def _uri(file: str) -> str:
    return Path(file).as_posix()


def render_sarif(findings: list[Diagnostic]) -> str:
    """Return a SARIF 2.1.0 log with one run, the rules found, and one result per finding."""
    codes = sorted({d.code for d in findings} | {c for c in RULES})
    index = {code: position for position, code in enumerate(codes)}
    rules = []
    for code in codes:
        rule = RULES.get(code)
        descriptor = {"id": code, "name": rule.name if rule else code}
        if rule:
            descriptor.update(
                shortDescription={"text": rule.summary},
                fullDescription={"text": f"{rule.finds} {rule.why}"},
                help={"text": f"{rule.why} Known limitations: {rule.limitations}", "markdown": rule_markdown(rule)},
                defaultConfiguration={"level": _SARIF_LEVEL[rule.severity]},
            )
        else:
            descriptor["shortDescription"] = {"text": f"govdsl compiler diagnostic {code}"}
        rules.append(descriptor)
    results = []
    for d in findings:
        result = {
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": _SARIF_LEVEL[d.severity],
            "message": {"text": d.message + (f". Help: {d.help}" if d.help else "")},
        }
        if d.span is not None:
            result["locations"] = [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(d.span.file)},
                        "region": {
                            "startLine": d.span.line,
                            "startColumn": d.span.column,
                            "endLine": d.span.end_line,
                            "endColumn": max(d.span.end_column, d.span.column + 1) if d.span.end_line == d.span.line else d.span.end_column,
                        },
                    }
                }
            ]
        results.append(result)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "govdsl",
                        "version": __version__,
                        "informationUri": "https://github.com/govdsl/govdsl",
                        "rules": rules,
                    }
                },
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(findings: list[Diagnostic]) -> str:
    """Return one GitHub Actions workflow command per finding, so the checks page annotates the lines."""
    lines = []
    for d in findings:
        properties = [f"title={_escape_property(f'{d.code} {_rule_name(d.code)}')}"]
        if d.span is not None:
            properties = [
                f"file={_escape_property(_uri(d.span.file))}",
                f"line={d.span.line}",
                f"col={d.span.column}",
                f"endLine={d.span.end_line}",
                f"endColumn={d.span.end_column}",
            ] + properties
        message = d.message + (f" ({d.help})" if d.help else "")
        lines.append(f"::{_GITHUB_COMMAND[d.severity]} {','.join(properties)}::{_escape_data(message)}")
    return "\n".join(lines) + ("\n" if lines else "")


def rule_text(rule: Rule) -> str:
    kind = {"policy": "policy file", "waivers": "waivers file", "bundle": "bundle"}[rule.example_kind]
    parts = [
        f"{rule.code} {rule.name} ({rule.severity.value} by default)",
        "",
        rule.summary,
        "",
        "What it finds",
        f"  {rule.finds}",
        "",
        "Why it matters",
        f"  {rule.why}",
    ]
    if rule.bad:
        parts += ["", f"Example ({kind}) that triggers it", _indent(rule.bad), "", "Fixed example", _indent(rule.good)]
    parts += ["", "Known limitations", f"  {rule.limitations}"]
    return "\n".join(parts) + "\n"


def _indent(text: str) -> str:
    return "\n".join("    " + line if line else "" for line in text.rstrip("\n").splitlines())


def rule_markdown(rule: Rule) -> str:
    language = "yaml" if rule.example_kind == "waivers" else "text"
    parts = [
        f"# {rule.code} {rule.name}",
        "",
        f"Default severity: {rule.severity.value}. {rule.summary}",
        "",
        "## What it finds",
        "",
        rule.finds,
        "",
        "## Why it matters",
        "",
        rule.why,
    ]
    if rule.bad:
        parts += ["", "## Example", "", f"```{language}", rule.bad.rstrip("\n"), "```", "", "## Fixed example", "",
                  f"```{language}", rule.good.rstrip("\n"), "```"]
    parts += ["", "## Known limitations", "", rule.limitations]
    return "\n".join(parts) + "\n"


def rules_index_markdown() -> str:
    lines = [
        "# Lint rules",
        "",
        "Generated from the rule registry by `govdsl rule --write-docs docs/rules`; do not edit by hand.",
        "",
        "| code | name | default severity | summary |",
        "| --- | --- | --- | --- |",
    ]
    for code in sorted(RULES):
        rule = RULES[code]
        lines.append(f"| [{code}]({code}.md) | {rule.name} | {rule.severity.value} | {rule.summary} |")
    return "\n".join(lines) + "\n"


def write_rule_docs(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "README.md"]
    written[0].write_text(rules_index_markdown(), encoding="utf-8")
    for code, rule in sorted(RULES.items()):
        path = folder / f"{code}.md"
        path.write_text(rule_markdown(rule), encoding="utf-8")
        written.append(path)
    return written
