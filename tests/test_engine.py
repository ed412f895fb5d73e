"""Engine: statuses from evidence, `requires` and blocking, enforcement, and the gate decision."""

from __future__ import annotations

import datetime

import pytest

from govdsl.compiler import compile_policies
from govdsl.engine.evaluate import evaluate
from govdsl.engine.evaluate import compare
from govdsl.errors import InvalidInputError
from govdsl.evidence import load_bundle
from support import COMPAS_BUNDLE, COMPAS_POLICY, make_bundle, write_policy

# Group a: 4 rows, TPR 1/2, FPR 1/2. Group b: 4 rows, TPR 2/2, FPR 0/2.
BALANCED = """\
label,prediction,group
1,1,a
1,0,a
0,1,a
0,0,a
1,1,b
1,1,b
0,0,b
0,0,b
"""


def run(tmp_path, policy_text, csv_text=BALANCED, **options):
    policy = write_policy(tmp_path, policy_text)
    plan, _ = compile_policies([str(policy)])
    bundle = load_bundle(make_bundle(tmp_path, csv_text))
    return evaluate(plan, bundle, clock=lambda: datetime.date(2026, 1, 2), **options)


def control(results, control_id):
    return next(c for c in results.controls if c.id == control_id)


def test_fail_and_pass_statuses(tmp_path):
    results = run(
        tmp_path,
        """
        policy p {
          control tight { check true_positive_rate_difference_gap: equal_opportunity_difference(by = "group") <= 0.1 }
          control loose { check equal_opportunity_difference(by = "group") <= 0.5 }
        }
        """,
    )
    tight = control(results, "p.tight")
    assert tight.status == "fail"
    assert tight.checks[0].value == pytest.approx(0.5)
    assert tight.blocks_gate
    assert control(results, "p.loose").status == "pass"
    assert results.gate.decision == "blocked"
    assert results.gate.blocking_controls == ("p.tight",)
    assert results.as_of == "2026-01-02"


def test_group_values_and_counts(tmp_path):
    results = run(tmp_path, 'policy p { control c { check false_positive_rate_difference(by = "group") <= 1 } }')
    check = control(results, "p.c").checks[0]
    by_group = {g.group["group"]: g for g in check.groups}
    assert by_group["a"].n == 4
    assert by_group["a"].counts == {"tp": 1, "fp": 1, "fn": 1, "tn": 1}
    assert by_group["a"].values["false_positive_rate"] == pytest.approx(0.5)
    assert by_group["b"].values["false_positive_rate"] == 0.0
    assert check.overall["false_positive_rate"] == pytest.approx(0.25)
    assert check.extremes["false_positive_rate"] == {"lowest": {"group": "b"}, "highest": {"group": "a"}}


def test_zero_denominator_is_insufficient(tmp_path):
    csv_text = "label,prediction,group\n1,1,a\n1,0,a\n0,1,a\n1,1,b\n1,0,b\n"  # group b has no actual negatives
    results = run(tmp_path, 'policy p { control c { check false_positive_rate_difference(by = "group") <= 0.5 } }', csv_text)
    result = control(results, "p.c")
    assert result.status == "insufficient"
    assert result.checks[0].value is None
    assert "group=b" in result.checks[0].reason
    assert "0 actual negatives" in result.checks[0].reason
    assert result.blocks_gate
    assert results.gate.decision == "blocked"


def test_allow_insufficient_relaxes_gate(tmp_path):
    csv_text = "label,prediction,group\n1,1,a\n0,1,a\n1,1,b\n"
    results = run(
        tmp_path,
        'policy p { control c { check false_positive_rate_difference(by = "group") <= 0.5 } }',
        csv_text,
        allow_insufficient=True,
    )
    assert control(results, "p.c").status == "insufficient"
    assert results.gate.decision == "passed"
    assert results.gate.insufficient_relaxed
    assert results.gate.relaxed_controls == ("p.c",)


def test_advisory_never_blocks(tmp_path):
    results = run(
        tmp_path, 'policy p { control c { enforcement advisory check equal_opportunity_difference(by = "group") <= 0.1 } }'
    )
    assert control(results, "p.c").status == "fail"
    assert not control(results, "p.c").blocks_gate
    assert results.gate.decision == "passed"


def test_requires_failed_control_blocks(tmp_path):
    results = run(
        tmp_path,
        """
        policy p {
          control base { check equal_opportunity_difference(by = "group") <= 0.1 }
          control later { requires [base] check selection_rate() <= 1 }
        }
        """,
    )
    later = control(results, "p.later")
    assert later.status == "blocked"
    assert later.checks[0].status == "blocked"
    assert "`p.base` (fail)" in later.message
    assert results.gate.blocking_controls == ("p.base", "p.later")


def test_undeclared_feature_is_error(tmp_path):
    results = run(tmp_path, 'policy p { control c { check demographic_parity_difference(by = "race") <= 0.1 } }')
    result = control(results, "p.c")
    assert result.status == "error"
    assert "race" in result.checks[0].message
    assert "declared: group" in result.checks[0].message


def test_unknown_dataset_is_error(tmp_path):
    results = run(tmp_path, 'policy p { control c { check selection_rate(dataset = "holdout") <= 1 } }')
    assert control(results, "p.c").status == "error"


def test_clause_status_combined(tmp_path):
    results = run(
        tmp_path,
        """
        policy p {
          control bad { maps ["NIST-AI-RMF:MEASURE 2.11"] check equal_opportunity_difference(by = "group") <= 0.1 }
          control good { maps ["NIST-AI-RMF:MEASURE 2.11", "EU-AI-ACT:Art.10(2)(f)"] check selection_rate() <= 1 }
        }
        """,
    )
    clauses = {c.reference: c for c in results.clauses}
    assert clauses["NIST-AI-RMF:MEASURE 2.11"].status == "fail"
    assert clauses["NIST-AI-RMF:MEASURE 2.11"].controls == (("p.bad", "fail"), ("p.good", "pass"))
    assert clauses["EU-AI-ACT:Art.10(2)(f)"].status == "pass"


def test_control_without_checks_insufficient(tmp_path):
    results = run(tmp_path, "policy p { control empty { } }")
    assert control(results, "p.empty").status == "insufficient"


@pytest.mark.parametrize(
    ("value", "operator", "threshold", "expected"),
    [
        (0.8, ">=", 0.8, True),
        (4 / 5 - 1e-12, ">=", 0.8, True),
        (0.79, ">=", 0.8, False),
        (0.1 + 0.2, "<=", 0.3, True),
        (0.3 + 1e-6, "<=", 0.3, False),
        (0.5, "<", 0.5, False),
        (0.5, ">", 0.5, False),
        (0.5, "==", 0.5, True),
        (0.5, "!=", 0.5, False),
    ],
)
def test_compare_tolerates_float_noise(value, operator, threshold, expected):
    assert compare(value, operator, threshold) is expected


def test_compas_rates_match_published_counts():
    plan, _ = compile_policies([str(COMPAS_POLICY)])
    results = evaluate(plan, load_bundle(COMPAS_BUNDLE), clock=lambda: datetime.date(2026, 12, 4))
    fpr = control(results, "compas_fairness.fpr_parity_race").checks[0]
    groups = {g.group["race"]: g for g in fpr.groups}
    assert groups["African-American"].n == 3175
    assert groups["African-American"].counts["fp"] == 641
    assert groups["African-American"].counts["fp"] + groups["African-American"].counts["tn"] == 1514
    assert groups["Caucasian"].counts["fp"] == 282
    assert sum(g.n for g in fpr.groups) == 6172
    assert results.gate.decision == "blocked"


def test_positive_label_not_in_data(tmp_path):
    csv_text = "label,prediction,group\nTrue,True,a\nFalse,True,a\nTrue,False,b\nFalse,False,b\n"
    with pytest.raises(InvalidInputError) as caught:
        run(tmp_path, 'policy p { control c { check demographic_parity_difference(by = "group") <= 0.1 } }', csv_text)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "E410"
    assert "positive_label `1`" in diagnostic.message
    assert "`False`, `True`" in diagnostic.message


def test_multiclass_label_rejected(tmp_path):
    csv_text = "label,prediction,group\n0,1,a\n1,1,a\n2,0,b\n1,0,b\n"
    with pytest.raises(InvalidInputError) as caught:
        run(tmp_path, "policy p { control c { check selection_rate() <= 1 } }", csv_text)
    assert "more than two distinct values" in caught.value.diagnostics[0].message


def test_equivalent_numeric_labels_accepted(tmp_path):
    csv_text = "label,prediction,group\n1.0,1,a\n0,0.0,a\n 1 ,0,b\n0.0,1,b\n"
    results = run(tmp_path, 'policy p { control c { check false_positive_rate_difference(by = "group") <= 1 } }', csv_text)
    check = control(results, "p.c").checks[0]
    by_group = {g.group["group"]: g.counts for g in check.groups}
    assert by_group["a"] == {"tp": 1, "fp": 0, "fn": 0, "tn": 1}
    assert by_group["b"] == {"tp": 0, "fp": 1, "fn": 1, "tn": 0}


def test_all_negative_predictions_allowed(tmp_path):
    csv_text = "label,prediction,group\n1,0,a\n0,0,a\n1,0,b\n0,0,b\n"
    results = run(tmp_path, 'policy p { control c { check demographic_parity_difference(by = "group") <= 0.1 } }', csv_text)
    assert control(results, "p.c").status == "pass"
