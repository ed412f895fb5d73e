"""Compare results with a baseline: the results JSON of the previous model version.

A control *newly fails* when it ends in a blocking status (`fail`, `error`, `blocked`,
`insufficient`) now but passed, was waived or was skipped in the baseline. It *newly
passes* when it passes or is skipped now but ended in a blocking status in the
baseline. A control that failed before and is waived now has *changed*: a waiver
accepts a failure, it does not fix it. A check's metric *worsens* when its value moved in the
direction its comparison rejects: up for `<` and `<=`, down for `>` and `>=`. Checks
without such a comparison have no direction, so their moves are listed but never
count as worse.

With `fail_on_regression`, the gate also blocks when an advisory control newly fails
or a metric worsens by more than the tolerance (an absolute difference of values),
even while its threshold still passes.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from pathlib import Path

from govdsl.diagnostics import error
from govdsl.engine import status as st
from govdsl.engine.expressions import compare
from govdsl.engine.results import Results
from govdsl.errors import InvalidInputError
from govdsl.evidence.bundle import file_sha256

log = logging.getLogger("govdsl")

_MET = frozenset({st.PASS, st.WAIVED, st.SKIPPED})
_FIXED = frozenset({st.PASS, st.SKIPPED})


def load_baseline(path: str) -> dict:
    """Read the results JSON given with --baseline; raise InvalidInputError when it is not govdsl results."""
    return load_results_file(path, "baseline")


def load_results_file(path: str, what: str = "results") -> dict:
    """Read a results JSON file written by `govdsl check --format json`; raise InvalidInputError when it is not one."""
    help_text = "pass the JSON results of an earlier run: govdsl check ... --format json -o results.json"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInputError([error("E807", f"{what} file `{path}` not found", help=help_text)]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError([error("E807", f"cannot read {what} file `{path}`: {exc}", help=help_text)]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(
            [error("E808", f"{what} file `{path}` is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", help=help_text)]
        ) from None
    problem = _shape_problem(data)
    if problem:
        raise InvalidInputError([error("E808", f"{what} file `{path}` is not govdsl results: {problem}", help=help_text)])
    return data


def _shape_problem(data) -> str | None:
    if not isinstance(data, dict):
        return "the top level is not an object"
    version = data.get("schema_version")
    if not isinstance(version, str) or version.split(".")[0] != "2":
        return f"`schema_version` is {version!r}, and this govdsl reads results of schema version 2"
    controls = data.get("controls")
    if not isinstance(controls, list):
        return "`controls` is missing or not a list"
    for index, control in enumerate(controls):
        if not isinstance(control, dict) or not isinstance(control.get("id"), str) or not isinstance(control.get("status"), str):
            return f"`controls[{index}]` has no `id` and `status`"
        if not isinstance(control.get("checks", []), list):
            return f"`controls[{index}].checks` is not a list"
    if not isinstance(data.get("gate"), dict):
        return "`gate` is missing or not an object"
    return None


def _number(value) -> float | None:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) else None


def _worse_direction(operator: str | None) -> int:
    """+1 when a larger value is worse, -1 when a smaller one is, 0 when the check has no direction."""
    if operator in ("<", "<="):
        return 1
    if operator in (">", ">="):
        return -1
    return 0


def compare_with_baseline(
    results: Results, baseline: dict, baseline_name: str, tolerance: float = 0.0, fail_on_regression: bool = False
) -> Results:
    """Return `results` with a `baseline` section and, with `fail_on_regression`, regressions added to the gate."""
    before_controls = {c["id"]: c for c in baseline["controls"]}
    before_checks = {
        check.get("id"): check for control in baseline["controls"] for check in control.get("checks", []) if isinstance(check, dict)
    }
    controls = []
    for control in results.controls:
        previous = before_controls.get(control.id)
        before = previous["status"] if previous else None
        if previous is None:
            change = "new"
        elif control.status in st.BLOCKING and before in _MET:
            change = "newly_failing"
        elif control.status in _FIXED and before in st.BLOCKING:
            change = "newly_passing"
        else:
            change = "unchanged" if control.status == before else "changed"
        controls.append({"id": control.id, "enforcement": control.enforcement, "before": before, "after": control.status, "change": change})
    current_ids = {c.id for c in results.controls}
    controls += [
        {"id": key, "enforcement": c.get("enforcement"), "before": c["status"], "after": None, "change": "removed"}
        for key, c in before_controls.items()
        if key not in current_ids
    ]

    metrics = []
    for control in results.controls:
        for check in control.checks:
            previous = before_checks.get(check.id)
            before, after = _number(previous.get("value")) if previous else None, _number(check.value)
            if before is None or after is None:
                continue
            delta = after - before
            direction = _worse_direction(check.operator)
            worsened = direction != 0 and delta * direction > 0
            metrics.append(
                {
                    "check": check.id,
                    "metric": check.metric,
                    "measured": check.measured,
                    "operator": check.operator,
                    "before": before,
                    "after": after,
                    "delta": delta,
                    "worsened": worsened,
                    "beyond_tolerance": worsened and abs(delta) > tolerance,
                }
            )

    regressions = [f"control {c['id']} newly fails" for c in controls if c["change"] == "newly_failing" and c["enforcement"] == "advisory"]
    thresholds = {check.id: (check.operator, check.threshold) for control in results.controls for check in control.checks}
    regressions += [_worsened_text(m, tolerance, *thresholds.get(m["check"], (None, None))) for m in metrics if m["beyond_tolerance"]]
    threshold_changes = _threshold_changes(results, before_checks)
    baseline_model = _baseline_model(baseline)
    warnings = []
    if threshold_changes:
        warnings.append(
            f"{len(threshold_changes)} check(s) compare with another threshold than in the baseline, so a control that"
            " newly passes or fails there may reflect the policy, not the model: "
            + "; ".join(f"{c['check']} {c['before']} -> {c['after']}" for c in threshold_changes)
        )
    model_id = results.bundle.get("model", {}).get("id")
    if baseline_model.get("id") is not None and baseline_model.get("id") != model_id:
        warnings.append(f"the baseline is for model `{baseline_model.get('id')}`, not `{model_id}`, so the comparison may not mean much")
    policies = {p.get("name") for p in baseline.get("policies", []) if isinstance(p, dict)}
    current_policies = {p["name"] for p in results.policies}
    if policies and not policies & current_policies:
        listed = ", ".join(f"`{name}`" for name in sorted(policies, key=str))
        warnings.append(f"the baseline evaluated other policies ({listed}), so every control is new or removed")
    for warning in warnings:
        log.warning("baseline %s: %s", baseline_name, warning)
    section = {
        "file": baseline_name,
        "sha256": _file_sha256(baseline_name),
        "as_of": baseline.get("as_of"),
        "model": baseline_model.get("version"),
        "model_id": baseline_model.get("id"),
        "warnings": warnings,
        "threshold_changes": threshold_changes,
        "tolerance": tolerance,
        "fail_on_regression": fail_on_regression,
        "controls": controls,
        "metrics": metrics,
        "regressions": regressions,
    }
    gate = results.gate
    if fail_on_regression and regressions:
        gate = dataclasses.replace(gate, decision="blocked", regressions=tuple(regressions))
    return dataclasses.replace(results, baseline=section, gate=gate)


def _baseline_model(baseline: dict) -> dict:
    """Return the `model` of the baseline's bundle, or {} when the results do not record one."""
    bundle = baseline.get("bundle")
    model = bundle.get("model") if isinstance(bundle, dict) else None
    return model if isinstance(model, dict) else {}


def _threshold_changes(results: Results, before_checks: dict) -> list[dict]:
    """Return the checks whose comparison (operator and threshold) differs from the one recorded in the baseline."""
    changes = []
    for control in results.controls:
        for check in control.checks:
            previous = before_checks.get(check.id)
            before = previous.get("comparison") if previous else None
            if not isinstance(before, dict) or check.operator is None or check.threshold is None:
                continue
            if before.get("operator") != check.operator or _number(before.get("threshold")) != check.threshold:
                changes.append(
                    {
                        "check": check.id,
                        "before": f"{before.get('operator')} {before.get('threshold')}",
                        "after": f"{check.operator} {check.threshold:g}",
                    }
                )
    return changes


def _worsened_text(move: dict, tolerance: float, operator: str | None, threshold: float | None) -> str:
    """Describe a value that got worse by more than the tolerance, and whether its own threshold still holds."""
    change = abs(move["after"] - move["before"])
    text = (
        f"{move['check']}: {move.get('measured') or move['metric']} worsened from {move['before']:.4f} to {move['after']:.4f},"
        f" by {change:.4f}, more than the regression tolerance {tolerance:g}"
    )
    if operator is not None and threshold is not None:
        if compare(move["after"], operator, threshold):
            text += f"; its threshold {operator} {threshold:g} still holds"
        else:
            text += f"; it also fails its threshold {operator} {threshold:g}"
    return text


def _file_sha256(path: str) -> str | None:
    """Return the SHA-256 of the baseline file, so the audit record names which results were compared; None when unreadable."""
    try:
        return file_sha256(Path(path))
    except OSError:
        return None
