"""Views of `Results` that several renderers share: report order, labels, numbers and intervals.

Intervals are read defensively: a group or check may carry them as an `intervals`
mapping (component -> interval) or as one `interval`, and an interval may be a
`(low, high)` pair or a mapping with `low`/`high` or `lower`/`upper` keys. Results
without them render without error bars.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from govdsl.engine.results import CheckResult, ControlResult, GroupResult, Results
from govdsl.metrics.counts import ConfusionCounts
from govdsl.metrics.fairness import FAVORABLE_RATES, rate_fraction

# Names of the interval methods of the results' `details`, as the reports print them.
INTERVAL_METHODS = {
    "wilson": "Wilson score",
    "newcombe": "Newcombe hybrid score",
    "katz": "Katz log",
    "newcombe-to-overall": "Newcombe hybrid score, group against the other rows",
    "katz-to-overall": "Katz log, group against the other rows",
    "delong": "DeLong",
}

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
    """Describe how the intervals of a check were computed, such as `95% Newcombe hybrid score`, when the results record it.

    A method that INTERVAL_METHODS does not name is shown as the results spell it.
    """
    details = _details(check)
    interval = getattr(check, "interval", None) or details.get("interval")
    method = interval.get("method") if isinstance(interval, Mapping) else getattr(interval, "method", None)
    confidence = details.get("confidence")
    if confidence is None:
        confidence = interval.get("confidence") if isinstance(interval, Mapping) else getattr(interval, "confidence", None)
    if isinstance(method, str):
        method = INTERVAL_METHODS.get(method, method)
    if isinstance(confidence, (int, float)) and method:
        return f"{confidence:.0%} {method}"
    if isinstance(confidence, (int, float)):
        return f"{confidence:.0%}"
    return str(method) if method else None


def format_interval(interval: tuple[float, float] | None) -> str:
    return "" if interval is None else f"[{interval[0]:.4f}, {interval[1]:.4f}]"


def group_fraction(group: GroupResult, component: str, favorable: str | None = None) -> tuple[int, int] | None:
    """Return the numerator and denominator behind a group's rate, such as (641, 1514).

    Returns None when the group carries no confusion counts or the value is not one
    fraction of them. `favorable` is the check's favorable prediction (`positive` or
    `negative`), which decides what `favorable_rate` counts.
    """
    if set(group.counts) != {"tp", "fp", "fn", "tn"}:
        return None
    counts = ConfusionCounts(**group.counts)
    if component == "favorable_rate" and favorable in FAVORABLE_RATES:
        numerator, denominator, _ = FAVORABLE_RATES[favorable](counts)
        return numerator, denominator
    return rate_fraction(component, counts)


def overall_rows(check: CheckResult) -> int | None:
    """Return the rows behind a check's overall values (the sum of its group sizes), or None without groups."""
    return sum(g.n for g in check.groups) if check.groups else None


# --- baseline comparison ------------------------------------------------------------------


@dataclass(frozen=True)
class Regression:
    """One regression against the baseline that blocks the gate under --fail-on-regression."""

    # The gate's wording, as in `Gate.regressions`.
    text: str
    # The control id or check id the regression concerns, or None when the baseline section does not show it.
    subject: str | None = None
    # Facts behind it from the baseline section, such as the values before and after.
    details: tuple[str, ...] = ()


def gate_regressions(results: Results) -> list[Regression]:
    """Return the regressions that block the gate, each with its subject and facts where the baseline section has them.

    The baseline comparison lists advisory controls that newly fail, then checks whose
    value worsened beyond the tolerance, in the order of its `controls` and `metrics`.
    A gate entry is paired with its record only when the counts match and the entry
    names the record's id. Otherwise every entry keeps its text alone.
    """
    texts = results.gate.regressions
    if not texts:
        return []
    section = results.baseline or {}
    records: list[tuple[str, tuple[str, ...]]] = []
    for control in section.get("controls", []):
        if control.get("change") == "newly_failing" and control.get("enforcement") == "advisory":
            facts = (f"control {control['id']} (advisory): {control.get('before')} in the baseline, {control.get('after')} now",)
            records.append((control["id"], facts))
    tolerance = section.get("tolerance", 0.0)
    for metric in section.get("metrics", []):
        if metric.get("beyond_tolerance"):
            facts = (
                f"check {metric['check']}, {'compared' if metric.get('measured') else 'metric'} {metric.get('measured') or metric.get('metric')}"
                + (f" (comparison {metric['operator']})" if metric.get("operator") else ""),
                f"value {format_number(metric['before'])} in the baseline, {format_number(metric['after'])} now",
                f"change {metric['delta']:+.4f}, more than the tolerance {tolerance:g}",
            )
            records.append((metric["check"], facts))
    if len(records) != len(texts) or any(subject not in text for text, (subject, _) in zip(texts, records)):
        return [Regression(text) for text in texts]
    return [Regression(text, subject, facts) for text, (subject, facts) in zip(texts, records)]


def changed_controls(baseline: Mapping) -> list[dict]:
    """Return the controls of a baseline comparison whose status changed, in the comparison's order."""
    return [c for c in baseline.get("controls", []) if c.get("change") != "unchanged"]


def change_label(change: str) -> str:
    """Return a control's change against the baseline as words, such as `newly failing`."""
    return change.replace("_", " ")


def metric_move(metric: Mapping, baseline: Mapping) -> str:
    """Describe how a check's value moved: `worse`, `worse, blocks the gate` for a regression, or empty.

    A move in the direction the check's comparison accepts, or of a check without a
    comparison, is not judged and gives an empty string.
    """
    if not metric.get("worsened"):
        return ""
    if baseline.get("fail_on_regression") and metric.get("beyond_tolerance"):
        return "worse, blocks the gate"
    return "worse"


def baseline_recorded(baseline: Mapping) -> str:
    """Describe when and for which model the baseline results were made, such as `as of 2026-03-01, model credit version 1.0.0`.

    Returns an empty string when the baseline results record neither.
    """
    model_id, version = baseline.get("model_id"), baseline.get("model")
    model = " ".join(part for part in (model_id, f"version {version}" if version else None) if part)
    recorded = [f"as of {baseline['as_of']}" if baseline.get("as_of") else None, f"model {model}" if model else None]
    return ", ".join(part for part in recorded if part)


def baseline_source(baseline: Mapping) -> str:
    """Describe the baseline results, such as `base.json (as of 2026-03-01, model credit version 1.0.0)`."""
    recorded = baseline_recorded(baseline)
    return f"{baseline.get('file')}" + (f" ({recorded})" if recorded else "")


def regression_rule(baseline: Mapping) -> str:
    """Describe when a move against the baseline blocks the gate in this run."""
    if not baseline.get("fail_on_regression"):
        return "--fail-on-regression was not given, so no move against the baseline blocks the gate."
    return (
        "With --fail-on-regression, an advisory control that newly fails, or a value that got worse by more than "
        f"{baseline.get('tolerance', 0.0):g}, blocks the gate."
    )
