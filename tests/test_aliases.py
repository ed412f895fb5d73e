"""Column aliases: a bundle gives file columns the names its policies use, with the same results as renamed files."""

from __future__ import annotations

import json

import pyarrow
import pyarrow.csv
import pyarrow.parquet
import pytest
from click.testing import CliRunner

from govdsl.cli import main
from govdsl.errors import InvalidInputError
from govdsl.evidence import load_bundle
from govdsl.evidence.bundle import file_sha256
from govdsl.evidence.readers import read_chunks
from support import COMPAS_BUNDLE, COMPAS_POLICY, REPO, copy_bundle, replace_in

ADULT_BUNDLE = REPO / "examples" / "adult"
ADULT_POLICY = REPO / "policies" / "examples" / "adult.gov"
COMPAS_RENAMES = {"race": "ethnicity", "sex": "gender", "decile_score": "risk_decile"}


def rename_header(path, renames):
    """Rename columns in a CSV file's header line and update the file's digest in bundle.yaml."""
    before = file_sha256(path)
    lines = path.read_text(encoding="utf-8").split("\n", 1)
    header = [renames.get(name, name) for name in lines[0].split(",")]
    path.write_text(",".join(header) + "\n" + lines[1], encoding="utf-8")
    replace_in(path.parent / "bundle.yaml", before, file_sha256(path))


def aliased_compas(tmp_path, file_format="csv"):
    """Return a copy of the COMPAS bundle whose file names race, sex and decile_score otherwise, with aliases."""
    bundle = copy_bundle(tmp_path)
    rename_header(bundle / "predictions.csv", COMPAS_RENAMES)
    aliases = "".join(f"\n      {name}: {column}" for name, column in COMPAS_RENAMES.items())
    replace_in(bundle / "bundle.yaml", "    sensitive_features: [race, sex, age_cat]", f"    sensitive_features: [race, sex, age_cat]\n    aliases:{aliases}")
    if file_format == "parquet":
        table = pyarrow.csv.read_csv(bundle / "predictions.csv")
        pyarrow.parquet.write_table(table, bundle / "predictions.parquet")
        replace_in(bundle / "bundle.yaml", file_sha256(bundle / "predictions.csv"), file_sha256(bundle / "predictions.parquet"))
        (bundle / "predictions.csv").unlink()
        replace_in(bundle / "bundle.yaml", "path: predictions.csv", "path: predictions.parquet")
        replace_in(bundle / "bundle.yaml", "format: csv", "format: parquet")
    return bundle


def check_json(policy, bundle, *extra):
    result = CliRunner().invoke(
        main, ["check", str(policy), "--bundle", str(bundle), "--format", "json", "--no-audit", "--as-of", "2026-12-01", *extra]
    )
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def control_results(results):
    """Return what a check decided and measured, without the bundle's paths and digests."""
    return json.dumps(results["controls"], sort_keys=True)


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_aliased_compas_matches_original(tmp_path, file_format):
    original = check_json(COMPAS_POLICY, COMPAS_BUNDLE)
    aliased = check_json(COMPAS_POLICY, aliased_compas(tmp_path, file_format))
    assert control_results(aliased) == control_results(original)
    assert aliased["gate"] == original["gate"]


def test_aliased_groups_keep_policy_names(tmp_path):
    aliased = check_json(COMPAS_POLICY, aliased_compas(tmp_path))
    groups = aliased["controls"][0]["checks"][0]["groups"]
    assert {"race": "African-American"} in [group["group"] for group in groups]
    assert "ethnicity" not in control_results(aliased)


def test_aliased_drift_features_match_original(tmp_path):
    bundle = copy_bundle(tmp_path, ADULT_BUNDLE)
    for name in ("reference.csv", "current.csv"):
        rename_header(bundle / name, {"score": "model_score", "age": "age_years"})
    text = (bundle / "bundle.yaml").read_text(encoding="utf-8")
    before, current = text.split("  - name: current\n")
    # The current dataset's schema describes the file's own column names.
    current = current.replace('{"name": "score"', '{"name": "model_score"').replace('{"name": "age",', '{"name": "age_years",')
    aliases = "    aliases: {score: model_score, age: age_years}\n"
    before = before.replace("    role: reference\n", "    role: reference\n" + aliases)
    current = current.replace("    role: current\n", "    role: current\n" + aliases)
    (bundle / "bundle.yaml").write_text(before + "  - name: current\n" + current, encoding="utf-8")

    original = check_json(ADULT_POLICY, ADULT_BUNDLE)
    aliased = check_json(ADULT_POLICY, bundle)
    drift = ["adult_credit.input_drift", "adult_credit.score_drift"]
    assert by_id(aliased, drift) == by_id(original, drift)
    # Schema checks describe the file's own columns, so only their outcome must agree.
    assert statuses(aliased) == statuses(original)


def by_id(results, control_ids):
    return [json.dumps(c, sort_keys=True) for c in results["controls"] if c["id"] in control_ids]


def statuses(results):
    return [(c["id"], c["status"], [(k["id"], k["status"], k["value"]) for k in c["checks"]]) for c in results["controls"]]


def test_alias_and_own_name_read_together(tmp_path):
    bundle = load_bundle(aliased_compas(tmp_path))
    dataset = bundle.datasets["predictions"]
    (chunk,) = list(read_chunks(dataset, ["race", "ethnicity", "two_year_recid"]))
    assert list(chunk.columns) == ["race", "ethnicity", "two_year_recid"]
    assert chunk["race"].equals(chunk["ethnicity"].rename("race"))


def test_dataset_resolves_alias_to_file_column(tmp_path):
    dataset = load_bundle(aliased_compas(tmp_path)).datasets["predictions"]
    assert dataset.column_in_file("sex") == "gender"
    assert dataset.column_in_file("age_cat") == "age_cat"
    assert dataset.has_column("sex")
    assert dataset.has_column("gender")
    assert not dataset.has_column("income")


def load_errors(bundle):
    with pytest.raises(InvalidInputError) as caught:
        load_bundle(bundle)
    return caught.value.diagnostics


def test_alias_to_missing_column_is_e407(tmp_path):
    bundle = aliased_compas(tmp_path)
    replace_in(bundle / "bundle.yaml", "sex: gender", "sex: gendr")
    (diagnostic,) = load_errors(bundle)
    assert diagnostic.code == "E407"
    assert "column `gendr` named by alias `sex` is not in `predictions.csv`" in diagnostic.message
    assert diagnostic.span.line == (bundle / "bundle.yaml").read_text(encoding="utf-8").split("\n").index("      sex: gendr") + 1


def test_alias_hiding_file_column_is_e414(tmp_path):
    bundle = aliased_compas(tmp_path)
    replace_in(bundle / "bundle.yaml", "sex: gender", "sex: gender\n      age_cat: ethnicity")
    (diagnostic,) = load_errors(bundle)
    assert diagnostic.code == "E414"
    assert "alias `age_cat` is also a column of `predictions.csv`" in diagnostic.message


def test_declared_column_without_alias_suggests_aliases(tmp_path):
    bundle = copy_bundle(tmp_path)
    rename_header(bundle / "predictions.csv", {"sex": "gender"})
    (diagnostic,) = load_errors(bundle)
    assert diagnostic.code == "E407"
    assert "`aliases`" in diagnostic.help


def test_alias_must_be_text(tmp_path):
    bundle = aliased_compas(tmp_path)
    replace_in(bundle / "bundle.yaml", "sex: gender", "sex: 3")
    diagnostics = load_errors(bundle)
    assert [d.code for d in diagnostics if "aliases" in d.message] == ["E404"]


def test_feature_listed_by_file_name_gets_alias_hint(tmp_path):
    bundle = aliased_compas(tmp_path)
    replace_in(bundle / "bundle.yaml", "sensitive_features: [race, sex, age_cat]", "sensitive_features: [ethnicity, gender, age_cat]")
    results = check_json(COMPAS_POLICY, bundle)
    check = results["controls"][0]["checks"][0]
    assert check["status"] == "error"
    assert "`race` is the alias of column `ethnicity`, so list `race` under sensitive_features instead" in check["message"]


def test_explain_names_the_aliased_file_columns(tmp_path):
    bundle = aliased_compas(tmp_path)
    result = CliRunner().invoke(
        main, ["explain", str(COMPAS_POLICY), "--bundle", str(bundle), "--control", "compas_fairness.fpr_parity_race"]
    )
    assert result.exit_code == 0, result.output
    assert "columns two_year_recid, predicted_high_risk, race (column ethnicity)" in result.stdout
