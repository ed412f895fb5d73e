"""Data quality metrics compared with pandas and numpy on COMPAS, Adult, German credit and random data."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govdsl.cli import main
from govdsl.compiler.plan import ReductionSpec
from govdsl.errors import InvalidInputError
from govdsl.evidence import load_bundle
from govdsl.evidence.kinds import reduction_function
from govdsl.evidence.quality_reductions import SeenRows, row_hashes
from govdsl.evidence.reductions import EvidenceInvalid, EvidenceMissing
from govdsl.metrics.registry import REGISTRY
from support import COMPAS_BUNDLE, REPO, write_policy

QUALITY_DATA = REPO / "tests" / "data" / "quality"
REAL_DATA = REPO / "tests" / "data" / "real"
ADULT_FULL = QUALITY_DATA / "adult.csv"
COMPAS_RAW = QUALITY_DATA / "compas-raw.csv"
GERMAN = REAL_DATA / "german-credit" / "predictions.csv"
COMPAS_PREDICTIONS = COMPAS_BUNDLE / "predictions.csv"

MODEL = {
    "id": "quality-test",
    "name": "Data quality test bundle",
    "version": "1",
    "owner": "tests",
    "task": "binary_classification",
    "risk_tier": "high",
}


def write_bundle(folder, data, declaration: dict | None = None, top: dict | None = None, extra_files: dict | None = None):
    """Write a bundle with one dataset `data` (role predictions) and return its folder.

    `data` is a path to copy or the CSV text itself. `declaration` adds keys to the
    dataset's entry, `top` adds keys to bundle.yaml, and `extra_files` writes more files.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        (folder / "data.csv").write_text(data, encoding="utf-8")
    else:
        shutil.copyfile(data, folder / "data.csv")
    for name, text in (extra_files or {}).items():
        (folder / name).write_text(text, encoding="utf-8")
    manifest = {
        "bundle_version": 1,
        "model": MODEL,
        "datasets": [{"name": "data", "path": "data.csv", "role": "predictions", **(declaration or {})}],
        **(top or {}),
    }
    (folder / "bundle.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    return folder


def reduce_for(name: str, bundle, chunk_rows: int = 250_000, arguments: dict | None = None):
    """Run the reduction of metric `name` on the bundle's `data` dataset, as a compiled plan would."""
    declaration = REGISTRY[name]
    arguments = arguments or {}
    options = tuple(
        (key, tuple(value) if isinstance(value, list) else value)
        for key, value in sorted(arguments.items())
        if key in declaration.reduction_arguments
    )
    spec = ReductionSpec("test", declaration.reduction, None, tuple(sorted(arguments.get("by", ()))), declaration.roles, options)
    dataset = load_bundle(bundle).datasets["data"]
    return reduction_function(declaration.reduction)({declaration.roles[0]: dataset}, spec, chunk_rows)


def measure(name: str, bundle, chunk_rows: int = 250_000, **arguments):
    """Compute metric `name` on the bundle's `data` dataset; list arguments as a policy passes them."""
    arguments = {key: [value] if REGISTRY[name].parameter(key).type == "features" and isinstance(value, str) else value
                 for key, value in arguments.items()}
    table = reduce_for(name, bundle, chunk_rows, arguments)
    return REGISTRY[name].load()(table, arguments)


def per_column(value) -> dict:
    (component,) = {name for g in value.groups for name in g.rates}
    return {g.key[0]: g.rates[component] for g in value.groups}


def read_text_frame(path, markers=("",)) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=list(markers))


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def compas_raw(tmp_path_factory):
    return write_bundle(tmp_path_factory.mktemp("compas") / "bundle", COMPAS_RAW)


@pytest.fixture(scope="module")
def adult_full(tmp_path_factory):
    return write_bundle(tmp_path_factory.mktemp("adult") / "bundle", ADULT_FULL)


# Missing values


@pytest.mark.parametrize("chunk_rows", [250_000, 997])
def test_missing_rate_matches_pandas_compas(compas_raw, chunk_rows):
    expected = read_text_frame(COMPAS_RAW).isna().mean()
    value = measure("missing_rate", compas_raw, chunk_rows)
    assert value.value is None  # one value per column
    assert per_column(value) == pytest.approx(expected.to_dict(), abs=1e-15)
    assert list(per_column(value)) == list(expected.index)


def test_max_missing_rate_all_missing_column(compas_raw):
    value = measure("max_missing_rate", compas_raw)
    assert value.value == 1.0  # violent_recid is empty in every row
    assert value.extremes["missing_rate"][1] == ("violent_recid",)
    assert value.details["columns"]["violent_recid"] == {"missing": 7214, "rows": 7214}


def test_max_missing_rate_columns_and_exclude(compas_raw):
    frame = read_text_frame(COMPAS_RAW)
    chosen = measure("max_missing_rate", compas_raw, columns=["c_jail_in", "c_offense_date", "sex"])
    assert chosen.value == pytest.approx(frame[["c_jail_in", "c_offense_date", "sex"]].isna().mean().max(), abs=1e-15)
    rest = measure("max_missing_rate", compas_raw, exclude=["violent_recid", "c_arrest_date"])
    expected = frame.drop(columns=["violent_recid", "c_arrest_date"]).isna().mean().max()
    assert rest.value == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize("chunk_rows", [250_000, 113])
def test_incomplete_row_rate_matches_pandas(compas_raw, chunk_rows):
    frame = read_text_frame(COMPAS_RAW)
    columns = ["days_b_screening_arrest", "c_jail_in", "c_offense_date", "in_custody"]
    value = measure("incomplete_row_rate", compas_raw, chunk_rows, columns=columns)
    assert value.value == pytest.approx(frame[columns].isna().any(axis=1).mean(), abs=1e-15)
    assert value.details["incomplete_rows"] == int(frame[columns].isna().any(axis=1).sum())


def test_missing_markers_on_adult(tmp_path):
    frame = read_text_frame(ADULT_FULL)
    rng = np.random.default_rng(3)
    marked = frame.copy()
    for column, share in (("occupation", 0.05), ("country", 0.02), ("age", 0.001)):
        rows = rng.random(len(marked)) < share
        marked.loc[rows, column] = rng.choice(["?", " ? ", "NA"], rows.sum())
    path = tmp_path / "adult-marked.csv"
    marked.to_csv(path, index=False)
    bundle = write_bundle(tmp_path / "bundle", path, {"schema": {"columns": [{"name": "age"}], "missing_values": ["?", "NA"]}})
    expected = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=["", "?", " ? ", "NA"]).isna().mean()
    assert per_column(measure("missing_rate", bundle, 5000)) == pytest.approx(expected.to_dict(), abs=1e-15)


def test_missing_rate_without_markers_counts_only_empty(tmp_path):
    bundle = write_bundle(tmp_path / "b", "a,b\nNA,1\n?,\n,3\n")
    assert per_column(measure("missing_rate", bundle)) == {"a": pytest.approx(1 / 3), "b": pytest.approx(1 / 3)}


def test_missing_rate_random_against_pandas(tmp_path):
    rng = np.random.default_rng(11)
    for case in range(5):
        rows, columns = int(rng.integers(1, 400)), int(rng.integers(1, 6))
        values = rng.choice(["x", "y", "1", "2.5", ""], size=(rows, columns), p=[0.3, 0.2, 0.2, 0.1, 0.2])
        frame = pd.DataFrame(values, columns=[f"c{i}" for i in range(columns)])
        path = tmp_path / f"random{case}.csv"
        frame.to_csv(path, index=False)
        bundle = write_bundle(tmp_path / f"b{case}", path)
        expected = read_text_frame(path).isna()
        chunk_rows = int(rng.integers(1, 50))
        assert per_column(measure("missing_rate", bundle, chunk_rows)) == pytest.approx(expected.mean().to_dict(), abs=1e-15)
        incomplete = measure("incomplete_row_rate", bundle, chunk_rows).value
        assert incomplete == pytest.approx(expected.any(axis=1).mean(), abs=1e-15)


def test_missing_rate_empty_dataset_undefined(tmp_path):
    bundle = write_bundle(tmp_path / "b", "a,b\n")
    value = measure("max_missing_rate", bundle)
    assert value.value is None
    assert value.reason == "dataset `data` has no rows"
    groups = measure("missing_rate", bundle).groups
    assert [g.rates["missing_rate"] for g in groups] == [None, None]
    assert groups[0].reasons == {"missing_rate": "the dataset has no rows"}
    assert measure("incomplete_row_rate", bundle).value is None


def test_missing_rate_unknown_column_is_missing_evidence(compas_raw):
    with pytest.raises(EvidenceMissing, match=r"dataset `data` has no column `rase` \(columns: id, "):
        measure("missing_rate", compas_raw, columns=["race", "rase"])
    with pytest.raises(EvidenceMissing, match="has no column `idd`"):
        measure("max_missing_rate", compas_raw, exclude=["idd"])


def test_max_missing_rate_all_columns_excluded(tmp_path):
    bundle = write_bundle(tmp_path / "b", "a,b\n1,2\n")
    value = measure("max_missing_rate", bundle, exclude=["a", "b"])
    assert value.value is None
    assert value.reason == "no columns of dataset `data` are selected"


# Duplicate rows


@pytest.mark.parametrize("chunk_rows", [250_000, 4099])
def test_duplicates_match_pandas_adult(adult_full, chunk_rows):
    frame = read_text_frame(ADULT_FULL)
    count = measure("duplicate_row_count", adult_full, chunk_rows)
    assert count.value == int(frame.duplicated().sum()) == 23
    rate = measure("duplicate_row_rate", adult_full, chunk_rows)
    assert rate.value == pytest.approx(23 / 30162, abs=1e-15)


def test_duplicate_examples_name_earlier_rows(adult_full):
    frame = read_text_frame(ADULT_FULL)
    examples = measure("duplicate_row_count", adult_full, 2000).details["examples"]
    assert len(examples) == 10
    duplicated = frame.duplicated()
    first_rows = [int(i) + 1 for i in np.flatnonzero(duplicated)[:10]]
    assert [e["row"] for e in examples] == first_rows
    for example in examples:
        row, earlier = frame.iloc[example["row"] - 1], frame.iloc[example["repeats_row"] - 1]
        assert example["repeats_row"] < example["row"]
        assert row.equals(earlier)


@pytest.mark.parametrize("chunk_rows", [250_000, 1499])
def test_duplicates_over_columns_compas(compas_raw, chunk_rows):
    frame = read_text_frame(COMPAS_RAW)
    columns = ["sex", "race", "age_cat", "decile_score", "two_year_recid"]
    value = measure("duplicate_row_count", compas_raw, chunk_rows, columns=columns)
    assert value.value == int(frame.duplicated(subset=columns).sum())
    excluded = measure("duplicate_row_count", compas_raw, chunk_rows, exclude=["id", "c_jail_in", "c_jail_out"])
    assert excluded.value == int(frame.drop(columns=["id", "c_jail_in", "c_jail_out"]).duplicated().sum())


def test_duplicates_random_small_chunks(tmp_path):
    rng = np.random.default_rng(5)
    for case in range(5):
        rows = int(rng.integers(0, 120))
        frame = pd.DataFrame({
            "a": rng.choice(["1", "2", "", "x"], rows),
            "b": rng.choice(["u", "v", ""], rows),
            "c": rng.integers(0, 3, rows).astype(str),
        })
        path = tmp_path / f"random{case}.csv"
        frame.to_csv(path, index=False)
        bundle = write_bundle(tmp_path / f"b{case}", path)
        expected = read_text_frame(path)
        for chunk_rows in (1, int(rng.integers(2, 40)), 10_000):
            value = measure("duplicate_row_count", bundle, chunk_rows)
            assert value.value == int(expected.duplicated().sum()), (case, chunk_rows)


def test_duplicate_across_chunk_boundary(tmp_path):
    text = "a,b\n1,x\n2,y\n3,z\n4,w\n5,v\n1,x\n2,q\n"
    bundle = write_bundle(tmp_path / "b", text)
    value = measure("duplicate_row_count", bundle, chunk_rows=5)
    assert value.value == 1
    assert value.details["examples"] == [{"row": 6, "repeats_row": 1}]


def test_duplicates_missing_cells_compare_equal(tmp_path):
    bundle = write_bundle(tmp_path / "b", "a,b\n,x\n,x\n1,\n1,\n")
    assert measure("duplicate_row_count", bundle, chunk_rows=1).value == 2


def test_duplicates_compare_text_as_written(tmp_path):
    # `1` and `1.0` are different text, so these rows differ; pandas reading text agrees.
    bundle = write_bundle(tmp_path / "b", "a,b\n1,x\n1.0,x\n 1,x\n")
    assert measure("duplicate_row_count", bundle).value == 0


def test_duplicates_empty_dataset(tmp_path):
    bundle = write_bundle(tmp_path / "b", "a,b\n")
    assert measure("duplicate_row_count", bundle).value == 0
    rate = measure("duplicate_row_rate", bundle)
    assert rate.value is None
    assert rate.reason == "dataset `data` has no rows"


def test_duplicates_all_columns_excluded(tmp_path):
    bundle = write_bundle(tmp_path / "b", "a\n1\n")
    with pytest.raises(EvidenceMissing, match="no columns of dataset `data` are left to compare"):
        measure("duplicate_row_count", bundle, exclude=["a"])


def test_seen_rows_memory_per_distinct_row():
    seen = SeenRows()
    rows = 0
    rng = np.random.default_rng(0)
    for _ in range(20):
        frame = pd.DataFrame({"a": rng.integers(0, 10**12, 1000).astype(str)})
        keys = np.unique(row_hashes(frame))
        keys = keys[seen.first_rows(keys) < 0]
        seen.add(keys, np.arange(rows, rows + len(keys)))
        rows += len(keys)
    assert sum(len(k) for k, _ in seen.runs) == rows
    assert seen.peak_bytes == 24 * rows
    assert len(seen.runs) <= math.ceil(math.log2(20)) + 1
    for keys, _ in seen.runs:
        assert (np.sort(keys) == keys).all()


def test_row_hashes_differ_by_column_order():
    left = pd.DataFrame({"a": ["x"], "b": ["y"]})
    right = pd.DataFrame({"a": ["y"], "b": ["x"]})
    assert row_hashes(left)[0] != row_hashes(right)[0]


# NaN and infinite values


def test_non_finite_count_random_against_numpy(tmp_path):
    rng = np.random.default_rng(8)
    numbers = rng.normal(size=500).round(3).astype(str)
    specials = rng.choice(["nan", "NaN", "inf", "-inf", "Infinity", "-INF"], 500)
    mask = rng.random(500) < 0.08
    numbers[mask] = specials[mask]
    numbers[rng.random(500) < 0.05] = ""
    frame = pd.DataFrame({"x": numbers, "label": rng.choice(["a", "b", "nan"], 500)})
    path = tmp_path / "numbers.csv"
    frame.to_csv(path, index=False)
    bundle = write_bundle(tmp_path / "b", path)
    values = read_text_frame(path)["x"].dropna().astype(float).to_numpy()
    value = measure("non_finite_count", bundle, chunk_rows=37)
    assert value.value == int((~np.isfinite(values)).sum()) > 0
    assert value.details["numeric_columns"] == ["x"]  # `label` contains texts, so its `nan` is a label
    assert per_column(value)["x"] == pytest.approx((~np.isfinite(values)).mean(), abs=1e-15)


def test_non_finite_in_typed_columns(tmp_path):
    text = "n,i,s\n1.5,1,nan\ninf,inf,x\nnan,2,y\n"
    schema = {"columns": [{"name": "n", "type": "number"}, {"name": "i", "type": "integer"}, {"name": "s", "type": "string"}]}
    bundle = write_bundle(tmp_path / "b", text, {"schema": schema})
    value = measure("non_finite_count", bundle)
    assert value.details["numeric_columns"] == ["n", "i"]
    assert value.details["columns"] == {"n": 2}  # in an integer column, inf is a type error
    assert value.value == 2
    violations = measure("schema_violations", bundle).details["violations"]
    assert [(v["column"], v["finding"], v["count"]) for v in violations] == [("n", "non_finite", 2), ("i", "type", 1)]


def test_non_finite_allowed_by_schema(tmp_path):
    bundle = write_bundle(tmp_path / "b", "n\n1\nnan\n", {"schema": {"columns": [{"name": "n", "type": "number", "allow_non_finite": True}]}})
    assert measure("schema_violations", bundle).value == 0
    assert measure("non_finite_count", bundle).value == 1


# Schema, ranges and domains

COMPAS_SCHEMA = {
    "columns": [
        {"name": "id", "type": "integer", "nullable": False, "minimum": 1},
        {"name": "compas_screening_date", "type": "date", "minimum": "2013-01-01", "maximum": "2013-12-31"},
        {"name": "sex", "type": "string", "values": ["Male", "Female"]},
        {"name": "age", "type": "integer", "minimum": 18, "maximum": 65},
        {"name": "race", "type": "string", "values": ["African-American", "Caucasian", "Hispanic", "Other"]},
        {"name": "decile_score", "type": "integer", "minimum": 1, "maximum": 9},
        {"name": "days_b_screening_arrest", "type": "integer", "minimum": -30, "maximum": 30},
        {"name": "c_jail_in", "type": "datetime", "nullable": False, "maximum": "2014-01-01T00:00:00"},
        {"name": "c_charge_degree", "values": ["F", "M"]},
        {"name": "is_recid", "type": "boolean"},
        {"name": "two_year_recid", "type": "integer", "values": [0, 1]},
        {"name": "score_text", "type": "string", "values": ["Low", "Medium"]},
    ],
}


@pytest.fixture(scope="module")
def compas_schema(tmp_path_factory):
    return write_bundle(tmp_path_factory.mktemp("compas-schema") / "bundle", COMPAS_RAW, {"schema": COMPAS_SCHEMA})


@pytest.mark.parametrize("chunk_rows", [250_000, 2500])
def test_schema_ranges_match_pandas_compas(compas_schema, chunk_rows):
    frame = read_text_frame(COMPAS_RAW)
    numbers = frame[["age", "decile_score", "days_b_screening_arrest"]].astype(float)
    dates = pd.to_datetime(frame["compas_screening_date"])
    jail_in = pd.to_datetime(frame["c_jail_in"])
    expected = {
        "age": int(((numbers["age"] < 18) | (numbers["age"] > 65)).sum()),
        "decile_score": int((numbers["decile_score"] > 9).sum()),
        "days_b_screening_arrest": int(((numbers["days_b_screening_arrest"].abs() > 30)).sum()),
        "compas_screening_date": int(((dates < "2013-01-01") | (dates > "2013-12-31")).sum()),
        "c_jail_in": int((jail_in > "2014-01-01").sum()),
        "id": 0,
    }
    value = measure("out_of_range_count", compas_schema, chunk_rows)
    counts = {name: info["below_minimum"] + info["above_maximum"] for name, info in value.details["columns"].items()}
    assert counts == expected
    assert value.value == sum(expected.values())
    rates = per_column(measure("out_of_range_rate", compas_schema, chunk_rows))
    checked = numbers["days_b_screening_arrest"].notna().sum()
    assert rates["days_b_screening_arrest"] == pytest.approx(expected["days_b_screening_arrest"] / checked, abs=1e-15)
    assert rates["compas_screening_date"] == pytest.approx(expected["compas_screening_date"] / len(frame), abs=1e-15)


def test_schema_domains_match_pandas_compas(compas_schema):
    frame = read_text_frame(COMPAS_RAW)
    value = measure("out_of_domain_count", compas_schema)
    race = ~frame["race"].isin(["African-American", "Caucasian", "Hispanic", "Other"])
    score = ~frame["score_text"].isin(["Low", "Medium"])
    assert value.details["columns"]["race"]["out_of_domain"] == int(race.sum())
    assert value.details["columns"]["race"]["examples"] == frame["race"][race].value_counts().sort_index().to_dict()
    assert value.details["columns"]["score_text"]["examples"] == {"High": int(score.sum())}
    assert value.value == int(race.sum()) + int(score.sum())
    rates = per_column(measure("out_of_domain_rate", compas_schema))
    assert rates["race"] == pytest.approx(race.mean(), abs=1e-15)
    assert rates["two_year_recid"] == 0.0
    assert rates["c_charge_degree"] == 0.0


def test_schema_violations_compas(compas_schema):
    frame = read_text_frame(COMPAS_RAW)
    value = measure("schema_violations", compas_schema)
    found = {(v["column"], v["finding"]): v.get("count") for v in value.details["violations"]}
    assert found == {
        ("compas_screening_date", "range"): int((pd.to_datetime(frame["compas_screening_date"]) > "2013-12-31").sum()),
        ("age", "range"): int(((frame["age"].astype(int) < 18) | (frame["age"].astype(int) > 65)).sum()),
        ("race", "domain"): int((~frame["race"].isin(["African-American", "Caucasian", "Hispanic", "Other"])).sum()),
        ("decile_score", "range"): int((frame["decile_score"] == "10").sum()),
        ("days_b_screening_arrest", "range"): int((frame["days_b_screening_arrest"].astype(float).abs() > 30).sum()),
        ("c_jail_in", "nullable"): int(frame["c_jail_in"].isna().sum()),
        ("c_jail_in", "range"): int((pd.to_datetime(frame["c_jail_in"]) > "2014-01-01").sum()),
        ("score_text", "domain"): int((frame["score_text"] == "High").sum()),
    }
    assert value.value == len(found)
    labels = [g.key[0] for g in value.groups]
    assert "race (domain)" in labels
    assert "c_jail_in (nullable)" in labels


def test_schema_missing_and_unexpected_columns(tmp_path):
    schema = {"columns": [{"name": "a", "type": "integer"}, {"name": "gone"}], "additional_columns": False}
    bundle = write_bundle(tmp_path / "b", "a,b,c\n1,2,3\n", {"schema": schema})
    value = measure("schema_violations", bundle)
    assert [(v["column"], v["finding"]) for v in value.details["violations"]] == [
        ("gone", "missing_column"), ("b", "unexpected_column"), ("c", "unexpected_column"),
    ]
    assert value.value == 3


def test_schema_types_on_german_credit(tmp_path):
    frame = read_text_frame(GERMAN)
    schema = {"columns": [
        {"name": "checking_account", "type": "string", "values": ["A11", "A12", "A13", "A14"]},
        {"name": "duration_months", "type": "integer", "minimum": 6, "maximum": 48},
        {"name": "credit_amount", "type": "number", "minimum": 0},
        {"name": "age", "type": "integer", "minimum": 19, "maximum": 70},
        {"name": "purpose", "type": "string", "values": [f"A4{i}" for i in range(10)] + ["A410"]},
        {"name": "score", "type": "number", "minimum": 0, "maximum": 1},
        {"name": "good_credit", "type": "boolean"},
        {"name": "sex", "type": "integer"},
    ]}
    bundle = write_bundle(tmp_path / "b", GERMAN, {"schema": schema})
    value = measure("schema_violations", bundle, chunk_rows=128)
    found = {(v["column"], v["finding"]): v["count"] for v in value.details["violations"]}
    duration, age = frame["duration_months"].astype(int), frame["age"].astype(int)
    assert found == {
        ("duration_months", "range"): int(((duration < 6) | (duration > 48)).sum()),
        ("age", "range"): int((age > 70).sum()),
        ("sex", "type"): 1000,
    }
    sex = next(v for v in value.details["violations"] if v["column"] == "sex")
    assert sex["examples"] == frame["sex"].value_counts().sort_index().to_dict()


@pytest.mark.parametrize(
    ("column_type", "values", "errors"),
    [
        ("integer", ["1", "-2", "+3", "3.0", "1e3", "3.5", "abc", "inf", "nan"], ["3.5", "abc", "inf", "nan"]),
        ("number", ["1", "-2.5", "1e-3", "inf", "nan", "1,5", "x", " 7 "], ["1,5", "x"]),
        ("boolean", ["true", "False", "1", "0", "TRUE", "yes", "2"], ["2", "yes"]),
        ("date", ["2013-01-31", "2013-02-30", "13/01/2013", "2013-1-5", "2013-01-31T10:00"], ["13/01/2013", "2013-01-31T10:00", "2013-02-30", "2013-1-5"]),
        ("datetime", ["2013-01-31", "2013-01-31 10:00:00", "2013-01-31T10:00:00+02:00", "yesterday"], ["yesterday"]),
        ("string", ["x", "1", "nan"], []),
    ],
)
def test_schema_type_errors(tmp_path, column_type, values, errors):
    text = "v\n" + "".join(f'"{v}"\n' for v in values)
    bundle = write_bundle(tmp_path / "b", text, {"schema": {"columns": [{"name": "v", "type": column_type}]}})
    value = measure("schema_violations", bundle)
    type_findings = [v for v in value.details["violations"] if v["finding"] == "type"]
    if not errors:
        assert type_findings == []
        return
    (finding,) = type_findings
    assert finding["count"] == len(errors)
    assert sorted(finding["examples"]) == sorted(e.strip() for e in errors)


def test_domain_compares_numbers_as_numbers(tmp_path):
    schema = {"columns": [{"name": "n", "type": "integer", "values": [1, 2]}, {"name": "s", "type": "string", "values": ["1", "2"]},
                          {"name": "u", "values": [1, "x"]}]}
    bundle = write_bundle(tmp_path / "b", "n,s,u\n1.0,1.0,1.0\n2,2,x\n3,3,y\n", {"schema": schema})
    columns = measure("out_of_domain_count", bundle).details["columns"]
    assert {name: info["out_of_domain"] for name, info in columns.items()} == {"n": 1, "s": 2, "u": 1}
    assert columns["s"]["examples"] == {"1.0": 1, "3": 1}


def test_boolean_domain(tmp_path):
    schema = {"columns": [{"name": "b", "type": "boolean", "values": [True]}]}
    bundle = write_bundle(tmp_path / "b", "b\ntrue\n1\nFALSE\n0\n", {"schema": schema})
    assert measure("out_of_domain_count", bundle).value == 2


def test_examples_keep_ten_first_values_exactly(tmp_path):
    values = [f"v{i:02d}" for i in range(30)] * 3
    np.random.default_rng(1).shuffle(values)
    bundle = write_bundle(tmp_path / "b", "c\n" + "\n".join(values) + "\n", {"schema": {"columns": [{"name": "c", "values": ["none"]}]}})
    for chunk_rows in (1, 7, 1000):
        examples = measure("out_of_domain_count", bundle, chunk_rows).details["columns"]["c"]["examples"]
        assert examples == {f"v{i:02d}": 3 for i in range(10)}


def test_range_rate_named_column_without_range(compas_schema):
    value = measure("out_of_range_rate", compas_schema, columns=["sex"])
    assert value.value is None
    assert value.groups == ()
    assert value.reason == "the schema of dataset `data` declares no minimum or maximum for column `sex`"
    domain = measure("out_of_domain_count", compas_schema, columns=["age"])
    assert domain.reason == "the schema of dataset `data` declares no `values` for column `age`"


def test_schema_metrics_need_a_schema(compas_raw):
    for name in ("schema_violations", "out_of_range_count", "out_of_domain_rate"):
        with pytest.raises(EvidenceMissing, match="dataset `data` declares no `schema` in bundle.yaml"):
            measure(name, compas_raw)


def test_range_without_any_ruled_column(tmp_path):
    bundle = write_bundle(tmp_path / "b", "a\n1\n", {"schema": {"columns": [{"name": "a", "type": "integer"}]}})
    value = measure("out_of_range_count", bundle)
    assert value.value is None
    assert "declares a minimum or maximum for none of the columns read" in value.reason


@pytest.mark.parametrize(
    ("column", "message"),
    [
        ({"name": "a", "minimum": 1}, "declares a minimum or maximum but its type is `not declared`"),
        ({"name": "a", "type": "string", "maximum": 3}, "its type is `string`"),
        ({"name": "a", "type": "integer", "minimum": 5, "maximum": 1}, r"has a minimum \(5\) above its maximum \(1\)"),
        ({"name": "a", "type": "date", "minimum": "last year"}, "needs an ISO 8601 date"),
        ({"name": "a", "type": "number", "minimum": "1"}, "needs a number"),
        ({"name": "a", "values": ["x", True]}, "contains a boolean"),
        ({"name": "a", "type": "integer", "values": [1, "two"]}, "contains a value that is not a number"),
        ({"name": "a", "type": "boolean", "values": ["maybe"]}, "contains a value that is not true or false"),
    ],
)
def test_schema_declaration_errors(tmp_path, column, message):
    bundle = write_bundle(tmp_path / "b", "a\n1\n", {"schema": {"columns": [column]}})
    with pytest.raises(EvidenceInvalid, match=message):
        measure("schema_violations", bundle)


def test_schema_column_declared_twice(tmp_path):
    bundle = write_bundle(tmp_path / "b", "a\n1\n", {"schema": {"columns": [{"name": "a"}, {"name": "a"}]}})
    with pytest.raises(EvidenceInvalid, match=r"column `a` is declared twice in `datasets\[0\].schema`"):
        measure("schema_violations", bundle)


@pytest.mark.parametrize(
    ("schema", "key"),
    [
        ({"columns": [{"name": "a", "type": "int"}]}, "datasets[0].schema.columns[0].type"),
        ({"columns": [{"name": "a", "nulable": False}]}, "datasets[0].schema.columns[0].nulable"),
        ({"columns": []}, "datasets[0].schema.columns"),
        ({"columns": [{"name": "a"}], "missing_values": "NA"}, "datasets[0].schema.missing_values"),
    ],
)
def test_schema_shape_checked_on_load(tmp_path, schema, key):
    bundle = write_bundle(tmp_path / "b", "a\n1\n", {"schema": schema})
    with pytest.raises(InvalidInputError) as caught:
        load_bundle(bundle)
    assert any(f"is invalid at `{key}`" in d.message for d in caught.value.diagnostics)


def test_schema_on_empty_dataset(tmp_path):
    schema = {"columns": [{"name": "a", "type": "integer", "nullable": False, "minimum": 0, "values": [1]}]}
    bundle = write_bundle(tmp_path / "b", "a\n", {"schema": schema})
    assert measure("schema_violations", bundle).value == 0
    rate = measure("out_of_range_rate", bundle)
    assert rate.groups[0].rates["out_of_range_rate"] is None
    assert rate.groups[0].reasons["out_of_range_rate"] == "the column has no finite values of its type to compare"


def test_schema_on_parquet(tmp_path):
    frame = pd.DataFrame({
        "count": pd.array([1, None, 70], dtype="Int64"),
        "x": [0.5, float("inf"), float("nan")],
        "group": pd.Categorical(["a", "b", "zz"]),
        "flag": [True, False, True],
        "when": pd.to_datetime(["2013-01-01", "2014-06-01", "2013-03-01"]),
    })
    folder = tmp_path / "b"
    folder.mkdir()
    frame.to_parquet(folder / "data.parquet", index=False)
    schema = {"columns": [
        {"name": "count", "type": "integer", "nullable": False, "maximum": 65},
        {"name": "x", "type": "number", "minimum": 0, "maximum": 1},
        {"name": "group", "type": "string", "values": ["a", "b"]},
        {"name": "flag", "type": "boolean"},
        {"name": "when", "type": "datetime", "maximum": "2013-12-31T23:59:59"},
    ]}
    manifest = {"bundle_version": 1, "model": MODEL,
                "datasets": [{"name": "data", "path": "data.parquet", "role": "predictions", "schema": schema}]}
    (folder / "bundle.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    found = {(v["column"], v["finding"]): v["count"] for v in measure("schema_violations", folder).details["violations"]}
    # A Parquet NaN reads as a missing value, like a null, so only the infinity is non-finite.
    assert found == {("count", "nullable"): 1, ("count", "range"): 1, ("x", "non_finite"): 1,
                     ("group", "domain"): 1, ("when", "range"): 1}
    assert per_column(measure("missing_rate", folder)) == {"count": 1 / 3, "x": 1 / 3, "group": 0.0, "flag": 0.0, "when": 0.0}


# Representation


RACE_SHARES = {"African-American": 0.35, "Caucasian": 0.45, "Hispanic": 0.15, "Asian": 0.03, "Other": 0.02}
ILLUSTRATIVE = "illustrative shares written for this test, not census data"


def test_representation_matches_pandas_compas(tmp_path):
    shares = {**RACE_SHARES, "Pacific Islander": 0.0}
    bundle = write_bundle(tmp_path / "b", COMPAS_PREDICTIONS,
                          {"population_shares": [{"feature": "race", "source": ILLUSTRATIVE, "shares": shares}]})
    observed = read_text_frame(COMPAS_PREDICTIONS)["race"].value_counts(normalize=True)
    reference = pd.Series(shares)
    gaps = (observed.reindex(observed.index.union(reference.index), fill_value=0.0)
            - reference.reindex(observed.index.union(reference.index), fill_value=0.0))
    gap = measure("representation_gap", bundle, chunk_rows=500, by="race")
    assert gap.value == pytest.approx(gaps.abs().max(), abs=1e-15)
    assert gap.details["absent_from_population"] == ["Native American"]
    assert gap.details["absent_from_data"] == ["Pacific Islander"]
    assert gap.details["population"]["source"] == ILLUSTRATIVE
    difference = measure("representation_difference", bundle, by="race")
    values = {g.key[0]: g.rates["representation_difference"] for g in difference.groups}
    assert values["Native American"] is None
    assert "not in the population shares of `race`" in difference.groups[-2].reasons["representation_difference"]
    for group in RACE_SHARES:
        assert values[group] == pytest.approx(gaps[group], abs=1e-15)
    assert values["Pacific Islander"] == 0.0
    ratio = measure("representation_ratio", bundle, by="race")
    ratios = {g.key[0]: g.rates["representation_ratio"] for g in ratio.groups}
    assert ratios["Asian"] == pytest.approx(observed["Asian"] / 0.03, abs=1e-12)
    assert ratios["Pacific Islander"] is None


def test_representation_adult_sex_from_counts(tmp_path):
    counts = {"Male": 1200, "Female": 1250}
    bundle = write_bundle(tmp_path / "b", ADULT_FULL,
                          {"population_shares": [{"feature": "sex", "source": ILLUSTRATIVE, "counts": counts}]})
    observed = read_text_frame(ADULT_FULL)["sex"].value_counts(normalize=True)
    value = measure("representation_gap", bundle, chunk_rows=4096, by="sex")
    assert value.value == pytest.approx(abs(observed["Male"] - 1200 / 2450), abs=1e-15)
    assert value.details["population"]["given_as"] == "counts"
    assert value.details["population"]["total"] == 2450


def test_representation_from_file(tmp_path):
    text = "group,share\nFemale,0.5\nMale,0.5\n"
    digest = __import__("hashlib").sha256(text.encode()).hexdigest()
    entry = {"feature": "sex", "source": ILLUSTRATIVE, "file": "population/sex.csv", "sha256": digest}
    bundle = write_bundle(tmp_path / "b", COMPAS_PREDICTIONS, {"population_shares": [entry]})
    (bundle / "population").mkdir()
    (bundle / "population" / "sex.csv").write_text(text, encoding="utf-8")
    observed = read_text_frame(COMPAS_PREDICTIONS)["sex"].value_counts(normalize=True)
    value = measure("representation_gap", bundle, by="sex")
    assert value.value == pytest.approx(abs(observed["Male"] - 0.5), abs=1e-15)
    assert value.details["population"]["file"] == "population/sex.csv"
    (bundle / "population" / "sex.csv").write_text("group,share\nFemale,0.4\nMale,0.6\n", encoding="utf-8")
    with pytest.raises(EvidenceInvalid, match="does not match its declared SHA-256"):
        measure("representation_gap", bundle, by="sex")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,share\nx,1\n", "needs a `group` column and a `share` or `count` column"),
        ("group,share\nMale,0.5\nMale,0.5\n", "line 3: expected a new group name"),
        ("group,count\nMale,-1\nFemale,3\n", "line 2: expected a new group name and a non-negative count"),
        ("group,share\nMale,0.2\nFemale,0.2\n", "add up to 0.4000, not 1"),
    ],
)
def test_population_file_errors(tmp_path, text, message):
    entry = {"feature": "sex", "source": ILLUSTRATIVE, "file": "sex.csv"}
    bundle = write_bundle(tmp_path / "b", COMPAS_PREDICTIONS, {"population_shares": [entry]}, extra_files={"sex.csv": text})
    with pytest.raises(EvidenceInvalid, match=message):
        measure("representation_gap", bundle, by="sex")


def test_population_file_outside_bundle(tmp_path):
    entry = {"feature": "sex", "source": ILLUSTRATIVE, "file": "../sex.csv"}
    bundle = write_bundle(tmp_path / "b", COMPAS_PREDICTIONS, {"population_shares": [entry]})
    with pytest.raises(EvidenceInvalid, match="points outside the bundle directory"):
        measure("representation_gap", bundle, by="sex")


def test_population_shares_must_add_up(tmp_path):
    entry = {"feature": "race", "source": ILLUSTRATIVE, "shares": {"Caucasian": 0.5, "African-American": 0.4}}
    bundle = write_bundle(tmp_path / "b", COMPAS_PREDICTIONS, {"population_shares": [entry]})
    with pytest.raises(EvidenceInvalid, match=r"population shares at `datasets\[0\].population_shares\[0\]` add up to 0.9000"):
        measure("representation_gap", bundle, by="race")


def test_population_number_keys_match_number_text(tmp_path):
    entry = {"feature": "code", "source": ILLUSTRATIVE, "shares": {1: 0.5, 2: 0.5}}
    bundle = write_bundle(tmp_path / "b", "code\n1\n1.0\n2\n3\n", {"population_shares": [entry]})
    value = measure("representation_gap", bundle, by="code")
    shares = {g["group"]: g["share"] for g in value.details["groups"]}
    assert shares == {"1": 0.5, "2": 0.25, "3": 0.25}
    assert value.value == pytest.approx(0.25)


def test_population_boolean_group_rejected(tmp_path):
    text = "bundle_version: 1\n" + yaml.safe_dump({"model": MODEL}) + (
        "datasets:\n  - name: data\n    path: data.csv\n    role: predictions\n"
        "    population_shares:\n      - feature: answer\n        source: test\n        shares: {yes: 0.5, no: 0.5}\n"
    )
    folder = write_bundle(tmp_path / "b", "answer\nyes\nno\n")
    (folder / "bundle.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(EvidenceInvalid, match="is a boolean") as caught:
        measure("representation_gap", folder, by="answer")
    assert "quote the group name" in caught.value.help


def test_representation_missing_values_left_out(tmp_path):
    entry = {"feature": "g", "source": ILLUSTRATIVE, "shares": {"a": 0.5, "b": 0.5}}
    schema = {"columns": [{"name": "g"}], "missing_values": ["?"]}
    # Two columns, because pandas skips a blank line, which is what an empty one-column row looks like.
    bundle = write_bundle(tmp_path / "b", "g,x\na,1\na,1\nb,1\n,1\n?,1\n", {"population_shares": [entry], "schema": schema})
    value = measure("representation_gap", bundle, chunk_rows=2, by="g")
    assert value.details["rows"] == 3
    assert value.details["rows_without_value"] == 2
    assert value.value == pytest.approx(2 / 3 - 0.5)


def test_representation_needs_declared_feature(tmp_path):
    entry = {"feature": "sex", "source": ILLUSTRATIVE, "shares": {"Male": 0.5, "Female": 0.5}}
    bundle = write_bundle(tmp_path / "b", COMPAS_PREDICTIONS, {"population_shares": [entry]})
    with pytest.raises(EvidenceMissing, match=r"declares no population shares for `race` \(declared for: `sex`\)"):
        measure("representation_gap", bundle, by="race")
    with pytest.raises(EvidenceMissing, match="compares one feature with its population shares, not 2"):
        measure("representation_gap", bundle, by=["race", "sex"])


def test_representation_column_not_in_file(tmp_path):
    entry = {"feature": "gender", "source": ILLUSTRATIVE, "shares": {"Male": 0.5, "Female": 0.5}}
    bundle = write_bundle(tmp_path / "b", COMPAS_PREDICTIONS, {"population_shares": [entry]})
    with pytest.raises(EvidenceInvalid, match="column `gender` of the population shares"):
        measure("representation_gap", bundle, by="gender")


def test_representation_empty_dataset(tmp_path):
    entry = {"feature": "g", "source": ILLUSTRATIVE, "shares": {"a": 1.0}}
    bundle = write_bundle(tmp_path / "b", "g\n", {"population_shares": [entry]})
    value = measure("representation_gap", bundle, by="g")
    assert value.value is None
    assert value.reason == "dataset `data` has no rows with a value for `g`"


def test_population_shares_shape_checked_on_load(tmp_path):
    entry = {"feature": "g", "source": ILLUSTRATIVE, "shares": {"a": 1.0}, "counts": {"a": 3}}
    bundle = write_bundle(tmp_path / "b", "g\na\n", {"population_shares": [entry]})
    with pytest.raises(InvalidInputError):
        load_bundle(bundle)
    no_source = {"feature": "g", "shares": {"a": 1.0}}
    bundle = write_bundle(tmp_path / "c", "g\na\n", {"population_shares": [no_source]})
    with pytest.raises(InvalidInputError) as caught:
        load_bundle(bundle)
    assert "'source' is a required property" in caught.value.diagnostics[0].message


# Through the command line

QUALITY_POLICY = """
policy data_checks {
  version "1.0"

  control training_data_quality {
    title "The evidence data is complete, unique and within its schema"
    maps ["EU-AI-ACT:Art.10(3)"]
    severity high
    enforcement hard
    check missing: max_missing_rate() <= 0.01
    check per_column: every c in missing_rate(columns = ["race", "sex"]): c <= 0.01
    check duplicates: duplicate_row_rate() <= 0.0
    check schema: schema_violations() <= 0
    check ranges: max(out_of_range_rate()) <= 0.05
    check finite: non_finite_count() <= 0
  }

  control representative {
    title "Groups are represented as in the population"
    maps ["EU-AI-ACT:Art.10(3)"]
    severity medium
    enforcement soft
    check gap: representation_gap(by = "race") <= 0.25
    check under: every g in representation_difference(by = "sex"): g >= -0.05
  }
}
"""


@pytest.fixture(scope="module")
def cli_bundle(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    schema = {"columns": [
        {"name": "id", "type": "integer", "nullable": False},
        {"name": "race", "type": "string", "values": ["African-American", "Caucasian", "Hispanic", "Other", "Asian", "Native American"]},
        {"name": "decile_score", "type": "integer", "minimum": 1, "maximum": 9},
        {"name": "two_year_recid", "type": "integer", "values": [0, 1]},
    ]}
    population = [
        {"feature": "race", "source": ILLUSTRATIVE, "shares": {**RACE_SHARES, "Other": 0.01, "Native American": 0.01}},
        {"feature": "sex", "source": ILLUSTRATIVE, "shares": {"Male": 0.49, "Female": 0.51}},
    ]
    bundle = write_bundle(folder / "bundle", COMPAS_PREDICTIONS, {"schema": schema, "population_shares": population})
    return folder, bundle


def test_cli_quality_checks(cli_bundle):
    folder, bundle = cli_bundle
    policy = write_policy(folder, QUALITY_POLICY)
    result = invoke("check", policy, "--bundle", bundle, "--as-of", "2026-12-04", "--no-audit", "--format", "json")
    assert result.exit_code == 1
    checks = {c["id"].rsplit(".", 1)[1]: c for control in json.loads(result.stdout)["controls"] for c in control["checks"]}
    assert {name: c["status"] for name, c in checks.items()} == {
        "missing": "pass", "per_column": "pass", "duplicates": "pass", "schema": "fail", "ranges": "pass",
        "finite": "pass", "gap": "pass", "under": "fail",
    }
    assert checks["schema"]["value"] == 1
    assert checks["schema"]["details"]["violations"][0]["examples"] == {"10": 304}
    assert checks["ranges"]["comparisons"][0]["left"] == pytest.approx(304 / 6172)
    assert checks["under"]["failing_groups"][0]["group"] == "sex=Female"


def test_cli_quality_text_names_findings(cli_bundle):
    folder, bundle = cli_bundle
    policy = write_policy(folder, QUALITY_POLICY)
    out = invoke("check", policy, "--bundle", bundle, "--as-of", "2026-12-04", "--no-audit").stdout
    assert "does not hold: schema_violations() = 1 is not <= 0" in out
    assert "column=decile_score (range)  304" in out
    assert "race=Native American" in out


def test_cli_invalid_schema_declaration_exits_2(tmp_path):
    bundle = write_bundle(tmp_path / "b", COMPAS_PREDICTIONS, {"schema": {"columns": [{"name": "race", "type": "string", "minimum": 1}]}})
    policy = write_policy(tmp_path, QUALITY_POLICY)
    result = invoke("check", policy, "--bundle", bundle, "--no-audit")
    assert result.exit_code == 2
    assert "column `race` at `datasets[0].schema.columns[0]` declares a minimum or maximum" in result.stderr
    assert "a range needs `type: integer`, `number`, `date` or `datetime`" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_cli_missing_schema_is_check_error(tmp_path):
    bundle = write_bundle(tmp_path / "b", COMPAS_PREDICTIONS)
    policy = write_policy(tmp_path, QUALITY_POLICY)
    result = invoke("check", policy, "--bundle", bundle, "--no-audit", "--format", "json")
    checks = {c["id"].rsplit(".", 1)[1]: c for control in json.loads(result.stdout)["controls"] for c in control["checks"]}
    assert checks["schema"]["status"] == "error"
    assert checks["schema"]["reason"] == "dataset `data` declares no `schema` in bundle.yaml"
    assert checks["gap"]["status"] == "error"
    assert checks["missing"]["status"] == "pass"


def test_metric_command_shows_quality_metric():
    result = invoke("metric", "duplicate_row_count")
    assert result.exit_code == 0
    assert "columns (features, optional)" in result.output
    assert "a dataset without rows has 0 duplicate rows" in result.output
    assert "`1`, `1.0` and ` 1` are three different values" in result.output


def test_quality_declarations_import_no_numeric_library():
    import subprocess
    import sys

    code = (
        "import sys; import govdsl.metrics.registry; import govdsl.metrics.families.quality, govdsl.metrics.families.integrity;"
        " print(sorted(m for m in ('pandas', 'numpy', 'scipy') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_example_bundle_findings():
    frame = read_text_frame(COMPAS_RAW)
    result = invoke("check", QUALITY_DATA / "quality.gov", "--bundle", QUALITY_DATA, "--as-of", "2026-12-04",
                    "--no-audit", "--format", "json")
    assert result.exit_code == 1
    checks = {c["id"]: c for control in json.loads(result.stdout)["controls"] for c in control["checks"]}
    statuses = {name.split(".", 1)[1]: c["status"] for name, c in checks.items()}
    assert statuses == {
        "compas_complete_and_valid.missing": "pass",
        "compas_complete_and_valid.duplicates": "pass",
        "compas_complete_and_valid.schema": "fail",
        "compas_complete_and_valid.screening_window": "fail",
        "adult_complete_and_valid.duplicates": "pass",
        "adult_complete_and_valid.schema": "pass",
        "representative.race_gap": "fail",
        "representative.sex_under": "fail",
        "evidence_integrity.digests": "pass",
        "evidence_integrity.compas_figures": "pass",
        "evidence_integrity.adult_figures": "pass",
    }
    days = frame["days_b_screening_arrest"].astype(float)
    released = pd.to_datetime(frame["out_custody"]) > "2016-04-30"
    violations = checks["data_quality_example.compas_complete_and_valid.schema"]["details"]["violations"]
    assert [(v["column"], v["count"]) for v in violations] == [
        ("days_b_screening_arrest", int(((days < -30) | (days > 30)).sum())),
        ("out_custody", int(released.sum())),
    ]


def test_duplicates_on_parquet_row_groups(tmp_path):
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({
        "n": pd.array(rng.choice([1, 2, None], 400), dtype="Int64"),
        "x": rng.choice([0.5, float("nan"), 2.0], 400),
        "g": pd.Categorical(rng.choice(["a", "b"], 400)),
    })
    folder = tmp_path / "b"
    folder.mkdir()
    frame.to_parquet(folder / "data.parquet", index=False, row_group_size=37)
    manifest = {"bundle_version": 1, "model": MODEL, "datasets": [{"name": "data", "path": "data.parquet", "role": "predictions"}]}
    (folder / "bundle.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    for chunk_rows in (16, 1000):
        assert measure("duplicate_row_count", folder, chunk_rows).value == int(frame.duplicated().sum())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cells=st.lists(st.lists(st.sampled_from(["a", "b", "1", "1.0", "", "nan", "inf"]), min_size=2, max_size=2), max_size=40),
    chunk_rows=st.integers(min_value=1, max_value=50),
)
def test_profile_and_duplicates_property(tmp_path_factory, cells, chunk_rows):
    folder = tmp_path_factory.mktemp("property")
    text = "p,q\n" + "".join(f"{p},{q}\n" for p, q in cells)
    bundle = write_bundle(folder / "b", text)
    # pandas skips a line whose cells are all empty, and so does the reader, so build the reference by reading too.
    expected = read_text_frame(bundle / "data.csv")
    assert measure("duplicate_row_count", bundle, chunk_rows).value == int(expected.duplicated().sum())
    rates = per_column(measure("missing_rate", bundle, chunk_rows))
    if len(expected):
        assert rates == pytest.approx(expected.isna().mean().to_dict(), abs=1e-15)
    else:
        assert rates == {"p": None, "q": None}
    if expected["p"].dropna().isin(["1", "1.0", "nan", "inf"]).all():
        non_finite = measure("non_finite_count", bundle, chunk_rows).details["columns"].get("p", 0)
        assert non_finite == int(expected["p"].isin(["nan", "inf"]).sum())
