"""Golden files: the compiled plan of sample policies and the rendered diagnostics of broken ones.

Set GOVDSL_UPDATE_GOLDEN=1 to rewrite the expected files after an intended change,
then review the diff before committing.
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import pytest

from govdsl.compiler import compile_policies
from govdsl.diagnostics import render_all
from govdsl.errors import InvalidInputError
from support import REPO

DATA = REPO / "tests" / "data"
UPDATE = os.environ.get("GOVDSL_UPDATE_GOLDEN") == "1"
AS_OF = datetime.date(2026, 12, 4)


def compare_with_golden(actual: str, expected_path: Path) -> None:
    if UPDATE:
        expected_path.write_text(actual, encoding="utf-8")
    assert expected_path.exists(), f"{expected_path.name} is missing; run with GOVDSL_UPDATE_GOLDEN=1 to create it"
    assert actual == expected_path.read_text(encoding="utf-8")


@pytest.mark.parametrize("policy", ["rich.gov", "imports_main.gov"])
def test_plan_matches_golden(policy, monkeypatch):
    monkeypatch.chdir(DATA / "golden")
    plan, _ = compile_policies([policy], as_of=AS_OF)
    compare_with_golden(plan.to_json(), DATA / "golden" / policy.replace(".gov", ".plan.json"))


@pytest.mark.parametrize("case", sorted(p.name for p in (DATA / "diagnostics").glob("*.gov")))
def test_diagnostics_match_snapshot(case, monkeypatch):
    monkeypatch.chdir(DATA / "diagnostics")
    try:
        _, diagnostics = compile_policies([case], as_of=AS_OF)
        sources = {case: (DATA / "diagnostics" / case).read_text(encoding="utf-8")}
    except InvalidInputError as exc:
        diagnostics, sources = exc.diagnostics, exc.sources
    assert diagnostics, "each snapshot case must produce at least one diagnostic"
    compare_with_golden(render_all(diagnostics, sources) + "\n", DATA / "diagnostics" / case.replace(".gov", ".txt"))
