"""DeLong confidence intervals of ROC AUC, compared with the confidenceinterval package and a direct computation."""

from __future__ import annotations

import json
import math
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from confidenceinterval.delong import delong_roc_variance
from hypothesis import given, settings
from hypothesis import strategies as st

from govdsl.cli import main
from govdsl.evidence import load_bundle
from govdsl.evidence.score_reductions import reduce_score_counts
from govdsl.metrics.registry import REGISTRY
from govdsl.metrics.scores import ScoreCounts, ScoreTable, roc_auc_interval, roc_auc_variance
from support import COMPAS_BUNDLE, write_policy

Z95 = NormalDist().inv_cdf(0.975)


def counts_of(labels, scores) -> ScoreCounts:
    labels = np.asarray(labels, dtype=bool)
    values, inverse = np.unique(np.asarray(scores, dtype=float), return_inverse=True)
    positives = np.bincount(inverse, labels, len(values)).astype(np.int64)
    negatives = np.bincount(inverse, ~labels, len(values)).astype(np.int64)
    return ScoreCounts(values, positives, negatives)


def direct_variance(labels, scores) -> float:
    """DeLong's variance from its definition: one placement per row, every pair compared."""
    labels = np.asarray(labels, dtype=bool)
    scores = np.asarray(scores, dtype=float)
    positive, negative = scores[labels], scores[~labels]
    wins = (positive[:, None] > negative[None, :]) + 0.5 * (positive[:, None] == negative[None, :])
    area = wins.mean()
    positive_placements, negative_placements = wins.mean(axis=1), wins.mean(axis=0)
    return np.var(positive_placements, ddof=1) / len(positive) + np.var(negative_placements, ddof=1) / len(negative), area


@pytest.fixture(scope="module")
def compas():
    dataset = load_bundle(COMPAS_BUNDLE).datasets["predictions"]
    frame = pd.read_csv(COMPAS_BUNDLE / "predictions.csv")
    table = reduce_score_counts(dataset, ("race",), "decile_score", False, 250_000)
    return frame, table


def test_variance_matches_confidenceinterval_on_compas(compas):
    frame, table = compas
    # The reference computes midranks in float32, so agreement is to about 1e-6, not to rounding.
    area, covariance = delong_roc_variance(frame["two_year_recid"].to_numpy(), frame["decile_score"].to_numpy())
    assert roc_auc_variance(table.overall) == pytest.approx(float(covariance), rel=1e-5)
    for race, rows in frame.groupby("race"):
        labels = rows["two_year_recid"].to_numpy()
        if min(labels.sum(), len(labels) - labels.sum()) < 2:
            assert roc_auc_variance(table.groups[(race,)]) is None
            continue
        _, covariance = delong_roc_variance(labels, rows["decile_score"].to_numpy())
        assert roc_auc_variance(table.groups[(race,)]) == pytest.approx(float(covariance), rel=1e-5)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(4, 300), st.sampled_from([0, 1, 2]))
def test_variance_matches_direct_computation(seed, size, decimals):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size)
    labels[:2], labels[2:4] = 1, 0  # at least two rows of each label
    scores = np.round(rng.random(size) + 0.3 * labels, decimals)
    expected, area = direct_variance(labels, scores)
    counts = counts_of(labels, scores)
    assert roc_auc_variance(counts) == pytest.approx(expected, rel=1e-9, abs=1e-15)
    interval = roc_auc_interval(counts, 0.95)
    half = Z95 * math.sqrt(expected)
    assert interval.low == pytest.approx(max(0.0, area - half), abs=1e-12)
    assert interval.high == pytest.approx(min(1.0, area + half), abs=1e-12)


def test_interval_in_metric_value(compas):
    frame, table = compas
    overall = REGISTRY["roc_auc"].load()(ScoreTable((), {(): table.overall}, 0, "decile_score"), {"confidence": 0.9})
    half = NormalDist().inv_cdf(0.95) * math.sqrt(roc_auc_variance(table.overall))
    assert overall.interval.low == pytest.approx(overall.value - half, abs=1e-12)
    assert overall.interval.high == pytest.approx(overall.value + half, abs=1e-12)
    assert overall.details["interval"]["method"] == "delong"
    per_group = REGISTRY["roc_auc"].load()(table, {})
    caucasian = next(g for g in per_group.groups if g.key == ("Caucasian",))
    assert caucasian.intervals["roc_auc"] == roc_auc_interval(table.groups[("Caucasian",)], 0.95)


def test_difference_interval_adds_group_variances(compas):
    frame, table = compas
    result = REGISTRY["roc_auc_difference"].load()(table, {"min_group_size": 100, "exclude_small": True})
    low, high = result.extremes["roc_auc"]
    variance = roc_auc_variance(table.groups[low]) + roc_auc_variance(table.groups[high])
    assert result.interval.low == pytest.approx(result.value - Z95 * math.sqrt(variance), abs=1e-12)
    assert result.interval.high == pytest.approx(result.value + Z95 * math.sqrt(variance), abs=1e-12)
    assert result.details["interval"]["group"] == {"race": low[0]}
    assert result.details["interval"]["compared_with"] == {"race": high[0]}


@pytest.mark.parametrize(
    ("labels", "scores"),
    [
        ([1, 0, 0, 0], [0.9, 0.1, 0.2, 0.3]),  # one positive row
        ([1, 1, 1, 0], [0.9, 0.8, 0.7, 0.3]),  # one negative row
    ],
)
def test_interval_needs_two_rows_of_each_label(labels, scores):
    counts = counts_of(labels, scores)
    assert roc_auc_variance(counts) is None
    assert roc_auc_interval(counts, 0.95) is None


def test_separated_classes_give_zero_width():
    counts = counts_of([1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1])
    interval = roc_auc_interval(counts, 0.95)
    assert (interval.low, interval.high) == (1.0, 1.0)


def test_one_class_has_no_interval():
    counts = counts_of([1, 1, 1], [0.9, 0.8, 0.2])
    assert roc_auc_interval(counts, 0.95) is None


def test_lower_bound_of_auc_in_policy(tmp_path):
    policy = write_policy(
        tmp_path,
        """
        policy p {
          control discrimination {
            maps ["EU-AI-ACT:Art.15(1)"]
            check lower(roc_auc(score_column = "decile_score")) >= 0.7
            check lower(roc_auc(score_column = "decile_score", confidence = 99%)) >= 0.6
          }
        }
        """,
    )
    result = CliRunner().invoke(main, ["check", str(policy), "--bundle", str(COMPAS_BUNDLE), "--format", "json", "--no-audit"])
    checks = json.loads(result.stdout)["controls"][0]["checks"]
    assert [c["status"] for c in checks] == ["fail", "pass"]
    assert checks[0]["details"]["interval"]["method"] == "delong"
    assert checks[1]["details"]["confidence"] == 0.99
