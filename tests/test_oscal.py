"""OSCAL assessment results: valid against compliance-trestle's OSCAL models, reproducible, and internally linked."""

from __future__ import annotations

import dataclasses
import datetime
import json
import re

import pytest
from trestle.oscal import OSCAL_VERSION_REGEX
from trestle.oscal.assessment_results import Model

from govdsl.report.oscal import OSCAL_VERSION, build_assessment_results, clause_token, render_oscal
from report_cases import compas_results, mixed_results

TOKEN = re.compile(r"^[A-Za-z_][A-Za-z0-9._-]*$")


@pytest.fixture(scope="module")
def compas():
    return compas_results()


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    return mixed_results(tmp_path_factory.mktemp("mixed"))


def result_of(document: dict) -> dict:
    return document["assessment-results"]["results"][0]


def test_oscal_version_is_trestles():
    assert re.match(OSCAL_VERSION_REGEX, OSCAL_VERSION)


@pytest.mark.parametrize("case", ["compas", "mixed"])
def test_oscal_loads_with_trestle(case, request):
    results = request.getfixturevalue(case)
    model = Model.model_validate(json.loads(render_oscal(results)))
    (result,) = model.assessment_results.results
    assert len(result.findings) == len(results.clauses)
    assert len(result.observations) == sum(max(len(c.checks), 1) for c in results.controls)


def test_oscal_one_finding_per_clause(compas):
    result = result_of(build_assessment_results(compas))
    assert [f["target"]["title"] for f in result["findings"]] == [c.reference for c in compas.clauses]
    states = {f["target"]["title"]: f["target"]["status"]["state"] for f in result["findings"]}
    assert states == {
        "EU-AI-ACT:Art.10(2)(f)": "not-satisfied",
        "EU-AI-ACT:Art.10(2)(g)": "not-satisfied",
        "NIST-AI-RMF:MEASURE 2.11": "not-satisfied",
    }


def test_oscal_one_observation_per_check(compas, mixed):
    for results in (compas, mixed):
        result = result_of(build_assessment_results(results))
        expected = sum(max(len(c.checks), 1) for c in results.controls)
        assert len(result["observations"]) == expected


def test_oscal_statuses_map_to_objective_states(mixed):
    result = result_of(build_assessment_results(mixed))
    by_clause = {f["target"]["title"]: f["target"] for f in result["findings"]}
    assert by_clause["ISO-42001:A.6.2.4"]["status"] == {"state": "not-satisfied", "reason": "other", "remarks": "govdsl status `skipped`"}
    assert by_clause["ISO-42001:A.6.2.4"]["implementation-status"] == {"state": "not-applicable"}
    assert by_clause["NIST-AI-RMF:MEASURE 2.11"]["status"]["reason"] == "fail"


def test_oscal_observation_values(compas):
    result = result_of(build_assessment_results(compas))
    observation = next(o for o in result["observations"] if o["title"].startswith("Check compas_fairness.fpr_parity_race.fpr_gap"))
    props = {p["name"]: p["value"] for p in observation["props"]}
    assert props["status"] == "fail"
    assert props["metric"] == "false_positive_rate_difference"
    assert float(props["value"]) == pytest.approx(0.41304347826086957)
    assert props["threshold"] == "<= 0.1"
    assert observation["methods"] == ["TEST"]
    assert "group race=African-American (n = 3175): false_positive_rate 0.4234" in observation["remarks"]


def test_oscal_references_resolve(mixed):
    document = build_assessment_results(mixed)
    assessment = document["assessment-results"]
    result = result_of(document)
    resources = {r["uuid"] for r in assessment["back-matter"]["resources"]}
    observations = {o["uuid"] for o in result["observations"]}
    platforms = {p["uuid"] for p in result["local-definitions"]["assessment-assets"]["assessment-platforms"]}
    assert assessment["import-ap"]["href"].lstrip("#") in resources
    for finding in result["findings"]:
        for related in finding.get("related-observations", []):
            assert related["observation-uuid"] in observations
        assert finding["origins"][0]["actors"][0]["actor-uuid"] in platforms
    for observation in result["observations"]:
        for evidence in observation.get("relevant-evidence", []):
            assert evidence["href"].lstrip("#") in resources


def test_oscal_evidence_digests(compas):
    resources = build_assessment_results(compas)["assessment-results"]["back-matter"]["resources"]
    dataset = next(r for r in resources if r["title"].startswith("Dataset predictions"))
    (rlink,) = dataset["rlinks"]
    assert rlink["href"].endswith("predictions.csv")
    assert rlink["media-type"] == "text/csv"
    assert rlink["hashes"] == [{"algorithm": "SHA-256", "value": compas.bundle["datasets"][0]["sha256"]}]
    policy = next(r for r in resources if r["title"].startswith("Policy compas_fairness"))
    assert policy["rlinks"][0]["hashes"][0]["value"] == compas.policies[0]["sha256"]


def test_oscal_uuids_unique_and_reproducible(compas):
    text = render_oscal(compas)
    assert render_oscal(compas) == text
    uuids = re.findall(r'"uuid": "([0-9a-f-]{36})"', text)
    assert len(uuids) == len(set(uuids))
    assert all(u[14] == "5" for u in uuids)  # version 5: derived from content


def test_oscal_uuids_change_with_content(compas):
    later = dataclasses.replace(compas, as_of=datetime.date(2026, 12, 5).isoformat())
    first = build_assessment_results(compas)["assessment-results"]
    second = build_assessment_results(later)["assessment-results"]
    assert first["uuid"] != second["uuid"]
    assert second["metadata"]["last-modified"] == "2026-12-05T00:00:00Z"


@pytest.mark.parametrize(
    ("reference", "token"),
    [
        ("EU-AI-ACT:Art.10(2)(f)", "EU-AI-ACT_Art.10_2_f"),
        ("NIST-AI-RMF:MEASURE 2.11", "NIST-AI-RMF_MEASURE_2.11"),
        ("ISO-42001:A.6.2.4", "ISO-42001_A.6.2.4"),
        ("42:x", "_42_x"),
    ],
)
def test_clause_tokens(reference, token):
    assert clause_token(reference) == token
    assert TOKEN.match(token)


def test_oscal_links_model_card_and_manifest(tmp_path):
    from govdsl.compiler import compile_policies
    from govdsl.engine.evaluate import evaluate
    from govdsl.evidence import load_bundle
    from govdsl.evidence.bundle import file_sha256
    from support import REPO

    bundle_dir = REPO / "examples" / "adult"
    plan, _ = compile_policies([str(REPO / "policies" / "examples" / "adult.gov")])
    results = evaluate(plan, load_bundle(bundle_dir), clock=lambda: datetime.date(2026, 12, 1))
    document = build_assessment_results(results)["assessment-results"]
    resources = {r["uuid"]: r for r in document["back-matter"]["resources"]}
    by_title = {r["title"]: r for r in resources.values()}
    card = by_title["Model card (model_card.md)"]
    manifest = by_title["Bundle manifest (bundle.yaml)"]
    assert card["rlinks"][0]["hashes"][0]["value"] == file_sha256(bundle_dir / "model_card.md")
    assert manifest["rlinks"][0]["hashes"][0]["value"] == file_sha256(bundle_dir / "bundle.yaml")
    links = {}
    for observation in document["results"][0]["observations"]:
        check = next(p["value"] for p in observation["props"] if p["name"] == "check")
        links[check] = {resources[e["href"][1:]]["title"] for e in observation.get("relevant-evidence", [])}
    assert card["title"] in links["adult_credit.documentation.1"]
    assert manifest["title"] in links["adult_credit.sign_off.owner"]
    assert manifest["title"] in links["adult_credit.sign_off.no_self_approval"]
    assert card["title"] not in links["adult_credit.selection_parity_sex.four_fifths"]
    assert manifest["title"] not in links["adult_credit.selection_parity_sex.four_fifths"]
    Model.model_validate({"assessment-results": document})
