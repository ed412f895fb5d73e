"""Drift metrics compared with scipy on real and random data, their edge cases, and their errors.

The references are computed from the raw values with numpy and scipy (scipy.stats
ks_2samp, chi2_contingency, wasserstein_distance; scipy.spatial.distance
jensenshannon; scipy.special rel_entr for PSI), never from govdsl's value counts.
"""

from __future__ import annotations

import datetime
import json
import math
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial.distance import jensenshannon
from scipy.special import rel_entr

from govdsl.cli import main
from govdsl.compiler import compile_policies
from govdsl.compiler.plan import ReductionSpec
from govdsl.engine.evaluate import evaluate
from govdsl.errors import InvalidInputError
from govdsl.evidence import load_bundle
from govdsl.evidence.histograms import coarsen, reduce_drift, round_significant
from govdsl.evidence.reductions import EvidenceInvalid, EvidenceMissing
from govdsl.metrics.drift import EXACT_KS_MAX_VALUES, MISSING_BIN
from govdsl.metrics.registry import REGISTRY
from support import COMPAS_BUNDLE, REPO, write_policy

DRIFT_BUNDLE = REPO / "tests" / "data" / "drift"
ADULT = REPO / "tests" / "data" / "real" / "adult" / "predictions.csv"
TOLERANCE = 1e-12

DRIFT_METRICS = sorted(name for name, declaration in REGISTRY.items() if declaration.family == "drift")


# Helpers: a bundle with a reference and a current dataset, and the table of its reduction.


def write_bundle(folder: Path, reference: str, current: str, features: dict[str, str], current_features=None) -> Path:
    """Write a bundle with `reference.csv` and `current.csv`; `features` is declared on the reference."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "reference.csv").write_text(reference, encoding="utf-8")
    (folder / "current.csv").write_text(current, encoding="utf-8")

    def block(declared):
        if not declared:
            return ""
        return "    features:\n" + "".join(f"      {column}: {kind}\n" for column, kind in declared.items())

    (folder / "bundle.yaml").write_text(
        "bundle_version: 1\n"
        "model: {id: toy, name: Toy, version: '1', owner: tests, task: binary_classification, risk_tier: high}\n"
        "datasets:\n"
        "  - name: reference\n    path: reference.csv\n    role: reference\n"
        + block(features)
        + "  - name: current\n    path: current.csv\n    role: current\n"
        + block(current_features),
        encoding="utf-8",
    )
    return folder


def frame_csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, lineterminator="\n")


def spec_for(columns) -> ReductionSpec:
    return ReductionSpec("drift", "drift_histograms", None, (), ("reference", "current"), (("features", tuple(columns)),))


def reduce_bundle(folder: Path, columns, chunk_rows: int = 250_000, **options):
    bundle = load_bundle(folder)
    datasets = {"reference": bundle.datasets["reference"], "current": bundle.datasets["current"]}
    return reduce_drift(datasets, spec_for(columns), chunk_rows, **options)


def table_of(tmp_path, reference: pd.DataFrame, current: pd.DataFrame, features: dict[str, str], **options):
    folder = write_bundle(tmp_path / "bundle", frame_csv(reference), frame_csv(current), features)
    return reduce_bundle(folder, list(features), **options)


def metric(name: str, table, **arguments):
    return REGISTRY[name].load()(table, arguments)


def value(name: str, table, **arguments) -> float | None:
    return metric(name, table, **arguments).value


# Independent references, from raw values.


def reference_edges(reference: np.ndarray, bins: int, binning: str) -> np.ndarray:
    if binning == "quantile":
        return np.unique(np.quantile(reference, np.arange(1, bins) / bins))
    return np.unique(reference.min() + (reference.max() - reference.min()) * np.arange(1, bins) / bins)


def reference_histograms(reference: pd.Series, current: pd.Series, kind: str, bins=10, binning="quantile"):
    """Return the reference and current counts per bin (right-closed, open outer bins), with a missing bin."""
    ref_values, cur_values = reference.dropna(), current.dropna()
    if kind == "numeric":
        ref_values = ref_values.to_numpy(float)
        cur_values = cur_values.to_numpy(float)
        edges = reference_edges(ref_values, bins, binning) if len(ref_values) else np.empty(0)
        ref_counts = np.bincount(np.searchsorted(edges, ref_values, side="left"), minlength=len(edges) + 1)
        cur_counts = np.bincount(np.searchsorted(edges, cur_values, side="left"), minlength=len(edges) + 1)
    else:
        categories = sorted(set(ref_values.astype(str)) | set(cur_values.astype(str)))
        ref_counts = ref_values.astype(str).value_counts().reindex(categories, fill_value=0).to_numpy()
        cur_counts = cur_values.astype(str).value_counts().reindex(categories, fill_value=0).to_numpy()
    ref_missing, cur_missing = int(reference.isna().sum()), int(current.isna().sum())
    if ref_missing or cur_missing:
        ref_counts = np.append(ref_counts, ref_missing)
        cur_counts = np.append(cur_counts, cur_missing)
    return ref_counts.astype(float), cur_counts.astype(float)


def reference_psi(ref_counts, cur_counts, epsilon=1e-4) -> float:
    r = ref_counts / ref_counts.sum()
    c = cur_counts / cur_counts.sum()
    r = np.where(r == 0, epsilon, r)
    c = np.where(c == 0, epsilon, c)
    # rel_entr(c, r) + rel_entr(r, c) = c ln(c/r) + r ln(r/c) = (c - r) ln(c/r)
    return float(np.sum(rel_entr(c, r) + rel_entr(r, c)))


def reference_chi_square(ref_counts, cur_counts):
    table = np.vstack([ref_counts, cur_counts])
    table = table[:, table.sum(axis=0) > 0]
    result = stats.chi2_contingency(table, correction=False)
    return float(result.statistic), float(result.pvalue)


def reference_all(reference: pd.Series, current: pd.Series, kind: str, bins=10, binning="quantile") -> dict:
    """Every drift statistic of one feature, from the raw values."""
    ref_counts, cur_counts = reference_histograms(reference, current, kind, bins, binning)
    chi_statistic, chi_p = reference_chi_square(ref_counts, cur_counts)
    expected = {
        "psi": reference_psi(ref_counts, cur_counts),
        "jensen_shannon_distance": float(jensenshannon(ref_counts, cur_counts, base=2)),
        "chi_square_statistic": chi_statistic,
        "chi_square_p_value": chi_p,
        "missing_rate_change": abs(current.isna().mean() - reference.isna().mean()),
    }
    if kind == "numeric":
        ref_values, cur_values = reference.dropna().to_numpy(float), current.dropna().to_numpy(float)
        ks = stats.ks_2samp(ref_values, cur_values)
        expected["ks_statistic"] = float(ks.statistic)
        expected["ks_p_value"] = float(ks.pvalue)
        expected["normalized_wasserstein_distance"] = float(
            stats.wasserstein_distance(ref_values, cur_values) / np.std(ref_values)
        )
    return expected


def assert_matches(table, column: str, expected: dict, **arguments) -> None:
    for name, reference in expected.items():
        result = metric(name, table, feature=column, **arguments)
        assert result.value is not None, (column, name, result.reason)
        assert result.value == pytest.approx(reference, rel=1e-9, abs=TOLERANCE), (column, name)


# Real data: Adult (tests/data/real/adult) and COMPAS (examples/compas).

ADULT_FEATURES = {
    "age": "numeric",
    "fnlwgt": "numeric",
    "education_num": "numeric",
    "capital_gain": "numeric",
    "hr_per_week": "numeric",
    "score": "numeric",
    "race": "categorical",
    "marital": "categorical",
    "occupation": "categorical",
    "type_employer": "categorical",
}


@pytest.fixture(scope="module")
def adult():
    return pd.read_csv(ADULT, dtype={"score": str})


def adult_split(adult: pd.DataFrame, how: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    if how == "halves":  # rows in file order: little drift
        return adult.iloc[:5000], adult.iloc[5000:]
    if how == "sex":  # men as reference, women as current: strong drift
        return adult[adult["sex"] == "Male"], adult[adult["sex"] == "Female"]
    return adult[adult["age"] < 40], adult[adult["age"] >= 40]


@pytest.mark.parametrize("how", ["halves", "sex", "age"])
def test_adult_matches_scipy(tmp_path, adult, how):
    reference, current = adult_split(adult, how)
    table = table_of(tmp_path, reference[list(ADULT_FEATURES)], current[list(ADULT_FEATURES)], ADULT_FEATURES)
    for column, kind in ADULT_FEATURES.items():
        expected = reference_all(reference[column].astype(float if kind == "numeric" else str), current[column].astype(float if kind == "numeric" else str), kind)
        assert_matches(table, column, expected)


@pytest.mark.parametrize(("bins", "binning"), [(5, "quantile"), (20, "quantile"), (10, "equal_width"), (37, "equal_width")])
def test_adult_binning_options_match(tmp_path, adult, bins, binning):
    reference, current = adult_split(adult, "sex")
    columns = ["age", "fnlwgt", "capital_gain", "score"]
    table = table_of(tmp_path, reference[columns], current[columns], {c: "numeric" for c in columns})
    for column in columns:
        ref_counts, cur_counts = reference_histograms(
            reference[column].astype(float), current[column].astype(float), "numeric", bins, binning
        )
        expected = {
            "psi": reference_psi(ref_counts, cur_counts),
            "jensen_shannon_distance": float(jensenshannon(ref_counts, cur_counts, base=2)),
            "chi_square_statistic": reference_chi_square(ref_counts, cur_counts)[0],
        }
        assert_matches(table, column, expected, bins=bins, binning=binning)
        details = metric("psi", table, feature=column, bins=bins, binning=binning).details
        assert details["binning"] == binning
        assert details["bins"] == bins
        assert details["edges"] == pytest.approx(list(reference_edges(reference[column].to_numpy(float), bins, binning)))


def test_compas_by_race_matches_scipy(tmp_path):
    frame = pd.read_csv(COMPAS_BUNDLE / "predictions.csv")
    features = {"decile_score": "numeric", "two_year_recid": "numeric", "age_cat": "categorical", "sex": "categorical", "score_text": "categorical"}
    reference = frame[frame["race"] == "Caucasian"][list(features)]
    current = frame[frame["race"] == "African-American"][list(features)]
    table = table_of(tmp_path, reference, current, features)
    for column, kind in features.items():
        cast = float if kind == "numeric" else str
        assert_matches(table, column, reference_all(reference[column].astype(cast), current[column].astype(cast), kind))
    assert value("ks_statistic", table, feature="decile_score") > 0.2
    assert value("chi_square_p_value", table, feature="score_text") < 1e-10


def test_drift_bundle_finds_the_planted_changes():
    table = reduce_bundle(DRIFT_BUNDLE, ["age", "hr_per_week", "type_employer", "education_num", "sex"])
    # The current rows favor people aged 45 or more.
    assert value("ks_p_value", table, feature="age") < 1e-10
    assert value("psi", table, feature="age") > 0.1
    # hr_per_week lost 10% of its values at random: the missing bin moves PSI; KS on the rest does not react.
    assert value("missing_rate_change", table, feature="hr_per_week") == pytest.approx(0.1, abs=TOLERANCE)
    assert value("psi", table, feature="hr_per_week") > 0.5
    assert value("ks_p_value", table, feature="hr_per_week") > 0.1
    psi_details = metric("psi", table, feature="hr_per_week").details
    assert psi_details["histogram"][-1] == {"bin": MISSING_BIN, "reference": 0, "current": 200}
    # Self-emp-inc is a category only the current data has.
    bins = {b["bin"]: b for b in metric("psi", table, feature="type_employer").details["histogram"]}
    assert bins["Self-emp-inc"]["reference"] == 0
    assert bins["Self-emp-inc"]["current"] > 0
    assert value("chi_square_p_value", table, feature="type_employer") < 1e-6
    # Unchanged columns stay calm.
    assert value("psi", table, feature="education_num") < 0.05
    assert value("ks_p_value", table, feature="education_num") > 0.05
    assert value("psi", table, feature="sex") < 0.02


def test_drift_bundle_matches_scipy():
    reference = pd.read_csv(DRIFT_BUNDLE / "reference.csv", dtype={"score": str})
    current = pd.read_csv(DRIFT_BUNDLE / "current.csv", dtype={"score": str})
    features = dict(load_bundle(DRIFT_BUNDLE).datasets["reference"].feature_types)
    table = reduce_bundle(DRIFT_BUNDLE, list(features))
    for column, kind in features.items():
        ref, cur = reference[column], current[column]
        ref = ref.astype(float) if kind == "numeric" else ref.where(ref.isna(), ref.astype(str))
        cur = cur.astype(float) if kind == "numeric" else cur.where(cur.isna(), cur.astype(str))
        assert_matches(table, column, reference_all(ref, cur, kind))


# Random data, including ties, missing values and the asymptotic KS p-value.


def random_frames(seed: int, size_ref: int, size_cur: int):
    rng = np.random.default_rng(seed)
    shift = rng.uniform(0, 0.5)
    reference = pd.DataFrame(
        {
            "x": rng.normal(0, 1, size_ref),
            "k": rng.integers(0, 8, size_ref).astype(float),  # many ties
            "c": rng.choice(list("abcde"), size_ref, p=[0.4, 0.3, 0.15, 0.1, 0.05]),
        }
    )
    current = pd.DataFrame(
        {
            "x": rng.normal(shift, 1 + shift, size_cur),
            "k": rng.integers(0, 9, size_cur).astype(float),
            "c": rng.choice(list("abcdef"), size_cur),
        }
    )
    for frame in (reference, current):
        for column in ("x", "c"):
            frame.loc[rng.random(len(frame)) < rng.uniform(0, 0.2), column] = np.nan
    return reference, current


@pytest.mark.parametrize("seed", range(6))
def test_random_matches_scipy(tmp_path, seed):
    rng = np.random.default_rng(100 + seed)
    reference, current = random_frames(seed, int(rng.integers(20, 3000)), int(rng.integers(20, 3000)))
    features = {"x": "numeric", "k": "numeric", "c": "categorical"}
    table = table_of(tmp_path, reference, current, features, chunk_rows=int(rng.integers(50, 500)))
    for column, kind in features.items():
        assert_matches(table, column, reference_all(reference[column], current[column], kind))


def test_asymptotic_ks_p_value_matches_scipy(tmp_path):
    rng = np.random.default_rng(5)
    reference = pd.DataFrame({"x": rng.normal(0, 1, 12_000)})
    current = pd.DataFrame({"x": rng.normal(0.03, 1, 15_000)})
    table = table_of(tmp_path, reference, current, {"x": "numeric"})
    expected = stats.ks_2samp(reference["x"], current["x"])  # method "auto" is asymptotic at this size
    result = metric("ks_p_value", table, feature="x")
    assert result.details["p_value_method"] == "asymptotic"
    assert result.value == pytest.approx(expected.pvalue, rel=1e-9)
    assert value("ks_statistic", table, feature="x") == pytest.approx(expected.statistic, abs=TOLERANCE)


def test_exact_ks_p_value_at_the_limit(tmp_path):
    rng = np.random.default_rng(6)
    reference = pd.DataFrame({"x": rng.integers(0, 50, EXACT_KS_MAX_VALUES).astype(float)})
    current = pd.DataFrame({"x": rng.integers(0, 51, 3000).astype(float)})
    table = table_of(tmp_path, reference, current, {"x": "numeric"})
    result = metric("ks_p_value", table, feature="x")
    assert result.details["p_value_method"] == "exact"
    assert result.value == pytest.approx(stats.ks_2samp(reference["x"], current["x"]).pvalue, rel=1e-9)


def test_chunk_size_does_not_change_values(tmp_path):
    reference, current = random_frames(11, 300, 250)
    features = {"x": "numeric", "k": "numeric", "c": "categorical"}
    whole = table_of(tmp_path / "a", reference, current, features)
    chunked = table_of(tmp_path / "b", reference, current, features, chunk_rows=7)
    for name in DRIFT_METRICS:
        if name.endswith("_per_feature") or name == "drifted_share":
            continue
        for column in features:
            expected = metric(name, whole, feature=column)
            if expected.value is None:  # the Kolmogorov-Smirnov test of the categorical column
                assert metric(name, chunked, feature=column).reason == expected.reason
                continue
            assert metric(name, chunked, feature=column).value == pytest.approx(
                expected.value, rel=1e-12, abs=1e-15
            ), (name, column)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(-5, 5), min_size=1, max_size=60),
    st.lists(st.integers(-5, 8), min_size=1, max_size=60),
)
def test_ks_and_wasserstein_on_ties_property(tmp_path_factory, reference_values, current_values):
    folder = tmp_path_factory.mktemp("ties")
    reference = pd.DataFrame({"v": reference_values})
    current = pd.DataFrame({"v": current_values})
    table = table_of(folder, reference, current, {"v": "numeric"})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        expected = stats.ks_2samp(reference_values, current_values)
    assert value("ks_statistic", table, feature="v") == pytest.approx(expected.statistic, abs=TOLERANCE)
    p_value = metric("ks_p_value", table, feature="v")
    assert p_value.value == pytest.approx(expected.pvalue, rel=1e-9, abs=TOLERANCE)
    # For some sizes scipy's exact computation fails, and both fall back to the asymptotic distribution.
    fell_back = any("Switching to" in str(w.message) for w in caught)
    assert p_value.details["p_value_method"] == ("asymptotic" if fell_back else "exact")
    deviation = np.std(reference_values)
    wasserstein = value("normalized_wasserstein_distance", table, feature="v")
    if deviation == 0:
        assert wasserstein is None
    else:
        assert wasserstein == pytest.approx(stats.wasserstein_distance(reference_values, current_values) / deviation)
    assert 0 <= value("jensen_shannon_distance", table, feature="v") <= 1
    assert value("psi", table, feature="v") >= 0


# Rounding when a numeric column has more distinct values than the reduction keeps.


def test_round_significant():
    values = np.array([0.0, 123456.7, -0.000123456, 9.9999996, 1.5e-310])
    assert list(round_significant(values, 3)) == [0.0, 123000.0, -0.000123, 10.0, 0.0]


def test_coarsen_depends_only_on_exact_value():
    values = np.random.default_rng(1).lognormal(0, 3, 2000)
    direct = coarsen(values, None, 3)
    assert np.array_equal(coarsen(coarsen(values, None, 5), 5, 3), direct)
    assert np.array_equal(coarsen(coarsen(values, None, 6), 6, 3), direct)
    # Monotone: sorting before or after rounding gives the same order.
    assert np.all(np.diff(coarsen(np.sort(values), None, 3)) >= 0)


def test_rounding_keeps_ks_and_wasserstein_within_bounds(tmp_path):
    rng = np.random.default_rng(3)
    reference = pd.DataFrame({"x": rng.lognormal(0, 1, 4000)})
    current = pd.DataFrame({"x": rng.lognormal(0.1, 1, 3000)})
    table = table_of(tmp_path, reference, current, {"x": "numeric"}, chunk_rows=500, max_distinct=300)
    pair = table.columns["x"]
    assert pair.reference.digits == pair.current.digits
    assert len(pair.reference.values) <= 300
    ks = metric("ks_statistic", table, feature="x")
    assert ks.details["rounded_to_significant_digits"] == pair.reference.digits
    exact = stats.ks_2samp(reference["x"], current["x"]).statistic
    assert abs(ks.value - exact) <= ks.details["statistic_error_bound"] + TOLERANCE
    wasserstein = metric("normalized_wasserstein_distance", table, feature="x")
    exact_w = stats.wasserstein_distance(reference["x"], current["x"]) / np.std(reference["x"])
    assert abs(wasserstein.value - exact_w) <= wasserstein.details["error_bound"] + TOLERANCE
    # The mean and variance behind the normalization stay exact.
    assert math.sqrt(pair.reference.variance) == pytest.approx(np.std(reference["x"]), rel=1e-12)


# Edge cases, with values worked out by hand.


def small_table(tmp_path, reference: str, current: str, features=None):
    features = features or {"v": "numeric"}
    return reduce_bundle(write_bundle(tmp_path / "bundle", reference, current, features), list(features))


def test_constant_equal_columns(tmp_path):
    table = small_table(tmp_path, "v\n3\n3\n3\n", "v\n3\n3\n")
    assert value("psi", table, feature="v") == 0
    assert value("jensen_shannon_distance", table, feature="v") == 0
    assert value("chi_square_statistic", table, feature="v") == 0
    assert value("chi_square_p_value", table, feature="v") == 1
    assert value("ks_statistic", table, feature="v") == 0
    assert value("ks_p_value", table, feature="v") == 1
    assert value("missing_rate_change", table, feature="v") == 0
    wasserstein = metric("normalized_wasserstein_distance", table, feature="v")
    assert wasserstein.value is None  # 0/0: undefined, not 0
    assert "standard deviation is 0" in wasserstein.reason


def test_constant_different_columns(tmp_path):
    table = small_table(tmp_path, "v\n1\n1\n", "v\n2\n2\n2\n")
    epsilon = 1e-4
    # Bins (-inf, 1] and (1, inf): reference shares 1 and 0, current 0 and 1.
    assert value("psi", table, feature="v") == pytest.approx(2 * (1 - epsilon) * math.log(1 / epsilon))
    assert value("jensen_shannon_distance", table, feature="v") == pytest.approx(1.0)
    assert value("ks_statistic", table, feature="v") == 1
    assert value("normalized_wasserstein_distance", table, feature="v") is None


def test_disjoint_distributions(tmp_path):
    reference = "v,c\n" + "".join(f"{i},a{i % 3}\n" for i in range(10))
    current = "v,c\n" + "".join(f"{100 + i},b{i % 2}\n" for i in range(8))
    table = small_table(tmp_path, reference, current, {"v": "numeric", "c": "categorical"})
    assert value("ks_statistic", table, feature="v") == 1
    assert value("normalized_wasserstein_distance", table, feature="v") == pytest.approx(
        stats.wasserstein_distance(range(10), range(100, 108)) / np.std(range(10))
    )
    assert value("jensen_shannon_distance", table, feature="c") == pytest.approx(1.0)
    # Numeric bins come from the reference; all current values fall in its open top bin.
    bins = metric("psi", table, feature="v").details["histogram"]
    assert bins[-1]["bin"].endswith(", inf)")
    assert bins[-1]["current"] == 8


def test_empty_current_is_undefined(tmp_path):
    table = small_table(tmp_path, "v,c\n1,a\n2,b\n", "v,c\n", {"v": "numeric", "c": "categorical"})
    for name in DRIFT_METRICS:
        if name.endswith("_per_feature") or name == "drifted_share":
            continue
        for column in ("v", "c"):
            result = metric(name, table, feature=column)
            assert result.value is None, (name, column)
            assert result.reason, (name, column)
    assert "the current dataset has no rows" in metric("psi", table, feature="v").reason
    share = metric("drifted_share", table, features=["v", "c"])
    assert share.value is None
    assert "v: PSI of feature `v` is undefined" in share.reason


def test_all_missing_current(tmp_path):
    # A second column keeps the rows: pandas skips blank lines, so a one-column CSV cannot hold a missing value.
    table = small_table(tmp_path, "i,v\n1,1\n2,2\n3,3\n4,4\n", "i,v\n1,\n2,\n3,NaN\n")
    assert value("missing_rate_change", table, feature="v") == 1
    assert value("psi", table, feature="v") > 1  # the whole current data moved into the missing bin
    ks = metric("ks_p_value", table, feature="v")
    assert ks.value is None
    assert "every current value is missing" in ks.reason


def test_all_missing_reference_keeps_one_value_bin(tmp_path):
    table = small_table(tmp_path, "i,v\n1,\n2,\n", "i,v\n1,5\n2,\n")
    bins = metric("psi", table, feature="v").details["histogram"]
    assert [b["bin"] for b in bins] == ["(-inf, inf)", MISSING_BIN]
    assert [b["current"] for b in bins] == [1, 1]
    assert value("missing_rate_change", table, feature="v") == 0.5


def test_missing_rate_change_alone(tmp_path):
    values = "".join(f"{i},{i % 7}\n" for i in range(70))
    table = small_table(tmp_path, "i,v\n" + values, "i,v\n" + values + "0,\n" * 30)
    assert value("ks_statistic", table, feature="v") == 0
    assert value("missing_rate_change", table, feature="v") == pytest.approx(0.3)
    psi = metric("psi", table, feature="v")
    assert psi.value > 0.1
    assert psi.details["histogram"][-1] == {"bin": MISSING_BIN, "reference": 0, "current": 30}
    assert psi.details["current_missing_rate"] == pytest.approx(0.3)


def test_new_category_only_in_current(tmp_path):
    table = small_table(tmp_path, "c\na\nb\na\nb\n", "c\na\nb\nz\nz\n", {"c": "categorical"})
    psi = metric("psi", table, feature="c")
    assert psi.details["smoothed_bins"] == 1
    r = np.array([0.5, 0.5, 1e-4])
    c = np.array([0.25, 0.25, 0.5])
    assert psi.value == pytest.approx(float(np.sum((c - r) * np.log(c / r))))
    assert value("jensen_shannon_distance", table, feature="c") == pytest.approx(
        jensenshannon([2, 2, 0], [1, 1, 2], base=2)
    )


def test_epsilon_zero_makes_psi_infinite(tmp_path):
    table = small_table(tmp_path, "c\na\na\n", "c\na\nz\n", {"c": "categorical"})
    result = metric("psi", table, feature="c", epsilon=0)
    assert result.value is None
    assert "infinite" in result.reason
    assert "z" in result.reason


def test_categorical_feature_with_numeric_only_metrics(tmp_path):
    table = small_table(tmp_path, "c\na\n", "c\nb\n", {"c": "categorical"})
    for name in ("ks_statistic", "ks_p_value", "normalized_wasserstein_distance"):
        result = metric(name, table, feature="c")
        assert result.value is None
        assert "needs a numeric feature" in result.reason


def test_nan_text_and_blanks_are_missing(tmp_path):
    table = small_table(tmp_path, "i,v\n1,1\n2,NaN\n3, 2 \n", "i,v\n1,nan\n2,  \n3,3\n")
    pair = table.columns["v"]
    assert (pair.reference.missing, pair.current.missing) == (1, 2)
    assert list(pair.reference.values) == [1.0, 2.0]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"bins": 1}, "argument `bins` must be a whole number from 2"),
        ({"bins": 2.5}, "argument `bins` must be a whole number"),
        ({"binning": "log"}, 'argument `binning` must be "quantile" or "equal_width", not "log"'),
        ({"epsilon": 1}, "argument `epsilon` must be at least 0 and below 1"),
    ],
)
def test_unusable_arguments_are_undefined(tmp_path, arguments, message):
    table = small_table(tmp_path, "v\n1\n2\n", "v\n2\n3\n")
    result = metric("psi", table, feature="v", **arguments)
    assert result.value is None
    assert message in result.reason


def test_unusable_argument_is_compile_error(tmp_path):
    policy = 'policy p { control c { check every f in psi_per_feature(features = ["age", "sex"], bins = 1): f < 0.2 } }'
    with pytest.raises(InvalidInputError) as caught:
        run_policy(tmp_path, policy)
    (diagnostic,) = [d for d in caught.value.diagnostics if d.is_error]
    assert diagnostic.code == "E304"
    assert "argument `bins` must be a whole number from 2 to 10000, not `1`" in diagnostic.message


# Per-feature values and the share of drifted features.


def test_per_feature_values_are_groups():
    table = reduce_bundle(DRIFT_BUNDLE, ["age", "sex", "type_employer"])
    result = metric("psi_per_feature", table, features=["age", "sex", "type_employer"])
    assert result.value is None
    assert [g.key for g in result.groups] == [("age",), ("sex",), ("type_employer",)]
    for group in result.groups:
        (name,) = group.key
        assert group.rates["psi"] == value("psi", table, feature=name)
        assert group.counts.n == 2000
        assert group.counts.to_dict()["reference_rows"] == 2000
    assert set(result.details["features"]) == {"age", "sex", "type_employer"}
    assert result.details["binning"] == "quantile"


def test_drifted_share_lists_each_feature():
    features = ["age", "hr_per_week", "type_employer", "sex", "education_num"]
    table = reduce_bundle(DRIFT_BUNDLE, features)
    psi_values = {name: value("psi", table, feature=name) for name in features}
    result = metric("drifted_share", table, features=features)
    drifted = [name for name in features if psi_values[name] >= 0.2]
    assert result.value == pytest.approx(len(drifted) / len(features))
    assert result.details["drifted_features"] == drifted
    assert [item["feature"] for item in result.details["features"]] == features
    for item in result.details["features"]:
        assert item["statistic"] == psi_values[item["feature"]]
        assert item["drifted"] == (psi_values[item["feature"]] >= 0.2)
    assert result.details["rule"] == "a feature drifted when its psi is at least 0.2"


def test_drifted_share_with_a_p_value_test():
    features = ["age", "education_num", "capital_gain", "score"]
    table = reduce_bundle(DRIFT_BUNDLE, features)
    result = metric("drifted_share", table, features=features, test="ks", threshold=0.01)
    p_values = {name: value("ks_p_value", table, feature=name) for name in features}
    assert result.details["drifted_features"] == [name for name in features if p_values[name] < 0.01]
    assert result.details["threshold"] == 0.01
    assert "below 0.01" in result.details["rule"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"test": "t"}, 'argument `test` must be one of "psi", "ks"'),
        ({"test": "ks", "threshold": 2}, "significance level"),
    ],
)
def test_drifted_share_rejects_unusable_tests(arguments, message):
    table = reduce_bundle(DRIFT_BUNDLE, ["age"])
    result = metric("drifted_share", table, features=["age"], **arguments)
    assert result.value is None
    assert message in result.reason


# Bundle declarations and the reduction's errors.


def test_undeclared_feature_is_missing_evidence(tmp_path):
    folder = write_bundle(tmp_path / "b", "v,w\n1,2\n", "v,w\n1,2\n", {"v": "numeric"})
    with pytest.raises(EvidenceMissing, match="declares feature `w` under `features` \\(declared: v\\)"):
        reduce_bundle(folder, ["w"])


def test_feature_declared_on_current_only(tmp_path):
    folder = write_bundle(tmp_path / "b", "v\n1\n", "v\n2\n", {}, current_features={"v": "numeric"})
    assert value("ks_statistic", reduce_bundle(folder, ["v"]), feature="v") == 1


def test_conflicting_types_are_invalid(tmp_path):
    folder = write_bundle(tmp_path / "b", "v\n1\n", "v\n2\n", {"v": "numeric"}, current_features={"v": "categorical"})
    with pytest.raises(EvidenceInvalid, match="declared numeric in dataset `reference` but categorical"):
        reduce_bundle(folder, ["v"])


def test_column_absent_from_current_is_invalid(tmp_path):
    folder = write_bundle(tmp_path / "b", "v\n1\n", "w\n2\n", {"v": "numeric"})
    with pytest.raises(EvidenceInvalid, match="feature `v` is not a column of `current.csv`") as caught:
        reduce_bundle(folder, ["v"])
    assert "columns in the file: w" in caught.value.help


def test_text_in_numeric_column_is_invalid(tmp_path):
    folder = write_bundle(tmp_path / "b", "v\n1\n", "v\n2\nabc\ninf\nx\ny\n", {"v": "numeric"})
    with pytest.raises(EvidenceInvalid, match="declared numeric but contains `abc`, `inf`, `x` and 1 more") as caught:
        reduce_bundle(folder, ["v"])
    assert "declare `v: categorical`" in caught.value.help


def test_infinity_in_numeric_column_is_invalid(tmp_path):
    # Plain numbers take pyarrow's fast parser, which reads `inf` as a number; it is still rejected.
    folder = write_bundle(tmp_path / "b", "v\n1\n", "v\n2\ninf\n-Infinity\n", {"v": "numeric"})
    with pytest.raises(EvidenceInvalid, match="declared numeric but contains `inf`, `-Infinity`"):
        reduce_bundle(folder, ["v"])


def test_parquet_matches_csv(tmp_path):
    reference, current = random_frames(21, 400, 300)
    reference["n"] = pd.array(np.arange(400) % 5, dtype="Int64")
    reference.loc[::7, "n"] = pd.NA
    current["n"] = pd.array(np.arange(300) % 6, dtype="Int64")
    features = {"x": "numeric", "k": "numeric", "n": "numeric", "c": "categorical"}
    from_csv = table_of(tmp_path / "csv", reference, current, features)
    folder = write_bundle(tmp_path / "parquet", "", "", features)
    reference.to_parquet(folder / "reference.parquet", index=False)
    current.to_parquet(folder / "current.parquet", index=False)
    text = (folder / "bundle.yaml").read_text(encoding="utf-8").replace(".csv", ".parquet")
    (folder / "bundle.yaml").write_text(text, encoding="utf-8")
    from_parquet = reduce_bundle(folder, list(features))
    for column in features:
        for name in ("psi", "chi_square_statistic", "jensen_shannon_distance", "missing_rate_change"):
            assert value(name, from_parquet, feature=column) == pytest.approx(value(name, from_csv, feature=column)), (name, column)


def test_too_many_categories_is_invalid(tmp_path, monkeypatch):
    monkeypatch.setattr("govdsl.evidence.histograms.MAX_CATEGORIES", 5)
    rows = "".join(f"id{i}\n" for i in range(6))
    folder = write_bundle(tmp_path / "b", "c\n" + rows, "c\nid0\n", {"c": "categorical"})
    with pytest.raises(EvidenceInvalid, match="declared categorical but has more than 5 distinct values"):
        reduce_bundle(folder, ["c"])


@pytest.mark.parametrize(
    ("features", "message"),
    [
        ("      v: text\n", "is invalid at `datasets[0].features.v`"),
        ("      w: numeric\n", "column `w` declared at `datasets[0].features.w` is not in `reference.csv`"),
    ],
)
def test_bundle_rejects_bad_feature_declarations(tmp_path, features, message):
    folder = write_bundle(tmp_path / "b", "v\n1\n", "v\n1\n", {"v": "numeric"})
    text = (folder / "bundle.yaml").read_text(encoding="utf-8").replace("      v: numeric\n", features, 1)
    (folder / "bundle.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInputError) as caught:
        load_bundle(folder)
    assert any(message in d.message for d in caught.value.diagnostics)


# Policies: compile, share reductions, evaluate, and the command line.

POLICY = """
policy drift {
  control stable {
    check psi_age: psi(feature = "age") < 0.1
    check ks_age: ks_statistic(feature = "age") < 0.1
    check every_feature: every f in psi_per_feature(features = ["age", "sex", "hr_per_week"]): f < 0.2
    check worst: max(jensen_shannon_distance_per_feature(features = ["age", "sex", "hr_per_week"])) < 0.25
    check share: drifted_share(features = ["age", "sex", "hr_per_week"], test = "jensen_shannon", threshold = 0.2) <= 0.5
    check ks_categorical: every f in ks_p_value_per_feature(features = ["age", "sex"]): f > 0.01
    check missing: missing_rate_change(feature = "hr_per_week") <= 0.05
  }
}
"""


def run_policy(tmp_path, text: str, bundle: Path = DRIFT_BUNDLE):
    plan, _ = compile_policies([str(write_policy(tmp_path, text))])
    results = evaluate(plan, load_bundle(bundle), clock=lambda: datetime.date(2026, 1, 2))
    return plan, {c.id.rsplit(".", 1)[1]: c for c in results.controls[0].checks}


def test_policy_shares_reductions_and_evaluates(tmp_path):
    plan, checks = run_policy(tmp_path, POLICY)
    # psi and ks_statistic of `age` read one reduction; calls with the same list of features share another.
    assert sorted(plan.reductions) == [
        "drift_histograms[@reference+@current:*|feature=age]",
        "drift_histograms[@reference+@current:*|feature=hr_per_week]",
        "drift_histograms[@reference+@current:*|features=age+sex+hr_per_week]",
        "drift_histograms[@reference+@current:*|features=age+sex]",
    ]
    assert checks["psi_age"].status == "fail"
    assert checks["ks_age"].status == "fail"
    assert checks["every_feature"].status == "fail"
    assert [g["group"] for g in checks["every_feature"].failing_groups] == ["feature=hr_per_week"]
    assert checks["worst"].status == "pass"
    assert checks["share"].status == "pass"
    assert checks["share"].details["test"] == "Jensen-Shannon distance, base 2"
    assert checks["share"].details["drifted_features"] == ["hr_per_week"]
    assert checks["share"].value == pytest.approx(1 / 3)
    assert checks["ks_categorical"].status == "insufficient"
    assert "feature=sex: the Kolmogorov-Smirnov test needs a numeric feature" in checks["ks_categorical"].reason
    assert checks["missing"].status == "fail"
    assert checks["missing"].value == pytest.approx(0.1)


def test_missing_reference_dataset_is_an_error(tmp_path):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "current.csv").write_text("v\n1\n", encoding="utf-8")
    (bundle / "bundle.yaml").write_text(
        "bundle_version: 1\n"
        "model: {id: toy, name: Toy, version: '1', owner: tests, task: binary_classification, risk_tier: high}\n"
        "datasets:\n  - {name: current, path: current.csv, role: current, features: {v: numeric}}\n",
        encoding="utf-8",
    )
    _, checks = run_policy(tmp_path, 'policy p { control c { check psi(feature = "v") < 0.1 } }', bundle)
    assert checks["1"].status == "error"
    assert "no dataset with role `reference`" in checks["1"].reason


def test_named_datasets_are_used(tmp_path):
    policy = 'policy p { control c { check psi(feature = "age", reference = "current", current = "reference") < 0.1 } }'
    _, checks = run_policy(tmp_path, policy)
    assert checks["1"].details["reference"] == "current"
    assert checks["1"].details["current"] == "reference"


def test_cli_check_reports_features(tmp_path):
    policy = write_policy(tmp_path, POLICY)
    from click.testing import CliRunner

    result = CliRunner().invoke(main, ["check", str(policy), "--bundle", str(DRIFT_BUNDLE)], catch_exceptions=False)
    assert result.exit_code == 1
    assert "feature=hr_per_week" in result.output
    assert "fails for feature=hr_per_week" in result.output
    assert "overall: psi 0." in result.output


def test_cli_invalid_numeric_value_exits_2(tmp_path):
    folder = write_bundle(tmp_path / "b", "v\n1\n", "v\n2\nabc\n", {"v": "numeric"})
    policy = write_policy(tmp_path, 'policy p { control c { check psi(feature = "v") < 0.1 } }')
    from click.testing import CliRunner

    result = CliRunner().invoke(main, ["check", str(policy), "--bundle", str(folder)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "column `v` of dataset `current` is declared numeric but contains `abc`" in result.output


def test_json_results_have_details(tmp_path):
    policy = write_policy(tmp_path, POLICY)
    from click.testing import CliRunner

    result = CliRunner().invoke(main, ["check", str(policy), "--bundle", str(DRIFT_BUNDLE), "--format", "json"])
    data = json.loads(result.output)
    checks = {c["id"].rsplit(".", 1)[1]: c for c in data["controls"][0]["checks"]}
    details = checks["psi_age"]["details"]
    assert details["binning"] == "quantile"
    assert details["histogram"][0]["bin"].startswith("(-inf, ")
    assert details["epsilon"] == 1e-4
    assert checks["share"]["details"]["features"][0]["feature"] == "age"


def test_compile_imports_no_numeric_library(tmp_path):
    policy = write_policy(tmp_path, POLICY)
    code = textwrap.dedent(
        f"""
        import sys
        from govdsl.cli import main
        try:
            main(["compile", {str(policy)!r}], standalone_mode=False)
        finally:
            loaded = sorted(m for m in ("pandas", "numpy", "scipy") if m in sys.modules)
            print("loaded:", ",".join(loaded), file=sys.stderr)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert "loaded: \n" in result.stderr or result.stderr.rstrip().endswith("loaded:"), result.stderr


def test_every_drift_metric_is_documented():
    text = (REPO / "docs" / "metrics.md").read_text(encoding="utf-8")
    for name in DRIFT_METRICS:
        assert f"`{name}`" in text or f"`{name.removesuffix('_per_feature')}`" in text, name
        declaration = REGISTRY[name]
        assert declaration.summary.endswith(".")
        assert declaration.edge_cases


def test_drift_reductions_share_one_pass(tmp_path, monkeypatch):
    import govdsl.engine.evaluate as engine
    import govdsl.evidence.histograms as histograms

    policy = REPO / "policies" / "examples" / "adult.gov"
    plan, _ = compile_policies([str(policy)])
    bundle = load_bundle(REPO / "examples" / "adult")
    drift = [spec for spec in plan.reductions.values() if spec.kind == "drift_histograms"]
    assert len(drift) >= 3
    reads = []
    original = histograms.read_chunks

    def counting(dataset, columns, chunk_rows):
        reads.append(dataset.name)
        return original(dataset, columns, chunk_rows)

    monkeypatch.setattr(histograms, "read_chunks", counting)
    shared = evaluate(plan, bundle, clock=lambda: datetime.date(2026, 12, 1))
    assert sorted(reads) == ["current", "reference"]
    monkeypatch.setattr(engine, "_shared_drift_tables", lambda *args: {})
    reads.clear()
    alone = evaluate(plan, bundle, clock=lambda: datetime.date(2026, 12, 1))
    assert len(reads) == 2 * len(drift)
    assert json.dumps(shared.to_dict(), sort_keys=True) == json.dumps(alone.to_dict(), sort_keys=True)


def test_undeclared_drift_feature_isolated(tmp_path):
    policy = (
        'policy p { control c { check psi(feature = "age") < 0.2\n check psi(feature = "nonexistent") < 0.2\n'
        ' check max(psi_per_feature(features = ["age", "sex"])) < 0.2 } }'
    )
    _, checks = run_policy(tmp_path, policy)
    assert checks["2"].status == "error"
    assert checks["1"].status in ("pass", "fail")
    assert checks["3"].status != "error"
