"""Coverage as HTML and as an OSCAL component-definition: safe, self-contained, valid and reproducible."""

from __future__ import annotations

import datetime
import json
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner
from trestle.oscal.component import Model

from govdsl.catalog import load_catalogs
from govdsl.cli import main
from govdsl.compiler import compile_policies
from govdsl.report.coverage import compute_coverage
from govdsl.report.coverage_html import render_coverage_html
from govdsl.report.coverage_oscal import build_component_definition, render_coverage_oscal
from govdsl.report.coverage_render import COVERAGE_RENDERERS
from govdsl.report.oscal import OSCAL_VERSION, clause_token
from support import write_policy

COMPAS = "govdsl:examples/compas.gov"
AS_OF = "2026-12-04"
HOSTILE = "<script>alert(1)</script>"

HOSTILE_POLICY = f"""
policy hostile {{
  version "1.0"
  control fair {{
    title "{HOSTILE}"
    maps ["NIST-AI-RMF:MEASURE 2.11"]
    enforcement hard
    check selection_rate_difference(by = "sex") <= 0.1
  }}
}}
"""


class _Collector(HTMLParser):
    """Collect start tags and text, so a test checks what a browser would parse."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def parse(document: str) -> _Collector:
    collector = _Collector()
    collector.feed(document)
    collector.close()
    return collector


def coverage_of(policies, min_coverage=None):
    catalogs = load_catalogs()
    plan, _ = compile_policies([str(p) for p in policies], catalogs, as_of=datetime.date.fromisoformat(AS_OF))
    return compute_coverage(plan, catalogs, min_coverage=min_coverage, as_of=AS_OF), plan


@pytest.fixture(scope="module")
def compas():
    return coverage_of([COMPAS])


@pytest.fixture()
def hostile(tmp_path):
    return coverage_of([write_policy(tmp_path, HOSTILE_POLICY)])


def test_html_parses_without_script(compas):
    coverage, plan = compas
    document = render_coverage_html(coverage, plan.controls)
    parsed = parse(document)
    assert parsed.tags[0] == "html"
    assert "script" not in parsed.tags
    assert "<script" not in document.lower()
    assert 'http-equiv="Content-Security-Policy"' in document
    assert "default-src 'none'" in document


def test_html_loads_no_external_resource(compas):
    coverage, plan = compas
    document = render_coverage_html(coverage, plan.controls)
    assert "http://" not in document
    assert "https://" not in document
    assert "<link" not in document
    assert "<img" not in document


def test_html_escapes_policy_text(hostile):
    coverage, plan = hostile
    document = render_coverage_html(coverage, plan.controls)
    assert HOSTILE not in document
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in document
    assert HOSTILE in "".join(parse(document).text)  # shown as text, not run


def test_html_renderer_shows_control_titles(hostile):
    coverage, _ = hostile
    document = COVERAGE_RENDERERS["html"](coverage)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in document
    assert "enforcement hard" in document


def test_html_shows_uncovered_clauses(compas):
    coverage, plan = compas
    document = render_coverage_html(coverage, plan.controls)
    uncovered = [r for r in coverage.rows if r.status == "uncovered"]
    assert uncovered
    for row in uncovered:
        assert f"<code>{row.clause_id}</code>" in document
    assert ">uncovered</span>" in document


def test_html_shows_shares_per_group(compas):
    coverage, plan = compas
    document = render_coverage_html(coverage, plan.controls)
    for framework in coverage.frameworks:
        assert framework.name.replace("'", "&#x27;") in document
        for group in framework.groups:
            assert f"<code>{group.name}</code>" in document


def test_oscal_validates_with_trestle(compas):
    coverage, plan = compas
    model = Model.model_validate(json.loads(render_coverage_oscal(coverage, plan.controls)))
    definition = model.model_dump(mode="json", by_alias=True, exclude_none=True)["component-definition"]
    assert definition["metadata"]["oscal-version"] == OSCAL_VERSION
    (component,) = definition["components"]
    assert component["type"] == "policy"
    assert len(component["control-implementations"]) == len(coverage.frameworks)


def test_oscal_byte_identical_across_runs(compas):
    coverage, plan = compas
    assert render_coverage_oscal(coverage, plan.controls) == render_coverage_oscal(coverage, plan.controls)
    again, again_plan = coverage_of([COMPAS])
    assert render_coverage_oscal(again, again_plan.controls) == render_coverage_oscal(coverage, plan.controls)


def test_oscal_one_requirement_per_covered_clause(compas):
    coverage, plan = compas
    (component,) = build_component_definition(coverage, plan.controls)["component-definition"]["components"]
    implemented = {}
    for implementation in component["control-implementations"]:
        for requirement in implementation["implemented-requirements"]:
            clause = next(p["value"] for p in requirement["props"] if p["name"] == "clause")
            assert clause not in implemented
            implemented[clause] = requirement
    covered = [r.reference for r in coverage.rows if r.covered]
    assert covered
    assert sorted(implemented) == sorted(covered)
    uncovered = [r.reference for r in coverage.rows if r.status == "uncovered"]
    assert not set(uncovered) & set(implemented)


def test_oscal_control_ids_are_clause_tokens(compas):
    coverage, plan = compas
    (component,) = build_component_definition(coverage, plan.controls)["component-definition"]["components"]
    tokens = {clause_token(r.reference): r for r in coverage.rows if r.covered}
    for implementation in component["control-implementations"]:
        for requirement in implementation["implemented-requirements"]:
            row = tokens[requirement["control-id"]]
            props = {p["name"]: p["value"] for p in requirement["props"] if p["name"] != "control"}
            assert props["clause"] == row.reference
            assert props["basis"] == row.basis


def test_oscal_names_controls_and_enforcement(compas):
    coverage, plan = compas
    (component,) = build_component_definition(coverage, plan.controls)["component-definition"]["components"]
    requirement = component["control-implementations"][0]["implemented-requirements"][0]
    assert "`compas_fairness.fpr_parity_race`" in requirement["description"]
    assert "enforcement hard" in requirement["description"]


def test_oscal_counts_uncovered_per_framework(compas):
    coverage, plan = compas
    (component,) = build_component_definition(coverage, plan.controls)["component-definition"]["components"]
    by_framework = {}
    for implementation in component["control-implementations"]:
        props = {p["name"]: p["value"] for p in implementation["props"]}
        by_framework[props["framework"]] = props
    for framework in coverage.frameworks:
        assert by_framework[framework.framework]["not-covered"] == str(framework.overall.not_covered)


def test_oscal_framework_without_coverage(tmp_path):
    policy = write_policy(
        tmp_path,
        'policy bare { control none { maps ["NIST-AI-RMF:MEASURE 2.11"] check model.id == "x" } }',
    )
    coverage, plan = coverage_of([policy])
    document = build_component_definition(coverage, plan.controls)
    Model.model_validate(document)
    (component,) = document["component-definition"]["components"]
    assert "control-implementations" not in component
    props = {p["name"]: p["value"] for p in component["props"]}
    assert props["framework-without-coverage"] == "NIST-AI-RMF"


@pytest.mark.parametrize("output_format", ["html", "oscal"])
def test_cli_writes_output_file(output_format, tmp_path):
    output = tmp_path / f"coverage.{output_format}"
    result = CliRunner().invoke(main, ["coverage", COMPAS, "--format", output_format, "--as-of", AS_OF, "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    text = output.read_text(encoding="utf-8")
    if output_format == "oscal":
        Model.model_validate(json.loads(text))
    else:
        assert text.startswith("<!DOCTYPE html>")
        assert "enforcement hard" in text


@pytest.mark.parametrize("output_format", ["html", "oscal"])
def test_cli_min_coverage_exits_one(output_format, tmp_path):
    output = tmp_path / "coverage.out"
    result = CliRunner().invoke(
        main, ["coverage", COMPAS, "--format", output_format, "--as-of", AS_OF, "--min-coverage", "50", "-o", str(output)]
    )
    assert result.exit_code == 1, result.output
    assert "below the minimum of 50%" in result.stderr
    assert output.is_file()


def test_oscal_leaves_out_unchecked_clauses(tmp_path):
    policy = write_policy(
        tmp_path,
        """
        policy mixed {
          control fair { maps ["NIST-AI-RMF:MEASURE 2.11"] check selection_rate_difference(by = "sex") <= 0.1 }
          control named { maps ["NIST-AI-RMF:MEASURE 2.1"] check model.id == "x" }
        }
        """,
    )
    coverage, plan = coverage_of([policy])
    statuses = {r.reference: r.status for r in coverage.rows if r.controls}
    assert statuses == {"NIST-AI-RMF:MEASURE 2.11": "covered", "NIST-AI-RMF:MEASURE 2.1": "unchecked"}
    (component,) = build_component_definition(coverage, plan.controls)["component-definition"]["components"]
    (implementation,) = component["control-implementations"]
    control_ids = [r["control-id"] for r in implementation["implemented-requirements"]]
    assert control_ids == [clause_token("NIST-AI-RMF:MEASURE 2.11")]
