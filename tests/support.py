"""Paths and small helpers shared by the tests; the data they use lives in this repository."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COMPAS_BUNDLE = REPO / "examples" / "compas"
COMPAS_POLICY = REPO / "policies" / "examples" / "compas.gov"
RESULTS_SCHEMA = REPO / "docs" / "schemas" / "results-v2.schema.json"


def write_policy(folder: Path, text: str, name: str = "policy.gov") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def copy_bundle(folder: Path, source: Path = COMPAS_BUNDLE) -> Path:
    """Copy a bundle into `folder`, so a test can break it without touching the example."""
    target = folder / source.name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("build.py", "README.md"))
    return target


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def make_bundle(
    folder: Path, csv_text: str, sensitive_features: tuple[str, ...] = ("group",), positive_label: str = "1"
) -> Path:
    """Write a minimal bundle in `folder/bundle` whose predictions dataset is `csv_text`.

    `csv_text` is the whole CSV file with columns `label`, `prediction` and the
    sensitive features. `positive_label` is written into bundle.yaml verbatim, so
    `'"yes"'` and `"yes"` test YAML's own typing.
    """
    bundle = folder / "bundle"
    bundle.mkdir()
    (bundle / "predictions.csv").write_text(csv_text, encoding="utf-8")
    features = ", ".join(sensitive_features)
    (bundle / "bundle.yaml").write_text(
        textwrap.dedent(
            f"""\
            bundle_version: 1
            model:
              id: toy
              name: Toy model
              version: "1"
              owner: tests
              task: binary_classification
              risk_tier: high
            datasets:
              - name: predictions
                path: predictions.csv
                role: predictions
                label_column: label
                prediction_column: prediction
                sensitive_features: [{features}]
                positive_label: {positive_label}
                favorable: positive
            """
        ),
        encoding="utf-8",
    )
    return bundle
