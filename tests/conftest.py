"""Shared fixture: a one-dataset bundle written to a temporary folder, loaded by the real bundle loader."""

from __future__ import annotations

import os
import tempfile

import pytest

# Keep the parse cache of test runs out of the user's own cache folder.
os.environ.setdefault("GOVDSL_CACHE_DIR", tempfile.mkdtemp(prefix="govdsl-test-cache-"))
# `govdsl check` appends to an audit log; keep the records of test runs out of the working directory.
os.environ.setdefault("GOVDSL_AUDIT_LOG", os.path.join(tempfile.mkdtemp(prefix="govdsl-test-audit-"), "audit.jsonl"))

from hypothesis import settings

# CI runs the property tests with a fixed seed, so a red build always reproduces; local runs
# keep exploring new examples.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI") or os.environ.get("GOVDSL_REQUIRE_BROWSER"):
    settings.load_profile("ci")

from govdsl.evidence import load_bundle
from support import make_bundle


@pytest.fixture
def make_dataset(tmp_path):
    """Return a factory that writes a bundle with `support.make_bundle` and returns its loaded Dataset."""
    count = 0

    def write(csv_text: str, features: tuple[str, ...] = ("group",), positive_label: str = "1"):
        nonlocal count
        count += 1
        folder = tmp_path / f"case{count}"
        folder.mkdir()
        return load_bundle(make_bundle(folder, csv_text, features, positive_label)).datasets["predictions"]

    return write
