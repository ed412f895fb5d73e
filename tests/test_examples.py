"""The Adult and German credit example bundles: gate decisions, documented figures and build scripts.

Each example's README states the gate decision, each control's status and the key
figures. These tests run `govdsl check` on the committed bundles and compare the
results with those statements, with independent computations (scikit-learn,
scipy, pandas) on the committed CSV files, and with the SHA-256 digests in
bundle.yaml. The German credit source file can be rebuilt exactly from the
committed datasets, so its build script is also rerun and compared byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from scipy import stats
from sklearn import metrics

from govdsl.cli import main
from support import REPO

AS_OF = "2026-12-04"
ADULT = REPO / "examples" / "adult"
GERMAN = REPO / "examples" / "german-credit"
ADULT_POLICY = REPO / "policies" / "examples" / "adult.gov"
GERMAN_POLICY = REPO / "policies" / "examples" / "german-credit.gov"
# SHA-256 of german.data as published in the repository discoverdata/german-credit-data.
GERMAN_SOURCE_SHA256 = "89c0fdec0cf49064992834e82cbb069ea316b7b0da154ffc7b7b90dadc147088"


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def run_check(policy: Path, bundle: Path, *options: str) -> tuple[int, dict]:
    result = invoke("check", policy, "--bundle", bundle, "--as-of", AS_OF, "--format", "json", *options)
    return result.exit_code, json.loads(result.output)


def checks_by_id(results: dict) -> dict[str, dict]:
    return {check["id"]: check for control in results["controls"] for check in control["checks"]}


def group_value(check: dict, component: str, **group: str) -> float:
    matches = [entry["values"][component] for entry in check["groups"] if entry["group"] == group]
    assert len(matches) == 1, f"{group} not among the groups of {check['id']}"
    return matches[0]


def four(value: float) -> str:
    return f"{value:.4f}"


@pytest.fixture(scope="module")
def adult_results():
    return run_check(ADULT_POLICY, ADULT)


@pytest.fixture(scope="module")
def german_results():
    return run_check(GERMAN_POLICY, GERMAN)


# ---------------------------------------------------------------- Adult


ADULT_STATUSES = {
    "adult_credit.selection_parity_sex": "fail",
    "adult_credit.error_parity_sex": "pass",
    "adult_credit.error_parity_race": "pass",
    "adult_credit.discrimination": "pass",
    "adult_credit.calibration": "pass",
    "adult_credit.input_drift": "fail",
    "adult_credit.score_drift": "pass",
    "adult_credit.data_quality": "pass",
    "adult_credit.documentation": "pass",
    "adult_credit.sign_off": "fail",
}


def test_adult_gate_blocked(adult_results):
    exit_code, results = adult_results
    assert exit_code == 1
    assert results["gate"]["decision"] == "blocked"
    assert results["gate"]["blocking_controls"] == [
        "adult_credit.selection_parity_sex",
        "adult_credit.input_drift",
        "adult_credit.sign_off",
    ]


@pytest.mark.parametrize("control, status", ADULT_STATUSES.items())
def test_adult_control_status(adult_results, control, status):
    _, results = adult_results
    statuses = {entry["id"]: entry["status"] for entry in results["controls"]}
    assert statuses[control] == status


def test_adult_failing_checks_named(adult_results):
    _, results = adult_results
    checks = checks_by_id(results)
    assert checks["adult_credit.input_drift.psi"]["message"] == "does not hold: fails for feature=age (0.2893)"
    assert checks["adult_credit.sign_off.owner"]["status"] == "fail"
    assert "Example ML Engineer" in checks["adult_credit.sign_off.owner"]["message"]
    assert "one of the model's developers" in checks["adult_credit.sign_off.owner"]["message"]
    assert checks["adult_credit.sign_off.validator"]["status"] == "pass"
    assert checks["adult_credit.sign_off.no_self_approval"]["value"] == 1
    excluded = checks["adult_credit.error_parity_race.odds_gap"]["excluded_groups"]
    assert excluded == [
        {"group": {"race": "Amer-Indian-Eskimo"}, "n": 61},
        {"group": {"race": "Other"}, "n": 43},
    ]


def adult_documented_figures(results: dict) -> dict[str, float]:
    """Map each figure the Adult README and model card quote to the value in the results."""
    checks = checks_by_id(results)
    race = checks["adult_credit.error_parity_race.odds_gap"]
    input_psi = checks["adult_credit.input_drift.psi"]
    return {
        "disparate impact ratio by sex": checks["adult_credit.selection_parity_sex.four_fifths"]["value"],
        "lower bound of the ratio": checks["adult_credit.selection_parity_sex.four_fifths"]["details"]["interval"]["low"],
        "upper bound of the ratio": checks["adult_credit.selection_parity_sex.four_fifths"]["details"]["interval"]["high"],
        "equalized odds difference by sex": checks["adult_credit.error_parity_sex.odds_gap"]["value"],
        "race gap": race["metric_value"],
        "lower bound of the race gap": race["details"]["interval"]["low"],
        "roc auc": checks["adult_credit.discrimination.auc"]["value"],
        "accuracy": checks["adult_credit.discrimination.accuracy"]["value"],
        "brier score": checks["adult_credit.calibration.brier"]["value"],
        "calibration error": checks["adult_credit.calibration.ece"]["value"],
        "calibration error gap": checks["adult_credit.calibration.ece_gap"]["value"],
        "psi of age": group_value(input_psi, "psi", feature="age"),
        "psi of marital": group_value(input_psi, "psi", feature="marital"),
        "psi of relationship": group_value(input_psi, "psi", feature="relationship"),
        "ks statistic of age": checks["adult_credit.input_drift.ks_age"]["value"],
        "psi of the score": checks["adult_credit.score_drift.psi"]["value"],
    }


ADULT_FIGURES = {
    "disparate impact ratio by sex": "0.3175",
    "lower bound of the ratio": "0.2721",
    "upper bound of the ratio": "0.3704",
    "equalized odds difference by sex": "0.0748",
    "race gap": "0.1666",
    "lower bound of the race gap": "0.0232",
    "roc auc": "0.9297",
    "accuracy": "0.8717",
    "brier score": "0.0884",
    "calibration error": "0.0099",
    "calibration error gap": "0.0026",
    "psi of age": "0.2893",
    "psi of marital": "0.0882",
    "psi of relationship": "0.0658",
    "ks statistic of age": "0.2627",
    "psi of the score": "0.0748",
}


@pytest.mark.parametrize("figure", ADULT_FIGURES)
def test_adult_documented_figure(adult_results, figure):
    _, results = adult_results
    text = ADULT_FIGURES[figure]
    assert four(adult_documented_figures(results)[figure]) == text
    documents = (ADULT / "README.md").read_text(encoding="utf-8") + (ADULT / "model_card.md").read_text(encoding="utf-8")
    assert text in documents


def test_adult_performance_matches_sklearn(adult_results):
    _, results = adult_results
    checks = checks_by_id(results)
    predictions = pd.read_csv(ADULT / "predictions.csv")
    label = predictions["over_50k"]
    score = predictions["score"]
    assert checks["adult_credit.discrimination.auc"]["value"] == pytest.approx(metrics.roc_auc_score(label, score), abs=1e-12)
    assert checks["adult_credit.discrimination.accuracy"]["value"] == pytest.approx(
        metrics.accuracy_score(label, predictions["predicted_over_50k"]), abs=1e-12
    )
    assert checks["adult_credit.calibration.brier"]["value"] == pytest.approx(metrics.brier_score_loss(label, score), abs=1e-12)
    for band, group in predictions.groupby("age_band"):
        expected = metrics.roc_auc_score(group["over_50k"], group["score"])
        assert group_value(checks["adult_credit.discrimination.auc_per_age_band"], "roc_auc", age_band=band) == pytest.approx(
            expected, abs=1e-12
        )


def test_adult_disparate_impact_matches_pandas(adult_results):
    _, results = adult_results
    predictions = pd.read_csv(ADULT / "predictions.csv")
    rates = predictions.groupby("sex")["predicted_over_50k"].mean()
    value = checks_by_id(results)["adult_credit.selection_parity_sex.four_fifths"]["value"]
    assert value == pytest.approx(rates["Female"] / rates["Male"], abs=1e-12)


def reference_psi(reference: np.ndarray, current: np.ndarray, bins: int = 10, epsilon: float = 1e-4) -> float:
    """PSI over quantile bins of the reference, each bin closed on the right, as docs/metrics.md defines it."""
    edges = np.unique(np.quantile(reference, np.arange(1, bins) / bins))
    reference_share = np.bincount(np.searchsorted(edges, reference, side="left"), minlength=len(edges) + 1) / len(reference)
    current_share = np.bincount(np.searchsorted(edges, current, side="left"), minlength=len(edges) + 1) / len(current)
    reference_share = np.where(reference_share == 0, epsilon, reference_share)
    current_share = np.where(current_share == 0, epsilon, current_share)
    return float(np.sum((current_share - reference_share) * np.log(current_share / reference_share)))


def test_adult_drift_matches_scipy(adult_results):
    _, results = adult_results
    checks = checks_by_id(results)
    reference = pd.read_csv(ADULT / "reference.csv")
    current = pd.read_csv(ADULT / "current.csv")
    ks = stats.ks_2samp(reference["age"], current["age"])
    assert checks["adult_credit.input_drift.ks_age"]["value"] == pytest.approx(ks.statistic, abs=1e-12)
    psi_age = group_value(checks["adult_credit.input_drift.psi"], "psi", feature="age")
    assert psi_age == pytest.approx(reference_psi(reference["age"].to_numpy(), current["age"].to_numpy()), rel=1e-9)
    psi_score = checks["adult_credit.score_drift.psi"]["value"]
    assert psi_score == pytest.approx(reference_psi(reference["score"].to_numpy(), current["score"].to_numpy()), rel=1e-9)


def test_adult_drift_comes_from_sampling():
    """The current rows are younger by construction, while the held-out evaluation rows are not."""
    predictions = pd.read_csv(ADULT / "predictions.csv")
    reference = pd.read_csv(ADULT / "reference.csv")
    current = pd.read_csv(ADULT / "current.csv")
    assert round((reference["age"] < 35).mean(), 4) == 0.423
    assert round((current["age"] < 35).mean(), 4) == 0.6857
    assert reference_psi(reference["age"].to_numpy(), predictions["age"].to_numpy()) < 0.01
    assert reference_psi(reference["score"].to_numpy(), predictions["score"].to_numpy()) < 0.01
    assert four(reference_psi(reference["age"].to_numpy(), predictions["age"].to_numpy())) == "0.0023"
    assert four(reference_psi(reference["score"].to_numpy(), predictions["score"].to_numpy())) == "0.0043"


def test_adult_datasets_disjoint():
    rows = {name: set(pd.read_csv(ADULT / f"{name}.csv")["source_row"]) for name in ("predictions", "reference", "current")}
    assert len(rows["predictions"]) == 6032
    assert len(rows["reference"]) == 3000
    assert len(rows["current"]) == 3704
    assert not rows["predictions"] & rows["reference"]
    assert not rows["predictions"] & rows["current"]
    assert not rows["reference"] & rows["current"]


def test_adult_decision_follows_score():
    for name in ("predictions", "reference", "current"):
        frame = pd.read_csv(ADULT / f"{name}.csv")
        assert ((frame["score"] >= 0.5).astype(int) == frame["predicted_over_50k"]).all(), name


# ---------------------------------------------------------------- German credit


GERMAN_STATUSES = {
    "german_credit.sex_parity": "pass",
    "german_credit.age_parity": "fail",
    "german_credit.intersectional_parity": "insufficient",
    "german_credit.foreign_worker_parity": "insufficient",
    "german_credit.performance": "pass",
    "german_credit.data_validity": "pass",
    "german_credit.card_and_evidence": "pass",
    "german_credit.independent_validation": "fail",
}


def test_german_gate_blocked(german_results):
    exit_code, results = german_results
    assert exit_code == 1
    assert results["gate"]["decision"] == "blocked"
    assert results["gate"]["blocking_controls"] == [
        "german_credit.age_parity",
        "german_credit.intersectional_parity",
        "german_credit.foreign_worker_parity",
        "german_credit.independent_validation",
    ]


@pytest.mark.parametrize("control, status", GERMAN_STATUSES.items())
def test_german_control_status(german_results, control, status):
    _, results = german_results
    statuses = {entry["id"]: entry["status"] for entry in results["controls"]}
    assert statuses[control] == status


def test_german_small_groups_named(german_results):
    _, results = german_results
    checks = checks_by_id(results)
    intersectional = checks["german_credit.intersectional_parity.four_fifths"]
    assert intersectional["value"] is None
    assert intersectional["reason"] == "groups below the minimum size of 30 rows: age_band=19-25, sex=male (n = 19)"
    foreign = checks["german_credit.foreign_worker_parity.four_fifths"]
    assert foreign["value"] is None
    assert foreign["reason"] == "groups below the minimum size of 30 rows: foreign_worker=no (n = 13)"


def test_german_allow_insufficient_still_blocked():
    exit_code, results = run_check(GERMAN_POLICY, GERMAN, "--allow-insufficient")
    assert exit_code == 1
    assert results["gate"]["blocking_controls"] == ["german_credit.age_parity", "german_credit.independent_validation"]
    assert results["gate"]["relaxed_controls"] == [
        "german_credit.intersectional_parity",
        "german_credit.foreign_worker_parity",
    ]


def test_german_validation_not_independent(german_results):
    _, results = german_results
    checks = checks_by_id(results)
    assert checks["german_credit.independent_validation.owner"]["status"] == "pass"
    assert checks["german_credit.independent_validation.validator"]["value"] == 0
    assert checks["german_credit.independent_validation.no_self_approval"]["value"] == 1


GERMAN_FIGURES = {
    "german_credit.sex_parity.four_fifths": "0.8140",
    "german_credit.age_parity.four_fifths": "0.5340",
    "german_credit.age_parity.opportunity_gap": "0.2100",
    "german_credit.performance.auc": "0.8253",
    "german_credit.performance.bad_risks_approved": "0.0444",
    "german_credit.performance.brier": "0.1524",
}


@pytest.mark.parametrize("check_id", GERMAN_FIGURES)
def test_german_documented_figure(german_results, check_id):
    _, results = german_results
    text = GERMAN_FIGURES[check_id]
    assert four(checks_by_id(results)[check_id]["value"]) == text
    assert text in (GERMAN / "README.md").read_text(encoding="utf-8")
    assert text in (GERMAN / "model_card.md").read_text(encoding="utf-8")


def test_german_values_match_references(german_results):
    _, results = german_results
    checks = checks_by_id(results)
    predictions = pd.read_csv(GERMAN / "predictions.csv")
    label = predictions["good_credit"]
    decision = predictions["predicted_good_credit"]
    assert checks["german_credit.performance.auc"]["value"] == pytest.approx(metrics.roc_auc_score(label, predictions["score"]), abs=1e-12)
    assert checks["german_credit.performance.bad_risks_approved"]["value"] == pytest.approx(decision[label == 0].mean(), abs=1e-12)
    rates = predictions.groupby("age_band")["predicted_good_credit"].mean()
    assert checks["german_credit.age_parity.four_fifths"]["value"] == pytest.approx(rates["19-25"] / rates["26+"], abs=1e-12)
    recall = predictions[label == 1].groupby("age_band")["predicted_good_credit"].mean()
    assert checks["german_credit.age_parity.opportunity_gap"]["value"] == pytest.approx(recall["26+"] - recall["19-25"], abs=1e-12)


def test_german_decision_follows_cost_matrix():
    predictions = pd.read_csv(GERMAN / "predictions.csv")
    assert ((predictions["score"] > 5 / 6).astype(int) == predictions["predicted_good_credit"]).all()


def rebuild_german_source(folder: Path) -> Path:
    """Write german.data back from the committed datasets, which contain every source field."""
    rows = pd.concat(
        [pd.read_csv(GERMAN / "training.csv", dtype=str), pd.read_csv(GERMAN / "predictions.csv", dtype=str)]
    )
    rows["source_line"] = rows["source_line"].astype(int)
    rows = rows.sort_values("source_line")
    attributes = list(rows.columns[1 : rows.columns.get_loc("telephone") + 1])
    lines = [""]
    for _, row in rows.iterrows():
        foreign_worker = {"yes": "A201", "no": "A202"}[row["foreign_worker"]]
        credit_risk = "1" if row["good_credit"] == "1" else "2"
        lines.append("\t".join([*(row[name] for name in attributes), foreign_worker, credit_risk]))
    source = folder / "german.data"
    source.write_text("\n".join(lines) + "\n", encoding="ascii", newline="\n")
    return source


def test_german_datasets_hold_the_source(tmp_path):
    source = rebuild_german_source(tmp_path)
    assert hashlib.sha256(source.read_bytes()).hexdigest() == GERMAN_SOURCE_SHA256


def run_build(example: Path, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(example / "build.py"), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_german_build_reproduces_files(tmp_path):
    import scipy
    import sklearn

    summary = json.loads((GERMAN / "build_summary.json").read_text(encoding="utf-8"))
    installed = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scikit-learn": sklearn.__version__,
        "scipy": scipy.__version__,
    }
    if installed != summary["versions"]:
        pytest.skip(f"the files were built with {summary['versions']}, not {installed}")
    source = rebuild_german_source(tmp_path)
    output = tmp_path / "out"
    output.mkdir()
    shutil.copyfile(GERMAN / "model_card.md", output / "model_card.md")

    completed = run_build(GERMAN, "--source", source, "--output", output)

    assert completed.returncode == 0, completed.stderr
    for name in ("training.csv", "predictions.csv", "build_summary.json", "bundle.yaml"):
        assert (output / name).read_bytes() == (GERMAN / name).read_bytes(), name


GERMAN_BAD_SOURCES = {
    "wrong field count": (lambda lines: lines.__setitem__(5, lines[5].replace("\t", ",", 3)), "line 6: found 18 TAB-separated fields"),
    "unknown code": (lambda lines: lines.__setitem__(2, lines[2].replace("A", "B", 1)), "line 3: attribute 'checking_account' is 'B12'"),
    "non-integer number": (
        lambda lines: lines.__setitem__(3, "\t".join(["A11", "12.5", *lines[3].split("\t")[2:]])),
        "line 4: attribute 'duration_months' is '12.5', expected a whole number",
    ),
    "missing applicant": (lambda lines: lines.pop(10), "contains 999 applicants, expected 1000"),
}


@pytest.mark.parametrize("case", GERMAN_BAD_SOURCES)
def test_german_build_rejects_bad_source(tmp_path, case):
    change, message = GERMAN_BAD_SOURCES[case]
    source = rebuild_german_source(tmp_path)
    lines = source.read_text(encoding="ascii").split("\n")
    change(lines)
    source.write_text("\n".join(lines), encoding="ascii")
    output = tmp_path / "out"
    output.mkdir()
    shutil.copyfile(GERMAN / "model_card.md", output / "model_card.md")

    completed = run_build(GERMAN, "--source", source, "--output", output)

    assert completed.returncode == 1
    assert message in completed.stderr
    assert "Traceback" not in completed.stderr
    assert sorted(path.name for path in output.iterdir()) == ["model_card.md"]


def write_adult_like(path: Path, rows: int, age: str = "39") -> None:
    """Write a CSV with the Adult header and `rows` copies of one data line."""
    header = "age,type_employer,fnlwgt,education,education_num,marital,occupation,relationship,race,sex,capital_gain,capital_loss,hr_per_week,country,income\n"
    line = f"{age},State-gov,77516,Bachelors,13,Never-married,Adm-clerical,Not-in-family,White,Male,2174,0,40,United-States,<=50K\n"
    path.write_text(header + line * rows, encoding="utf-8")


def test_adult_build_rejects_missing_column(tmp_path):
    source = tmp_path / "adult.csv"
    source.write_text("age,sex\n39,Male\n", encoding="utf-8")
    (tmp_path / "model_card.md").write_text("# card\n", encoding="utf-8")
    completed = run_build(ADULT, "--source", source, "--output", tmp_path)
    assert completed.returncode == 1
    assert "is missing the columns" in completed.stderr
    assert "'income'" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_adult_build_rejects_row_count(tmp_path):
    source = tmp_path / "adult.csv"
    write_adult_like(source, rows=5)
    (tmp_path / "model_card.md").write_text("# card\n", encoding="utf-8")
    completed = run_build(ADULT, "--source", source, "--output", tmp_path)
    assert completed.returncode == 1
    assert "has 5 data rows, expected 30162" in completed.stderr


def test_adult_build_rejects_non_integer(tmp_path):
    source = tmp_path / "adult.csv"
    write_adult_like(source, rows=30_162, age="forty")
    (tmp_path / "model_card.md").write_text("# card\n", encoding="utf-8")
    completed = run_build(ADULT, "--source", source, "--output", tmp_path)
    assert completed.returncode == 1
    assert "line 2: column 'age' contains 'forty', expected a whole number" in completed.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["adult.csv", "model_card.md"]


@pytest.mark.parametrize("example", [ADULT, GERMAN], ids=["adult", "german-credit"])
def test_build_without_source_file(tmp_path, example):
    completed = run_build(example, "--source", tmp_path / "absent.csv", "--output", tmp_path)
    assert completed.returncode == 2
    assert "source file not found" in completed.stderr


# ---------------------------------------------------------------- both examples


@pytest.mark.parametrize("example", [ADULT, GERMAN], ids=["adult", "german-credit"])
def test_bundle_digests_match(example):
    bundle = yaml.safe_load((example / "bundle.yaml").read_text(encoding="utf-8"))
    declared = [(entry["path"], entry["sha256"]) for entry in bundle["datasets"] + bundle["files"]]
    assert {path for path, _ in declared} >= {entry["path"] for entry in bundle["datasets"]} | {bundle["model_card"]}
    for path, digest in declared:
        assert hashlib.sha256((example / path).read_bytes()).hexdigest() == digest, path


@pytest.mark.parametrize("example", [ADULT, GERMAN], ids=["adult", "german-credit"])
def test_bundle_yaml_up_to_date(tmp_path, example):
    """bundle.yaml is what `build.py --refresh-digests` renders from the committed files."""
    for path in example.iterdir():
        if path.suffix in (".csv", ".json", ".md") and path.name != "README.md":
            shutil.copyfile(path, tmp_path / path.name)
    completed = run_build(example, "--refresh-digests", "--output", tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / "bundle.yaml").read_bytes() == (example / "bundle.yaml").read_bytes()


@pytest.mark.parametrize("example", [ADULT, GERMAN], ids=["adult", "german-credit"])
def test_example_is_modest_in_size(example):
    total = sum(path.stat().st_size for path in example.iterdir())
    assert total < 2_000_000


@pytest.mark.parametrize("example", [ADULT, GERMAN], ids=["adult", "german-credit"])
def test_approvals_marked_illustrative(example):
    text = (example / "bundle.yaml").read_text(encoding="utf-8")
    assert "ILLUSTRATIVE ONLY" in text
    bundle = yaml.safe_load(text)
    developers = {name.lower() for name in bundle["model"]["developers"]}
    approvers = [approval["name"].lower() for approval in bundle["approvals"]]
    assert any(name in developers for name in approvers)
    for approval in bundle["approvals"]:
        assert approval["note"].startswith("Illustrative entry, not a real approval.")


def test_example_policies_lint_clean():
    result = invoke("lint", ADULT_POLICY, GERMAN_POLICY, "--format", "json", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    findings = json.loads(result.output)
    assert [finding for finding in findings if finding["severity"] != "info"] == []
    assert {finding["code"] for finding in findings} <= {"I207"}


def test_example_policies_formatted():
    result = invoke("fmt", "--check", ADULT_POLICY, GERMAN_POLICY)
    assert result.exit_code == 0, result.output


def test_readme_lists_examples():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert re.search(r"examples/adult/README\.md", readme)
    assert re.search(r"examples/german-credit/README\.md", readme)


def test_bound_and_aggregate_checks_report_compared_value(adult_results):
    _, results = adult_results
    checks = checks_by_id(results)
    race = checks["adult_credit.error_parity_race.odds_gap"]
    assert race["value"] == race["details"]["interval"]["low"]
    assert four(race["metric_value"]) == "0.1666"
    assert race["comparison"] == {"operator": "<=", "threshold": 0.1}
    mix = checks["adult_credit.score_drift.sensitive_mix"]
    assert mix["value"] == max(group["values"]["jensen_shannon_distance"] for group in mix["groups"])
    assert mix["metric_value"] is None
    assert mix["comparison"]["operator"] == "<"


def test_quantifier_message_names_groups_and_counts_the_rest(adult_results):
    _, results = adult_results
    check = checks_by_id(results)["adult_credit.discrimination.auc_per_age_band"]
    assert check["message"].startswith("holds: age_band=17-24: g = 0.8210 >= 0.75; age_band=25-44: g = 0.9229 >= 0.75;")
    assert check["message"].endswith("; and 1 more that holds")
    assert [c["group"] for c in check["comparisons"]] == ["age_band=17-24", "age_band=25-44", "age_band=45-64", "age_band=65+"]
