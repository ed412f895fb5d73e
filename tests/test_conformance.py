"""Conformance cases of the policy language, read from the YAML files in tests/conformance/.

Each file covers one feature area and contains a `cases:` list. A case is data, not code:

    name: four_fifths_exact_boundary     # unique within its file, and the test id is FILE/NAME
    note: One sentence on what the case shows.
    policy: |                            # written to policy.gov, the only file named to the compiler
      policy p { ... }
    files: {lib/base.gov: "..."}         # other policy files, relative to policy.gov
    bundle: two_groups                   # a folder under tests/conformance/bundles/, or a mapping:
    bundle:
      model: {risk_tier: limited}        #   fields that replace those of DEFAULT_MODEL
      csv: |                             #   predictions.csv, by default bundles/two_groups/predictions.csv
        label,prediction,group
      sensitive_features: [group]        #   by default every CSV column except label and prediction
      sha256: true                       #   declare the CSV's digest (true) or this literal digest
      datasets: [{name, role, csv, sha256}]   # more datasets, which default to the predictions CSV
      model_card: "# Card ..."           #   text of the model card
      model_card_file: card.yaml         #   file name of the model card, by default model_card.md
      approvals: [{role, name, decision, date, model_version}]
    params: {max_gap: "5%"}              # values as given with --param NAME=VALUE
    as_of: 2026-01-15                    # the evaluation date, by default AS_OF
    xfail: "reason"                      # a known product bug, which makes the test a strict xfail
    expect: ...

`expect` describes an error or a result. An error case names the diagnostic code that
compiling the policies, loading the bundle or binding the parameters raises. The location
and texts are those of the first diagnostic with that code, and `also` lists any other
error codes the same input raises:

    expect: {error: E120, stage: compile, file: a.gov, line: 1, column: 8,
             message_contains: "...", help_contains: "...", also: [E334]}

A result case lists the status of every control and, optionally, more detail:

    expect:
      statuses: {p.c: pass}              # every control of the plan, by qualified id
      check_statuses: {p.c.gap: pass}
      values: {p.c.gap: 0.5}             # the check's metric value within 1e-9, or null for none
      gate: passed                       # or blocked
      blocking: [p.c]
      messages_contain: {p.c.gap: "text"}    # a check id or a control id, with a text or a list of texts
      messages_exclude: {p.c.gap: "text"}
      reasons_contain: {p.c.gap: "text"}
      failing_groups: {p.c.gap: ["group=a"]}
      parameters: {p.max_gap: 0.05}      # bound values, in the JSON form of the results
      parameter_sources: {p.max_gap: command line}
      warnings: [W305]                   # expected compile warnings, or none without this key

Every bundle that the runner writes must match govdsl/schemas/bundle.schema.json before it
is loaded, so no case can pass on a bundle that a user could not write.
"""
from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest
import yaml

from govdsl.compiler import compile_policies
from govdsl.diagnostics import Diagnostic, Severity, sort_key
from govdsl.engine.evaluate import evaluate
from govdsl.errors import InvalidInputError
from govdsl.evidence import load_bundle
from support import REPO

CASES_DIR = Path(__file__).resolve().parent / "conformance"
BUNDLES_DIR = CASES_DIR / "bundles"
BUNDLE_SCHEMA = json.loads((REPO / "govdsl" / "schemas" / "bundle.schema.json").read_text(encoding="utf-8"))
AS_OF = datetime.date(2026, 1, 15)
TOLERANCE = 1e-9
POLICY_FILE = "policy.gov"

DEFAULT_MODEL = {
    "id": "toy-credit",
    "name": "Toy credit model",
    "version": "1.0",
    "owner": "Model Owner",
    "developers": ["Dana Developer"],
    "task": "binary_classification",
    "risk_tier": "limited",
}

CASE_KEYS = {"name", "note", "policy", "files", "bundle", "params", "as_of", "xfail", "expect"}
BUNDLE_KEYS = {"model", "csv", "sensitive_features", "sha256", "datasets", "model_card", "model_card_file", "approvals"}
ERROR_KEYS = {"error", "also", "stage", "file", "line", "column", "message_contains", "help_contains"}
RESULT_KEYS = {
    "statuses", "check_statuses", "values", "gate", "blocking", "messages_contain", "messages_exclude",
    "reasons_contain", "failing_groups", "parameters", "parameter_sources", "warnings",
}


# Loading the cases


def _validate_case(case: dict, where: str) -> None:
    """Reject a malformed case at collection time, so a typo in a key cannot silently skip an assertion."""
    unknown = set(case) - CASE_KEYS
    assert not unknown, f"{where}: unknown case keys {sorted(unknown)}"
    for key in ("name", "note", "policy", "expect"):
        assert key in case, f"{where}: a case needs `{key}`"
    expect = case["expect"]
    if "error" in expect:
        unknown = set(expect) - ERROR_KEYS
    else:
        unknown = set(expect) - RESULT_KEYS
        assert "statuses" in expect, f"{where}: a result case lists every control's status under `statuses`"
        assert "bundle" in case, f"{where}: a result case needs a bundle"
    assert not unknown, f"{where}: unknown expect keys {sorted(unknown)}"
    if isinstance(case.get("bundle"), dict):
        unknown = set(case["bundle"]) - BUNDLE_KEYS
        assert not unknown, f"{where}: unknown bundle keys {sorted(unknown)}"


def _load_cases() -> list:
    params = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        names: set[str] = set()
        for case in data["cases"]:
            where = f"{path.name}: case `{case.get('name')}`"
            _validate_case(case, where)
            assert case["name"] not in names, f"{where}: the name is used twice"
            names.add(case["name"])
            marks = [pytest.mark.xfail(reason=case["xfail"], strict=True)] if "xfail" in case else []
            params.append(pytest.param(case, id=f"{path.stem}/{case['name']}", marks=marks))
    return params


CASES = _load_cases()


# Writing the inputs


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _dataset_entry(name: str, role: str, csv_text: str, features: list[str] | None, sha256) -> dict:
    header = csv_text.splitlines()[0].split(",")
    entry = {
        "name": name,
        "path": f"{name}.csv",
        "role": role,
        "format": "csv",
        "label_column": "label",
        "prediction_column": "prediction",
        "sensitive_features": features if features is not None else [c for c in header if c not in ("label", "prediction")],
        "positive_label": 1,
    }
    if sha256 is True:
        entry["sha256"] = _digest(csv_text)
    elif isinstance(sha256, str):
        entry["sha256"] = sha256
    return entry


def write_bundle(folder: Path, spec: dict) -> Path:
    """Write an inline bundle spec as bundle.yaml and its evidence files.

    The test fails when bundle.schema.json rejects the manifest, because a user could not write that bundle.
    """
    folder.mkdir(parents=True)
    csv_text = spec.get("csv") or (BUNDLES_DIR / "two_groups" / "predictions.csv").read_text(encoding="utf-8")
    _write_text(folder / "predictions.csv", csv_text)
    datasets = [_dataset_entry("predictions", "predictions", csv_text, spec.get("sensitive_features"), spec.get("sha256"))]
    for extra in spec.get("datasets", []):
        extra_csv = extra.get("csv", csv_text)
        _write_text(folder / f"{extra['name']}.csv", extra_csv)
        datasets.append(_dataset_entry(extra["name"], extra["role"], extra_csv, extra.get("sensitive_features"), extra.get("sha256")))

    manifest: dict = {"bundle_version": 1, "model": {**DEFAULT_MODEL, **spec.get("model", {})}, "datasets": datasets}
    if "model_card" in spec:
        card_file = spec.get("model_card_file", "model_card.md")
        _write_text(folder / card_file, spec["model_card"])
        manifest["model_card"] = card_file
    if "approvals" in spec:
        manifest["approvals"] = [{**a, "date": str(a["date"])} for a in spec["approvals"]]

    errors = [e.message for e in jsonschema.Draft202012Validator(BUNDLE_SCHEMA).iter_errors(manifest)]
    assert not errors, f"the case's bundle does not match bundle.schema.json: {errors}"
    _write_text(folder / "bundle.yaml", yaml.safe_dump(manifest, sort_keys=False))
    return folder


def _bundle_path(spec, tmp_path: Path) -> Path:
    if isinstance(spec, str):
        path = BUNDLES_DIR / spec
        assert (path / "bundle.yaml").is_file(), f"no bundle folder `{spec}` under {BUNDLES_DIR}"
        return path
    return write_bundle(tmp_path / "bundle", spec)


# Running a case


@dataclass
class Outcome:
    stage: str  # the stage that raised an error ("compile", "load" or "evaluate"), or "evaluate" when none did
    error: InvalidInputError | None = None
    warnings: list[Diagnostic] | None = None
    results: object | None = None


def run_case(case: dict, tmp_path: Path) -> Outcome:
    _write_text(tmp_path / POLICY_FILE, case["policy"])
    for name, text in case.get("files", {}).items():
        _write_text(tmp_path / name, text)
    as_of = datetime.date.fromisoformat(str(case.get("as_of", AS_OF)))
    try:
        plan, diagnostics = compile_policies([POLICY_FILE], as_of=as_of)
    except InvalidInputError as exc:
        return Outcome("compile", exc)
    warnings = [d for d in diagnostics if d.severity is Severity.WARNING]
    if "bundle" not in case:
        return Outcome("compile", warnings=warnings)
    try:
        bundle = load_bundle(_bundle_path(case["bundle"], tmp_path))
    except InvalidInputError as exc:
        return Outcome("load", exc, warnings)
    params = {name: str(value) for name, value in case.get("params", {}).items()}
    try:
        results = evaluate(plan, bundle, clock=lambda: as_of, params=params)
    except InvalidInputError as exc:
        return Outcome("evaluate", exc, warnings)
    return Outcome("evaluate", warnings=warnings, results=results)


def _texts(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def check_error(expect: dict, outcome: Outcome) -> None:
    code = expect["error"]
    assert outcome.error is not None, f"expected error {code}, but every stage succeeded"
    errors = sorted((d for d in outcome.error.diagnostics if d.is_error), key=sort_key)
    codes = sorted({d.code for d in errors})
    assert codes == sorted({code, *expect.get("also", [])}), "errors: " + "; ".join(f"{d.code} {d.message}" for d in errors)
    if "stage" in expect:
        assert outcome.stage == expect["stage"]
    first = next(d for d in errors if d.code == code)
    if "file" in expect:
        assert first.span is not None and first.span.file == expect["file"]
    if "line" in expect:
        assert first.span is not None and first.span.line == expect["line"]
    if "column" in expect:
        assert first.span is not None and first.span.column == expect["column"]
    for text in _texts(expect.get("message_contains", [])):
        assert text in first.message
    for text in _texts(expect.get("help_contains", [])):
        assert first.help is not None and text in first.help


def _by_id(results) -> tuple[dict, dict]:
    controls = {c.id: c for c in results.controls}
    checks = {check.id: check for c in results.controls for check in c.checks}
    return controls, checks


def _message(item_id: str, controls: dict, checks: dict) -> str:
    if item_id in checks:
        return checks[item_id].message
    assert item_id in controls, f"`{item_id}` is neither a check nor a control"
    return controls[item_id].message


def check_results(expect: dict, outcome: Outcome) -> None:
    if outcome.error is not None:
        pytest.fail(f"{outcome.stage} failed: " + "; ".join(f"{d.code} {d.message}" for d in outcome.error.diagnostics))
    assert sorted(d.code for d in outcome.warnings) == sorted(expect.get("warnings", []))
    results = outcome.results
    controls, checks = _by_id(results)

    assert {cid: c.status for cid, c in controls.items()} == expect["statuses"]
    for check_id, status in expect.get("check_statuses", {}).items():
        assert checks[check_id].status == status, checks[check_id].message
    for check_id, value in expect.get("values", {}).items():
        if value is None:
            assert checks[check_id].value is None
        else:
            assert checks[check_id].value == pytest.approx(value, rel=TOLERANCE, abs=TOLERANCE)
    if "gate" in expect:
        assert results.gate.decision == expect["gate"]
    if "blocking" in expect:
        assert sorted(results.gate.blocking_controls) == sorted(expect["blocking"])
    for item_id, texts in expect.get("messages_contain", {}).items():
        message = _message(item_id, controls, checks)
        for text in _texts(texts):
            assert text in message
    for item_id, texts in expect.get("messages_exclude", {}).items():
        message = _message(item_id, controls, checks)
        for text in _texts(texts):
            assert text not in message
    for check_id, texts in expect.get("reasons_contain", {}).items():
        reason = checks[check_id].reason
        for text in _texts(texts):
            assert reason is not None and text in reason
    for check_id, labels in expect.get("failing_groups", {}).items():
        assert [g["group"] for g in checks[check_id].failing_groups] == labels

    bound = {p["name"]: p for p in results.parameters}
    for name, value in expect.get("parameters", {}).items():
        actual = bound[name]["value"]
        if isinstance(value, float) and isinstance(actual, float):
            assert actual == pytest.approx(value, rel=TOLERANCE, abs=TOLERANCE)
        else:
            assert actual == value
    for name, source in expect.get("parameter_sources", {}).items():
        assert bound[name]["source"] == source


@pytest.mark.parametrize("case", CASES)
def test_conformance(case, tmp_path, monkeypatch):
    # Relative display paths keep file names in diagnostics, such as an import cycle, independent of tmp_path.
    monkeypatch.chdir(tmp_path)
    outcome = run_case(case, tmp_path)
    if "error" in case["expect"]:
        check_error(case["expect"], outcome)
    else:
        check_results(case["expect"], outcome)


@pytest.mark.parametrize("folder", sorted(p.name for p in BUNDLES_DIR.iterdir() if p.is_dir()))
def test_bundle_folder_is_valid(folder):
    manifest = yaml.safe_load((BUNDLES_DIR / folder / "bundle.yaml").read_text(encoding="utf-8"))
    errors = [e.message for e in jsonschema.Draft202012Validator(BUNDLE_SCHEMA).iter_errors(manifest)]
    assert errors == []
    assert load_bundle(BUNDLES_DIR / folder).model["id"] == manifest["model"]["id"]
