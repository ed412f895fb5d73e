"""The compiler passes, in order: each reads the parsed modules and what earlier passes produced.

The order in PASSES is the contract: names resolve before types are checked,
clauses resolve before the graph is built, and cycles are detected on the graph.
"""

from __future__ import annotations

import datetime
import difflib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import networkx as nx

from govdsl.catalog.model import CatalogSet, ResolveError
from govdsl.compiler import plan as p
from govdsl.diagnostics import Diagnostic, Span, error, info, warning
from govdsl.metrics import registry
from govdsl.syntax import ast

SEVERITIES = ("low", "medium", "high", "critical")
ENFORCEMENTS = ("advisory", "soft", "hard")
DEFAULT_SEVERITY = "medium"
DEFAULT_ENFORCEMENT = "soft"

# Reading the operator with the metric moved to the left: `0.8 <= x` is `x >= 0.8`.
_MIRRORED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


@dataclass
class Unit:
    """One policy file in the compiler: the parsed module, its text and its display path."""

    module: ast.Module
    text: str
    file: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@dataclass
class Context:
    units: list[Unit]
    catalogs: CatalogSet
    as_of: datetime.date
    diagnostics: list[Diagnostic] = field(default_factory=list)
    controls: dict[str, tuple[ast.Control, Unit]] = field(default_factory=dict)
    control_specs: dict[str, p.ControlSpec] = field(default_factory=dict)
    check_specs: dict[str, p.CheckSpec] = field(default_factory=dict)
    check_reduction_keys: dict[str, tuple] = field(default_factory=dict)
    reductions: dict[str, p.ReductionSpec] = field(default_factory=dict)
    clauses: dict[str, p.ClauseInfo] = field(default_factory=dict)
    control_maps: dict[str, list[str]] = field(default_factory=dict)
    control_requires: dict[str, list[str]] = field(default_factory=dict)
    graph: nx.DiGraph = field(default_factory=nx.DiGraph)
    order: list[str] = field(default_factory=list)

    def report(self, diagnostic: Diagnostic) -> None:
        self.diagnostics.append(diagnostic)

    @property
    def failed(self) -> bool:
        return any(d.is_error for d in self.diagnostics)


def _did_you_mean(value: str, choices) -> str | None:
    close = difflib.get_close_matches(value, list(choices), n=1)
    return f"did you mean `{close[0]}`?" if close else None


def _span_dict(span: Span | None) -> dict:
    return span.to_dict() if span else {}


def _source_slice(text: str, span: Span) -> str:
    lines = text.splitlines()
    if span.line == span.end_line:
        return lines[span.line - 1][span.column - 1 : span.end_column - 1]
    parts = [lines[span.line - 1][span.column - 1 :]]
    parts += lines[span.line : span.end_line - 1]
    parts.append(lines[span.end_line - 1][: span.end_column - 1])
    return " ".join(part.strip() for part in parts)


# Pass 1


def resolve_names(ctx: Context) -> None:
    """Give every control its qualified id `policy.control` and check its enumerated fields."""
    seen_policies: dict[str, Unit] = {}
    for unit in ctx.units:
        policy = unit.module.policy
        if policy.name.value in seen_policies:
            ctx.report(
                error(
                    "E107",
                    f"policy `{policy.name.value}` is also defined in `{seen_policies[policy.name.value].file}`",
                    policy.name.span,
                    "give each policy a unique name",
                )
            )
            continue
        seen_policies[policy.name.value] = unit
        for control in policy.controls:
            qualified = f"{policy.name.value}.{control.name.value}"
            if qualified in ctx.controls:
                first = ctx.controls[qualified][0].name.span
                ctx.report(
                    error(
                        "E101",
                        f"control `{qualified}` is defined twice",
                        control.name.span,
                        f"the first definition is at {first.file}:{first.line}:{first.column}; rename one of them",
                    )
                )
                continue
            ctx.controls[qualified] = (control, unit)
            _check_enum(ctx, control.severity, SEVERITIES, "severity", "E110")
            _check_enum(ctx, control.enforcement, ENFORCEMENTS, "enforcement", "E111")


def _check_enum(ctx: Context, name: ast.Name | None, allowed: tuple[str, ...], what: str, code: str) -> None:
    if name is None or name.value in allowed:
        return
    hint = _did_you_mean(name.value, allowed)
    choices = ", ".join(f"`{value}`" for value in allowed)
    ctx.report(
        error(code, f"unknown {what} `{name.value}`", name.span, f"{hint + ' ' if hint else ''}use one of {choices}")
    )


# Pass 2


def resolve_requires(ctx: Context) -> None:
    """Resolve `requires` entries to qualified control ids within the same policy."""
    for qualified, (control, unit) in ctx.controls.items():
        policy_name = unit.module.policy.name.value
        resolved: list[str] = []
        for name in control.requires:
            target = f"{policy_name}.{name.value}"
            if target not in ctx.controls:
                local = [key.split(".", 1)[1] for key in ctx.controls if key.startswith(policy_name + ".")]
                ctx.report(
                    error(
                        "E102",
                        f"control `{qualified}` requires `{name.value}`, which is not a control of policy `{policy_name}`",
                        name.span,
                        _did_you_mean(name.value, local) or "check the control name",
                    )
                )
                continue
            if target == qualified:
                ctx.report(error("E103", f"control `{qualified}` requires itself", name.span, "remove it from `requires`"))
                continue
            resolved.append(target)
        ctx.control_requires[qualified] = resolved


# Pass 3


def type_check(ctx: Context) -> None:
    """Check each check body: a known metric, its arguments, and a numeric threshold."""
    for qualified, (control, unit) in ctx.controls.items():
        check_ids: list[str] = []
        seen_names: set[str] = set()
        for index, check in enumerate(control.checks, start=1):
            local_name = check.name.value if check.name else str(index)
            if local_name in seen_names:
                ctx.report(
                    error("E104", f"check `{local_name}` is defined twice in control `{qualified}`", check.name.span)
                )
                continue
            seen_names.add(local_name)
            check_id = f"{qualified}.{local_name}"
            spec = _check_spec(ctx, check, check_id, qualified, unit)
            if spec is not None:
                ctx.check_specs[check_id] = spec
                check_ids.append(check_id)
        ctx.control_maps.setdefault(qualified, [])
        ctx.control_specs[qualified] = p.ControlSpec(
            id=qualified,
            policy=unit.module.policy.name.value,
            title=control.title.value if control.title else None,
            description=control.description.value if control.description else None,
            owner=control.owner.value if control.owner else None,
            severity=control.severity.value if control.severity else DEFAULT_SEVERITY,
            enforcement=control.enforcement.value if control.enforcement else DEFAULT_ENFORCEMENT,
            maps=(),
            requires=tuple(ctx.control_requires.get(qualified, [])),
            remediation=control.remediation.value if control.remediation else None,
            checks=tuple(check_ids),
            span=_span_dict(control.name.span),
        )


def _check_spec(ctx: Context, check: ast.Check, check_id: str, control_id: str, unit: Unit) -> p.CheckSpec | None:
    body = check.body
    if not isinstance(body, ast.Comparison):
        ctx.report(error("E311", "a check must compare a metric with a number", body.span))
        return None
    if isinstance(body.left, ast.Call) and isinstance(body.right, ast.NumberLit):
        call, number, operator = body.left, body.right, body.operator
    elif isinstance(body.left, ast.NumberLit) and isinstance(body.right, ast.Call):
        call, number, operator = body.right, body.left, _MIRRORED[body.operator]
    else:
        ctx.report(
            error(
                "E311",
                "a check must compare one metric call with one number",
                body.span,
                'for example `demographic_parity_difference(by = "race") <= 0.1`',
            )
        )
        return None

    declaration = registry.get_metric(call.function.value)
    if declaration is None:
        ctx.report(
            error(
                "E301",
                f"unknown metric `{call.function.value}`",
                call.function.span,
                _did_you_mean(call.function.value, registry.REGISTRY) or "run `govdsl metrics` to list the metrics",
            )
        )
        return None

    arguments = _check_arguments(ctx, call, declaration)
    if arguments is None:
        return None

    low, high = declaration.value_range
    if not low <= number.value <= high:
        ctx.report(
            warning(
                "W305",
                f"threshold {number.text} is outside the range of `{declaration.name}` [{low:g}, {high:g}]",
                number.span,
                "such a check always passes or always fails; check the threshold",
            )
        )
    if operator in ("==", "!="):
        ctx.report(
            warning(
                "W312",
                f"`{operator}` compares a measured rate exactly",
                body.span,
                "use `<=` or `>=` with a threshold instead",
            )
        )

    features = tuple(arguments.get("by", ()))
    ctx.check_reduction_keys[check_id] = (declaration.reduction, arguments.get("dataset"), features)
    return p.CheckSpec(
        id=check_id,
        control=control_id,
        metric=declaration.name,
        arguments=arguments,
        operator=operator,
        threshold=number.value,
        reduction="",
        source=_source_slice(unit.text, body.span),
        span=_span_dict(check.span),
    )


def _check_arguments(ctx: Context, call: ast.Call, declaration: registry.MetricDeclaration) -> dict | None:
    """Return the call's arguments as plain values, or None after reporting what is wrong."""
    values: dict = {}
    ok = True
    for argument in call.arguments:
        name = argument.name.value
        parameter = declaration.parameter(name)
        if parameter is None:
            known = [param.name for param in declaration.parameters]
            help_text = _did_you_mean(name, known)
            if name == "by" and declaration.kind == "overall":
                alternatives = " or ".join(f"`{m}`" for m in registry.group_comparisons(declaration.name))
                help_text = (
                    f"`{declaration.name}` is one value for the whole dataset; to compare groups use {alternatives}"
                )
            elif help_text is None:
                help_text = f"`{declaration.name}` takes: {', '.join(known) or 'no arguments'}"
            ctx.report(error("E302", f"`{declaration.name}` has no parameter `{name}`", argument.name.span, help_text))
            ok = False
            continue
        if name in values:
            ctx.report(error("E306", f"argument `{name}` is given twice", argument.name.span))
            ok = False
            continue
        value = _argument_value(ctx, argument, parameter)
        if value is None:
            ok = False
            continue
        values[name] = value
    for parameter in declaration.parameters:
        if parameter.required and parameter.name not in values and ok:
            ctx.report(
                error(
                    "E303",
                    f"`{declaration.name}` needs the argument `{parameter.name}`",
                    call.span,
                    f'{parameter.doc} For example `{declaration.name}({parameter.name} = "race")`',
                )
            )
            ok = False
    return values if ok else None


def _argument_value(ctx: Context, argument: ast.Argument, parameter: registry.Parameter):
    value = argument.value
    if parameter.type == registry.STRING:
        if isinstance(value, ast.StringLit):
            return value.value
        ctx.report(error("E304", f"argument `{parameter.name}` must be a string", value.span))
        return None
    # FEATURES: a string or a non-empty list of distinct strings.
    if isinstance(value, ast.StringLit):
        return [value.value]
    if isinstance(value, ast.ListLit) and value.items and all(isinstance(i, ast.StringLit) for i in value.items):
        names = [item.value for item in value.items]
        if len(set(names)) != len(names):
            ctx.report(error("E304", f"argument `{parameter.name}` names a column twice", value.span))
            return None
        return names
    ctx.report(
        error(
            "E304",
            f"argument `{parameter.name}` must be a column name or a non-empty list of column names",
            value.span,
            'for example `by = "race"` or `by = ["race", "sex"]`',
        )
    )
    return None


# Pass 4


def resolve_clauses(ctx: Context) -> None:
    """Resolve every `maps` entry to a canonical clause reference of a loaded catalog.

    Also reports references into superseded catalogs, to deleted clauses, and to
    clauses whose obligations apply only after the evaluation date.
    """
    dated: set[str] = set()
    for qualified, (control, _unit) in ctx.controls.items():
        resolved: list[str] = []
        for literal in control.maps:
            try:
                clause = ctx.catalogs.resolve(literal.value)
            except ResolveError as exc:
                ctx.report(error(exc.code, exc.message, literal.span, exc.help))
                continue
            if clause.reference in resolved:
                ctx.report(warning("W204", f"clause `{clause.reference}` is mapped twice", literal.span))
                continue
            _report_clause_state(ctx, clause, literal, dated)
            resolved.append(clause.reference)
            ctx.clauses[clause.reference] = p.ClauseInfo(
                clause.reference, clause.label, clause.assessable, clause.applies_from
            )
        ctx.control_maps[qualified] = resolved
        spec = ctx.control_specs.get(qualified)
        if spec is not None:
            ctx.control_specs[qualified] = p.ControlSpec(**{**spec.__dict__, "maps": tuple(resolved)})


def _report_clause_state(ctx: Context, clause, literal: ast.StringLit, dated: set[str]) -> None:
    catalog = ctx.catalogs.catalogs[clause.catalog]
    if catalog.superseded_by:
        since = f" since {catalog.superseded_on}" if catalog.superseded_on else ""
        ctx.report(
            warning(
                "W206",
                f"`{clause.reference}` is from {catalog.prefix}, which is superseded by {catalog.superseded_by}{since}",
                literal.span,
                f"map the control to the matching clause of {catalog.superseded_by} as well, or instead",
            )
        )
    if clause.status == "deleted":
        replaced = f"; its content is now in {clause.replaced_by}" if clause.replaced_by else ""
        ctx.report(
            warning("W208", f"clause `{clause.reference}` was deleted by a later amendment{replaced}", literal.span)
        )
    if clause.applies_from and clause.applies_from > ctx.as_of.isoformat() and clause.reference not in dated:
        dated.add(clause.reference)
        ctx.report(
            info(
                "I207",
                f"obligations of `{clause.reference}` apply from {clause.applies_from}, after {ctx.as_of.isoformat()}",
                literal.span,
                "the control is evaluated as written; results before that date show readiness, not a legal duty",
            )
        )


# Pass 5


def deduplicate_reductions(ctx: Context) -> None:
    """Let every check over the same (reduction kind, dataset, feature set) read one shared reduction."""
    for check_id, (kind, dataset, features) in sorted(ctx.check_reduction_keys.items()):
        canonical = tuple(sorted(features))
        reduction_id = f"{kind}[{dataset or '@predictions'}:{'+'.join(canonical) or '*'}]"
        if reduction_id not in ctx.reductions:
            ctx.reductions[reduction_id] = p.ReductionSpec(reduction_id, kind, dataset, canonical)
        spec = ctx.check_specs[check_id]
        ctx.check_specs[check_id] = p.CheckSpec(**{**spec.__dict__, "reduction": reduction_id})


# Pass 6


def build_graph(ctx: Context) -> None:
    """Build the dependency graph: control -maps-> clause, control -has-> check, check -reads-> reduction."""
    graph = ctx.graph
    for reference in ctx.clauses:
        graph.add_node(p.node_id(p.CLAUSE, reference), kind=p.CLAUSE)
    for reduction_id in ctx.reductions:
        graph.add_node(p.node_id(p.REDUCTION, reduction_id), kind=p.REDUCTION)
    for control_id, spec in ctx.control_specs.items():
        control_node = p.node_id(p.CONTROL, control_id)
        graph.add_node(control_node, kind=p.CONTROL)
        for reference in spec.maps:
            graph.add_edge(control_node, p.node_id(p.CLAUSE, reference), kind=p.MAPS)
        for check_id in spec.checks:
            check_node = p.node_id(p.CHECK, check_id)
            graph.add_node(check_node, kind=p.CHECK)
            graph.add_edge(control_node, check_node, kind=p.HAS)
            graph.add_edge(check_node, p.node_id(p.REDUCTION, ctx.check_specs[check_id].reduction), kind=p.READS)
        for required in spec.requires:
            graph.add_edge(control_node, p.node_id(p.CONTROL, required), kind=p.REQUIRES)


# Pass 7


def detect_cycles(ctx: Context) -> None:
    """Report `requires` cycles, printing the cycle; otherwise fix the evaluation order."""
    requires_graph = nx.DiGraph(
        (source, target) for source, target, data in ctx.graph.edges(data=True) if data["kind"] == p.REQUIRES
    )
    for cycle in sorted(nx.simple_cycles(requires_graph), key=sorted):
        names = [node.split(":", 1)[1] for node in cycle]
        start = cycle.index(min(cycle))
        names = names[start:] + names[:start]
        control, _unit = ctx.controls[names[0]]
        ctx.report(
            error(
                "E103",
                f"controls require each other in a cycle: {' -> '.join(names + [names[0]])}",
                control.name.span,
                "remove one `requires` entry to break the cycle",
            )
        )
    if ctx.failed:
        return
    # Dependencies first: a reduction before the checks that read it, a required control before its dependants.
    evaluation_graph = ctx.graph.reverse(copy=True)
    evaluation_graph.remove_nodes_from([n for n, d in ctx.graph.nodes(data=True) if d["kind"] == p.CLAUSE])
    ctx.order = list(nx.lexicographical_topological_sort(evaluation_graph))


PASSES: tuple[tuple[str, Callable[[Context], None]], ...] = (
    ("resolve_names", resolve_names),
    ("resolve_requires", resolve_requires),
    ("type_check", type_check),
    ("resolve_clauses", resolve_clauses),
    ("deduplicate_reductions", deduplicate_reductions),
    ("build_graph", build_graph),
    ("detect_cycles", detect_cycles),
)
