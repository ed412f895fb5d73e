"""govdsl's confusion-count metrics against fairlearn and scikit-learn on the UCI Adult and German credit bundles.

The bundles in tests/data/real/ hold out-of-sample predictions of a logistic
regression (see their PROVENANCE.md). Every metric the registry computes from
per-group confusion counts is compared with fairlearn 0.15 (scikit-learn 1.9 for
the performance rates fairlearn lacks) within 1e-12, overall, per group and between
groups. Some groups of Adult's race x age group have a zero denominator. There
govdsl reports the value as undefined and names the group, but fairlearn returns a
number, and the tests check both sides of that difference.
"""

from __future__ import annotations

import functools
import json
import math

import fairlearn.metrics as flm
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn import metrics as skm

from govdsl.cli import main
from govdsl.evidence import load_bundle
from govdsl.evidence.reductions import reduce_group_confusion
from govdsl.metrics.counts import ConfusionCounts, GroupedConfusion
from govdsl.metrics.registry import REGISTRY
from govdsl.metrics.values import MetricValue
from support import REPO, write_policy

TOLERANCE = 1e-12
REAL = REPO / "tests" / "data" / "real"

# Bundle folder -> (rows, feature sets compared). The pairs include every combination
# of their values, so no group is empty.
DATASETS = {
    "adult": (10_000, [("sex",), ("race",), ("sex", "race"), ("race", "age_group")]),
    "german-credit": (1_000, [("sex",), ("age_group",), ("foreign_worker",), ("sex", "age_group"), ("sex", "foreign_worker")]),
}
CASES = [(name, features) for name, (_, feature_sets) in DATASETS.items() for features in feature_sets]

REFERENCE_RATES = {
    "selection_rate": flm.selection_rate,
    "true_positive_rate": flm.true_positive_rate,
    "false_positive_rate": flm.false_positive_rate,
    "false_negative_rate": flm.false_negative_rate,
    "true_negative_rate": flm.true_negative_rate,
    "recall": skm.recall_score,
    "precision": functools.partial(skm.precision_score, zero_division=0),
    "accuracy": skm.accuracy_score,
    "balanced_accuracy": skm.balanced_accuracy_score,
    "f1_score": functools.partial(skm.f1_score, zero_division=0),
}

# The denominator of each rate, from a group's confusion counts; a rate is undefined where it is 0.
DENOMINATORS = {
    "selection_rate": lambda c: c.n,
    "accuracy": lambda c: c.n,
    "true_positive_rate": lambda c: c.actual_positives,
    "false_negative_rate": lambda c: c.actual_positives,
    "recall": lambda c: c.actual_positives,
    "false_positive_rate": lambda c: c.actual_negatives,
    "true_negative_rate": lambda c: c.actual_negatives,
    "precision": lambda c: c.predicted_positives,
    "balanced_accuracy": lambda c: min(c.actual_positives, c.actual_negatives),
    "f1_score": lambda c: 2 * c.tp + c.fp + c.fn,
}

# scikit-learn warns where a group's rate is 0/0 and returns 0; the tests expect exactly that.
pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.UndefinedMetricWarning",
    "ignore:A single label was found:UserWarning",
    "ignore:y_pred contains classes not in y_true:UserWarning",
)

CONFUSION_METRICS = sorted(name for name, d in REGISTRY.items() if d.reduction == "group_confusion")
OVERALL_METRICS = [name for name in CONFUSION_METRICS if REGISTRY[name].kind == "overall"]
BETWEEN_METRICS = [name for name in CONFUSION_METRICS if REGISTRY[name].kind == "between_groups"]


def case_id(value) -> str:
    return "x".join(value) if isinstance(value, tuple) else str(value)


@functools.lru_cache(maxsize=None)
def dataset(name: str):
    return load_bundle(REAL / name).datasets["predictions"]


@functools.lru_cache(maxsize=None)
def frame(name: str) -> pd.DataFrame:
    return pd.read_csv(dataset(name).path, keep_default_na=False)


@functools.lru_cache(maxsize=None)
def table(name: str, features: tuple[str, ...]) -> GroupedConfusion:
    """Per-group counts read through the bundle loader in chunks of 999 rows, so chunk edges fall inside groups."""
    return reduce_group_confusion(dataset(name), features, chunk_rows=999)


@functools.lru_cache(maxsize=None)
def metric_frame(name: str, features: tuple[str, ...]) -> flm.MetricFrame:
    data = frame(name)
    declared = dataset(name)
    return flm.MetricFrame(
        metrics=dict(REFERENCE_RATES, count=flm.count),
        y_true=data[declared.label_column],
        y_pred=data[declared.prediction_column],
        sensitive_features=data[list(features)],
    )


def by_group(reference: flm.MetricFrame) -> dict[tuple[str, ...], pd.Series]:
    rows = {}
    for key, row in reference.by_group.iterrows():
        parts = key if isinstance(key, tuple) else (key,)
        rows[tuple(str(part) for part in parts)] = row
    return rows


def govdsl_metric(counts: GroupedConfusion, name: str) -> MetricValue:
    declaration = REGISTRY[name]
    return declaration.load()(counts, declaration.components)


def undefined_groups(counts: GroupedConfusion, rate: str) -> list[tuple[str, ...]]:
    return sorted(key for key, group in counts.groups.items() if DENOMINATORS[rate](group) == 0)


def test_reference_covers_every_rate():
    components = {component for name in CONFUSION_METRICS for component in REGISTRY[name].components}

    assert components <= set(REFERENCE_RATES)
    assert components <= set(DENOMINATORS)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_bundle_loads_all_rows(name):
    rows, feature_sets = DATASETS[name]

    for features in feature_sets:
        counts = table(name, features)
        assert counts.overall.n == rows
        assert counts.rows_excluded == 0
        combinations = 1
        for feature in features:
            combinations *= frame(name)[feature].nunique()
        assert len(counts.groups) == combinations, features


@pytest.mark.parametrize("name", sorted(DATASETS))
@pytest.mark.parametrize("metric", OVERALL_METRICS)
def test_overall_rate_matches_reference(name, metric):
    declared = dataset(name)
    data = frame(name)
    expected = float(REFERENCE_RATES[metric](data[declared.label_column], data[declared.prediction_column]))

    value = govdsl_metric(table(name, ("sex",)), metric)

    assert value.value == pytest.approx(expected, rel=0, abs=TOLERANCE)


@pytest.mark.parametrize(("name", "features"), CASES, ids=case_id)
def test_group_rates_match_by_group(name, features):
    expected = by_group(metric_frame(name, features))
    counts = table(name, features)

    assert sorted(counts.groups) == sorted(expected)
    for key, group in counts.groups.items():
        assert group.n == expected[key]["count"], key
    for metric in OVERALL_METRICS:
        (rate,) = REGISTRY[metric].components
        undefined = set(undefined_groups(counts, rate))
        value = govdsl_metric(counts, metric)
        for group in value.groups:
            if group.key in undefined:
                # govdsl: no value; fairlearn and scikit-learn: 0 (with a warning) for the same 0/0.
                assert group.rates[rate] is None, (group.key, rate)
                assert expected[group.key][rate] == 0.0, (group.key, rate)
            else:
                assert group.rates[rate] == pytest.approx(expected[group.key][rate], rel=0, abs=TOLERANCE), (group.key, rate)


def reference_between(reference: flm.MetricFrame, metric: str) -> float:
    """The between-group value from fairlearn's MetricFrame: the worst difference or ratio over the metric's rates."""
    declaration = REGISTRY[metric]
    rates = list(declaration.components)
    if declaration.implementation.endswith("difference"):
        return float(reference.difference(method="between_groups")[rates].max())
    return float(reference.ratio(method="between_groups")[rates].min())


@pytest.mark.parametrize(("name", "features"), CASES, ids=case_id)
@pytest.mark.parametrize("metric", BETWEEN_METRICS)
def test_between_groups_matches_reference(name, features, metric):
    counts = table(name, features)
    reference = metric_frame(name, features)
    undefined = {rate: undefined_groups(counts, rate) for rate in REGISTRY[metric].components}

    value = govdsl_metric(counts, metric)

    if any(undefined.values()):
        # By design govdsl differs here. A group's rate has a zero denominator, so the
        # metric is undefined and the reason names a group. fairlearn returns a number.
        assert value.value is None
        assert value.reason is not None
        named = [key for keys in undefined.values() for key in keys]
        assert any(", ".join(f"{f}={v}" for f, v in zip(features, key)) in value.reason for key in named), value.reason
        assert not math.isnan(reference_between(reference, metric))
    else:
        assert value.reason is None
        assert value.value == pytest.approx(reference_between(reference, metric), rel=0, abs=TOLERANCE)


def test_adult_race_age_has_undefined_rates():
    counts = table("adult", ("race", "age_group"))

    assert ("Other", "17-24") in undefined_groups(counts, "true_positive_rate")
    assert ("Asian-Pac-Islander", "17-24") in undefined_groups(counts, "precision")
    assert undefined_groups(counts, "false_positive_rate") == []
    assert counts.groups[("Other", "65+")] == ConfusionCounts(tp=0, fp=0, fn=0, tn=1)


def test_german_foreign_workers_all_predicted_good():
    counts = table("german-credit", ("foreign_worker",))

    group = counts.groups[("A202",)]

    assert group.n == 37
    assert group.predicted_positives == 37
    # Every rate is still defined: no group lacks actual positives, actual negatives or positive predictions.
    for rate in DENOMINATORS:
        assert undefined_groups(counts, rate) == [], rate


POLICY = """
policy real_data {
  version "1.0.0"
  control parity {
    title "Selection and error rates are similar across groups"
    owner "tests@example.org"
    maps ["NIST-AI-RMF:MEASURE 2.11"]
    severity high
    enforcement advisory
    remediation "None; this policy only measures."
    check dp: demographic_parity_difference(by = "sex") <= 1
    check eo: equalized_odds_difference(by = ["sex", "age_group"]) <= 1
    check fnr: false_negative_rate_ratio(by = "age_group") >= 0
    check acc: accuracy() >= 0
  }
}
"""
POLICY_CHECKS = {
    "dp": ("demographic_parity_difference", ("sex",)),
    "eo": ("equalized_odds_difference", ("sex", "age_group")),
    "fnr": ("false_negative_rate_ratio", ("age_group",)),
}


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_check_command_matches_reference(tmp_path, name):
    policy = write_policy(tmp_path, POLICY)

    result = CliRunner().invoke(
        main, ["check", str(policy), "--bundle", str(REAL / name), "--as-of", "2026-12-04", "--format", "json"]
    )

    assert result.exit_code == 0, result.stderr
    checks = {check["id"].rsplit(".", 1)[1]: check for check in json.loads(result.stdout)["controls"][0]["checks"]}
    for check_name, (metric, features) in POLICY_CHECKS.items():
        expected = reference_between(metric_frame(name, features), metric)
        assert checks[check_name]["value"] == pytest.approx(expected, rel=0, abs=TOLERANCE), check_name
    declared = dataset(name)
    data = frame(name)
    accuracy = skm.accuracy_score(data[declared.label_column], data[declared.prediction_column])
    assert checks["acc"]["value"] == pytest.approx(accuracy, rel=0, abs=TOLERANCE)
