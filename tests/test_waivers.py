"""The gate rule as a decision table, and waivers: loading, the expiry boundary, roles, scopes and the CLI."""

from __future__ import annotations

import datetime
import json
import textwrap

import jsonschema
import pytest
from click.testing import CliRunner

from govdsl.cli import main
from govdsl.compiler import compile_policies
from govdsl.engine import gate
from govdsl.engine.evaluate import evaluate
from govdsl.errors import InvalidInputError
from govdsl.evidence import load_bundle
from govdsl.evidence.waivers import load_waivers
from support import RESULTS_SCHEMA, make_bundle, write_policy

# Group a: TPR 1/2, FPR 1/2. Group b: TPR 2/2, FPR 0/2. The TPR and FPR differences are 0.5.
DATA = "label,prediction,group\n1,1,a\n1,0,a\n0,1,a\n0,0,a\n1,1,b\n1,1,b\n0,0,b\n0,0,b\n"
AS_OF = datetime.date(2026, 6, 15)

# Expected (final status, blocks the gate) per enforcement without a waiver, written out by hand.
# Soft and hard controls block on fail, error, blocked and insufficient. A waiver in force turns
# exactly those four into `waived`, which never blocks.
DECISIONS = {
    #  status          advisory            soft                 hard
    "pass":         [("pass", False),     ("pass", False),     ("pass", False)],
    "skipped":      [("skipped", False),  ("skipped", False),  ("skipped", False)],
    "fail":         [("fail", False),     ("fail", True),      ("fail", True)],
    "error":        [("error", False),    ("error", True),     ("error", True)],
    "blocked":      [("blocked", False),  ("blocked", True),   ("blocked", True)],
    "insufficient": [("insufficient", False), ("insufficient", True), ("insufficient", True)],
}
ENFORCEMENTS = ("advisory", "soft", "hard")


@pytest.mark.parametrize("status", sorted(DECISIONS))
@pytest.mark.parametrize("column", range(3))
@pytest.mark.parametrize("waived", [False, True])
@pytest.mark.parametrize("allow_insufficient", [False, True])
def test_gate_decision_table(status, column, waived, allow_insufficient):
    enforcement = ENFORCEMENTS[column]
    expected_status, expected_blocks = DECISIONS[status][column]
    if waived and status in ("fail", "error", "blocked", "insufficient"):
        expected_status, expected_blocks = "waived", False
    if allow_insufficient and expected_status == "insufficient":
        expected_blocks = False
    final = gate.waived_status(status, waived)
    assert (final, gate.blocks(enforcement, final, allow_insufficient)) == (expected_status, expected_blocks)


POLICY = """
policy p {
  waivable_by ["risk_officer", "cro"]
  control failing_soft { enforcement soft check equal_opportunity_difference(by = "group") <= 0.1 }
  control failing_hard { enforcement hard check false_positive_rate_difference(by = "group") <= 0.1 }
  control hard_no_roles { enforcement hard waivable_by [] check true_positive_rate_difference(by = "group") <= 0.1 }
  control failing_advisory { enforcement advisory check accuracy() >= 0.99 }
  control passing { enforcement hard check accuracy() >= 0.5 }
  control undecidable { enforcement soft check precision(dataset = "absent") >= 0.5 }
  control dependant { enforcement soft requires [failing_soft] check accuracy() >= 0.5 }
  control after_advisory { enforcement soft requires [failing_advisory] check accuracy() >= 0.5 }
}
"""


def waiver(control: str, **fields) -> dict:
    entry = {
        "id": fields.pop("id", f"W-{control}"),
        "control": f"p.{control}",
        "models": fields.pop("models", [{"id": "toy"}]),
        "justification": "Accepted while the retrained model is validated.",
        "approved_by": {"name": "R. Officer", "role": fields.pop("role", "risk_officer")},
        "approved_on": fields.pop("approved_on", "2026-06-01"),
        "expires": fields.pop("expires", "2026-09-30"),
    }
    entry.update(fields)
    return entry


def write_waivers(folder, entries, name="waivers.yaml"):
    path = folder / name
    path.write_text(json.dumps({"waivers_version": 1, "waivers": entries}), encoding="utf-8")
    return path


def run(tmp_path, entries, as_of=AS_OF, allow_insufficient=False):
    policy = write_policy(tmp_path, POLICY)
    plan, _ = compile_policies([str(policy)])
    bundle = load_bundle(make_bundle(tmp_path, DATA))
    waivers = load_waivers(write_waivers(tmp_path, entries)) if entries is not None else ()
    return evaluate(plan, bundle, clock=lambda: as_of, waivers=waivers, allow_insufficient=allow_insufficient)


def by_id(results):
    return {c.id.split(".", 1)[1]: c for c in results.controls}


def states(results):
    return {w["id"]: w["state"] for w in results.waivers}


def test_statuses_without_waivers(tmp_path):
    controls = by_id(run(tmp_path, None))
    assert {name: (c.status, c.blocks_gate) for name, c in controls.items()} == {
        "failing_soft": ("fail", True),
        "failing_hard": ("fail", True),
        "hard_no_roles": ("fail", True),
        "failing_advisory": ("fail", False),
        "passing": ("pass", False),
        "undecidable": ("error", True),
        "dependant": ("blocked", True),
        # An advisory control never blocks the gate itself, but a control that requires it is blocked.
        "after_advisory": ("blocked", True),
    }


def test_waivers_in_force_turn_blocking_statuses_into_waived(tmp_path):
    entries = [waiver("failing_soft"), waiver("failing_hard", role="cro"), waiver("undecidable"), waiver("failing_advisory")]
    results = run(tmp_path, entries)
    controls = by_id(results)
    for name in ("failing_soft", "failing_hard", "undecidable", "failing_advisory"):
        assert (controls[name].status, controls[name].blocks_gate) == ("waived", False), name
    assert controls["failing_hard"].waiver["status_waived"] == "fail"
    assert controls["undecidable"].waiver["status_waived"] == "error"
    # Waived prerequisites count as met, so their dependants run.
    assert controls["dependant"].status == "pass"
    assert controls["after_advisory"].status == "pass"
    assert results.gate.blocking_controls == ("p.hard_no_roles",)
    assert set(states(results).values()) == {"applied"}


def test_waiver_on_a_blocked_control(tmp_path):
    controls = by_id(run(tmp_path, [waiver("dependant")]))
    assert controls["dependant"].status == "waived"
    assert controls["dependant"].waiver["status_waived"] == "blocked"


def test_waiver_on_an_insufficient_control(tmp_path):
    data = "label,prediction,group\n1,1,a\n0,0,a\n1,1,b\n1,0,b\n"  # group b has no actual negatives
    policy = write_policy(tmp_path, 'policy p { control c { check false_positive_rate_difference(by = "group") <= 0.1 } }')
    plan, _ = compile_policies([str(policy)])
    bundle = load_bundle(make_bundle(tmp_path, data))
    waivers = load_waivers(write_waivers(tmp_path, [waiver("c")]))
    result = evaluate(plan, bundle, clock=lambda: AS_OF, waivers=waivers)
    assert result.controls[0].status == "waived"
    assert result.controls[0].waiver["status_waived"] == "insufficient"
    assert result.gate.passed


@pytest.mark.parametrize(
    ("as_of", "state"),
    [
        (datetime.date(2026, 9, 30), "applied"),  # the expiry day is still covered
        (datetime.date(2026, 10, 1), "expired"),  # the day after is not
        (datetime.date(2026, 6, 1), "applied"),  # the approval day is covered
        (datetime.date(2026, 5, 31), "not_yet_valid"),  # the day before approval is not
    ],
)
def test_expiry_and_approval_boundary_days(tmp_path, as_of, state):
    results = run(tmp_path, [waiver("failing_soft")], as_of=as_of)
    assert states(results) == {"W-failing_soft": state}
    expected = "waived" if state == "applied" else "fail"
    assert by_id(results)["failing_soft"].status == expected
    assert ("p.failing_soft" in results.gate.blocking_controls) == (state != "applied")


def test_refused_waivers_are_reported_not_applied(tmp_path):
    entries = [
        waiver("failing_hard", id="W-role", role="data_scientist"),
        waiver("hard_no_roles", id="W-none", role="cro"),
        waiver("failing_sfot", id="W-typo"),
        waiver("failing_soft", id="W-other", models=[{"id": "toy", "versions": ["2.*"]}]),
        waiver("passing", id="W-unused"),
    ]
    results = run(tmp_path, entries)
    assert states(results) == {
        "W-role": "role_not_allowed",
        "W-none": "not_waivable",
        "W-typo": "unknown_control",
        "W-other": "other_model",
        "W-unused": "unused",
    }
    reasons = {w["id"]: w["reason"] for w in results.waivers}
    assert "allowed: risk_officer, cro" in reasons["W-role"]
    assert "did you mean `p.failing_soft`" in reasons["W-typo"]
    controls = by_id(results)
    assert controls["failing_hard"].status == "fail"
    assert controls["failing_hard"].blocks_gate
    assert controls["failing_soft"].status == "fail"


def test_version_patterns_and_second_waiver_for_one_control(tmp_path):
    entries = [
        waiver("failing_soft", id="W-1", models=[{"id": "other"}, {"id": "toy", "versions": ["1", "1.*"]}]),
        waiver("failing_soft", id="W-2"),
    ]
    results = run(tmp_path, entries)
    assert states(results) == {"W-1": "applied", "W-2": "unused"}
    assert "W-1" in results.waivers[1]["reason"]


def test_results_with_waivers_match_the_schema(tmp_path):
    results = run(tmp_path, [waiver("failing_soft", ticket="GOV-7", compensating_controls=["Manual review"]), waiver("nope")])
    document = json.loads(json.dumps(results.to_dict()))
    schema = json.loads(RESULTS_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(document)
    applied = next(c for c in document["controls"] if c["id"] == "p.failing_soft")["waiver"]
    assert applied["ticket"] == "GOV-7"
    assert applied["compensating_controls"] == ["Manual review"]


# Malformed files are invalid input: every problem at once, each with its line.


def load_text(tmp_path, text):
    path = tmp_path / "waivers.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    with pytest.raises(InvalidInputError) as caught:
        load_waivers(path)
    return caught.value.diagnostics


VALID_ENTRY = """\
  - id: W-1
    control: p.failing_soft
    models: [{id: toy}]
    justification: "Accepted."
    approved_by: {name: A, role: risk_officer}
    approved_on: 2026-06-01
    expires: 2026-09-30
"""


def test_missing_field_is_reported_with_its_line(tmp_path):
    diagnostics = load_text(tmp_path, "waivers_version: 1\nwaivers:\n" + VALID_ENTRY.replace('    justification: "Accepted."\n', ""))
    (diagnostic,) = diagnostics
    assert diagnostic.code == "E803"
    assert "'justification' is a required property" in diagnostic.message
    assert diagnostic.span.line == 3


def test_several_problems_reported_together(tmp_path):
    second = VALID_ENTRY.replace("W-1", "W-1").replace("2026-09-30", "2026-02-30")
    third = VALID_ENTRY.replace("W-1", "W-3").replace("expires: 2026-09-30", "expires: 2026-05-01")
    codes = sorted(d.code for d in load_text(tmp_path, "waivers_version: 1\nwaivers:\n" + VALID_ENTRY + second + third))
    assert codes == ["E803", "E804", "E805"]


def test_bad_control_id_and_date_format(tmp_path):
    text = "waivers_version: 1\nwaivers:\n" + VALID_ENTRY.replace("p.failing_soft", "failing soft").replace("2026-06-01", "June 1")
    messages = [d.message for d in load_text(tmp_path, text)]
    assert any("is not a control id" in m for m in messages)
    assert any("is not a date written as YYYY-MM-DD" in m for m in messages)


def test_yaml_syntax_error_has_position(tmp_path):
    (diagnostic,) = load_text(tmp_path, "waivers_version: 1\nwaivers: [\n")
    assert diagnostic.code == "E802"
    assert diagnostic.span is not None


def test_cli_rejects_malformed_waivers_before_evaluating(tmp_path):
    policy = write_policy(tmp_path, POLICY)
    bundle = make_bundle(tmp_path, DATA)
    bad = tmp_path / "bad.yaml"
    bad.write_text("waivers_version: 2\nwaivers: []\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(policy), "--bundle", str(bundle), "--waivers", str(bad)])
    assert result.exit_code == 2
    assert "E803" in result.stderr
    assert "Controls" not in result.stdout
    missing = CliRunner().invoke(main, ["check", str(policy), "--bundle", str(bundle), "--waivers", str(tmp_path / "none.yaml")])
    assert missing.exit_code == 2
    assert "E801" in missing.stderr


def test_cli_applies_waivers_and_reports_them(tmp_path):
    policy = write_policy(tmp_path, 'policy p { control failing_soft { enforcement soft check accuracy() >= 0.99 } }')
    bundle = make_bundle(tmp_path, DATA)
    first = write_waivers(tmp_path, [waiver("failing_soft")], "a.yaml")
    arguments = ["check", str(policy), "--bundle", str(bundle), "--as-of", "2026-06-15", "--waivers", str(first)]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    assert "waived: fail accepted by waiver W-failing_soft" in result.stdout
    assert "W-failing_soft  p.failing_soft  applied" in result.stdout
    expired = CliRunner().invoke(main, arguments[:-3] + ["2026-10-01", "--waivers", str(first)])
    assert expired.exit_code == 1
    assert "expired on 2026-09-30" in expired.stdout
    duplicate = write_waivers(tmp_path, [waiver("failing_soft")], "b.yaml")
    both = CliRunner().invoke(main, arguments + ["--waivers", str(duplicate)])
    assert both.exit_code == 2
    assert "is used in both" in both.stderr


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e999", "Infinity"])
def test_non_finite_parameter_values_rejected(tmp_path, value):
    policy = write_policy(tmp_path, 'policy p {\n  param gap: number = 0.1\n  control c { check true_positive_rate_difference(by = "group") <= gap }\n}\n')
    bundle = make_bundle(tmp_path, DATA)
    result = CliRunner().invoke(main, ["check", str(policy), "--bundle", str(bundle), "--param", f"gap={value}", "--no-audit"])
    assert result.exit_code == 2
    assert "E702" in result.stderr
    params_file = tmp_path / "params.yaml"
    params_file.write_text("gap: .inf\n", encoding="utf-8")
    from_file = CliRunner().invoke(main, ["check", str(policy), "--bundle", str(bundle), "--params", str(params_file), "--no-audit"])
    assert from_file.exit_code == 2
