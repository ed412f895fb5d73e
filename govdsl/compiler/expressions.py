"""Type-check policy expressions and turn them into the plan's serializable expression trees.

Each function takes an AST expression and a Scope, reports problems as diagnostics,
and returns the expression's type with its plan form: a dict with a `kind` key that
the engine evaluates. Metric calls carry the id of the shared reduction they read.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable
from functools import lru_cache
from dataclasses import dataclass, field

from govdsl import resources
from govdsl.diagnostics import Diagnostic, Span, error, warning
from govdsl.metrics import registry
from govdsl.metrics.functions import FUNCTIONS
from govdsl.syntax import ast

NUMBER, STRING, BOOL, DURATION, DATE, GROUPS, ANY = "number", "string", "bool", "duration", "date", "groups", "any"
MODEL, CARD = "model", "card"
PARAM_TYPES = ("number", "string", "bool", "duration", "date", "list[string]", "list[number]")

# Names every expression can use, besides parameters and quantifier variables.
OBJECTS = {"model": MODEL, "card": CARD}


def model_fields() -> dict[str, str]:
    """Return the fields of `model` and their types, read from the bundle's JSON Schema."""
    properties = resources.load_package_schema("bundle.schema.json")["properties"]["model"]["properties"]
    types = {}
    for name, schema in properties.items():
        if schema.get("type") == "array":
            types[name] = "list[string]"
        else:
            types[name] = STRING
    return types


@dataclass
class Scope:
    policy: str
    params: dict[str, str]  # parameter name -> type, of the current policy
    policies: dict[str, str]  # name usable in this file -> real policy name
    policy_params: dict[str, dict[str, str]]  # real policy name -> its parameters and types
    context: str  # "check", "applies" or "param"
    variables: dict[str, str] = field(default_factory=dict)
    report: Callable[[Diagnostic], None] = print
    reduction_key: Callable[[registry.MetricDeclaration, dict], str] | None = None
    source: str = ""

    def with_variable(self, name: str, type_name: str) -> Scope:
        return Scope(
            self.policy, self.params, self.policies, self.policy_params, self.context,
            {**self.variables, name: type_name}, self.report, self.reduction_key, self.source,
        )


def _did_you_mean(value: str, choices) -> str | None:
    close = difflib.get_close_matches(value, list(choices), n=1)
    return f"did you mean `{close[0]}`?" if close else None


@lru_cache(maxsize=32)
def _lines(text: str) -> list[str]:
    # Python caches a string's hash, so a repeat lookup of the same file text costs O(1).
    return text.splitlines()


def source_of(text: str, span: Span | None) -> str:
    if span is None:
        return ""
    lines = _lines(text)
    if span.line == span.end_line:
        return lines[span.line - 1][span.column - 1 : span.end_column - 1]
    parts = [lines[span.line - 1][span.column - 1 :]]
    parts += lines[span.line : span.end_line - 1]
    parts.append(lines[span.end_line - 1][: span.end_column - 1])
    return " ".join(part.strip() for part in parts)


def element_type(type_name: str) -> str | None:
    if type_name == GROUPS:
        return NUMBER
    match = re.fullmatch(r"list\[(.+)\]", type_name)
    return match.group(1) if match else None


def check(expr: ast.Expr, scope: Scope) -> tuple[str, dict]:
    """Return the type and plan form of an expression; report problems through `scope.report`."""
    handler = _HANDLERS.get(type(expr))
    if handler is None:
        scope.report(error("E339", "unsupported expression", expr.span))
        return ANY, {"kind": "invalid"}
    return handler(expr, scope)


def _literal(expr, scope):
    if isinstance(expr, (ast.NumberLit, ast.PercentLit)):
        if not math.isfinite(expr.value):
            scope.report(
                error("E323", f"number `{expr.text}` is too large", expr.span, "numbers must be below about 1.8e308; write a finite value")
            )
            return NUMBER, {"kind": "invalid"}
        return NUMBER, {"kind": "number", "value": expr.value, "text": expr.text}
    if isinstance(expr, ast.DurationLit):
        return DURATION, {"kind": "duration", "days": expr.days, "text": expr.text}
    if isinstance(expr, ast.DateLit):
        return DATE, {"kind": "date", "value": expr.value}
    if isinstance(expr, ast.StringLit):
        return STRING, {"kind": "string", "value": expr.value}
    return BOOL, {"kind": "bool", "value": expr.value}


def _name(expr: ast.NameRef, scope: Scope):
    name = expr.name
    if name in scope.variables:
        return scope.variables[name], {"kind": "variable", "name": name}
    if name in scope.params:
        if scope.context == "param":
            scope.report(error("E336", f"a parameter value cannot read another parameter (`{name}`)", expr.span, "use a constant value"))
        return scope.params[name], {"kind": "param", "name": f"{scope.policy}.{name}"}
    if name in OBJECTS:
        if scope.context in ("param", "within"):
            where = "a parameter value" if scope.context == "param" else "`within`"
            scope.report(error("E336", f"{where} cannot read `{name}`", expr.span, "use a constant value or a parameter"))
        return OBJECTS[name], {"kind": "object", "name": name}
    if name in scope.policies:
        return f"policy:{scope.policies[name]}", {"kind": "policy", "name": scope.policies[name]}
    if name in registry.REGISTRY or name in FUNCTIONS:
        scope.report(error("E320", f"`{name}` is a function; call it with parentheses", expr.span, f"write `{name}(...)`"))
        return ANY, {"kind": "invalid"}
    choices = list(scope.variables) + list(scope.params) + list(OBJECTS) + list(scope.policies)
    hint = _did_you_mean(name, choices)
    known = ", ".join(f"`{c}`" for c in choices) or "none"
    scope.report(error("E320", f"unknown name `{name}`", expr.span, hint or f'a text goes in quotes, such as "{name}"; names in scope: {known}'))
    return ANY, {"kind": "invalid"}


def _field(expr: ast.Field, scope: Scope):
    target_type, target = check(expr.target, scope)
    name = expr.name.value
    plan = {"kind": "field", "target": target, "name": name}
    if target_type == MODEL:
        fields = model_fields()
        if name not in fields:
            scope.report(
                error("E321", f"`model` has no field `{name}`", expr.name.span, _did_you_mean(name, fields) or f"fields: {', '.join(fields)}")
            )
            return ANY, plan
        return fields[name], plan
    if target_type == CARD:
        return STRING, plan  # a model card section, by its heading; absent sections are missing values
    if target_type.startswith("policy:"):
        policy = target_type.split(":", 1)[1]
        params = scope.policy_params.get(policy, {})
        if scope.context == "param":
            scope.report(error("E336", f"a parameter value cannot read another parameter (`{policy}.{name}`)", expr.span, "use a constant value"))
        if name not in params:
            scope.report(
                error("E322", f"policy `{policy}` has no parameter `{name}`", expr.name.span, _did_you_mean(name, params) or None)
            )
            return ANY, plan
        return params[name], {"kind": "param", "name": f"{policy}.{name}"}
    if target_type != ANY:
        scope.report(error("E322", f"a `{target_type}` value has no field `{name}`", expr.name.span))
    return ANY, plan


def _list(expr: ast.ListLit, scope: Scope):
    types, items = [], []
    for item in expr.items:
        item_type, item_plan = check(item, scope)
        types.append(item_type)
        items.append(item_plan)
    known = {t for t in types if t != ANY}
    if len(known) > 1:
        scope.report(error("E330", f"a list mixes values of types {', '.join(sorted(known))}", expr.span))
    element = known.pop() if len(known) == 1 else ANY
    return f"list[{element}]", {"kind": "list", "items": items}


def _call(expr: ast.Call, scope: Scope):
    name = expr.function.value
    declaration = registry.get_metric(name)
    if declaration is not None:
        return _metric_call(expr, declaration, scope)
    function = FUNCTIONS.get(name)
    if function is None:
        choices = list(registry.REGISTRY) + list(FUNCTIONS)
        scope.report(
            error(
                "E301",
                f"unknown metric or function `{name}`",
                expr.function.span,
                _did_you_mean(name, choices) or "run `govdsl metrics` to list the metrics",
            )
        )
        return ANY, {"kind": "invalid"}
    return _function_call(expr, function, scope)


def _function_call(expr: ast.Call, function, scope: Scope):
    arguments = []
    named = [a for a in expr.arguments if a.name is not None]
    for argument in named:
        scope.report(error("E302", f"`{function.name}` takes positional arguments only", argument.name.span))
    positional = [a for a in expr.arguments if a.name is None]
    if len(positional) != len(function.parameters):
        scope.report(
            error(
                "E303",
                f"`{function.name}` takes {len(function.parameters)} argument(s), not {len(positional)}",
                expr.span,
                function.summary,
            )
        )
        return (ANY if function.result == "estimate" else function.result), {"kind": "invalid"}
    result = function.result
    for argument, expected in zip(positional, function.parameters):
        actual, plan = check(argument.value, scope)
        arguments.append(plan)
        if expected == "estimate":
            result = actual
            has_interval = plan.get("kind") == "metric" and registry.get_metric(plan["name"]).parameter("confidence")
            if not has_interval and plan.get("kind") != "invalid":
                hint = f'for example `{function.name}(demographic_parity_difference(by = "race"))`'
                scope.report(error("E304", f"`{function.name}` needs a call of a metric with a confidence interval", argument.value.span, hint))
        elif not _accepts(expected, actual):
            scope.report(
                error("E304", f"`{function.name}` needs {_describe(expected)}, not `{actual}`", argument.value.span, function.summary)
            )
    return result, {"kind": "function", "name": function.name, "arguments": arguments}


def _accepts(expected: str, actual: str) -> bool:
    if actual == ANY:
        return True
    if expected == "numbers":
        return actual in (GROUPS, "list[number]", "list[any]")
    if expected == "collection":
        return actual == GROUPS or actual.startswith("list[")
    return expected == actual


def _describe(expected: str) -> str:
    return {
        "numbers": "per-group values or a list of numbers",
        "collection": "a list or per-group values",
    }.get(expected, f"a `{expected}`")


def _metric_call(expr: ast.Call, declaration, scope: Scope):
    if scope.context != "check":
        where = {"applies": "an `applies when` condition", "within": "`within`"}.get(scope.context, "a parameter value")
        scope.report(error("E335", f"metric `{declaration.name}` cannot be used in {where}", expr.span, "metrics read evidence, so only checks can call them"))
        return ANY, {"kind": "invalid"}
    values: dict = {}
    ok = True
    for argument in expr.arguments:
        if argument.name is None:
            scope.report(error("E302", f"`{declaration.name}` takes named arguments only", argument.span, 'for example `by = "race"`'))
            ok = False
            continue
        name = argument.name.value
        parameter = declaration.parameter(name)
        if parameter is None:
            known = [p.name for p in declaration.parameters]
            scope.report(
                error(
                    "E302",
                    f"`{declaration.name}` has no parameter `{name}`",
                    argument.name.span,
                    _did_you_mean(name, known) or f"`{declaration.name}` takes: {', '.join(known) or 'no arguments'}",
                )
            )
            ok = False
            continue
        if name in values:
            scope.report(error("E306", f"argument `{name}` is given twice", argument.name.span))
            ok = False
            continue
        value = _metric_argument(argument, parameter, scope)
        if value is None:
            ok = False
            continue
        values[name] = value
    if values.get("exclude_small") and "min_group_size" not in values and ok:
        scope.report(error("E303", "`exclude_small` needs `min_group_size`", expr.span, "for example `min_group_size = 30, exclude_small = true`"))
        ok = False
    for parameter in declaration.parameters:
        if parameter.required and parameter.name not in values and ok:
            scope.report(
                error(
                    "E303",
                    f"`{declaration.name}` needs the argument `{parameter.name}`",
                    expr.span,
                    f'{parameter.doc} For example `{declaration.name}({parameter.name} = "race")`',
                )
            )
            ok = False
    if not ok:
        return ANY, {"kind": "invalid"}
    per_group = declaration.per_group or (declaration.kind == "overall" and "by" in values)
    plan = {
        "kind": "metric",
        "name": declaration.name,
        "arguments": values,
        "per_group": per_group,
        "source": source_of(scope.source, expr.span),
    }
    if scope.reduction_key is not None:
        plan["reduction"] = scope.reduction_key(declaration, values)
    return (GROUPS if per_group else NUMBER), plan


def _metric_argument(argument: ast.Argument, parameter, scope: Scope):
    value = argument.value
    if parameter.type == registry.NUMBER:
        if isinstance(value, (ast.NumberLit, ast.PercentLit)) and math.isfinite(value.value):
            if parameter.accepts(value.value):
                return value.value
            message = f"argument `{parameter.name}` must be {parameter.accepted()}, not `{value.text}`"
            scope.report(error("E304", message, value.span, parameter.doc))
            return None
        scope.report(error("E304", f"argument `{parameter.name}` must be a number literal", value.span, parameter.doc))
        return None
    if parameter.type == registry.BOOL:
        if isinstance(value, ast.BoolLit):
            return value.value
        scope.report(error("E304", f"argument `{parameter.name}` must be `true` or `false`", value.span))
        return None
    if parameter.type == registry.STRING:
        if isinstance(value, ast.StringLit) and not parameter.accepts(value.value):
            hint = _did_you_mean(value.value, parameter.choices) or parameter.doc
            message = f"argument `{parameter.name}` must be {parameter.accepted()}, not \"{value.value}\""
            scope.report(error("E304", message, value.span, hint))
            return None
        if isinstance(value, ast.StringLit):
            return value.value
        scope.report(error("E304", f"argument `{parameter.name}` must be a string literal", value.span))
        return None
    if isinstance(value, ast.StringLit):
        return [value.value]
    if isinstance(value, ast.ListLit) and value.items and all(isinstance(i, ast.StringLit) for i in value.items):
        names = [item.value for item in value.items]
        if len(set(names)) != len(names):
            scope.report(error("E304", f"argument `{parameter.name}` names a column twice", value.span))
            return None
        return names
    scope.report(
        error(
            "E304",
            f"argument `{parameter.name}` must be a column name or a non-empty list of column names",
            value.span,
            'for example `by = "race"` or `by = ["race", "sex"]`',
        )
    )
    return None


def _unary(expr: ast.Unary, scope: Scope):
    operand_type, operand = check(expr.operand, scope)
    plan = {"kind": "unary", "operator": expr.operator, "operand": operand}
    if expr.operator == "not":
        _expect(operand_type, BOOL, expr.operand, scope, "`not` needs a condition")
        return BOOL, plan
    if operand_type not in (NUMBER, DURATION, ANY):
        scope.report(error("E330", f"cannot negate a `{operand_type}`", expr.span))
    return operand_type, plan


def _expect(actual: str, expected: str, expr, scope: Scope, message: str) -> None:
    if actual not in (expected, ANY):
        scope.report(error("E334", f"{message}, not a `{actual}`", expr.span))


_ARITHMETIC = {
    ("+", NUMBER, NUMBER): NUMBER,
    ("-", NUMBER, NUMBER): NUMBER,
    ("*", NUMBER, NUMBER): NUMBER,
    ("/", NUMBER, NUMBER): NUMBER,
    ("+", DURATION, DURATION): DURATION,
    ("-", DURATION, DURATION): DURATION,
    ("*", NUMBER, DURATION): DURATION,
    ("*", DURATION, NUMBER): DURATION,
    ("/", DURATION, NUMBER): DURATION,
    ("/", DURATION, DURATION): NUMBER,
    ("-", DATE, DATE): DURATION,
    ("+", DATE, DURATION): DATE,
    ("-", DATE, DURATION): DATE,
}


def _binary(expr: ast.Binary, scope: Scope):
    left_type, left = check(expr.left, scope)
    right_type, right = check(expr.right, scope)
    plan = {"kind": "binary", "operator": expr.operator, "left": left, "right": right}
    if expr.operator in ("and", "or"):
        _expect(left_type, BOOL, expr.left, scope, f"`{expr.operator}` needs conditions on both sides")
        _expect(right_type, BOOL, expr.right, scope, f"`{expr.operator}` needs conditions on both sides")
        return BOOL, plan
    if ANY in (left_type, right_type):
        return ANY, plan
    result = _ARITHMETIC.get((expr.operator, left_type, right_type))
    if result is None:
        hint = _groups_hint(left_type, right_type)
        scope.report(
            error("E330", f"cannot apply `{expr.operator}` to `{left_type}` and `{right_type}`", expr.span, hint)
        )
        return ANY, plan
    return result, plan


def _groups_hint(*types: str) -> str | None:
    if GROUPS in types:
        return "per-group values need an aggregate such as `max(...)` or `ratio(...)`, or a quantifier such as `every g in ...: g <= 0.1`"
    return None


_ORDERED = (NUMBER, DURATION, DATE)


def _compare(expr: ast.Compare, scope: Scope):
    checked = [check(operand, scope) for operand in expr.operands]
    plan = {
        "kind": "compare",
        "operands": [p for _, p in checked],
        "operators": list(expr.operators),
        "source": source_of(scope.source, expr.span),
        "operand_sources": [source_of(scope.source, operand.span) for operand in expr.operands],
    }
    for index, operator in enumerate(expr.operators):
        (left_type, left_plan), (right_type, right_plan) = checked[index], checked[index + 1]
        left, right = expr.operands[index], expr.operands[index + 1]
        _check_pair(operator, left_type, right_type, left, right, expr, scope)
        _check_metric_range(operator, left_plan, right, scope)
        _check_metric_range(operator, right_plan, left, scope)
    return BOOL, plan


def _check_pair(operator, left_type, right_type, left, right, expr, scope: Scope) -> None:
    if ANY in (left_type, right_type):
        return
    if GROUPS in (left_type, right_type):
        scope.report(error("E333", "a comparison needs single values, not per-group values", expr.span, _groups_hint(GROUPS)))
        return
    if operator in ("in", "not in"):
        element = element_type(right_type)
        if element is None:
            scope.report(error("E330", f"`{operator}` needs a list on its right, not a `{right_type}`", right.span))
        elif element not in (left_type, ANY):
            scope.report(error("E330", f"cannot look for a `{left_type}` in a list of `{element}`", expr.span))
        return
    if operator == "matches":
        if left_type != STRING or right_type != STRING:
            scope.report(error("E330", "`matches` compares a string with a regular expression string", expr.span))
        elif isinstance(right, ast.StringLit):
            try:
                re.compile(right.value)
            except re.error as exc:
                scope.report(error("E331", f"invalid regular expression: {exc}", right.span))
        return
    if left_type != right_type:
        scope.report(
            error("E330", f"cannot compare a `{left_type}` with a `{right_type}`", expr.span, "compare values of the same type")
        )
        return
    if operator not in ("==", "!=") and left_type not in _ORDERED:
        scope.report(error("E330", f"`{operator}` needs numbers, durations or dates, not `{left_type}`", expr.span))
        return
    if operator in ("==", "!=") and left_type == NUMBER and _reads_metric(left, right):
        scope.report(
            warning("W312", f"`{operator}` compares a measured rate exactly", expr.span, "use `<=` or `>=` with a threshold instead")
        )


def _reads_metric(*nodes: ast.Expr) -> bool:
    """Return whether a measured rate reaches these nodes; `count(...)` of groups and counting metrics are whole numbers."""
    for node in nodes:
        if isinstance(node, ast.Call) and node.function.value == "count":
            continue
        declaration = registry.get_metric(node.function.value) if isinstance(node, ast.Call) else None
        if declaration is not None and declaration.integer_valued:
            continue
        if declaration is not None:
            return True
        if _reads_metric(*[child for child in node.children() if isinstance(child, ast.Expr)]):
            return True
        if isinstance(node, ast.Call) and _reads_metric(*[a.value for a in node.arguments]):
            return True
    return False


def _check_metric_range(operator: str, metric_plan: dict, other: ast.Expr, scope: Scope) -> None:
    """Warn when a metric, or a bound of its interval, is compared with a constant outside the metric's value range."""
    if metric_plan.get("kind") == "function" and metric_plan["name"] in ("lower", "upper"):
        metric_plan = metric_plan["arguments"][0]
    if metric_plan.get("kind") != "metric" or operator in ("in", "not in", "matches"):
        return
    value, text = _constant(other)
    if value is None or not math.isfinite(value):
        return  # E323 reports a number too large to represent.
    declaration = registry.get_metric(metric_plan["name"])
    low, high = declaration.value_range
    if not low <= value <= high:
        scope.report(
            warning(
                "W305",
                f"threshold {text} is outside the range of `{declaration.name}` [{low:g}, {high:g}]",
                other.span,
                "such a comparison always holds or never holds; check the threshold and the operator",
            )
        )


def _constant(expr: ast.Expr) -> tuple[float | None, str]:
    """Return the value and text of a number literal, a percentage, or either negated."""
    if isinstance(expr, (ast.NumberLit, ast.PercentLit)):
        return expr.value, expr.text
    if isinstance(expr, ast.Unary) and expr.operator == "-" and isinstance(expr.operand, (ast.NumberLit, ast.PercentLit)):
        return -expr.operand.value, f"-{expr.operand.text}"
    return None, ""


def _exists(expr: ast.Exists, scope: Scope):
    if not isinstance(expr.target, ast.Field):
        scope.report(error("E337", "`exists` tests a field such as `card.intended_use` or `model.owner`", expr.target.span))
    _, target = check(expr.target, scope)
    return BOOL, {"kind": "exists", "target": target}


def _quantifier(expr: ast.Quantifier, scope: Scope):
    domain_type, domain = check(expr.domain, scope)
    element = element_type(domain_type)
    if element is None and domain_type != ANY:
        scope.report(
            error("E338", f"`{expr.kind}` ranges over per-group values or a list, not a `{domain_type}`", expr.domain.span,
                  'for example `every g in selection_rate(by = "race"): g >= 0.2`')
        )
        element = ANY
    inner = scope.with_variable(expr.variable.value, element or ANY)
    body_type, body = check(expr.body, inner)
    _expect(body_type, BOOL, expr.body, scope, "a quantifier's body must be a condition")
    return BOOL, {
        "kind": "quantifier",
        "quantifier": expr.kind,
        "variable": expr.variable.value,
        "domain": domain,
        "body": body,
        "source": source_of(scope.source, expr.span),
    }


_HANDLERS = {
    ast.NumberLit: _literal,
    ast.PercentLit: _literal,
    ast.DurationLit: _literal,
    ast.DateLit: _literal,
    ast.StringLit: _literal,
    ast.BoolLit: _literal,
    ast.NameRef: _name,
    ast.Field: _field,
    ast.ListLit: _list,
    ast.Call: _call,
    ast.Unary: _unary,
    ast.Binary: _binary,
    ast.Compare: _compare,
    ast.Exists: _exists,
    ast.Quantifier: _quantifier,
}
