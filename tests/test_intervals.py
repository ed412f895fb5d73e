"""Confidence intervals: the formulas against statsmodels and scipy, their coverage, and their use in checks.

statsmodels (0.15) is the reference for the Wilson, Newcombe and Katz intervals,
and scipy's `binomtest(...).proportion_ci(method="wilson")` a second one for Wilson.
The intervals of a group against the overall rate have no reference implementation,
so a simulation checks that they cover the true value about as often as stated.
"""

from __future__ import annotations

import datetime
import json
import math
import random

import jsonschema
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from govdsl.cli import main
from govdsl.compiler import compile_policies
from govdsl.engine.evaluate import evaluate
from govdsl.errors import InvalidInputError
from govdsl.evidence import load_bundle
from govdsl.evidence.reductions import reduce_group_confusion
from govdsl.metrics import intervals as ci
from govdsl.metrics.counts import ConfusionCounts, GroupedConfusion
from govdsl.metrics.fairness import between_groups_difference, between_groups_ratio, overall_rate, per_group
from support import COMPAS_BUNDLE, RESULTS_SCHEMA, make_bundle, write_policy

TOLERANCE = 1e-12
LEVELS = [0.8, 0.9, 0.95, 0.99]


def random_counts(seed: int, cases: int = 300, max_trials: int = 300):
    """Yield (successes, trials) pairs with 1 to max_trials trials, including 0/n and n/n."""
    rng = random.Random(seed)
    for _ in range(cases):
        trials = rng.randint(1, max_trials)
        successes = rng.choice([0, trials, rng.randint(0, trials)])
        yield successes, trials


def alpha(confidence: float) -> float:
    return 1 - confidence


# The Wilson interval of one rate.


@pytest.mark.parametrize("confidence", LEVELS)
def test_wilson_matches_statsmodels(confidence):
    for successes, trials in random_counts(1):
        expected = proportion_confint(successes, trials, alpha=alpha(confidence), method="wilson")
        low, high = ci.wilson(successes, trials, confidence)
        assert low == pytest.approx(expected[0], abs=TOLERANCE), (successes, trials)
        assert high == pytest.approx(expected[1], abs=TOLERANCE), (successes, trials)


def test_wilson_matches_scipy():
    for successes, trials in random_counts(2, cases=100):
        expected = binomtest(successes, trials).proportion_ci(confidence_level=0.95, method="wilson")
        low, high = ci.wilson(successes, trials, 0.95)
        assert low == pytest.approx(expected.low, abs=TOLERANCE)
        assert high == pytest.approx(expected.high, abs=TOLERANCE)


def test_wilson_zero_successes_starts_at_zero():
    low, high = ci.wilson(0, 10, 0.95)
    assert low == 0.0
    assert high == pytest.approx(0.27753279986288926, abs=TOLERANCE)


def test_wilson_all_successes_ends_at_one():
    low, high = ci.wilson(10, 10, 0.95)
    assert high == 1.0
    assert low == pytest.approx(1 - 0.27753279986288926, abs=TOLERANCE)


def test_wilson_no_trials_undefined():
    assert ci.wilson(0, 0, 0.95) is None


def test_wilson_higher_confidence_wider():
    narrow = ci.wilson(30, 100, 0.9)
    wide = ci.wilson(30, 100, 0.99)
    assert wide[0] < narrow[0] < 0.3 < narrow[1] < wide[1]


@pytest.mark.parametrize("confidence", [0, 1, 1.5, -0.1])
def test_confidence_outside_unit_interval_rejected(confidence):
    with pytest.raises(ValueError, match="confidence must be between 0 and 1"):
        ci.z_value(confidence)


# Differences and ratios of two independent rates.


def random_pairs(seed: int, cases: int = 300):
    first = random_counts(seed, cases)
    second = random_counts(seed + 1000, cases)
    yield from ((a, b, c, d) for (a, b), (c, d) in zip(first, second))


@pytest.mark.parametrize("confidence", LEVELS)
def test_newcombe_matches_statsmodels(confidence):
    for x1, n1, x2, n2 in random_pairs(3):
        expected = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", alpha=alpha(confidence))
        low, high = ci.newcombe_difference(x1, n1, x2, n2, confidence)
        assert low == pytest.approx(expected[0], abs=TOLERANCE), (x1, n1, x2, n2)
        assert high == pytest.approx(expected[1], abs=TOLERANCE), (x1, n1, x2, n2)


def test_newcombe_undefined_without_trials():
    assert ci.newcombe_difference(0, 0, 3, 10, 0.95) is None
    assert ci.newcombe_difference(3, 10, 0, 0, 0.95) is None


@pytest.mark.parametrize("confidence", LEVELS)
def test_katz_matches_statsmodels(confidence):
    checked = 0
    for x1, n1, x2, n2 in random_pairs(4):
        if x1 == 0 or x2 == 0:
            continue
        expected = confint_proportions_2indep(x1, n1, x2, n2, method="log", compare="ratio", alpha=alpha(confidence))
        low, high = ci.katz_ratio(x1, n1, x2, n2, confidence)
        assert low == pytest.approx(expected[0], rel=TOLERANCE), (x1, n1, x2, n2)
        assert high == pytest.approx(expected[1], rel=TOLERANCE), (x1, n1, x2, n2)
        checked += 1
    assert checked > 100


def test_katz_zero_numerator_uses_adjusted_upper():
    # statsmodels' "log-adjusted" adds 0.5 to each count and group size, as govdsl does for a zero count.
    expected = confint_proportions_2indep(0, 12, 5, 20, method="log-adjusted", compare="ratio")
    low, high = ci.katz_ratio(0, 12, 5, 20, 0.95)
    assert low == 0.0
    assert high == pytest.approx(expected[1], rel=TOLERANCE)


def test_katz_zero_denominator_unbounded_above():
    expected = confint_proportions_2indep(5, 20, 0, 12, method="log-adjusted", compare="ratio")
    low, high = ci.katz_ratio(5, 20, 0, 12, 0.95)
    assert high == math.inf
    assert low == pytest.approx(expected[0], rel=TOLERANCE)


def test_katz_both_zero_undefined():
    assert ci.katz_ratio(0, 12, 0, 20, 0.95) is None


@pytest.mark.parametrize(
    ("bounds", "folded"),
    [((0.1, 0.3), (0.1, 0.3)), ((-0.3, -0.1), (0.1, 0.3)), ((-0.2, 0.1), (0.0, 0.2)), ((-0.1, 0.4), (0.0, 0.4))],
)
def test_fold_difference(bounds, folded):
    assert ci.fold_difference(bounds) == pytest.approx(folded)


@pytest.mark.parametrize(
    ("bounds", "folded"),
    [((0.5, 0.8), (0.5, 0.8)), ((1.25, 2.0), (0.5, 0.8)), ((0.5, 1.25), (0.5, 1.0)), ((0.9, 4.0), (0.25, 1.0)),
     ((2.0, math.inf), (0.0, 0.5)), ((0.0, 0.5), (0.0, 0.5))],
)
def test_fold_ratio(bounds, folded):
    assert ci.fold_ratio(bounds) == pytest.approx(folded)


# A group against the overall rate of data that includes it.


def test_difference_to_overall_is_scaled_newcombe():
    # rate - overall = (1 - w)(rate - rest), with w the group's share of the trials.
    low, high = ci.difference_to_overall(30, 100, 90, 400, 0.95)
    rest = ci.newcombe_difference(30, 100, 60, 300, 0.95)
    assert (low, high) == pytest.approx((rest[0] * 0.75, rest[1] * 0.75), abs=TOLERANCE)
    assert low < 30 / 100 - 90 / 400 < high


def test_to_overall_single_group_exact():
    assert ci.difference_to_overall(30, 100, 30, 100, 0.95) == (0.0, 0.0)
    assert ci.ratio_to_overall(30, 100, 30, 100, 0.95) == (1.0, 1.0)


def test_ratio_to_overall_contains_estimate():
    low, high = ci.ratio_to_overall(30, 100, 90, 400, 0.95)
    assert low < (30 / 100) / (90 / 400) < high


def test_ratio_to_overall_rest_zero_bounded():
    # Every success is in the group, so the ratio to overall is at most 1 / w = 4.
    low, high = ci.ratio_to_overall(30, 100, 30, 400, 0.95)
    assert high == pytest.approx(4.0)
    assert low < 4.0


def coverage(estimate, truth: float, probabilities, sizes, runs: int, seed: int) -> float:
    """Share of simulated data sets whose interval contains the true value."""
    rng = random.Random(seed)
    hits = 0
    for _ in range(runs):
        successes = [sum(rng.random() < p for _ in range(n)) for p, n in zip(probabilities, sizes)]
        bounds = estimate(successes, sizes)
        if bounds is not None and bounds[0] <= truth <= bounds[1]:
            hits += 1
    return hits / runs


def test_difference_to_overall_coverage():
    # Group 0 against all rows; the true overall rate weighs the groups by their fixed sizes.
    probabilities, sizes = (0.3, 0.45), (150, 450)
    overall = (0.3 * 150 + 0.45 * 450) / 600

    def estimate(successes, sizes):
        return ci.difference_to_overall(successes[0], sizes[0], sum(successes), sum(sizes), 0.9)

    share = coverage(estimate, 0.3 - overall, probabilities, sizes, 1500, seed=5)
    # 1500 runs at 90%: the standard error is 0.008, so 0.87-0.93 allows more than 3.5 standard errors.
    assert 0.87 <= share <= 0.93


def test_ratio_to_overall_coverage():
    probabilities, sizes = (0.2, 0.35), (120, 480)
    overall = (0.2 * 120 + 0.35 * 480) / 600

    def estimate(successes, sizes):
        return ci.ratio_to_overall(successes[0], sizes[0], sum(successes), sum(sizes), 0.9)

    share = coverage(estimate, 0.2 / overall, probabilities, sizes, 1500, seed=6)
    assert 0.87 <= share <= 0.93


def test_newcombe_coverage():
    probabilities, sizes = (0.15, 0.4), (40, 60)

    def estimate(successes, sizes):
        return ci.newcombe_difference(successes[0], sizes[0], successes[1], sizes[1], 0.9)

    share = coverage(estimate, 0.15 - 0.4, probabilities, sizes, 1500, seed=7)
    assert 0.87 <= share <= 0.93


# Intervals of the metrics, on COMPAS.


@pytest.fixture(scope="module")
def compas_race():
    return reduce_group_confusion(load_bundle(COMPAS_BUNDLE).datasets["predictions"], ("race",))


def test_compas_group_intervals_match_statsmodels(compas_race):
    value = per_group(compas_race, ("false_positive_rate",))
    for group in value.groups:
        counts = group.counts
        expected = proportion_confint(counts.fp, counts.fp + counts.tn, method="wilson")
        interval = group.intervals["false_positive_rate"]
        assert (interval.low, interval.high) == pytest.approx(expected, abs=TOLERANCE), group.key
        assert interval.method == "wilson"
        assert interval.confidence == 0.95


def test_compas_overall_interval(compas_race):
    value = overall_rate(compas_race, ("selection_rate",), confidence=0.9)
    overall = compas_race.overall
    expected = proportion_confint(overall.tp + overall.fp, overall.n, alpha=0.1, method="wilson")
    assert (value.interval.low, value.interval.high) == pytest.approx(expected, abs=TOLERANCE)
    assert value.details["interval"]["method"] == "wilson"
    assert value.details["confidence"] == 0.9


def test_compas_difference_interval_is_extreme_pair(compas_race):
    value = between_groups_difference(compas_race, ("selection_rate",), min_group_size=30, exclude_small=True)
    low_key, high_key = value.extremes["selection_rate"]
    low, high = compas_race.groups[low_key], compas_race.groups[high_key]
    expected = confint_proportions_2indep(
        high.predicted_positives, high.n, low.predicted_positives, low.n, method="newcomb"
    )
    assert (value.interval.low, value.interval.high) == pytest.approx(expected, abs=TOLERANCE)
    assert value.interval.low < value.value < value.interval.high
    assert value.details["interval"]["group"] == {"race": low_key[0]}
    assert value.details["interval"]["compared_with"] == {"race": high_key[0]}


def test_compas_ratio_interval_is_folded_katz(compas_race):
    value = between_groups_ratio(compas_race, ("false_positive_rate",), min_group_size=30, exclude_small=True)
    low_key, high_key = value.extremes["false_positive_rate"]
    low, high = compas_race.groups[low_key], compas_race.groups[high_key]
    expected = confint_proportions_2indep(
        low.fp, low.fp + low.tn, high.fp, high.fp + high.tn, method="log", compare="ratio"
    )
    # The Katz interval of low/high lies below 1 here, so folding leaves it as it is.
    assert expected[1] < 1
    assert (value.interval.low, value.interval.high) == pytest.approx(expected, rel=TOLERANCE)
    assert value.interval.method == "katz"


def test_equalized_odds_interval_combines_components():
    # Group a: TPR 8/10, FPR 2/10. Group b: TPR 5/10, FPR 4/10.
    table = GroupedConfusion(
        ("group",), {("a",): ConfusionCounts(tp=8, fp=2, fn=2, tn=8), ("b",): ConfusionCounts(tp=5, fp=4, fn=5, tn=6)}
    )
    value = between_groups_difference(table, ("true_positive_rate", "false_positive_rate"))
    tpr = ci.fold_difference(ci.newcombe_difference(5, 10, 8, 10, 0.95))
    fpr = ci.fold_difference(ci.newcombe_difference(2, 10, 4, 10, 0.95))
    assert value.value == pytest.approx(0.3)
    assert value.interval.low == pytest.approx(max(tpr[0], fpr[0]))
    assert value.interval.high == pytest.approx(max(tpr[1], fpr[1]))
    assert value.details["interval"]["component"] == "true_positive_rate"


def test_undefined_value_has_no_interval():
    table = GroupedConfusion(("group",), {("a",): ConfusionCounts(tp=3, fn=1)})
    value = between_groups_difference(table, ("selection_rate",))
    assert value.value is None
    assert value.interval is None
    assert "interval" not in value.details


# lower(...) and upper(...) in checks.


def run(tmp_path, policy_text, bundle=None):
    policy = write_policy(tmp_path, policy_text)
    plan, _ = compile_policies([str(policy)])
    return evaluate(plan, load_bundle(bundle or COMPAS_BUNDLE), clock=lambda: datetime.date(2026, 1, 2))


def checks_of(results) -> dict:
    return {check.id.rsplit(".", 1)[1]: check for control in results.controls for check in control.checks}


BOUNDS_POLICY = """
policy p {
  control c {
    check upper_gap: upper(demographic_parity_difference(by = "race", min_group_size = 30, exclude_small = true)) <= 0.45
    check lower_gap: lower(demographic_parity_difference(by = "race", min_group_size = 30, exclude_small = true)) >= 0.33
    check narrow: upper(demographic_parity_difference(by = "race", min_group_size = 30, exclude_small = true, confidence = 50%)) <= 0.39
    check overall: lower(selection_rate(confidence = 0.9)) >= 0.43
    check groups: every g in upper(false_positive_rate(by = "race", min_group_size = 30, exclude_small = true)): g <= 0.45
    check groups_low: every g in lower(false_positive_rate(by = "race", min_group_size = 30, exclude_small = true)): g >= 0.05
  }
}
"""


def test_bounds_in_checks_compas(tmp_path):
    checks = checks_of(run(tmp_path, BOUNDS_POLICY))
    # The gap between race=Other (70/343) and race=African-American (1829/3175) is 0.3720 [0.3230, 0.4148].
    assert checks["upper_gap"].status == "pass"
    assert checks["upper_gap"].comparisons[0]["left"] == pytest.approx(0.4148, abs=5e-5)
    assert checks["lower_gap"].status == "fail"
    assert checks["lower_gap"].comparisons[0]["left"] == pytest.approx(0.3230, abs=5e-5)
    assert checks["narrow"].status == "pass"
    assert checks["overall"].status == "pass"
    assert checks["groups"].status == "pass"
    # Asian defendants: false positive rate 2/23, Wilson interval [0.0242, 0.2680].
    assert checks["groups_low"].status == "fail"
    assert checks["groups_low"].failing_groups == ({"group": "race=Asian", "value": pytest.approx(0.0242, abs=5e-5)},)


def test_bound_of_undefined_value_insufficient(tmp_path):
    results = run(
        tmp_path,
        'policy p { control c { check upper(false_positive_rate_difference(by = ["race", "sex"])) <= 0.5 } }',
    )
    (check,) = checks_of(results).values()
    assert check.status == "insufficient"
    assert "race=Native American, sex=Female" in check.reason


def test_per_group_bound_undefined_group_insufficient(tmp_path):
    results = run(
        tmp_path,
        'policy p { control c { check every g in upper(false_positive_rate(by = ["race", "sex"])): g <= 0.9 } }',
    )
    (check,) = checks_of(results).values()
    assert check.status == "insufficient"
    assert "0 actual negatives (n = 2)" in check.reason


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ('upper(max(selection_rate(by = "race")))', "`upper` needs a call of a metric with a confidence interval"),
        ("lower(f1_score())", "`lower` needs a call of a metric with a confidence interval"),
        ("upper(0.5)", "`upper` needs a call of a metric with a confidence interval"),
        ('upper(selection_rate(confidence = 1.5))', "argument `confidence` must be a number between 0 and 1 (exclusive), not `1.5`"),
        ('upper(selection_rate(confidence = 0))', "argument `confidence` must be a number between 0 and 1 (exclusive), not `0`"),
        ('upper(selection_rate(confidence = 100%))', "argument `confidence` must be a number between 0 and 1 (exclusive), not `100%`"),
        ('upper(selection_rate(), selection_rate())', "`upper` takes 1 argument(s), not 2"),
    ],
)
def test_bound_type_errors(tmp_path, call, message):
    policy = write_policy(tmp_path, f"policy p {{ control c {{ check {call} <= 0.5 }} }}")
    with pytest.raises(InvalidInputError) as raised:
        compile_policies([str(policy)])
    messages = [d.message for d in raised.value.diagnostics]
    assert message in messages
    assert len(messages) == 1


def test_bound_of_groups_needs_quantifier(tmp_path):
    policy = write_policy(tmp_path, 'policy p { control c { check upper(selection_rate(by = "race")) <= 0.5 } }')
    with pytest.raises(InvalidInputError) as raised:
        compile_policies([str(policy)])
    (diagnostic,) = raised.value.diagnostics
    assert diagnostic.code == "E333"


def test_bound_outside_range_warns(tmp_path):
    policy = write_policy(tmp_path, "policy p { control c { check upper(selection_rate()) <= 1.5 } }")
    _, diagnostics = compile_policies([str(policy)])
    assert [d.code for d in diagnostics] == ["W305"]


# Reports.


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def bounds_policy(tmp_path_factory):
    return write_policy(tmp_path_factory.mktemp("bounds"), BOUNDS_POLICY)


def test_text_report_shows_intervals(bounds_policy):
    result = invoke("check", bounds_policy, "--bundle", COMPAS_BUNDLE, "--as-of", "2026-01-02")
    out = result.stdout
    assert result.exit_code == 1
    assert "race=African-American  3175  0.5761 [0.5588, 0.5932] (1829/3175)" in out
    assert "overall: selection_rate 0.4457 [0.4334, 0.4582] over 6172 rows" in out
    # These checks compare a bound, so the interval line names the metric whose estimate it gives.
    assert (
        "demographic_parity_difference 0.3720, 95% interval [0.3230, 0.4148] for race=Other against race=African-American"
        " (Newcombe hybrid score)" in out
    )
    assert "demographic_parity_difference 0.3720, 50% interval" in out
    assert "selection_rate 0.4457, 90% interval [0.4353, 0.4562] (Wilson score)" in out


def test_json_results_have_intervals(bounds_policy):
    result = invoke("check", bounds_policy, "--bundle", COMPAS_BUNDLE, "--as-of", "2026-01-02", "--format", "json")
    data = json.loads(result.stdout)
    jsonschema.validate(data, json.loads(RESULTS_SCHEMA.read_text(encoding="utf-8")))
    checks = {check["id"]: check for control in data["controls"] for check in control["checks"]}
    gap = checks["p.c.upper_gap"]
    assert gap["details"]["interval"]["method"] == "newcombe"
    assert gap["details"]["confidence"] == 0.95
    assert gap["details"]["interval"]["high"] == pytest.approx(0.4148, abs=5e-5)
    asian = next(g for g in gap["groups"] if g["group"] == {"race": "Asian"})
    assert asian["intervals"]["selection_rate"] == pytest.approx({"low": 0.1140, "high": 0.3981}, abs=5e-5)
    assert gap["details"]["overall_intervals"]["selection_rate"]["low"] == pytest.approx(0.4334, abs=5e-5)


def test_empty_group_interval_is_null(tmp_path):
    csv_text = "label,prediction,group,sex\n1,1,a,f\n0,0,a,m\n1,0,b,f\n"
    bundle = make_bundle(tmp_path, csv_text, ("group", "sex"))
    policy = write_policy(tmp_path, 'policy p { control c { check max(selection_rate(by = ["group", "sex"])) <= 1 } }')
    result = invoke("check", policy, "--bundle", bundle, "--format", "json")
    data = json.loads(result.stdout)
    jsonschema.validate(data, json.loads(RESULTS_SCHEMA.read_text(encoding="utf-8")))
    (check,) = data["controls"][0]["checks"]
    empty = next(g for g in check["groups"] if g["group"] == {"group": "b", "sex": "m"})
    assert empty["n"] == 0
    assert empty["values"] == {"selection_rate": None}
    assert empty["intervals"] == {"selection_rate": None}
    assert check["status"] == "insufficient"


# Property: on any small table, every defined value lies inside its interval.

small_rows = st.lists(
    st.tuples(st.sampled_from("abc"), st.integers(0, 1), st.integers(0, 1)), min_size=1, max_size=60
)


def table_of(rows) -> GroupedConfusion:
    groups: dict[tuple[str, ...], ConfusionCounts] = {}
    for group, label, prediction in rows:
        cell = ConfusionCounts(
            tp=int(label and prediction), fp=int(prediction and not label),
            fn=int(label and not prediction), tn=int(not label and not prediction),
        )
        groups[(group,)] = groups.get((group,), ConfusionCounts()) + cell
    return GroupedConfusion(("group",), groups)


def inside(value: float, interval) -> bool:
    return interval.low - 1e-12 <= value <= interval.high + 1e-12


@settings(max_examples=200, deadline=None)
@given(small_rows, st.sampled_from([0.5, 0.8, 0.95, 0.999]), st.sampled_from([None, "overall", "a"]))
def test_defined_values_inside_intervals(rows, confidence, reference):
    table = table_of(rows)
    components = ("selection_rate", "false_positive_rate")
    for function in (between_groups_difference, between_groups_ratio):
        for component in components:
            value = function(table, (component,), reference=reference if ("a",) in table.groups else None, confidence=confidence)
            for group in value.groups:
                rate = group.rates[component]
                assert (rate is None) == (group.intervals[component] is None)
                if rate is not None:
                    assert inside(rate, group.intervals[component])
            if value.value is None:
                continue
            assert 0 <= value.interval.low <= value.interval.high <= 1
            assert inside(value.value, value.interval), (function.__name__, component, reference)
