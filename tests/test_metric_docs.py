"""Generated metric docs: docs/metrics/ matches the registry, and `govdsl metrics`/`metric` show the same facts."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from govdsl import docsgen
from govdsl.cli import main
from govdsl.metrics.declaration import MetricDeclaration, Parameter
from govdsl.metrics.registry import REGISTRY
from support import REPO

DOCS = REPO / "docs" / "metrics"


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_committed_docs_match_registry():
    stale = docsgen.stale_pages(DOCS, REGISTRY)

    assert not stale, (
        f"docs/metrics/ is out of date ({', '.join(stale)}): run `{docsgen.REGENERATE_COMMAND}`"
        " from the repository root and commit the result"
    )


def test_every_family_has_page():
    pages = docsgen.render_pages(REGISTRY)

    for family in {d.family for d in REGISTRY.values()}:
        assert f"{docsgen.family_slug(family)}.md" in pages
    assert docsgen.INDEX_PAGE in pages


def test_index_links_every_metric():
    pages = docsgen.render_pages(REGISTRY)

    for name, declaration in REGISTRY.items():
        page = f"{docsgen.family_slug(declaration.family)}.md"
        assert f"[`{name}`]({page}#{name})" in pages[docsgen.INDEX_PAGE]
        assert f"## `{name}`" in pages[page]


def test_family_page_shows_every_fact():
    pages = docsgen.render_pages(REGISTRY)

    for declaration in REGISTRY.values():
        page = pages[f"{docsgen.family_slug(declaration.family)}.md"]
        section = page.split(f"## `{declaration.name}`\n", 1)[1].split("\n## ", 1)[0]
        assert declaration.summary in section
        assert f"- Family: {declaration.family}" in section
        assert docsgen.format_range(declaration.value_range) in section
        for parameter in declaration.parameters:
            assert f"| `{parameter.name}` | {parameter.type} |" in section
        for item in (*declaration.edge_cases, *declaration.limitations):
            assert f"- {item}" in section


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_metric_command_shows_facts(name):
    declaration = REGISTRY[name]

    result = invoke("metric", name)

    assert result.exit_code == 0
    out = result.stdout
    assert out.startswith(docsgen.call_signature(declaration))
    assert f"family: {declaration.family}" in out
    assert f"value range: {docsgen.format_range(declaration.value_range)}" in out
    for parameter in declaration.parameters:
        assert f"    {parameter.name} ({parameter.type}, " in out
    for item in declaration.edge_cases:
        assert f"    - {item}" in out
    for item in declaration.limitations:
        assert f"    - {item}" in out
    if declaration.limitations:
        assert "known limitations:" in out


def test_metric_markdown_equals_docs_section():
    declaration = REGISTRY["demographic_parity_difference"]

    result = invoke("metric", "demographic_parity_difference", "--format", "markdown")

    assert result.exit_code == 0
    assert result.stdout == docsgen.render_metric_markdown(declaration)
    assert result.stdout in (DOCS / "fairness.md").read_text(encoding="utf-8")


def test_metrics_command_groups_by_family():
    result = invoke("metrics")

    assert result.exit_code == 0
    out = result.stdout
    for family, members in docsgen.by_family(REGISTRY).items():
        assert f"\n{family} ({len(members)} metric" in "\n" + out
    for declaration in REGISTRY.values():
        assert f"  {docsgen.call_signature(declaration)}\n" in out
    assert "demographic_parity_difference(by, [dataset]" in out


def test_metrics_family_filter():
    result = invoke("metrics", "--family", "fairness")

    assert result.exit_code == 0
    assert "demographic_parity_difference(" in result.stdout
    assert "accuracy(" not in result.stdout.replace("balanced_accuracy(", "")


def test_metrics_unknown_family_exits_2():
    result = invoke("metrics", "--family", "fairnes")

    assert result.exit_code == 2
    assert "unknown family `fairnes`" in result.stderr
    assert "fairness" in result.stderr


def test_metric_unknown_suggests_name():
    result = invoke("metric", "demographic_parity_ration")

    assert result.exit_code == 2
    assert "did you mean `demographic_parity_ratio`?" in result.stderr


def test_output_needs_markdown():
    result = invoke("metrics", "--output", "somewhere")

    assert result.exit_code == 2
    assert "--format markdown" in result.stderr


def test_check_reports_stale_page(tmp_path):
    assert invoke("metrics", "--format", "markdown", "--output", tmp_path).exit_code == 0
    (tmp_path / "drift.md").write_text(docsgen.GENERATED_MARKER.format(command="x") + "\nold text\n", encoding="utf-8")

    result = invoke("metrics", "--format", "markdown", "--output", tmp_path, "--check")

    assert result.exit_code == 1
    assert "drift.md" in result.stderr
    assert docsgen.REGENERATE_COMMAND in result.stderr


def test_check_passes_after_write(tmp_path):
    assert invoke("metrics", "--format", "markdown", "--output", tmp_path).exit_code == 0

    result = invoke("metrics", "--format", "markdown", "--output", tmp_path, "--check")

    assert result.exit_code == 0


def test_write_removes_only_generated_pages(tmp_path):
    marker = docsgen.GENERATED_MARKER.format(command=docsgen.REGENERATE_COMMAND)
    (tmp_path / "retired-family.md").write_text(marker + "\n# Old\n", encoding="utf-8")
    (tmp_path / "notes.md").write_text("# Hand-written notes\n", encoding="utf-8")

    written, removed = docsgen.write_pages(tmp_path, REGISTRY)

    assert removed == ["retired-family.md"]
    assert not (tmp_path / "retired-family.md").exists()
    assert (tmp_path / "notes.md").read_text(encoding="utf-8") == "# Hand-written notes\n"
    assert set(written) == set(docsgen.render_pages(REGISTRY))


def test_write_twice_changes_nothing(tmp_path):
    docsgen.write_pages(tmp_path, REGISTRY)

    written, removed = docsgen.write_pages(tmp_path, REGISTRY)

    assert written == []
    assert removed == []


def test_new_family_gets_page():
    declaration = MetricDeclaration(
        name="toy_metric",
        summary="A metric of a family that does not exist, with a | in its summary.",
        kind="overall",
        components=("toy",),
        value_range=(float("-inf"), float("inf")),
        reduction="toy_reduction",
        implementation="toy:function",
        parameters=(Parameter("window", "number", True, "Rows per window."),),
        family="Model Ops",
        edge_cases=("no rows makes the value undefined",),
        per_group=True,
    )

    pages = docsgen.render_pages({"toy_metric": declaration})

    assert set(pages) == {"README.md", "model-ops.md"}
    page = pages["model-ops.md"]
    assert "# Model ops metrics" in page
    assert "(-∞, ∞)" in page
    assert "with a \\| in its summary" in page
    assert "| `window` | number | yes | a number of at least 0 | Rows per window. |" in page
    assert "one number per group or per feature" in page


def test_format_range():
    assert docsgen.format_range((0.0, 1.0)) == "[0, 1]"
    assert docsgen.format_range((0.0, float("inf"))) == "[0, ∞)"
    assert docsgen.format_range((float("-inf"), 1.0)) == "(-∞, 1]"
    assert docsgen.format_range((-1.0, 1.0)) == "[-1, 1]"


def test_family_anchors_resolve():
    pages = docsgen.render_pages(REGISTRY)

    for name, page in pages.items():
        if name == docsgen.INDEX_PAGE:
            continue
        headings = set(re.findall(r"^## `([^`]+)`$", page, flags=re.MULTILINE))
        for target in re.findall(r"\]\(#([^)]+)\)", page):
            assert target in headings, f"{name}: link #{target} has no heading"


def test_metrics_imports_no_numeric_library():
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from govdsl.cli import main\n"
        "for args in (['metrics'], ['metric', 'psi'], ['metrics', '--format', 'markdown']):\n"
        "    assert CliRunner().invoke(main, args).exit_code == 0\n"
        "loaded = sorted(m for m in ('pandas', 'numpy', 'scipy', 'fairlearn', 'pyarrow') if m in sys.modules)\n"
        "print(','.join(loaded))\n"
    )

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)

    assert result.stdout.strip() == ""


def test_module_entry_point_checks(tmp_path):
    command = [sys.executable, "-m", "govdsl.docsgen"]

    written = subprocess.run([*command, str(tmp_path)], capture_output=True, text=True, cwd=REPO)
    checked = subprocess.run([*command, "--check", str(tmp_path)], capture_output=True, text=True, cwd=REPO)

    assert written.returncode == 0
    assert checked.returncode == 0
    assert (tmp_path / "README.md").is_file()
