"""The one diagnostic type for every error, warning and note, and its text rendering."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, order=True)
class Span:
    """A region of a source file; lines and columns are 1-based and the end is exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    @classmethod
    def point(cls, file: str, line: int, column: int) -> Span:
        return cls(file, line, column, line, column + 1)

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
        }


@dataclass(frozen=True)
class Diagnostic:
    """A finding about user input: a stable code, a one-sentence message, where, and what to do."""

    code: str
    severity: Severity
    message: str
    span: Span | None = None
    help: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "span": self.span.to_dict() if self.span else None,
            "help": self.help,
            "notes": list(self.notes),
        }


def error(code: str, message: str, span: Span | None = None, help: str | None = None) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, message, span, help)


def warning(code: str, message: str, span: Span | None = None, help: str | None = None) -> Diagnostic:
    return Diagnostic(code, Severity.WARNING, message, span, help)


def info(code: str, message: str, span: Span | None = None, help: str | None = None) -> Diagnostic:
    return Diagnostic(code, Severity.INFO, message, span, help)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


def sort_key(diagnostic: Diagnostic) -> tuple:
    span = diagnostic.span
    if span is None:
        return ("", 0, 0, diagnostic.code)
    return (span.file, span.line, span.column, diagnostic.code)


def render(diagnostic: Diagnostic, sources: Mapping[str, str] | None = None) -> str:
    """Render a diagnostic as code and message, a `-->` location, the source line with a caret, and help.

    `sources` maps file names to their text; a span whose file is not in it is
    rendered without the source line.
    """
    lines = [f"{diagnostic.severity.value}[{diagnostic.code}]: {diagnostic.message}"]
    span = diagnostic.span
    # The `-->` arrow and the `=` notes line up with the `|` of the source gutter.
    pad = " " * len(str(span.line)) if span is not None else " "
    if span is not None:
        lines.append(f"{pad}--> {span.file}:{span.line}:{span.column}")
        text = (sources or {}).get(span.file)
        source_lines = text.splitlines() if text is not None else []
        if 1 <= span.line <= len(source_lines):
            source_line = source_lines[span.line - 1].replace("\t", " ")
            gutter = str(span.line)
            if span.end_line == span.line:
                width = max(1, span.end_column - span.column)
            else:
                width = max(1, len(source_line) - span.column + 1)
            lines.append(f"{pad} |")
            lines.append(f"{gutter} | {source_line}")
            lines.append(f"{pad} | {' ' * (span.column - 1)}{'^' * width}")
    for note in diagnostic.notes:
        lines.append(f"{pad} = note: {note}")
    if diagnostic.help:
        lines.append(f"{pad} = help: {diagnostic.help}")
    return "\n".join(lines)


def render_all(
    diagnostics: Iterable[Diagnostic], sources: Mapping[str, str] | None = None, limit: int = 50
) -> str:
    """Render diagnostics in source order, at most `limit` of them, then a count of the rest."""
    ordered = sorted(diagnostics, key=sort_key)
    parts = [render(d, sources) for d in ordered[:limit]]
    if len(ordered) > limit:
        parts.append(f"... and {len(ordered) - limit} more")
    return "\n\n".join(parts)
