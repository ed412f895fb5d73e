#!/usr/bin/env python3
"""Build the Adult example bundle from the cleaned UCI Adult census income file.

Reads adult.csv (30,162 rows with a header line), trains a scikit-learn
gradient boosting classifier with a fixed seed, and writes three datasets and
bundle.yaml next to this script:

- predictions.csv: the held-out evaluation rows with the model's score and
  decision, the label and the sensitive features;
- reference.csv: a random sample of the training rows, the data the model was
  built on;
- current.csv: held-out rows with a younger age mix, standing in for the inputs
  the model sees after deployment. The drift between reference.csv and
  current.csv is made by this sampling rule; README.md explains it.

Two runs on the same source file with the same library versions produce
byte-identical outputs. `--refresh-digests` rewrites only bundle.yaml from the
committed files, such as after an edit of model_card.md, and needs no source.

Usage, from the repository root:
    python examples/adult/build.py --source PATH/TO/adult.csv
    python examples/adult/build.py --refresh-digests
"""

from __future__ import annotations

import json
import string
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SCRIPT_DIR = Path(__file__).resolve().parent

# The helpers shared by the example build scripts live in examples/bundle_tools.py.
# Running `python examples/adult/build.py` puts only examples/adult on sys.path,
# so add its parent folder.
sys.path.insert(0, str(SCRIPT_DIR.parent))
from bundle_tools import (  # noqa: E402
    MODEL_CARD_FILENAME,
    SUMMARY_FILENAME,
    BuildError,
    library_versions,
    parse_build_arguments,
    render_csv,
    run_build,
)

PREDICTIONS_FILENAME = "predictions.csv"
REFERENCE_FILENAME = "reference.csv"
CURRENT_FILENAME = "current.csv"

SEED = 0
EXPECTED_ROW_COUNT = 30_162
SOURCE_COLUMNS = [
    "age",
    "type_employer",
    "fnlwgt",
    "education",
    "education_num",
    "marital",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital_gain",
    "capital_loss",
    "hr_per_week",
    "country",
    "income",
]
INTEGER_COLUMNS = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hr_per_week"]
INCOME_VALUES = ("<=50K", ">50K")
POSITIVE_INCOME = ">50K"

# Model inputs. sex and race are left out, as is common practice, but inputs such
# as relationship (Husband, Wife) and marital status carry much of the same signal.
NUMERIC_INPUTS = ["age", "education_num", "capital_gain", "capital_loss", "hr_per_week"]
CATEGORICAL_INPUTS = ["type_employer", "marital", "occupation", "relationship", "country"]

# 60% of the source rows train the model. The other 40% are held out and split in
# half: the evaluation rows, and the pool that current.csv is drawn from.
HOLDOUT_SHARE = 0.4
REFERENCE_ROWS = 3_000
# current.csv keeps every pool row younger than CURRENT_AGE_CUTOFF and this share
# of the older pool rows, so younger people are over-represented.
CURRENT_AGE_CUTOFF = 35
CURRENT_OLDER_SHARE = 1 / 3
DECISION_THRESHOLD = 0.5

AGE_BAND_EDGES = [17, 25, 45, 65]
AGE_BAND_LABELS = ["17-24", "25-44", "45-64", "65+"]

# Column order of the written files. `source_row` is the row's 1-based position
# among the data rows of the source file, so every row can be traced back.
FEATURE_COLUMNS = [
    "age",
    "age_band",
    "sex",
    "race",
    "education_num",
    "type_employer",
    "marital",
    "occupation",
    "relationship",
    "capital_gain",
    "capital_loss",
    "hr_per_week",
    "country",
]
PREDICTION_COLUMNS = ["source_row", *FEATURE_COLUMNS, "over_50k", "score", "predicted_over_50k"]
MONITORING_COLUMNS = ["source_row", *FEATURE_COLUMNS, "score", "predicted_over_50k"]

# Features that the drift checks compare, with their bundle.yaml types.
DRIFT_FEATURES = {
    "age": "numeric",
    "education_num": "numeric",
    "capital_gain": "numeric",
    "capital_loss": "numeric",
    "hr_per_week": "numeric",
    "score": "numeric",
    "type_employer": "categorical",
    "marital": "categorical",
    "occupation": "categorical",
    "relationship": "categorical",
    "country": "categorical",
    "race": "categorical",
    "sex": "categorical",
}


@dataclass(frozen=True)
class Outputs:
    """The rendered files, kept in memory until every one of them has been validated."""

    predictions: bytes
    reference: bytes
    current: bytes
    summary: dict


def read_source(source_path: Path) -> pd.DataFrame:
    """Read the source CSV and check its columns, row count and values."""
    try:
        frame = pd.read_csv(source_path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except UnicodeDecodeError as error:
        raise BuildError(f"{source_path} is not valid UTF-8 text: {error}") from error
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise BuildError(f"{source_path} is not a valid CSV file: {error}") from error

    missing = [name for name in SOURCE_COLUMNS if name not in frame.columns]
    if missing:
        raise BuildError(
            f"{source_path} is missing the columns {missing} (found {list(frame.columns)}). "
            "Pass the cleaned UCI Adult file with a header line."
        )
    if len(frame) != EXPECTED_ROW_COUNT:
        raise BuildError(
            f"{source_path} has {len(frame)} data rows, expected {EXPECTED_ROW_COUNT}: the cleaned "
            "UCI Adult file without rows that have missing values."
        )

    for column in SOURCE_COLUMNS:
        empty = frame[column].str.strip().isin(["", "?"])
        if empty.any():
            line = int(np.flatnonzero(empty.to_numpy())[0]) + 2
            raise BuildError(f"{source_path}, line {line}: column {column!r} is empty or `?`, a missing value.")
    for column in INTEGER_COLUMNS:
        numbers = pd.to_numeric(frame[column], errors="coerce")
        invalid = numbers.isna() | (numbers % 1 != 0)
        if invalid.any():
            line = int(np.flatnonzero(invalid.to_numpy())[0]) + 2
            raise BuildError(
                f"{source_path}, line {line}: column {column!r} contains {frame[column].iloc[line - 2]!r}, "
                "expected a whole number."
            )
        frame[column] = numbers.astype("int64")
    unknown = sorted(set(frame["income"]) - set(INCOME_VALUES))
    if unknown:
        raise BuildError(f"{source_path}: column 'income' contains {unknown}, expected only {list(INCOME_VALUES)}.")

    frame.insert(0, "source_row", np.arange(1, len(frame) + 1))
    return frame


def age_band(age: pd.Series) -> pd.Series:
    bands = pd.cut(age, bins=[*AGE_BAND_EDGES, np.inf], labels=AGE_BAND_LABELS, right=False)
    if bands.isna().any():
        raise BuildError(f"ages below {AGE_BAND_EDGES[0]} have no age band: {sorted(age[bands.isna()].unique())}")
    return bands.astype(str)


def split_rows(frame: pd.DataFrame, label: pd.Series) -> dict[str, np.ndarray]:
    """Split row positions into training, evaluation, reference and current rows."""
    from sklearn.model_selection import train_test_split

    positions = np.arange(len(frame))
    training, holdout = train_test_split(
        positions, test_size=HOLDOUT_SHARE, random_state=SEED, stratify=label
    )
    evaluation, pool = train_test_split(
        holdout, test_size=0.5, random_state=SEED, stratify=label.iloc[holdout]
    )
    rng = np.random.default_rng(SEED)
    reference = rng.choice(training, size=REFERENCE_ROWS, replace=False)

    pool_ages = frame["age"].to_numpy()[pool]
    younger = pool[pool_ages < CURRENT_AGE_CUTOFF]
    older = pool[pool_ages >= CURRENT_AGE_CUTOFF]
    kept_older = rng.choice(older, size=round(len(older) * CURRENT_OLDER_SHARE), replace=False)
    current = np.concatenate([younger, kept_older])
    return {
        "training": np.sort(training),
        "evaluation": np.sort(evaluation),
        "reference": np.sort(reference),
        "current": np.sort(current),
    }


def train_model(features: pd.DataFrame, label: pd.Series):
    """Fit a histogram gradient boosting classifier on ordinal-coded categories and raw numbers."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    encode = ColumnTransformer(
        [
            (
                "categorical",
                OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
                CATEGORICAL_INPUTS,
            ),
            ("numeric", "passthrough", NUMERIC_INPUTS),
        ]
    )
    classifier = HistGradientBoostingClassifier(
        categorical_features=list(range(len(CATEGORICAL_INPUTS))),
        random_state=SEED,
    )
    model = make_pipeline(encode, classifier)
    model.fit(features[NUMERIC_INPUTS + CATEGORICAL_INPUTS], label)
    return model


def score_rows(model, rows: pd.DataFrame) -> pd.DataFrame:
    """Add the rounded score and the decision that the written score implies."""
    probabilities = model.predict_proba(rows[NUMERIC_INPUTS + CATEGORICAL_INPUTS])[:, 1]
    # Four decimals keep the file independent of float printing and bound the
    # number of distinct scores. The decision is taken on the written score.
    scores = np.round(probabilities, 4)
    scored = rows.copy()
    scored["score"] = [f"{value:.4f}" for value in scores]
    scored["predicted_over_50k"] = (scores >= DECISION_THRESHOLD).astype("int64")
    return scored


def summarize(frame: pd.DataFrame, positions: dict[str, np.ndarray], predictions: pd.DataFrame,
              reference: pd.DataFrame, current: pd.DataFrame, model) -> dict:
    """Compute the figures that the model card and README quote, from the written values."""
    from sklearn import metrics

    label = predictions["over_50k"].to_numpy()
    scores = predictions["score"].astype(float).to_numpy()
    decisions = predictions["predicted_over_50k"].to_numpy()
    training_rows = frame.iloc[positions["training"]]
    classifier = model[-1]
    summary = {
        "versions": library_versions(),
        "gradient_boosting": {
            "iterations": int(classifier.n_iter_),
            "early_stopping": bool(classifier.do_early_stopping_),
        },
        "rows": {name: int(len(rows)) for name, rows in positions.items()},
        "training_positive_rate": round(float((training_rows["income"] == POSITIVE_INCOME).mean()), 4),
        "evaluation": {
            "positive_rate": round(float(label.mean()), 4),
            "selection_rate": round(float(decisions.mean()), 4),
            "accuracy": round(float(metrics.accuracy_score(label, decisions)), 4),
            "roc_auc": round(float(metrics.roc_auc_score(label, scores)), 4),
            "brier_score": round(float(metrics.brier_score_loss(label, scores)), 4),
        },
        # The schema's category domains: every value of each text column in the
        # whole source file, so a value the source does not have is flagged.
        "category_domains": {
            column: sorted(frame[column].unique()) for column in CATEGORICAL_INPUTS + ["race", "sex"]
        },
        "groups": {},
        "age_under_cutoff_share": {
            "reference": round(float((reference["age"] < CURRENT_AGE_CUTOFF).mean()), 4),
            "current": round(float((current["age"] < CURRENT_AGE_CUTOFF).mean()), 4),
        },
        "selection_rate": {
            "reference": round(float(reference["predicted_over_50k"].mean()), 4),
            "current": round(float(current["predicted_over_50k"].mean()), 4),
        },
    }
    for feature in ("sex", "race", "age_band"):
        rows = {}
        for value, group in predictions.groupby(feature, sort=True):
            group_label = group["over_50k"].to_numpy()
            group_decisions = group["predicted_over_50k"].to_numpy()
            positives = group_label == 1
            rows[str(value)] = {
                "n": int(len(group)),
                "positive_rate": round(float(group_label.mean()), 4),
                "selection_rate": round(float(group_decisions.mean()), 4),
                "true_positive_rate": round(float(group_decisions[positives].mean()), 4) if positives.any() else None,
                "false_positive_rate": round(float(group_decisions[~positives].mean()), 4)
                if (~positives).any()
                else None,
            }
        summary["groups"][feature] = rows
    return summary


def build_outputs(frame: pd.DataFrame) -> Outputs:
    label = (frame["income"] == POSITIVE_INCOME).astype("int64")
    positions = split_rows(frame, label)
    model = train_model(frame.iloc[positions["training"]], label.iloc[positions["training"]])

    frame = frame.assign(age_band=age_band(frame["age"]), over_50k=label)
    predictions = score_rows(model, frame.iloc[positions["evaluation"]])
    reference = score_rows(model, frame.iloc[positions["reference"]])
    current = score_rows(model, frame.iloc[positions["current"]])

    summary = summarize(frame, positions, predictions, reference, current, model)
    return Outputs(
        predictions=render_csv(predictions, PREDICTION_COLUMNS),
        reference=render_csv(reference, MONITORING_COLUMNS),
        current=render_csv(current, MONITORING_COLUMNS),
        summary=summary,
    )


BUNDLE_TEMPLATE = string.Template(
    """\
# Generated by examples/adult/build.py. Edit the template in that script and
# rebuild (`--refresh-digests` when only model_card.md changed) instead of
# editing this file, because the script overwrites it.
bundle_version: 1

model:
  id: adult-income-credit
  name: "Income over 50K as a credit pre-screen (UCI Adult, gradient boosting)"
  version: "2026.11.0"
  owner: "Example Retail Credit Team"
  developers:
    - "Example Data Scientist"
    - "Example ML Engineer"
  task: binary_classification
  risk_tier: high
  model_type: gradient_boosting
  jurisdictions: [EU, US]
  intended_use: >-
    Example bundle for testing governance checks. The model predicts whether a
    1994 US census respondent's income exceeds 50,000 dollars, read as a stand-in
    for a credit pre-screening decision. It is not for assessing any person.

datasets:
  - name: predictions
    path: $predictions_filename
    sha256: "$predictions_sha256"
    role: predictions
    format: csv
    label_column: over_50k
    prediction_column: predicted_over_50k
    score_column: score
    sensitive_features: [sex, race, age_band]
    positive_label: 1
    # A prediction of income over 50K stands for a pre-approval, which favors the person.
    favorable: positive
    schema:
      additional_columns: false
      columns:$prediction_schema
    reported_metrics:
      - {metric: roc_auc, value: $roc_auc, tolerance: 0.00005, source: "model_card.md, Quantitative Analyses"}
      - {metric: accuracy, value: $accuracy, tolerance: 0.00005, source: "model_card.md, Quantitative Analyses"}
      - {metric: brier_score, value: $brier_score, tolerance: 0.00005, source: "model_card.md, Quantitative Analyses"}
      - {metric: selection_rate, value: $selection_rate, tolerance: 0.00005, source: "model_card.md, Quantitative Analyses"}

  - name: reference
    path: $reference_filename
    sha256: "$reference_sha256"
    role: reference
    format: csv
    features:$drift_features

  - name: current
    path: $current_filename
    sha256: "$current_sha256"
    role: current
    format: csv
    schema:
      additional_columns: false
      columns:$monitoring_schema

model_card: $model_card_filename

files:
  - path: $model_card_filename
    sha256: "$model_card_sha256"
    description: "Model card in the nine sections of Mitchell et al. (2019)"
  - path: $summary_filename
    sha256: "$summary_sha256"
    description: "Figures that build.py computed from the written datasets; the model card quotes them"

# ILLUSTRATIVE ONLY: these approvals are invented to exercise the approval
# checks. No real person or body reviewed or approved this model.
approvals:
  # Breaks separation of duties on purpose: the approver is one of the model's
  # developers, so the approval does not count and self_approvals() finds it.
  - role: model_owner
    name: "Example ML Engineer"
    team: "Retail Credit Data Science"
    decision: approved
    date: "2026-11-16"
    model_version: "2026.11.0"
    note: "Illustrative entry, not a real approval. Signed by a developer of the model."
  - role: independent_validator
    name: "Example Validation Analyst"
    team: "Model Validation"
    decision: approved
    date: "2026-11-23"
    model_version: "2026.11.0"
    note: "Illustrative entry, not a real approval."
  - role: compliance
    name: "Example Compliance Officer"
    team: "Compliance"
    decision: conditional
    date: "2026-11-27"
    model_version: "2026.11.0"
    note: "Illustrative entry, not a real approval. Conditional on passing the fairness gate."
"""
)


def schema_columns(columns: list[str], domains: dict[str, list[str]]) -> str:
    """Render the schema's column list; `domains` gives the values allowed in each text column."""
    fixed = {
        "source_row": {"type": "integer", "nullable": False, "minimum": 1, "maximum": EXPECTED_ROW_COUNT},
        "age": {"type": "integer", "nullable": False, "minimum": 17, "maximum": 90},
        "age_band": {"type": "string", "nullable": False, "values": AGE_BAND_LABELS},
        "education_num": {"type": "integer", "nullable": False, "minimum": 1, "maximum": 16},
        "capital_gain": {"type": "integer", "nullable": False, "minimum": 0},
        "capital_loss": {"type": "integer", "nullable": False, "minimum": 0},
        "hr_per_week": {"type": "integer", "nullable": False, "minimum": 1, "maximum": 99},
        "over_50k": {"type": "integer", "nullable": False, "values": [0, 1]},
        "score": {"type": "number", "nullable": False, "minimum": 0, "maximum": 1},
        "predicted_over_50k": {"type": "integer", "nullable": False, "values": [0, 1]},
    }
    lines = []
    for column in columns:
        rule = fixed.get(column)
        if rule is None:
            rule = {"type": "string", "nullable": False, "values": domains[column]}
        rule = {"name": column, **rule}
        lines.append("\n        - " + json.dumps(rule, ensure_ascii=False))
    return "".join(lines)


def render_bundle(digests: dict[str, str], summary: dict) -> str:
    evaluation = summary["evaluation"]
    drift_features = "".join(f"\n      {name}: {kind}" for name, kind in DRIFT_FEATURES.items())
    return BUNDLE_TEMPLATE.substitute(
        predictions_filename=PREDICTIONS_FILENAME,
        predictions_sha256=digests[PREDICTIONS_FILENAME],
        reference_filename=REFERENCE_FILENAME,
        reference_sha256=digests[REFERENCE_FILENAME],
        current_filename=CURRENT_FILENAME,
        current_sha256=digests[CURRENT_FILENAME],
        model_card_filename=MODEL_CARD_FILENAME,
        model_card_sha256=digests[MODEL_CARD_FILENAME],
        summary_filename=SUMMARY_FILENAME,
        summary_sha256=digests[SUMMARY_FILENAME],
        prediction_schema=schema_columns(PREDICTION_COLUMNS, summary["category_domains"]),
        monitoring_schema=schema_columns(MONITORING_COLUMNS, summary["category_domains"]),
        drift_features=drift_features,
        roc_auc=evaluation["roc_auc"],
        accuracy=evaluation["accuracy"],
        brier_score=evaluation["brier_score"],
        selection_rate=evaluation["selection_rate"],
    )


def build_datasets(source_path: Path) -> tuple[int, dict[str, bytes], dict]:
    source = read_source(source_path)
    outputs = build_outputs(source)
    files = {
        PREDICTIONS_FILENAME: outputs.predictions,
        REFERENCE_FILENAME: outputs.reference,
        CURRENT_FILENAME: outputs.current,
    }
    return len(source), files, outputs.summary


def main(argv: list[str] | None = None) -> int:
    arguments = parse_build_arguments(
        argv,
        description="Build examples/adult/ (three CSV datasets and bundle.yaml) from the cleaned UCI Adult file.",
        source_help="path to the cleaned UCI Adult CSV: 30,162 rows, a header line, comma separated",
        default_output=SCRIPT_DIR,
    )
    return run_build(
        arguments,
        committed_filenames=(
            PREDICTIONS_FILENAME,
            REFERENCE_FILENAME,
            CURRENT_FILENAME,
            MODEL_CARD_FILENAME,
            SUMMARY_FILENAME,
        ),
        build_datasets=build_datasets,
        render_bundle=render_bundle,
        source_hint="Pass --source with the path to the cleaned UCI Adult CSV (30,162 rows with a header line).",
        record_noun="rows",
    )


if __name__ == "__main__":
    sys.exit(main())
