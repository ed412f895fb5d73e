"""Helpers for the YAML files govdsl reads: dates kept as ISO strings, and positions of key paths."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

import yaml

from govdsl.diagnostics import Diagnostic, Span, error
from govdsl.errors import InvalidInputError


_BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _DatesAsTextLoader(_BASE_LOADER):
    """A safe loader that keeps unquoted dates such as `2026-02-30` as text, so no date raises while loading."""


_DatesAsTextLoader.add_constructor("tag:yaml.org,2002:timestamp", _BASE_LOADER.construct_yaml_str)


def load_yaml(text: str):
    """Parse YAML safely, with every date left as its text; callers parse and check dates themselves."""
    return yaml.load(text, Loader=_DatesAsTextLoader)


def parse_yaml_document(text: str, display: str, code: str, what: str):
    """Parse YAML text with dates kept as text; raise InvalidInputError with `code` at the error's position."""
    try:
        return load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        span = Span.point(display, mark.line + 1, mark.column + 1) if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise InvalidInputError(
            [error(code, f"{what} `{display}` is not valid YAML: {problem}", span, "fix the YAML syntax at this position")],
            {display: text},
        ) from None


def stringify_dates(value):
    """Return `value` with every date YAML parsed from an unquoted `2024-07-12` turned back into its ISO string."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: stringify_dates(item) for key, item in value.items()}
    if isinstance(value, list):
        return [stringify_dates(item) for item in value]
    return value


def locate(text: str, path: Sequence[str | int]) -> tuple[int, int] | None:
    """Return the 1-based (line, column) of the deepest node of `path`, such as `datasets[0].path`, in `text`."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    if node is None:
        return None
    mark = node.start_mark
    for part in path:
        child = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key_node, value_node in node.value:
                if key_node.value == part:
                    child, mark = value_node, key_node.start_mark
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
            mark = child.start_mark
        if child is None:
            break
        node = child
    return mark.line + 1, mark.column + 1


def key_text(path: Sequence[str | int]) -> str:
    """Return a key path as text, such as `datasets[0].path`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif text:
            text += f".{part}"
        else:
            text = str(part)
    return text


class YamlProblems:
    """Collects diagnostics about one YAML file, placing each at the line of its key."""

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.text = text
        self.items: list[Diagnostic] = []

    def add(self, code: str, message: str, path: Sequence[str | int] | None = None, help: str | None = None) -> None:
        span = None
        if path is not None:
            position = locate(self.text, path)
            if position is not None:
                span = Span.point(self.file, *position)
        self.items.append(error(code, message, span, help))

    def raise_if_any(self) -> None:
        if self.items:
            raise InvalidInputError(self.items, {self.file: self.text})


def schema_error_text(problem) -> tuple[list[str | int], str, str | None]:
    """Return the key path, the message and a hint for a jsonschema ValidationError, in words a YAML author can act on.

    An unknown key is placed at that key, with the closest known key as a hint,
    because jsonschema places it at the mapping that contains it. An invalid date is
    named as such rather than as a failed format.
    """
    import difflib
    import re

    path = list(problem.absolute_path)
    if problem.validator == "additionalProperties" and isinstance(problem.instance, dict):
        schema = problem.schema if isinstance(problem.schema, dict) else {}
        known = list(schema.get("properties", {}))
        patterns = [re.compile(pattern) for pattern in schema.get("patternProperties", {})]
        unknown = [
            key for key in problem.instance
            if key not in known and not any(pattern.search(str(key)) for pattern in patterns)
        ]
        if unknown:
            key = unknown[0]
            close = difflib.get_close_matches(str(key), known, n=1)
            if close:
                hint = f"did you mean `{close[0]}`?"
            elif known:
                hint = f"known keys here: {', '.join(known)}"
            else:
                hint = None
            return path + [key], f"unknown key `{key}`", hint
    if problem.validator == "format" and problem.validator_value == "date":
        return path, f"`{problem.instance}` is not a valid calendar date", "write the date as YYYY-MM-DD"
    return path, problem.message, None
