"""Colour for the text report on a terminal: statuses and the gate line get ANSI colours.

The text renderer writes plain text; this module colours its status words after
the fact, so the two stay independent. The CLI calls it only when stdout is a
terminal and NO_COLOR is unset or empty (see https://no-color.org).
"""

from __future__ import annotations

import re

import click

_COLOURS = {
    "PASS": "green",
    "FAIL": "red",
    "ERROR": "magenta",
    "INSUFFICIENT": "yellow",
    "BLOCKED": "red",
    "WAIVED": "blue",
    "SKIPPED": "bright_black",
}
# A status word that starts a control or check line of the text report.
_STATUS_AT_LINE_START = re.compile(r"^(\s*)(" + "|".join(_COLOURS) + r")(?=\s)", re.MULTILINE)
_GATE = re.compile(r"^Gate: (PASSED|BLOCKED)", re.MULTILINE)


def colour_text_report(text: str) -> str:
    """Colour the status words at line starts and the gate decision of a text report."""

    def status(match: re.Match) -> str:
        word = match.group(2)
        bold = True if word in ("FAIL", "BLOCKED") else None
        return match.group(1) + click.style(word, fg=_COLOURS[word], bold=bold)

    def gate(match: re.Match) -> str:
        decision = match.group(1)
        return "Gate: " + click.style(decision, fg="green" if decision == "PASSED" else "red", bold=True)

    return _GATE.sub(gate, _STATUS_AT_LINE_START.sub(status, text))


def wants_colour(stream, environ) -> bool:
    """Whether to colour output to `stream`: only a terminal, and never when NO_COLOR is set and not empty."""
    if environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
