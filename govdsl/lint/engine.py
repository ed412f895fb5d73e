"""Run the lint rules over policy and waiver files, apply selections and suppressions, and decide the exit code.

Lint parses and compiles the policy files like `govdsl compile` (compiler errors and
warnings are findings too), then runs every selected rule. It imports no pandas,
numpy or fairlearn.

A suppression is a comment `# govdsl: ignore[CODE, ...]: reason`. At the end of a
line it suppresses findings that start on that line. At the end of a control's first
line, or alone on the line just above it, it suppresses them in the whole control.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path

from govdsl.compiler import compile_units, load_units
from govdsl.diagnostics import Diagnostic, Severity, Span
from govdsl.errors import InvalidInputError
from govdsl.lint.rules import RULES, clear_caches, finding

_SUPPRESSION = re.compile(r"#\s*govdsl:\s*ignore\[([^\]]*)\]\s*(?::\s*(.*\S))?\s*$")
_LEVELS = {"info": 0, "warning": 1, "error": 2}
_SEVERITY_LEVEL = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


@dataclass
class LintContext:
    units: list
    plan: object | None
    bundle_roles: set[str] | None = None
    root_files: set[str] = field(default_factory=set)

    @property
    def root_units(self) -> list:
        return [unit for unit in self.units if unit.file in self.root_files]

    @property
    def units_by_file(self) -> dict:
        return {unit.file: unit for unit in self.units}


@dataclass
class LintResult:
    findings: list[Diagnostic]
    sources: dict[str, str]
    files: list[str]

    def fails(self, level: str) -> bool:
        threshold = _LEVELS[level]
        return any(_SEVERITY_LEVEL[d.severity] >= threshold for d in self.findings)


@dataclass
class Suppression:
    codes: tuple[str, ...]
    reason: str | None
    span: Span
    scope: tuple[int, int]  # first and last line covered
    used: set[str] = field(default_factory=set)


def _selected(code: str, select: tuple[str, ...], ignore: tuple[str, ...]) -> bool:
    """Return whether a code is selected; prefixes work as in ruff, so `L4` selects L401 to L404."""
    if select and not any(code.startswith(prefix) for prefix in select):
        return False
    return not any(code.startswith(prefix) for prefix in ignore)


def lint_paths(
    paths: list[str],
    select: tuple[str, ...] = (),
    ignore: tuple[str, ...] = (),
    bundle_roles: set[str] | None = None,
    as_of: datetime.date | None = None,
) -> LintResult:
    """Lint policy files (.gov) and waiver files (.yaml, .yml) together; folders are searched for both."""
    policy_files, waiver_files = _expand(paths)
    findings: list[Diagnostic] = []
    sources: dict[str, str] = {}
    context = None
    if policy_files:
        context, compiler_findings, sources = _compile(policy_files, bundle_roles, as_of)
        findings += compiler_findings
        if context is not None:
            clear_caches()
            for rule in RULES.values():
                if rule.check is not None and _selected(rule.code, select, ignore):
                    findings += list(rule.check(context))
    control_ids = set(context.plan.controls) if context is not None and context.plan is not None else None
    for waiver_file in waiver_files:
        from govdsl.lint.waivers import lint_waiver_file

        waiver_findings, text = lint_waiver_file(waiver_file, control_ids, as_of)
        findings += waiver_findings
        sources[waiver_file] = text

    findings = [d for d in findings if _selected(d.code, select, ignore)]
    if context is not None:
        findings = _apply_suppressions(context, findings, select, ignore)
        # Warnings and notes about a file the user did not name, such as an imported shipped
        # policy, are not the user's to fix. Errors are kept, because they stop the compile.
        linted = {unit.file for unit in context.root_units}
        findings = [d for d in findings if d.is_error or d.span is None or d.span.file in linted or d.span.file in waiver_files]
    clear_caches()
    findings.sort(key=lambda d: (d.span.file if d.span else "", d.span.line if d.span else 0, d.span.column if d.span else 0, d.code))
    return LintResult(findings, sources, policy_files + waiver_files)


def _expand(paths: list[str]) -> tuple[list[str], list[str]]:
    policies, waivers = [], []
    for path in paths:
        folder = Path(path)
        if folder.is_dir():
            policies += sorted(p.as_posix() for p in folder.rglob("*.gov"))
            waivers += sorted(p.as_posix() for p in folder.rglob("*waiver*.y*ml"))
        elif path.endswith((".yaml", ".yml")):
            waivers.append(path)
        else:
            policies.append(path)
    return policies, waivers


def _compile(policy_files: list[str], bundle_roles, as_of):
    """Compile the policy files together; when that fails, lint the files that compile on their own.

    One broken file should not hide the findings of every other file. Each file is
    then compiled alone, and the ones that compile are compiled together for the
    rules; the broken files contribute their own diagnostics. When the files that
    compile alone fail together, such as two files declaring the same policy, the
    result of compiling all files together is returned.
    """
    context, findings, sources = _compile_together(policy_files, bundle_roles, as_of)
    if (context is not None and context.plan is not None) or len(policy_files) < 2:
        return context, findings, sources
    compiled, broken = [], []
    for policy_file in policy_files:
        alone, alone_findings, alone_sources = _compile_together([policy_file], bundle_roles, as_of)
        if alone is not None and alone.plan is not None:
            compiled.append(policy_file)
        else:
            broken += alone_findings
            sources = {**alone_sources, **sources}
    if not compiled or len(compiled) == len(policy_files):
        return context, findings, sources
    context, compiled_findings, compiled_sources = _compile_together(compiled, bundle_roles, as_of)
    if context is None or context.plan is None:
        return _compile_together(policy_files, bundle_roles, as_of)
    unique = {(d.code, d.span, d.message): d for d in compiled_findings + broken}
    return context, list(unique.values()), {**sources, **compiled_sources}


def _compile_together(policy_files: list[str], bundle_roles, as_of):
    try:
        units = load_units(policy_files)
    except InvalidInputError as exc:
        return None, list(exc.diagnostics), dict(exc.sources or {})
    sources = {unit.file: unit.text for unit in units}
    roots = {unit.file for unit in units if unit.root}
    try:
        from govdsl.catalog import load_catalogs

        plan, warnings = compile_units(units, load_catalogs(), as_of)
    except InvalidInputError as exc:
        # Rules that read only the syntax tree still run when the policies do not compile.
        return LintContext(units, None, bundle_roles, roots), list(exc.diagnostics), sources
    return LintContext(units, plan, bundle_roles, roots), list(warnings), sources


def _suppressions(context: LintContext) -> list[Suppression]:
    found = []
    for unit in context.root_units:
        lines = unit.text.splitlines()
        control_lines = {}
        for policy in unit.module.policies:
            for control in policy.controls:
                control_lines[control.span.line] = (control.span.line, control.span.end_line)
        for comment in unit.module.comments:
            match = _SUPPRESSION.search(comment.text)
            if not match:
                continue
            codes = tuple(code.strip().upper() for code in match.group(1).split(",") if code.strip())
            line = comment.span.line
            before = lines[line - 1][: comment.span.column - 1] if line <= len(lines) else ""
            if before.strip():
                scope = control_lines.get(line, (line, line))
            else:
                scope = control_lines.get(line + 1, (line + 1, line + 1))
            found.append(Suppression(codes, match.group(2), comment.span, scope))
    return found


def _apply_suppressions(context: LintContext, findings: list[Diagnostic], select, ignore) -> list[Diagnostic]:
    suppressions = _suppressions(context)
    kept = []
    for diagnostic in findings:
        covering = [
            s
            for s in suppressions
            if diagnostic.span is not None
            and diagnostic.span.file == s.span.file
            and s.scope[0] <= diagnostic.span.line <= s.scope[1]
            and diagnostic.code in s.codes
        ]
        if covering and not diagnostic.is_error:
            for suppression in covering:
                suppression.used.add(diagnostic.code)
            continue
        kept.append(diagnostic)
    for suppression in suppressions:
        if not suppression.reason and _selected("L901", select, ignore):
            kept.append(finding("L901", f"suppression of {', '.join(suppression.codes)} gives no reason", suppression.span,
                                "write the reason after a colon: `# govdsl: ignore[CODE]: why this is acceptable`"))
        unused = [code for code in suppression.codes if code not in suppression.used and _selected(code, select, ignore)]
        if unused and _selected("L902", select, ignore):
            kept.append(finding("L902", f"suppression of {', '.join(unused)} suppresses nothing here", suppression.span,
                                "remove the code from the comment, or the comment"))
    return kept
