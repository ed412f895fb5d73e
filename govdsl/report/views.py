"""Views of `Results` that several renderers share: report order, labels, numbers and intervals.

Intervals are read defensively: a group or check may carry them as an `intervals`
mapping (component -> interval) or as one `interval`, and an interval may be a
`(low, high)` pair or a mapping with `low`/`high` or `lower`/`upper` keys. Results
without them render without error bars.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from govdsl.engine.results import CheckResult, ControlResult, GroupResult, Results

# Report order of statuses: what needs attention first.
STATUS_RANK = {"fail": 0, "error": 1, "blocked": 2, "insufficient": 3, "waived": 4, "pass": 5, "skipped": 6}


def ordered_controls(results: Results) -> list[ControlResult]:
    """Return the controls that block the gate first, then by status; policy order otherwise."""
    return sorted(results.controls, key=lambda c: (not c.blocks_gate, STATUS_RANK.get(c.status, 3)))


def needs_attention(control: ControlResult) -> bool:
    return control.blocks_gate or control.status not in ("pass", "skipped", "waived")


def format_number(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "undefined"
    return f"{value:.4f}"


def format_threshold(check: CheckResult) -> str:
    """Return the comparison of a check, such as `<= 0.1`, or an empty string when it has none."""
    if check.operator is None or check.threshold is None:
        return ""
    return f"{check.operator} {check.threshold:g}"


def group_label(group: Mapping[str, object]) -> str:
    return ", ".join(f"{name}={value}" for name, value in group.items())


def check_name(check: CheckResult) -> str:
    """Return the name of a check within its control: the part of the id after the control id."""
    return check.id.rsplit(".", 1)[-1]


def policy_names(results: Results) -> str:
    return ", ".join(f"{p['name']} {p.get('version') or ''}".strip() for p in results.policies)


def model_line(results: Results) -> str:
    """Return the model's id and version, with its risk tier when the bundle declares one."""
    model = results.bundle.get("model", {})
    name = " ".join(str(model[key]) for key in ("id", "version") if model.get(key))
    tier = model.get("risk_tier")
    return f"{name} (risk tier {tier})" if tier else name


def status_summary(results: Results) -> str:
    """Return the control counts by status, such as `3 fail, 3 pass`."""
    return ", ".join(f"{count} {status}" for status, count in results.gate.status_counts.items() if count)


def split_reference(reference: str) -> tuple[str, str]:
    """Split `FRAMEWORK:ID` into the framework prefix and the clause id."""
    framework, _, clause = reference.partition(":")
    return framework, clause


def components(check: CheckResult) -> list[str]:
    """Return the per-group value names of a check in the order of its first group."""
    return list(check.groups[0].values) if check.groups else []


def _as_pair(raw: object) -> tuple[float, float] | None:
    low = high = None
    if isinstance(raw, Mapping):
        low = raw.get("low", raw.get("lower"))
        high = raw.get("high", raw.get("upper"))
    elif isinstance(raw, (tuple, list)) and len(raw) == 2:
        low, high = raw
    else:
        low, high = getattr(raw, "low", None), getattr(raw, "high", None)
    if not isinstance(low, (int, float)) or not isinstance(high, (int, float)):
        return None
    if not (math.isfinite(low) and math.isfinite(high)):
        return None
    return float(low), float(high)


def _details(item: object) -> Mapping:
    details = getattr(item, "details", None)
    return details if isinstance(details, Mapping) else {}


def interval_of(item: GroupResult | CheckResult, component: str | None = None) -> tuple[float, float] | None:
    """Return the interval of a group's value, or of a check's value when `component` is None, as `(low, high)`.

    Returns None when the results carry no interval for it.
    """
    intervals = getattr(item, "intervals", None)
    if isinstance(intervals, Mapping) and component is not None:
        raw = intervals.get(component)
        if raw is not None:
            return _as_pair(raw)
    if component is None:
        single = getattr(item, "interval", None) or _details(item).get("interval")
        if single is not None:
            return _as_pair(single)
    return None


def overall_interval(check: CheckResult, component: str) -> tuple[float, float] | None:
    """Return the interval of an overall value of a check, when the results carry one."""
    intervals = getattr(check, "overall_intervals", None) or _details(check).get("overall_intervals")
    if isinstance(intervals, Mapping) and intervals.get(component) is not None:
        return _as_pair(intervals[component])
    return None


def interval_method(check: CheckResult) -> str | None:
    """Describe how the intervals of a check were computed, such as `95% newcombe`, when the results say so."""
    details = _details(check)
    interval = getattr(check, "interval", None) or details.get("interval")
    method = interval.get("method") if isinstance(interval, Mapping) else getattr(interval, "method", None)
    confidence = details.get("confidence")
    if confidence is None:
        confidence = interval.get("confidence") if isinstance(interval, Mapping) else getattr(interval, "confidence", None)
    if isinstance(confidence, (int, float)) and method:
        return f"{confidence:.0%} {method}"
    if isinstance(confidence, (int, float)):
        return f"{confidence:.0%}"
    return str(method) if method else None


def format_interval(interval: tuple[float, float] | None) -> str:
    return "" if interval is None else f"[{interval[0]:.4f}, {interval[1]:.4f}]"
