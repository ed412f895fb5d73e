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

import argparse
import hashlib
import json
import string
import sys
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import yaml

SCRIPT_DIR = Path(__file__).resolve().parent
REPOSITORY_ROOT = SCRIPT_DIR.parents[1]
BUNDLE_SCHEMA_PATH = REPOSITORY_ROOT / "govdsl" / "schemas" / "bundle.schema.json"
TRAINING_FILENAME = "training.csv"
PREDICTIONS_FILENAME = "predictions.csv"
MODEL_CARD_FILENAME = "model_card.md"
SUMMARY_FILENAME = "build_summary.json"
BUNDLE_FILENAME = "bundle.yaml"

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


class BuildError(Exception):
    """Error in the source data or the generated bundle that stops the build."""


@dataclass(frozen=True)
class Outputs:
    """The rendered files, kept in memory until every one of them has been validated."""

    training: bytes
    predictions: bytes
    summary: dict


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Build examples/german-credit/ (two CSV datasets and bundle.yaml) from the UCI file german.data."
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument(
        "--source",
        type=Path,
        help="path to german.data of the UCI Statlog (German Credit Data) set: TAB separated, no header line",
    )
    action.add_argument(
        "--refresh-digests",
        action="store_true",
        help="rewrite bundle.yaml with the SHA-256 of the committed files; reads no source",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=SCRIPT_DIR,
        help="folder to write into, which must hold model_card.md (default: the folder of this script)",
    )
    return parser.parse_args(argv)


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


def library_versions() -> dict[str, str]:
    import platform

    import scipy
    import sklearn

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scikit-learn": sklearn.__version__,
        "scipy": scipy.__version__,
    }


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


def render_csv(frame: pd.DataFrame, columns: list[str]) -> bytes:
    return frame[columns].to_csv(index=False, lineterminator="\n").encode("utf-8")


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


def validate_bundle(bundle_text: str) -> None:
    """Validate bundle.yaml text against the repository's bundle JSON Schema."""
    if not BUNDLE_SCHEMA_PATH.is_file():
        raise BuildError(f"Bundle schema not found at {BUNDLE_SCHEMA_PATH}.")
    schema = json.loads(BUNDLE_SCHEMA_PATH.read_text(encoding="utf-8"))
    bundle = yaml.safe_load(bundle_text)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(bundle), key=lambda error: [str(part) for part in error.absolute_path])
    if errors:
        details = "; ".join(
            f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}" for error in errors
        )
        raise BuildError(
            f"The generated {BUNDLE_FILENAME} failed validation against {BUNDLE_SCHEMA_PATH}: "
            f"{details}. Fix BUNDLE_TEMPLATE in {Path(__file__).name}."
        )


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def refresh_digests(output_dir: Path) -> int:
    """Rewrite bundle.yaml from the committed files and the committed build summary."""
    digests = {}
    for name in (PREDICTIONS_FILENAME, TRAINING_FILENAME, MODEL_CARD_FILENAME, SUMMARY_FILENAME):
        path = output_dir / name
        if not path.is_file():
            print(f"error: {path} not found; run the full build with --source first.", file=sys.stderr)
            return 2
        digests[name] = sha256_hex(path.read_bytes())
    summary = json.loads((output_dir / SUMMARY_FILENAME).read_text(encoding="utf-8"))
    try:
        bundle_text = render_bundle(digests, summary)
        validate_bundle(bundle_text)
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    (output_dir / BUNDLE_FILENAME).write_bytes(bundle_text.encode("utf-8"))
    print(f"wrote {output_dir / BUNDLE_FILENAME}")
    return 0


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    output_dir: Path = arguments.output
    if not output_dir.is_dir():
        print(f"error: output folder not found: {output_dir}", file=sys.stderr)
        return 2
    if arguments.refresh_digests:
        return refresh_digests(output_dir)

    source_path: Path = arguments.source
    if not source_path.is_file():
        print(
            f"error: source file not found: {source_path}. Pass --source with the path to german.data "
            "of the UCI Statlog (German Credit Data) set.",
            file=sys.stderr,
        )
        return 2
    model_card_path = output_dir / MODEL_CARD_FILENAME
    if not model_card_path.is_file():
        print(f"error: {model_card_path} not found; bundle.yaml records its SHA-256.", file=sys.stderr)
        return 2

    # Every output is rendered and validated before any file is written, so a
    # failed build leaves the committed files unchanged.
    try:
        source = parse_source(source_path)
        outputs = build_outputs(source)
        summary_text = json.dumps(outputs.summary, indent=2, sort_keys=True) + "\n"
        files = {
            TRAINING_FILENAME: outputs.training,
            PREDICTIONS_FILENAME: outputs.predictions,
            SUMMARY_FILENAME: summary_text.encode("utf-8"),
        }
        digests = {name: sha256_hex(data) for name, data in files.items()}
        digests[MODEL_CARD_FILENAME] = sha256_hex(model_card_path.read_bytes())
        bundle_text = render_bundle(digests, outputs.summary)
        validate_bundle(bundle_text)
    except BuildError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1

    for name, data in files.items():
        (output_dir / name).write_bytes(data)
    (output_dir / BUNDLE_FILENAME).write_bytes(bundle_text.encode("utf-8"))

    print(f"source {source_path} (sha256 {sha256_hex(source_path.read_bytes())}): {len(source)} applicants")
    for name in files:
        print(f"wrote {output_dir / name}: sha256 {digests[name]}")
    print(f"wrote {output_dir / BUNDLE_FILENAME}")
    print(summary_text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
