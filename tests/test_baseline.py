"""Baselines: controls that newly fail or pass, how metrics moved, and --fail-on-regression."""

from __future__ import annotations

import datetime
import json

import jsonschema
import pytest
from click.testing import CliRunner

from govdsl.cli import main
from govdsl.compiler import compile_policies
from govdsl.engine.baseline import compare_with_baseline, load_baseline
from govdsl.engine.evaluate import evaluate
from govdsl.errors import InvalidInputError
from govdsl.evidence import load_bundle
from support import RESULTS_SCHEMA, make_bundle, write_policy

POLICY = """
policy p {
  control gap { enforcement hard check true_positive_rate_difference(by = "group") <= 0.6 }
  control accurate { enforcement advisory check accuracy() >= 0.7 }
  control floor { enforcement soft check selection_rate() >= 0.2 }
}
"""
# Before: group a TPR 2/2, group b TPR 2/2 (gap 0); accuracy 6/8; selection rate 6/8.
BEFORE = "label,prediction,group\n1,1,a\n1,1,a\n0,1,a\n0,0,a\n1,1,b\n1,1,b\n0,0,b\n0,1,b\n"
# After: group a TPR 1/2, group b TPR 2/2 (gap 0.5, still <= 0.6); accuracy 5/8 < 0.7; selection rate 5/8.
AFTER = "label,prediction,group\n1,1,a\n1,0,a\n0,1,a\n0,0,a\n1,1,b\n1,1,b\n0,0,b\n0,1,b\n"


def results_for(folder, csv_text):
    folder.mkdir()
    policy = write_policy(folder, POLICY)
    plan, _ = compile_policies([str(policy)])
    return evaluate(plan, load_bundle(make_bundle(folder, csv_text)), clock=lambda: datetime.date(2026, 3, 1))


@pytest.fixture
def runs(tmp_path):
    before = results_for(tmp_path / "before", BEFORE)
    after = results_for(tmp_path / "after", AFTER)
    return json.loads(json.dumps(before.to_dict())), after


def test_changes_are_classified(runs):
    baseline, after = runs
    compared = compare_with_baseline(after, baseline, "before.json")
    changes = {c["id"]: c["change"] for c in compared.baseline["controls"]}
    assert changes == {"p.gap": "unchanged", "p.accurate": "newly_failing", "p.floor": "unchanged"}
    moves = {m["check"]: m for m in compared.baseline["metrics"]}
    assert moves["p.gap.1"]["before"] == 0.0
    assert moves["p.gap.1"]["after"] == 0.5
    assert moves["p.gap.1"]["worsened"] is True
    assert moves["p.accurate.1"]["delta"] == pytest.approx(-0.125)
    assert moves["p.accurate.1"]["worsened"] is True
    assert moves["p.floor.1"]["worsened"] is True
    # Without --fail-on-regression the gate decision is the plain one.
    assert compared.gate == after.gate
    assert compared.gate.passed


def test_fail_on_regression_blocks(runs):
    baseline, after = runs
    compared = compare_with_baseline(after, baseline, "before.json", tolerance=0.2, fail_on_regression=True)
    assert not compared.gate.passed
    # The advisory control newly fails; the gap worsened by 0.5 > 0.2; the selection rate by 0.125 <= 0.2.
    assert compared.gate.regressions == (
        "control p.accurate newly fails",
        "p.gap.1: true_positive_rate_difference worsened from 0.0000 to 0.5000, by 0.5000, more than the regression"
        " tolerance 0.2; its threshold <= 0.6 still holds",
    )


def test_tolerance_accepts_small_moves(runs):
    baseline, after = runs
    compared = compare_with_baseline(after, baseline, "before.json", tolerance=0.5, fail_on_regression=True)
    assert compared.gate.regressions == ("control p.accurate newly fails",)


def test_improvement_is_newly_passing(runs):
    baseline, after = runs
    reverse = json.loads(json.dumps(after.to_dict()))
    compared = compare_with_baseline(_results_from(baseline, after), reverse, "after.json")
    changes = {c["id"]: c["change"] for c in compared.baseline["controls"]}
    assert changes["p.accurate"] == "newly_passing"
    moves = {m["check"]: m for m in compared.baseline["metrics"]}
    assert moves["p.gap.1"]["worsened"] is False


def _results_from(baseline_dict, template):
    """Rebuild statuses and values of `baseline_dict` on the structure of `template`, for the reverse comparison."""
    import dataclasses

    by_id = {c["id"]: c for c in baseline_dict["controls"]}
    controls = []
    for control in template.controls:
        old = by_id[control.id]
        values = {c["id"]: c["value"] for c in old["checks"]}
        checks = tuple(dataclasses.replace(c, value=values[c.id]) for c in control.checks)
        controls.append(dataclasses.replace(control, status=old["status"], checks=checks))
    return dataclasses.replace(template, controls=tuple(controls))


def test_new_and_removed_controls(runs):
    baseline, after = runs
    baseline["controls"][0]["id"] = "p.retired"
    compared = compare_with_baseline(after, baseline, "before.json")
    changes = {c["id"]: c["change"] for c in compared.baseline["controls"]}
    assert changes["p.gap"] == "new"
    assert changes["p.retired"] == "removed"


def test_compared_results_match_schema(runs):
    baseline, after = runs
    compared = compare_with_baseline(after, baseline, "before.json", 0.1, True)
    schema = json.loads(RESULTS_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(json.loads(json.dumps(compared.to_dict())))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{not json", "is not JSON"),
        ("[]", "the top level is not an object"),
        ('{"schema_version": "1.0", "controls": []}', "schema version 2"),
        ('{"schema_version": "2.0"}', "`controls` is missing"),
        ('{"schema_version": "2.0", "controls": [{"id": "x"}]}', "has no `id` and `status`"),
    ],
)
def test_bad_baseline_files(tmp_path, text, expected):
    path = tmp_path / "baseline.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInputError) as caught:
        load_baseline(str(path))
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "E808"
    assert expected in diagnostic.message


def test_cli_baseline_round_trip(tmp_path):
    before_dir, after_dir = tmp_path / "before", tmp_path / "after"
    before_dir.mkdir()
    after_dir.mkdir()
    policy = write_policy(tmp_path, POLICY)
    baseline = tmp_path / "baseline.json"
    first = CliRunner().invoke(
        main, ["check", str(policy), "--bundle", str(make_bundle(before_dir, BEFORE)), "--format", "json", "-o", str(baseline)]
    )
    assert first.exit_code == 0, first.output
    after_bundle = str(make_bundle(after_dir, AFTER))
    plain = CliRunner().invoke(main, ["check", str(policy), "--bundle", after_bundle, "--baseline", str(baseline)])
    assert plain.exit_code == 0, plain.output
    assert "newly failing   p.accurate: pass -> fail" in plain.stdout
    strict = CliRunner().invoke(
        main, ["check", str(policy), "--bundle", after_bundle, "--baseline", str(baseline), "--fail-on-regression"]
    )
    assert strict.exit_code == 1
    assert "regression (--fail-on-regression): control p.accurate newly fails" in strict.stdout
    # The audit record names the baseline file and its digest, so the decision can be reproduced.
    import hashlib

    from govdsl.audit.log import AuditLog

    log_path = tmp_path / "audit.jsonl"
    CliRunner().invoke(main, ["check", str(policy), "--bundle", after_bundle, "--baseline", str(baseline), "--audit-log", str(log_path)])
    record = AuditLog(log_path).records()[-1]
    assert record["baseline"] == {"file": str(baseline), "sha256": hashlib.sha256(baseline.read_bytes()).hexdigest()}


def test_cli_rejects_bad_baseline_options(tmp_path):
    policy = write_policy(tmp_path, POLICY)
    bundle = str(make_bundle(tmp_path, AFTER))
    alone = CliRunner().invoke(main, ["check", str(policy), "--bundle", bundle, "--fail-on-regression"])
    assert alone.exit_code == 2
    assert "needs --baseline" in alone.stderr
    missing = CliRunner().invoke(main, ["check", str(policy), "--bundle", bundle, "--baseline", str(tmp_path / "none.json")])
    assert missing.exit_code == 2
    assert "E807" in missing.stderr
    assert "Controls" not in missing.stdout
    negative = CliRunner().invoke(
        main, ["check", str(policy), "--bundle", bundle, "--baseline", "x.json", "--regression-tolerance", "-1"]
    )
    assert negative.exit_code == 2


def test_gate_line_names_regressions(runs):
    from govdsl.report.text import render_text

    baseline, after = runs
    compared = compare_with_baseline(after, baseline, "before.json", tolerance=0.2, fail_on_regression=True)
    text = render_text(compared)
    assert "Gate: BLOCKED by 2 regression(s) against the baseline" in text
    assert "control(s): \n" not in text


def test_waived_failure_is_changed_not_fixed(runs):
    import dataclasses

    baseline, after = runs
    baseline["controls"][1]["status"] = "fail"
    waived = tuple(dataclasses.replace(c, status="waived") if c.id == "p.accurate" else c for c in after.controls)
    compared = compare_with_baseline(dataclasses.replace(after, controls=waived), baseline, "before.json")
    changes = {c["id"]: c["change"] for c in compared.baseline["controls"]}
    assert changes["p.accurate"] == "changed"


def test_baseline_of_other_model_and_policy_warns(runs):
    baseline, after = runs
    baseline["bundle"]["model"]["id"] = "another-model"
    baseline["policies"][0]["name"] = "q"
    compared = compare_with_baseline(after, baseline, "before.json")
    warnings = compared.baseline["warnings"]
    assert warnings[0] == "the baseline is for model `another-model`, not `toy`, so the comparison may not mean much"
    assert warnings[1] == "the baseline evaluated other policies (`q`), so every control is new or removed"
    assert compared.baseline["model_id"] == "another-model"


def test_text_names_absent_and_removed_controls(runs):
    from govdsl.report.text import render_text

    baseline, after = runs
    baseline["controls"][0]["id"] = "p.retired"
    text = render_text(compare_with_baseline(after, baseline, "before.json"))
    assert "new             p.gap: (absent) -> fail" in text or "new             p.gap: (absent) -> pass" in text
    assert "removed         p.retired: pass -> (removed)" in text
    assert "None" not in text
    assert "compared with before.json (as of 2026-03-01, model toy version 1)" in text
