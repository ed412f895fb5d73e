"""Parquet evidence: the same results as CSV, bounded batches, categoricals, and clear errors for bad files."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from govdsl.cli import main
from govdsl.errors import InvalidInputError
from govdsl.evidence import load_bundle
from govdsl.evidence.bundle import file_sha256
from govdsl.evidence.readers import EvidenceReadError, read_chunks
from govdsl.evidence.reductions import MISSING_GROUP, reduce_group_confusion
from support import COMPAS_BUNDLE, COMPAS_POLICY, REPO, make_bundle, replace_in

COMPAS_ROWS = 6172
COMPAS_FEATURES = [(), ("race",), ("sex",), ("age_cat",), ("race", "sex"), ("race", "sex", "age_cat")]


def parquet_bundle(
    folder: Path, frame: pd.DataFrame, declare_format: bool = True, digest: bool = True, **write_options
) -> Path:
    """Copy the COMPAS bundle into `folder` with its predictions as Parquet, written from `frame`.

    With `digest`, bundle.yaml declares the Parquet file's SHA-256; without it, no `sha256`.
    """
    bundle = folder / "compas-parquet"
    bundle.mkdir()
    shutil.copy(COMPAS_BUNDLE / "model_card.md", bundle)
    frame.to_parquet(bundle / "predictions.parquet", index=False, **write_options)
    text = (COMPAS_BUNDLE / "bundle.yaml").read_text(encoding="utf-8")
    text = text.replace("path: predictions.csv", "path: predictions.parquet")
    text = text.replace("format: csv", "format: parquet" if declare_format else "")
    csv_digest_line = f'    sha256: "{file_sha256(COMPAS_BUNDLE / "predictions.csv")}"\n'
    assert csv_digest_line in text
    parquet_digest_line = f'    sha256: "{file_sha256(bundle / "predictions.parquet")}"\n'
    text = text.replace(csv_digest_line, parquet_digest_line if digest else "")
    (bundle / "bundle.yaml").write_text(text, encoding="utf-8")
    return bundle


def compas_frame(strings: str = "category") -> pd.DataFrame:
    """Return the COMPAS predictions with string columns as `category` or as plain `str`."""
    frame = pd.read_csv(COMPAS_BUNDLE / "predictions.csv", keep_default_na=False)
    for column in ("sex", "age_cat", "race", "score_text"):
        frame[column] = frame[column].astype(strings)
    return frame


def predictions(bundle: Path):
    return load_bundle(bundle).datasets["predictions"]


@pytest.fixture(scope="module")
def compas_csv():
    return predictions(COMPAS_BUNDLE)


@pytest.fixture(scope="module")
def compas_parquet(tmp_path_factory):
    folder = tmp_path_factory.mktemp("parquet")
    return predictions(parquet_bundle(folder, compas_frame(), row_group_size=1000))


def test_parquet_bundle_loads(compas_parquet):
    assert compas_parquet.format == "parquet"
    assert compas_parquet.columns[:4] == ("id", "sex", "age_cat", "race")
    assert compas_parquet.sha256 == compas_parquet.declared_sha256


@pytest.mark.parametrize("features", COMPAS_FEATURES)
def test_compas_parquet_equals_csv(compas_csv, compas_parquet, features):
    from_csv = reduce_group_confusion(compas_csv, features)
    from_parquet = reduce_group_confusion(compas_parquet, features)

    assert from_parquet.groups == from_csv.groups
    assert from_parquet.rows_excluded == from_csv.rows_excluded == 0
    assert from_parquet.overall.n == COMPAS_ROWS


@pytest.mark.parametrize("strings", ["category", "str", "object"])
def test_compas_plain_strings_equal_csv(tmp_path, compas_csv, strings):
    dataset = predictions(parquet_bundle(tmp_path, compas_frame(strings)))
    features = ("race", "sex", "age_cat")

    assert reduce_group_confusion(dataset, features).groups == reduce_group_confusion(compas_csv, features).groups


def test_string_columns_arrive_categorical(tmp_path):
    # Written as plain strings: the reader still hands the group reduction categoricals.
    dataset = predictions(parquet_bundle(tmp_path, compas_frame("str")))

    (chunk,) = list(read_chunks(dataset, ["race", "sex", "two_year_recid"]))

    assert isinstance(chunk["race"].dtype, pd.CategoricalDtype)
    assert isinstance(chunk["sex"].dtype, pd.CategoricalDtype)
    assert chunk["two_year_recid"].dtype == np.int64
    assert len(chunk) == COMPAS_ROWS


def test_format_from_suffix(tmp_path):
    dataset = predictions(parquet_bundle(tmp_path, compas_frame(), declare_format=False))

    assert dataset.format == "parquet"
    assert reduce_group_confusion(dataset, ("sex",)).overall.n == COMPAS_ROWS


@pytest.mark.parametrize("chunk_rows", [1, 97, 999, 1000, 1001, COMPAS_ROWS, 10**6])
def test_chunk_boundaries_same_counts(compas_csv, compas_parquet, chunk_rows):
    features = ("race", "sex")
    expected = reduce_group_confusion(compas_csv, features).groups

    if chunk_rows == 1:
        # One row per chunk is slow on 6,172 rows, so this case reads only the first 300 chunks.
        chunks = list(itertools.islice(read_chunks(compas_parquet, ["race", "two_year_recid"], 1), 300))
        assert {len(chunk) for chunk in chunks} == {1}
        return
    chunks = list(read_chunks(compas_parquet, ["race", "two_year_recid"], chunk_rows))

    assert max(len(chunk) for chunk in chunks) <= chunk_rows
    assert sum(len(chunk) for chunk in chunks) == COMPAS_ROWS
    assert reduce_group_confusion(compas_parquet, features, chunk_rows).groups == expected


@pytest.mark.parametrize("row_group_size", [1, 100, 4096, 100_000])
def test_row_groups_same_counts(tmp_path, compas_csv, row_group_size):
    frame = compas_frame()
    if row_group_size == 1:
        frame = frame.head(60)
    dataset = predictions(parquet_bundle(tmp_path, frame, row_group_size=row_group_size))
    reference = reduce_group_confusion(compas_csv, ("race",)) if row_group_size > 1 else None

    table = reduce_group_confusion(dataset, ("race",), chunk_rows=333)

    assert table.overall.n == len(frame)
    if reference is not None:
        assert table.groups == reference.groups


def test_check_json_same_as_csv(tmp_path):
    bundle = parquet_bundle(tmp_path, compas_frame("str"))
    runner = CliRunner()

    from_csv = runner.invoke(main, ["check", str(COMPAS_POLICY), "--bundle", str(COMPAS_BUNDLE), "--as-of", "2026-12-04", "--format", "json"])
    from_parquet = runner.invoke(main, ["check", str(COMPAS_POLICY), "--bundle", str(bundle), "--as-of", "2026-12-04", "--format", "json"])

    assert from_parquet.exit_code == from_csv.exit_code == 1
    csv_results = json.loads(from_csv.stdout)
    parquet_results = json.loads(from_parquet.stdout)
    assert parquet_results["controls"] == csv_results["controls"]
    assert parquet_results["gate"] == csv_results["gate"]


def write_both(folder: Path, frame: pd.DataFrame, features=("group",), positive_label: str = "1"):
    """Write `frame` as a CSV bundle and as a Parquet bundle; return both loaded datasets."""
    csv_folder = folder / "csv"
    csv_folder.mkdir()
    csv_dataset = predictions(make_bundle(csv_folder, frame.to_csv(index=False), features, positive_label))
    parquet_folder = folder / "parquet"
    parquet_folder.mkdir()
    bundle = make_bundle(parquet_folder, "label,prediction," + ",".join(features) + "\n", features, positive_label)
    (bundle / "predictions.csv").unlink()
    frame.to_parquet(bundle / "predictions.parquet", index=False)
    replace_in(bundle / "bundle.yaml", "path: predictions.csv", "path: predictions.parquet")
    return csv_dataset, predictions(bundle)


def test_missing_values_same_as_csv(tmp_path):
    frame = pd.DataFrame(
        {
            "label": pd.array([1, 0, None, 1, 0, 1], dtype="Int64"),
            "prediction": [1.0, 0.0, 1.0, np.nan, 1.0, 0.0],
            "group": ["a", "", "a", "b", None, "b"],
            "age": pd.array([25, None, 25, 30, 30, None], dtype="Int64"),
        }
    )
    csv_dataset, parquet_dataset = write_both(tmp_path, frame, ("group", "age"))

    from_csv = reduce_group_confusion(csv_dataset, ("group", "age"))
    from_parquet = reduce_group_confusion(parquet_dataset, ("group", "age"))

    assert from_parquet.groups == from_csv.groups
    assert from_parquet.rows_excluded == from_csv.rows_excluded == 2
    # The empty string and the null both form the missing group, and 25 stays `25`, not `25.0`.
    assert (MISSING_GROUP, MISSING_GROUP) in from_parquet.groups
    assert ("a", "25") in from_parquet.groups


def test_boolean_and_text_labels_same_as_csv(tmp_path):
    frame = pd.DataFrame(
        {
            "label": ["yes", "no", "yes", "no"],
            "prediction": ["yes", "yes", "no", "no"],
            "group": [True, False, True, False],
        }
    )
    csv_dataset, parquet_dataset = write_both(tmp_path, frame, positive_label='"yes"')

    from_parquet = reduce_group_confusion(parquet_dataset, ("group",))

    assert from_parquet.groups == reduce_group_confusion(csv_dataset, ("group",)).groups
    assert set(from_parquet.groups) == {("True",), ("False",)}


@st.composite
def random_frames(draw):
    rows = draw(st.integers(0, 120))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    label = rng.choice([0, 1], rows)
    frame = pd.DataFrame(
        {
            "label": label,
            "prediction": np.where(rng.random(rows) < 0.3, 1 - label, label),
            "group": rng.choice(["x", "y", "z", ""], rows).astype(object),
            "level": rng.integers(0, 4, rows),
        }
    )
    frame.loc[rng.random(rows) < 0.1, "group"] = None
    return frame, draw(st.integers(5, 60))


@settings(max_examples=15, deadline=None)
@given(case=random_frames())
def test_random_data_same_as_csv(tmp_path_factory, case):
    frame, chunk_rows = case
    folder = tmp_path_factory.mktemp("random")
    frame = frame.astype({"label": "int64"})
    if frame["label"].nunique() < 2 or frame["prediction"].nunique() < 2:
        frame = pd.concat([frame, pd.DataFrame({"label": [0, 1], "prediction": [1, 0], "group": ["x", "y"], "level": [0, 1]})])
    csv_dataset, parquet_dataset = write_both(folder, frame, ("group", "level"))

    from_csv = reduce_group_confusion(csv_dataset, ("group", "level"), chunk_rows)
    from_parquet = reduce_group_confusion(parquet_dataset, ("group", "level"), chunk_rows)

    assert from_parquet.groups == from_csv.groups
    assert from_parquet.overall.n == len(frame)


# Bad files: every problem is invalid input with the file named, never a traceback.


def load_errors(bundle: Path):
    with pytest.raises(InvalidInputError) as caught:
        load_bundle(bundle)
    return caught.value.diagnostics


def test_truncated_file_e409(tmp_path):
    bundle = parquet_bundle(tmp_path, compas_frame())
    data = (bundle / "predictions.parquet").read_bytes()
    (bundle / "predictions.parquet").write_bytes(data[: len(data) // 2])

    (diagnostic,) = load_errors(bundle)

    assert diagnostic.code == "E409"
    assert "cannot read `predictions.parquet` as Parquet" in diagnostic.message
    assert "magic bytes" in diagnostic.message
    assert "complete Parquet file" in diagnostic.help


def test_csv_declared_parquet_e409(tmp_path):
    bundle = parquet_bundle(tmp_path, compas_frame(), digest=False)
    shutil.copy(COMPAS_BUNDLE / "predictions.csv", bundle / "predictions.parquet")

    (diagnostic,) = load_errors(bundle)

    assert diagnostic.code == "E409"
    assert "declare `format: csv`" in diagnostic.help


def test_parquet_declared_csv_e409(tmp_path):
    bundle = parquet_bundle(tmp_path, compas_frame())
    replace_in(bundle / "bundle.yaml", "format: parquet", "format: csv")

    (diagnostic,) = load_errors(bundle)

    assert diagnostic.code == "E409"
    assert "as CSV" in diagnostic.message
    assert "declare `format: parquet`" in diagnostic.help


def test_unknown_format_schema_error(tmp_path):
    bundle = parquet_bundle(tmp_path, compas_frame())
    replace_in(bundle / "bundle.yaml", "format: parquet", "format: feather")

    (diagnostic,) = load_errors(bundle)

    assert diagnostic.code == "E404"
    assert "feather" in diagnostic.message


def test_missing_declared_column_e407(tmp_path):
    bundle = parquet_bundle(tmp_path, compas_frame().drop(columns=["age_cat"]))

    (diagnostic,) = load_errors(bundle)

    assert diagnostic.code == "E407"
    assert "column `age_cat`" in diagnostic.message
    assert "columns in the file: id, sex, race" in diagnostic.help


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_read_unknown_column_names_it(tmp_path, compas_csv, suffix):
    dataset = compas_csv if suffix == "csv" else predictions(parquet_bundle(tmp_path, compas_frame()))

    with pytest.raises(EvidenceReadError) as caught:
        list(read_chunks(dataset, ["race", "priors_count"]))

    assert "column `priors_count` is not in" in str(caught.value)
    assert "columns in the file: id, sex" in str(caught.value)


def corrupt_column_pages(path: Path, column: str) -> None:
    """Overwrite the first row group's pages of one column, keeping the footer readable."""
    metadata = pq.ParquetFile(path).metadata
    names = [metadata.schema.column(i).name for i in range(metadata.num_columns)]
    chunk = metadata.row_group(0).column(names.index(column))
    start = chunk.dictionary_page_offset or chunk.data_page_offset
    data = bytearray(path.read_bytes())
    data[start : start + chunk.total_compressed_size] = b"\xab" * chunk.total_compressed_size
    path.write_bytes(bytes(data))


def test_corrupt_pages_check_exits_2(tmp_path):
    bundle = parquet_bundle(tmp_path, compas_frame(), digest=False, row_group_size=1000)
    corrupt_column_pages(bundle / "predictions.parquet", "race")

    result = CliRunner().invoke(main, ["check", str(COMPAS_POLICY), "--bundle", str(bundle)])

    assert result.exit_code == 2
    assert "E409" in result.stderr
    assert "cannot read `predictions.parquet` as Parquet" in result.stderr
    assert "Traceback" not in result.stderr


def test_corrupt_pages_with_digest_e408(tmp_path):
    bundle = parquet_bundle(tmp_path, compas_frame(), row_group_size=1000)
    corrupt_column_pages(bundle / "predictions.parquet", "race")

    (diagnostic,) = load_errors(bundle)

    assert diagnostic.code == "E408"
    assert "predictions.parquet" in diagnostic.message


def test_digest_covers_parquet_bytes(tmp_path):
    bundle = parquet_bundle(tmp_path, compas_frame())

    dataset = predictions(bundle)

    assert dataset.sha256 == file_sha256(bundle / "predictions.parquet")
    assert pyarrow.parquet.read_metadata(bundle / "predictions.parquet").num_rows == COMPAS_ROWS


# Every family of metrics: the same results from Parquet as from CSV.

ADULT = REPO / "tests" / "data" / "real" / "adult" / "predictions.csv"

FAMILIES_POLICY = """
policy families {
  version "1.0.0"
  control measured {
    title "Every family of metrics reads Parquet as it reads CSV"
    owner "tests@example.org"
    maps ["NIST-AI-RMF:MEASURE 2.11"]
    severity high
    enforcement advisory
    remediation "None; this policy only measures."
    check dp: demographic_parity_difference(by = ["sex", "race"]) <= 1
    check fnr: max(false_negative_rate(by = "age_group")) <= 1
    check di: disparate_impact_ratio(by = "race") >= 0
    check auc: roc_auc() >= 0
    check auc_gap: roc_auc_difference(by = "sex") <= 1
    check brier: brier_score() <= 1
    check ece: expected_calibration_error() <= 1
    check psi_age: psi(feature = "age") <= 100
    check psi_job: psi(feature = "occupation") <= 100
    check ks_hours: ks_statistic(feature = "hr_per_week") <= 1
    check js_race: jensen_shannon_distance(feature = "race") <= 1
    check chi_sex: chi_square_p_value(feature = "sex") >= 0
    check drifted: drifted_share(features = ["age", "sex", "occupation", "hr_per_week"]) <= 1
    check missing: max_missing_rate() <= 1
    check duplicates: duplicate_row_count() >= 0
    check non_finite: non_finite_count() >= 0
    check representation: representation_gap(by = "sex") <= 1
  }
}
"""


def families_bundle(folder: Path, data_format: str) -> Path:
    """Write a bundle of the Adult predictions and a reference/current split by row order, as CSV or Parquet."""
    data = pd.read_csv(ADULT, keep_default_na=False, na_values=[""])
    half = len(data) // 2
    parts = {"predictions": data, "reference": data.iloc[:half], "current": data.iloc[half:]}
    folder.mkdir()
    for name, part in parts.items():
        if data_format == "csv":
            part.to_csv(folder / f"{name}.csv", index=False)
        else:
            part.to_parquet(folder / f"{name}.parquet", index=False)
    features = "{age: numeric, hr_per_week: numeric, score: numeric, occupation: categorical, sex: categorical, race: categorical}"
    (folder / "bundle.yaml").write_text(
        f"""\
bundle_version: 1
model:
  id: adult-income
  name: Adult
  version: "1"
  owner: tests
  task: binary_classification
  risk_tier: high
datasets:
  - name: predictions
    path: predictions.{data_format}
    role: predictions
    format: {data_format}
    label_column: over_50k
    prediction_column: predicted_over_50k
    score_column: score
    sensitive_features: [sex, race, age_group]
    positive_label: 1
    favorable: positive
  - name: reference
    path: reference.{data_format}
    role: reference
    format: {data_format}
    features: {features}
  - name: current
    path: current.{data_format}
    role: current
    format: {data_format}
    features: {features}
""",
        encoding="utf-8",
    )
    return folder


def test_every_family_same_as_csv(tmp_path):
    policy = tmp_path / "families.gov"
    policy.write_text(FAMILIES_POLICY, encoding="utf-8")
    results = {}
    for data_format in ("csv", "parquet"):
        bundle = families_bundle(tmp_path / data_format, data_format)
        result = CliRunner().invoke(main, ["check", str(policy), "--bundle", str(bundle), "--as-of", "2026-12-04", "--format", "json"])
        assert result.exit_code == 0, result.stderr
        results[data_format] = json.loads(result.stdout)["controls"][0]["checks"]

    for from_csv, from_parquet in zip(results["csv"], results["parquet"], strict=True):
        assert from_parquet == from_csv, from_csv["id"]
    statuses = {check["id"].rsplit(".", 1)[1]: check["status"] for check in results["parquet"]}
    # The representation check needs population shares the bundle does not declare.
    assert statuses.pop("representation") == "error"
    assert set(statuses.values()) == {"pass"}
