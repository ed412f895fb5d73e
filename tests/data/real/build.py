#!/usr/bin/env python3
"""Build the Adult and German credit test bundles from the public UCI files.

Reads the cleaned UCI Adult file (30,162 rows with a header line) and the UCI
Statlog German credit file `german.data`. It fits one scikit-learn logistic
regression per data set, then writes `predictions.csv` and `bundle.yaml` into
`adult/` and `german-credit/` next to this script, with an unchanged copy of
`german.data`.
The models exist only to give the fairness tests realistic predictions. They are
not meant to be good or fair.

- Adult: a random sample of 10,000 rows (seed 0) is kept, and the model is trained
  on the other 20,162 rows, so every kept row has an out-of-sample prediction.
- German credit: all 1,000 rows are kept. Each row's prediction comes from a model
  trained on the other four of five stratified folds (seed 0).

Usage, from the repository root:

    python tests/data/real/build.py --adult PATH/adult.csv --german PATH/german.data
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HERE = Path(__file__).resolve().parent
SEED = 0

ADULT_SAMPLE_ROWS = 10_000
ADULT_ROWS = 30_162
ADULT_NUMERIC = ["age", "education_num", "capital_gain", "capital_loss", "hr_per_week"]
# race and sex are not model inputs, as is common practice. They still shape the
# predictions through correlated inputs such as relationship and occupation.
ADULT_CATEGORICAL = ["type_employer", "marital", "occupation", "relationship", "country"]

# Attribute names of german.data, in file order, after the UCI documentation of the Statlog
# (German Credit Data) set. Coded values such as A11 are kept as they are.
GERMAN_COLUMNS = [
    "checking_account",
    "duration_months",
    "credit_history",
    "purpose",
    "credit_amount",
    "savings",
    "employment_since",
    "installment_rate",
    "personal_status_sex",
    "other_debtors",
    "residence_since",
    "property",
    "age",
    "other_installment_plans",
    "housing",
    "existing_credits",
    "job",
    "people_liable",
    "telephone",
    "foreign_worker",
    "credit_risk",
]
GERMAN_ROWS = 1_000
GERMAN_NUMERIC = [
    "duration_months",
    "credit_amount",
    "installment_rate",
    "residence_since",
    "age",
    "existing_credits",
    "people_liable",
]
# personal_status_sex encodes sex, so it is left out of the model's inputs like Adult's sex.
GERMAN_CATEGORICAL = [
    column
    for column in GERMAN_COLUMNS
    if column not in GERMAN_NUMERIC and column not in ("personal_status_sex", "credit_risk")
]
# Attribute 9 of the UCI documentation: A91, A93 and A94 are male, A92 and A95 female.
GERMAN_SEX = {"A91": "male", "A92": "female", "A93": "male", "A94": "male", "A95": "female"}


class BuildError(Exception):
    """Source data that does not look like the expected public file."""


def logistic_model(numeric: list[str], categorical: list[str]):
    encode = ColumnTransformer(
        [
            ("numeric", StandardScaler(), numeric),
            ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
        ]
    )
    return make_pipeline(encode, LogisticRegression(max_iter=2000))


def age_group(age: pd.Series, bins: list[int], labels: list[str]) -> pd.Series:
    return pd.cut(age, bins=bins, labels=labels, right=False).astype(str)


def render_scores(probabilities: np.ndarray) -> list[str]:
    """Render probabilities with four decimals, so the CSV does not depend on float printing."""
    return [f"{value:.4f}" for value in probabilities]


def build_adult(source: Path, output: Path) -> pd.DataFrame:
    frame = pd.read_csv(source, dtype={column: str for column in ADULT_CATEGORICAL}, skipinitialspace=True)
    if len(frame) != ADULT_ROWS or "income" not in frame.columns:
        raise BuildError(f"{source}: expected {ADULT_ROWS} rows with an `income` column, found {len(frame)} rows")
    if set(frame["income"]) != {"<=50K", ">50K"}:
        raise BuildError(f"{source}: `income` has values {sorted(set(frame['income']))}, expected <=50K and >50K")

    rng = np.random.default_rng(SEED)
    chosen = np.sort(rng.choice(len(frame), size=ADULT_SAMPLE_ROWS, replace=False))
    kept = np.zeros(len(frame), dtype=bool)
    kept[chosen] = True
    label = (frame["income"] == ">50K").astype(int)

    model = logistic_model(ADULT_NUMERIC, ADULT_CATEGORICAL)
    model.fit(frame.loc[~kept, ADULT_NUMERIC + ADULT_CATEGORICAL], label[~kept])
    sample = frame.loc[kept].reset_index(drop=True)
    probabilities = model.predict_proba(sample[ADULT_NUMERIC + ADULT_CATEGORICAL])[:, 1]

    sample["age_group"] = age_group(sample["age"], [0, 25, 45, 65, 200], ["17-24", "25-44", "45-64", "65+"])
    sample["over_50k"] = label[kept].to_numpy()
    sample["predicted_over_50k"] = (probabilities >= 0.5).astype(int)
    sample["score"] = render_scores(probabilities)
    write_csv(sample, output / "predictions.csv")
    return sample


def build_german(source: Path, output: Path) -> pd.DataFrame:
    # The file is TAB separated, has no header line and starts with an empty line.
    frame = pd.read_csv(source, sep="\t", header=None, names=GERMAN_COLUMNS, dtype=str, skip_blank_lines=True)
    if len(frame) != GERMAN_ROWS or frame["credit_risk"].isna().any():
        raise BuildError(f"{source}: expected {GERMAN_ROWS} rows of {len(GERMAN_COLUMNS)} TAB-separated values")
    unknown = sorted(set(frame["personal_status_sex"]) - set(GERMAN_SEX))
    if unknown or set(frame["credit_risk"]) != {"1", "2"}:
        raise BuildError(f"{source}: unexpected codes in attribute 9 or the label: {unknown}")
    for column in GERMAN_NUMERIC:
        frame[column] = frame[column].astype(int)

    good = (frame["credit_risk"] == "1").astype(int)
    features = frame[GERMAN_NUMERIC + GERMAN_CATEGORICAL]
    probabilities = np.zeros(len(frame))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)
    for train, test in folds.split(features, good):
        model = logistic_model(GERMAN_NUMERIC, GERMAN_CATEGORICAL)
        model.fit(features.iloc[train], good.iloc[train])
        probabilities[test] = model.predict_proba(features.iloc[test])[:, 1]

    frame["sex"] = frame["personal_status_sex"].map(GERMAN_SEX)
    frame["age_group"] = age_group(frame["age"], [0, 26, 200], ["19-25", "26+"])
    frame["good_credit"] = good
    frame["predicted_good_credit"] = (probabilities >= 0.5).astype(int)
    frame["score"] = render_scores(probabilities)
    write_csv(frame, output / "predictions.csv")
    shutil.copyfile(source, output / "german.data")
    return frame


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    path.write_bytes(frame.to_csv(index=False, lineterminator="\n").encode("utf-8"))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


BUNDLES = {
    "adult": {
        "id": "adult-income",
        "name": "Income over 50K (UCI Adult, logistic regression)",
        "label": "over_50k",
        "prediction": "predicted_over_50k",
        "features": "[sex, race, age_group]",
        "use": "Test bundle for govdsl's fairness checks on the UCI Adult census data.",
    },
    "german-credit": {
        "id": "german-credit-risk",
        "name": "Good credit risk (UCI Statlog German credit, logistic regression)",
        "label": "good_credit",
        "prediction": "predicted_good_credit",
        "features": "[sex, age_group, foreign_worker]",
        "use": "Test bundle for govdsl's fairness checks on the UCI German credit data.",
    },
}


def write_bundle(folder: str) -> None:
    settings = BUNDLES[folder]
    digest = sha256(HERE / folder / "predictions.csv")
    text = f"""\
# Generated by tests/data/real/build.py; rebuild instead of editing this file.
bundle_version: 1
model:
  id: {settings['id']}
  name: "{settings['name']}"
  version: "1"
  owner: "govdsl tests"
  task: binary_classification
  risk_tier: high
  model_type: logistic_regression
  intended_use: >-
    {settings['use']} It decides nothing about anyone.
datasets:
  - name: predictions
    path: predictions.csv
    sha256: "{digest}"
    role: predictions
    format: csv
    label_column: {settings['label']}
    prediction_column: {settings['prediction']}
    score_column: score
    sensitive_features: {settings['features']}
    positive_label: 1
    favorable: positive
"""
    (HERE / folder / "bundle.yaml").write_text(text, encoding="utf-8", newline="\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build tests/data/real/adult and tests/data/real/german-credit.")
    parser.add_argument("--adult", type=Path, required=True, help="path to the cleaned UCI Adult CSV (30,162 rows)")
    parser.add_argument("--german", type=Path, required=True, help="path to the UCI Statlog german.data file")
    arguments = parser.parse_args(argv)
    try:
        adult = build_adult(arguments.adult, HERE / "adult")
        german = build_german(arguments.german, HERE / "german-credit")
    except (BuildError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for folder in BUNDLES:
        write_bundle(folder)
    print(f"adult: {len(adult)} rows, source sha256 {sha256(arguments.adult)}")
    print(f"german-credit: {len(german)} rows, source sha256 {sha256(arguments.german)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
