"""Renderers of evaluation results: one module per output format."""

from govdsl.report.json_report import render_json
from govdsl.report.text import render_text

RENDERERS = {"text": render_text, "json": render_json}

__all__ = ["RENDERERS", "render_json", "render_text"]
