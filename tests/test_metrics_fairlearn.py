"""Differential tests of govdsl's fairness metrics against fairlearn, on COMPAS and on random data.

fairlearn (0.15) is the reference implementation. Where every rate is defined,
govdsl must agree with it within 1e-12. Where a rate has a zero denominator,
govdsl reports the value as undefined while fairlearn returns a number. The
COMPAS tests below and test_metric_edge_cases.py check those cases.
"""

from __future__ import annotations

import functools
import itertools
import math
from pathlib import Path

import fairlearn.metrics as flm
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from sklearn import metrics as skm
from hypothesis import strategies as st

from govdsl.evidence import load_bundle
from govdsl.evidence.readers import read_chunks
from govdsl.evidence.reductions import group_confusion_chunk, reduce_group_confusion
from govdsl.metrics.counts import GroupedConfusion
from govdsl.metrics.registry import REGISTRY
from govdsl.metrics.values import MetricValue

TOLERANCE = 1e-12

COMPAS_DIR = Path(__file__).resolve().parent.parent / "examples" / "compas"
COMPAS_ROWS = 6172

FAIRLEARN_RATES = {
    "selection_rate": flm.selection_rate,
    "true_positive_rate": flm.true_positive_rate,
    "false_positive_rate": flm.false_positive_rate,
    "false_negative_rate": flm.false_negative_rate,
    # Performance rates: fairlearn has no function of its own for these, so scikit-learn's are the reference.
    "true_negative_rate": flm.true_negative_rate,
    "recall": skm.recall_score,
    "precision": functools.partial(skm.precision_score, zero_division=0),
    "accuracy": skm.accuracy_score,
    "balanced_accuracy": skm.balanced_accuracy_score,
    "f1_score": skm.f1_score,
}


def _frame_between(rate: str, aggregate: str):
    """A between-group metric fairlearn has no function for, as a MetricFrame over one rate."""

    def compute(y_true, y_pred, sensitive_features, method):
        frame = flm.MetricFrame(
            metrics=FAIRLEARN_RATES[rate], y_true=y_true, y_pred=y_pred, sensitive_features=sensitive_features
        )
        return frame.difference(method=method) if aggregate == "difference" else frame.ratio(method=method)

    return compute
FAIRLEARN_BETWEEN_GROUPS = {
    "demographic_parity_difference": flm.demographic_parity_difference,
    "demographic_parity_ratio": flm.demographic_parity_ratio,
    "equal_opportunity_difference": flm.equal_opportunity_difference,
    "equal_opportunity_ratio": flm.equal_opportunity_ratio,
    "equalized_odds_difference": functools.partial(flm.equalized_odds_difference, agg="worst_case"),
    "equalized_odds_ratio": functools.partial(flm.equalized_odds_ratio, agg="worst_case"),
    "false_positive_rate_difference": flm.false_positive_rate_difference,
    "false_positive_rate_ratio": flm.false_positive_rate_ratio,
    "false_negative_rate_difference": flm.false_negative_rate_difference,
    "false_negative_rate_ratio": flm.false_negative_rate_ratio,
    "selection_rate_difference": flm.selection_rate_difference,
    "selection_rate_ratio": flm.selection_rate_ratio,
    "true_positive_rate_difference": flm.true_positive_rate_difference,
    "true_positive_rate_ratio": flm.true_positive_rate_ratio,
    "predictive_parity_difference": _frame_between("precision", "difference"),
    "predictive_parity_ratio": _frame_between("precision", "ratio"),
    "accuracy_difference": _frame_between("accuracy", "difference"),
    "accuracy_ratio": _frame_between("accuracy", "ratio"),
}
ALL_METRICS = sorted(FAIRLEARN_RATES) + sorted(FAIRLEARN_BETWEEN_GROUPS)
# Asian women (2 rows) have no positive prediction, so precision is undefined by race x sex.
PRECISION_METRICS = ["predictive_parity_difference", "predictive_parity_ratio"]
FPR_METRICS = [
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "false_positive_rate_difference",
    "false_positive_rate_ratio",
]


def govdsl_metric(table: GroupedConfusion, name: str) -> MetricValue:
    declaration = REGISTRY[name]
    return declaration.load()(table, declaration.components)


def fairlearn_metric(name: str, y_true, y_pred, sensitive_features) -> float:
    if name in FAIRLEARN_RATES:
        return float(FAIRLEARN_RATES[name](y_true, y_pred))
    function = FAIRLEARN_BETWEEN_GROUPS[name]
    return float(function(y_true, y_pred, sensitive_features=sensitive_features, method="between_groups"))


def fairlearn_frame(y_true, y_pred, sensitive_features) -> flm.MetricFrame:
    metrics = dict(FAIRLEARN_RATES, count=flm.count)
    return flm.MetricFrame(metrics=metrics, y_true=y_true, y_pred=y_pred, sensitive_features=sensitive_features)


# The same between-group metrics computed from one MetricFrame: the aggregate and the
# rates it spans. Equalized odds takes the worst case of its two rates, as fairlearn's
# agg="worst_case" does. Each fairlearn function builds its own MetricFrame, so the
# random-data tests build one per dataset instead, and
# test_frame_reference_matches_functions checks this table against the functions.
FRAME_REFERENCE = {
    "demographic_parity_difference": ("difference", ["selection_rate"]),
    "demographic_parity_ratio": ("ratio", ["selection_rate"]),
    "equal_opportunity_difference": ("difference", ["true_positive_rate"]),
    "equal_opportunity_ratio": ("ratio", ["true_positive_rate"]),
    "equalized_odds_difference": ("difference", ["true_positive_rate", "false_positive_rate"]),
    "equalized_odds_ratio": ("ratio", ["true_positive_rate", "false_positive_rate"]),
    "false_positive_rate_difference": ("difference", ["false_positive_rate"]),
    "false_positive_rate_ratio": ("ratio", ["false_positive_rate"]),
    "false_negative_rate_difference": ("difference", ["false_negative_rate"]),
    "false_negative_rate_ratio": ("ratio", ["false_negative_rate"]),
    "selection_rate_difference": ("difference", ["selection_rate"]),
    "selection_rate_ratio": ("ratio", ["selection_rate"]),
    "true_positive_rate_difference": ("difference", ["true_positive_rate"]),
    "true_positive_rate_ratio": ("ratio", ["true_positive_rate"]),
    "predictive_parity_difference": ("difference", ["precision"]),
    "predictive_parity_ratio": ("ratio", ["precision"]),
    "accuracy_difference": ("difference", ["accuracy"]),
    "accuracy_ratio": ("ratio", ["accuracy"]),
}


def frame_metrics(frame: flm.MetricFrame) -> dict[str, float]:
    """Return every metric of ALL_METRICS from a MetricFrame built by fairlearn_frame."""
    values = {name: float(frame.overall[name]) for name in FAIRLEARN_RATES}
    differences = frame.difference(method="between_groups")
    ratios = frame.ratio(method="between_groups")
    for name, (aggregate, rates) in FRAME_REFERENCE.items():
        if aggregate == "difference":
            values[name] = float(differences[rates].max())
        else:
            values[name] = float(ratios[rates].min())
    return values


def by_group_rows(frame: flm.MetricFrame) -> dict[tuple[str, ...], pd.Series]:
    """Return MetricFrame.by_group keyed like govdsl groups: a tuple of strings, one per feature."""
    rows = {}
    for key, row in frame.by_group.iterrows():
        parts = key if isinstance(key, tuple) else (key,)
        rows[tuple(str(part) for part in parts)] = row
    return rows


def assert_groups_match(
    value: MetricValue, frame: flm.MetricFrame, skip: frozenset[tuple[tuple[str, ...], str]] = frozenset()
) -> None:
    """Assert that group sizes and component rates equal fairlearn's by_group, except the (group, rate) pairs in `skip`."""
    expected = by_group_rows(frame)
    assert sorted(g.key for g in value.groups) == sorted(expected)
    for group in value.groups:
        assert group.counts.n == expected[group.key]["count"], group.key
        for rate_name, rate in group.rates.items():
            if (group.key, rate_name) in skip:
                continue
            assert rate == pytest.approx(expected[group.key][rate_name], rel=0, abs=TOLERANCE), (group.key, rate_name)


def test_every_registered_metric_has_reference():
    # Metrics read from other reductions, such as disparate impact, are compared with their references elsewhere.
    confusion_metrics = {name for name, declaration in REGISTRY.items() if declaration.reduction == "group_confusion"}
    assert confusion_metrics == set(ALL_METRICS)


# COMPAS: real data, read through the bundle loader and the chunked reader.

COMPAS_FEATURES = [("race",), ("sex",), ("age_cat",), ("race", "sex")]

# One race x sex group, Native American Female, has 2 rows, both actual positives, so
# its false positive rate has no denominator. govdsl reports every metric built on
# that rate as undefined, which test_compas_race_sex_fpr_undefined checks.
NATIVE_AMERICAN_FEMALE = ("Native American", "Female")
COMPAS_CASES = [
    (features, name)
    for features in COMPAS_FEATURES
    for name in sorted(FAIRLEARN_BETWEEN_GROUPS)
    if not (features == ("race", "sex") and name in FPR_METRICS + PRECISION_METRICS)
]


def compas_case_id(part) -> str:
    return "-".join(part) if isinstance(part, tuple) else part


@pytest.fixture(scope="module")
def compas_dataset():
    return load_bundle(COMPAS_DIR).datasets["predictions"]


@pytest.fixture(scope="module")
def compas_frame(compas_dataset):
    return pd.read_csv(compas_dataset.path)


@pytest.fixture(scope="module")
def compas_tables(compas_dataset):
    """Per-group confusion counts for each feature set, read in chunks of 500 rows."""
    return {features: reduce_group_confusion(compas_dataset, features, chunk_rows=500) for features in COMPAS_FEATURES}


def compas_inputs(frame: pd.DataFrame, features: tuple[str, ...]):
    return frame["two_year_recid"], frame["predicted_high_risk"], frame[list(features)]


@pytest.fixture(scope="module")
def compas_metric_frames(compas_frame):
    return {features: fairlearn_frame(*compas_inputs(compas_frame, features)) for features in COMPAS_FEATURES}


def test_compas_bundle_declares_columns(compas_dataset):
    assert compas_dataset.label_column == "two_year_recid"
    assert compas_dataset.prediction_column == "predicted_high_risk"
    assert compas_dataset.positive_label == 1
    assert compas_dataset.sensitive_features == ("race", "sex", "age_cat")


@pytest.mark.parametrize("features", COMPAS_FEATURES, ids="-".join)
def test_compas_chunked_equals_one_pass(compas_dataset, compas_tables, features):
    columns = ["two_year_recid", "predicted_high_risk", *features]
    assert len(list(read_chunks(compas_dataset, columns, 500))) == 13
    assert len(list(read_chunks(compas_dataset, columns, 10_000))) == 1

    one_pass = reduce_group_confusion(compas_dataset, features, chunk_rows=10_000)

    assert compas_tables[features] == one_pass
    assert one_pass.rows_excluded == 0
    assert one_pass.overall.n == COMPAS_ROWS


@pytest.mark.parametrize("name", sorted(FAIRLEARN_RATES))
def test_compas_overall_rate(compas_frame, compas_tables, name):
    y_true, y_pred, _ = compas_inputs(compas_frame, ("race",))

    value = govdsl_metric(compas_tables[("race",)], name)

    assert value.value == pytest.approx(fairlearn_metric(name, y_true, y_pred, None), rel=0, abs=TOLERANCE)


@pytest.mark.parametrize(("features", "name"), COMPAS_CASES, ids=compas_case_id)
def test_compas_between_groups(compas_frame, compas_tables, features, name):
    y_true, y_pred, sensitive = compas_inputs(compas_frame, features)

    value = govdsl_metric(compas_tables[features], name)

    assert value.reason is None
    assert value.value == pytest.approx(fairlearn_metric(name, y_true, y_pred, sensitive), rel=0, abs=TOLERANCE)


@pytest.mark.parametrize(("features", "name"), COMPAS_CASES, ids=compas_case_id)
def test_compas_groups_match_by_group(compas_metric_frames, compas_tables, features, name):
    frame = compas_metric_frames[features]

    value = govdsl_metric(compas_tables[features], name)

    assert_groups_match(value, frame)
    for rate_name, rate in value.overall_rates.items():
        assert rate == pytest.approx(frame.overall[rate_name], rel=0, abs=TOLERANCE), rate_name


@pytest.mark.parametrize("name", FPR_METRICS)
def test_compas_race_sex_fpr_undefined(compas_frame, compas_metric_frames, compas_tables, name):
    features = ("race", "sex")
    y_true, y_pred, sensitive = compas_inputs(compas_frame, features)
    frame = compas_metric_frames[features]

    value = govdsl_metric(compas_tables[features], name)

    # By design govdsl differs from fairlearn here: the metric is undefined, and the
    # reason names the group and its counts.
    assert value.value is None
    assert "group race=Native American, sex=Female" in value.reason
    assert "0 actual negatives (n = 2)" in value.reason
    # fairlearn treats that group's false positive rate 0/0 as 0 and returns a number.
    assert by_group_rows(frame)[NATIVE_AMERICAN_FEMALE]["false_positive_rate"] == 0.0
    assert not math.isnan(fairlearn_metric(name, y_true, y_pred, sensitive))
    # Every other group and rate still matches fairlearn.
    assert_groups_match(value, frame, skip=frozenset({(NATIVE_AMERICAN_FEMALE, "false_positive_rate")}))


# Random data: every group contains each (label, prediction) pair at least once, so
# every rate is defined and strictly between 0 and 1.

RANDOM_SEEDS = [0, 1, 2, 3, 4]
# (number of values of each sensitive feature, number of rows)
RANDOM_SHAPES = [((2,), 50), ((3,), 300), ((7,), 5000), ((2, 3), 100), ((3, 7), 2000), ((7, 2), 5000)]
RANDOM_CASES = [(seed, levels, rows) for seed in RANDOM_SEEDS for levels, rows in RANDOM_SHAPES]


def random_case_id(case) -> str:
    seed, levels, rows = case
    return f"seed{seed}-levels{'x'.join(map(str, levels))}-rows{rows}"


@functools.lru_cache(maxsize=None)
def random_frame(seed: int, levels: tuple[int, ...], rows: int) -> pd.DataFrame:
    """Return a frame with columns `label`, `prediction` (0/1) and features f0, f1, ... with group-dependent rates."""
    rng = np.random.default_rng(seed)
    features = [f"f{i}" for i in range(len(levels))]
    groups = list(itertools.product(*(range(count) for count in levels)))

    # Four fixed rows per group: TP, FN, FP and TN once each.
    fixed_group = np.repeat(np.arange(len(groups)), 4)
    fixed_label = np.tile([1, 1, 0, 0], len(groups))
    fixed_prediction = np.tile([1, 0, 1, 0], len(groups))

    extra = rows - len(fixed_group)
    assert extra >= 0, "too few rows for four per group"
    base_rate = rng.uniform(0.1, 0.9, len(groups))
    tpr = rng.uniform(0.2, 0.95, len(groups))
    fpr = rng.uniform(0.05, 0.6, len(groups))
    extra_group = rng.integers(len(groups), size=extra)
    extra_label = (rng.random(extra) < base_rate[extra_group]).astype(int)
    hit = np.where(extra_label == 1, tpr[extra_group], fpr[extra_group])
    extra_prediction = (rng.random(extra) < hit).astype(int)

    group = np.concatenate([fixed_group, extra_group])
    order = rng.permutation(rows)
    frame = pd.DataFrame(
        {
            "label": np.concatenate([fixed_label, extra_label])[order],
            "prediction": np.concatenate([fixed_prediction, extra_prediction])[order],
        }
    )
    for position, feature in enumerate(features):
        codes = np.array([groups[g][position] for g in group[order]])
        frame[feature] = np.char.add(f"{feature}_", codes.astype(str))
    return frame


@functools.lru_cache(maxsize=None)
def random_table(seed: int, levels: tuple[int, ...], rows: int) -> GroupedConfusion:
    frame = random_frame(seed, levels, rows)
    features = tuple(f"f{i}" for i in range(len(levels)))
    return group_confusion_chunk(frame.astype(str), "label", "prediction", features, 1).finalize()


def random_inputs(seed: int, levels: tuple[int, ...], rows: int):
    frame = random_frame(seed, levels, rows)
    features = [f"f{i}" for i in range(len(levels))]
    return frame["label"], frame["prediction"], frame[features]


@functools.lru_cache(maxsize=None)
def random_metric_frame(seed: int, levels: tuple[int, ...], rows: int) -> flm.MetricFrame:
    return fairlearn_frame(*random_inputs(seed, levels, rows))


@functools.lru_cache(maxsize=None)
def random_reference(seed: int, levels: tuple[int, ...], rows: int) -> dict[str, float]:
    return frame_metrics(random_metric_frame(seed, levels, rows))


@pytest.mark.parametrize("name", ALL_METRICS)
def test_frame_reference_matches_functions(name):
    case = (0, (3, 7), 2000)
    y_true, y_pred, sensitive = random_inputs(*case)

    expected = fairlearn_metric(name, y_true, y_pred, sensitive)

    assert random_reference(*case)[name] == pytest.approx(expected, rel=0, abs=TOLERANCE)


@pytest.mark.parametrize("name", ALL_METRICS)
@pytest.mark.parametrize("case", RANDOM_CASES, ids=random_case_id)
def test_random_metric(case, name):
    expected = random_reference(*case)[name]

    value = govdsl_metric(random_table(*case), name)

    assert value.reason is None
    assert value.value == pytest.approx(expected, rel=0, abs=TOLERANCE)


@pytest.mark.parametrize("case", RANDOM_CASES, ids=random_case_id)
def test_random_groups_match_by_group(case):
    frame = random_metric_frame(*case)
    table = random_table(*case)
    _, levels, rows = case

    assert len(table.groups) == math.prod(levels)
    assert table.overall.n == rows
    for name in ("equalized_odds_difference", "demographic_parity_ratio", "false_negative_rate_difference"):
        assert_groups_match(govdsl_metric(table, name), frame)


# Property: on any small table, wherever govdsl returns a value, it equals fairlearn's.

small_rows = st.lists(
    st.tuples(st.sampled_from("abc"), st.integers(0, 1), st.integers(0, 1)),
    min_size=1,
    max_size=40,
)


@settings(max_examples=30, deadline=None)
@given(rows=small_rows)
def test_defined_values_match_fairlearn(rows):
    frame = pd.DataFrame(rows, columns=["group", "label", "prediction"])
    table = group_confusion_chunk(frame.astype(str), "label", "prediction", ("group",), 1).finalize()

    for name in ALL_METRICS:
        value = govdsl_metric(table, name)
        if value.value is None:
            assert value.reason, name
            continue
        expected = fairlearn_metric(name, frame["label"], frame["prediction"], frame["group"])
        assert value.value == pytest.approx(expected, rel=0, abs=TOLERANCE), name


@pytest.mark.parametrize("name", PRECISION_METRICS)
def test_compas_race_sex_precision_undefined(compas_tables, name):
    value = govdsl_metric(compas_tables[("race", "sex")], name)

    # By design govdsl reports the value as undefined; fairlearn's precision_score with
    # zero_division=0 would count the group's precision as 0.
    assert value.value is None
    assert "race=Asian, sex=Female: it has 0 predicted positives" in value.reason
