"""Render the metric registry as text for `govdsl metric` and as the Markdown pages of docs/metrics/.

Both renderings read the same facts from each `MetricDeclaration`, so the command
line and the docs cannot disagree. This module imports no numeric library.

Run `python -m govdsl.docsgen [DIRECTORY]` (default `docs/metrics`) to regenerate
the pages, or `python -m govdsl.docsgen --check [DIRECTORY]` to compare them.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from govdsl.metrics.declaration import MetricDeclaration

REGENERATE_COMMAND = "govdsl metrics --format markdown --output docs/metrics/"
INDEX_PAGE = "README.md"
# The first line of every generated page; only files that start with it are replaced or removed.
GENERATED_MARKER = "<!-- Generated from govdsl's metric registry by `{command}`. Do not edit. -->"

_COMPARED = "a check compares it through an aggregate such as `max(...)` or a quantifier such as `every g in ...`"


def family_slug(family: str) -> str:
    """Return the file name stem of a family's page: `data quality` becomes `data-quality`."""
    return re.sub(r"[^a-z0-9]+", "-", family.lower()).strip("-")


def format_range(value_range: tuple[float, float]) -> str:
    """Format a value range in interval notation, with an open bracket at an infinite end: `[0, ∞)`."""
    low, high = value_range
    left = "(-∞" if math.isinf(low) else f"[{low:g}"
    right = "∞)" if math.isinf(high) else f"{high:g}]"
    return f"{left}, {right}"


def metric_facts(declaration: MetricDeclaration) -> list[tuple[str, str]]:
    """Return the labelled facts of a metric that both renderings show, in display order."""
    facts = [
        ("family", declaration.family),
        ("value", _value_shape(declaration)),
        ("value range", f"{format_range(declaration.value_range)}; {declaration.better} values are better"),
        ("reported per group or feature", ", ".join(declaration.components)),
    ]
    roles = ", ".join(f"`{role}`" for role in declaration.roles) or "none (reads bundle.yaml and the model card)"
    facts.append(("dataset roles", roles))
    reduction = f"`{declaration.reduction}`"
    if declaration.reduction_arguments:
        shared = ", ".join(f"`{name}`" for name in declaration.reduction_arguments)
        reduction += f"; checks with equal {shared} share one pass over the data"
    facts.append(("reduction", reduction))
    return facts


def _value_shape(declaration: MetricDeclaration) -> str:
    if declaration.per_group:
        return f"one number per group or per feature; {_COMPARED}"
    if declaration.kind == "between_groups":
        return "one number that compares the groups of `by`"
    if declaration.kind == "overall":
        by = declaration.parameter("by")
        if by is not None and not by.required:
            return f"one number for the dataset; with `by`, one number per group, and {_COMPARED}"
        return "one number for the dataset"
    return declaration.kind.replace("_", " ")


def call_signature(declaration: MetricDeclaration) -> str:
    """Return the metric as a call with its parameters, optional ones in brackets: `name(by, [dataset])`."""
    arguments = ", ".join(p.name if p.required else f"[{p.name}]" for p in declaration.parameters)
    return f"{declaration.name}({arguments})"


def by_family(registry: Mapping[str, MetricDeclaration]) -> dict[str, list[MetricDeclaration]]:
    """Group the declarations by family, families in registry order and metrics by name within each."""
    families: dict[str, list[MetricDeclaration]] = {}
    for declaration in registry.values():
        families.setdefault(declaration.family, []).append(declaration)
    return {family: sorted(members, key=lambda d: d.name) for family, members in families.items()}


# Text, for the command line.


def render_metric_text(declaration: MetricDeclaration) -> str:
    """Render one metric for `govdsl metric NAME`."""
    lines = [call_signature(declaration), f"  {declaration.summary}", ""]
    lines += [f"  {label}: {value}" for label, value in metric_facts(declaration)]
    if declaration.parameters:
        lines += ["", "  parameters:"]
        for parameter in declaration.parameters:
            required = "required" if parameter.required else "optional"
            accepted = parameter.accepted()
            values = f"; {accepted}" if accepted else ""
            lines.append(f"    {parameter.name} ({parameter.type}, {required}{values}): {parameter.doc}")
    for title, items in (("edge cases", declaration.edge_cases), ("known limitations", declaration.limitations)):
        if items:
            lines += ["", f"  {title}:"]
            lines += [f"    - {item}" for item in items]
    return "\n".join(lines) + "\n"


def render_metrics_text(registry: Mapping[str, MetricDeclaration]) -> str:
    """Render the list for `govdsl metrics`: per family, each metric's call, then its range and summary."""
    blocks = []
    for family, members in by_family(registry).items():
        lines = [f"{family} ({len(members)} metric{'s' if len(members) != 1 else ''})"]
        for declaration in members:
            value_range = format_range(declaration.value_range)
            lines.append(f"  {call_signature(declaration)}")
            lines.append(f"      {value_range}, {declaration.better} is better. {declaration.summary}")
        blocks.append("\n".join(lines))
    footer = "Run `govdsl metric NAME` for a metric's parameters, edge cases and known limitations."
    return "\n\n".join(blocks + [footer]) + "\n"


# Markdown, for docs/metrics/.


def _cell(text: str) -> str:
    """Escape text for one cell of a Markdown table."""
    return text.replace("|", "\\|").replace("\n", " ")


def render_metric_markdown(declaration: MetricDeclaration) -> str:
    """Render one metric as a Markdown section with a level-2 heading."""
    lines = [f"## `{declaration.name}`", "", declaration.summary, "", f"`{call_signature(declaration)}`", ""]
    lines += [f"- {label.capitalize()}: {value}" for label, value in metric_facts(declaration)]
    if declaration.parameters:
        lines += ["", "| parameter | type | required | values | description |", "| --- | --- | --- | --- | --- |"]
        for parameter in declaration.parameters:
            required = "yes" if parameter.required else "no"
            values = _cell(parameter.accepted() or "any")
            lines.append(f"| `{parameter.name}` | {parameter.type} | {required} | {values} | {_cell(parameter.doc)} |")
    for title, items in (("Edge cases", declaration.edge_cases), ("Known limitations", declaration.limitations)):
        if items:
            lines += ["", f"{title}:", ""]
            lines += [f"- {item}" for item in items]
    return "\n".join(lines) + "\n"


def _header(title: str) -> list[str]:
    return [GENERATED_MARKER.format(command=REGENERATE_COMMAND), "", f"# {title}", ""]


def _anchor(name: str) -> str:
    """Return the anchor GitHub gives the heading `` `name` ``: the name, lowercase, without backticks."""
    return re.sub(r"[^a-z0-9_ -]", "", name.lower()).replace(" ", "-")


def render_family_page(family: str, members: Iterable[MetricDeclaration]) -> str:
    members = list(members)
    lines = _header(f"{family.capitalize()} metrics")
    lines += [f"{len(members)} metric{'s' if len(members) != 1 else ''}. [All families](README.md).", ""]
    lines += ["| metric | value range | better | summary |", "| --- | --- | --- | --- |"]
    for declaration in members:
        link = f"[`{declaration.name}`](#{_anchor(declaration.name)})"
        lines.append(
            f"| {link} | {format_range(declaration.value_range)} | {declaration.better} | {_cell(declaration.summary)} |"
        )
    sections = [render_metric_markdown(declaration) for declaration in members]
    return "\n".join(lines) + "\n\n" + "\n".join(sections)


def render_index_page(families: Mapping[str, list[MetricDeclaration]]) -> str:
    lines = _header("Metrics")
    total = sum(len(members) for members in families.values())
    lines += [
        f"A check can call {total} metrics in {len(families)} families. Each page lists a family's metrics with"
        " their parameters, value range, edge cases and known limitations, as `govdsl metric NAME` prints them.",
        "",
        "| family | metrics |",
        "| --- | ---: |",
    ]
    for family, members in families.items():
        lines.append(f"| [{family}]({family_slug(family)}.md) | {len(members)} |")
    lines += ["", "| metric | family | summary |", "| --- | --- | --- |"]
    every = sorted((d for members in families.values() for d in members), key=lambda d: d.name)
    for declaration in every:
        page = f"{family_slug(declaration.family)}.md#{_anchor(declaration.name)}"
        lines.append(f"| [`{declaration.name}`]({page}) | {declaration.family} | {_cell(declaration.summary)} |")
    return "\n".join(lines) + "\n"


def render_pages(registry: Mapping[str, MetricDeclaration]) -> dict[str, str]:
    """Return every page of docs/metrics/ by file name: the index and one page per family."""
    families = by_family(registry)
    pages = {INDEX_PAGE: render_index_page(families)}
    for family, members in families.items():
        pages[f"{family_slug(family)}.md"] = render_family_page(family, members)
    return pages


def _generated_files(directory: Path) -> dict[str, str]:
    """Return the generated pages already in `directory` by file name; other files are left out."""
    if not directory.is_dir():
        return {}
    marker = GENERATED_MARKER.split("{command}")[0]
    found = {}
    for path in sorted(directory.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        if text.startswith(marker):
            found[path.name] = text
    return found


def stale_pages(directory: Path, registry: Mapping[str, MetricDeclaration]) -> list[str]:
    """Return the names of pages that differ from the registry, are missing, or are generated but no longer needed."""
    expected = render_pages(registry)
    present = _generated_files(directory)
    names = sorted(set(expected) | set(present))
    return [name for name in names if expected.get(name) != _read(directory / name)]


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def write_pages(directory: Path, registry: Mapping[str, MetricDeclaration]) -> tuple[list[str], list[str]]:
    """Write the pages into `directory`, removing generated pages of families that no longer exist.

    Returns the names written (only changed pages) and the names removed. Files
    that do not start with the generated marker are never touched.
    """
    directory.mkdir(parents=True, exist_ok=True)
    expected = render_pages(registry)
    written = []
    for name, text in expected.items():
        if _read(directory / name) != text:
            (directory / name).write_text(text, encoding="utf-8", newline="\n")
            written.append(name)
    removed = [name for name in _generated_files(directory) if name not in expected]
    for name in removed:
        (directory / name).unlink()
    return written, removed


def main(argv: list[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in arguments
    paths = [argument for argument in arguments if argument != "--check"]
    if len(paths) > 1 or any(path.startswith("-") for path in paths):
        print("usage: python -m govdsl.docsgen [--check] [DIRECTORY]", file=sys.stderr)
        return 2
    directory = Path(paths[0] if paths else "docs/metrics")

    from govdsl.metrics.registry import REGISTRY

    if check:
        stale = stale_pages(directory, REGISTRY)
        if stale:
            print(f"out of date in {directory}: {', '.join(stale)}; run `{REGENERATE_COMMAND}`", file=sys.stderr)
            return 1
        return 0
    written, removed = write_pages(directory, REGISTRY)
    print(f"{directory}: {len(written)} page(s) written, {len(removed)} removed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
