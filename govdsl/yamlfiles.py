"""Helpers for the YAML files govdsl reads: dates kept as ISO strings, and positions of key paths."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

import yaml


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
