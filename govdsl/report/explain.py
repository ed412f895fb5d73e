"""Explain one control: its place in the dependency graph, the evidence it read, and why it has its status.

`explain_control` builds plain data from the plan, the bundle and the results of a
full evaluation, so the text and JSON forms show the same facts.
"""

from __future__ import annotations

import json

from govdsl.compiler import plan as p
from govdsl.engine.results import CheckResult, ControlResult, Results

# Arguments whose values name columns of a dataset, for the list of columns a check read.
_COLUMN_ARGUMENTS = ("feature", "features", "column", "columns", "score_column")

_BOUND_WORDS = {"<=": "at most", ">=": "at least", "<": "below", ">": "above", "!=": "other than"}


def explain_control(plan: p.Plan, bundle, results: Results, control_id: str) -> dict:
    """Return the explanation of `control_id` as JSON-ready data; the control must exist in the plan."""
    spec = plan.controls[control_id]
    by_id = {c.id: c for c in results.controls}
    result = by_id[control_id]
    return {
        "control": {
            "id": spec.id,
            "policy": spec.policy,
            "title": spec.title,
            "description": spec.description,
            "owner": spec.owner,
            "severity": spec.severity,
            "enforcement": spec.enforcement,
            "waivable_by": list(spec.waivable_by),
            "status": result.status,
            "blocks_gate": result.blocks_gate,
            "message": result.message,
            "waiver": result.waiver,
            "remediation": spec.remediation,
            "defined_at": spec.span,
        },
        "requires": _requirement_tree(plan, by_id, control_id, set()),
        "required_by": [{"id": other.id, "status": by_id[other.id].status} for other in _dependants(plan, control_id)],
        "clauses": [_clause(plan, results, reference) for reference in spec.maps],
        "checks": [_check(plan, bundle, check, results) for check in result.checks],
        "gate": {"decision": results.gate.decision, "as_of": results.as_of},
    }


def _dependants(plan: p.Plan, control_id: str) -> list[p.ControlSpec]:
    return [other for other in plan.controls.values() if control_id in other.requires]


def _requirement_tree(plan: p.Plan, by_id: dict[str, ControlResult], control_id: str, seen: set[str]) -> list[dict]:
    """Return the controls `control_id` requires, each with the controls it requires in turn."""
    tree = []
    for required in plan.controls[control_id].requires:
        entry = {"id": required, "status": by_id[required].status, "enforcement": plan.controls[required].enforcement}
        if required not in seen:
            entry["requires"] = _requirement_tree(plan, by_id, required, seen | {required})
        tree.append(entry)
    return tree


def _clause(plan: p.Plan, results: Results, reference: str) -> dict:
    info = plan.clauses.get(reference)
    clause = next((c for c in results.clauses if c.reference == reference), None)
    return {
        "reference": reference,
        "label": info.label if info else None,
        "status": clause.status if clause else None,
        "controls": [{"id": control, "status": status} for control, status in (clause.controls if clause else ())],
    }


def _evidence(plan: p.Plan, bundle, check_spec: p.CheckSpec) -> list[dict]:
    """Return the datasets a check read through its reductions, with the file, digest and columns."""
    evidence = []
    for reduction_id in check_spec.reductions:
        reduction = plan.reductions[reduction_id]
        names = [reduction.dataset] if reduction.dataset else None
        if names is None:
            names = [d.name for role in reduction.roles for d in bundle.datasets_with_role(role)]
        for name in names:
            dataset = bundle.datasets.get(name)
            if dataset is None:
                evidence.append({"reduction": reduction_id, "dataset": name, "file": None, "sha256": None, "columns": []})
                continue
            evidence.append(
                {
                    "reduction": reduction_id,
                    "dataset": dataset.name,
                    "role": dataset.role,
                    "file": dataset.relative_path,
                    "sha256": dataset.sha256,
                    "columns": (columns := _columns(reduction, dataset)),
                    # The file's own name of each column, where the bundle gives the column another name with `aliases`.
                    "aliases": {name: dataset.column_in_file(name) for name in columns if dataset.column_in_file(name) != name},
                }
            )
    return evidence


# The columns each kind of reduction reads besides those its arguments and features name.
_LABEL_AND_PREDICTION = frozenset({"group_confusion", "favorable_confusion", "regression_sums"})
_LABEL_AND_SCORE = frozenset({"score_counts", "probability_counts"})
_ALL_COLUMNS_BY_DEFAULT = frozenset({"column_profile", "duplicate_rows", "schema_profile"})


def _columns(reduction: p.ReductionSpec, dataset) -> list[str]:
    """Return the columns of `dataset` that a reduction reads, by the names the check uses."""
    columns: list[str] = []
    if reduction.kind in _LABEL_AND_PREDICTION:
        columns += [dataset.label_column, dataset.prediction_column]
    elif reduction.kind in _LABEL_AND_SCORE:
        columns += [dataset.label_column, reduction.option("score_column") or dataset.score_column]
    elif reduction.kind in _ALL_COLUMNS_BY_DEFAULT and not reduction.option("columns"):
        excluded = set(reduction.option("exclude") or ())
        columns += [column for column in dataset.columns if column not in excluded]
    for name in _COLUMN_ARGUMENTS:
        value = reduction.option(name)
        if isinstance(value, str):
            columns.append(value)
        elif isinstance(value, tuple):
            columns.extend(value)
    columns += list(reduction.features)
    return [c for c in dict.fromkeys(columns) if c]


def _threshold_parameter(spec: p.CheckSpec, results: Results) -> dict | None:
    """Return the parameter a `MEASURED OPERATOR parameter` check compares with, with its value and source; else None."""
    expression = spec.expression
    if expression.get("kind") != "compare" or len(expression.get("operands", ())) != 2:
        return None
    names = [operand.get("name") for operand in expression["operands"] if operand.get("kind") == "param"]
    if len(names) != 1:
        return None
    bound = {parameter["name"]: parameter for parameter in results.parameters}
    return bound.get(names[0])


def _check(plan: p.Plan, bundle, check: CheckResult, results: Results) -> dict:
    spec = plan.checks[check.id]
    entry = {
        "id": check.id,
        "kind": check.kind,
        "source": check.source,
        "status": check.status,
        "message": check.message,
        "reason": check.reason,
        "metric": check.metric,
        "arguments": check.arguments,
        "value": check.value,
        "metric_value": check.metric_value,
        "comparison": {"operator": check.operator, "threshold": check.threshold} if check.operator else None,
        "comparisons": list(check.comparisons),
        "failing_groups": list(check.failing_groups),
        "groups": [g.to_dict() for g in check.groups],
        "excluded_groups": list(check.excluded_groups),
        "details": dict(check.details),
        "requirement": check.requirement,
        "evidence": _evidence(plan, bundle, spec),
        "to_pass": _to_pass(check),
        "threshold_parameter": _threshold_parameter(spec, results),
    }
    return entry


def _to_pass(check: CheckResult) -> str | None:
    """Return what would make a failed check pass, from its comparisons; None when it did not fail."""
    if check.status != "fail":
        return None
    if check.failing_groups and check.comparisons:
        failing = ", ".join(f"{g['group']} ({_number(g['value'])})" for g in check.failing_groups)
        last = check.comparisons[-1]
        return f"every group must satisfy `{last['source']}`; these do not: {failing}"
    if check.operator is not None and check.threshold is not None and check.value is not None:
        gap = abs(check.value - check.threshold)
        direction = "down" if check.operator in ("<", "<=") else "up"
        bound = _BOUND_WORDS.get(check.operator, "equal to")
        return (
            f"the value must be {bound} {_number(check.threshold)}: it is {_number(check.value)},"
            f" so it must move {direction} by {_number(gap)}"
        )
    failed = [c for c in check.comparisons if not c["holds"]]
    if failed:
        return "; ".join(f"`{_number(c['left'])} {c['operator']} {_number(c['right'])}` must hold" for c in failed)
    return None


def _number(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def render_explanation_json(explanation: dict) -> str:
    return json.dumps(explanation, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def render_explanation_text(explanation: dict) -> str:
    control = explanation["control"]
    lines = [f"Control {control['id']}: {control['status'].upper()}"]
    if control["title"]:
        lines.append(f"  {control['title']}")
    gate = "blocks the gate" if control["blocks_gate"] else "does not block the gate"
    roles = ", ".join(control["waivable_by"]) or "none listed"
    lines.append(f"  {control['enforcement']}, severity {control['severity']}, {gate}; roles that may waive it: {roles}")
    span = control["defined_at"]
    if span:
        lines.append(f"  defined at {span.get('file')}:{span.get('line')}")
    lines.append(f"  {control['message']}")

    lines += ["", "Dependency path"]
    lines.append(f"  policy {control['policy']} -> control {control['id']}")
    if explanation["requires"]:
        lines.append("  requires:")
        lines.extend(_tree_lines(explanation["requires"], "    "))
    else:
        lines.append("  requires no other control")
    if explanation["required_by"]:
        dependants = ", ".join(f"{d['id']} ({d['status']})" for d in explanation["required_by"])
        lines.append(f"  required by: {dependants}")
    for clause in explanation["clauses"]:
        label = f" {clause['label']}" if clause["label"] else ""
        lines.append(f"  maps to {clause['reference']}{label}: clause {clause['status']}")

    for check in explanation["checks"]:
        lines += ["", f"Check {check['id']}: {check['status'].upper()}", f"  {check['source']}"]
        for item in check["evidence"]:
            aliases = item.get("aliases", {})
            columns = ", ".join(f"{c} (column {aliases[c]})" if c in aliases else c for c in item["columns"]) or "none"
            digest = f" sha256 {item['sha256'][:12]}..." if item.get("sha256") else ""
            lines.append(f"  read {item['file']} (dataset {item['dataset']}){digest}: columns {columns}")
        estimate = check.get("metric_value")
        if check["value"] is not None and estimate is not None and estimate != check["value"]:
            # The check compared a bound or an aggregate of the metric, not its value.
            lines.append(f"  value compared: {_number(check['value'])}")
            lines.append(f"  {check['metric']}: {_number(estimate)}{_interval(check['details'])}")
        elif check["value"] is not None:
            lines.append(f"  value: {_number(check['value'])}{_interval(check['details'])}")
        if check["comparison"]:
            parameter = check.get("threshold_parameter")
            origin = f" (parameter {parameter['name']}: {parameter['source']})" if parameter else ""
            lines.append(f"  threshold: {check['comparison']['operator']} {_number(check['comparison']['threshold'])}{origin}")
        for group in check["groups"]:
            values = ", ".join(_group_value(group, name, value) for name, value in group["values"].items())
            label = ", ".join(f"{k}={v}" for k, v in group["group"].items())
            lines.append(f"    {label} (n = {group['n']}): {values}")
        for left_out in check["excluded_groups"]:
            label = ", ".join(f"{k}={v}" for k, v in left_out["group"].items())
            lines.append(f"    {label} (n = {left_out['n']}): left out, below the minimum group size")
        lines.append(f"  why: {check['message']}")
        if check["to_pass"]:
            lines.append(f"  to pass: {check['to_pass']}")
    if control["status"] not in ("pass", "skipped") and control["remediation"]:
        lines += ["", f"Remediation: {control['remediation']}"]
    if control["waiver"]:
        waiver = control["waiver"]
        lines += ["", f"Waived by {waiver['id']} ({waiver['approved_by']['role']}) until {waiver['expires']}: {waiver['justification']}"]
    return "\n".join(lines) + "\n"


def _interval(details: dict) -> str:
    interval = details.get("interval") if isinstance(details, dict) else None
    if isinstance(interval, dict) and interval.get("low") is not None and interval.get("high") is not None:
        confidence = details.get("confidence", 0.95)
        method = f", {interval['method']}" if interval.get("method") else ""
        return f" ({confidence:.0%} interval [{_number(interval['low'])}, {_number(interval['high'])}]{method})"
    return ""


def _group_value(group: dict, name: str, value) -> str:
    if value is None:
        return f"{name} undefined"
    bounds = (group.get("intervals") or {}).get(name)
    if isinstance(bounds, dict) and bounds.get("low") is not None and bounds.get("high") is not None:
        return f"{name} {_number(value)} [{_number(bounds['low'])}, {_number(bounds['high'])}]"
    return f"{name} {_number(value)}"


def _tree_lines(tree: list[dict], indent: str) -> list[str]:
    lines = []
    for entry in tree:
        lines.append(f"{indent}{entry['id']} ({entry['enforcement']}): {entry['status']}")
        lines.extend(_tree_lines(entry.get("requires", []), indent + "  "))
    return lines
