"""Evaluate a Plan on a Bundle: compute each shared reduction once, then controls in dependency order.

The clock is injected, so `--as-of DATE` makes every result reproducible.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from govdsl import __version__
from govdsl.compiler.plan import CONTROL, CheckSpec, ControlSpec, Plan, ReductionSpec
from govdsl.diagnostics import error
from govdsl.engine import status as st
from govdsl.engine.results import CheckResult, ClauseResult, ControlResult, Gate, GroupResult, Results
from govdsl.errors import InvalidInputError
from govdsl.evidence.bundle import Bundle, Dataset
from govdsl.evidence.readers import DEFAULT_CHUNK_ROWS, EvidenceReadError
from govdsl.evidence.reductions import REDUCTION_KINDS, EvidenceInvalid, EvidenceMissing
from govdsl.metrics import get_metric
from govdsl.metrics.fairness import describe_group
from govdsl.metrics.values import MetricValue

log = logging.getLogger("govdsl")

# Relative tolerance of threshold comparisons, so that a value computed as 0.7999999999999999
# passes `>= 0.8`: floating-point noise must not decide a gate.
COMPARISON_TOLERANCE = 1e-9


@dataclass(frozen=True)
class _Reduced:
    dataset: Dataset | None
    table: object | None
    problem: str | None


def today_utc() -> datetime.date:
    return datetime.datetime.now(datetime.timezone.utc).date()


def compare(value: float, operator: str, threshold: float) -> bool:
    tolerance = COMPARISON_TOLERANCE * max(1.0, abs(threshold))
    if operator == "<=":
        return value <= threshold + tolerance
    if operator == "<":
        return value < threshold - tolerance
    if operator == ">=":
        return value >= threshold - tolerance
    if operator == ">":
        return value > threshold + tolerance
    if operator == "==":
        return abs(value - threshold) <= tolerance
    if operator == "!=":
        return abs(value - threshold) > tolerance
    raise ValueError(f"unknown comparison operator {operator!r}")


def _select_dataset(bundle: Bundle, spec: ReductionSpec) -> Dataset:
    if spec.dataset is not None:
        dataset = bundle.datasets.get(spec.dataset)
        if dataset is None:
            names = ", ".join(bundle.datasets) or "none"
            raise EvidenceMissing(f"the bundle declares no dataset named `{spec.dataset}` (datasets: {names})")
        return dataset
    candidates = bundle.datasets_with_role("predictions")
    if not candidates:
        raise EvidenceMissing("the bundle declares no dataset with role `predictions`")
    if len(candidates) > 1:
        names = ", ".join(d.name for d in candidates)
        raise EvidenceMissing(f"several datasets have role `predictions` ({names}); name one with `dataset = \"...\"`")
    return candidates[0]


def compute_reductions(plan: Plan, bundle: Bundle, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> dict[str, _Reduced]:
    """Compute every reduction of the plan once; unreadable evidence is invalid input."""
    reduced: dict[str, _Reduced] = {}
    for reduction_id, spec in sorted(plan.reductions.items()):
        try:
            dataset = _select_dataset(bundle, spec)
        except EvidenceMissing as exc:
            reduced[reduction_id] = _Reduced(None, None, str(exc))
            continue
        started = time.perf_counter()
        try:
            table = REDUCTION_KINDS[spec.kind](dataset, spec.features, chunk_rows)
        except EvidenceMissing as exc:
            reduced[reduction_id] = _Reduced(dataset, None, str(exc))
            continue
        except EvidenceReadError as exc:
            raise InvalidInputError(
                [error("E409", f"dataset `{dataset.name}` of bundle `{bundle.display_path}`: {exc}")]
            ) from None
        except EvidenceInvalid as exc:
            help_text = f"correct `positive_label` or the columns declared at `{dataset.key}` in bundle.yaml, or the data file"
            if isinstance(dataset.positive_label, bool):
                help_text += '; YAML reads unquoted yes, no, on, off, true and false as booleans, so quote a text label: `positive_label: "yes"`'
            raise InvalidInputError(
                [error("E410", f"{exc} in bundle `{bundle.display_path}`", help=help_text)]
            ) from None
        log.info(
            "reduction %s: %d rows of `%s` in %d groups, %.3f s",
            reduction_id,
            table.overall.n + table.rows_excluded,
            dataset.relative_path,
            len(table.groups),
            time.perf_counter() - started,
        )
        reduced[reduction_id] = _Reduced(dataset, table, None)
    return reduced


def _format(value: float) -> str:
    return f"{value:.4f}"


def _check_message(spec: CheckSpec, value: MetricValue, passed: bool, features: tuple[str, ...]) -> str:
    comparison = f"{spec.operator} {spec.threshold:g}"
    if passed:
        return f"{spec.metric} is {_format(value.value)}, which is {comparison}"
    text = f"{spec.metric} is {_format(value.value)}, which is not {comparison}"
    details = []
    for component, (low, high) in value.extremes.items():
        low_group = next(g for g in value.groups if g.key == low)
        high_group = next(g for g in value.groups if g.key == high)
        details.append(
            f"{component.replace('_', ' ')} ranges from {_format(low_group.rates[component])} "
            f"({describe_group(features, low)}) to {_format(high_group.rates[component])} "
            f"({describe_group(features, high)})"
        )
    if details:
        text += "; " + "; ".join(details)
    return text


def evaluate_check(spec: CheckSpec, reduced: _Reduced) -> CheckResult:
    base = dict(
        id=spec.id,
        metric=spec.metric,
        arguments=spec.arguments,
        operator=spec.operator,
        threshold=spec.threshold,
        source=spec.source,
        dataset=reduced.dataset.name if reduced.dataset else None,
    )
    if reduced.problem is not None:
        return CheckResult(status=st.ERROR, message=f"missing evidence: {reduced.problem}", reason=reduced.problem, **base)

    declaration = get_metric(spec.metric)
    table = reduced.table
    value: MetricValue = declaration.load()(table, declaration.components)
    groups = tuple(
        GroupResult(dict(zip(table.features, g.key)), g.counts.n, g.counts.to_dict(), dict(g.rates)) for g in value.groups
    )
    extremes = {
        component: {"lowest": dict(zip(table.features, low)), "highest": dict(zip(table.features, high))}
        for component, (low, high) in value.extremes.items()
    }
    details = dict(
        overall=dict(value.overall_rates), groups=groups, rows_excluded=table.rows_excluded, extremes=extremes
    )
    if value.value is None:
        return CheckResult(
            status=st.INSUFFICIENT,
            message=f"{spec.metric} cannot be computed: {value.reason}",
            reason=value.reason,
            **base,
            **details,
        )
    passed = compare(value.value, spec.operator, spec.threshold)
    return CheckResult(
        status=st.PASS if passed else st.FAIL,
        message=_check_message(spec, value, passed, table.features),
        value=value.value,
        **base,
        **details,
    )


def _blocked_check(spec: CheckSpec, reason: str) -> CheckResult:
    return CheckResult(
        id=spec.id,
        metric=spec.metric,
        arguments=spec.arguments,
        operator=spec.operator,
        threshold=spec.threshold,
        source=spec.source,
        status=st.BLOCKED,
        message=f"not evaluated: {reason}",
        reason=reason,
    )


def _control_result(spec: ControlSpec, status: str, message: str, checks, allow_insufficient: bool) -> ControlResult:
    blocking = set(st.BLOCKING)
    if allow_insufficient:
        blocking.discard(st.INSUFFICIENT)
    return ControlResult(
        id=spec.id,
        title=spec.title,
        severity=spec.severity,
        enforcement=spec.enforcement,
        status=status,
        blocks_gate=spec.enforcement != "advisory" and status in blocking,
        message=message,
        maps=spec.maps,
        requires=spec.requires,
        remediation=spec.remediation,
        owner=spec.owner,
        checks=tuple(checks),
    )


def _control_message(status: str, checks: list[CheckResult]) -> str:
    if not checks:
        return "the control has no checks, so nothing shows it is met"
    counts = {s: sum(1 for c in checks if c.status == s) for s in st.ALL}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    return f"{len(checks)} check{'s' if len(checks) != 1 else ''}: {summary}"


def evaluate(
    plan: Plan,
    bundle: Bundle,
    *,
    clock: Callable[[], datetime.date] = today_utc,
    allow_insufficient: bool = False,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> Results:
    """Evaluate every control of the plan and decide the gate."""
    as_of = clock()
    reduced = compute_reductions(plan, bundle, chunk_rows)

    control_results: dict[str, ControlResult] = {}
    for node in plan.order:
        kind, name = node.split(":", 1)
        if kind != CONTROL:
            continue
        spec = plan.controls[name]
        unmet = [r for r in spec.requires if control_results[r].status not in (st.PASS, st.WAIVED)]
        if unmet:
            reason = "requires " + ", ".join(f"`{r}` ({control_results[r].status})" for r in unmet)
            checks = [_blocked_check(plan.checks[c], reason) for c in spec.checks]
            control_results[name] = _control_result(spec, st.BLOCKED, reason, checks, allow_insufficient)
            continue
        checks = [evaluate_check(plan.checks[c], reduced[plan.checks[c].reduction]) for c in spec.checks]
        status = st.combine_checks([c.status for c in checks])
        control_results[name] = _control_result(
            spec, status, _control_message(status, checks), checks, allow_insufficient
        )

    controls = tuple(control_results[key] for key in plan.controls)  # policy order
    clauses = []
    for reference, info in sorted(plan.clauses.items()):
        mapped = tuple((c.id, c.status) for c in controls if reference in c.maps)
        clauses.append(
            ClauseResult(
                reference, info.label, info.assessable, info.applies_from, st.combine_clause([s for _, s in mapped]), mapped
            )
        )

    blocking = tuple(c.id for c in controls if c.blocks_gate)
    relaxed = tuple(
        c.id for c in controls if allow_insufficient and c.status == st.INSUFFICIENT and c.enforcement != "advisory"
    )
    counts = {s: sum(1 for c in controls if c.status == s) for s in st.ALL}
    gate = Gate("blocked" if blocking else "passed", blocking, allow_insufficient, relaxed, counts)

    bundle_info = {
        "path": bundle.display_path,
        "model": bundle.model,
        "datasets": [
            {"name": d.name, "path": d.relative_path, "role": d.role, "sha256": d.sha256}
            for d in sorted(bundle.datasets.values(), key=lambda d: d.name)
        ],
    }
    policies = tuple(
        {"name": p.name, "version": p.version, "file": p.file, "sha256": p.sha256} for p in plan.policies
    )
    return Results(__version__, as_of.isoformat(), policies, bundle_info, controls, tuple(clauses), gate)
