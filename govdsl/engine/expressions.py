"""Evaluate the plan's expression trees against bound parameters, bundle metadata and evidence.

Values are Python numbers, strings, booleans, dates, `Duration`, lists and `GroupValues`.
An undefined metric raises `Undefined` (the check is `insufficient`); evidence the
bundle lacks raises `MissingEvidence` (the check is `error`).
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from govdsl.metrics import get_metric
from govdsl.metrics.fairness import UnknownGroup, describe_group, per_group, undefined_reason
from govdsl.metrics.counts import ConfusionCounts
from govdsl.metrics.values import MetricValue

# Relative tolerance of comparisons, so that a value computed as 0.7999999999999999 passes
# `>= 0.8`: floating-point noise must not decide a gate.
COMPARISON_TOLERANCE = 1e-9


class Undefined(Exception):
    """A value that cannot be computed from this evidence, such as a rate with a zero denominator."""


class MissingEvidence(Exception):
    """Evidence the expression needs and the bundle does not declare."""


@dataclass(frozen=True)
class Duration:
    days: float

    def __str__(self) -> str:
        return f"{self.days:g} days"


@dataclass
class GroupValues:
    """One value per group of a metric called with `by`, with the metric's detail for reports."""

    features: tuple[str, ...]
    values: dict[tuple[str, ...], float | None]
    measurement: MetricValue
    component: str = ""

    def label(self, key: tuple[str, ...]) -> str:
        return describe_group(self.features, key)

    def defined(self, what: str) -> dict[tuple[str, ...], float]:
        undefined = [g for g in self.measurement.groups if self.values.get(g.key, 0.0) is None]
        if undefined:
            reasons = "; ".join(self._undefined_reason(g) for g in undefined)
            raise Undefined(f"{what} is undefined: {reasons}")
        return dict(self.values)

    def _undefined_reason(self, group) -> str:
        if self.component in group.reasons:
            return f"{self.label(group.key)}: {group.reasons[self.component]}"
        if isinstance(group.counts, ConfusionCounts):
            return undefined_reason(self.component, group.counts, self.label(group.key))
        return f"{self.component.replace('_', ' ')} is undefined for {self.label(group.key)}"


@dataclass
class Measurement:
    """A metric call made while evaluating a check, kept for the report."""

    metric: str
    arguments: dict
    source: str
    dataset: str | None
    value: MetricValue
    features: tuple[str, ...]
    rows_excluded: int


@dataclass
class Comparison:
    source: str
    left: object
    operator: str
    right: object
    holds: bool
    left_source: str = ""
    right_source: str = ""
    # Inside a quantifier: the group or item the quantified variable stood for.
    group: str = ""


@dataclass
class Trace:
    """What an evaluation read and compared, in order."""

    measurements: list[Measurement] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    fields: list[tuple[str, object]] = field(default_factory=list)
    failing_groups: list[tuple[str, object]] = field(default_factory=list)
    # For max, min, difference and ratio over per-group values: (function, the groups that gave the result).
    aggregates: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)


MISSING = object()


def compare(left, operator: str, right) -> bool:
    """Compare two values; numbers compare with a relative tolerance."""
    if operator in ("in", "not in"):
        found = any(compare(left, "==", item) for item in right)
        return found if operator == "in" else not found
    if operator == "matches":
        return re.search(right, left) is not None
    if isinstance(left, Duration) and isinstance(right, Duration):
        left, right = left.days, right.days
    if isinstance(left, (int, float)) and isinstance(right, (int, float)) and not isinstance(left, bool):
        tolerance = COMPARISON_TOLERANCE * max(1.0, abs(right))
        if operator == "<=":
            return left <= right + tolerance
        if operator == "<":
            return left < right - tolerance
        if operator == ">=":
            return left >= right - tolerance
        if operator == ">":
            return left > right + tolerance
        if operator == "==":
            return abs(left - right) <= tolerance
        if operator == "!=":
            return abs(left - right) > tolerance
    return {
        "<=": lambda a, b: a <= b,
        "<": lambda a, b: a < b,
        ">=": lambda a, b: a >= b,
        ">": lambda a, b: a > b,
        "==": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
    }[operator](left, right)


def display(value) -> object:
    """Return a JSON-safe form of a value for reports: numbers stay numbers, others become text."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return value if math.isfinite(value) else None
    if isinstance(value, (Duration, datetime.date)):
        return str(value)
    if isinstance(value, list):
        return [display(v) for v in value]
    if isinstance(value, GroupValues):
        return {value.label(k): display(v) for k, v in value.values.items()}
    return str(value)


@dataclass
class Environment:
    params: dict[str, object]
    model: dict
    card: object | None  # govdsl.evidence.model_card.ModelCard, or None when the bundle has none
    as_of: datetime.date
    metric: Callable[[dict], tuple[MetricValue, object]] | None = None  # plan node -> value, reduced table


class Evaluator:
    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.trace = Trace()
        self._groups: list[str] = []  # the labels of the quantifiers being evaluated, innermost last

    def evaluate(self, node: dict, variables: dict | None = None):
        method = getattr(self, f"_eval_{node['kind']}")
        return method(node, variables or {})

    # Literals and names

    def _eval_number(self, node, variables):
        return node["value"]

    def _eval_string(self, node, variables):
        return node["value"]

    def _eval_bool(self, node, variables):
        return node["value"]

    def _eval_duration(self, node, variables):
        return Duration(node["days"])

    def _eval_date(self, node, variables):
        return datetime.date.fromisoformat(node["value"])

    def _eval_list(self, node, variables):
        return [self.evaluate(item, variables) for item in node["items"]]

    def _eval_variable(self, node, variables):
        return variables[node["name"]]

    def _eval_param(self, node, variables):
        return self.environment.params[node["name"]]

    def _eval_object(self, node, variables):
        return node["name"]

    def _eval_field(self, node, variables):
        value = self._field_value(node)
        if value is MISSING:
            target = node["target"].get("name")
            if target == "card" and self.environment.card is None:
                raise MissingEvidence("the bundle declares no model card")
            raise MissingEvidence(f"`{target}.{node['name']}` is absent from the bundle; test it with `exists` first")
        return value

    def _field_value(self, node):
        target = node["target"]
        if target.get("kind") != "object":
            raise MissingEvidence(f"field `{node['name']}` of a computed value")
        if target["name"] == "model":
            value = self.environment.model.get(node["name"], MISSING)
        else:
            card = self.environment.card
            value = MISSING if card is None else card.section(node["name"])
            value = MISSING if value is None else value
        self.trace.fields.append((f"{target['name']}.{node['name']}", None if value is MISSING else value))
        return value

    def _eval_exists(self, node, variables):
        target = node["target"]
        if target.get("kind") == "field" and target["target"].get("name") == "card" and self.environment.card is None:
            raise MissingEvidence("the bundle declares no model card")
        if target.get("kind") == "field":
            return self._field_value(target) is not MISSING
        return True

    # Metrics and functions

    def _eval_metric(self, node, variables):
        value, features = self._measure(node)
        if node.get("per_group"):
            return _per_group(node, value, features, lambda group, component: group.rates[component])
        if value.value is None:
            raise Undefined(value.reason or f"{node['name']} is undefined")
        return value.value

    def _measure(self, node) -> tuple[MetricValue, tuple[str, ...]]:
        """Compute a metric call and record it in the trace; return its value and the table's features."""
        if self.environment.metric is None:
            raise MissingEvidence("metrics need evidence")
        try:
            value, table, dataset = self.environment.metric(node)
        except UnknownGroup as exc:
            raise MissingEvidence(str(exc)) from None
        features = getattr(table, "features", ())
        self.trace.measurements.append(
            Measurement(node["name"], node["arguments"], node.get("source", ""), dataset, value, features,
                        getattr(table, "rows_excluded", 0))
        )
        return value, features

    def _eval_bound(self, node, name: str):
        """Evaluate `lower(metric)` or `upper(metric)`: a bound of the metric's confidence interval."""
        (metric,) = node["arguments"]
        value, features = self._measure(metric)
        side = "low" if name == "lower" else "high"
        if metric.get("per_group"):
            return _per_group(metric, value, features, lambda group, component: _bound(group.intervals.get(component), side))
        if value.interval is None:
            raise Undefined(value.reason or f"{metric['name']} has no confidence interval")
        return getattr(value.interval, side)

    def _eval_function(self, node, variables):
        name = node["name"]
        if name in ("lower", "upper"):
            return self._eval_bound(node, name)
        arguments = [self.evaluate(argument, variables) for argument in node["arguments"]]
        if name == "today":
            return self.environment.as_of
        if name == "abs":
            return abs(arguments[0])
        if name == "count":
            value = arguments[0]
            return float(len(value.values) if isinstance(value, GroupValues) else len(value))
        values = self._numbers(arguments[0], name)
        if isinstance(arguments[0], GroupValues):
            self._note_extremes(name, arguments[0])
        if name == "max":
            return max(values)
        if name == "min":
            return min(values)
        if len(values) < 2:
            raise Undefined(f"{name} needs at least two values, got {len(values)}")
        if name == "difference":
            return max(values) - min(values)
        if max(values) == 0:
            raise Undefined("ratio is undefined: the largest value is 0")
        return min(values) / max(values)

    def _note_extremes(self, name: str, groups: GroupValues) -> None:
        """Record which groups give the result of an aggregate over per-group values, for the check's message."""
        values = groups.defined(f"the argument of {name}")
        if not values:
            return
        lowest = min(values, key=lambda key: (values[key], key))
        highest = max(values, key=lambda key: (values[key], key))
        chosen = {"max": (highest,), "min": (lowest,)}.get(name, (lowest, highest))
        self.trace.aggregates.append((name, tuple(groups.label(key) for key in chosen)))

    @staticmethod
    def _numbers(value, name: str) -> list[float]:
        if isinstance(value, GroupValues):
            values = list(value.defined(f"the argument of {name}").values())
        else:
            values = list(value)
        if not values:
            raise Undefined(f"{name} of no values")
        return values

    # Operators

    def _eval_unary(self, node, variables):
        value = self.evaluate(node["operand"], variables)
        if node["operator"] == "not":
            return not value
        return Duration(-value.days) if isinstance(value, Duration) else -value

    def _eval_binary(self, node, variables):
        operator = node["operator"]
        if operator == "and":
            return self.evaluate(node["left"], variables) and self.evaluate(node["right"], variables)
        if operator == "or":
            return self.evaluate(node["left"], variables) or self.evaluate(node["right"], variables)
        left = self.evaluate(node["left"], variables)
        right = self.evaluate(node["right"], variables)
        return _arithmetic(operator, left, right)

    def _eval_compare(self, node, variables):
        values = [self.evaluate(operand, variables) for operand in node["operands"]]
        sources = node.get("operand_sources") or [""] * len(values)
        result = True
        for index, operator in enumerate(node["operators"]):
            holds = compare(values[index], operator, values[index + 1])
            self.trace.comparisons.append(
                Comparison(
                    node.get("source", ""),
                    display(values[index]),
                    operator,
                    display(values[index + 1]),
                    holds,
                    _described(node["operands"][index], sources[index]),
                    _described(node["operands"][index + 1], sources[index + 1]),
                    self._groups[-1] if self._groups else "",
                )
            )
            result = result and holds
        return result

    def _evaluate_for(self, label: str, body: dict, variables: dict) -> bool:
        """Evaluate a quantifier's body for one group, so its comparisons record the group."""
        self._groups.append(label)
        try:
            return bool(self.evaluate(body, variables))
        finally:
            self._groups.pop()

    def _eval_quantifier(self, node, variables):
        domain = self.evaluate(node["domain"], variables)
        if isinstance(domain, GroupValues):
            items = [(domain.label(key), value) for key, value in domain.defined("a quantified value").items()]
        else:
            items = [(str(value), value) for value in domain]
        kind = node["quantifier"]
        outcomes = [(label, value, self._evaluate_for(label, node["body"], {**variables, node["variable"]: value})) for label, value in items]
        if kind == "every":
            failing = [(label, value) for label, value, holds in outcomes if not holds]
            result = not failing
        elif kind == "no":
            failing = [(label, value) for label, value, holds in outcomes if holds]
            result = not failing
        else:
            result = any(holds for _, _, holds in outcomes)
            failing = [] if result else [(label, value) for label, value, _ in outcomes]
        self.trace.failing_groups.extend((label, display(value)) for label, value in failing)
        return result


def _bound(interval, side: str) -> float | None:
    return None if interval is None else getattr(interval, side)


def _per_group(node: dict, value: MetricValue, features: tuple[str, ...], read: Callable) -> GroupValues:
    """Return one value per group, read from each group's result; groups left out for their size are not among them."""
    if value.reason is not None:
        raise Undefined(value.reason)
    (component,) = get_metric(node["name"]).components
    excluded = {key for key, _ in value.excluded}
    values = {g.key: read(g, component) for g in value.groups if g.key not in excluded}
    return GroupValues(features, values, value, component)


def _described(node: dict, source: str) -> str:
    """Return how a report names an operand: nothing for a literal, else its source text."""
    if node.get("kind") in ("number", "string", "bool", "date", "duration", "list"):
        return ""
    return source


def _arithmetic(operator: str, left, right):
    if isinstance(left, datetime.date) and isinstance(right, datetime.date):
        return Duration(float((left - right).days))
    if isinstance(left, datetime.date) and isinstance(right, Duration):
        delta = datetime.timedelta(days=right.days)
        return left + delta if operator == "+" else left - delta
    if isinstance(left, Duration) and isinstance(right, Duration):
        if operator == "/":
            if right.days == 0:
                raise Undefined("division by a zero duration")
            return left.days / right.days
        return Duration(left.days + right.days if operator == "+" else left.days - right.days)
    if isinstance(left, Duration) or isinstance(right, Duration):
        duration, number = (left, right) if isinstance(left, Duration) else (right, left)
        if operator == "*":
            return Duration(duration.days * number)
        if number == 0:
            raise Undefined("division by zero")
        return Duration(duration.days / number)
    if operator == "+":
        return left + right
    if operator == "-":
        return left - right
    if operator == "*":
        return left * right
    if right == 0:
        raise Undefined("division by zero")
    return left / right


# Arguments passed on to implementations called with their components, when a call gives them.
_OPTIONS = {
    "overall": ("confidence",),
    "per_group": ("confidence", "min_group_size", "exclude_small"),
    "between_groups": ("confidence", "min_group_size", "exclude_small", "reference"),
}


def metric_value(node: dict, table) -> MetricValue:
    declaration = get_metric(node["name"])
    if declaration.calling == "arguments":
        return declaration.load()(table, node["arguments"])
    shape = "per_group" if node.get("per_group") else declaration.kind
    options = {key: node["arguments"][key] for key in _OPTIONS.get(shape, ()) if key in node["arguments"]}
    if node.get("per_group"):
        return per_group(table, declaration.components, **options)
    return declaration.load()(table, declaration.components, **options)
