"""Regression metrics compared with scikit-learn on models fitted to real data and on random data, and their edge cases."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn import metrics as skm
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import cross_val_predict

from govdsl.cli import main
from govdsl.evidence import load_bundle
from govdsl.evidence.reductions import EvidenceInvalid, EvidenceMissing
from govdsl.evidence.score_reductions import reduce_regression_sums
from govdsl.metrics.registry import REGISTRY
from govdsl.metrics.regression import RegressionSums
from support import REPO, RESULTS_SCHEMA

ADULT = REPO / "tests" / "data" / "real" / "adult" / "predictions.csv"
GERMAN = REPO / "tests" / "data" / "real" / "german-credit" / "predictions.csv"
REGRESSION_POLICY = REPO / "tests" / "data" / "scores" / "regression.gov"

SKLEARN = {
    "mean_absolute_error": skm.mean_absolute_error,
    "mean_squared_error": skm.mean_squared_error,
    "root_mean_squared_error": skm.root_mean_squared_error,
    "r2_score": skm.r2_score,
}


def metric(name: str, table, **arguments):
    return REGISTRY[name].load()(table, arguments)


def group_value(result, key: tuple[str, ...], component: str):
    return next(g.rates[component] for g in result.groups if g.key == key)


def write_bundle(folder: Path, frame: pd.DataFrame, features=("group",), **fields) -> Path:
    """Write `frame` as a regression bundle: `target` is the label column, `prediction` the prediction column."""
    bundle = folder / "bundle"
    bundle.mkdir(parents=True)
    frame.to_csv(bundle / "predictions.csv", index=False)
    dataset = {
        "name": "predictions",
        "path": "predictions.csv",
        "role": "predictions",
        "label_column": "target",
        "prediction_column": "prediction",
        "sensitive_features": list(features),
        **fields,
    }
    dataset = {key: value for key, value in dataset.items() if value is not None}
    manifest = {
        "bundle_version": 1,
        "model": {"id": "toy", "name": "Toy", "version": "1", "owner": "tests", "task": "regression", "risk_tier": "high"},
        "datasets": [dataset],
    }
    (bundle / "bundle.yaml").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return bundle


def dataset_of(folder: Path, frame: pd.DataFrame, features=("group",), **fields):
    return load_bundle(write_bundle(folder, frame, features, **fields)).datasets["predictions"]


def reduce(dataset, features=(), chunk_rows=250_000):
    return reduce_regression_sums(dataset, tuple(features), chunk_rows)


# Real data: out-of-fold linear regression predictions.


def german_credit_amounts() -> pd.DataFrame:
    """Credit amounts of the German credit data with out-of-fold predictions from a linear regression."""
    frame = pd.read_csv(GERMAN)
    inputs = frame[["duration_months", "installment_rate", "age", "existing_credits", "people_liable", "residence_since"]]
    prediction = cross_val_predict(LinearRegression(), inputs, frame["credit_amount"], cv=5)
    return pd.DataFrame(
        {"target": frame["credit_amount"], "prediction": prediction, "sex": frame["sex"], "age_group": frame["age_group"]}
    )


def adult_hours() -> pd.DataFrame:
    """Weekly working hours of the Adult sample with out-of-fold predictions from a linear regression."""
    frame = pd.read_csv(ADULT)
    inputs = frame[["age", "education_num", "capital_gain", "capital_loss"]]
    prediction = cross_val_predict(LinearRegression(), inputs, frame["hr_per_week"], cv=5)
    return pd.DataFrame({"target": frame["hr_per_week"], "prediction": prediction, "sex": frame["sex"], "race": frame["race"]})


@pytest.fixture(scope="module", params=["german", "adult"])
def real(request, tmp_path_factory):
    frame = german_credit_amounts() if request.param == "german" else adult_hours()
    features = tuple(column for column in frame.columns if column not in ("target", "prediction"))
    dataset = dataset_of(tmp_path_factory.mktemp(request.param), frame, features)
    return dataset, frame, features


@pytest.mark.parametrize("name", sorted(SKLEARN))
def test_overall_matches_sklearn_on_real_data(real, name):
    dataset, frame, _ = real
    result = metric(name, reduce(dataset, chunk_rows=301))
    assert result.value == pytest.approx(SKLEARN[name](frame["target"], frame["prediction"]), rel=1e-10)


@pytest.mark.parametrize("name", sorted(SKLEARN))
def test_groups_match_sklearn_on_real_data(real, name):
    dataset, frame, features = real
    result = metric(name, reduce(dataset, features))
    for key, rows in frame.groupby(list(features)):
        value = group_value(result, tuple(map(str, key)), name)
        if name == "r2_score" and rows["target"].nunique() == 1:
            assert value is None
            continue
        assert value == pytest.approx(SKLEARN[name](rows["target"], rows["prediction"]), rel=1e-10)


@pytest.mark.parametrize("name", ["mean_absolute_error", "root_mean_squared_error"])
def test_difference_matches_sklearn_on_german(tmp_path, name):
    frame = german_credit_amounts()
    dataset = dataset_of(tmp_path, frame, ("sex", "age_group"))
    per_sex = [SKLEARN[name](rows["target"], rows["prediction"]) for _, rows in frame.groupby("sex")]
    result = metric(f"{name}_difference", reduce(dataset, ("sex",)))
    assert result.value == pytest.approx(max(per_sex) - min(per_sex), rel=1e-10)
    assert set(result.extremes) == {name}


# Random data.


@pytest.mark.parametrize("seed", range(6))
def test_random_data_matches_sklearn(tmp_path, seed):
    rng = np.random.default_rng(seed)
    size = int(rng.integers(20, 3000))
    # A large offset with a small spread tests the stability of the target's variance across chunks.
    offset = [0.0, 1e6, -50.0][seed % 3]
    target = offset + rng.normal(0, 5, size)
    frame = pd.DataFrame(
        {"target": target, "prediction": target + rng.normal(0, 2, size), "group": rng.choice(["a", "b", "c"], size)}
    )
    dataset = dataset_of(tmp_path, frame)
    table = reduce(dataset, ("group",), chunk_rows=int(rng.integers(3, 400)))
    for name, reference in SKLEARN.items():
        result = metric(name, table)
        assert result.overall_rates[name] == pytest.approx(reference(frame["target"], frame["prediction"]), rel=1e-9)
        for group, rows in frame.groupby("group"):
            expected = reference(rows["target"], rows["prediction"])
            assert group_value(result, (group,), name) == pytest.approx(expected, rel=1e-9)


def test_merge_equals_sums_of_whole():
    rng = np.random.default_rng(7)
    values = rng.normal(100, 3, 50)
    errors = rng.normal(0, 1, 50)

    def sums(target, error):
        mean = target.mean()
        return RegressionSums(
            len(target), np.abs(error).sum(), (error**2).sum(), mean, ((target - mean) ** 2).sum(), target.min(), target.max()
        )

    merged = sums(values[:13], errors[:13]).merge(sums(values[13:], errors[13:]))
    whole = sums(values, errors)
    assert merged.n == whole.n
    assert merged.target_mean == pytest.approx(whole.target_mean, rel=1e-14)
    assert merged.target_deviation == pytest.approx(whole.target_deviation, rel=1e-12)
    assert merged.squared_error == pytest.approx(whole.squared_error, rel=1e-12)
    assert (merged.target_min, merged.target_max) == (whole.target_min, whole.target_max)
    assert RegressionSums().merge(whole) == whole


def test_parquet_gives_the_same_sums_as_csv(tmp_path):
    frame = german_credit_amounts()
    frame.loc[[4], "target"] = None
    csv_table = reduce(dataset_of(tmp_path / "csv", frame, ("sex", "age_group")), ("sex",))
    bundle = write_bundle(tmp_path / "parquet", frame.iloc[:1], ("sex", "age_group"))
    frame.to_parquet(bundle / "predictions.parquet", index=False, row_group_size=128)
    text = (bundle / "bundle.yaml").read_text(encoding="utf-8").replace("predictions.csv", "predictions.parquet")
    (bundle / "bundle.yaml").write_text(text, encoding="utf-8")
    parquet_table = reduce(load_bundle(bundle).datasets["predictions"], ("sex",), chunk_rows=100)
    assert parquet_table.rows_excluded == csv_table.rows_excluded == 1
    for key, sums in csv_table.groups.items():
        assert parquet_table.groups[key].n == sums.n
        assert parquet_table.groups[key].squared_error == pytest.approx(sums.squared_error, rel=1e-12)
        assert parquet_table.groups[key].target_deviation == pytest.approx(sums.target_deviation, rel=1e-12)


# Edge cases.


def test_constant_target_makes_r2_undefined(tmp_path):
    frame = pd.DataFrame({"target": [3.0, 3.0, 3.0], "prediction": [3.0, 2.5, 4.0], "group": ["a"] * 3})
    table = reduce(dataset_of(tmp_path, frame))
    result = metric("r2_score", table)
    assert result.value is None
    assert result.reason == (
        "R² is undefined for the whole dataset: the target is constant (3 in all 3 rows), so there is no variance to explain"
    )
    # scikit-learn returns 0.0 here (1.0 for a perfect prediction), where govdsl reports no value.
    assert skm.r2_score(frame["target"], frame["prediction"]) == 0.0
    assert metric("mean_absolute_error", table).value == pytest.approx(0.5)


def test_one_row_group(tmp_path):
    frame = pd.DataFrame({"target": [1.0, 2.0, 4.0], "prediction": [1.5, 2.0, 3.0], "group": ["a", "a", "b"]})
    result = metric("r2_score", reduce(dataset_of(tmp_path, frame), ("group",)))
    assert group_value(result, ("b",), "r2_score") is None
    assert group_value(result, ("a",), "r2_score") == pytest.approx(skm.r2_score([1.0, 2.0], [1.5, 2.0]))


def test_negative_r2_for_worse_than_mean(tmp_path):
    frame = pd.DataFrame({"target": [1.0, 2.0, 3.0], "prediction": [3.0, 2.0, 1.0], "group": ["a"] * 3})
    result = metric("r2_score", reduce(dataset_of(tmp_path, frame)))
    assert result.value == pytest.approx(-3.0)
    assert result.value == pytest.approx(skm.r2_score(frame["target"], frame["prediction"]))


def test_rows_without_target_or_prediction_are_left_out(tmp_path):
    bundle = write_bundle(tmp_path, pd.DataFrame({"target": [1.0], "prediction": [1.0], "group": ["a"]}))
    (bundle / "predictions.csv").write_text(
        "target,prediction,group\n1,2,a\n,3,a\n4,,b\n 5 , 5.5 ,\n", encoding="utf-8"
    )
    table = reduce(load_bundle(bundle).datasets["predictions"], ("group",))
    assert table.rows_excluded == 2
    assert sorted(table.groups) == [("(missing)",), ("a",)]
    assert metric("mean_absolute_error", table).overall_rates == {"mean_absolute_error": pytest.approx(0.75)}


def test_no_rows_is_undefined(tmp_path):
    bundle = write_bundle(tmp_path, pd.DataFrame({"target": [1.0], "prediction": [1.0], "group": ["a"]}))
    (bundle / "predictions.csv").write_text("target,prediction,group\n,1,a\n", encoding="utf-8")
    table = reduce(load_bundle(bundle).datasets["predictions"])
    for name in SKLEARN:
        result = metric(name, table)
        assert result.value is None
        assert "it has no rows with a target and a prediction" in result.reason


@pytest.mark.parametrize(("cell", "column"), [("abc", "target"), ("nan", "prediction"), ("inf", "target")])
def test_non_finite_value_is_invalid(tmp_path, cell, column):
    bundle = write_bundle(tmp_path, pd.DataFrame({"target": [1.0], "prediction": [1.0], "group": ["a"]}))
    row = {"target": "2", "prediction": "2"}
    row[column] = cell
    (bundle / "predictions.csv").write_text(
        f"target,prediction,group\n1,1,a\n{row['target']},{row['prediction']},a\n", encoding="utf-8"
    )
    with pytest.raises(EvidenceInvalid) as raised:
        reduce(load_bundle(bundle).datasets["predictions"])
    assert str(raised.value) == (
        f"column `{column}` of dataset `predictions` must hold finite numbers, but line 3 of `predictions.csv` holds `{cell}`"
    )
    assert "`label_column` as the target" in raised.value.help


def test_invalid_value_in_later_chunk_names_its_line(tmp_path):
    rows = "".join(f"{i},{i},a\n" for i in range(40)) + "x,1,a\n"
    bundle = write_bundle(tmp_path, pd.DataFrame({"target": [1.0], "prediction": [1.0], "group": ["a"]}))
    (bundle / "predictions.csv").write_text("target,prediction,group\n" + rows, encoding="utf-8")
    with pytest.raises(EvidenceInvalid, match="line 42 of `predictions.csv` holds `x`"):
        reduce(load_bundle(bundle).datasets["predictions"], chunk_rows=7)


def test_missing_declarations_are_missing_evidence(tmp_path):
    frame = pd.DataFrame({"target": [1.0, 2.0], "prediction": [1.0, 2.5], "group": ["a", "a"]})
    with pytest.raises(EvidenceMissing, match="declares no `prediction_column`, which regression metrics need"):
        reduce(dataset_of(tmp_path / "one", frame, prediction_column=None))
    with pytest.raises(EvidenceMissing, match="declares no sensitive feature `sex`"):
        reduce(dataset_of(tmp_path / "two", frame), ("sex",))


def test_min_group_size(tmp_path):
    frame = pd.DataFrame({"target": [1.0, 2.0, 3.0, 4.0, 5.0], "prediction": [1.0, 2.0, 3.5, 4.0, 6.0], "group": list("aaabb")})
    table = reduce(dataset_of(tmp_path, frame), ("group",))
    result = metric("mean_absolute_error_difference", table, min_group_size=3)
    assert result.value is None
    assert result.reason == "groups below the minimum size of 3 rows: group=b (n = 2)"
    result = metric("mean_absolute_error_difference", table, min_group_size=3, exclude_small=True)
    assert result.value is None
    assert result.reason == "fewer than two groups to compare by group (groups: group=a)"
    per_group = metric("mean_absolute_error", table, min_group_size=3)
    assert group_value(per_group, ("b",), "mean_absolute_error") is None
    assert group_value(per_group, ("a",), "mean_absolute_error") == pytest.approx(0.5 / 3)


# Through the CLI.


def test_example_policy_on_german_credit(tmp_path):
    frame = german_credit_amounts()
    bundle = write_bundle(tmp_path, frame, ("sex", "age_group"))
    result = CliRunner().invoke(
        main, ["check", str(REGRESSION_POLICY), "--bundle", str(bundle), "--as-of", "2026-01-01", "--format", "json"]
    )
    assert result.exit_code in (0, 1), result.output
    results = json.loads(result.output)
    jsonschema.Draft202012Validator(json.loads(RESULTS_SCHEMA.read_text(encoding="utf-8"))).validate(results)
    checks = {c["id"]: c for control in results["controls"] for c in control["checks"]}
    explained = checks["regression_quality.accuracy.explained"]
    assert explained["value"] == pytest.approx(skm.r2_score(frame["target"], frame["prediction"]), rel=1e-10)
    assert explained["details"] == {"target_column": "target", "prediction_column": "prediction"}
    every_group = checks["regression_quality.accuracy.every_group"]
    for group in every_group["groups"]:
        rows = frame[frame["sex"] == group["group"]["sex"]]
        expected = skm.root_mean_squared_error(rows["target"], rows["prediction"])
        assert group["values"]["root_mean_squared_error"] == pytest.approx(expected, rel=1e-10)
        assert group["counts"] == {"n": len(rows)}


def test_text_report(tmp_path):
    bundle = write_bundle(tmp_path, german_credit_amounts(), ("sex", "age_group"))
    result = CliRunner().invoke(main, ["check", str(REGRESSION_POLICY), "--bundle", str(bundle), "--as-of", "2026-01-01"])
    assert result.exit_code in (0, 1), result.output
    assert "root_mean_squared_error" in result.output
    assert "sex=female" in result.output


def test_cli_stops_on_text_target(tmp_path):
    frame = pd.DataFrame({"target": ["high", "low"], "prediction": [1.0, 2.0], "group": ["a", "b"]})
    bundle = write_bundle(tmp_path, frame)
    result = CliRunner().invoke(main, ["check", str(REGRESSION_POLICY), "--bundle", str(bundle)])
    assert result.exit_code == 2
    assert "error[E410]" in result.output
    assert "line 2 of `predictions.csv` holds `high`" in result.output
