"""Shared fixture: a one-dataset bundle written to a temporary folder, loaded by the real bundle loader."""

from __future__ import annotations

import pytest

from govdsl.evidence import load_bundle

_BUNDLE_YAML = """\
bundle_version: 1
model:
  id: test-model
  name: "Test model"
  version: "1"
  owner: "Test team"
  task: binary_classification
  risk_tier: high
datasets:
  - name: predictions
    path: predictions.csv
    role: predictions
    format: csv
    label_column: label
    prediction_column: prediction
    sensitive_features: [{features}]
    positive_label: {positive_label}
"""


@pytest.fixture
def make_dataset(tmp_path):
    """Return a factory that writes bundle.yaml and predictions.csv and returns the loaded Dataset.

    `csv_text` is the whole CSV file, header included, with columns `label`,
    `prediction` and the sensitive features. `positive_label` is written into
    bundle.yaml verbatim, so `'"yes"'` and `"yes"` test YAML's own typing.
    """

    def write(csv_text: str, features: tuple[str, ...] = ("group",), positive_label: str = "1"):
        (tmp_path / "predictions.csv").write_text(csv_text, encoding="utf-8")
        manifest = _BUNDLE_YAML.format(features=", ".join(features), positive_label=positive_label)
        (tmp_path / "bundle.yaml").write_text(manifest, encoding="utf-8")
        return load_bundle(tmp_path).datasets["predictions"]

    return write
