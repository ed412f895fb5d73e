"""Bundle loader: a valid bundle loads; every kind of broken bundle is invalid input with a precise message."""

from __future__ import annotations

import pytest

from govdsl.errors import InvalidInputError
from govdsl.evidence import load_bundle
from govdsl.evidence.bundle import file_sha256
from support import COMPAS_BUNDLE, copy_bundle, replace_in


def load_errors(path):
    with pytest.raises(InvalidInputError) as caught:
        load_bundle(path)
    return caught.value.diagnostics


def test_compas_bundle_loads():
    bundle = load_bundle(COMPAS_BUNDLE)
    assert bundle.model["id"] == "compas-recidivism"
    assert bundle.model["risk_tier"] == "high"
    dataset = bundle.datasets["predictions"]
    assert dataset.role == "predictions"
    assert dataset.label_column == "two_year_recid"
    assert dataset.prediction_column == "predicted_high_risk"
    assert dataset.sensitive_features == ("race", "sex", "age_cat")
    assert dataset.positive_label == 1
    assert dataset.favorable == "negative"
    assert dataset.sha256 == file_sha256(COMPAS_BUNDLE / "predictions.csv")
    assert bundle.model_card.name == "model_card.md"
    assert len(bundle.approvals) == 3


def test_missing_declared_column(tmp_path):
    bundle = copy_bundle(tmp_path)
    replace_in(bundle / "bundle.yaml", "label_column: two_year_recid", "label_column: two_year_recidivism")
    (diagnostic,) = load_errors(bundle)
    assert diagnostic.code == "E407"
    assert "`two_year_recidivism`" in diagnostic.message
    assert "datasets[0].label_column" in diagnostic.message
    assert "predictions.csv" in diagnostic.message
    assert "two_year_recid" in diagnostic.help  # the columns that do exist
    assert diagnostic.span.file.endswith("bundle.yaml")
    assert diagnostic.span.line > 1


def test_missing_declared_file(tmp_path):
    bundle = copy_bundle(tmp_path)
    (bundle / "predictions.csv").unlink()
    (diagnostic,) = load_errors(bundle)
    assert diagnostic.code == "E406"
    assert "predictions.csv" in diagnostic.message
    assert "datasets[0].path" in diagnostic.message


def test_path_outside_bundle(tmp_path):
    bundle = copy_bundle(tmp_path)
    (tmp_path / "secret.csv").write_text("a\n1\n", encoding="utf-8")
    replace_in(bundle / "bundle.yaml", "path: predictions.csv", "path: ../secret.csv")
    diagnostics = load_errors(bundle)
    assert [d.code for d in diagnostics] == ["E405"]


def test_absolute_path_rejected(tmp_path):
    bundle = copy_bundle(tmp_path)
    replace_in(bundle / "bundle.yaml", "path: predictions.csv", f"path: {bundle / 'predictions.csv'}")
    assert [d.code for d in load_errors(bundle)] == ["E405"]


def test_digest_mismatch(tmp_path):
    bundle = copy_bundle(tmp_path)
    with (bundle / "predictions.csv").open("a", encoding="utf-8") as handle:
        handle.write("99999,Male,25 - 45,Other,1,Low,0,0\n")
    (diagnostic,) = load_errors(bundle)
    assert diagnostic.code == "E408"
    assert file_sha256(bundle / "predictions.csv") in diagnostic.help


def test_schema_violation_points_at_key(tmp_path):
    bundle = copy_bundle(tmp_path)
    replace_in(bundle / "bundle.yaml", "risk_tier: high", "risk_tier: extreme")
    (diagnostic,) = load_errors(bundle)
    assert diagnostic.code == "E404"
    assert "model.risk_tier" in diagnostic.message
    text = (bundle / "bundle.yaml").read_text(encoding="utf-8").splitlines()
    assert "risk_tier" in text[diagnostic.span.line - 1]


def test_invalid_yaml_has_position(tmp_path):
    bundle = copy_bundle(tmp_path)
    replace_in(bundle / "bundle.yaml", "task: binary_classification", "task: [binary_classification")
    (diagnostic,) = load_errors(bundle)
    assert diagnostic.code == "E403"
    assert diagnostic.span is not None


def test_missing_manifest(tmp_path):
    (diagnostic,) = load_errors(tmp_path)
    assert diagnostic.code == "E402"


def test_missing_directory(tmp_path):
    (diagnostic,) = load_errors(tmp_path / "nowhere")
    assert diagnostic.code == "E401"


def test_empty_evidence_file(tmp_path):
    bundle = copy_bundle(tmp_path)
    (bundle / "predictions.csv").write_text("", encoding="utf-8")
    replace_in(bundle / "bundle.yaml", f'    sha256: "{file_sha256(COMPAS_BUNDLE / "predictions.csv")}"\n', "")
    (diagnostic,) = load_errors(bundle)
    assert diagnostic.code == "E409"


def test_all_problems_reported_together(tmp_path):
    bundle = copy_bundle(tmp_path)
    replace_in(bundle / "bundle.yaml", "label_column: two_year_recid", "label_column: outcome")
    replace_in(bundle / "bundle.yaml", "sensitive_features: [race, sex, age_cat]", "sensitive_features: [race, gender]")
    replace_in(bundle / "bundle.yaml", "model_card: model_card.md", "model_card: card.md")
    assert sorted(d.code for d in load_errors(bundle)) == ["E406", "E407", "E407"]


def test_schema_and_file_problems_together(tmp_path):
    bundle = copy_bundle(tmp_path)
    replace_in(bundle / "bundle.yaml", "risk_tier: high", "risk_tier: extreme")
    replace_in(bundle / "bundle.yaml", "task: binary_classification", "task: guessing")
    (bundle / "predictions.csv").unlink()
    assert sorted(d.code for d in load_errors(bundle)) == ["E404", "E404", "E406"]


def test_non_mapping_manifest(tmp_path):
    (tmp_path / "bundle.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    (diagnostic,) = load_errors(tmp_path)
    assert diagnostic.code == "E404"


@pytest.mark.parametrize("written", ["2024-02-30", '"2024-02-30"', "2024-13-01"])
def test_impossible_dates_are_schema_errors(tmp_path, written):
    # YAML would turn an unquoted impossible date into a loader crash; it must be an error at its key.
    bundle = copy_bundle(tmp_path)
    replace_in(bundle / "bundle.yaml", 'date: "2024-01-15"', f"date: {written}")
    (diagnostic,) = load_errors(bundle)
    assert diagnostic.code == "E404"
    assert "approvals[0].date" in diagnostic.message
    assert "is not a valid calendar date" in diagnostic.message
    assert diagnostic.span is not None


def test_misspelled_key_is_placed_at_the_key(tmp_path):
    bundle = copy_bundle(tmp_path)
    replace_in(bundle / "bundle.yaml", "label_column: two_year_recid", "lable_column: two_year_recid")
    diagnostics = load_errors(bundle)
    (unknown,) = [d for d in diagnostics if d.code == "E404"]
    assert unknown.message.endswith("is invalid at `datasets[0].lable_column`: unknown key `lable_column`")
    assert unknown.help == "did you mean `label_column`?"
    lines = (bundle / "bundle.yaml").read_text(encoding="utf-8").splitlines()
    assert lines[unknown.span.line - 1].strip() == "lable_column: two_year_recid"
