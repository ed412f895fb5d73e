"""Performance metrics and the minimum group size, compared with scikit-learn and fairlearn."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame
from sklearn import metrics as skm

from govdsl.evidence import load_bundle
from govdsl.evidence.reductions import reduce_group_confusion
from govdsl.metrics.registry import REGISTRY
from support import COMPAS_BUNDLE

SKLEARN = {
    "accuracy": skm.accuracy_score,
    "precision": skm.precision_score,
    "recall": skm.recall_score,
    "f1_score": skm.f1_score,
    "balanced_accuracy": skm.balanced_accuracy_score,
    "true_negative_rate": lambda y, p: skm.recall_score(y, p, pos_label=0),
}


@pytest.fixture(scope="module")
def compas():
    dataset = load_bundle(COMPAS_BUNDLE).datasets["predictions"]
    frame = pd.read_csv(COMPAS_BUNDLE / "predictions.csv")
    return dataset, frame


def value(name: str, table, **options):
    declaration = REGISTRY[name]
    return declaration.load()(table, declaration.components, **options)


@pytest.mark.parametrize("name", sorted(SKLEARN))
def test_overall_matches_sklearn_on_compas(compas, name):
    dataset, frame = compas
    table = reduce_group_confusion(dataset, ("race",))
    expected = SKLEARN[name](frame["two_year_recid"], frame["predicted_high_risk"])
    assert value(name, table).value == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("name", sorted(SKLEARN))
def test_overall_matches_sklearn_random(make_dataset, seed, name):
    rng = np.random.default_rng(seed)
    size = int(rng.integers(50, 3000))
    labels = rng.integers(0, 2, size)
    predictions = rng.integers(0, 2, size)
    groups = rng.choice(["a", "b", "c"], size)
    csv_text = "label,prediction,group\n" + "".join(f"{l},{p},{g}\n" for l, p, g in zip(labels, predictions, groups))
    table = reduce_group_confusion(make_dataset(csv_text), ("group",))
    assert value(name, table).value == pytest.approx(SKLEARN[name](labels, predictions), abs=1e-12)


@pytest.mark.parametrize(("name", "component"), [("predictive_parity_difference", "precision"), ("accuracy_difference", "accuracy")])
def test_between_groups_matches_metricframe(compas, name, component):
    dataset, frame = compas
    table = reduce_group_confusion(dataset, ("race",))
    frame_metric = MetricFrame(
        metrics=SKLEARN[component],
        y_true=frame["two_year_recid"],
        y_pred=frame["predicted_high_risk"],
        sensitive_features=frame["race"],
    )
    assert value(name, table).value == pytest.approx(frame_metric.difference(), abs=1e-12)


def test_min_group_size_makes_insufficient(compas):
    dataset, _ = compas
    table = reduce_group_confusion(dataset, ("race",))
    result = value("false_positive_rate_difference", table, min_group_size=30)
    assert result.value is None
    assert "race=Native American (n = 11)" in result.reason
    assert "race=Asian" not in result.reason  # 31 rows meet a minimum of 30


def test_min_group_size_exclusion(compas):
    dataset, frame = compas
    table = reduce_group_confusion(dataset, ("race",))
    result = value("false_positive_rate_difference", table, min_group_size=50, exclude_small=True)
    kept = frame[~frame["race"].isin(["Asian", "Native American"])]
    negatives = kept[kept["two_year_recid"] == 0]
    rates = negatives.groupby("race")["predicted_high_risk"].mean()
    assert result.value == pytest.approx(rates.max() - rates.min(), abs=1e-12)
    assert sorted(key for key, _ in result.excluded) == [("Asian",), ("Native American",)]


def test_min_group_size_met_by_all(compas):
    dataset, _ = compas
    table = reduce_group_confusion(dataset, ("sex",))
    plain = value("demographic_parity_ratio", table)
    with_minimum = value("demographic_parity_ratio", table, min_group_size=100)
    assert with_minimum.value == plain.value
    assert with_minimum.excluded == ()


def test_exclusion_leaving_one_group(make_dataset):
    csv_text = "label,prediction,group\n" + "1,1,a\n0,0,a\n" * 10 + "1,0,b\n0,1,b\n"
    table = reduce_group_confusion(make_dataset(csv_text), ("group",))
    result = value("demographic_parity_difference", table, min_group_size=5, exclude_small=True)
    assert result.value is None
    assert "fewer than two groups" in result.reason


def test_balanced_accuracy_one_class_undefined(make_dataset):
    table = reduce_group_confusion(make_dataset("label,prediction,group\n1,1,a\n1,0,b\n"), ("group",))
    result = value("balanced_accuracy", table)
    assert result.value is None
    assert "actual positives and actual negatives" in result.reason
