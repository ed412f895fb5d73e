"""Approvals and independent validation: the rules, their edge cases, the metrics and `require approval`.

The rules are compared with an oracle written separately in this file, on random approval lists.
"""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from govdsl.cli import main
from govdsl.compiler import compile_policies
from govdsl.engine.evaluate import evaluate
from govdsl.evidence import load_bundle
from govdsl.metrics.process import assess, newest_valid
from support import COMPAS_BUNDLE, write_policy

AS_OF = datetime.date(2026, 1, 15)
MODEL = {
    "id": "toy",
    "name": "Toy model",
    "version": "1.0",
    "owner": "Olga Owner",
    "developers": ["Dana Developer", "Credit Modeling Team"],
    "task": "binary_classification",
    "risk_tier": "high",
}


def approval(role="model_owner", name="Rita Risk", decision="approved", date="2025-12-01", version="1.0", **more):
    entry = {"role": role, "name": name, "decision": decision, "date": date, **more}
    if version is not None:
        entry["model_version"] = version
    return entry


def write_bundle(folder: Path, approvals: list[dict], model: dict | None = None) -> Path:
    bundle = folder / "bundle"
    bundle.mkdir()
    (bundle / "predictions.csv").write_text("label,prediction,group\n1,1,a\n0,0,b\n", encoding="utf-8")
    manifest = {
        "bundle_version": 1,
        "model": model or MODEL,
        "datasets": [
            {"name": "predictions", "path": "predictions.csv", "role": "predictions", "label_column": "label",
             "prediction_column": "prediction", "sensitive_features": ["group"], "positive_label": 1}
        ],
        "approvals": approvals,
    }
    (bundle / "bundle.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    return bundle


def run(tmp_path: Path, approvals: list[dict], body: str, as_of=AS_OF, model=None, **options):
    policy = write_policy(tmp_path, f"policy p {{\n  control c {{\n{body}\n  }}\n}}\n")
    plan, _ = compile_policies([str(policy)])
    bundle = load_bundle(write_bundle(tmp_path, approvals, model))
    return evaluate(plan, bundle, clock=lambda: as_of, **options)


def checks(tmp_path, approvals, body, **options):
    return run(tmp_path, approvals, body, **options).controls[0].checks


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


# The rules, one problem at a time


@pytest.mark.parametrize(
    ("entry", "options", "problem"),
    [
        (approval(), {}, None),
        (approval(decision="rejected"), {}, "decision is `rejected`"),
        (approval(decision="conditional", note="Only after the fairness gate passes."), {},
         'decision is `conditional` (note: "Only after the fairness gate passes.")'),
        (approval(decision="conditional"), {"accept_conditional": True}, None),
        (approval(version="0.9"), {}, "it approves version `0.9`, not `1.0`"),
        (approval(version=None), {}, "it names no model version, so it cannot be bound to version `1.0`"),
        (approval(name="  dana   DEVELOPER "), {}, "the approver is one of the model's developers"),
        (approval(team="credit modeling team"), {}, "the approver's team `credit modeling team` is listed among the model's developers"),
        (approval(date="2026-01-16"), {}, "it is dated 2026-01-16, after the evaluation date 2026-01-15"),
        (approval(date="2026-01-15"), {"within_days": 0}, None),
        (approval(date="2025-10-17"), {"within_days": 90}, None),
        (approval(date="2025-10-16"), {"within_days": 90}, "it is 91 days old, more than 90 days"),
        (approval(date="2024-02-30"), {}, "its date `2024-02-30` is not a valid date (YYYY-MM-DD)"),
        (approval(name="Olga Owner"), {}, None),
        (approval(name="Olga Owner"), {"independent": True}, "the validator is the model's owner"),
        (approval(team="OLGA OWNER"), {"independent": True}, "the validator's team `OLGA OWNER` is the model's owner"),
    ],
)
def test_one_rule_at_a_time(entry, options, problem):
    (assessment,) = assess(MODEL, [entry], entry["role"], AS_OF, **options)
    assert assessment.problems == (() if problem is None else (problem,))
    assert assessment.valid is (problem is None)


def test_boundary_ages():
    on_day = assess(MODEL, [approval(date="2026-01-15")], "model_owner", AS_OF)[0]
    assert on_day.age_days == 0
    assert on_day.valid
    future = assess(MODEL, [approval(date="2026-01-16")], "model_owner", AS_OF)[0]
    assert future.age_days == -1
    assert not future.valid


@pytest.mark.parametrize(
    ("entries", "valid"),
    [
        # A later rejection by the same role, on the same version, replaces the approval.
        ([approval(date="2025-11-01"), approval(name="Ravi Risk", decision="rejected", date="2025-12-01")], [False, False]),
        # An earlier rejection does not.
        ([approval(decision="rejected", date="2025-11-01"), approval(date="2025-12-01")], [False, True]),
        # On the same day, the entry listed later in bundle.yaml is the later decision.
        ([approval(), approval(decision="rejected")], [False, False]),
        ([approval(decision="rejected"), approval()], [False, True]),
        # A rejection of another version, by another role or dated after the evaluation does not replace it.
        ([approval(date="2025-11-01"), approval(decision="rejected", version="0.9")], [True, False]),
        ([approval(date="2025-11-01"), approval(role="compliance", decision="rejected")], [True]),
        ([approval(date="2025-11-01"), approval(decision="rejected", date="2026-02-01")], [True, False]),
        # A later conditional decision replaces an approval, unless conditions are accepted.
        ([approval(date="2025-11-01"), approval(decision="conditional")], [False, False]),
    ],
)
def test_later_decisions_replace_approvals(entries, valid):
    assert [a.valid for a in assess(MODEL, entries, "model_owner", AS_OF)] == valid


def test_replaced_approval_names_the_later_decision():
    first, _ = assess(MODEL, [approval(date="2025-11-01"), approval(name="Ravi Risk", decision="rejected")], "model_owner", AS_OF)
    assert first.problems == ("a later decision replaces it: `rejected` by Ravi Risk on 2025-12-01",)


def test_conditional_accepted_is_not_replaced_by_conditional():
    entries = [approval(date="2025-11-01"), approval(decision="conditional")]
    assert [a.valid for a in assess(MODEL, entries, "model_owner", AS_OF, accept_conditional=True)] == [True, True]


# The rules against an oracle on random approvals

ROLES = ("model_owner", "validator")
NAMES = ("Dana Developer", "Olga Owner", "Val Idator", "Rita Risk")
TEAMS = (None, "Credit Modeling Team", "Model Validation", "olga owner")
DECISIONS = ("approved", "rejected", "conditional")
VERSIONS = ("1.0", "0.9", None)

approvals_strategy = st.lists(
    st.builds(
        lambda role, name, team, decision, offset, version: {
            key: value
            for key, value in {
                "role": role,
                "name": name,
                "team": team,
                "decision": decision,
                "date": (AS_OF - datetime.timedelta(days=offset)).isoformat(),
                "model_version": version,
            }.items()
            if value is not None
        },
        st.sampled_from(ROLES),
        st.sampled_from(NAMES),
        st.sampled_from(TEAMS),
        st.sampled_from(DECISIONS),
        st.integers(-5, 200),
        st.sampled_from(VERSIONS),
    ),
    max_size=8,
)


def oracle_counts(approvals, role, within, accept_conditional, independent):
    """Return, per approval by `role`, whether it counts; written from the rules, not from the code."""
    people = {name.lower() for name in MODEL["developers"]}
    owner = MODEL["owner"].lower()
    good = {"approved", "conditional"} if accept_conditional else {"approved"}
    result = []
    for index, entry in enumerate(approvals):
        if entry["role"] != role:
            continue
        date = datetime.date.fromisoformat(entry["date"])
        age = (AS_OF - date).days
        name, team = entry["name"].lower(), entry.get("team", "").lower()
        ok = entry["decision"] in good and entry.get("model_version") == "1.0"
        ok = ok and name not in people and team not in people
        if independent:
            ok = ok and name != owner and team != owner
        ok = ok and 0 <= age and (within is None or age <= within)
        for later_index, later in enumerate(approvals):
            later_date = datetime.date.fromisoformat(later["date"])
            same = later["role"] == role and later.get("model_version") == "1.0" and later_date <= AS_OF
            after = later_date > date or (later_date == date and later_index > index)
            if same and after and later["decision"] not in good:
                ok = False
        result.append((ok, age))
    return result


@settings(max_examples=500, deadline=None)
@given(
    approvals_strategy,
    st.sampled_from(ROLES),
    st.sampled_from([None, 0, 30, 90]),
    st.booleans(),
    st.booleans(),
)
def test_rules_match_oracle(approvals, role, within, accept_conditional, independent):
    assessed = assess(
        MODEL, approvals, role, AS_OF, within_days=within, accept_conditional=accept_conditional, independent=independent
    )
    expected = oracle_counts(approvals, role, within, accept_conditional, independent)
    assert [(a.valid, a.age_days) for a in assessed] == expected
    newest = newest_valid(assessed)
    ages = [age for ok, age in expected if ok]
    if ages:
        assert newest.age_days == min(ages)
    else:
        assert newest is None


# Metrics and `require approval` through the engine


def test_approval_age_boundary_90_days(tmp_path):
    entries = [approval(date="2025-10-17")]  # 90 days before 2026-01-15
    age, within = checks(
        tmp_path, entries, '    check approval_age_days(role = "model_owner") <= 90\n    require approval "model_owner" within 90d'
    )
    assert age.value == 90
    assert age.status == "pass"
    assert within.status == "pass"


def test_approval_age_boundary_91_days(tmp_path):
    entries = [approval(date="2025-10-16")]
    age, within = checks(
        tmp_path, entries, '    check approval_age_days(role = "model_owner") <= 90\n    require approval "model_owner" within 90d'
    )
    assert age.value == 91
    assert age.status == "fail"
    assert "approval_age_days(role = \"model_owner\") = 91 is not <= 90" in age.message
    assert within.status == "fail"
    assert "it is 91 days old, more than 90 days" in within.message


def test_approval_age_follows_as_of(tmp_path):
    results = run(tmp_path, [approval(date="2025-12-01")], '    check approval_age_days(role = "model_owner") <= 90',
                  as_of=datetime.date(2025, 12, 31))
    assert results.controls[0].checks[0].value == 30
    assert results.as_of == "2025-12-31"


def test_approval_age_picks_newest_valid(tmp_path):
    entries = [
        approval(date="2025-06-01"),
        approval(name="Rita Risk", date="2025-12-01", version="0.9"),
        approval(name="Otto Owner", date="2025-11-01"),
    ]
    (result,) = checks(tmp_path, entries, '    check approval_age_days(role = "model_owner") <= 365')
    assert result.value == 75
    assert result.details["approval"]["name"] == "Otto Owner"
    findings = [g.group["finding"] for g in result.groups]
    assert findings == ["valid", "it approves version `0.9`, not `1.0`", "valid"]


@pytest.mark.parametrize("allow_insufficient", [False, True])
def test_no_valid_approval_is_error_and_blocks(tmp_path, allow_insufficient):
    entries = [approval(decision="rejected"), approval(name="Dana Developer", date="2025-11-01")]
    results = run(tmp_path, entries, '    check approval_age_days(role = "model_owner") <= 90',
                  allow_insufficient=allow_insufficient)
    (result,) = results.controls[0].checks
    assert result.status == "error"
    assert result.reason == (
        "no valid approval by role `model_owner`: Rita Risk on 2025-12-01: decision is `rejected`"
        " | Dana Developer on 2025-11-01: the approver is one of the model's developers"
    )
    assert results.gate.decision == "blocked"


def test_no_approval_by_role_lists_roles(tmp_path):
    (result,) = checks(tmp_path, [approval(role="compliance")], '    check approval_age_days(role = "model_owner") <= 90')
    assert result.status == "error"
    assert "no approval by role `model_owner` (roles with approvals: compliance)" in result.reason


def test_future_dated_approval_does_not_count(tmp_path):
    entries = [approval(date="2026-03-01")]
    age, required = checks(
        tmp_path, entries, '    check approval_age_days(role = "model_owner") <= 90\n    require approval "model_owner"'
    )
    assert age.status == "error"
    assert "it is dated 2026-03-01, after the evaluation date 2026-01-15" in age.reason
    assert required.status == "fail"


def test_conditional_counts_only_when_accepted(tmp_path):
    entries = [approval(decision="conditional", note="Re-run the fairness checks monthly.")]
    strict, lenient = checks(
        tmp_path,
        entries,
        '    check approval_age_days(role = "model_owner") <= 90\n'
        '    check approval_age_days(role = "model_owner", accept_conditional = true) <= 90',
    )
    assert strict.status == "error"
    assert 'decision is `conditional` (note: "Re-run the fairness checks monthly.")' in strict.reason
    assert lenient.status == "pass"
    assert lenient.value == 45


def test_require_approval_rejects_self_approval(tmp_path):
    (result,) = checks(tmp_path, [approval(name="DANA developer")], '    require approval "model_owner"')
    assert result.status == "fail"
    assert "DANA developer on 2025-12-01: the approver is one of the model's developers" in result.message
    assert result.requirement["approvals"][0]["problems"] == ["the approver is one of the model's developers"]


def test_require_approval_replaced_by_later_rejection(tmp_path):
    entries = [approval(date="2025-11-01"), approval(name="Ravi Risk", decision="rejected", date="2025-12-01")]
    (result,) = checks(tmp_path, entries, '    require approval "model_owner"')
    assert result.status == "fail"
    assert "Rita Risk on 2025-11-01: a later decision replaces it: `rejected` by Ravi Risk on 2025-12-01" in result.message


def test_independent_validations(tmp_path):
    entries = [
        approval(role="validator", name="Val Idator", team="Model Validation"),
        approval(role="validator", name="Olga Owner", date="2025-12-02"),
        approval(role="validator", name="Dana Developer", date="2025-12-03"),
        approval(role="validator", name="Tia Team", team="Credit Modeling Team", date="2025-12-04"),
        approval(role="validator", name="Vic Version", version="0.9", date="2025-12-05"),
    ]
    (result,) = checks(tmp_path, entries, "    check independent_validations() >= 1")
    assert result.value == 1
    assert result.status == "pass"
    findings = {g.group["approver"]: g.group["finding"] for g in result.groups}
    assert findings == {
        "Val Idator": "valid",
        "Olga Owner": "the validator is the model's owner",
        "Dana Developer": "the approver is one of the model's developers",
        "Tia Team": "the approver's team `Credit Modeling Team` is listed among the model's developers",
        "Vic Version": "it approves version `0.9`, not `1.0`",
    }
    assert [g.values["independent_and_valid"] for g in result.groups] == [1.0, 0.0, 0.0, 0.0, 0.0]


def test_independent_validations_none_is_zero(tmp_path):
    (result,) = checks(tmp_path, [approval()], '    check independent_validations(role = "validator") >= 1')
    assert result.value == 0
    assert result.status == "fail"
    assert result.details["note"] == "no validation by role `validator` (roles with approvals: model_owner)"


def test_self_approvals(tmp_path):
    entries = [
        approval(name="Dana Developer"),
        approval(role="compliance", name="Cora", team="credit modeling team", decision="conditional"),
        approval(name="Dana Developer", decision="rejected"),
        approval(name="Dana Developer", version="0.9"),
        approval(name="Rita Risk"),
    ]
    (result,) = checks(tmp_path, entries, "    check self_approvals() <= 0")
    assert result.value == 2
    assert result.status == "fail"
    assert [g.group["approver"] for g in result.groups] == ["Dana Developer", "Cora"]


def test_self_approvals_without_developers(tmp_path):
    model = {key: value for key, value in MODEL.items() if key != "developers"}
    (result,) = checks(tmp_path, [approval(name="Dana Developer")], "    check self_approvals() <= 0", model=model)
    assert result.value == 0


def test_compas_example_process_metrics(tmp_path):
    bundle = tmp_path / "compas"
    shutil.copytree(COMPAS_BUNDLE, bundle)
    policy = write_policy(
        tmp_path,
        "policy p {\n  control c {\n"
        '    check approval_age_days(role = "model_owner") <= 90\n'
        '    check independent_validations(role = "independent_validator") >= 1\n'
        "    check self_approvals() <= 0\n"
        '    check approval_age_days(role = "compliance") <= 90\n'
        "  }\n}\n",
    )
    plan, _ = compile_policies([str(policy)])
    results = evaluate(plan, load_bundle(bundle), clock=lambda: datetime.date(2024, 3, 1))
    age, validation, duties, compliance = results.controls[0].checks
    assert (age.value, age.status) == (46, "pass")
    assert (validation.value, validation.status) == (1, "pass")
    assert (duties.value, duties.status) == (0, "pass")
    assert compliance.status == "error"  # the compliance decision is conditional
    assert "decision is `conditional`" in compliance.reason


def test_text_report_shows_approval_rows(tmp_path):
    bundle = write_bundle(tmp_path, [approval(), approval(name="Dana Developer", date="2025-11-01")])
    policy = write_policy(tmp_path, 'policy p {\n  control c { check approval_age_days(role = "model_owner") <= 30 }\n}\n')
    result = invoke("check", policy, "--bundle", bundle, "--as-of", "2026-01-15")
    assert result.exit_code == 1
    assert 'approval_age_days(role = "model_owner") = 45 is not <= 30' in result.stdout
    assert "role=model_owner, approver=Dana Developer, date=2025-11-01, finding=the approver is one of the model's developers" in result.stdout


# Invalid approvals in bundle.yaml are invalid input


@pytest.mark.parametrize("date", ['"2024-02-30"', "2024-02-30"])
def test_impossible_date_exits_2(tmp_path, date):
    bundle = write_bundle(tmp_path, [approval()])
    text = (bundle / "bundle.yaml").read_text(encoding="utf-8").replace("'2025-12-01'", date)
    (bundle / "bundle.yaml").write_text(text, encoding="utf-8")
    policy = write_policy(tmp_path, 'policy p {\n  control c { require approval "model_owner" }\n}\n')
    result = invoke("check", policy, "--bundle", bundle)
    assert result.exit_code == 2
    assert "error[E404]" in result.stderr
    assert "approvals[0].date" in result.stderr
    assert "Traceback" not in result.stderr


def test_team_field_is_accepted(tmp_path):
    bundle = load_bundle(write_bundle(tmp_path, [approval(team="Model Validation")]))
    assert bundle.approvals[0]["team"] == "Model Validation"


def test_misspelled_approval_field_exits_2(tmp_path):
    bundle = write_bundle(tmp_path, [approval(teams="Model Validation")])
    policy = write_policy(tmp_path, 'policy p {\n  control c { require approval "model_owner" }\n}\n')
    result = invoke("check", policy, "--bundle", bundle)
    assert result.exit_code == 2
    assert ".teams`: unknown key `teams`" in result.stderr
    assert "= help: did you mean `team`?" in result.stderr


def test_json_results_match_schema(tmp_path):
    import json

    import jsonschema

    from support import RESULTS_SCHEMA

    bundle = write_bundle(tmp_path, [approval(), approval(name="Dana Developer", date="2026-02-01")])
    shutil.copy(COMPAS_BUNDLE / "model_card.md", bundle / "model_card.md")
    with (bundle / "bundle.yaml").open("a", encoding="utf-8") as manifest:
        manifest.write("model_card: model_card.md\n")
    policy = write_policy(
        tmp_path,
        "policy p {\n  control c {\n"
        "    check model_card_completeness() >= 1\n"
        "    check min(model_card_sections()) >= 1\n"
        "    check model_card_metadata_errors() < 1\n"
        '    check approval_age_days(role = "model_owner") <= 90\n'
        "    check independent_validations() >= 1\n"
        "    check self_approvals() < 1\n"
        "  }\n}\n",
    )
    result = invoke("check", policy, "--bundle", bundle, "--as-of", "2026-01-15", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    jsonschema.validate(data, json.loads(RESULTS_SCHEMA.read_text(encoding="utf-8")))
    statuses = [c["status"] for c in data["controls"][0]["checks"]]
    # The developer's approval counts as a self-approval even though it is dated after the evaluation.
    assert statuses == ["pass", "pass", "insufficient", "pass", "fail", "fail"]
    age = data["controls"][0]["checks"][3]
    assert age["value"] == 45
    assert age["groups"][1]["values"] == {"age_days": -17}  # dated after the evaluation date
