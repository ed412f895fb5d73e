"""Reference groups, disparate impact and empty combinations of groups, against fairlearn on real and random data.

fairlearn (0.15) is the reference: `MetricFrame.difference(method="to_overall")`
and `ratio(method="to_overall")` for `reference = "overall"`, and
`demographic_parity_ratio` for disparate impact, whose favorable-outcome rate is
the selection rate of the favorable prediction. fairlearn has no named reference
group, so those tests compute the value from fairlearn's per-group rates.
"""

from __future__ import annotations

import datetime
import functools
import itertools
import json

import fairlearn.metrics as flm
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from statsmodels.stats.proportion import proportion_confint

from govdsl.cli import main
from govdsl.compiler import compile_policies
from govdsl.engine.evaluate import evaluate
from govdsl.engine.expressions import compare
from govdsl.evidence import load_bundle
from govdsl.evidence.reductions import group_confusion_chunk, reduce_group_confusion
from govdsl.metrics import intervals as ci
from govdsl.metrics.counts import ConfusionCounts, GroupedConfusion
from govdsl.metrics.fairness import (
    FavorableConfusion,
    UnknownGroup,
    between_groups_difference,
    between_groups_ratio,
    disparate_impact_ratio,
    empty_combinations,
)
from govdsl.metrics.registry import REGISTRY
from support import COMPAS_BUNDLE, REPO, make_bundle, replace_in, write_policy

TOLERANCE = 1e-12

FAIRLEARN_RATES = {
    "selection_rate": flm.selection_rate,
    "true_positive_rate": flm.true_positive_rate,
    "false_positive_rate": flm.false_positive_rate,
    "false_negative_rate": flm.false_negative_rate,
}

# Between-group metrics of one rate, or two for equalized odds, as (aggregate, rates).
BETWEEN = {
    "demographic_parity_difference": ("difference", ["selection_rate"]),
    "demographic_parity_ratio": ("ratio", ["selection_rate"]),
    "equal_opportunity_difference": ("difference", ["true_positive_rate"]),
    "equal_opportunity_ratio": ("ratio", ["true_positive_rate"]),
    "false_positive_rate_difference": ("difference", ["false_positive_rate"]),
    "false_negative_rate_ratio": ("ratio", ["false_negative_rate"]),
    "equalized_odds_difference": ("difference", ["true_positive_rate", "false_positive_rate"]),
    "equalized_odds_ratio": ("ratio", ["true_positive_rate", "false_positive_rate"]),
}


def govdsl_value(table, name: str, **options):
    declaration = REGISTRY[name]
    return declaration.load()(table, declaration.components, **options)


def metric_frame(y_true, y_pred, sensitive) -> flm.MetricFrame:
    return flm.MetricFrame(metrics=FAIRLEARN_RATES, y_true=y_true, y_pred=y_pred, sensitive_features=sensitive)


def to_overall(frame: flm.MetricFrame, name: str) -> float:
    aggregate, rates = BETWEEN[name]
    if aggregate == "difference":
        return float(frame.difference(method="to_overall")[rates].max())
    return float(frame.ratio(method="to_overall")[rates].min())


def by_group(frame: flm.MetricFrame) -> dict[tuple[str, ...], pd.Series]:
    rows = {}
    for key, row in frame.by_group.iterrows():
        rows[tuple(str(part) for part in (key if isinstance(key, tuple) else (key,)))] = row
    return rows


def to_group(frame: flm.MetricFrame, name: str, reference: tuple[str, ...]) -> float:
    """The value against a named group, from fairlearn's per-group rates."""
    aggregate, rates = BETWEEN[name]
    rows = by_group(frame)
    values = []
    for rate in rates:
        base = rows[reference][rate]
        others = [row[rate] for key, row in rows.items() if key != reference]
        if aggregate == "difference":
            values.append(max(abs(value - base) for value in others))
        else:
            values.append(min(min(value, base) / max(value, base) for value in others))
    return max(values) if aggregate == "difference" else min(values)


# COMPAS.

COMPAS_FEATURES = [("race",), ("sex",), ("age_cat",), ("race", "sex")]
COMPAS_CASES = [
    (features, name)
    for features in COMPAS_FEATURES
    for name in BETWEEN
    # Native American women have no actual negatives, so false positive rates by race x sex are undefined.
    if not (features == ("race", "sex") and ("odds" in name or "false_positive" in name))
]
COMPAS_REFERENCES = {
    ("race",): ("Caucasian",),
    ("sex",): ("Male",),
    ("age_cat",): ("25 - 45",),
    ("race", "sex"): ("Caucasian", "Male"),
}


def case_id(part) -> str:
    return "-".join(part) if isinstance(part, tuple) else part


@pytest.fixture(scope="module")
def compas():
    dataset = load_bundle(COMPAS_BUNDLE).datasets["predictions"]
    frame = pd.read_csv(dataset.path)
    tables = {features: reduce_group_confusion(dataset, features) for features in COMPAS_FEATURES}
    frames = {
        features: metric_frame(frame["two_year_recid"], frame["predicted_high_risk"], frame[list(features)])
        for features in COMPAS_FEATURES
    }
    return frame, tables, frames


@pytest.mark.parametrize(("features", "name"), COMPAS_CASES, ids=case_id)
def test_compas_to_overall_matches_fairlearn(compas, features, name):
    _, tables, frames = compas

    value = govdsl_value(tables[features], name, reference="overall")

    assert value.reason is None
    assert value.value == pytest.approx(to_overall(frames[features], name), rel=0, abs=TOLERANCE)
    assert value.interval.low <= value.value <= value.interval.high
    assert value.details["reference"] == "overall"


@pytest.mark.parametrize(("features", "name"), COMPAS_CASES, ids=case_id)
def test_compas_named_reference(compas, features, name):
    _, tables, frames = compas
    reference = COMPAS_REFERENCES[features]
    text = ", ".join(f"{f}={v}" for f, v in zip(features, reference)) if len(features) > 1 else reference[0]

    value = govdsl_value(tables[features], name, reference=text)

    assert value.reason is None
    assert value.value == pytest.approx(to_group(frames[features], name, reference), rel=0, abs=TOLERANCE)
    assert value.interval.low <= value.value <= value.interval.high
    assert value.details["reference"] == dict(zip(features, reference))


def test_compas_reference_interval_is_pair(compas):
    _, tables, _ = compas
    table = tables[("race",)]

    value = govdsl_value(table, "demographic_parity_difference", reference="Caucasian")

    # The group farthest from Caucasian defendants (696/2103 selected) is Native American (8/11).
    assert value.details["interval"]["group"] == {"race": "Native American"}
    assert value.details["interval"]["compared_with"] == {"race": "Caucasian"}
    expected = ci.newcombe_difference(8, 11, 696, 2103, 0.95)
    assert (value.interval.low, value.interval.high) == pytest.approx(expected, abs=TOLERANCE)
    differences = {item["group"]["race"]: item["value"] for item in value.details["to_reference"]["selection_rate"]}
    assert "Caucasian" not in differences
    assert differences["Other"] == pytest.approx(abs(70 / 343 - 696 / 2103), abs=TOLERANCE)


def test_compas_to_overall_interval_uses_rest(compas):
    _, tables, _ = compas
    table = tables[("race",)]

    value = govdsl_value(table, "demographic_parity_difference", reference="overall")

    # Native American defendants (8 of 11 selected) are farthest from the overall rate.
    overall = table.overall
    assert value.details["interval"]["group"] == {"race": "Native American"}
    assert value.details["interval"]["compared_with"] == "overall"
    assert value.interval.method == "newcombe-to-overall"
    rest = ci.newcombe_difference(8, 11, overall.predicted_positives - 8, overall.n - 11, 0.95)
    share = 1 - 11 / overall.n
    # The signed interval straddles 0, so the interval of the distance starts at 0.
    assert rest[0] * share < 0
    expected = ci.fold_difference((rest[0] * share, rest[1] * share))
    assert (value.interval.low, value.interval.high) == pytest.approx(expected, abs=TOLERANCE)
    assert value.interval.low == 0.0


def test_compas_reference_two_features_any_order(compas):
    _, tables, _ = compas
    table = tables[("race", "sex")]

    first = govdsl_value(table, "demographic_parity_difference", reference="race=Caucasian, sex=Female")
    second = govdsl_value(table, "demographic_parity_difference", reference="sex=Female, race=Caucasian")

    assert first.value == second.value
    assert first.details["reference"] == {"race": "Caucasian", "sex": "Female"}


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("Caucasion", "reference `Caucasion`: no row has race=Caucasion (values: `African-American`, `Asian`"),
        ("sex=Male", "reference `sex=Male`: no row has race=sex=Male"),
    ],
)
def test_compas_unknown_reference(compas, reference, message):
    _, tables, _ = compas
    with pytest.raises(UnknownGroup) as raised:
        govdsl_value(tables[("race",)], "demographic_parity_difference", reference=reference)
    assert message in str(raised.value)


@pytest.mark.parametrize("reference", ["race=Caucasian", "race=Caucasian, age=old", "Caucasian, Male"])
def test_compas_reference_needs_every_feature(compas, reference):
    _, tables, _ = compas
    with pytest.raises(UnknownGroup, match="does not name one value per feature"):
        govdsl_value(tables[("race", "sex")], "demographic_parity_difference", reference=reference)


def test_compas_small_reference_insufficient(compas):
    _, tables, _ = compas

    value = govdsl_value(
        tables[("race",)], "demographic_parity_ratio", reference="Native American", min_group_size=30, exclude_small=True
    )

    assert value.value is None
    assert value.reason == (
        "reference group race=Native American has 11 rows, below the minimum size of 30; it cannot be left out"
    )


# Random data: every group has each (label, prediction) pair, so every rate is defined.


@functools.lru_cache(maxsize=None)
def random_frame(seed: int, levels: tuple[int, ...], rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    groups = list(itertools.product(*(range(count) for count in levels)))
    fixed = np.repeat(np.arange(len(groups)), 4)
    labels = np.concatenate([np.tile([1, 1, 0, 0], len(groups)), rng.integers(0, 2, rows - len(fixed))])
    group = np.concatenate([fixed, rng.integers(len(groups), size=rows - len(fixed))])
    hit = rng.uniform(0.1, 0.9, len(groups))[group]
    predictions = (rng.random(rows) < hit).astype(int)
    predictions[: len(fixed)] = np.tile([1, 0, 1, 0], len(groups))
    frame = pd.DataFrame({"label": labels, "prediction": predictions})
    for position in range(len(levels)):
        frame[f"f{position}"] = [f"v{groups[g][position]}" for g in group]
    return frame


RANDOM_CASES = [(seed, levels, rows) for seed in range(4) for levels, rows in [((3,), 400), ((4,), 3000), ((2, 3), 1500)]]


def random_case_id(case) -> str:
    seed, levels, rows = case
    return f"seed{seed}-levels{'x'.join(map(str, levels))}-rows{rows}"


@functools.lru_cache(maxsize=None)
def random_inputs(case):
    frame = random_frame(*case)
    features = tuple(f"f{i}" for i in range(len(case[1])))
    table = group_confusion_chunk(frame.astype(str), "label", "prediction", features, 1).finalize()
    return frame, features, table


@functools.lru_cache(maxsize=None)
def random_metric_frame(case) -> flm.MetricFrame:
    frame, features, _ = random_inputs(case)
    return metric_frame(frame["label"], frame["prediction"], frame[list(features)])


@pytest.mark.parametrize("name", sorted(BETWEEN))
@pytest.mark.parametrize("case", RANDOM_CASES, ids=random_case_id)
def test_random_to_overall_matches_fairlearn(case, name):
    _, _, table = random_inputs(case)
    reference = random_metric_frame(case)

    value = govdsl_value(table, name, reference="overall")

    assert value.value == pytest.approx(to_overall(reference, name), rel=0, abs=TOLERANCE)


@pytest.mark.parametrize("name", sorted(BETWEEN))
@pytest.mark.parametrize("case", RANDOM_CASES, ids=random_case_id)
def test_random_named_reference(case, name):
    _, features, table = random_inputs(case)
    reference = random_metric_frame(case)
    key = tuple("v1" for _ in features)
    text = "v1" if len(features) == 1 else ", ".join(f"{f}=v1" for f in features)

    value = govdsl_value(table, name, reference=text)

    assert value.value == pytest.approx(to_group(reference, name, key), rel=0, abs=TOLERANCE)


@pytest.mark.parametrize("case", RANDOM_CASES, ids=random_case_id)
def test_random_reference_intervals_contain_value(case):
    _, _, table = random_inputs(case)
    for name in BETWEEN:
        for reference in (None, "overall"):
            value = govdsl_value(table, name, reference=reference)
            assert value.interval.low <= value.value <= value.interval.high, (name, reference)


# Ratios to a reference whose rate is 0.


def test_ratio_reference_both_zero_insufficient():
    table = GroupedConfusion(
        ("group",),
        {("a",): ConfusionCounts(fn=3, tn=3), ("b",): ConfusionCounts(fn=2, tn=4), ("c",): ConfusionCounts(tp=1, tn=5)},
    )

    value = between_groups_ratio(table, ("selection_rate",), reference="a")

    assert value.value is None
    assert value.reason == "selection rate ratio to the reference is undefined: the reference group's selection rate is 0"


def test_ratio_reference_zero_against_positive():
    table = GroupedConfusion(("group",), {("a",): ConfusionCounts(fn=3, tn=3), ("c",): ConfusionCounts(tp=1, tn=5)})

    value = between_groups_ratio(table, ("selection_rate",), reference="a")

    # min(1/6, 0) / max(1/6, 0) = 0: the rates differ, so the ratio is defined even though one rate is 0.
    assert value.value == 0.0
    assert value.interval.low == 0.0


def test_difference_reference_single_other_group():
    table = GroupedConfusion(("group",), {("a",): ConfusionCounts(tp=2, tn=2), ("b",): ConfusionCounts(tp=1, tn=3)})

    value = between_groups_difference(table, ("selection_rate",), reference="b")

    assert value.value == pytest.approx(0.25)


# Disparate impact.


def favorable_table(frame: pd.DataFrame, features: tuple[str, ...], favorable: str) -> FavorableConfusion:
    confusion = group_confusion_chunk(frame.astype(str), "label", "prediction", features, 1).finalize()
    return FavorableConfusion(confusion, favorable)


@pytest.mark.parametrize("case", RANDOM_CASES, ids=random_case_id)
def test_disparate_impact_positive_is_dp_ratio(case):
    frame, features, _ = random_inputs(case)
    expected = flm.demographic_parity_ratio(frame["label"], frame["prediction"], sensitive_features=frame[list(features)])

    value = disparate_impact_ratio(favorable_table(frame, features, "positive"), {})

    assert value.value == pytest.approx(expected, rel=0, abs=TOLERANCE)
    assert value.details["favorable"] == "positive"


@pytest.mark.parametrize("case", RANDOM_CASES, ids=random_case_id)
def test_disparate_impact_negative_flips_predictions(case):
    frame, features, _ = random_inputs(case)
    flipped = 1 - frame["prediction"]
    expected = flm.demographic_parity_ratio(frame["label"], flipped, sensitive_features=frame[list(features)])

    value = disparate_impact_ratio(favorable_table(frame, features, "negative"), {})

    assert value.value == pytest.approx(expected, rel=0, abs=TOLERANCE)


@pytest.mark.parametrize("case", RANDOM_CASES, ids=random_case_id)
def test_disparate_impact_named_reference(case):
    frame, features, _ = random_inputs(case)
    rates = flm.MetricFrame(
        metrics=flm.selection_rate, y_true=frame["label"], y_pred=1 - frame["prediction"],
        sensitive_features=frame[list(features)],
    )
    rows = {tuple(str(p) for p in (k if isinstance(k, tuple) else (k,))): v for k, v in rates.by_group.items()}
    key = tuple("v0" for _ in features)
    text = "v0" if len(features) == 1 else ", ".join(f"{f}=v0" for f in features)
    # Not folded: a group faring better than the reference gives a ratio above 1.
    expected = min(rate / rows[key] for group, rate in rows.items() if group != key)

    value = disparate_impact_ratio(favorable_table(frame, features, "negative"), {"reference": text})

    assert value.value == pytest.approx(expected, rel=0, abs=TOLERANCE)
    assert value.interval.low <= value.value <= value.interval.high
    assert value.interval.method == "katz"


@pytest.mark.parametrize("case", RANDOM_CASES, ids=random_case_id)
def test_disparate_impact_to_overall(case):
    frame, features, _ = random_inputs(case)
    flipped = 1 - frame["prediction"]
    rates = flm.MetricFrame(metrics=flm.selection_rate, y_true=frame["label"], y_pred=flipped,
                            sensitive_features=frame[list(features)])
    expected = float((rates.by_group / rates.overall).min())

    value = disparate_impact_ratio(favorable_table(frame, features, "negative"), {"reference": "overall"})

    assert value.value == pytest.approx(expected, rel=0, abs=TOLERANCE)
    assert value.interval.low <= value.value <= value.interval.high
    assert value.interval.method == "katz-to-overall"


def test_compas_disparate_impact_reads_favorable(tmp_path):
    policy = write_policy(tmp_path, 'policy p { control c { check disparate_impact_ratio(by = "race") >= 0.5 } }')
    plan, _ = compile_policies([str(policy)])
    results = evaluate(plan, load_bundle(COMPAS_BUNDLE), clock=lambda: datetime.date(2026, 1, 2))
    frame = pd.read_csv(COMPAS_BUNDLE / "predictions.csv")
    # The COMPAS bundle declares `favorable: negative`: a high-risk prediction counts against the defendant.
    expected = flm.demographic_parity_ratio(
        frame["two_year_recid"], 1 - frame["predicted_high_risk"], sensitive_features=frame["race"]
    )

    (check,) = results.controls[0].checks

    assert check.value == pytest.approx(expected, rel=0, abs=TOLERANCE)
    assert check.details["favorable"] == "negative"
    assert check.status == "fail"


def four_fifths_bundle(tmp_path, favorable_a: int, rows_a: int, favorable_b: int, rows_b: int, favorable: str):
    """A bundle whose groups a and b have the given favorable predictions among their rows."""
    good, bad = ("1", "0") if favorable == "positive" else ("0", "1")
    lines = ["label,prediction,group"]
    lines += [f"0,{good},a"] * favorable_a + [f"0,{bad},a"] * (rows_a - favorable_a)
    lines += [f"1,{good},b"] * favorable_b + [f"1,{bad},b"] * (rows_b - favorable_b)
    bundle = make_bundle(tmp_path, "\n".join(lines) + "\n")
    replace_in(bundle / "bundle.yaml", "favorable: positive", f"favorable: {favorable}")
    return bundle


def run_checks(tmp_path, bundle, checks: str):
    policy = write_policy(tmp_path, f"policy p {{ control c {{ {checks} }} }}")
    plan, _ = compile_policies([str(policy)])
    results = evaluate(plan, load_bundle(bundle), clock=lambda: datetime.date(2026, 1, 2))
    return {check.id.rsplit(".", 1)[1]: check for check in results.controls[0].checks}


@pytest.mark.parametrize("favorable", ["positive", "negative"])
def test_four_fifths_exact_passes(tmp_path, favorable):
    # 4 of 10 against 5 of 10 favorable predictions: exactly 4/5, which an inclusive 80% rule passes.
    bundle = four_fifths_bundle(tmp_path, 4, 10, 5, 10, favorable)

    checks = run_checks(
        tmp_path,
        bundle,
        'check percent: disparate_impact_ratio(by = "group") >= 80%\n'
        'check decimal: disparate_impact_ratio(by = "group") >= 0.8\n'
        'check strict: disparate_impact_ratio(by = "group") > 0.8',
    )

    assert checks["percent"].value == pytest.approx(0.8, abs=1e-15)
    assert checks["percent"].status == "pass"
    assert checks["decimal"].status == "pass"
    assert checks["strict"].status == "fail"


def test_four_fifths_rounding_below_passes(tmp_path):
    # 1/3 against 5/12 is 4/5 exactly, but 0.7999999999999999 in floating point.
    bundle = four_fifths_bundle(tmp_path, 1, 3, 5, 12, "positive")

    checks = run_checks(tmp_path, bundle, 'check rule: disparate_impact_ratio(by = "group") >= 80%')

    assert checks["rule"].value < 0.8
    assert compare(checks["rule"].value, ">=", 0.8)
    assert checks["rule"].status == "pass"


def test_four_fifths_just_below_fails(tmp_path):
    bundle = four_fifths_bundle(tmp_path, 79, 100, 100, 100, "positive")

    checks = run_checks(tmp_path, bundle, 'check rule: disparate_impact_ratio(by = "group") >= 80%')

    assert checks["rule"].value == pytest.approx(0.79)
    assert checks["rule"].status == "fail"


def test_favorable_argument_overrides_bundle(tmp_path):
    bundle = four_fifths_bundle(tmp_path, 4, 10, 5, 10, "positive")

    checks = run_checks(
        tmp_path,
        bundle,
        'check declared: disparate_impact_ratio(by = "group") >= 0.8\n'
        'check flipped: disparate_impact_ratio(by = "group", favorable = "negative") >= 0.8',
    )

    assert checks["declared"].value == pytest.approx(0.8)
    # Unfavorable shares: 6/10 and 5/10, so the ratio is 5/6.
    assert checks["flipped"].value == pytest.approx(5 / 6)
    assert checks["flipped"].details["favorable"] == "negative"


def test_favorable_missing_is_error(tmp_path):
    bundle = four_fifths_bundle(tmp_path, 4, 10, 5, 10, "positive")
    replace_in(bundle / "bundle.yaml", "    favorable: positive\n", "")

    checks = run_checks(
        tmp_path,
        bundle,
        'check missing: disparate_impact_ratio(by = "group") >= 0.8\n'
        'check given: disparate_impact_ratio(by = "group", favorable = "positive") >= 0.8',
    )

    assert checks["missing"].status == "error"
    assert "declares no `favorable` outcome" in checks["missing"].reason
    assert "pass `favorable = \"...\"` to the metric" in checks["missing"].reason
    assert checks["given"].status == "pass"


def test_favorable_invalid_value_rejected(tmp_path):
    policy = write_policy(
        tmp_path, 'policy p { control c { check disparate_impact_ratio(by = "g", favorable = "good") >= 0.8 } }'
    )
    result = CliRunner().invoke(main, ["compile", str(policy)])
    assert result.exit_code == 2
    assert 'argument `favorable` must be "positive" or "negative", not "good"' in result.output


def test_unknown_reference_is_error_status(tmp_path):
    bundle = four_fifths_bundle(tmp_path, 4, 10, 5, 10, "positive")

    checks = run_checks(tmp_path, bundle, 'check ref: demographic_parity_difference(by = "group", reference = "c") <= 0.2')

    assert checks["ref"].status == "error"
    assert checks["ref"].reason == "reference `c`: no row has group=c (values: `a`, `b`)"


def test_unknown_reference_cli_exit_one(tmp_path):
    bundle = four_fifths_bundle(tmp_path, 4, 10, 5, 10, "positive")
    policy = write_policy(
        tmp_path, 'policy p { control c { check demographic_parity_difference(by = "group", reference = "c") <= 0.2 } }'
    )

    result = CliRunner().invoke(main, ["check", str(policy), "--bundle", str(bundle)])

    assert result.exit_code == 1
    assert "ERROR        check" in result.stdout
    assert "Traceback" not in result.output


# Combinations of feature values that no row has.

SPARSE_CSV = """\
label,prediction,group,sex
1,1,a,f
0,1,a,f
1,0,a,m
0,0,a,m
1,1,b,f
0,0,b,f
1,1,c,m
0,1,c,m
"""


@pytest.fixture
def sparse(make_dataset):
    return reduce_group_confusion(make_dataset(SPARSE_CSV, ("group", "sex")), ("group", "sex"))


def test_empty_combinations_listed(sparse):
    empty, missing = empty_combinations(sparse)
    assert empty == [("b", "m"), ("c", "f")]
    assert missing == 2


def test_empty_combinations_make_insufficient(sparse):
    value = between_groups_difference(sparse, ("selection_rate",))

    assert value.value is None
    assert value.reason == (
        "no row has these 2 combinations: group=b, sex=m; group=c, sex=f;"
        " `min_group_size = 1, exclude_small = true` leaves out empty combinations"
    )
    empty = [g for g in value.groups if g.counts.n == 0]
    assert [g.key for g in empty] == [("b", "m"), ("c", "f")]
    assert all(g.rates["selection_rate"] is None for g in empty)
    assert value.details["empty_groups"] == [
        {"group": {"group": "b", "sex": "m"}, "n": 0},
        {"group": {"group": "c", "sex": "f"}, "n": 0},
    ]


def test_empty_combinations_excluded_match_fairlearn(sparse):
    frame = pd.read_csv(pd.io.common.StringIO(SPARSE_CSV))
    expected = flm.demographic_parity_difference(
        frame["label"], frame["prediction"], sensitive_features=frame[["group", "sex"]]
    )

    value = between_groups_difference(sparse, ("selection_rate",), min_group_size=1, exclude_small=True)

    assert value.value == pytest.approx(expected, abs=TOLERANCE)
    assert value.excluded == ((("b", "m"), 0), (("c", "f"), 0))


def test_empty_combinations_below_minimum_named(sparse):
    value = between_groups_difference(sparse, ("selection_rate",), min_group_size=2)

    assert value.reason == "groups below the minimum size of 2 rows: group=b, sex=m (n = 0), group=c, sex=f (n = 0)"


def test_empty_combination_reference_insufficient(sparse):
    value = between_groups_difference(sparse, ("selection_rate",), reference="group=b, sex=m")
    assert value.value is None
    assert "group=b, sex=m" in value.reason


def test_one_feature_has_no_empty_combinations(make_dataset):
    table = reduce_group_confusion(make_dataset(SPARSE_CSV, ("group", "sex")), ("group",))
    assert empty_combinations(table) == ([], 0)


def test_empty_combinations_past_cap_counted(monkeypatch, sparse):
    monkeypatch.setattr("govdsl.metrics.fairness.MAX_LISTED_COMBINATIONS", 4)

    value = between_groups_difference(sparse, ("selection_rate",))
    excluded = between_groups_difference(sparse, ("selection_rate",), min_group_size=1, exclude_small=True)

    assert value.reason == (
        "2 combinations of group, sex have no rows; `min_group_size = 1, exclude_small = true` leaves them out"
    )
    assert value.details["empty_groups_not_listed"] == 2
    assert excluded.value == pytest.approx(1.0)


def test_compas_three_features_empty(compas):
    dataset = load_bundle(COMPAS_BUNDLE).datasets["predictions"]
    frame, _, _ = compas
    features = ("age_cat", "race", "sex")
    table = reduce_group_confusion(dataset, features)
    expected = flm.demographic_parity_difference(
        frame["two_year_recid"], frame["predicted_high_risk"], sensitive_features=frame[list(features)]
    )

    value = between_groups_difference(table, ("selection_rate",))
    excluded = between_groups_difference(table, ("selection_rate",), min_group_size=1, exclude_small=True)

    # 36 combinations, of which young Asian and young Native American women have no rows.
    assert len(value.groups) == 36
    assert value.value is None
    assert "age_cat=Less than 25, race=Asian, sex=Female" in value.reason
    assert "age_cat=Less than 25, race=Native American, sex=Female" in value.reason
    assert excluded.value == pytest.approx(expected, abs=TOLERANCE)


def test_per_group_empty_combination_in_report(tmp_path):
    bundle = make_bundle(tmp_path, SPARSE_CSV, ("group", "sex"))
    policy = write_policy(
        tmp_path,
        """
        policy p {
          control c {
            check every_group: every g in selection_rate(by = ["group", "sex"]): g <= 0.9
            check kept: every g in selection_rate(by = ["group", "sex"], min_group_size = 1, exclude_small = true): g <= 0.9
          }
        }
        """,
    )

    result = CliRunner().invoke(main, ["check", str(policy), "--bundle", str(bundle), "--format", "json"])

    checks = {c["id"]: c for c in json.loads(result.stdout)["controls"][0]["checks"]}
    every = checks["p.c.every_group"]
    assert every["status"] == "insufficient"
    assert "group=b, sex=m" in every["reason"]
    assert {"group": {"group": "b", "sex": "m"}, "n": 0} in every["details"]["empty_groups"]
    kept = checks["p.c.kept"]
    assert kept["status"] == "fail"
    assert [g["group"] for g in kept["failing_groups"]] == ["group=a, sex=f", "group=c, sex=m"]
    assert {"group": {"group": "b", "sex": "m"}, "n": 0} in kept["excluded_groups"]


def test_per_group_small_groups_undefined(tmp_path):
    bundle = make_bundle(tmp_path, SPARSE_CSV, ("group",))
    checks = run_checks(tmp_path, bundle, 'check small: max(selection_rate(by = "group", min_group_size = 3)) <= 1')

    assert checks["small"].status == "insufficient"
    assert checks["small"].reason == (
        "the argument of max is undefined: group=b: it has 2 rows, below the minimum size of 3;"
        " group=c: it has 2 rows, below the minimum size of 3"
    )


# Adult and German credit: the test bundles of tests/data/real, read through the bundle loader.

REAL = REPO / "tests" / "data" / "real"
REAL_CASES = [
    ("adult", ("sex",)),
    ("adult", ("race",)),
    ("adult", ("race", "sex")),
    ("german-credit", ("sex",)),
    ("german-credit", ("age_group", "sex")),
]


@functools.lru_cache(maxsize=None)
def real_inputs(name: str, features: tuple[str, ...]):
    dataset = load_bundle(REAL / name).datasets["predictions"]
    frame = pd.read_csv(dataset.path)
    table = reduce_group_confusion(dataset, features)
    y_true, y_pred = frame[dataset.label_column], frame[dataset.prediction_column]
    return dataset, table, y_true, y_pred, frame[list(features)]


@pytest.mark.parametrize(("bundle", "features"), REAL_CASES, ids=case_id)
def test_real_to_overall_matches_fairlearn(bundle, features):
    _, table, y_true, y_pred, sensitive = real_inputs(bundle, features)
    frame = metric_frame(y_true, y_pred, sensitive)
    for name in BETWEEN:
        value = govdsl_value(table, name, reference="overall")
        assert value.value == pytest.approx(to_overall(frame, name), rel=0, abs=TOLERANCE), name
        assert value.interval.low <= value.value <= value.interval.high, name


@pytest.mark.parametrize(("bundle", "features"), REAL_CASES, ids=case_id)
def test_real_disparate_impact_matches_fairlearn(bundle, features):
    dataset, table, y_true, y_pred, sensitive = real_inputs(bundle, features)
    # Both bundles declare `favorable: positive`: an income over 50K, a good credit risk.
    assert dataset.favorable == "positive"
    expected = flm.demographic_parity_ratio(y_true, y_pred, sensitive_features=sensitive)

    value = disparate_impact_ratio(FavorableConfusion(table, dataset.favorable), {})

    assert value.value == pytest.approx(expected, rel=0, abs=TOLERANCE)


def test_adult_group_intervals_match_statsmodels():
    _, table, *_ = real_inputs("adult", ("race", "sex"))
    value = govdsl_value(table, "equalized_odds_difference")
    for group in value.groups:
        counts = group.counts
        tpr = proportion_confint(counts.tp, counts.tp + counts.fn, method="wilson")
        fpr = proportion_confint(counts.fp, counts.fp + counts.tn, method="wilson")
        assert (group.intervals["true_positive_rate"].low, group.intervals["true_positive_rate"].high) == pytest.approx(
            tpr, abs=TOLERANCE
        ), group.key
        assert (group.intervals["false_positive_rate"].low, group.intervals["false_positive_rate"].high) == pytest.approx(
            fpr, abs=TOLERANCE
        ), group.key


def test_adult_three_features_one_empty():
    dataset, table, y_true, y_pred, sensitive = real_inputs("adult", ("age_group", "race", "sex"))
    expected = flm.demographic_parity_difference(y_true, y_pred, sensitive_features=sensitive)

    value = govdsl_value(table, "demographic_parity_difference")
    excluded = govdsl_value(table, "demographic_parity_difference", min_group_size=1, exclude_small=True)

    assert len(value.groups) == 40
    (empty,) = value.details["empty_groups"]
    assert empty["n"] == 0
    assert value.value is None
    assert describe(empty["group"]) in value.reason
    assert excluded.value == pytest.approx(expected, abs=TOLERANCE)
    assert [n for _, n in excluded.excluded] == [0]


def describe(group: dict) -> str:
    return ", ".join(f"{feature}={value}" for feature, value in group.items())


def test_german_credit_named_reference():
    _, table, y_true, y_pred, sensitive = real_inputs("german-credit", ("sex",))
    rates = flm.MetricFrame(metrics=flm.selection_rate, y_true=y_true, y_pred=y_pred, sensitive_features=sensitive)

    value = disparate_impact_ratio(FavorableConfusion(table, "positive"), {"reference": "male"})

    assert value.value == pytest.approx(rates.by_group["female"] / rates.by_group["male"], rel=0, abs=TOLERANCE)
    assert value.details["interval"]["group"] == {"sex": "female"}


def test_disparate_impact_shares_the_confusion_pass(monkeypatch):
    import datetime

    import govdsl.evidence.reductions as reductions
    from govdsl.compiler import compile_policies
    from govdsl.engine.evaluate import evaluate
    from govdsl.evidence import load_bundle
    from support import REPO

    plan, _ = compile_policies([str(REPO / "policies" / "examples" / "adult.gov")])
    kinds = sorted(spec.kind for spec in plan.reductions.values() if spec.features == ("sex",))
    assert {"favorable_confusion", "group_confusion"} <= set(kinds)
    passes = []
    original = reductions.reduce_group_confusion

    def counting(dataset, features, chunk_rows=250_000):
        passes.append(features)
        return original(dataset, features, chunk_rows)

    monkeypatch.setattr(reductions, "reduce_group_confusion", counting)
    results = evaluate(plan, load_bundle(REPO / "examples" / "adult"), clock=lambda: datetime.date(2026, 12, 1))
    assert passes.count(("sex",)) == 1
    checks = {check.id: check for control in results.controls for check in control.checks}
    assert round(checks["adult_credit.selection_parity_sex.four_fifths"].value, 4) == 0.3175
