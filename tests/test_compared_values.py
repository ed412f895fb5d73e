"""A check that compares a bound or an aggregate of a metric: every format shows the value compared and the estimate."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from govdsl.cli import main
from support import REPO, write_policy

ADULT = REPO / "examples" / "adult"
POLICY = """
policy probe {
  control auc_floor {
    enforcement advisory
    check auc_lb: lower(roc_auc()) >= %s
  }
}
"""


def run(tmp_path, threshold, *extra, name="policy.gov"):
    policy = write_policy(tmp_path, POLICY % threshold, name)
    return CliRunner().invoke(main, ["check", str(policy), "--bundle", str(ADULT), "--no-audit", "--as-of", "2026-12-01", *extra])


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("compared")
    return {name: run(folder, "0.93", "--format", name).stdout for name in ("text", "json", "markdown", "junit", "oscal")}


def test_json_keeps_bound_estimate_and_expression(outputs):
    (check,) = json.loads(outputs["json"])["controls"][0]["checks"]
    assert round(check["value"], 4) == 0.9229
    assert round(check["metric_value"], 4) == 0.9297
    assert check["measured"] == "lower(roc_auc())"
    assert check["comparison"] == {"operator": ">=", "threshold": 0.93}
    assert check["status"] == "fail"


def test_text_names_the_metric_of_the_interval(outputs):
    assert "does not hold: lower(roc_auc()) = 0.9229 is not >= 0.93" in outputs["text"]
    assert "roc_auc 0.9297, 95% interval [0.9229, 0.9365] (DeLong)" in outputs["text"]
    assert "value 0.9297" not in outputs["text"]


def test_markdown_junit_and_oscal_show_the_estimate(outputs):
    assert "| 0.9229 (roc\\_auc 0.9297) |" in outputs["markdown"]
    assert "roc_auc: 0.9297 (the value is lower(roc_auc()))" in outputs["junit"]
    props = {p["name"]: p["value"] for p in json.loads(outputs["oscal"])["assessment-results"]["results"][0]["observations"][0]["props"]}
    assert props["measured"] == "lower(roc_auc())"
    assert props["metric-value"].startswith("0.9296")


def test_baseline_threshold_changes(tmp_path):
    baseline = tmp_path / "base.json"
    first = run(tmp_path, "0.93", "--format", "json", "-o", str(baseline))
    assert first.exit_code == 0  # the control is advisory
    looser = run(tmp_path, "0.92", "--baseline", str(baseline), "--format", "json", name="looser.gov")
    section = json.loads(looser.stdout)["baseline"]
    assert section["threshold_changes"] == [{"check": "probe.auc_floor.auc_lb", "before": ">= 0.93", "after": ">= 0.92"}]
    assert section["warnings"][0].startswith("1 check(s) compare with another threshold than in the baseline")
    assert section["metrics"][0]["measured"] == "lower(roc_auc())"


def test_quantifier_threshold_reported(tmp_path):
    policy = write_policy(tmp_path, 'policy q { control c { check every g in selection_rate(by = "race"): g >= 0.1 } }')
    result = CliRunner().invoke(main, ["check", str(policy), "--bundle", str(ADULT), "--no-audit", "--format", "json"])
    (check,) = json.loads(result.stdout)["controls"][0]["checks"]
    assert check["comparison"] == {"operator": ">=", "threshold": 0.1}
    assert check["value"] is None
    assert len(check["comparisons"]) == 5


def test_aggregate_message_names_its_group(tmp_path):
    policy = write_policy(
        tmp_path,
        """
        policy q {
          control c {
            check top: max(psi_per_feature(features = ["age", "sex"])) < 0.2
            check spread: ratio(selection_rate(by = "sex")) >= 0.8
          }
        }
        """,
    )
    result = CliRunner().invoke(main, ["check", str(policy), "--bundle", str(ADULT), "--no-audit", "--format", "json"])
    checks = {check["id"].rsplit(".", 1)[1]: check for check in json.loads(result.stdout)["controls"][0]["checks"]}
    assert checks["top"]["message"].endswith("; max at feature=age")
    assert checks["spread"]["message"].endswith("; ratio of sex=Female and sex=Male")
