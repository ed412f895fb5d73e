"""The output formats of `govdsl check`: a renderer per format, and the checks of `--report FMT=PATH` made before evaluation."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass

from govdsl.engine.results import Results

# Format name -> (module, function); modules load only when their format is used.
_RENDERERS = {
    "text": ("govdsl.report.text", "render_text"),
    "json": ("govdsl.report.json_report", "render_json"),
    "junit": ("govdsl.report.junit", "render_junit"),
    "markdown": ("govdsl.report.markdown", "render_markdown"),
    "csv": ("govdsl.report.csv_report", "render_csv"),
    "html": ("govdsl.report.html", "render_html"),
    "oscal": ("govdsl.report.oscal", "render_oscal"),
}
FORMATS = tuple(_RENDERERS)


@dataclass(frozen=True)
class ReportTarget:
    format: str
    path: str


def renderer(name: str) -> Callable[[Results], str]:
    module, function = _RENDERERS[name]
    return getattr(importlib.import_module(module), function)


def parse_report_target(value: str) -> ReportTarget:
    """Parse `FMT=PATH`; raise ValueError with a message for the user when it is not one."""
    name, separator, path = value.partition("=")
    name, path = name.strip().lower(), path.strip()
    if not separator or not name or not path:
        raise ValueError(f"`{value}` is not FMT=PATH, such as html=report.html")
    if name not in _RENDERERS:
        raise ValueError(f"unknown format `{name}` in `{value}`; formats: {', '.join(FORMATS)}")
    return ReportTarget(name, path)


def format_problem(name: str) -> str | None:
    """Return why a format cannot be rendered here (a missing optional package), or None."""
    if name == "html":
        from govdsl.report.html import missing_dependency

        return missing_dependency()
    return None


def path_problem(path: str) -> str | None:
    """Return why a report cannot be written to `path`, or None; the file is neither created nor changed."""
    if os.path.isdir(path):
        return f"`{path}` is a folder; give a file name"
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        return f"the folder of `{path}` does not exist"
    if os.path.exists(path) and not os.access(path, os.W_OK):
        return f"`{path}` is not writable"
    if not os.path.exists(path) and not os.access(folder, os.W_OK | os.X_OK):
        return f"the folder of `{path}` is not writable"
    return None
