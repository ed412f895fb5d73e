"""Score-based classification metrics compared with scikit-learn on real and random data, and their edge cases."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve
from sklearn.exceptions import UndefinedMetricWarning

from govdsl.cli import main
from govdsl.errors import InvalidInputError
from govdsl.evidence import load_bundle
from govdsl.evidence.reductions import EvidenceInvalid, EvidenceMissing
from govdsl.evidence.score_reductions import reduce_score_counts
from govdsl.metrics.registry import REGISTRY
from govdsl.metrics.scores import LOG_LOSS_EPSILON, ScoreCounts, ScoreTable
from support import COMPAS_BUNDLE, REPO, RESULTS_SCHEMA

ADULT_BUNDLE = REPO / "tests" / "data" / "real" / "adult"
GERMAN_BUNDLE = REPO / "tests" / "data" / "real" / "german-credit"
SCORES_DATA = REPO / "tests" / "data" / "scores"


def metric(name: str, table, **arguments):
    return REGISTRY[name].load()(table, arguments)


def reduce(dataset, features=(), column="score", probabilities=True, chunk_rows=250_000):
    return reduce_score_counts(dataset, tuple(features), column, probabilities, chunk_rows)


def group_value(result, key: tuple[str, ...], component: str):
    return next(g.rates[component] for g in result.groups if g.key == key)


def write_bundle(folder: Path, frame: pd.DataFrame, **fields) -> Path:
    """Write `frame` as predictions.csv of a one-dataset bundle; `fields` override the dataset's declarations."""
    bundle = folder / "bundle"
    bundle.mkdir(parents=True)
    frame.to_csv(bundle / "predictions.csv", index=False)
    dataset = {
        "name": "predictions",
        "path": "predictions.csv",
        "role": "predictions",
        "label_column": "label",
        "score_column": "score",
        "sensitive_features": ["group"],
        "positive_label": 1,
        **fields,
    }
    dataset = {key: value for key, value in dataset.items() if value is not None}
    manifest = {
        "bundle_version": 1,
        "model": {"id": "toy", "name": "Toy", "version": "1", "owner": "tests", "task": "binary_classification", "risk_tier": "high"},
        "datasets": [dataset],
    }
    (bundle / "bundle.yaml").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return bundle


def dataset_of(folder: Path, frame: pd.DataFrame, **fields):
    return load_bundle(write_bundle(folder, frame, **fields)).datasets["predictions"]


def reference_ece(labels, probabilities, bins: int, strategy: str) -> float:
    """Expected calibration error with pandas' right-closed bins, the convention of scikit-learn's calibration_curve."""
    labels = np.asarray(labels, dtype=float)
    probabilities = np.asarray(probabilities, dtype=float)
    quantiles = np.linspace(0, 1, bins + 1)
    edges = quantiles if strategy == "uniform" else np.percentile(probabilities, quantiles * 100)
    edges = edges.copy()
    edges[0], edges[-1] = min(edges[0], 0.0) - 1e-12, max(edges[-1], 1.0)
    binned = pd.cut(probabilities, np.unique(edges), right=True)
    frame = pd.DataFrame({"y": labels, "p": probabilities, "bin": binned})
    per_bin = frame.groupby("bin", observed=True).agg(n=("y", "size"), y=("y", "mean"), p=("p", "mean"))
    # The same bins as calibration_curve: its observed and predicted means, non-empty bins in order.
    prob_true, prob_pred = calibration_curve(labels, probabilities, n_bins=bins, strategy=strategy)
    np.testing.assert_allclose(per_bin["y"], prob_true, atol=1e-12)
    np.testing.assert_allclose(per_bin["p"], prob_pred, atol=1e-12)
    return float((per_bin["n"] / len(labels) * (per_bin["y"] - per_bin["p"]).abs()).sum())


SKLEARN = {
    "roc_auc": skm.roc_auc_score,
    "log_loss": lambda y, p: skm.log_loss(y, p, labels=[0, 1]),
    "brier_score": lambda y, p: skm.brier_score_loss(y, p, pos_label=1),
}


# Real data.


@pytest.fixture(scope="module")
def compas():
    return load_bundle(COMPAS_BUNDLE).datasets["predictions"], pd.read_csv(COMPAS_BUNDLE / "predictions.csv")


@pytest.fixture(scope="module", params=["adult", "german"])
def probability_bundle(request):
    folder = {"adult": ADULT_BUNDLE, "german": GERMAN_BUNDLE}[request.param]
    dataset = load_bundle(folder).datasets["predictions"]
    frame = pd.read_csv(folder / "predictions.csv")
    return dataset, frame[dataset.label_column].to_numpy(), frame


@pytest.mark.parametrize("chunk_rows", [250_000, 1000, 77])
def test_roc_auc_matches_sklearn_on_compas(compas, chunk_rows):
    dataset, frame = compas
    table = reduce(dataset, ("race",), "decile_score", probabilities=False, chunk_rows=chunk_rows)
    result = metric("roc_auc", table)
    expected = skm.roc_auc_score(frame["two_year_recid"], frame["decile_score"])
    assert result.overall_rates["roc_auc"] == pytest.approx(expected, abs=1e-12)
    for race, rows in frame.groupby("race"):
        expected = skm.roc_auc_score(rows["two_year_recid"], rows["decile_score"])
        assert group_value(result, (race,), "roc_auc") == pytest.approx(expected, abs=1e-12)


def test_roc_auc_difference_on_compas(compas):
    dataset, frame = compas
    table = reduce(dataset, ("race",), "decile_score", probabilities=False)
    per_race = {race: skm.roc_auc_score(rows["two_year_recid"], rows["decile_score"]) for race, rows in frame.groupby("race")}
    result = metric("roc_auc_difference", table)
    assert result.value == pytest.approx(max(per_race.values()) - min(per_race.values()), abs=1e-12)
    low, high = result.extremes["roc_auc"]
    assert per_race[low[0]] == min(per_race.values())
    assert per_race[high[0]] == max(per_race.values())


def test_roc_auc_difference_min_group_size_on_compas(compas):
    dataset, frame = compas
    table = reduce(dataset, ("race",), "decile_score", probabilities=False)
    insufficient = metric("roc_auc_difference", table, min_group_size=30)
    assert insufficient.value is None
    assert "race=Native American (n = 11)" in insufficient.reason
    kept = frame[frame["race"] != "Native American"]
    per_race = [skm.roc_auc_score(r["two_year_recid"], r["decile_score"]) for _, r in kept.groupby("race")]
    result = metric("roc_auc_difference", table, min_group_size=30, exclude_small=True)
    assert result.value == pytest.approx(max(per_race) - min(per_race), abs=1e-12)
    assert result.excluded == ((("Native American",), 11),)


def test_compas_decile_score_is_not_a_probability(compas):
    dataset, _ = compas
    with pytest.raises(EvidenceInvalid) as raised:
        reduce(dataset, (), "decile_score", probabilities=True)
    assert "`decile_score`" in str(raised.value)
    assert "holds `3` on line 3 of `predictions.csv`" in str(raised.value)
    assert "ROC AUC accepts scores on any scale" in raised.value.help


@pytest.mark.parametrize("name", sorted(SKLEARN))
def test_overall_matches_sklearn_on_real_probabilities(probability_bundle, name):
    dataset, labels, frame = probability_bundle
    table = reduce(dataset, chunk_rows=333)
    assert metric(name, table).value == pytest.approx(SKLEARN[name](labels, frame["score"]), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name", sorted(SKLEARN))
def test_groups_match_sklearn_on_real_probabilities(probability_bundle, name):
    dataset, _, frame = probability_bundle
    table = reduce(dataset, ("sex", "age_group"))
    result = metric(name, table)
    assert len(result.groups) == frame.groupby(["sex", "age_group"]).ngroups
    for key, rows in frame.groupby(["sex", "age_group"]):
        labels = rows[dataset.label_column]
        if name == "roc_auc" and labels.nunique() < 2:
            assert group_value(result, key, name) is None
            continue
        expected = SKLEARN[name](labels, rows["score"])
        assert group_value(result, key, name) == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
@pytest.mark.parametrize("bins", [1, 5, 10, 15])
def test_calibration_error_matches_reference_on_real_data(probability_bundle, strategy, bins):
    dataset, labels, frame = probability_bundle
    table = reduce(dataset, chunk_rows=4000)
    result = metric("expected_calibration_error", table, bins=bins, strategy=strategy)
    assert result.value == pytest.approx(reference_ece(labels, frame["score"], bins, strategy), abs=1e-12)
    assert result.details["bins"] == bins
    assert result.details["strategy"] == strategy
    assert sum(row["n"] for row in result.details["calibration"]) == len(frame)


def test_calibration_table_matches_calibration_curve(probability_bundle):
    dataset, labels, frame = probability_bundle
    result = metric("expected_calibration_error", reduce(dataset))
    prob_true, prob_pred = calibration_curve(labels, frame["score"], n_bins=10)
    rows = result.details["calibration"]
    np.testing.assert_allclose([row["positive_rate"] for row in rows], prob_true, atol=1e-12)
    np.testing.assert_allclose([row["mean_score"] for row in rows], prob_pred, atol=1e-12)
    assert all(row["lower"] <= row["mean_score"] <= row["upper"] for row in rows)


def test_calibration_error_per_group_on_adult():
    dataset = load_bundle(ADULT_BUNDLE).datasets["predictions"]
    frame = pd.read_csv(ADULT_BUNDLE / "predictions.csv")
    result = metric("expected_calibration_error", reduce(dataset, ("race",)), strategy="quantile", bins=5)
    for race, rows in frame.groupby("race"):
        expected = reference_ece(rows["over_50k"], rows["score"], 5, "quantile")
        assert group_value(result, (race,), "expected_calibration_error") == pytest.approx(expected, abs=1e-12)
    assert set(result.details["group_edges"]) == {f"race={race}" for race in frame["race"].unique()}


def test_calibration_difference_on_german():
    dataset = load_bundle(GERMAN_BUNDLE).datasets["predictions"]
    frame = pd.read_csv(GERMAN_BUNDLE / "predictions.csv")
    per_sex = [reference_ece(r["good_credit"], r["score"], 10, "uniform") for _, r in frame.groupby("sex")]
    result = metric("expected_calibration_error_difference", reduce(dataset, ("sex",)))
    assert result.value == pytest.approx(max(per_sex) - min(per_sex), abs=1e-12)


def test_brier_score_difference_on_german():
    dataset = load_bundle(GERMAN_BUNDLE).datasets["predictions"]
    frame = pd.read_csv(GERMAN_BUNDLE / "predictions.csv")
    per_age = [skm.brier_score_loss(r["good_credit"], r["score"]) for _, r in frame.groupby("age_group")]
    result = metric("brier_score_difference", reduce(dataset, ("age_group",)))
    assert result.value == pytest.approx(max(per_age) - min(per_age), abs=1e-12)


# Random data.


def random_frame(seed: int) -> pd.DataFrame:
    """Random labels and probabilities; about half the seeds round scores to two decimals, which makes ties."""
    rng = np.random.default_rng(seed)
    size = int(rng.integers(40, 4000))
    labels = rng.integers(0, 2, size)
    scores = np.clip(rng.beta(2, 2, size) + 0.25 * (labels - 0.5), 0, 1)
    if seed % 2:
        scores = np.round(scores, 2)
    return pd.DataFrame({"label": labels, "score": scores, "group": rng.choice(["a", "b", "c"], size)})


@pytest.mark.parametrize("seed", range(6))
def test_random_data_matches_sklearn(tmp_path, seed):
    frame = random_frame(seed)
    dataset = dataset_of(tmp_path, frame)
    table = reduce(dataset, ("group",), chunk_rows=int(np.random.default_rng(seed).integers(5, 500)))
    for name, reference in SKLEARN.items():
        result = metric(name, table)
        assert result.overall_rates[name] == pytest.approx(reference(frame["label"], frame["score"]), rel=1e-12, abs=1e-12)
        for group, rows in frame.groupby("group"):
            expected = reference(rows["label"], rows["score"])
            assert group_value(result, (group,), name) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    for strategy in ("uniform", "quantile"):
        result = metric("expected_calibration_error", table, strategy=strategy, bins=7)
        expected = reference_ece(frame["label"], frame["score"], 7, strategy)
        assert result.overall_rates["expected_calibration_error"] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_chunking_does_not_change_values(tmp_path, seed):
    frame = random_frame(seed)
    dataset = dataset_of(tmp_path, frame)
    whole = reduce(dataset, ("group",))
    chunked = reduce(dataset, ("group",), chunk_rows=37)
    for key, counts in whole.groups.items():
        np.testing.assert_array_equal(counts.scores, chunked.groups[key].scores)
        np.testing.assert_array_equal(counts.positives, chunked.groups[key].positives)
        np.testing.assert_array_equal(counts.negatives, chunked.groups[key].negatives)
    assert metric("roc_auc", whole).overall_rates == metric("roc_auc", chunked).overall_rates


def parquet_dataset(folder: Path, frame: pd.DataFrame, **fields):
    bundle = write_bundle(folder, frame.iloc[:1], **fields)
    frame.to_parquet(bundle / "predictions.parquet", index=False, row_group_size=97)
    text = (bundle / "bundle.yaml").read_text(encoding="utf-8").replace("predictions.csv", "predictions.parquet")
    (bundle / "bundle.yaml").write_text(text, encoding="utf-8")
    return load_bundle(bundle).datasets["predictions"]


def test_parquet_gives_the_same_counts_as_csv(tmp_path):
    frame = pd.read_csv(GERMAN_BUNDLE / "predictions.csv")[["good_credit", "score", "sex", "age_group"]]
    frame.loc[[3, 10], "score"] = None
    frame.loc[[5], "sex"] = None
    fields = {"label_column": "good_credit", "sensitive_features": ["sex", "age_group"]}
    from_csv = reduce(dataset_of(tmp_path / "csv", frame, **fields), ("sex", "age_group"))
    dataset = parquet_dataset(tmp_path / "parquet", frame, **fields)
    assert dataset.format == "parquet"
    from_parquet = reduce(dataset, ("sex", "age_group"), chunk_rows=50)
    assert from_parquet.rows_excluded == from_csv.rows_excluded == 2
    assert sorted(from_parquet.groups) == sorted(from_csv.groups)
    assert ("(missing)", "26+") in from_parquet.groups or ("(missing)", "19-25") in from_parquet.groups
    for key, counts in from_csv.groups.items():
        np.testing.assert_array_equal(from_parquet.groups[key].scores, counts.scores)
        np.testing.assert_array_equal(from_parquet.groups[key].positives, counts.positives)


def test_parquet_probability_error_names_the_row(tmp_path):
    frame = pd.DataFrame({"label": [1, 0, 1], "score": [0.5, 0.2, 7.0], "group": ["a", "b", "a"]})
    with pytest.raises(EvidenceInvalid, match="holds `7.0` on row 3 of `predictions.parquet`"):
        reduce(parquet_dataset(tmp_path, frame))


# Edge cases.


def test_roc_auc_undefined_with_one_class(tmp_path):
    frame = pd.DataFrame({"label": [0, 0, 0], "score": [0.1, 0.5, 0.9], "group": ["a", "a", "a"]})
    table = reduce(dataset_of(tmp_path, frame))
    result = metric("roc_auc", table)
    assert result.value is None
    assert result.reason == (
        "ROC AUC is undefined for the whole dataset: all 3 rows have the negative label,"
        " and it needs positive and negative rows"
    )
    # scikit-learn 1.9 warns and returns NaN where govdsl reports an undefined value with its reason.
    with pytest.warns(UndefinedMetricWarning):
        assert math.isnan(skm.roc_auc_score(frame["label"], frame["score"]))


def test_one_class_keeps_probability_metrics_defined(tmp_path):
    frame = pd.DataFrame({"label": [1, 1, 1], "score": [0.2, 0.7, 1.0], "group": ["a", "a", "a"]})
    table = reduce(dataset_of(tmp_path, frame))
    assert metric("log_loss", table).value == pytest.approx(skm.log_loss(frame["label"], frame["score"], labels=[0, 1]))
    assert metric("brier_score", table).value == pytest.approx(skm.brier_score_loss(frame["label"], frame["score"], pos_label=1))
    assert metric("expected_calibration_error", table, bins=1).value == pytest.approx(1 - (0.2 + 0.7 + 1.0) / 3)


def test_group_with_one_class_is_undefined_in_difference(tmp_path):
    frame = pd.DataFrame({"label": [0, 1, 0, 0], "score": [0.1, 0.9, 0.3, 0.4], "group": ["a", "a", "b", "b"]})
    table = reduce(dataset_of(tmp_path, frame), ("group",))
    result = metric("roc_auc_difference", table)
    assert result.value is None
    assert result.reason == (
        "group=b: ROC AUC is undefined: all 2 rows have the negative label, and it needs positive and negative rows"
    )
    per_group = metric("roc_auc", table)
    assert group_value(per_group, ("a",), "roc_auc") == 1.0
    assert group_value(per_group, ("b",), "roc_auc") is None


def test_tied_scores_count_half(tmp_path):
    frame = pd.DataFrame({"label": [1, 0, 1, 0], "score": [0.5, 0.5, 0.5, 0.5], "group": ["a"] * 4})
    table = reduce(dataset_of(tmp_path, frame))
    assert metric("roc_auc", table).value == 0.5
    assert skm.roc_auc_score(frame["label"], frame["score"]) == 0.5


def test_log_loss_clips_certain_wrong_predictions(tmp_path):
    frame = pd.DataFrame({"label": [1, 0, 1, 0], "score": [0.0, 1.0, 1.0, 0.0], "group": ["a"] * 4})
    table = reduce(dataset_of(tmp_path, frame))
    result = metric("log_loss", table)
    assert math.isfinite(result.value)
    assert result.value == pytest.approx(-math.log(LOG_LOSS_EPSILON) / 2, rel=1e-12)
    assert result.value == pytest.approx(skm.log_loss(frame["label"], frame["score"]), rel=1e-12)
    assert result.details["clipping"] == [LOG_LOSS_EPSILON, 1 - LOG_LOSS_EPSILON]


def test_scores_on_bin_edges_fall_into_lower_bin(tmp_path):
    scores = np.round(np.arange(0, 1.0001, 0.05), 2)
    labels = (np.arange(len(scores)) % 3 == 0).astype(int)
    frame = pd.DataFrame({"label": labels, "score": scores, "group": "a"})
    result = metric("expected_calibration_error", reduce(dataset_of(tmp_path, frame)), bins=10)
    assert result.value == pytest.approx(reference_ece(labels, scores, 10, "uniform"), abs=1e-12)
    first = result.details["calibration"][0]
    assert (first["lower"], first["upper"], first["n"]) == (0.0, 0.1, 3)  # 0.0, 0.05 and 0.1


def test_constant_scores(tmp_path):
    frame = pd.DataFrame({"label": [1, 0, 0, 1, 0], "score": [0.3] * 5, "group": ["a"] * 5})
    table = reduce(dataset_of(tmp_path, frame))
    assert metric("roc_auc", table).value == 0.5
    result = metric("expected_calibration_error", table, strategy="quantile", bins=4)
    assert result.value == pytest.approx(abs(0.4 - 0.3))
    assert result.value == pytest.approx(reference_ece(frame["label"], frame["score"], 4, "quantile"))


def test_rows_without_label_or_score_are_left_out(tmp_path):
    csv_text = "label,score,group\n1,0.8,a\n,0.4,a\n0,,b\n0,0.3,b\n1, 0.6 ,\n"
    bundle = tmp_path / "bundle"
    write_bundle(tmp_path, pd.DataFrame({"label": [1], "score": [0.5], "group": ["a"]}))
    (bundle / "predictions.csv").write_text(csv_text, encoding="utf-8")
    table = reduce(load_bundle(bundle).datasets["predictions"], ("group",))
    assert table.rows_excluded == 2
    assert sorted(table.groups) == [("(missing)",), ("a",), ("b",)]
    assert table.overall.n == 3
    assert metric("roc_auc", table).overall_rates == {"roc_auc": 1.0}


def test_no_rows_makes_every_metric_undefined(tmp_path):
    bundle = write_bundle(tmp_path, pd.DataFrame({"label": [1], "score": [0.5], "group": ["a"]}))
    (bundle / "predictions.csv").write_text("label,score,group\n,0.5,a\n", encoding="utf-8")
    table = reduce(load_bundle(bundle).datasets["predictions"])
    assert table.rows_excluded == 1
    for name in ("roc_auc", "log_loss", "brier_score", "expected_calibration_error"):
        result = metric(name, table)
        assert result.value is None
        assert "it has no rows with a label and a score" in result.reason


@pytest.mark.parametrize(
    ("cell", "shown"), [("abc", "`abc`"), ("nan", "`nan`"), ("inf", "`inf`"), ("-inf", "`-inf`")]
)
def test_non_finite_score_is_invalid(tmp_path, cell, shown):
    bundle = write_bundle(tmp_path, pd.DataFrame({"label": [1], "score": [0.5], "group": ["a"]}))
    (bundle / "predictions.csv").write_text(f"label,score,group\n1,0.5,a\n0,{cell},a\n", encoding="utf-8")
    with pytest.raises(EvidenceInvalid) as raised:
        reduce(load_bundle(bundle).datasets["predictions"], probabilities=False)
    assert str(raised.value) == (
        f"column `score` of dataset `predictions` must hold finite numbers, but line 3 of `predictions.csv` holds {shown}"
    )


@pytest.mark.parametrize("score", [-0.01, 1.5])
def test_probability_outside_unit_interval_is_invalid(tmp_path, score):
    frame = pd.DataFrame({"label": [1, 0], "score": [0.5, score], "group": ["a", "a"]})
    dataset = dataset_of(tmp_path, frame)
    with pytest.raises(EvidenceInvalid, match=f"holds `{score}` on line 3"):
        reduce(dataset)
    expected = 0.0 if score > 0.5 else 1.0  # the negative row scores above or below the positive one
    assert metric("roc_auc", reduce(dataset, probabilities=False)).value == expected


def test_label_with_three_values_is_invalid(tmp_path):
    frame = pd.DataFrame({"label": [0, 1, 2], "score": [0.1, 0.2, 0.3], "group": ["a"] * 3})
    with pytest.raises(EvidenceInvalid, match="more than two distinct values"):
        reduce(dataset_of(tmp_path, frame))


def test_label_without_positive_value_is_invalid(tmp_path):
    frame = pd.DataFrame({"label": ["no", "maybe"], "score": [0.1, 0.2], "group": ["a", "a"]})
    with pytest.raises(EvidenceInvalid, match="positive_label `yes`"):
        reduce(dataset_of(tmp_path, frame, positive_label="yes"))


def test_label_values_written_differently_are_one_value(tmp_path):
    bundle = write_bundle(tmp_path, pd.DataFrame({"label": [1], "score": [0.5], "group": ["a"]}))
    (bundle / "predictions.csv").write_text("label,score,group\n1,0.9,a\n1.0,0.8,a\n 0 ,0.3,a\n", encoding="utf-8")
    table = reduce(load_bundle(bundle).datasets["predictions"])
    assert table.overall.to_dict() == {"positives": 2, "negatives": 1, "distinct_scores": 3}


def test_missing_declarations_are_missing_evidence(tmp_path):
    frame = pd.DataFrame({"label": [1, 0], "score": [0.5, 0.4], "group": ["a", "a"]})
    with pytest.raises(EvidenceMissing, match="declares no `positive_label`"):
        reduce(dataset_of(tmp_path / "one", frame, positive_label=None))
    with pytest.raises(EvidenceMissing, match="declares no sensitive feature `sex`"):
        reduce(dataset_of(tmp_path / "two", frame), ("sex",))


# Arguments.


@pytest.mark.parametrize(("arguments", "message"), [
    ({"bins": 0}, "argument `bins` of `expected_calibration_error` must be a whole number from 1 to 10,000, not `0`"),
    ({"bins": 2.5}, "not `2.5`"),
    ({"bins": 20_000}, "not `20000`"),
    ({"strategy": "equal"}, 'argument `strategy` of `expected_calibration_error` must be "uniform" or "quantile", not "equal"'),
])
def test_invalid_binning_arguments(tmp_path, arguments, message):
    frame = pd.DataFrame({"label": [1, 0], "score": [0.5, 0.4], "group": ["a", "a"]})
    table = reduce(dataset_of(tmp_path, frame))
    with pytest.raises(InvalidInputError) as raised:
        metric("expected_calibration_error", table, **arguments)
    assert message in raised.value.diagnostics[0].message
    assert raised.value.diagnostics[0].code == "E304"


def test_min_group_size_per_group(tmp_path):
    frame = pd.DataFrame({"label": [1, 0, 1, 0, 1, 0], "score": [0.9, 0.1, 0.8, 0.2, 0.3, 0.7], "group": list("aaaabb")})
    table = reduce(dataset_of(tmp_path, frame), ("group",))
    result = metric("roc_auc", table, min_group_size=3)
    assert group_value(result, ("a",), "roc_auc") == 1.0
    assert group_value(result, ("b",), "roc_auc") is None
    small = next(g for g in result.groups if g.key == ("b",))
    assert small.reasons["roc_auc"] == "ROC AUC is undefined: it has 2 rows, fewer than the minimum group size of 3"
    left_out = metric("roc_auc", table, min_group_size=3, exclude_small=True)
    assert [g.key for g in left_out.groups] == [("a",)]
    assert left_out.excluded == ((("b",), 2),)


def test_min_group_size_overall(tmp_path):
    frame = pd.DataFrame({"label": [1, 0], "score": [0.5, 0.4], "group": ["a", "a"]})
    result = metric("brier_score", reduce(dataset_of(tmp_path, frame)), min_group_size=5)
    assert result.value is None
    assert result.reason == "Brier score is undefined for the whole dataset: it has 2 rows, fewer than the minimum group size of 5"


def test_difference_needs_two_groups(tmp_path):
    frame = pd.DataFrame({"label": [1, 0], "score": [0.5, 0.4], "group": ["a", "a"]})
    result = metric("roc_auc_difference", reduce(dataset_of(tmp_path, frame), ("group",)))
    assert result.value is None
    assert result.reason == "fewer than two groups to compare by group (groups: group=a)"


# Through the CLI.


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def german_bundle(tmp_path: Path, **fields) -> Path:
    frame = pd.read_csv(GERMAN_BUNDLE / "predictions.csv")
    columns = ["good_credit", "score", "sex", "age_group", "duration_months"]
    return write_bundle(
        tmp_path, frame[columns], label_column="good_credit", sensitive_features=["sex", "age_group"], **fields
    )


def test_example_policy_on_german_credit(tmp_path):
    bundle = german_bundle(tmp_path)
    result = run("check", SCORES_DATA / "scores.gov", "--bundle", bundle, "--as-of", "2026-01-01", "--format", "json")
    assert result.exit_code in (0, 1), result.output
    results = json.loads(result.output)
    jsonschema.Draft202012Validator(json.loads(RESULTS_SCHEMA.read_text(encoding="utf-8"))).validate(results)
    checks = {c["id"]: c for control in results["controls"] for c in control["checks"]}
    frame = pd.read_csv(GERMAN_BUNDLE / "predictions.csv")
    auc = checks["score_quality.discrimination.overall"]
    assert auc["value"] == pytest.approx(skm.roc_auc_score(frame["good_credit"], frame["score"]), abs=1e-12)
    assert auc["details"]["score_column"] == "score"
    calibration = checks["score_quality.calibration.overall"]
    assert calibration["details"]["bins"] == 10
    assert calibration["details"]["strategy"] == "uniform"
    assert calibration["status"] in ("pass", "fail")
    per_group = checks["score_quality.discrimination.every_group"]
    assert {g["group"]["sex"] for g in per_group["groups"]} == {"female", "male"}
    assert per_group["groups"][0]["counts"].keys() == {"positives", "negatives", "distinct_scores"}


def test_text_report_shows_group_values(tmp_path):
    bundle = german_bundle(tmp_path)
    result = run("check", SCORES_DATA / "scores.gov", "--bundle", bundle, "--as-of", "2026-01-01")
    assert result.exit_code in (0, 1), result.output
    assert "roc_auc" in result.output
    assert "sex=female" in result.output
    assert "Traceback" not in result.output


def test_cli_stops_on_score_that_is_not_a_probability(tmp_path):
    bundle = german_bundle(tmp_path, score_column="duration_months")
    result = run("check", SCORES_DATA / "scores.gov", "--bundle", bundle)
    assert result.exit_code == 2
    assert "error[E410]" in result.output
    assert "need probabilities from 0 to 1, but column `duration_months`" in result.output
    assert "nothing was evaluated" in result.output


def test_cli_missing_score_column_is_error_status(tmp_path):
    frame = pd.DataFrame({"label": [1, 0], "score": [0.5, 0.4], "group": ["a", "a"]})
    bundle = write_bundle(tmp_path, frame, score_column=None)
    policy = tmp_path / "p.gov"
    policy.write_text(
        'policy p {\n  control c {\n    check roc_auc() >= 0.7\n    check roc_auc(score_column = "other") >= 0.7\n  }\n}\n',
        encoding="utf-8",
    )
    result = run("check", policy, "--bundle", bundle, "--format", "json")
    assert result.exit_code == 1
    first, second = json.loads(result.output)["controls"][0]["checks"]
    assert first["status"] == "error"
    assert "declares no `score_column`" in first["reason"]
    assert second["status"] == "error"
    assert "column `other` is not in `predictions.csv`" in second["reason"]


def test_cli_invalid_bins_exits_2(tmp_path):
    frame = pd.DataFrame({"label": [1, 0], "score": [0.5, 0.4], "group": ["a", "a"]})
    bundle = write_bundle(tmp_path, frame)
    policy = tmp_path / "p.gov"
    policy.write_text("policy p {\n  control c {\n    check expected_calibration_error(bins = 0) <= 0.1\n  }\n}\n", encoding="utf-8")
    result = run("check", policy, "--bundle", bundle)
    assert result.exit_code == 2
    assert "error[E304]" in result.output
    assert "Traceback" not in result.output


def test_score_column_argument_reads_another_column(tmp_path):
    frame = pd.DataFrame({"label": [1, 0, 1], "score": [0.9, 0.1, 0.8], "other": [0.1, 0.9, 0.2], "group": ["a"] * 3})
    bundle = write_bundle(tmp_path, frame)
    policy = tmp_path / "p.gov"
    policy.write_text(
        'policy p {\n  control c {\n    check declared: roc_auc() >= 0.9\n'
        '    check other: roc_auc(score_column = "other") <= 0.1\n  }\n}\n',
        encoding="utf-8",
    )
    result = run("check", policy, "--bundle", bundle, "--format", "json")
    assert result.exit_code == 0, result.output
    declared, other = json.loads(result.output)["controls"][0]["checks"]
    assert declared["value"] == 1.0
    assert other["value"] == 0.0
    assert other["details"]["score_column"] == "other"


def test_policies_compile_without_numeric_libraries(tmp_path):
    code = textwrap.dedent(
        """
        import sys
        from govdsl.cli import main
        try:
            main(['compile', sys.argv[1], sys.argv[2], '-o', sys.argv[3]])
        except SystemExit as exc:
            assert not exc.code, exc.code
        print(','.join(m for m in ('pandas', 'numpy', 'scipy', 'sklearn') if m in sys.modules))
        """
    )
    policies = [SCORES_DATA / "scores.gov", SCORES_DATA / "regression.gov"]
    result = subprocess.run(
        [sys.executable, "-c", code, *map(str, policies), str(tmp_path / "plan.json")],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_score_counts_combine_adds_counts():
    first = ScoreCounts(np.array([0.1, 0.5]), np.array([1, 0]), np.array([0, 2]))
    second = ScoreCounts(np.array([0.5, 0.9]), np.array([3, 1]), np.array([1, 0]))
    combined = ScoreCounts.combine([first, second, ScoreCounts.empty()])
    np.testing.assert_array_equal(combined.scores, [0.1, 0.5, 0.9])
    np.testing.assert_array_equal(combined.positives, [1, 3, 1])
    np.testing.assert_array_equal(combined.negatives, [0, 3, 0])


rows_of_scores = st.lists(
    st.tuples(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.5000001, 0.75, 0.9, 1.0]), st.integers(0, 1), st.integers(0, 3)),
    min_size=2,
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(rows_of_scores)
def test_counts_in_any_parts_match_sklearn(rows):
    """Rows split into arbitrary parts, each counted alone and then combined, give scikit-learn's values."""
    scores = np.array([row[0] for row in rows])
    labels = np.array([row[1] for row in rows])
    parts = [
        ScoreCounts(np.array([score]), np.array([label]), np.array([1 - label])) for score, label, _ in rows
    ]
    chunks: dict[int, list[ScoreCounts]] = {}
    for part, (_, _, chunk) in zip(parts, rows):
        chunks.setdefault(chunk, []).append(part)
    per_chunk = [ScoreCounts.combine(chunk_parts) for chunk_parts in chunks.values()]
    table = ScoreTable((), {(): ScoreCounts.combine(per_chunk)}, 0, "score")
    assert table.overall.n == len(rows)
    assert metric("brier_score", table).value == pytest.approx(skm.brier_score_loss(labels, scores, pos_label=1), abs=1e-12)
    assert metric("log_loss", table).value == pytest.approx(skm.log_loss(labels, scores, labels=[0, 1]), rel=1e-12)
    assert metric("expected_calibration_error", table, bins=4).value == pytest.approx(
        reference_ece(labels, scores, 4, "uniform"), abs=1e-12
    )
    if labels.min() == labels.max():
        assert metric("roc_auc", table).value is None
    else:
        assert metric("roc_auc", table).value == pytest.approx(skm.roc_auc_score(labels, scores), abs=1e-12)
