"""Coverage: leaf clauses only, parents not counted, derived links via crosswalks, deleted clauses, minimums,
and the split between clauses covered by evidence, by attestations only, and not at all."""

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
    assert data["frameworks"][0]["overall"] == {
        "name": "FW-A",
        "label": "Framework A",
        "total": 3,
        "covered": 1,
        "evidence": 1,
        "attestation": 0,
        "not_covered": 2,
        "percent": 33.3,
    }
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


# Evidence, attestation, unchecked

BASIS_POLICY = """
policy b {
  control data { maps ["FW-A:1.1"] check selection_rate() <= 1 }
  control attested {
    maps ["FW-A:1.2", "FW-A:1.1"]
    check attestation(subject = "FW-A:1.2", role = "lead") >= 1
  }
  control model_only { maps ["FW-A:2"] check model.owner == "x" }
}
"""


@pytest.fixture()
def basis_coverage(tmp_path, catalogs):
    path = write_policy(tmp_path, BASIS_POLICY)
    compiled, _ = compile_policies([str(path)], catalogs, as_of=datetime.date(2026, 12, 4))
    return compute_coverage(compiled, catalogs, ["FW-A"])


def test_evidence_outranks_attestation(basis_coverage):
    row = rows_by_id(basis_coverage, "FW-A")["1.1"]
    assert (row.status, row.basis) == ("covered", "evidence")
    assert row.controls == (("b.attested", None), ("b.data", None))
    assert row.control_bases == ("attestation", "evidence")


def test_attestation_only_clause(basis_coverage):
    row = rows_by_id(basis_coverage, "FW-A")["1.2"]
    assert (row.status, row.basis) == ("attested", "attestation")


def test_model_fields_are_not_evidence(basis_coverage):
    row = rows_by_id(basis_coverage, "FW-A")["2"]
    assert (row.status, row.basis) == ("unchecked", "none")
    assert row.controls == (("b.model_only", None),)


def test_basis_tallies(basis_coverage):
    (framework,) = basis_coverage.frameworks
    overall = framework.overall
    assert (overall.covered, overall.evidence, overall.attestation, overall.not_covered, overall.total) == (2, 1, 1, 1, 3)
    assert (framework.technical.evidence, framework.technical.attestation) == (1, 0)
    assert (framework.procedural.evidence, framework.procedural.attestation, framework.procedural.total) == (0, 1, 2)


def test_control_without_checks_covers_nothing(tmp_path, catalogs):
    path = write_policy(tmp_path, 'policy q { control c { maps ["FW-A:1.1"] } }')
    plan, _ = compile_policies([str(path)], catalogs, as_of=datetime.date(2026, 12, 4))
    coverage = compute_coverage(plan, catalogs)
    assert rows_by_id(coverage, "FW-A")["1.1"].status == "unchecked"
    assert coverage.frameworks[0].overall.covered == 0


@pytest.mark.parametrize(
    ("body", "reads"),
    [
        ("check selection_rate() <= 1", {"data"}),
        ("check reported_metrics_mismatch() <= 0", {"data"}),
        ('check psi(feature = "score") <= 0.1', {"data"}),
        ("check model_card_completeness() >= 1", {"model_card"}),
        ('check card.intended_use matches "x"', {"model_card"}),
        ('require model_card section "Intended Use"', {"model_card"}),
        ('require approval "model_owner"', {"approvals"}),
        ("check self_approvals() <= 0", {"approvals"}),
        ('require evidence "predictions"', {"files"}),
        ("check evidence_digest_mismatches() <= 0", {"files"}),
        ('check attestation(subject = "x", role = "y") >= 1', {"attestations"}),
        ('check model.risk_tier == "high"', {"model_fields"}),
        ("check today() >= 2020-01-01", set()),
        ('check every g in selection_rate(by = "race"): g >= 80% * max(selection_rate(by = "race"))', {"data"}),
    ],
)
def test_check_reads(tmp_path, catalogs, body, reads):
    from govdsl.report.coverage import check_reads

    path = write_policy(tmp_path, f'policy r {{ control c {{ maps ["FW-A:1.1"] {body} }} }}')
    plan, _ = compile_policies([str(path)], catalogs, as_of=datetime.date(2026, 12, 4))
    (check,) = plan.checks.values()
    assert check_reads(check, plan) == reads


def test_renderers_show_basis(basis_coverage):
    text = COVERAGE_RENDERERS["text"](basis_coverage)
    assert "by evidence: 1 (technical 1, procedural 0); by attestation only: 1 (technical 0, procedural 1); not covered: 1" in text
    assert "1.2     attested" in text
    rows = {r["clause"]: r for r in csv.DictReader(io.StringIO(COVERAGE_RENDERERS["csv"](basis_coverage)))}
    assert (rows["1.2"]["status"], rows["1.2"]["basis"]) == ("attested", "attestation")
    data = json.loads(COVERAGE_RENDERERS["json"](basis_coverage))
    clause = next(c for c in data["clauses"] if c["clause"] == "1.1")
    assert clause["controls"] == [
        {"id": "b.attested", "status": None, "basis": "attestation"},
        {"id": "b.data", "status": None, "basis": "evidence"},
    ]
    markdown = COVERAGE_RENDERERS["markdown"](basis_coverage)
    assert "| FW-A | 2 | 1 | 1 | 1 | 3 | 66.7% |" in markdown
