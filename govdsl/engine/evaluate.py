"""Evaluate a Plan on a Bundle: bind parameters, compute each shared reduction once, then controls in order.

The clock is injected, so `--as-of DATE` makes every result reproducible.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import yaml

from govdsl import __version__
from govdsl.compiler.plan import CONTROL, CheckSpec, ControlSpec, Plan
from govdsl.diagnostics import error
from govdsl.engine import gate
from govdsl.engine import status as st
from govdsl.engine.expressions import (
    Environment,
    Evaluator,
    MissingEvidence,
    Trace,
    Undefined,
    compare,
    metric_value,
)
from govdsl.engine.params import bind_params
from govdsl.engine.requirements import evaluate_requirement
from govdsl.engine.results import CheckResult, ClauseResult, ControlResult, Gate, GroupResult, Results
from govdsl.errors import InvalidInputError
from govdsl.evidence.bundle import BUNDLE_FILE, Bundle, Dataset, file_sha256
from govdsl.evidence.model_card import ModelCard, read_model_card
from govdsl.evidence.readers import DEFAULT_CHUNK_ROWS, EvidenceReadError
from govdsl.evidence.kinds import reduction_function
from govdsl.evidence.reductions import EvidenceInvalid, EvidenceMissing
from govdsl.metrics.fairness import describe_group

log = logging.getLogger("govdsl")

__all__ = ["compare", "evaluate", "today_utc"]

# Called as progress(done, total, label) while an evaluation runs.
Progress = Callable[[int, int, str], None]

_MIRRORED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


@dataclass(frozen=True)
class _Reduced:
    datasets: str | None  # the names of the datasets read, for the report
    table: object | None
    problem: str | None


def today_utc() -> datetime.date:
    return datetime.datetime.now(datetime.timezone.utc).date()


def select_dataset(bundle: Bundle, name: str | None, role: str) -> Dataset:
    """Return the dataset named `name`, or else the one dataset with the role."""
    if name is not None:
        dataset = bundle.datasets.get(name)
        if dataset is None:
            names = ", ".join(bundle.datasets) or "none"
            raise EvidenceMissing(f"the bundle declares no dataset named `{name}` (datasets: {names})")
        return dataset
    candidates = bundle.datasets_with_role(role)
    if not candidates:
        raise EvidenceMissing(f"the bundle declares no dataset with role `{role}`")
    if len(candidates) > 1:
        names = ", ".join(d.name for d in candidates)
        raise EvidenceMissing(f"several datasets have role `{role}` ({names}); name one with `dataset = \"...\"`")
    return candidates[0]


def _datasets_for(bundle: Bundle, spec) -> dict[str, Dataset]:
    """Select a dataset per role; with several roles, an option named after a role names its dataset."""
    if len(spec.roles) == 1:
        return {spec.roles[0]: select_dataset(bundle, spec.dataset, spec.roles[0])}
    return {role: select_dataset(bundle, spec.option(role), role) for role in spec.roles}


def compute_reductions(
    plan: Plan,
    bundle: Bundle,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: Progress | None = None,
    *,
    as_of: datetime.date | None = None,
) -> dict[str, _Reduced]:
    """Compute every reduction of the plan once; unreadable or contradictory evidence is invalid input.

    A reduction whose metrics name no dataset role reads bundle.yaml as of `as_of` (default: today).

    `progress`, when given, is called as `progress(done, total, label)` before each reduction and once at the end.
    """
    reduced: dict[str, _Reduced] = {}
    pending = sorted(plan.reductions.items())
    shared = _shared_drift_tables(plan, bundle, chunk_rows)
    # Per-group confusion counts by (dataset, features): disparate impact reads the same counts as the rate metrics.
    confusion: dict[tuple[str, tuple[str, ...]], object] = {}
    for index, (reduction_id, spec) in enumerate(pending):
        if progress is not None:
            progress(index, len(pending), f"reduction {reduction_id}")
        if not spec.roles:
            reduced[reduction_id] = _bundle_reduction(bundle, spec, as_of or today_utc())
            continue
        try:
            datasets = _datasets_for(bundle, spec)
        except EvidenceMissing as exc:
            reduced[reduction_id] = _Reduced(None, None, str(exc))
            continue
        names = ", ".join(dict.fromkeys(d.name for d in datasets.values()))
        if reduction_id in shared:
            reduced[reduction_id] = _Reduced(names, shared[reduction_id], None)
            continue
        started = time.perf_counter()
        try:
            if spec.kind in _CONFUSION_KINDS:
                table = _confusion_table(spec, datasets, confusion, chunk_rows)
            else:
                table = reduction_function(spec.kind)(datasets, spec, chunk_rows)
        except EvidenceMissing as exc:
            reduced[reduction_id] = _Reduced(names, None, str(exc))
            continue
        except EvidenceReadError as exc:
            raise InvalidInputError([error("E409", f"dataset `{names}` of bundle `{bundle.display_path}`: {exc}")]) from None
        except EvidenceInvalid as exc:
            keys = ", ".join(f"`{d.key}`" for d in datasets.values())
            help_text = exc.help or f"correct the declarations at {keys} in bundle.yaml, or the data file"
            raise InvalidInputError([error("E410", f"{exc} in bundle `{bundle.display_path}`", help=help_text)]) from None
        log.info("reduction %s of `%s`: %.3f s", reduction_id, names, time.perf_counter() - started)
        reduced[reduction_id] = _Reduced(names, table, None)
    if progress is not None:
        progress(len(pending), len(pending), "reductions done")
    return reduced


_CONFUSION_KINDS = frozenset({"group_confusion", "favorable_confusion"})


def _confusion_table(spec, datasets: dict[str, Dataset], cache: dict, chunk_rows: int):
    """Count per-group confusion once per dataset and features, for both the rate metrics and disparate impact."""
    from govdsl.evidence.favorable import favorable_outcome, with_favorable

    if spec.kind == "favorable_confusion":
        favorable_outcome(datasets, spec)  # without a favorable outcome, fail before reading the data
    key = (datasets["predictions"].name, tuple(spec.features))
    if key not in cache:
        cache[key] = reduction_function("group_confusion")(datasets, spec, chunk_rows)
    counts = cache[key]
    return counts if spec.kind == "group_confusion" else with_favorable(counts, datasets, spec)


def _shared_drift_tables(plan: Plan, bundle: Bundle, chunk_rows: int) -> dict[str, object]:
    """Count the columns of every drift reduction on the same two datasets in one pass, and give each its columns.

    A drift reduction only counts each column's values, so the counts of a column do
    not depend on the other columns read with it. When the combined pass fails, for
    example because one check names an undeclared feature, this returns nothing for
    those datasets and each reduction runs alone, reporting its own problem.
    """
    from dataclasses import replace as replace_spec

    from govdsl.evidence.histograms import column_names
    from govdsl.metrics.drift import DriftTable

    groups: dict[tuple[str, ...], list] = {}
    for reduction_id, spec in plan.reductions.items():
        if spec.kind != "drift_histograms":
            continue
        try:
            datasets = _datasets_for(bundle, spec)
        except EvidenceMissing:
            continue
        groups.setdefault(tuple(datasets[role].name for role in spec.roles), []).append((reduction_id, spec, datasets))
    tables: dict[str, object] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        columns = list(dict.fromkeys(column for _, spec, _ in members for column in column_names(spec)))
        first_spec, datasets = members[0][1], members[0][2]
        combined_options = tuple(sorted((name, value) for name, value in first_spec.options if name not in ("feature", "features")))
        combined = replace_spec(first_spec, id="combined drift columns", options=(*combined_options, ("features", tuple(columns))))
        try:
            table = reduction_function("drift_histograms")(datasets, combined, chunk_rows)
        except (EvidenceMissing, EvidenceInvalid, EvidenceReadError):
            continue
        for reduction_id, spec, _ in members:
            spec_columns = column_names(spec)
            tables[reduction_id] = DriftTable(table.reference, table.current, {column: table.columns[column] for column in spec_columns})
    return tables


def _bundle_reduction(bundle: Bundle, spec, as_of: datetime.date) -> _Reduced:
    """Run a reduction that reads no dataset but bundle.yaml and the files it names, such as the model card."""
    try:
        table = reduction_function(spec.kind)(bundle, spec, as_of)
    except EvidenceMissing as exc:
        return _Reduced(None, None, str(exc))
    return _Reduced(None, table, None)


def read_bundle_card(bundle: Bundle) -> ModelCard | None:
    """Read the bundle's model card, or return None when it declares none; an unreadable card is invalid input."""
    if bundle.model_card is None:
        return None
    display = bundle.model_card.relative_to(bundle.root).as_posix()
    try:
        return read_model_card(bundle.model_card, display)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InvalidInputError(
            [error("E412", f"cannot read model card `{display}` of bundle `{bundle.display_path}`: {exc}",
                   help="a model card is UTF-8 Markdown, or YAML when its name ends in .yaml")]
        ) from None


def _format(value: float) -> str:
    return f"{value:.4f}"


_SHOWN_TEXT = 60


def _show(value) -> str:
    """Format a value for a message, in the policy language's own notation."""
    if value is None:
        return "absent"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _format(value)
    if isinstance(value, str):
        text = " ".join(value.split())
        if len(text) > _SHOWN_TEXT:
            text = text[: _SHOWN_TEXT - 1] + "…"
        return f'"{text}"'
    if isinstance(value, list):
        return "[" + ", ".join(_show(item) for item in value) + "]"
    return str(value)


def _operand(source: str, value) -> str:
    if not source:
        return f"{value:g}" if isinstance(value, float) else _show(value)
    return f"{source} = {_show(value)}"


def _describe(comparison) -> str:
    left = _operand(comparison.left_source, comparison.left)
    right = _operand(comparison.right_source, comparison.right)
    where = f"{comparison.group}: " if comparison.group else ""
    if comparison.holds:
        return f"{where}{left} {comparison.operator} {right}"
    if comparison.operator in ("in", "not in", "matches"):
        return f"{where}`{left} {comparison.operator} {right}` is false"
    return f"{where}{left} is not {comparison.operator} {right}"


# How many comparisons a message describes before it counts the rest.
_SHOWN_COMPARISONS = 3


def _aggregate_note(trace: Trace) -> str:
    """Name the groups behind an aggregate over per-group values, such as `max at feature=age`."""
    notes = []
    for name, labels in trace.aggregates[:2]:
        if name in ("max", "min"):
            notes.append(f"{name} at {labels[0]}")
        else:
            notes.append(f"{name} of {labels[0]} and {labels[-1]}")
    return "; " + "; ".join(notes) if notes else ""


def _check_message(status: str, trace: Trace, spec: CheckSpec) -> str:
    if status == st.PASS:
        parts = [_describe(c) for c in trace.comparisons[:_SHOWN_COMPARISONS]]
        hidden = len(trace.comparisons) - _SHOWN_COMPARISONS
        if hidden > 0:
            parts.append(f"and {hidden} more that hold" if hidden != 1 else "and 1 more that holds")
        return ("holds: " + "; ".join(parts) if parts else "holds") + _aggregate_note(trace)
    failed = [c for c in trace.comparisons if not c.holds] or trace.comparisons
    parts = [_describe(c) for c in failed[:_SHOWN_COMPARISONS]]
    if len(failed) > _SHOWN_COMPARISONS:
        parts.append(f"and {len(failed) - _SHOWN_COMPARISONS} more")
    if trace.failing_groups:
        # The comparisons inside a quantifier are about single groups, so the groups say it all.
        groups = ", ".join(f"{label} ({_show(value)})" for label, value in trace.failing_groups[:6])
        more = f" and {len(trace.failing_groups) - 6} more" if len(trace.failing_groups) > 6 else ""
        parts = [f"fails for {groups}{more}"]
    text = ("does not hold: " + "; ".join(parts) if parts else "does not hold") + _aggregate_note(trace)
    for measurement in trace.measurements[:1]:
        value = measurement.value
        for component, (low, high) in value.extremes.items():
            rates = {g.key: g.rates[component] for g in value.groups}
            text += (
                f"; {component.replace('_', ' ')} ranges from {_format(rates[low])} ({describe_group(measurement.features, low)})"
                f" to {_format(rates[high])} ({describe_group(measurement.features, high)})"
            )
    return text


def _simple_comparison(expression: dict, trace: Trace) -> tuple[str | None, float | None, float | None, str | None]:
    """Return (operator, threshold, measured value, measured source) for a check of the shape `MEASURED OPERATOR threshold`.

    MEASURED reads a metric: the metric itself, or an expression of it such as
    `lower(roc_auc())` or `max(psi_per_feature(...))`. The threshold reads none,
    such as `0.1` or a parameter. The measured value is what was compared, which
    for `lower(...)` is the interval's bound, not the metric's estimate.
    """
    if expression.get("kind") == "quantifier":
        operator, threshold = _quantified_threshold(expression, trace)
        return operator, threshold, None, None
    if expression.get("kind") != "compare" or len(expression["operands"]) != 2 or len(trace.comparisons) != 1:
        return None, None, None, None
    left, right = expression["operands"]
    comparison = trace.comparisons[0]
    numbers = isinstance(comparison.left, (int, float)) and isinstance(comparison.right, (int, float))
    if not numbers or isinstance(comparison.left, bool) or isinstance(comparison.right, bool):
        return None, None, None, None
    if _reads_metric(left) and not _reads_metric(right):
        return comparison.operator, comparison.right, comparison.left, _measured_source(left, comparison.left_source)
    if _reads_metric(right) and not _reads_metric(left):
        return _MIRRORED[comparison.operator], comparison.left, comparison.right, _measured_source(right, comparison.right_source)
    return None, None, None, None


def _quantified_threshold(expression: dict, trace: Trace) -> tuple[str | None, float | None]:
    """Return (operator, threshold) of `every g in ...: g OPERATOR threshold`, which every group is compared with.

    The check has no single value, because each group has its own, but reports can
    still show the threshold.
    """
    body = expression.get("body", {})
    if body.get("kind") != "compare" or len(body.get("operands", ())) != 2 or not trace.comparisons:
        return None, None
    left, right = body["operands"]
    variable = expression.get("variable")

    def is_variable(node: dict) -> bool:
        return node.get("kind") == "variable" and node.get("name") == variable

    if is_variable(left) and not _reads_metric(right):
        sides = [(c.operator, c.right) for c in trace.comparisons]
        mirror = False
    elif is_variable(right) and not _reads_metric(left):
        sides = [(c.operator, c.left) for c in trace.comparisons]
        mirror = True
    else:
        return None, None
    operator, threshold = sides[0]
    numeric = isinstance(threshold, (int, float)) and not isinstance(threshold, bool)
    if not numeric or any(side != (operator, threshold) for side in sides):
        return None, None
    return (_MIRRORED[operator] if mirror else operator), threshold


def _measured_source(node: dict, source: str) -> str | None:
    """Return the source of a measured expression that is more than a metric call, such as `lower(roc_auc())`; else None."""
    return None if node.get("kind") == "metric" else (source or None)


def _reads_metric(node) -> bool:
    """Return whether a plan expression reads a metric anywhere inside it."""
    if isinstance(node, dict):
        return node.get("kind") == "metric" or any(_reads_metric(child) for child in node.values())
    if isinstance(node, list):
        return any(_reads_metric(child) for child in node)
    return False


def evaluate_check(spec: CheckSpec, environment: Environment) -> CheckResult:
    evaluator = Evaluator(environment)
    reason = None
    try:
        status = st.PASS if evaluator.evaluate(spec.expression) else st.FAIL
        message = None
    except Undefined as exc:
        status, reason = st.INSUFFICIENT, str(exc)
        message = f"cannot be decided: {exc}"
    except MissingEvidence as exc:
        status, reason = st.ERROR, str(exc)
        message = f"missing evidence: {exc}"
    trace = evaluator.trace
    if message is None:
        message = _check_message(status, trace, spec)
    operator, threshold, measured, measured_source = _simple_comparison(spec.expression, trace)
    details: dict = {}
    if trace.measurements:
        primary = trace.measurements[0]
        value = primary.value
        details = dict(
            metric=primary.metric,
            arguments=primary.arguments,
            dataset=primary.dataset,
            value=value.value,
            metric_value=value.value,
            overall=dict(value.overall_rates),
            groups=tuple(
                GroupResult(
                    dict(zip(primary.features, g.key)),
                    g.counts.n,
                    g.counts.to_dict(),
                    dict(g.rates),
                    {name: None if i is None else i.to_dict() for name, i in g.intervals.items()},
                )
                for g in value.groups
            ),
            rows_excluded=primary.rows_excluded,
            details=dict(value.details),
            excluded_groups=tuple({"group": dict(zip(primary.features, key)), "n": n} for key, n in value.excluded),
            extremes={
                component: {"lowest": dict(zip(primary.features, low)), "highest": dict(zip(primary.features, high))}
                for component, (low, high) in value.extremes.items()
            },
        )
        if details["value"] is None and status == st.INSUFFICIENT and not reason:
            reason = value.reason
        if measured is not None:
            # The value a report shows beside the threshold is the one compared with it.
            details["value"] = measured
            details["measured"] = measured_source
    return CheckResult(
        id=spec.id,
        kind="check",
        status=status,
        message=message,
        source=spec.source,
        reason=reason,
        operator=operator,
        threshold=threshold,
        comparisons=tuple(
            {"source": c.source, "left": c.left, "operator": c.operator, "right": c.right, "holds": c.holds, **({"group": c.group} if c.group else {})}
            for c in trace.comparisons
        ),
        failing_groups=tuple({"group": label, "value": value} for label, value in trace.failing_groups),
        **details,
    )


def _unevaluated(spec: CheckSpec, status: str, reason: str) -> CheckResult:
    return CheckResult(id=spec.id, kind=spec.kind, status=status, message=f"not evaluated: {reason}", source=spec.source, reason=reason)


def _control_result(
    spec: ControlSpec, status: str, message: str, checks, allow_insufficient: bool, waiver=None
) -> ControlResult:
    final = gate.waived_status(status, waiver is not None)
    waiver_info = None
    if final == st.WAIVED:
        waiver_info = {
            "id": waiver.id,
            "status_waived": status,
            "approved_by": {"name": waiver.approver_name, "role": waiver.approver_role},
            "approved_on": waiver.approved_on.isoformat(),
            "expires": waiver.expires.isoformat(),
            "justification": waiver.justification,
            "ticket": waiver.ticket,
            "compensating_controls": list(waiver.compensating_controls),
        }
        message = f"{message}; {status} waived by `{waiver.id}` ({waiver.approver_role}, until {waiver.expires.isoformat()})"
    return ControlResult(
        id=spec.id,
        title=spec.title,
        severity=spec.severity,
        enforcement=spec.enforcement,
        status=final,
        blocks_gate=gate.blocks(spec.enforcement, final, allow_insufficient),
        waiver=waiver_info,
        message=message,
        maps=spec.maps,
        requires=spec.requires,
        remediation=spec.remediation,
        owner=spec.owner,
        checks=tuple(checks),
        waivable_by=spec.waivable_by,
        tags=spec.tags,
        references=spec.references,
    )


def _control_message(checks: list[CheckResult]) -> str:
    if not checks:
        return "the control has no checks, so nothing shows it is met"
    counts = {s: sum(1 for c in checks if c.status == s) for s in st.ALL}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    return f"{len(checks)} check{'s' if len(checks) != 1 else ''}: {summary}"


def _applicability(condition: dict | None, source: str | None, environment: Environment) -> tuple[bool, str | None]:
    """Return whether a condition holds, and the reason to show when it does not; raise MissingEvidence."""
    if condition is None:
        return True, None
    evaluator = Evaluator(environment)
    try:
        holds = bool(evaluator.evaluate(condition))
    except Undefined as exc:
        raise MissingEvidence(str(exc)) from None
    if holds:
        return True, None
    observed = ", ".join(f"{name} = {_show(value)}" for name, value in evaluator.trace.fields) or "no bundle fields read"
    return False, f"not applicable: `{source}` is false for this bundle ({observed})"


def evaluate(
    plan: Plan,
    bundle: Bundle,
    *,
    clock: Callable[[], datetime.date] = today_utc,
    allow_insufficient: bool = False,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    params: dict[str, str] | None = None,
    params_file: dict[str, object] | None = None,
    params_file_name: str = "",
    waivers: tuple = (),
    progress: Progress | None = None,
) -> Results:
    """Evaluate every control of the plan and decide the gate; `waivers` come from `load_waivers`.

    `progress` receives `(done, total, label)` as the reductions run; the CLI draws it on a terminal.
    """
    as_of = clock()
    usable, outcomes = _resolve_waivers(plan, bundle, waivers, as_of)
    bound = bind_params(plan, bundle.model, as_of, params, params_file, params_file_name)
    card = read_bundle_card(bundle)
    reduced = compute_reductions(plan, bundle, chunk_rows, progress, as_of=as_of)

    def metric(node: dict):
        entry = reduced[node["reduction"]]
        if entry.problem is not None:
            raise MissingEvidence(entry.problem)
        return metric_value(node, entry.table), entry.table, entry.datasets

    environment = Environment({name: b.value for name, b in bound.items()}, bundle.model, card, as_of, metric)

    policy_state: dict[str, tuple[str, str | None]] = {}
    for policy in plan.policies:
        try:
            applies, reason = _applicability(policy.applies, policy.applies_source, environment)
            policy_state[policy.name] = (st.PASS if applies else st.SKIPPED, reason)
        except MissingEvidence as exc:
            policy_state[policy.name] = (st.ERROR, f"cannot decide whether policy `{policy.name}` applies: {exc}")

    control_results: dict[str, ControlResult] = {}
    for node in plan.order:
        kind, name = node.split(":", 1)
        if kind != CONTROL:
            continue
        spec = plan.controls[name]
        result = _evaluate_control(
            plan, spec, bundle, environment, policy_state[spec.policy], control_results, allow_insufficient, usable.get(name)
        )
        control_results[name] = result

    controls = tuple(control_results[key] for key in plan.controls)  # policy order
    clauses = []
    for reference, info in sorted(plan.clauses.items(), key=lambda item: (item[0].split(":", 1)[0], item[1].position)):
        mapped = tuple((c.id, c.status) for c in controls if reference in c.maps)
        clauses.append(
            ClauseResult(
                reference,
                info.label,
                info.assessable,
                info.applies_from,
                st.combine_clause([s for _, s in mapped]),
                mapped,
                info.status,
                info.superseded_by,
            )
        )

    blocking = tuple(c.id for c in controls if c.blocks_gate)
    relaxed = tuple(
        c.id for c in controls if allow_insufficient and c.status == st.INSUFFICIENT and c.enforcement != "advisory"
    )
    counts = {s: sum(1 for c in controls if c.status == s) for s in st.ALL}
    gate_result = Gate("blocked" if blocking else "passed", blocking, allow_insufficient, relaxed, counts)

    bundle_info = {
        "path": bundle.display_path,
        "model": bundle.model,
        "datasets": [
            {"name": d.name, "path": d.relative_path, "role": d.role, "sha256": d.sha256}
            for d in sorted(bundle.datasets.values(), key=lambda d: d.name)
        ],
        "manifest": {"path": BUNDLE_FILE, "sha256": bundle.manifest_sha256} if bundle.manifest_sha256 else None,
        "model_card": _model_card_entry(bundle),
    }
    policies = tuple({"name": p.name, "version": p.version, "file": p.file, "sha256": p.sha256} for p in plan.policies)
    parameters = tuple(b.to_dict() for b in bound.values())
    waiver_report = tuple(_waiver_outcome(w, outcomes, control_results).to_dict() for w in waivers)
    return Results(
        __version__, as_of.isoformat(), policies, bundle_info, controls, tuple(clauses), gate_result, parameters, waiver_report
    )


def _model_card_entry(bundle: Bundle) -> dict | None:
    """Return the model card's path inside the bundle and its SHA-256, or None without a card."""
    if bundle.model_card is None:
        return None
    try:
        relative = bundle.model_card.relative_to(bundle.root).as_posix()
    except ValueError:
        relative = bundle.model_card.name
    return {"path": relative, "sha256": file_sha256(bundle.model_card)}


def _resolve_waivers(plan: Plan, bundle: Bundle, waivers, as_of: datetime.date):
    """Return the waiver in force per control id, and the refusal of every waiver that cannot apply."""
    usable: dict[str, object] = {}
    outcomes: dict[str, gate.WaiverOutcome] = {}
    model_id, version = str(bundle.model.get("id", "")), str(bundle.model.get("version", ""))
    for waiver in waivers:
        refused = gate.refusal(waiver, plan.controls.get(waiver.control), model_id, version, as_of, plan.controls)
        if refused is not None:
            outcomes[waiver.id] = gate.WaiverOutcome(waiver, *refused)
            if refused[0] in gate.REFUSED:
                log.warning("waiver %s (%s line %s) not applied: %s", waiver.id, waiver.file, waiver.line, refused[1])
        elif waiver.control in usable:
            first = usable[waiver.control]
            outcomes[waiver.id] = gate.WaiverOutcome(waiver, gate.UNUSED, f"waiver `{first.id}` already covers `{waiver.control}`")
        else:
            usable[waiver.control] = waiver
    return usable, outcomes


def _waiver_outcome(waiver, outcomes: dict, control_results: dict) -> "gate.WaiverOutcome":
    if waiver.id in outcomes:
        return outcomes[waiver.id]
    control = control_results[waiver.control]
    if control.waiver is not None and control.waiver["id"] == waiver.id:
        return gate.WaiverOutcome(waiver, gate.APPLIED, f"`{waiver.control}` {control.waiver['status_waived']} is waived")
    return gate.WaiverOutcome(waiver, gate.UNUSED, f"`{waiver.control}` is {control.status}, so there is nothing to waive")


def _evaluate_control(
    plan, spec, bundle, environment, policy_state, control_results, allow_insufficient, waiver=None
) -> ControlResult:
    checks = [plan.checks[c] for c in spec.checks]
    policy_status, policy_reason = policy_state
    if policy_status != st.PASS:
        results = [_unevaluated(c, policy_status, policy_reason) for c in checks]
        return _control_result(spec, policy_status, policy_reason, results, allow_insufficient, waiver)
    try:
        applies, reason = _applicability(spec.applies, spec.applies_source, environment)
    except MissingEvidence as exc:
        reason = f"cannot decide whether the control applies: {exc}"
        results = [_unevaluated(c, st.ERROR, reason) for c in checks]
        return _control_result(spec, st.ERROR, reason, results, allow_insufficient, waiver)
    if not applies:
        results = [_unevaluated(c, st.SKIPPED, reason) for c in checks]
        return _control_result(spec, st.SKIPPED, reason, results, allow_insufficient, waiver)
    # A required control that does not apply to this bundle does not block its dependants.
    unmet = [r for r in spec.requires if control_results[r].status not in (st.PASS, st.WAIVED, st.SKIPPED)]
    if unmet:
        reason = "requires " + ", ".join(f"`{r}` ({control_results[r].status})" for r in unmet)
        results = [_unevaluated(c, st.BLOCKED, reason) for c in checks]
        return _control_result(spec, st.BLOCKED, reason, results, allow_insufficient, waiver)
    results = []
    for check in checks:
        if check.kind == "require":
            results.append(evaluate_requirement(check, bundle, environment))
        else:
            results.append(evaluate_check(check, environment))
    status = st.combine_checks([c.status for c in results])
    return _control_result(spec, status, _control_message(results), results, allow_insufficient, waiver)
