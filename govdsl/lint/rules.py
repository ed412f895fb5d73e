"""The lint rules: code, name, default severity, documentation with examples, and the check that finds them.

Codes are a family prefix and digits. `L1` rules are about traceability to clauses,
`L2` about clauses themselves, `L3` about checks that cannot decide anything, `L4`
about the governance metadata of blocking controls, `L5` about statistical and
evidence prerequisites, `L6` about waiver files and `L9` about suppressions. Rules
whose code starts with `W` are compiler warnings, listed here so that `govdsl rule`
documents them and lint can select or ignore them like any rule.

Each rule's examples are tests: the bad example raises exactly that rule, and the
good example raises nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from govdsl.diagnostics import Diagnostic, Severity, Span
from govdsl.metrics.registry import get_metric
from govdsl.syntax import ast

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: Severity
    summary: str
    finds: str
    why: str
    bad: str
    good: str
    limitations: str
    example_kind: str = "policy"  # "policy" (a .gov file) or "waivers" (a waivers YAML file)
    check: Callable | None = None  # None: the compiler or the waiver linter reports it


RULES: dict[str, Rule] = {}


def rule(**fields) -> Callable:
    def register(function: Callable) -> Callable:
        RULES[fields["code"]] = Rule(check=function, **fields)
        return function

    return register


def declare(**fields) -> None:
    RULES[fields["code"]] = Rule(**fields)


# Helpers over the syntax tree


def controls(context) -> Iterator[tuple[object, ast.Policy, ast.Control]]:
    for unit in context.root_units:
        for policy in unit.module.policies:
            for control in policy.controls:
                yield unit, policy, control


def expressions(node) -> list[ast.Expr]:
    """Return every expression below `node`, depth first."""
    found: list[ast.Expr] = []
    _collect(node, found)
    return found


def _collect(node, found: list) -> None:
    if isinstance(node, ast.Expr):
        found.append(node)
        if isinstance(node, _LEAVES):
            return
    for name in _child_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, ast.Node):
            _collect(value, found)
        elif isinstance(value, tuple):
            for item in value:
                if isinstance(item, ast.Node):
                    _collect(item, found)


_LEAVES = (ast.StringLit, ast.NumberLit, ast.PercentLit, ast.DurationLit, ast.DateLit, ast.BoolLit, ast.NameRef)
_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(kind: type) -> tuple[str, ...]:
    """Return the names of a node type's fields that can hold nodes (not its span or plain values)."""
    if kind not in _FIELDS:
        _FIELDS[kind] = tuple(
            name for name in getattr(kind, "__dataclass_fields__", {}) if name not in ("span", "text", "value", "kind", "operator", "operators", "file")
        )
    return _FIELDS[kind]


def _qualified(policy: ast.Policy, control: ast.Control) -> str:
    return f"{policy.name.value}.{control.name.value}"


def _enforcement(control: ast.Control) -> str:
    return control.enforcement.value if control.enforcement else "soft"


def _blocking(control: ast.Control) -> bool:
    return _enforcement(control) != "advisory"


def finding(code: str, message: str, span: Span | None, help: str | None = None) -> Diagnostic:
    return Diagnostic(code, RULES[code].severity, message, span, help)


# L1: traceability


@rule(
    code="L101",
    name="control-without-clause",
    severity=WARNING,
    summary="A control maps to no regulatory clause.",
    finds="A control with no `maps` entry.",
    why="The coverage matrix traces every control to the obligations it evidences. A control that maps nowhere"
    " shows in no clause row, so an auditor cannot tell which requirement it serves.",
    bad='policy p {\n  control gap {\n    owner "risk@example.org"\n    remediation "Retrain."\n'
    '    check accuracy() >= 0.8\n  }\n}\n',
    good='policy p {\n  control gap {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)"]\n'
    '    remediation "Retrain."\n    check accuracy() >= 0.8\n  }\n}\n',
    limitations="Lint cannot tell whether the clause chosen is the right one.",
)
def control_without_clause(context):
    for _, policy, control in controls(context):
        if not control.maps:
            yield finding(
                "L101",
                f"control `{_qualified(policy, control)}` maps to no clause",
                control.name.span,
                'add `maps ["FRAMEWORK:clause"]`; `govdsl catalog list` shows the clause ids',
            )


@rule(
    code="L102",
    name="ambiguous-control-name",
    severity=WARNING,
    summary="Two policies in one run define a control with the same name.",
    finds="The same control name in two policies of the files linted together.",
    why="Waivers, `govdsl explain --control` and reviewers often use the bare name. Two controls of one name"
    " make such references ambiguous, and a waiver meant for one can be written against the other.",
    bad='policy a {\n  control gap {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)"]\n'
    '    remediation "Retrain."\n    check accuracy() >= 0.8\n  }\n}\n'
    'policy b {\n  control gap {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)"]\n'
    '    remediation "Retrain."\n    check accuracy() >= 0.7\n  }\n}\n',
    good='policy a {\n  control accuracy_floor {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)"]\n'
    '    remediation "Retrain."\n    check accuracy() >= 0.8\n  }\n}\n'
    'policy b {\n  control accuracy_target {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)"]\n'
    '    remediation "Retrain."\n    check accuracy() >= 0.7\n  }\n}\n',
    limitations="Duplicate names within one policy are compiler errors (E104), not this rule.",
)
def ambiguous_control_name(context):
    first: dict[str, str] = {}
    for _, policy, control in controls(context):
        name = control.name.value
        if name in first and first[name] != policy.name.value:
            yield finding(
                "L102",
                f"control name `{name}` is also used in policy `{first[name]}`",
                control.name.span,
                "give the control a name of its own, so waivers and `explain` can name it alone",
            )
        first.setdefault(name, policy.name.value)


@rule(
    code="L103",
    name="unused-parameter",
    severity=WARNING,
    summary="A policy parameter is never used.",
    finds="A `param` that no check, applicability condition or `within` of the policy reads.",
    why="An unused parameter suggests a threshold that was meant to be configurable but is hard-coded,"
    " so a stricter value set per risk tier or with --param silently changes nothing.",
    bad='policy p {\n  param floor: number = 0.8\n  control gap {\n    owner "risk@example.org"\n'
    '    maps ["EU-AI-ACT:Art.15(1)"]\n    remediation "Retrain."\n    check accuracy() >= 0.8\n  }\n}\n',
    good='policy p {\n  param floor: number = 0.8\n  control gap {\n    owner "risk@example.org"\n'
    '    maps ["EU-AI-ACT:Art.15(1)"]\n    remediation "Retrain."\n    check accuracy() >= floor\n  }\n}\n',
    limitations="A parameter read only by another policy, through a qualified name, counts as unused in its own file.",
)
def unused_parameter(context):
    for unit in context.root_units:
        for policy in unit.module.policies:
            used = {
                expression.name
                for control in policy.controls
                for expression in _all_expressions(control)
                if isinstance(expression, ast.NameRef)
            }
            if policy.applies is not None:
                used |= {expression.name for expression in expressions(policy.applies) if isinstance(expression, ast.NameRef)}
            for param in policy.params:
                if param.name.value not in used:
                    yield finding(
                        "L103",
                        f"parameter `{param.name.value}` of policy `{policy.name.value}` is never used",
                        param.name.span,
                        "use it in a check, or remove it",
                    )


_CONTROL_EXPRESSIONS: dict[int, tuple[ast.Control, list[ast.Expr]]] = {}


def clear_caches() -> None:
    """Forget the expressions of earlier runs, so a long-lived process does not keep their syntax trees."""
    _CONTROL_EXPRESSIONS.clear()


def _all_expressions(control: ast.Control) -> list[ast.Expr]:
    """Return the expressions of a control's condition, checks and `within` limits; computed once per control."""
    cached = _CONTROL_EXPRESSIONS.get(id(control))
    if cached is not None and cached[0] is control:
        return cached[1]
    found: list[ast.Expr] = []
    if control.applies is not None:
        found += expressions(control.applies)
    for item in control.checks:
        if isinstance(item, ast.Check):
            found += expressions(item.body)
        elif item.within is not None:
            found += expressions(item.within)
    _CONTROL_EXPRESSIONS[id(control)] = (control, found)
    return found


@rule(
    code="L104",
    name="unused-import",
    severity=WARNING,
    summary="An imported policy file is not required by any control of the importing file.",
    finds="An `import` whose policies' controls no `requires` of the importing file names.",
    why="Imports exist so that controls can require controls of another policy. An import nothing requires"
    " adds every imported control to each run without saying why; name such a policy on the command line instead.",
    bad='import "base.gov"\npolicy p {\n  control gap {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)"]\n'
    '    remediation "Retrain."\n    check accuracy() >= 0.8\n  }\n}\n',
    good='import "base.gov"\npolicy p {\n  control gap {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)"]\n'
    '    requires [base.documented]\n    remediation "Retrain."\n    check accuracy() >= 0.8\n  }\n}\n',
    limitations="The examples need a file `base.gov` beside them with a policy `base` and a control `documented`.",
)
def unused_import(context):
    for unit in context.root_units:
        required = {
            reference.parts[0]
            for policy in unit.module.policies
            for control in policy.controls
            for reference in control.requires
            if len(reference.parts) > 1
        }
        for declaration, target in unit.imports:
            target_unit = context.units_by_file.get(target)
            if target_unit is None:
                continue
            names = {p.name.value for p in target_unit.module.policies}
            if declaration.alias is not None:
                names = {declaration.alias.value}
            if not names & required:
                yield finding(
                    "L104",
                    f"nothing in `{unit.file}` requires a control of imported `{declaration.path.value}`",
                    declaration.span,
                    "require one of its controls, or remove the import and name the policy on the command line",
                )


# L2: clauses (reported by the compiler)

declare(
    code="W204",
    name="clause-mapped-twice",
    severity=WARNING,
    summary="A control lists the same clause twice in `maps`.",
    finds="A clause reference repeated in one control's `maps`, also when written with different case or spacing.",
    why="The repeat adds nothing to coverage and usually hides a typo for a different clause.",
    bad='policy p {\n  control gap {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)", "EU-AI-ACT:Art.15(1)"]\n'
    '    remediation "Retrain."\n    check accuracy() >= 0.8\n  }\n}\n',
    good='policy p {\n  control gap {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)", "EU-AI-ACT:Art.15(3)"]\n'
    '    remediation "Retrain."\n    check accuracy() >= 0.8\n  }\n}\n',
    limitations="None known.",
)
declare(
    code="W206",
    name="superseded-catalog",
    severity=WARNING,
    summary="A clause comes from a catalog that a successor has superseded.",
    finds="A `maps` entry into a catalog whose `superseded_by` date has passed, when the control maps to no clause of the successor.",
    why="Supervisors expect evidence against the guidance in force. A control traced only to superseded guidance"
    " (SR 11-7 after SR 26-2, say) looks unmaintained to an examiner.",
    bad='policy p {\n  control validation {\n    owner "risk@example.org"\n    maps ["SR-11-7:V.1"]\n'
    '    remediation "Validate the model."\n    require approval "independent_validator"\n  }\n}\n',
    good='policy p {\n  control validation {\n    owner "risk@example.org"\n    maps ["SR-11-7:V.1", "SR-26-2:V.1"]\n'
    '    remediation "Validate the model."\n    require approval "independent_validator"\n  }\n}\n',
    limitations="Whether the successor's clause covers the same obligation is for the author to judge.",
)
declare(
    code="W208",
    name="deleted-clause",
    severity=WARNING,
    summary="A clause was deleted by a later amendment.",
    finds="A `maps` entry naming a clause that the catalog marks `deleted`.",
    why="Evidence traced to a deleted obligation proves nothing, and the coverage matrix would count it as covered.",
    bad='policy p {\n  control special_data {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.10(5)(a)"]\n'
    '    remediation "Document it."\n    require model_card section "Training Data"\n  }\n}\n',
    good='policy p {\n  control special_data {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.10(3)"]\n'
    '    remediation "Document it."\n    require model_card section "Training Data"\n  }\n}\n',
    limitations="Follows the catalog's status field, which is only as current as the shipped catalogs.",
)


declare(
    code="I207",
    name="clause-applies-later",
    severity=INFO,
    summary="A mapped clause applies only from a later date.",
    finds="A `maps` entry into a clause whose `applies_from` date lies after the compile date (`--as-of`).",
    why="The control is evaluated as written, but until that date its result shows readiness, not a legal duty.",
    bad='policy p {\n  control gap {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)"]\n'
    '    remediation "Retrain."\n    check accuracy() >= 0.8\n  }\n}\n',
    good='policy p {\n  control gap {\n    owner "risk@example.org"\n    maps ["NIST-AI-RMF:MEASURE 2.5"]\n'
    '    remediation "Retrain."\n    check accuracy() >= 0.8\n  }\n}\n',
    limitations="Depends on the application dates recorded in the shipped catalogs. The example triggers it only before the EU AI Act's high-risk obligations apply.",
)
declare(
    code="W305",
    name="threshold-outside-range",
    severity=WARNING,
    summary="A threshold lies outside the range of the metric it is compared with.",
    finds="A metric compared with a number literal outside its declared range, such as a rate with 1.5.",
    why="The comparison always holds or never holds, so the check decides nothing.",
    bad='policy p {\n  control gap {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)"]\n'
    '    remediation "Retrain."\n    check demographic_parity_ratio(by = "race", min_group_size = 30) >= 1.25\n  }\n}\n',
    good='policy p {\n  control gap {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)"]\n'
    '    remediation "Retrain."\n    check demographic_parity_ratio(by = "race", min_group_size = 30) >= 0.8\n  }\n}\n',
    limitations="Thresholds at the edge of the range are rule L302.",
)
declare(
    code="W312",
    name="exact-rate-comparison",
    severity=WARNING,
    summary="A measured rate is compared with `==` or `!=`.",
    finds="`==` or `!=` between a metric and a number.",
    why="Measured rates are ratios of counts, so an exact comparison passes or fails on rounding.",
    bad='policy p {\n  control gap {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)"]\n'
    '    remediation "Retrain."\n    check accuracy() == 0.8\n  }\n}\n',
    good='policy p {\n  control gap {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)"]\n'
    '    remediation "Retrain."\n    check accuracy() >= 0.8\n  }\n}\n',
    limitations="None known.",
)
declare(
    code="W343",
    name="parameter-without-default",
    severity=WARNING,
    summary="A parameter has no default value.",
    finds="A `param` without `= value` and without a value for every risk tier.",
    why="Every run must then set it with --param or a parameters file, or the check cannot be evaluated.",
    bad='policy p {\n  param floor: number\n  control gap {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)"]\n'
    '    remediation "Retrain."\n    check accuracy() >= floor\n  }\n}\n',
    good='policy p {\n  param floor: number = 0.8\n  control gap {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)"]\n'
    '    remediation "Retrain."\n    check accuracy() >= floor\n  }\n}\n',
    limitations="None known.",
)


# L3: checks that cannot decide


@rule(
    code="L301",
    name="never-applies",
    severity=WARNING,
    summary="A control or policy can never apply.",
    finds="An `applies when` condition that is false for every bundle: the literal `false`, `x in []`, or one"
    " field required to equal two different values at once.",
    why="A control that never applies is always `skipped`, so it looks present in the policy and covers nothing.",
    bad='policy p {\n  control gap {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)"]\n'
    '    remediation "Retrain."\n    applies when model.risk_tier == "high" and model.risk_tier == "low"\n'
    '    check accuracy() >= 0.8\n  }\n}\n',
    good='policy p {\n  control gap {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)"]\n'
    '    remediation "Retrain."\n    applies when model.risk_tier == "high" or model.risk_tier == "low"\n'
    '    check accuracy() >= 0.8\n  }\n}\n',
    limitations="Finds these simple forms only; a condition false for other reasons is not found.",
)
def never_applies(context):
    for unit in context.root_units:
        for policy in unit.module.policies:
            if policy.applies is not None and _always_false(policy.applies):
                yield finding("L301", f"policy `{policy.name.value}` can never apply", policy.applies.span,
                              "fix the `applies when` condition, or remove the policy")
            for control in policy.controls:
                if control.applies is not None and _always_false(control.applies):
                    yield finding("L301", f"control `{_qualified(policy, control)}` can never apply", control.applies.span,
                                  "fix the `applies when` condition, or remove the control")


def _always_false(expression: ast.Expr) -> bool:
    if isinstance(expression, ast.BoolLit):
        return expression.value is False
    if isinstance(expression, ast.Compare) and expression.operators == ("in",):
        domain = expression.operands[1]
        return isinstance(domain, ast.ListLit) and not domain.items
    if isinstance(expression, ast.Binary) and expression.operator == "and":
        if _always_false(expression.left) or _always_false(expression.right):
            return True
        required: dict[str, set] = {}
        for part in _conjuncts(expression):
            pinned = _pinned(part)
            if pinned:
                required.setdefault(pinned[0], set()).add(pinned[1])
        return any(len(values) > 1 for values in required.values())
    if isinstance(expression, ast.Binary) and expression.operator == "or":
        return _always_false(expression.left) and _always_false(expression.right)
    return False


def _conjuncts(expression: ast.Expr) -> Iterator[ast.Expr]:
    if isinstance(expression, ast.Binary) and expression.operator == "and":
        yield from _conjuncts(expression.left)
        yield from _conjuncts(expression.right)
    else:
        yield expression


def _pinned(expression: ast.Expr) -> tuple[str, object] | None:
    """Return (field, value) for `field == literal`, else None."""
    if not (isinstance(expression, ast.Compare) and expression.operators == ("==",)):
        return None
    left, right = expression.operands
    if isinstance(right, ast.Field) and isinstance(left, (ast.StringLit, ast.NumberLit, ast.BoolLit)):
        left, right = right, left
    if isinstance(left, ast.Field) and isinstance(left.target, ast.NameRef) and isinstance(right, (ast.StringLit, ast.NumberLit, ast.BoolLit)):
        return f"{left.target.name}.{left.name.value}", right.value
    return None


@rule(
    code="L302",
    name="vacuous-threshold",
    severity=WARNING,
    summary="A check can never fail or never pass.",
    finds="A metric compared with a threshold at the edge of the metric's range (`<= 1` or `>= 0` for a rate"
    " never fails, `< 0` or `> 1` never passes) and ranges whose lower bound is above the upper bound"
    " (`0.9 <= x <= 0.8`). Thresholds outside the range are the compiler warning W305.",
    why="Such a check always reports the same status whatever the evidence, so the control documents a test"
    " that does not take place. A ratio (smallest over largest) never exceeds 1: `ratio >= 1.25` never passes.",
    bad='policy p {\n  control gap {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)"]\n'
    '    remediation "Retrain."\n    check accuracy() <= 1\n  }\n}\n',
    good='policy p {\n  control gap {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)"]\n'
    '    remediation "Retrain."\n    check accuracy() >= 0.8\n  }\n}\n',
    limitations="Looks at a metric compared directly with a number literal or a parameter's default; arithmetic on either side is not analysed.",
)
def vacuous_threshold(context):
    for _, policy, control in controls(context):
        for item in control.checks:
            if not isinstance(item, ast.Check):
                continue
            for expression in _check_compares(item):
                yield from _compare_findings(context, policy, control, expression)


def _check_compares(item: ast.Check) -> list[ast.Compare]:
    return [expression for expression in expressions(item.body) if isinstance(expression, ast.Compare)]


def _number(context, policy: ast.Policy, expression: ast.Expr) -> float | None:
    if isinstance(expression, (ast.NumberLit, ast.PercentLit)):
        return expression.value
    if isinstance(expression, ast.Unary) and expression.operator == "-" and isinstance(expression.operand, (ast.NumberLit, ast.PercentLit)):
        return -expression.operand.value
    if isinstance(expression, ast.NameRef):
        for param in policy.params:
            if param.name.value == expression.name and param.default is not None:
                return _number(context, policy, param.default)
    return None


def _metric_range(expression: ast.Expr) -> tuple[str, tuple[float, float]] | None:
    if isinstance(expression, ast.Call):
        declaration = get_metric(expression.function.value)
        per_group = any(a.name is not None and a.name.value == "by" for a in expression.arguments)
        if declaration is not None and not (declaration.per_group or (declaration.kind == "overall" and per_group)):
            return declaration.name, declaration.value_range
    return None


def _compare_findings(context, policy, control, compare: ast.Compare):
    operands = compare.operands
    numbers = [_number(context, policy, operand) for operand in operands]
    for index, operator in enumerate(compare.operators):
        left, right = operands[index], operands[index + 1]
        metric = _metric_range(left)
        threshold, flipped = numbers[index + 1], operator
        if metric is None:
            metric = _metric_range(right)
            threshold = numbers[index]
            flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(operator, operator)
        if metric is None or threshold is None:
            continue
        name, (low, high) = metric
        verdict = None
        if (flipped == "<=" and threshold >= high) or (flipped == ">=" and threshold <= low):
            verdict = "never fails"
        elif (flipped == "<" and threshold > high) or (flipped == ">" and threshold < low):
            verdict = "never fails"
        elif (flipped == "<" and threshold <= low) or (flipped == ">" and threshold >= high):
            verdict = "never passes"
        elif (flipped == "<=" and threshold < low) or (flipped == ">=" and threshold > high):
            verdict = "never passes"
        if verdict and low <= threshold <= high:  # outside the range, the compiler's W305 reports it
            yield finding(
                "L302",
                f"`{name}` lies in [{low:g}, {high:g}], so `{flipped} {threshold:g}` {verdict}",
                compare.span,
                "pick a threshold inside the metric's range, and check the operator",
            )
    if len(compare.operators) == 2 and numbers[0] is not None and numbers[2] is not None:
        first, second = compare.operators
        if first in ("<", "<=") and second in ("<", "<=") and numbers[0] > numbers[2]:
            yield finding(
                "L302",
                f"the range `{numbers[0]:g} {first} ... {second} {numbers[2]:g}` is empty, so the check never passes",
                compare.span,
                "swap the bounds",
            )


declare(
    code="E103",
    name="requires-cycle",
    severity=ERROR,
    summary="Controls require each other in a cycle.",
    finds="A chain of `requires` entries that leads back to its first control; the message prints the cycle.",
    why="No control of a cycle can be evaluated first, so none of them could ever pass. The compiler rejects the policy.",
    bad='policy p {\n  control a {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)"]\n    requires [b]\n'
    '    remediation "Retrain."\n    check accuracy() >= 0.8\n  }\n  control b {\n    owner "risk@example.org"\n'
    '    maps ["EU-AI-ACT:Art.15(1)"]\n    requires [a]\n    remediation "Retrain."\n    check accuracy() >= 0.7\n  }\n}\n',
    good='policy p {\n  control a {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)"]\n    requires [b]\n'
    '    remediation "Retrain."\n    check accuracy() >= 0.8\n  }\n  control b {\n    owner "risk@example.org"\n'
    '    maps ["EU-AI-ACT:Art.15(1)"]\n    remediation "Retrain."\n    check accuracy() >= 0.7\n  }\n}\n',
    limitations="None known.",
)


# L4: metadata of blocking controls


@rule(
    code="L401",
    name="hard-control-not-waivable",
    severity=INFO,
    summary="A hard control lists no role that may waive it.",
    finds="A control with `enforcement hard` and no `waivable_by` roles, from the control or the policy default.",
    why="Without a waiving role, the only way past a failing hard control is to change the policy. That can be"
    " intended; often it is an oversight that teams then work around by editing thresholds.",
    bad='policy p {\n  control gap {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)"]\n'
    '    enforcement hard\n    remediation "Retrain."\n    check accuracy() >= 0.8\n  }\n}\n',
    good='policy p {\n  control gap {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)"]\n'
    '    enforcement hard\n    waivable_by ["chief_risk_officer"]\n    remediation "Retrain."\n    check accuracy() >= 0.8\n  }\n}\n',
    limitations="A control that must never be waived can keep the finding with a suppression that states the reason.",
)
def hard_control_not_waivable(context):
    for _, policy, control in controls(context):
        roles = control.waivable_by if control.waivable_by is not None else policy.waivable_by
        if _enforcement(control) == "hard" and not roles:
            yield finding(
                "L401",
                f"hard control `{_qualified(policy, control)}` lists no role that may waive it",
                control.name.span,
                'add `waivable_by ["role"]` to the control or the policy, or suppress this with the reason it must never be waived',
            )


@rule(
    code="L402",
    name="blocking-without-remediation",
    severity=WARNING,
    summary="A control that can block the gate has no remediation text.",
    finds="A `soft` or `hard` control without `remediation`.",
    why="When the gate blocks, the report's remediation is what the ML engineer reads first. Without it, a"
    " blocked deployment turns into a support ticket.",
    bad='policy p {\n  control gap {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)"]\n'
    '    check accuracy() >= 0.8\n  }\n}\n',
    good='policy p {\n  control gap {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)"]\n'
    '    remediation "Retrain on the current data, then re-run the gate."\n    check accuracy() >= 0.8\n  }\n}\n',
    limitations="Does not judge whether the text helps.",
)
def blocking_without_remediation(context):
    for _, policy, control in controls(context):
        if _blocking(control) and control.remediation is None:
            yield finding("L402", f"control `{_qualified(policy, control)}` can block the gate but has no remediation",
                          control.name.span, 'add `remediation "what to do when it fails"`')


@rule(
    code="L403",
    name="blocking-without-owner",
    severity=WARNING,
    summary="A control that can block the gate has no owner.",
    finds="A `soft` or `hard` control without `owner`.",
    why="A blocked gate needs someone who can explain the control, grant a waiver or change it.",
    bad='policy p {\n  control gap {\n    maps ["EU-AI-ACT:Art.15(1)"]\n    remediation "Retrain."\n'
    '    check accuracy() >= 0.8\n  }\n}\n',
    good='policy p {\n  control gap {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)"]\n'
    '    remediation "Retrain."\n    check accuracy() >= 0.8\n  }\n}\n',
    limitations="Does not check that the owner exists.",
)
def blocking_without_owner(context):
    for _, policy, control in controls(context):
        if _blocking(control) and control.owner is None:
            yield finding("L403", f"control `{_qualified(policy, control)}` can block the gate but has no owner",
                          control.name.span, 'add `owner "team or person"`')


@rule(
    code="L404",
    name="requires-advisory",
    severity=WARNING,
    summary="A control requires an advisory control.",
    finds="A `requires` entry naming a control whose enforcement is `advisory`.",
    why="A failing advisory control never blocks by itself, but it blocks every control that requires it. The"
    " requirement makes the advisory control blocking in effect, which readers of the policy do not expect.",
    bad='policy p {\n  control base {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)"]\n'
    '    enforcement advisory\n    check accuracy() >= 0.9\n  }\n  control gap {\n    owner "risk@example.org"\n'
    '    maps ["EU-AI-ACT:Art.15(1)"]\n    requires [base]\n    remediation "Retrain."\n    check accuracy() >= 0.8\n  }\n}\n',
    good='policy p {\n  control base {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.15(1)"]\n'
    '    remediation "Retrain."\n    check accuracy() >= 0.9\n  }\n  control gap {\n    owner "risk@example.org"\n'
    '    maps ["EU-AI-ACT:Art.15(1)"]\n    requires [base]\n    remediation "Retrain."\n    check accuracy() >= 0.8\n  }\n}\n',
    limitations="Needs the policies to compile, since it reads resolved names.",
)
def requires_advisory(context):
    if context.plan is None:
        return
    spans = {_qualified(policy, control): control for _, policy, control in controls(context)}
    for control_id, control in spans.items():
        spec = context.plan.controls.get(control_id)
        if spec is None:
            continue
        for required, reference in zip(spec.requires, control.requires):
            if context.plan.controls[required].enforcement == "advisory":
                yield finding("L404", f"`{control_id}` requires advisory control `{required}`", reference.span,
                              "make the required control soft or hard, or drop the requirement")


# L5: statistical and evidence prerequisites


@rule(
    code="L501",
    name="fairness-without-min-group-size",
    severity=WARNING,
    summary="A between-group metric has no minimum group size.",
    finds="A call of a metric that compares groups without a `min_group_size` argument.",
    why="A group of a few rows gives a rate with a wide interval; the largest gap is then often noise. With"
    " `min_group_size`, a too-small group makes the check `insufficient` instead of deciding on noise.",
    bad='policy p {\n  control gap {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.10(2)(f)"]\n'
    '    remediation "Retrain."\n    check demographic_parity_ratio(by = "race") >= 0.8\n  }\n}\n',
    good='policy p {\n  control gap {\n    owner "risk@example.org"\n    maps ["EU-AI-ACT:Art.10(2)(f)"]\n'
    '    remediation "Retrain."\n    check demographic_parity_ratio(by = "race", min_group_size = 30) >= 0.8\n  }\n}\n',
    limitations="A minimum of 1 also silences the rule.",
)
def fairness_without_min_group_size(context):
    for _, policy, control in controls(context):
        for expression in _all_expressions(control):
            if not isinstance(expression, ast.Call):
                continue
            declaration = get_metric(expression.function.value)
            if declaration is None or declaration.kind != "between_groups" or declaration.parameter("min_group_size") is None:
                continue
            named = {a.name.value for a in expression.arguments if a.name is not None}
            if "min_group_size" not in named:
                yield finding("L501", f"`{declaration.name}` compares groups without `min_group_size`", expression.span,
                              "add `min_group_size = 30` (or the size your sampling error allows); add `exclude_small = true` as well to decide on the larger groups and list the small ones")


@rule(
    code="L502",
    name="drift-without-reference",
    severity=WARNING,
    summary="A drift check reads reference data that the bundle does not declare.",
    finds="With `--bundle`, a metric that compares reference with current data when the bundle declares no"
    " dataset with role `reference` (and the call names none).",
    why="Without reference data the drift check ends in `error` on every run, so it guards nothing.",
    bad="",
    good="",
    limitations="Needs `govdsl lint --bundle DIR`; without a bundle the rule reports nothing.",
    example_kind="bundle",
)
def drift_without_reference(context):
    if context.bundle_roles is None:
        return
    for _, policy, control in controls(context):
        for expression in _all_expressions(control):
            if not isinstance(expression, ast.Call):
                continue
            declaration = get_metric(expression.function.value)
            if declaration is None or "reference" not in declaration.roles:
                continue
            named = {a.name.value for a in expression.arguments if a.name is not None}
            if "reference" in named or "dataset" in named:
                continue
            if "reference" not in context.bundle_roles:
                yield finding("L502", f"`{declaration.name}` reads reference data, but the bundle declares no dataset with role `reference`",
                              expression.span, "add the reference data to bundle.yaml with `role: reference`")


# L6: waiver files (reported by the waiver linter)

declare(
    code="L601",
    name="expired-waiver",
    severity=WARNING,
    summary="A waiver has expired.",
    finds="A waiver whose `expires` date lies before today (or `--as-of`).",
    why="An expired waiver no longer applies, so the control it covered blocks again. Renew it or remove it"
    " before a release is held up.",
    bad="waivers_version: 1\nwaivers:\n  - id: W-1\n    control: p.gap\n    models: [{id: m}]\n"
    '    justification: "Accepted for the pilot."\n    approved_by: {name: A, role: cro}\n'
    "    approved_on: 2020-01-01\n    expires: 2020-06-30\n",
    good="waivers_version: 1\nwaivers:\n  - id: W-1\n    control: p.gap\n    models: [{id: m}]\n"
    '    justification: "Accepted for the pilot."\n    approved_by: {name: A, role: cro}\n'
    "    approved_on: 2020-01-01\n    expires: 2099-06-30\n",
    limitations="Checks the control id against the policies linted in the same run only.",
    example_kind="waivers",
)
declare(
    code="L602",
    name="waiver-unknown-control",
    severity=WARNING,
    summary="A waiver names a control that the policies linted with it do not define.",
    finds="A waiver's `control` that is not `policy.control` of any policy in the same lint run.",
    why="Such a waiver never applies. It is usually a typo or a control renamed since the waiver was granted.",
    bad="waivers_version: 1\nwaivers:\n  - id: W-1\n    control: p.gapp\n    models: [{id: m}]\n"
    '    justification: "Accepted for the pilot."\n    approved_by: {name: A, role: cro}\n'
    "    approved_on: 2020-01-01\n    expires: 2099-06-30\n",
    good="waivers_version: 1\nwaivers:\n  - id: W-1\n    control: p.gap\n    models: [{id: m}]\n"
    '    justification: "Accepted for the pilot."\n    approved_by: {name: A, role: cro}\n'
    "    approved_on: 2020-01-01\n    expires: 2099-06-30\n",
    limitations="Only runs when at least one policy file is linted with the waivers file.",
    example_kind="waivers",
)
declare(
    code="L603",
    name="waiver-without-justification",
    severity=ERROR,
    summary="A waiver gives no justification.",
    finds="A waiver whose `justification` is missing, empty or a placeholder such as TBD or TODO.",
    why="A waiver records why a risk was accepted. Without the reason, the record does not show a decision"
    " and `govdsl check` rejects the file.",
    bad="waivers_version: 1\nwaivers:\n  - id: W-1\n    control: p.gap\n    models: [{id: m}]\n"
    '    justification: "TBD"\n    approved_by: {name: A, role: cro}\n'
    "    approved_on: 2020-01-01\n    expires: 2099-06-30\n",
    good="waivers_version: 1\nwaivers:\n  - id: W-1\n    control: p.gap\n    models: [{id: m}]\n"
    '    justification: "Accepted for the pilot."\n    approved_by: {name: A, role: cro}\n'
    "    approved_on: 2020-01-01\n    expires: 2099-06-30\n",
    limitations="Placeholders are recognized by the same list as model card placeholders.",
    example_kind="waivers",
)


# L9: suppressions (reported by the lint engine)

declare(
    code="L901",
    name="suppression-without-reason",
    severity=WARNING,
    summary="A suppression comment gives no reason.",
    finds="`# govdsl: ignore[CODE]` without `: reason` after it.",
    why="A reviewer must be able to tell a deliberate exception from a silenced problem.",
    bad='policy p {\n  control gap {  # govdsl: ignore[L403]\n    maps ["EU-AI-ACT:Art.15(1)"]\n'
    '    remediation "Retrain."\n    check accuracy() >= 0.8\n  }\n}\n',
    good='policy p {\n  control gap {  # govdsl: ignore[L403]: the platform team owns every control of this file\n'
    '    maps ["EU-AI-ACT:Art.15(1)"]\n    remediation "Retrain."\n    check accuracy() >= 0.8\n  }\n}\n',
    limitations="Any text counts as a reason.",
)
declare(
    code="L902",
    name="unused-suppression",
    severity=WARNING,
    summary="A suppression comment suppresses nothing.",
    finds="`# govdsl: ignore[CODE]: reason` where no finding with that code is on that line or in that control.",
    why="Stale suppressions hide future findings of the same kind in the same place.",
    bad='policy p {\n  control gap {  # govdsl: ignore[L403]: owned by the platform team\n    owner "risk@example.org"\n'
    '    maps ["EU-AI-ACT:Art.15(1)"]\n    remediation "Retrain."\n    check accuracy() >= 0.8\n  }\n}\n',
    good='policy p {\n  control gap {\n    owner "risk@example.org"\n'
    '    maps ["EU-AI-ACT:Art.15(1)"]\n    remediation "Retrain."\n    check accuracy() >= 0.8\n  }\n}\n',
    limitations="A suppression of a rule not selected in this run counts as unused only when the rule is selected.",
)
