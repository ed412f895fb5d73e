"""Lexical rules that the Lark parser and the fast parser share: string escapes, duration units, end of text."""

from __future__ import annotations

# The escape sequences a string may contain, by the character after the backslash.
ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}

# Days per duration unit; a year counts as 365 days.
DURATION_DAYS = {"d": 1.0, "w": 7.0, "h": 1.0 / 24.0, "y": 365.0}


def end_position(text: str) -> tuple[int, int]:
    """Return the line and column just past the last character of `text`, ignoring trailing newlines."""
    # Split on "\n" only, as Lark counts lines; str.splitlines() also splits on form feeds and others.
    lines = text.rstrip("\n").split("\n")
    return len(lines), len(lines[-1]) + 1
