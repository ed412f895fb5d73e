#!/usr/bin/env python3
"""Build the German credit example bundle from the raw UCI Statlog file german.data.

Parses german.data, which is TAB separated, has no header line, starts with an
empty line and codes most attributes. Splits the 1,000 applicants into 700
training and 300 evaluation rows (stratified, fixed seed) and trains a
scikit-learn logistic regression. Writes training.csv, predictions.csv,
build_summary.json and bundle.yaml next to this script. The model approves an applicant (predicts good credit) when its
probability of good credit exceeds 5/6, the cut-off that minimizes the expected
cost under the cost matrix published with the data.

Two runs on the same source file with the same library versions produce
byte-identical outputs. `--refresh-digests` rewrites only bundle.yaml from the
committed files, such as after an edit of model_card.md, and needs no source.

Usage, from the repository root:
    python examples/german-credit/build.py --source PATH/TO/german.data
    python examples/german-credit/build.py --refresh-digests
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
# Running `python examples/german-credit/build.py` puts only examples/german-credit
# on sys.path, so add its parent folder.
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

TRAINING_FILENAME = "training.csv"
PREDICTIONS_FILENAME = "predictions.csv"

SEED = 0
EXPECTED_ROW_COUNT = 1_000
EVALUATION_SHARE = 0.3

# The data set's documentation gives a cost matrix: classing a bad applicant as
# good costs 5, classing a good applicant as bad costs 1. Approving has the
# expected cost 5 (1 - p) and declining p, where p is the probability of good
# credit, so approving is cheaper exactly when p > 5/6.
COST_BAD_APPROVED = 5
COST_GOOD_DECLINED = 1
APPROVAL_THRESHOLD = COST_BAD_APPROVED / (COST_BAD_APPROVED + COST_GOOD_DECLINED)

# The 20 attributes and the label, in file order, named after the attribute
# descriptions of the data set's documentation (german.doc). For a coded
# attribute, the value is the set of codes that documentation defines.
ATTRIBUTES: dict[str, tuple[str, ...] | None] = {
    "checking_account": ("A11", "A12", "A13", "A14"),
    "duration_months": None,
    "credit_history": ("A30", "A31", "A32", "A33", "A34"),
    "purpose": ("A40", "A41", "A42", "A43", "A44", "A45", "A46", "A47", "A48", "A49", "A410"),
    "credit_amount": None,
    "savings": ("A61", "A62", "A63", "A64", "A65"),
    "employment_since": ("A71", "A72", "A73", "A74", "A75"),
    "installment_rate": None,
    "personal_status_sex": ("A91", "A92", "A93", "A94", "A95"),
    "other_debtors": ("A101", "A102", "A103"),
    "residence_since": None,
    "property": ("A121", "A122", "A123", "A124"),
    "age": None,
    "other_installment_plans": ("A141", "A142", "A143"),
    "housing": ("A151", "A152", "A153"),
    "existing_credits": None,
    "job": ("A171", "A172", "A173", "A174"),
    "people_liable": None,
    "telephone": ("A191", "A192"),
    "foreign_worker": ("A201", "A202"),
    "credit_risk": ("1", "2"),
}
NUMERIC_ATTRIBUTES = [name for name, codes in ATTRIBUTES.items() if codes is None]

# Attribute 9 codes personal status and sex together: A91, A93 and A94 are male,
# A92 and A95 female.
SEX_BY_CODE = {"A91": "male", "A92": "female", "A93": "male", "A94": "male", "A95": "female"}
FOREIGN_WORKER_BY_CODE = {"A201": "yes", "A202": "no"}
GOOD_CREDIT = "1"

# Model inputs: every attribute except the label, attribute 9 (it codes sex) and
# attribute 20 (foreign worker status, a proxy for nationality). Age stays an input.
CATEGORICAL_INPUTS = [
    name
    for name, codes in ATTRIBUTES.items()
    if codes is not None and name not in ("personal_status_sex", "foreign_worker", "credit_risk")
]
NUMERIC_INPUTS = NUMERIC_ATTRIBUTES

AGE_BAND_EDGES = [19, 26]
AGE_BAND_LABELS = ["19-25", "26+"]

# `source_line` is the row's line number in german.data, counting the empty first line.
DATA_COLUMNS = [
    "source_line",
    *[name for name in ATTRIBUTES if name not in ("foreign_worker", "credit_risk")],
    "sex",
    "age_band",
    "foreign_worker",
    "good_credit",
]
PREDICTION_COLUMNS = [*DATA_COLUMNS, "score", "predicted_good_credit"]


@dataclass(frozen=True)
class Outputs:
    """The rendered files, kept in memory until every one of them has been validated."""

    training: bytes
    predictions: bytes
    summary: dict


def parse_source(source_path: Path) -> pd.DataFrame:
    """Parse german.data line by line, checking every field against the documented codes.

    The file separates fields with TAB characters, has no header line and starts
    with an empty line. Empty lines are skipped wherever they are; any other line
    must hold 21 fields.
    """
    try:
        text = source_path.read_text(encoding="ascii")
    except UnicodeDecodeError as error:
        raise BuildError(f"{source_path} is not ASCII text as german.data is: {error}") from error

    records = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.rstrip("\r").split("\t")
        if len(fields) != len(ATTRIBUTES):
            raise BuildError(
                f"{source_path}, line {line_number}: found {len(fields)} TAB-separated fields, expected "
                f"{len(ATTRIBUTES)} (20 attributes and the label). Pass the original german.data, "
                "not german.data-numeric or a comma-separated copy."
            )
        record = {"source_line": line_number}
        for (name, codes), value in zip(ATTRIBUTES.items(), fields):
            value = value.strip()
            if codes is None:
                if not value.isdigit():
                    raise BuildError(
                        f"{source_path}, line {line_number}: attribute {name!r} is {value!r}, expected a whole number."
                    )
                record[name] = int(value)
            elif value not in codes:
                raise BuildError(
                    f"{source_path}, line {line_number}: attribute {name!r} is {value!r}, expected one of "
                    f"{', '.join(codes)}."
                )
            else:
                record[name] = value
        records.append(record)

    if len(records) != EXPECTED_ROW_COUNT:
        raise BuildError(
            f"{source_path} contains {len(records)} applicants, expected {EXPECTED_ROW_COUNT}. "
            "Pass the unmodified german.data."
        )
    return pd.DataFrame.from_records(records)


def derive_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the sensitive features and the label in the form the bundle declares."""
    bands = pd.cut(frame["age"], bins=[*AGE_BAND_EDGES, np.inf], labels=AGE_BAND_LABELS, right=False)
    if bands.isna().any():
        raise BuildError(f"ages below {AGE_BAND_EDGES[0]} have no age band: {sorted(frame['age'][bands.isna()])}")
    derived = frame.copy()
    derived["sex"] = frame["personal_status_sex"].map(SEX_BY_CODE)
    derived["age_band"] = bands.astype(str)
    derived["foreign_worker"] = frame["foreign_worker"].map(FOREIGN_WORKER_BY_CODE)
    derived["good_credit"] = (frame["credit_risk"] == GOOD_CREDIT).astype("int64")
    return derived


def train_model(rows: pd.DataFrame):
    """Fit a logistic regression on standardized numbers and one-hot coded attributes."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    encode = ColumnTransformer(
        [
            ("numeric", StandardScaler(), NUMERIC_INPUTS),
            ("categorical", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL_INPUTS),
        ]
    )
    model = make_pipeline(encode, LogisticRegression(max_iter=5000))
    model.fit(rows[NUMERIC_INPUTS + CATEGORICAL_INPUTS], rows["good_credit"])
    return model


def score_rows(model, rows: pd.DataFrame) -> pd.DataFrame:
    """Add the rounded probability of good credit and the approval decision."""
    probabilities = model.predict_proba(rows[NUMERIC_INPUTS + CATEGORICAL_INPUTS])[:, 1]
    # Four decimals keep the file independent of float printing. The decision is
    # taken on the written score, so it can be checked from the file: approved
    # exactly when the score is 0.8334 or more.
    scores = np.round(probabilities, 4)
    scored = rows.copy()
    scored["score"] = [f"{value:.4f}" for value in scores]
    scored["predicted_good_credit"] = (scores > APPROVAL_THRESHOLD).astype("int64")
    return scored


def group_rates(rows: pd.DataFrame, features: list[str]) -> dict:
    table = {}
    for values, group in rows.groupby(features, sort=True):
        values = values if isinstance(values, tuple) else (values,)
        key = ", ".join(f"{feature}={value}" for feature, value in zip(features, values))
        label = group["good_credit"].to_numpy()
        decision = group["predicted_good_credit"].to_numpy()
        good = label == 1
        table[key] = {
            "n": int(len(group)),
            "good": int(good.sum()),
            "bad": int((~good).sum()),
            "approved": int(decision.sum()),
            "selection_rate": round(float(decision.mean()), 4),
            "true_positive_rate": round(float(decision[good].mean()), 4) if good.any() else None,
            "false_positive_rate": round(float(decision[~good].mean()), 4) if (~good).any() else None,
        }
    return table


def summarize(training: pd.DataFrame, predictions: pd.DataFrame, model) -> dict:
    """Compute the figures that the model card and README quote, from the written values."""
    from sklearn import metrics

    label = predictions["good_credit"].to_numpy()
    scores = predictions["score"].astype(float).to_numpy()
    decisions = predictions["predicted_good_credit"].to_numpy()
    bad_approved = int(((decisions == 1) & (label == 0)).sum())
    good_declined = int(((decisions == 0) & (label == 1)).sum())
    classifier = model[-1]
    return {
        "versions": library_versions(),
        "rows": {"training": int(len(training)), "evaluation": int(len(predictions))},
        "approval_threshold": round(APPROVAL_THRESHOLD, 6),
        "training_good_rate": round(float(training["good_credit"].mean()), 4),
        "logistic_regression": {
            "features_after_encoding": int(classifier.coef_.shape[1]),
            "iterations": int(classifier.n_iter_[0]),
        },
        "evaluation": {
            "good_rate": round(float(label.mean()), 4),
            "selection_rate": round(float(decisions.mean()), 4),
            "accuracy": round(float(metrics.accuracy_score(label, decisions)), 4),
            "roc_auc": round(float(metrics.roc_auc_score(label, scores)), 4),
            "brier_score": round(float(metrics.brier_score_loss(label, scores)), 4),
            "false_positive_rate": round(float(decisions[label == 0].mean()), 4),
            "true_positive_rate": round(float(decisions[label == 1].mean()), 4),
            "bad_approved": bad_approved,
            "good_declined": good_declined,
            "cost_per_applicant": round((COST_BAD_APPROVED * bad_approved + COST_GOOD_DECLINED * good_declined)
                                        / len(predictions), 4),
            "cost_per_applicant_approve_all": round(COST_BAD_APPROVED * float((label == 0).mean()), 4),
        },
        "groups": {
            " x ".join(features): group_rates(predictions, features)
            for features in (["sex"], ["age_band"], ["foreign_worker"], ["sex", "age_band"])
        },
        "all_rows": {
            " x ".join(features): {
                key: int(count) for key, count in
                pd.concat([training, predictions]).groupby(features, sort=True).size().items()
            }
            for features in (["sex"], ["age_band"], ["foreign_worker"])
        },
    }


def build_outputs(source: pd.DataFrame) -> Outputs:
    from sklearn.model_selection import train_test_split

    frame = derive_columns(source)
    training_rows, evaluation_rows = train_test_split(
        frame, test_size=EVALUATION_SHARE, random_state=SEED, stratify=frame["good_credit"]
    )
    training_rows = training_rows.sort_values("source_line")
    evaluation_rows = evaluation_rows.sort_values("source_line")
    model = train_model(training_rows)
    predictions = score_rows(model, evaluation_rows)
    return Outputs(
        training=render_csv(training_rows, DATA_COLUMNS),
        predictions=render_csv(predictions, PREDICTION_COLUMNS),
        summary=summarize(training_rows, predictions, model),
    )


BUNDLE_TEMPLATE = string.Template(
    """\
# Generated by examples/german-credit/build.py. Edit the template in that script
# and rebuild (`--refresh-digests` when only model_card.md changed) instead of
# editing this file, because the script overwrites it.
bundle_version: 1

model:
  id: german-credit-approval
  name: "Consumer credit approval (UCI Statlog German credit, logistic regression)"
  version: "2026.10.1"
  owner: "Example Consumer Lending"
  developers:
    - "Example Credit Modeller"
    - "Example Data Engineer"
  task: binary_classification
  risk_tier: high
  model_type: logistic_regression
  jurisdictions: [EU]
  intended_use: >-
    Example bundle for testing governance checks. The model approves or declines
    consumer credit applications from the 1,000 applicants of the Statlog German
    credit data. It is not for assessing any person.

datasets:
  - name: predictions
    path: $predictions_filename
    sha256: "$predictions_sha256"
    role: predictions
    format: csv
    label_column: good_credit
    prediction_column: predicted_good_credit
    score_column: score
    sensitive_features: [sex, age_band, foreign_worker]
    positive_label: 1
    # A prediction of good credit approves the application, which favors the person.
    favorable: positive
    schema:
      additional_columns: false
      columns:$prediction_schema
    reported_metrics:
      - {metric: roc_auc, value: $roc_auc, tolerance: 0.00005, source: "model_card.md, Quantitative Analyses"}
      - {metric: accuracy, value: $accuracy, tolerance: 0.00005, source: "model_card.md, Quantitative Analyses"}
      - {metric: selection_rate, value: $selection_rate, tolerance: 0.00005, source: "model_card.md, Quantitative Analyses"}
      - {metric: false_positive_rate, value: $false_positive_rate, tolerance: 0.00005, source: "model_card.md, Quantitative Analyses"}

  - name: training
    path: $training_filename
    sha256: "$training_sha256"
    role: training
    format: csv
    schema:
      additional_columns: false
      columns:$training_schema

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
  - role: model_owner
    name: "Example Head of Consumer Lending"
    team: "Consumer Lending"
    decision: approved
    date: "2026-10-26"
    model_version: "2026.10.1"
    note: "Illustrative entry, not a real approval."
  # Breaks separation of duties on purpose: the validator is one of the model's
  # developers, so the validation is not independent and self_approvals() finds it.
  - role: independent_validator
    name: "Example Credit Modeller"
    team: "Credit Risk Analytics"
    decision: approved
    date: "2026-11-02"
    model_version: "2026.10.1"
    note: "Illustrative entry, not a real approval. Signed by a developer of the model."
  - role: compliance
    name: "Example Compliance Officer"
    team: "Compliance"
    decision: conditional
    date: "2026-11-09"
    model_version: "2026.10.1"
    note: "Illustrative entry, not a real approval. Conditional on an independent validation."
"""
)


def schema_columns(columns: list[str]) -> str:
    """Render the schema's column list: ranges for numbers and the documented codes for attributes."""
    fixed = {
        "source_line": {"type": "integer", "nullable": False, "minimum": 1},
        "duration_months": {"type": "integer", "nullable": False, "minimum": 1},
        "credit_amount": {"type": "integer", "nullable": False, "minimum": 1},
        "installment_rate": {"type": "integer", "nullable": False, "minimum": 1, "maximum": 4},
        "residence_since": {"type": "integer", "nullable": False, "minimum": 1, "maximum": 4},
        "age": {"type": "integer", "nullable": False, "minimum": 18, "maximum": 100},
        "existing_credits": {"type": "integer", "nullable": False, "minimum": 1},
        "people_liable": {"type": "integer", "nullable": False, "minimum": 1},
        "sex": {"type": "string", "nullable": False, "values": sorted(set(SEX_BY_CODE.values()))},
        "age_band": {"type": "string", "nullable": False, "values": AGE_BAND_LABELS},
        "foreign_worker": {"type": "string", "nullable": False, "values": sorted(FOREIGN_WORKER_BY_CODE.values())},
        "good_credit": {"type": "integer", "nullable": False, "values": [0, 1]},
        "score": {"type": "number", "nullable": False, "minimum": 0, "maximum": 1},
        "predicted_good_credit": {"type": "integer", "nullable": False, "values": [0, 1]},
    }
    lines = []
    for column in columns:
        rule = fixed.get(column) or {"type": "string", "nullable": False, "values": list(ATTRIBUTES[column])}
        lines.append("\n        - " + json.dumps({"name": column, **rule}))
    return "".join(lines)


def render_bundle(digests: dict[str, str], summary: dict) -> str:
    evaluation = summary["evaluation"]
    return BUNDLE_TEMPLATE.substitute(
        predictions_filename=PREDICTIONS_FILENAME,
        predictions_sha256=digests[PREDICTIONS_FILENAME],
        training_filename=TRAINING_FILENAME,
        training_sha256=digests[TRAINING_FILENAME],
        model_card_filename=MODEL_CARD_FILENAME,
        model_card_sha256=digests[MODEL_CARD_FILENAME],
        summary_filename=SUMMARY_FILENAME,
        summary_sha256=digests[SUMMARY_FILENAME],
        prediction_schema=schema_columns(PREDICTION_COLUMNS),
        training_schema=schema_columns(DATA_COLUMNS),
        roc_auc=evaluation["roc_auc"],
        accuracy=evaluation["accuracy"],
        selection_rate=evaluation["selection_rate"],
        false_positive_rate=evaluation["false_positive_rate"],
    )


def build_datasets(source_path: Path) -> tuple[int, dict[str, bytes], dict]:
    source = parse_source(source_path)
    outputs = build_outputs(source)
    files = {
        TRAINING_FILENAME: outputs.training,
        PREDICTIONS_FILENAME: outputs.predictions,
    }
    return len(source), files, outputs.summary


def main(argv: list[str] | None = None) -> int:
    arguments = parse_build_arguments(
        argv,
        description="Build examples/german-credit/ (two CSV datasets and bundle.yaml) from the UCI file german.data.",
        source_help="path to german.data of the UCI Statlog (German Credit Data) set: TAB separated, no header line",
        default_output=SCRIPT_DIR,
    )
    return run_build(
        arguments,
        committed_filenames=(PREDICTIONS_FILENAME, TRAINING_FILENAME, MODEL_CARD_FILENAME, SUMMARY_FILENAME),
        build_datasets=build_datasets,
        render_bundle=render_bundle,
        source_hint="Pass --source with the path to german.data of the UCI Statlog (German Credit Data) set.",
        record_noun="applicants",
    )


if __name__ == "__main__":
    sys.exit(main())
