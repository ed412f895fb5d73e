"""Golden edge cases of the fairness metrics, most read from a small CSV through the real bundle loader and reader.

Each test checks govdsl's value or reason and records, with an assert, what
fairlearn 0.15 (with scikit-learn 1.9) returns on the same data. Where fairlearn
returns a number for a rate with a zero denominator, govdsl by design returns an
undefined value and a reason.
"""

from __future__ import annotations

import functools
import math
import warnings

import fairlearn.metrics as flm
from sklearn import metrics as skm
import pandas as pd
import pytest

from govdsl.engine.evaluate import compare
from govdsl.evidence.reductions import EvidenceInvalid, group_confusion_chunk, reduce_group_confusion
from govdsl.metrics.counts import ConfusionCounts, GroupedConfusion
from govdsl.metrics.registry import REGISTRY
from govdsl.metrics.values import MetricValue

BETWEEN_GROUPS = sorted(
    name
    for name, declaration in REGISTRY.items()
    if declaration.kind == "between_groups" and declaration.reduction == "group_confusion"
)


def govdsl_metric(table: GroupedConfusion, name: str) -> MetricValue:
    declaration = REGISTRY[name]
    return declaration.load()(table, declaration.components)


def read_table(make_dataset, csv_text: str, features=("group",), positive_label="1") -> GroupedConfusion:
    dataset = make_dataset(csv_text, features, positive_label)
    return reduce_group_confusion(dataset, features)


def fairlearn_quietly(function, *args, **kwargs):
    """Call a fairlearn function and assert that it emits no warning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = function(*args, **kwargs)
    assert [str(w.message) for w in caught] == []
    return float(result)


# govdsl metrics that fairlearn has no function for, as the sklearn metric a MetricFrame compares.
_METRIC_FRAME_BASES = {
    "accuracy": lambda y, p: skm.accuracy_score(y, p),
    "predictive_parity": lambda y, p: skm.precision_score(y, p, zero_division=0),
}


def fairlearn_between(name: str, y_true, y_pred, groups) -> float:
    if hasattr(flm, name):
        return fairlearn_quietly(getattr(flm, name), y_true, y_pred, sensitive_features=groups, method="between_groups")
    base, aggregate = name.rsplit("_", 1)
    frame = flm.MetricFrame(metrics=_METRIC_FRAME_BASES[base], y_true=y_true, y_pred=y_pred, sensitive_features=groups)
    return frame.difference() if aggregate == "difference" else frame.ratio()


# A group with no actual negatives: group b's false positive rate is 0/0.
NO_NEGATIVES_CSV = """\
group,label,prediction
a,1,1
a,1,0
a,0,1
a,0,0
b,1,1
b,1,1
b,1,0
"""
NO_NEGATIVES = (
    [1, 1, 0, 0, 1, 1, 1],
    [1, 0, 1, 0, 1, 1, 0],
    ["a", "a", "a", "a", "b", "b", "b"],
)


@pytest.mark.parametrize(
    ("name", "fairlearn_value"),
    [
        ("false_positive_rate_difference", 0.5),
        ("false_positive_rate_ratio", 0.0),
        ("equalized_odds_difference", 0.5),
        ("equalized_odds_ratio", 0.0),
    ],
)
def test_no_negatives_fpr_undefined(make_dataset, name, fairlearn_value):
    table = read_table(make_dataset, NO_NEGATIVES_CSV)

    value = govdsl_metric(table, name)

    # By design govdsl differs from fairlearn here. The value is undefined, and the
    # reason names the group and its counts.
    assert value.value is None
    assert "false positive rate is undefined for group group=b" in value.reason
    assert "0 actual negatives (n = 3)" in value.reason
    # fairlearn counts group b's false positive rate as 0, without a warning.
    assert fairlearn_between(name, *NO_NEGATIVES) == fairlearn_value


def test_no_negatives_group_rate_none(make_dataset):
    table = read_table(make_dataset, NO_NEGATIVES_CSV)

    groups = {g.key: g for g in govdsl_metric(table, "false_positive_rate_difference").groups}

    assert groups[("a",)].rates["false_positive_rate"] == 0.5
    assert groups[("b",)].rates["false_positive_rate"] is None
    assert groups[("b",)].counts == ConfusionCounts(tp=2, fp=0, fn=1, tn=0)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("demographic_parity_difference", 2 / 3 - 1 / 2),
        ("equal_opportunity_difference", 2 / 3 - 1 / 2),
        ("equal_opportunity_ratio", (1 / 2) / (2 / 3)),
    ],
)
def test_no_negatives_other_metrics_defined(make_dataset, name, expected):
    table = read_table(make_dataset, NO_NEGATIVES_CSV)

    value = govdsl_metric(table, name)

    assert value.value == pytest.approx(expected, rel=0, abs=1e-12)
    assert value.value == pytest.approx(fairlearn_between(name, *NO_NEGATIVES), rel=0, abs=1e-12)


# Only one class of label in the whole dataset.
ALL_POSITIVE_CSV = "group,label,prediction\na,1,1\na,1,0\nb,1,1\nb,1,1\n"
ALL_NEGATIVE_CSV = "group,label,prediction\na,0,1\na,0,0\nb,0,1\nb,0,1\n"


@pytest.mark.parametrize(
    ("csv_text", "name", "denominator"),
    [
        (ALL_POSITIVE_CSV, "false_positive_rate", "actual negatives"),
        (ALL_NEGATIVE_CSV, "true_positive_rate", "actual positives"),
        (ALL_NEGATIVE_CSV, "false_negative_rate", "actual positives"),
    ],
)
def test_one_class_overall_rate_undefined(make_dataset, csv_text, name, denominator):
    table = read_table(make_dataset, csv_text)
    rows = csv_text.splitlines()[1:]
    y_true = [int(row.split(",")[1]) for row in rows]
    y_pred = [int(row.split(",")[2]) for row in rows]

    value = govdsl_metric(table, name)

    assert value.value is None
    assert value.reason == f"{name.replace('_', ' ')} is undefined for the whole dataset: it has 0 {denominator} (n = 4)"
    # fairlearn returns 0.0 for the 0/0 rate, without a warning.
    assert fairlearn_quietly(getattr(flm, name), y_true, y_pred) == 0.0


def test_one_class_other_rate_defined(make_dataset):
    table = read_table(make_dataset, ALL_POSITIVE_CSV)

    value = govdsl_metric(table, "true_positive_rate")

    assert value.value == 0.75


def test_one_class_positive_equalized_odds_ratio(make_dataset):
    table = read_table(make_dataset, ALL_POSITIVE_CSV)
    y_true, y_pred, groups = [1, 1, 1, 1], [1, 0, 1, 1], ["a", "a", "b", "b"]

    value = govdsl_metric(table, "equalized_odds_ratio")

    # By design govdsl differs from fairlearn here. The false positive rate ratio is
    # undefined, so the smaller of the two ratios is undefined too.
    assert value.value is None
    assert "0 actual negatives" in value.reason
    # fairlearn's false positive rate ratio is 0/0 = NaN. fairlearn takes Python's
    # built-in min() of [true positive rate ratio, false positive rate ratio], and
    # `NaN < 0.5` is false, so it returns the true positive rate ratio alone.
    assert math.isnan(fairlearn_between("false_positive_rate_ratio", y_true, y_pred, groups))
    assert fairlearn_between("equalized_odds_ratio", y_true, y_pred, groups) == 0.5


def test_one_class_negative_equalized_odds_ratio(make_dataset):
    table = read_table(make_dataset, ALL_NEGATIVE_CSV)
    y_true, y_pred, groups = [0, 0, 0, 0], [1, 0, 1, 1], ["a", "a", "b", "b"]

    value = govdsl_metric(table, "equalized_odds_ratio")

    assert value.value is None
    assert "0 actual positives" in value.reason
    # Here the NaN is the first item of fairlearn's min(), so fairlearn returns NaN,
    # although the false positive rate ratio, 0.5, is defined.
    assert fairlearn_between("false_positive_rate_ratio", y_true, y_pred, groups) == 0.5
    assert math.isnan(fairlearn_between("equalized_odds_ratio", y_true, y_pred, groups))


# Every prediction negative: every group's selection rate is 0.
ALL_PREDICTED_NEGATIVE_CSV = "group,label,prediction\na,1,0\na,0,0\nb,1,0\nb,0,0\nb,0,0\n"
ALL_PREDICTED_NEGATIVE = ([1, 0, 1, 0, 0], [0, 0, 0, 0, 0], ["a", "a", "b", "b", "b"])


@pytest.mark.parametrize(
    ("name", "rate"),
    [
        ("demographic_parity_ratio", "selection rate"),
        ("equal_opportunity_ratio", "true positive rate"),
        ("false_positive_rate_ratio", "false positive rate"),
        ("equalized_odds_ratio", "true positive rate"),
    ],
)
def test_all_predicted_negative_ratio_undefined(make_dataset, name, rate):
    table = read_table(make_dataset, ALL_PREDICTED_NEGATIVE_CSV)

    value = govdsl_metric(table, name)

    # Neither govdsl nor fairlearn gives the ratio 0/0 a value. govdsl returns None and fairlearn NaN.
    assert value.value is None
    assert value.reason == f"{rate} ratio is undefined: every group's {rate} is 0"
    assert math.isnan(fairlearn_between(name, *ALL_PREDICTED_NEGATIVE))


@pytest.mark.parametrize("name", ["demographic_parity_difference", "equal_opportunity_difference"])
def test_all_predicted_negative_difference_zero(make_dataset, name):
    table = read_table(make_dataset, ALL_PREDICTED_NEGATIVE_CSV)

    value = govdsl_metric(table, name)

    assert value.value == 0.0
    assert fairlearn_between(name, *ALL_PREDICTED_NEGATIVE) == 0.0


# The false positive rate is 0 in every group, while the true positive rates differ.
ZERO_FPR_CSV = "group,label,prediction\na,1,1\na,1,0\na,0,0\nb,1,1\nb,1,1\nb,0,0\n"
ZERO_FPR = ([1, 1, 0, 1, 1, 0], [1, 0, 0, 1, 1, 0], ["a", "a", "a", "b", "b", "b"])


def test_zero_fpr_equalized_odds_ratio(make_dataset):
    table = read_table(make_dataset, ZERO_FPR_CSV)

    value = govdsl_metric(table, "equalized_odds_ratio")

    # By design govdsl differs from fairlearn here. fairlearn's built-in min() passes
    # over the NaN false positive rate ratio and returns the true positive rate ratio, 0.5.
    assert value.value is None
    assert value.reason == "false positive rate ratio is undefined: every group's false positive rate is 0"
    assert fairlearn_between("equalized_odds_ratio", *ZERO_FPR) == 0.5


def test_zero_fpr_equalized_odds_difference(make_dataset):
    table = read_table(make_dataset, ZERO_FPR_CSV)

    value = govdsl_metric(table, "equalized_odds_difference")

    assert value.value == 0.5
    assert fairlearn_between("equalized_odds_difference", *ZERO_FPR) == 0.5


# One group only.
ONE_GROUP_CSV = "group,label,prediction\na,1,1\na,1,0\na,0,1\na,0,0\na,0,0\n"
ONE_GROUP = ([1, 1, 0, 0, 0], [1, 0, 1, 0, 0], ["a"] * 5)


@pytest.mark.parametrize("name", BETWEEN_GROUPS)
def test_one_group_undefined(make_dataset, name):
    table = read_table(make_dataset, ONE_GROUP_CSV)

    value = govdsl_metric(table, name)

    # By design govdsl differs from fairlearn here, because one group leaves nothing to compare.
    assert value.value is None
    assert value.reason == "fewer than two groups to compare by group (groups: group=a)"
    # fairlearn compares the group with itself: difference 0, ratio 1.
    assert fairlearn_between(name, *ONE_GROUP) == (0.0 if name.endswith("_difference") else 1.0)


def test_one_group_overall_rate_defined(make_dataset):
    table = read_table(make_dataset, ONE_GROUP_CSV)

    value = govdsl_metric(table, "selection_rate")

    assert value.value == 0.4
    assert fairlearn_quietly(flm.selection_rate, ONE_GROUP[0], ONE_GROUP[1]) == 0.4


def test_no_rows_left():
    frame = pd.DataFrame({"group": ["a", "b"], "label": [None, "0"], "prediction": ["1", None]}, dtype=object)
    table = group_confusion_chunk(frame, "label", "prediction", ("group",), 1).finalize()

    between = govdsl_metric(table, "demographic_parity_difference")
    overall = govdsl_metric(table, "selection_rate")

    assert table.rows_excluded == 2
    assert between.value is None
    assert between.reason == "fewer than two groups to compare by group (groups: none)"
    assert overall.value is None
    assert overall.reason == "selection rate is undefined for the whole dataset: it has 0 rows (n = 0)"
    # fairlearn rejects empty input, which is what is left once the missing rows are dropped.
    with pytest.raises(ValueError, match="Empty y_pred"):
        flm.selection_rate([], [])


def test_no_rows_left_reader_rejects(make_dataset):
    dataset = make_dataset("group,label,prediction\na,,1\nb,0,\n")

    # With no complete row, the positive label appears in no counted value.
    with pytest.raises(EvidenceInvalid, match=r"appears in neither `label` nor `prediction` \(values found: none\)"):
        reduce_group_confusion(dataset, ("group",))


# Missing values.

def test_missing_feature_own_group(make_dataset):
    csv_text = "group,label,prediction\na,1,1\na,0,0\n,1,0\n,0,1\nb,1,1\nNA,0,1\n"

    table = read_table(make_dataset, csv_text)

    assert table.groups[("(missing)",)] == ConfusionCounts(tp=0, fp=1, fn=1, tn=0)
    assert table.groups[("a",)] == ConfusionCounts(tp=1, fp=0, fn=0, tn=1)
    # Only an empty cell counts as missing. The text `NA` is an ordinary group value.
    assert table.groups[("NA",)] == ConfusionCounts(tp=0, fp=1, fn=0, tn=0)
    assert table.rows_excluded == 0
    # fairlearn rejects a sensitive feature with missing values.
    with pytest.raises(ValueError, match="contains missing values"):
        flm.demographic_parity_difference([1, 0, 1, 0], [1, 0, 0, 1], sensitive_features=["a", "a", None, None])


def test_missing_feature_two_features(make_dataset):
    csv_text = "race,sex,label,prediction\nx,F,1,1\nx,,0,1\ny,M,0,0\n"

    table = read_table(make_dataset, csv_text, features=("race", "sex"))

    assert sorted(table.groups) == [("x", "(missing)"), ("x", "F"), ("y", "M")]
    assert table.groups[("x", "(missing)")] == ConfusionCounts(tp=0, fp=1, fn=0, tn=0)


MISSING_OUTCOME_CSV = "group,label,prediction\na,1,1\na,,1\na,0,\nb,1,0\nb,,\nb,0,0\n"


def test_missing_outcome_rows_excluded(make_dataset):
    table = read_table(make_dataset, MISSING_OUTCOME_CSV)

    assert table.rows_excluded == 3
    assert table.groups[("a",)] == ConfusionCounts(tp=1, fp=0, fn=0, tn=0)
    assert table.groups[("b",)] == ConfusionCounts(tp=0, fp=0, fn=1, tn=1)
    assert table.overall.n == 3


def test_missing_outcome_fairlearn_differs(make_dataset):
    nan = float("nan")
    y_true = [1, nan, 0, 1, nan, 0]
    y_pred = [1, 1, nan, 0, nan, 0]
    groups = ["a", "a", "a", "b", "b", "b"]
    table = read_table(make_dataset, MISSING_OUTCOME_CSV)

    value = govdsl_metric(table, "demographic_parity_difference")

    # govdsl keeps one row of group a, predicted positive, so its selection rate is 1.0.
    # Group b keeps two rows, both predicted negative.
    assert value.value == 1.0
    # fairlearn keeps every row and counts a missing prediction as not selected, so
    # group a's selection rate is 2/3.
    assert fairlearn_between("demographic_parity_difference", y_true, y_pred, groups) == pytest.approx(2 / 3)
    # fairlearn rejects a missing label in the rates that read labels.
    with pytest.raises(ValueError, match="values must be from"):
        flm.equal_opportunity_difference(y_true, y_pred, sensitive_features=groups)


# How label values are written.

def test_label_spellings_positive(make_dataset):
    csv_text = "group,label,prediction\na,1.0,1\na, 1,0\na,0.0,1 \nb,1 ,1.0\nb,0,0\nb,0.0, 0\n"

    table = read_table(make_dataset, csv_text)

    assert table.groups[("a",)] == ConfusionCounts(tp=1, fp=1, fn=1, tn=0)
    assert table.groups[("b",)] == ConfusionCounts(tp=1, fp=0, fn=0, tn=2)
    # fairlearn compares values with ==, so the strings `1.0` and ` 1` never equal 1.
    assert fairlearn_quietly(flm.selection_rate, ["1.0", " 1"], ["1.0", " 1"]) == 0.0


YES_NO_CSV = "group,label,prediction\na,yes,yes\na,no,yes\na,yes,no\nb,yes,yes\nb,no,no\nb,yes,yes\n"
YES_NO = (
    ["yes", "no", "yes", "yes", "no", "yes"],
    ["yes", "yes", "no", "yes", "no", "yes"],
    ["a", "a", "a", "b", "b", "b"],
)
YES_NO_COUNTS = {("a",): ConfusionCounts(tp=1, fp=1, fn=1, tn=0), ("b",): ConfusionCounts(tp=2, fp=0, fn=0, tn=1)}


def test_string_positive_label(make_dataset):
    table = read_table(make_dataset, YES_NO_CSV, positive_label='"yes"')

    assert table.groups == YES_NO_COUNTS


@pytest.mark.parametrize(
    ("rate", "name"),
    [
        ("selection_rate", "demographic_parity_difference"),
        ("true_positive_rate", "equal_opportunity_difference"),
        ("false_positive_rate", "false_positive_rate_difference"),
    ],
)
def test_string_positive_label_fairlearn(make_dataset, rate, name):
    table = read_table(make_dataset, YES_NO_CSV, positive_label='"yes"')
    metrics = {rate: functools.partial(getattr(flm, rate), pos_label="yes")}
    frame = flm.MetricFrame(metrics=metrics, y_true=YES_NO[0], y_pred=YES_NO[1], sensitive_features=YES_NO[2])

    value = govdsl_metric(table, name)

    assert value.value == pytest.approx(frame.difference(method="between_groups")[rate], rel=0, abs=1e-12)


def test_string_positive_label_fairlearn_defaults():
    # fairlearn's demographic_parity_difference takes no pos_label, and selection_rate's
    # default pos_label of 1 never equals `yes`, so it silently returns 0.0.
    assert fairlearn_between("demographic_parity_difference", *YES_NO) == 0.0
    # Its equalized odds functions reject labels other than 0/1 and -1/1.
    with pytest.raises(ValueError, match="values must be from"):
        flm.equalized_odds_difference(YES_NO[0], YES_NO[1], sensitive_features=YES_NO[2])


def test_unquoted_yes_positive_label(make_dataset):
    # PyYAML reads an unquoted `yes` as the boolean True, which matches no `yes` label.
    # The reduction rejects the dataset rather than count every label as negative.
    dataset = make_dataset(YES_NO_CSV, positive_label="yes")

    assert dataset.positive_label is True
    with pytest.raises(EvidenceInvalid, match="positive_label `True` .* is not among the values of column `label`"):
        reduce_group_confusion(dataset, ("group",))


# The four-fifths rule: a ratio of exactly 0.8 must pass `>= 0.8`.

def four_fifths_csv(selected_a: int, rows_a: int, selected_b: int, rows_b: int) -> str:
    lines = ["group,label,prediction"]
    lines += ["a,0,1"] * selected_a + ["a,0,0"] * (rows_a - selected_a)
    lines += ["b,0,1"] * selected_b + ["b,0,0"] * (rows_b - selected_b)
    return "\n".join(lines) + "\n"


def test_four_fifths_exact_ratio(make_dataset):
    table = read_table(make_dataset, four_fifths_csv(4, 10, 5, 10))

    value = govdsl_metric(table, "demographic_parity_ratio")

    assert value.value == 0.8
    assert compare(value.value, ">=", 0.8)


def test_four_fifths_rounded_below(make_dataset):
    # (1/3) / (5/12) is 0.8 in exact arithmetic and 0.7999999999999999 in floating point.
    table = read_table(make_dataset, four_fifths_csv(1, 3, 5, 12))
    y_pred = [1, 0, 0] + [1] * 5 + [0] * 7
    groups = ["a"] * 3 + ["b"] * 12

    value = govdsl_metric(table, "demographic_parity_ratio")

    assert value.value < 0.8
    assert value.value == fairlearn_between("demographic_parity_ratio", [0] * 15, y_pred, groups)
    assert compare(value.value, ">=", 0.8)


@pytest.mark.parametrize(
    ("value", "passes"),
    [(0.8, True), (0.8 - 1e-12, True), (0.8 - 1e-6, False), (0.79, False)],
)
def test_four_fifths_compare(value, passes):
    assert compare(value, ">=", 0.8) is passes
