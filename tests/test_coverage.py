"""Coverage: leaf clauses only, parents not counted, derived links via crosswalks, deleted clauses, minimums."""

from __future__ import annotations

import csv
import datetime
import io
import json

import pytest

from govdsl.catalog import load_catalogs
from govdsl.compiler import compile_policies
from govdsl.report.coverage import compute_coverage
from govdsl.report.coverage_render import COVERAGE_RENDERERS
from support import REPO, write_policy

FIXTURE_CATALOGS = str(REPO / "tests" / "data" / "coverage")

POLICY = """
policy p {
  control leaf { maps ["FW-A:1.1"] check selection_rate() <= 1 }
  control parent { maps ["FW-A:1"] check selection_rate() <= 1 }
}
"""


@pytest.fixture()
def catalogs():
    return load_catalogs(FIXTURE_CATALOGS)


@pytest.fixture()
def plan(tmp_path, catalogs):
    path = write_policy(tmp_path, POLICY)
    compiled, _ = compile_policies([str(path)], catalogs, as_of=datetime.date(2026, 12, 4))
    return compiled


def rows_by_id(coverage, framework):
    return {r.clause_id: r for r in coverage.rows if r.framework == framework}


def test_counts_leaves_only(plan, catalogs):
    coverage = compute_coverage(plan, catalogs)
    (framework,) = coverage.frameworks
    assert framework.framework == "FW-A"
    assert (framework.overall.covered, framework.overall.total) == (1, 3)
    assert framework.overall.percent == pytest.approx(33.3)


def test_technical_and_procedural_tallies(plan, catalogs):
    (framework,) = compute_coverage(plan, catalogs).frameworks
    assert (framework.technical.covered, framework.technical.total) == (1, 1)
    assert (framework.procedural.covered, framework.procedural.total) == (0, 2)


def test_group_tallies(plan, catalogs):
    (framework,) = compute_coverage(plan, catalogs).frameworks
    groups = {g.name: g for g in framework.groups}
    assert (groups["1"].covered, groups["1"].total) == (1, 2)
    assert (groups["2"].covered, groups["2"].total) == (0, 1)
    assert groups["3"].total == 0
    assert groups["3"].percent is None


def test_parent_mapping_not_counted(plan, catalogs):
    rows = rows_by_id(compute_coverage(plan, catalogs), "FW-A")
    assert rows["1"].leaf is False
    assert rows["1"].counted is False
    assert rows["1"].controls == (("p.parent", None),)
    assert rows["1"].status == "parent"
    assert rows["1.2"].status == "uncovered"  # the parent mapping does not cover its children


def test_uncovered_and_deleted_rows(plan, catalogs):
    rows = rows_by_id(compute_coverage(plan, catalogs), "FW-A")
    assert rows["2"].status == "uncovered"
    assert rows["3.1"].status == "deleted"
    assert rows["3.1"].counted is False
    assert rows["1.1"].status == "covered"


def test_derived_never_counted(plan, catalogs):
    coverage = compute_coverage(plan, catalogs, ["FW-B"])
    rows = rows_by_id(coverage, "FW-B")
    assert rows["X"].status == "uncovered"
    assert [(d.control, d.via) for d in rows["X"].derived] == [("p.leaf", "FW-A:1.1")]
    (framework,) = coverage.frameworks
    assert framework.overall.covered == 0
    assert framework.superseded_by == "FW-A"


def test_derived_in_reverse_direction(tmp_path, catalogs):
    path = write_policy(tmp_path, 'policy q { control c { maps ["FW-B:X"] } }')
    plan, _ = compile_policies([str(path)], catalogs, as_of=datetime.date(2026, 12, 4))
    rows = rows_by_id(compute_coverage(plan, catalogs, ["FW-A"]), "FW-A")
    assert [(d.control, d.via) for d in rows["1.1"].derived] == [("q.c", "FW-B:X")]
    assert rows["1.1"].status == "uncovered"


def test_min_coverage(plan, catalogs):
    assert compute_coverage(plan, catalogs, min_coverage=30).below_minimum == ()
    assert compute_coverage(plan, catalogs, min_coverage=40).below_minimum == ("FW-A",)


def test_min_coverage_uses_exact_share(plan, catalogs):
    # 1 of 3 is 33.33...%, shown as 33.3; a minimum of 33.34 must still fail.
    assert compute_coverage(plan, catalogs, min_coverage=33.34).below_minimum == ("FW-A",)
    assert compute_coverage(plan, catalogs, min_coverage=33.3).below_minimum == ()


def test_repeated_framework_listed_once(plan, catalogs):
    coverage = compute_coverage(plan, catalogs, ["FW-A", "FW-A"])
    assert [f.framework for f in coverage.frameworks] == ["FW-A"]


def test_evaluated_statuses(plan, catalogs):
    coverage = compute_coverage(plan, catalogs, control_statuses={"p.leaf": "fail", "p.parent": "pass"})
    rows = rows_by_id(coverage, "FW-A")
    assert rows["1.1"].status == "fail"
    assert rows["1.1"].controls == (("p.leaf", "fail"),)


def test_superseded_catalog_warns(tmp_path, catalogs):
    path = write_policy(tmp_path, 'policy q { control c { maps ["FW-B:X"] } }')
    _, diagnostics = compile_policies([str(path)], catalogs, as_of=datetime.date(2026, 12, 4))
    assert [d.code for d in diagnostics] == ["W206"]
    assert "superseded by FW-A since 2026-01-01" in diagnostics[0].message


def test_deleted_clause_warns(tmp_path, catalogs):
    path = write_policy(tmp_path, 'policy q { control c { maps ["FW-A:3.1"] } }')
    _, diagnostics = compile_policies([str(path)], catalogs, as_of=datetime.date(2026, 12, 4))
    assert [d.code for d in diagnostics] == ["W208"]
    assert "now in 4" in diagnostics[0].message


def test_csv_rendering(plan, catalogs):
    text = COVERAGE_RENDERERS["csv"](compute_coverage(plan, catalogs))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["clause"] for r in rows] == ["1", "1.1", "1.2", "2", "3.1"]
    assert rows[1]["controls"] == "p.leaf"
    assert rows[3]["status"] == "uncovered"


def test_json_rendering(plan, catalogs):
    data = json.loads(COVERAGE_RENDERERS["json"](compute_coverage(plan, catalogs, min_coverage=50)))
    assert data["frameworks"][0]["overall"] == {"name": "FW-A", "label": "Framework A", "total": 3, "covered": 1, "percent": 33.3}
    assert data["below_minimum"] == ["FW-A"]


def test_text_and_markdown_rendering(plan, catalogs):
    coverage = compute_coverage(plan, catalogs, ["FW-A", "FW-B"])
    text = COVERAGE_RENDERERS["text"](coverage)
    assert "leaf clauses covered: 1 of 3 (33.3%)" in text
    assert "derived, not counted: p.leaf via FW-A:1.1" in text
    markdown = COVERAGE_RENDERERS["markdown"](coverage)
    assert "| 1 (parent, not counted) | parent |" in markdown
    assert "| X | uncovered | technical | - | p.leaf via FW-A:1.1 |" in markdown


def test_supersession_follows_as_of(tmp_path, catalogs):
    path = write_policy(tmp_path, 'policy q { control c { maps ["FW-B:X"] } }')
    _, before = compile_policies([str(path)], catalogs, as_of=datetime.date(2025, 12, 31))
    _, after = compile_policies([str(path)], catalogs, as_of=datetime.date(2026, 1, 1))
    assert [d.code for d in before] == []
    assert [d.code for d in after] == ["W206"]


def test_successor_mapping_silences_supersession(tmp_path, catalogs):
    path = write_policy(tmp_path, 'policy q { control c { maps ["FW-B:X", "FW-A:1.1"] } }')
    _, diagnostics = compile_policies([str(path)], catalogs, as_of=datetime.date(2026, 12, 4))
    assert diagnostics == []


def test_deleted_clause_has_no_date_note(tmp_path, catalogs):
    path = write_policy(tmp_path, 'policy q { control c { maps ["FW-A:3.1"] } }')
    _, diagnostics = compile_policies([str(path)], catalogs, as_of=datetime.date(2000, 1, 1))
    assert [d.code for d in diagnostics] == ["W208"]
