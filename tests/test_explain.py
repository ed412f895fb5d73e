"""`govdsl explain`: dependency path, evidence read, values, thresholds and what would pass."""

from __future__ import annotations

import json

from click.testing import CliRunner

from govdsl.cli import main
from support import COMPAS_BUNDLE, COMPAS_POLICY, make_bundle, write_policy

# Group a: TPR 1/2, FPR 1/2. Group b: TPR 2/2, FPR 0/2.
DATA = "label,prediction,group\n1,1,a\n1,0,a\n0,1,a\n0,0,a\n1,1,b\n1,1,b\n0,0,b\n0,0,b\n"
POLICY = """
policy p {
  control base { enforcement advisory check accuracy() >= 0.9 }
  control middle { requires [base] check accuracy() >= 0.5 }
  control top {
    title "Every group's error rate is low"
    requires [middle]
    remediation "Retrain with more data for group a."
    check rates: every g in false_positive_rate(by = "group"): g <= 0.25
  }
  control ranged { check gap: 0 <= true_positive_rate_difference(by = "group") <= 0.25 }
}
policy q { control top { check accuracy() >= 0.5 } }
"""


def explain(tmp_path, *arguments):
    policy = write_policy(tmp_path, POLICY)
    bundle = tmp_path / "bundle" if (tmp_path / "bundle").exists() else make_bundle(tmp_path, DATA)
    return CliRunner().invoke(main, ["explain", str(policy), "--bundle", str(bundle), *arguments])


def test_compas_failure_explained():
    result = CliRunner().invoke(
        main, ["explain", str(COMPAS_POLICY), "--bundle", str(COMPAS_BUNDLE), "--control", "compas_fairness.fpr_parity_race"]
    )
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "Control compas_fairness.fpr_parity_race: FAIL" in text
    assert "maps to EU-AI-ACT:Art.10(2)(f)" in text
    assert "read predictions.csv (dataset predictions)" in text
    assert "columns two_year_recid, predicted_high_risk, race" in text
    assert "race=African-American (n = 3175): false_positive_rate 0.4234" in text
    assert "to pass: the value must be at most 0.1000: it is 0.4130, so it must move down by 0.3130" in text
    assert "Remediation: Examine why defendants" in text


def test_requirement_chain_in_json(tmp_path):
    result = explain(tmp_path, "--control", "p.top", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["control"]["status"] == "blocked"
    assert data["requires"] == [
        {
            "id": "p.middle",
            "status": "blocked",
            "enforcement": "soft",
            "requires": [{"id": "p.base", "status": "fail", "enforcement": "advisory", "requires": []}],
        }
    ]
    assert data["checks"][0]["status"] == "blocked"


def test_dependants_and_quantifier_failure(tmp_path):
    policy = write_policy(tmp_path, POLICY.replace("accuracy() >= 0.9", "accuracy() >= 0.5"))
    bundle = make_bundle(tmp_path, DATA)
    result = CliRunner().invoke(main, ["explain", str(policy), "--bundle", str(bundle), "--control", "p.top", "--format", "json"])
    data = json.loads(result.stdout)
    (check,) = data["checks"]
    assert check["status"] == "fail"
    assert check["to_pass"] == "every group must satisfy `g <= 0.25`; these do not: group=a (0.5000)"
    assert check["evidence"][0]["columns"] == ["label", "prediction", "group"]
    middle = CliRunner().invoke(main, ["explain", str(policy), "--bundle", str(bundle), "--control", "p.middle"])
    assert "required by: p.top (fail)" in middle.stdout
    assert "p.base (advisory): pass" in middle.stdout


def test_range_failure_names_the_comparison(tmp_path):
    result = explain(tmp_path, "--control", "ranged", "--format", "json")
    (check,) = json.loads(result.stdout)["checks"]
    assert check["status"] == "fail"
    assert check["to_pass"] == "`0.5000 <= 0.2500` must hold"


def test_unknown_and_ambiguous_controls(tmp_path):
    unknown = explain(tmp_path, "--control", "p.topp")
    assert unknown.exit_code == 2
    assert "no control `p.topp`" in unknown.stderr and "did you mean `p.top`?" in unknown.stderr
    ambiguous = explain(tmp_path, "--control", "top")
    assert ambiguous.exit_code == 2
    assert "name one of p.top, q.top" in ambiguous.stderr
    unique = explain(tmp_path, "--control", "middle")
    assert unique.exit_code == 0 and "Control p.middle" in unique.stdout


def test_evidence_lists_columns_each_reduction_reads(tmp_path):
    adult = COMPAS_BUNDLE.parent / "adult"
    policy = COMPAS_POLICY.parent / "adult.gov"
    result = CliRunner().invoke(
        main, ["explain", str(policy), "--bundle", str(adult), "--control", "adult_credit.discrimination", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    checks = {check["id"].rsplit(".", 1)[1]: check for check in json.loads(result.stdout)["checks"]}
    assert checks["auc"]["evidence"][0]["columns"] == ["over_50k", "score"]
    assert checks["accuracy"]["evidence"][0]["columns"] == ["over_50k", "predicted_over_50k"]
    assert checks["auc_per_age_band"]["evidence"][0]["columns"] == ["over_50k", "score", "age_band"]


def test_threshold_names_its_parameter_and_source():
    eu_policy = COMPAS_POLICY.parent.parent / "eu-ai-act" / "high-risk.gov"
    adult = COMPAS_BUNDLE.parent / "adult"
    result = CliRunner().invoke(
        main, ["explain", str(eu_policy), "--bundle", str(adult), "--control", "eu_ai_act_high_risk.tested_performance"]
    )
    assert result.exit_code == 0, result.output
    assert "threshold: >= 0.7000 (parameter eu_ai_act_high_risk.min_roc_auc: tier high)" in result.stdout
