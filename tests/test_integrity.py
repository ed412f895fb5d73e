"""Integrity metrics: evidence files against their digests, and reported metrics against recomputed ones."""

from __future__ import annotations

import datetime
import hashlib
import json
import shutil

import pytest
import yaml
from fairlearn.metrics import MetricFrame, selection_rate
from sklearn import metrics as skm

from govdsl.compiler.plan import ReductionSpec
from govdsl.errors import InvalidInputError
from govdsl.evidence import load_bundle
from govdsl.evidence.kinds import reduction_function
from govdsl.evidence.reductions import EvidenceInvalid, EvidenceMissing
from govdsl.metrics.registry import REGISTRY
from support import COMPAS_BUNDLE, write_policy
from test_metrics_quality import COMPAS_RAW, ILLUSTRATIVE, MODEL, invoke, measure, read_text_frame, write_bundle

COMPAS_DATA = COMPAS_BUNDLE / "predictions.csv"
PREDICTIONS = {
    "label_column": "two_year_recid",
    "prediction_column": "predicted_high_risk",
    "sensitive_features": ["race", "sex"],
    "positive_label": 1,
}


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def digests(bundle, name: str = "unverified_evidence_files"):
    spec = ReductionSpec("test", "evidence_digests", None, (), (), ())
    table = reduction_function("evidence_digests")(load_bundle(bundle), spec, datetime.date(2026, 12, 4))
    return REGISTRY[name].load()(table, {})


def statuses(value) -> dict[str, str]:
    return {f["file"]: f["status"] for f in value.details["files"]}


@pytest.fixture
def card_bundle(tmp_path):
    """A bundle whose dataset and model card both have declared digests."""
    folder = tmp_path / "bundle"
    folder.mkdir()
    shutil.copyfile(COMPAS_BUNDLE / "model_card.md", folder / "model_card.md")
    return write_bundle(
        folder,
        COMPAS_DATA,
        {"sha256": sha256(COMPAS_DATA)},
        {"model_card": "model_card.md", "files": [{"path": "model_card.md", "sha256": sha256(folder / "model_card.md")}]},
    )


# Evidence digests


def test_digests_all_verified(card_bundle):
    value = digests(card_bundle)
    assert value.value == 0
    assert statuses(value) == {"data.csv": "verified", "model_card.md": "verified"}
    files = {f["file"]: f for f in value.details["files"]}
    assert files["model_card.md"]["declared_at"] == ["model_card", "files[0].path"]
    assert files["data.csv"]["sha256"] == sha256(COMPAS_DATA)
    assert files["data.csv"]["bytes"] == COMPAS_DATA.stat().st_size
    assert value.details["manifest_sha256"] == sha256(card_bundle / "bundle.yaml")
    assert [g.key for g in value.groups] == [("data.csv (verified)",), ("model_card.md (verified)",)]


def test_dataset_without_digest(tmp_path):
    bundle = write_bundle(tmp_path / "b", COMPAS_DATA)
    assert digests(bundle).value == 1
    assert statuses(digests(bundle)) == {"data.csv": "no digest"}
    assert digests(bundle, "evidence_digest_mismatches").value == 0


def test_model_card_needs_files_entry(tmp_path):
    folder = tmp_path / "b"
    folder.mkdir()
    (folder / "card.md").write_text("# Model card\n", encoding="utf-8")
    bundle = write_bundle(folder, COMPAS_DATA, {"sha256": sha256(COMPAS_DATA)}, {"model_card": "card.md"})
    value = digests(bundle)
    assert value.value == 1
    assert statuses(value)["card.md"] == "no digest"


def test_files_entry_mismatch_and_missing(card_bundle):
    manifest = yaml.safe_load((card_bundle / "bundle.yaml").read_text(encoding="utf-8"))
    manifest["files"].append({"path": "docs/data_sheet.pdf", "sha256": "0" * 64})
    (card_bundle / "bundle.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    (card_bundle / "model_card.md").write_text("# Edited after its digest was declared\n", encoding="utf-8")
    value = digests(card_bundle, "evidence_digest_mismatches")
    assert statuses(value) == {"data.csv": "verified", "model_card.md": "mismatch", "docs/data_sheet.pdf": "missing"}
    assert value.value == 2
    assert digests(card_bundle).value == 2
    assert value.details["counts"] == {"verified": 1, "no digest": 0, "mismatch": 1, "missing": 1}


def test_dataset_changed_after_load(card_bundle):
    loaded = load_bundle(card_bundle)
    with (card_bundle / "data.csv").open("a", encoding="utf-8") as handle:
        handle.write("9999,Male,25 - 45,Other,1,Low,0,0\n")
    spec = ReductionSpec("test", "evidence_digests", None, (), (), ())
    table = reduction_function("evidence_digests")(loaded, spec, datetime.date(2026, 12, 4))
    value = REGISTRY["evidence_digest_mismatches"].load()(table, {})
    assert value.value == 1
    assert statuses(value)["data.csv"] == "mismatch"


def test_conflicting_digests_for_one_file(card_bundle):
    manifest = yaml.safe_load((card_bundle / "bundle.yaml").read_text(encoding="utf-8"))
    manifest["files"].append({"path": "./model_card.md", "sha256": "1" * 64})
    (card_bundle / "bundle.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    value = digests(card_bundle, "evidence_digest_mismatches")
    card = next(f for f in value.details["files"] if f["file"] == "model_card.md")
    assert card["status"] == "mismatch"
    assert card["declared_sha256"] == [sha256(card_bundle / "model_card.md"), "1" * 64]
    assert card["declared_at"] == ["model_card", "files[0].path", "files[1].path"]


def test_population_file_is_evidence(tmp_path):
    entry = {"feature": "sex", "source": ILLUSTRATIVE, "file": "sex.csv"}
    bundle = write_bundle(tmp_path / "b", COMPAS_DATA, {"population_shares": [entry]},
                          extra_files={"sex.csv": "group,share\nMale,0.5\nFemale,0.5\n"})
    value = digests(bundle)
    assert statuses(value) == {"data.csv": "no digest", "sex.csv": "no digest"}
    assert value.details["files"][1]["declared_at"] == ["datasets[0].population_shares[0].file"]


def test_files_path_outside_bundle(tmp_path):
    bundle = write_bundle(tmp_path / "b", COMPAS_DATA, top={"files": [{"path": "../secret.txt", "sha256": "0" * 64}]})
    with pytest.raises(InvalidInputError) as caught:
        digests(bundle)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "E405"
    assert "path `../secret.txt` at `files[0].path` points outside the bundle directory" in diagnostic.message


def test_files_shape_checked_on_load(tmp_path):
    bundle = write_bundle(tmp_path / "b", COMPAS_DATA, top={"files": [{"path": "x.md", "sha256": "not-a-digest"}]})
    with pytest.raises(InvalidInputError) as caught:
        load_bundle(bundle)
    assert "is invalid at `files[0].sha256`" in caught.value.diagnostics[0].message


INTEGRITY_POLICY = """
policy evidence_integrity {
  version "1.0"

  control evidence_files_verified {
    title "Every evidence file matches the digest declared for it"
    maps ["EU-AI-ACT:Art.10(2)(b)"]
    severity high
    enforcement hard
    check all_declared: unverified_evidence_files() <= 0
    check none_changed: evidence_digest_mismatches() <= 0
  }
}
"""


def test_cli_integrity_pass(card_bundle, tmp_path):
    policy = write_policy(tmp_path, INTEGRITY_POLICY)
    result = invoke("check", policy, "--bundle", card_bundle, "--as-of", "2026-12-04", "--no-audit")
    assert result.exit_code == 0
    assert "file=model_card.md (verified)" in result.stdout


def test_cli_integrity_fail_names_files(tmp_path):
    bundle = write_bundle(tmp_path / "b", COMPAS_DATA)
    policy = write_policy(tmp_path, INTEGRITY_POLICY)
    result = invoke("check", policy, "--bundle", bundle, "--as-of", "2026-12-04", "--no-audit")
    assert result.exit_code == 1
    assert "does not hold: unverified_evidence_files() = 1 is not <= 0" in result.stdout
    assert "file=data.csv (no digest)" in result.stdout


def test_cli_integrity_outside_path_exits_2(tmp_path):
    bundle = write_bundle(tmp_path / "b", COMPAS_DATA, top={"files": [{"path": "/etc/hostname", "sha256": "0" * 64}]})
    policy = write_policy(tmp_path, INTEGRITY_POLICY)
    result = invoke("check", policy, "--bundle", bundle, "--no-audit")
    assert result.exit_code == 2
    assert "points outside the bundle directory" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


# Reported metrics


def reported(bundle, tolerance: float | None = None):
    arguments = {} if tolerance is None else {"tolerance": tolerance}
    return measure("reported_metrics_mismatch", bundle, **arguments)


def outcomes(value) -> dict[str, str]:
    return {row["metric"]: row["outcome"] for row in value.details["values"]}


@pytest.fixture(scope="module")
def compas_frame():
    return read_text_frame(COMPAS_DATA)


def compas_bundle(folder, entries: list[dict], **declaration):
    return write_bundle(folder, COMPAS_DATA, {**PREDICTIONS, "reported_metrics": entries, **declaration})


def test_reported_accuracy_matches_sklearn(tmp_path, compas_frame):
    accuracy = skm.accuracy_score(compas_frame["two_year_recid"], compas_frame["predicted_high_risk"])
    bundle = compas_bundle(tmp_path / "b", [{"metric": "accuracy", "value": accuracy, "source": "model_card.md"}])
    value = reported(bundle)
    assert value.value == 0
    (row,) = value.details["values"]
    assert row["recomputed"] == pytest.approx(accuracy, abs=1e-15)
    assert row["source"] == "model_card.md"
    assert row["key"] == "datasets[0].reported_metrics[0].value"


def test_reported_per_group_matches_fairlearn(tmp_path, compas_frame):
    rates = MetricFrame(
        metrics=selection_rate,
        y_true=compas_frame["two_year_recid"].astype(int),
        y_pred=compas_frame["predicted_high_risk"].astype(int),
        sensitive_features=compas_frame["race"],
    ).by_group
    entry = {"metric": "selection_rate", "arguments": {"by": "race"}, "value": {g: float(v) for g, v in rates.items()}}
    assert reported(compas_bundle(tmp_path / "b", [entry])).value == 0
    changed = {**entry["value"], "Asian": entry["value"]["Asian"] + 0.01}
    value = reported(compas_bundle(tmp_path / "c", [{**entry, "value": changed}]))
    assert value.value == 1
    assert outcomes(value)['selection_rate(by = "race"), Asian'] == "mismatch"
    labels = [g.key[0] for g in value.groups]
    assert 'selection_rate(by = "race"), Caucasian' in labels


def test_reported_rounded_values_and_tolerance(tmp_path, compas_frame):
    recall = skm.recall_score(compas_frame["two_year_recid"].astype(int), compas_frame["predicted_high_risk"].astype(int))
    entries = [{"metric": "true_positive_rate", "value": round(recall, 2), "tolerance": 0.005}]
    bundle = compas_bundle(tmp_path / "b", entries)
    assert abs(round(recall, 2) - recall) > 1e-4
    assert reported(bundle).value == 0
    strict = reported(bundle, tolerance=1e-4)
    assert strict.value == 1
    assert strict.details["values"][0]["tolerance"] == 1e-4
    without = reported(compas_bundle(tmp_path / "c", [{"metric": "true_positive_rate", "value": round(recall, 2)}]))
    assert without.value == 1
    assert without.details["values"][0]["tolerance"] == 1e-9


def test_reported_fairness_metric_with_arguments(tmp_path, compas_frame):
    negatives = compas_frame[compas_frame["two_year_recid"] == "0"]
    rates = negatives.groupby("race")["predicted_high_risk"].apply(lambda s: (s == "1").mean())
    kept = rates.drop(["Asian", "Native American"])
    entry = {
        "metric": "false_positive_rate_difference",
        "arguments": {"by": "race", "min_group_size": 50, "exclude_small": True},
        "value": float(kept.max() - kept.min()),
    }
    value = reported(compas_bundle(tmp_path / "b", [entry]))
    assert value.value == 0
    assert value.details["values"][0]["metric"] == (
        'false_positive_rate_difference(by = "race", min_group_size = 50, exclude_small = true)'
    )


def test_reported_quality_metrics(tmp_path):
    frame = read_text_frame(COMPAS_RAW)
    entries = [
        {"metric": "max_missing_rate", "arguments": {"exclude": "violent_recid"},
         "value": float(frame.drop(columns="violent_recid").isna().mean().max())},
        {"metric": "duplicate_row_count", "arguments": {"columns": ["sex", "race"]}, "value": int(frame.duplicated(["sex", "race"]).sum())},
        {"metric": "missing_rate", "arguments": {"columns": ["c_jail_in", "sex"]},
         "value": {"c_jail_in": float(frame["c_jail_in"].isna().mean()), "sex": 0.0}},
    ]
    bundle = write_bundle(tmp_path / "b", COMPAS_RAW, {"reported_metrics": entries})
    value = reported(bundle)
    assert value.value == 0
    assert len(value.details["values"]) == 4


def test_reported_null_matches_undefined(tmp_path):
    # No actual negatives: the false positive rate is undefined, and the bundle reports it as undefined (null).
    text = "label,prediction,group\n1,1,a\n1,0,b\n"
    declaration = {"label_column": "label", "prediction_column": "prediction", "sensitive_features": ["group"], "positive_label": 1}
    entries = [{"metric": "false_positive_rate", "value": None}, {"metric": "true_positive_rate", "value": None}]
    bundle = write_bundle(tmp_path / "b", text, {**declaration, "reported_metrics": entries})
    value = reported(bundle)
    assert outcomes(value) == {"false_positive_rate()": "match", "true_positive_rate()": "mismatch"}
    assert value.value == 1


def test_reported_number_for_undefined_metric(tmp_path):
    text = "label,prediction,group\n1,1,a\n1,0,b\n"
    declaration = {"label_column": "label", "prediction_column": "prediction", "sensitive_features": ["group"], "positive_label": 1}
    entries = [{"metric": "false_positive_rate", "value": 0.0}, {"metric": "accuracy", "value": 0.4}]
    bundle = write_bundle(tmp_path / "b", text, {**declaration, "reported_metrics": entries})
    value = reported(bundle)
    assert value.value is None
    assert value.reason.startswith("1 reported value(s) cannot be recomputed, besides 1 mismatch(es): false_positive_rate()")
    assert "0 actual negatives" in value.reason


def test_reported_metric_without_evidence(tmp_path, compas_frame):
    entries = [{"metric": "selection_rate", "arguments": {"by": "age_cat"}, "value": {"25 - 45": 0.4}}]
    value = reported(compas_bundle(tmp_path / "b", entries))
    assert value.value is None
    assert "declares no sensitive feature `age_cat`" in value.reason
    assert value.details["values"][0]["outcome"] == "undefined"


def test_reported_group_absent_from_data(tmp_path):
    entries = [{"metric": "selection_rate", "arguments": {"by": "sex"}, "value": {"Male": 0.4553, "Nonbinary": 0.3}}]
    value = reported(compas_bundle(tmp_path / "b", entries), tolerance=0.001)
    assert value.value is None
    assert "the data has no group `Nonbinary` (groups: `Female`, `Male`)" in value.reason


def test_reported_metric_of_two_datasets(tmp_path):
    frame = read_text_frame(COMPAS_DATA)
    folder = tmp_path / "b"
    folder.mkdir()
    frame.iloc[:3000].to_csv(folder / "reference.csv", index=False)
    frame.iloc[3000:].to_csv(folder / "current.csv", index=False)
    manifest = {
        "bundle_version": 1,
        "model": MODEL,
        "datasets": [
            {"name": "reference", "path": "reference.csv", "role": "reference", "features": {"decile_score": "numeric"}},
            {"name": "current", "path": "current.csv", "role": "current", "features": {"decile_score": "numeric"},
             "reported_metrics": [{"metric": "ks_statistic", "arguments": {"feature": "decile_score"}, "value": 0.5}]},
        ],
    }
    (folder / "bundle.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    from scipy.stats import ks_2samp

    expected = ks_2samp(frame["decile_score"].iloc[:3000].astype(int), frame["decile_score"].iloc[3000:].astype(int)).statistic
    dataset = load_bundle(folder).datasets["current"]
    spec = ReductionSpec("test", "reported_metrics", None, (), ("predictions",), ())
    table = reduction_function("reported_metrics")({"predictions": dataset}, spec, 1000)
    (row,) = table.values
    assert row.recomputed == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"metric": "acuracy", "value": 0.5}, "unknown metric `acuracy`"),
        ({"metric": "accuracy", "arguments": {"bye": "race"}, "value": 0.5}, "metric `accuracy` has no parameter `bye`"),
        ({"metric": "selection_rate", "arguments": {"by": 3}, "value": {"a": 0.5}}, "argument `by` at .* is `3`, but it must be a column name"),
        ({"metric": "demographic_parity_difference", "value": 0.1}, "needs the argument\\(s\\) `by`"),
        ({"metric": "accuracy", "arguments": {"by": "race"}, "value": 0.5}, "which gives one value per group"),
        ({"metric": "accuracy", "value": {"a": 0.5}}, "which gives one number"),
        ({"metric": "unverified_evidence_files", "value": 0}, "reads bundle.yaml rather than a dataset"),
        ({"metric": "reported_metrics_mismatch", "value": 0}, "reads bundle.yaml rather than a dataset"),
        ({"metric": "accuracy_difference", "arguments": {"by": "race", "exclude_small": True}, "value": 0.1},
         "`exclude_small` at .* needs `min_group_size`"),
        ({"metric": "accuracy_difference", "arguments": {"by": "race", "min_group_size": -3}, "value": 0.1},
         "must be a non-negative number"),
    ],
)
def test_reported_declaration_errors(tmp_path, entry, message):
    bundle = compas_bundle(tmp_path / "b", [entry])
    with pytest.raises(EvidenceInvalid, match=message) as caught:
        reported(bundle)
    if entry["metric"] == "acuracy":
        assert caught.value.help.startswith("did you mean `accuracy`?")


def test_reported_metrics_needed(tmp_path):
    bundle = write_bundle(tmp_path / "b", COMPAS_DATA, PREDICTIONS)
    with pytest.raises(EvidenceMissing, match="dataset `data` declares no `reported_metrics` in bundle.yaml"):
        reported(bundle)


@pytest.mark.parametrize("value", ["0.66", True, [0.5]])
def test_reported_value_shape_checked_on_load(tmp_path, value):
    bundle = compas_bundle(tmp_path / "b", [{"metric": "accuracy", "value": value}])
    with pytest.raises(InvalidInputError) as caught:
        load_bundle(bundle)
    assert any("reported_metrics[0].value" in d.message for d in caught.value.diagnostics)


REPORTED_POLICY = """
policy reported_figures {
  version "1.0"

  control published_metrics_hold {
    title "Metrics published about the model match the evidence"
    maps ["EU-AI-ACT:AnnexIV(2)(g)"]
    severity high
    enforcement hard
    check reported: reported_metrics_mismatch(tolerance = 0.005) <= 0
  }
}
"""


def test_cli_reported_metrics(tmp_path, compas_frame):
    accuracy = skm.accuracy_score(compas_frame["two_year_recid"], compas_frame["predicted_high_risk"])
    entries = [
        {"metric": "accuracy", "value": round(accuracy, 3)},
        {"metric": "selection_rate", "arguments": {"by": "sex"}, "value": {"Male": 0.47, "Female": 0.41}},
    ]
    bundle = compas_bundle(tmp_path / "b", entries)
    policy = write_policy(tmp_path, REPORTED_POLICY)
    result = invoke("check", policy, "--bundle", bundle, "--as-of", "2026-12-04", "--no-audit")
    assert result.exit_code == 1
    assert "does not hold: reported_metrics_mismatch(tolerance = 0.005) = 1 is not <= 0" in result.stdout
    assert 'metric=selection_rate(by = "sex"), Male' in result.stdout
    json_result = invoke("check", policy, "--bundle", bundle, "--as-of", "2026-12-04", "--no-audit", "--format", "json")
    (check,) = json.loads(json_result.stdout)["controls"][0]["checks"]
    rows = {row["metric"]: row for row in check["details"]["values"]}
    assert rows['selection_rate(by = "sex"), Male']["outcome"] == "mismatch"
    assert rows["accuracy()"]["outcome"] == "match"


def test_cli_reported_unknown_metric_exits_2(tmp_path):
    bundle = compas_bundle(tmp_path / "b", [{"metric": "acuracy", "value": 0.5}])
    policy = write_policy(tmp_path, REPORTED_POLICY)
    result = invoke("check", policy, "--bundle", bundle, "--no-audit")
    assert result.exit_code == 2
    assert "unknown metric `acuracy` at `datasets[0].reported_metrics[0].metric`" in result.stderr
    assert "did you mean `accuracy`?" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_reported_values_with_pandas_mean(tmp_path, compas_frame):
    # The selection rate per sex, computed by pandas, reported to full precision.
    rates = compas_frame.groupby("sex")["predicted_high_risk"].apply(lambda s: float((s == "1").mean()))
    entries = [{"metric": "selection_rate", "arguments": {"by": "sex"}, "value": rates.to_dict()}]
    assert reported(compas_bundle(tmp_path / "b", entries)).value == 0


PARITY_CALLS = [
    ("accuracy", {}),
    ("selection_rate", {"by": ["race"]}),
    ("selection_rate", {"by": ["race"], "min_group_size": 50, "exclude_small": True}),
    ("false_positive_rate_difference", {"by": ["race", "sex"], "min_group_size": 30}),
    ("equalized_odds_ratio", {"by": ["sex"]}),
]


@pytest.mark.parametrize(("name", "arguments"), PARITY_CALLS)
def test_recompute_matches_engine(name, arguments):
    from govdsl.engine.expressions import metric_value as engine_value
    from govdsl.evidence.quality_reductions import is_per_group, metric_value
    from govdsl.evidence.reductions import reduce_group_confusion

    declaration = REGISTRY[name]
    table = reduce_group_confusion(load_bundle(COMPAS_BUNDLE).datasets["predictions"], tuple(sorted(arguments.get("by", ()))))
    node = {"name": name, "arguments": arguments, "per_group": is_per_group(declaration, arguments)}
    ours, engine = metric_value(declaration, arguments, table), engine_value(node, table)
    assert ours.value == engine.value
    assert ours.reason == engine.reason
    assert [(g.key, g.rates) for g in ours.groups] == [(g.key, g.rates) for g in engine.groups]
