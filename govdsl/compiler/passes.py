"""The compiler passes, in order: each reads the parsed modules and what earlier passes produced.

The order in PASSES is the contract: names resolve before parameters and types are
checked, clauses resolve before the graph is built, and cycles are detected on the graph.
"""

from __future__ import annotations

import datetime
import difflib
import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

from govdsl import resources
from govdsl.catalog.model import CatalogSet, ResolveError
from govdsl.compiler import expressions as ex
from govdsl.compiler import plan as p
from govdsl.compiler.modules import Unit
from govdsl.diagnostics import Diagnostic, Span, error, info, warning
from govdsl.errors import InternalError
from govdsl.syntax import ast

SEVERITIES = ("low", "medium", "high", "critical")
ENFORCEMENTS = ("advisory", "soft", "hard")
DEFAULT_SEVERITY = "medium"
DEFAULT_ENFORCEMENT = "soft"


@dataclass
class PolicyEntry:
    policy: ast.Policy
    unit: Unit


@dataclass
class Context:
    units: list[Unit]
    catalogs: CatalogSet
    as_of: datetime.date
    diagnostics: list[Diagnostic] = field(default_factory=list)
    policies: dict[str, PolicyEntry] = field(default_factory=dict)
    visible: dict[str, dict[str, str]] = field(default_factory=dict)  # file -> usable name -> policy name
    controls: dict[str, tuple[ast.Control, Unit]] = field(default_factory=dict)
    params: dict[str, p.ParamSpec] = field(default_factory=dict)
    param_types: dict[str, dict[str, str]] = field(default_factory=dict)  # policy -> param -> type
    control_specs: dict[str, p.ControlSpec] = field(default_factory=dict)
    check_specs: dict[str, p.CheckSpec] = field(default_factory=dict)
    reductions: dict[str, p.ReductionSpec] = field(default_factory=dict)
    clauses: dict[str, p.ClauseInfo] = field(default_factory=dict)
    control_requires: dict[str, list[str]] = field(default_factory=dict)
    # The dependency graph: node id -> node kind, and (source, target) -> edge kind, in insertion order.
    nodes: dict[str, str] = field(default_factory=dict)
    edges: dict[tuple[str, str], str] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    policy_infos: list[p.PolicyInfo] = field(default_factory=list)

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


# Pass 1


def resolve_names(ctx: Context) -> None:
    """Register policies and controls under qualified ids, and the policy names each file can use."""
    for unit in ctx.units:
        for policy in unit.module.policies:
            name = policy.name.value
            if name in ctx.policies:
                first = ctx.policies[name].unit.file
                ctx.report(error("E107", f"policy `{name}` is also defined in `{first}`", policy.name.span, "give each policy a unique name"))
                continue
            ctx.policies[name] = PolicyEntry(policy, unit)
            for control in policy.controls:
                _register_control(ctx, policy, control, unit)

    by_file = {unit.file: unit for unit in ctx.units}
    for unit in ctx.units:
        visible = {policy.name.value: policy.name.value for policy in unit.module.policies}
        for declaration, target in unit.imports:
            imported = by_file.get(target)
            if imported is None:
                continue
            names = [policy.name.value for policy in imported.module.policies]
            if declaration.alias is not None:
                if len(names) != 1:
                    ctx.report(
                        error("E121", f"`{target}` defines {len(names)} policies, so an alias cannot name one", declaration.alias.span,
                              "import it without `as` and use the policies' own names")
                    )
                    continue
                visible[declaration.alias.value] = names[0]
            else:
                visible.update({n: n for n in names})
        ctx.visible[unit.file] = visible


def _register_control(ctx: Context, policy: ast.Policy, control: ast.Control, unit: Unit) -> None:
    qualified = f"{policy.name.value}.{control.name.value}"
    if qualified in ctx.controls:
        first = ctx.controls[qualified][0].name.span
        ctx.report(
            error("E101", f"control `{qualified}` is defined twice", control.name.span,
                  f"the first definition is at {first.file}:{first.line}:{first.column}; rename one of them")
        )
        return
    ctx.controls[qualified] = (control, unit)
    _check_enum(ctx, control.severity, SEVERITIES, "severity", "E110")
    _check_enum(ctx, control.enforcement, ENFORCEMENTS, "enforcement", "E111")


def _check_enum(ctx: Context, name: ast.Name | None, allowed: tuple[str, ...], what: str, code: str) -> None:
    if name is None or name.value in allowed:
        return
    hint = _did_you_mean(name.value, allowed)
    choices = ", ".join(f"`{value}`" for value in allowed)
    ctx.report(error(code, f"unknown {what} `{name.value}`", name.span, f"{hint + ' ' if hint else ''}use one of {choices}"))


# Pass 2


def _risk_tiers() -> list[str]:
    return resources.load_package_schema("bundle.schema.json")["properties"]["model"]["properties"]["risk_tier"]["enum"]


def resolve_params(ctx: Context) -> None:
    """Check each parameter's type, default and per-tier values; they are bound at evaluation time."""
    for name, entry in ctx.policies.items():
        types: dict[str, str] = {}
        for param in entry.policy.params:
            type_name = param.type.text
            if type_name not in ex.PARAM_TYPES:
                ctx.report(
                    error("E341", f"unknown parameter type `{type_name}`", param.type.span,
                          f"{_did_you_mean(type_name, ex.PARAM_TYPES) or ''} types: {', '.join(ex.PARAM_TYPES)}".strip())
                )
                type_name = ex.ANY
            if param.name.value in types:
                ctx.report(error("E105", f"parameter `{param.name.value}` is declared twice in policy `{name}`", param.name.span))
                continue
            types[param.name.value] = type_name
        ctx.param_types[name] = types

    tiers = _risk_tiers()
    for name, entry in ctx.policies.items():
        for param in entry.policy.params:
            type_name = ctx.param_types[name].get(param.name.value, ex.ANY)
            default = _param_value(ctx, entry, param.default, type_name, param) if param.default else None
            overrides = {}
            for override in param.tiers:
                if override.tier.value in overrides:
                    ctx.report(error("E105", f"tier `{override.tier.value}` is given twice for parameter `{param.name.value}`", override.tier.span))
                    continue
                if override.tier.value not in tiers:
                    ctx.report(
                        error("E342", f"unknown risk tier `{override.tier.value}`", override.tier.span,
                              f"{_did_you_mean(override.tier.value, tiers) or ''} tiers: {', '.join(tiers)}".strip())
                    )
                    continue
                overrides[override.tier.value] = _param_value(ctx, entry, override.value, type_name, param)
            if param.default is None and not overrides:
                ctx.report(
                    warning("W343", f"parameter `{param.name.value}` has no default", param.name.span,
                            "give a default, or every run must set it with --param or a parameters file")
                )
            ctx.params[f"{name}.{param.name.value}"] = p.ParamSpec(
                f"{name}.{param.name.value}", type_name, default, param.doc.value if param.doc else None, overrides
            )


def _scope(ctx: Context, entry: PolicyEntry, context: str, reduction_key=None) -> ex.Scope:
    name = entry.policy.name.value
    return ex.Scope(
        policy=name,
        params=ctx.param_types.get(name, {}),
        policies=ctx.visible.get(entry.unit.file, {}),
        policy_params=ctx.param_types,
        context=context,
        report=ctx.report,
        reduction_key=reduction_key,
        source=entry.unit.text,
    )


def _param_value(ctx: Context, entry: PolicyEntry, expr: ast.Expr, type_name: str, param: ast.Param) -> dict:
    value_type, plan = ex.check(expr, _scope(ctx, entry, "param"))
    if type_name != ex.ANY and value_type not in (type_name, ex.ANY) and not (
        type_name.startswith("list[") and value_type == "list[any]"
    ):
        ctx.report(error("E340", f"parameter `{param.name.value}` is a `{type_name}`, but this value is a `{value_type}`", expr.span))
    return plan


# Pass 3


def resolve_requires(ctx: Context) -> None:
    """Resolve `requires` entries: `name` in the same policy, or `policy.name` for a visible policy."""
    for qualified, (control, unit) in ctx.controls.items():
        policy_name = qualified.split(".", 1)[0]
        visible = ctx.visible.get(unit.file, {})
        resolved: list[str] = []
        for name in control.requires:
            if len(name.parts) == 1:
                target = f"{policy_name}.{name.parts[0]}"
            elif len(name.parts) == 2 and name.parts[0] in visible:
                target = f"{visible[name.parts[0]]}.{name.parts[1]}"
            else:
                ctx.report(
                    error("E102", f"`{name.text}` does not name a control", name.span,
                          f"write `control` for this policy or `policy.control`; policies here: {', '.join(sorted(visible))}")
                )
                continue
            if target not in ctx.controls:
                candidates = [key.split(".", 1)[1] if key.startswith(policy_name + ".") else key for key in ctx.controls]
                ctx.report(
                    error("E102", f"control `{qualified}` requires `{name.text}`, which is not a control", name.span,
                          _did_you_mean(name.text, candidates) or "check the control name")
                )
                continue
            if target == qualified:
                ctx.report(error("E103", f"control `{qualified}` requires itself", name.span, "remove it from `requires`"))
                continue
            resolved.append(target)
        ctx.control_requires[qualified] = resolved


# Pass 4


def type_check(ctx: Context) -> None:
    """Type-check applicability conditions, check bodies and requirements, and build their plan forms."""
    reduction_key = _reduction_key(ctx)
    for name, entry in ctx.policies.items():
        policy = entry.policy
        applies = _condition(ctx, entry, policy.applies)
        ctx.policy_infos.append(
            p.PolicyInfo(
                name,
                policy.version.value if policy.version else None,
                entry.unit.file,
                entry.unit.sha256,
                policy.description.value if policy.description else None,
                applies,
                ex.source_of(entry.unit.text, policy.applies.span) if policy.applies else None,
            )
        )
        default_waivers = tuple(s.value for s in policy.waivable_by)
        # ex.check never changes a Scope (a quantifier makes a new one), so the checks of a policy share one.
        check_scope = _scope(ctx, entry, "check", reduction_key)
        for control in policy.controls:
            qualified = f"{name}.{control.name.value}"
            if ctx.controls.get(qualified, (None,))[0] is not control:
                continue
            check_ids = _control_checks(ctx, entry, control, qualified, check_scope)
            ctx.control_specs[qualified] = p.ControlSpec(
                id=qualified,
                policy=name,
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
                waivable_by=tuple(s.value for s in control.waivable_by) if control.waivable_by is not None else default_waivers,
                tags=tuple(s.value for s in control.tags),
                references=tuple(s.value for s in control.references),
                applies=_condition(ctx, entry, control.applies),
                applies_source=ex.source_of(entry.unit.text, control.applies.span) if control.applies else None,
            )


def _condition(ctx: Context, entry: PolicyEntry, expr: ast.Expr | None) -> dict | None:
    if expr is None:
        return None
    type_name, plan = ex.check(expr, _scope(ctx, entry, "applies"))
    if type_name not in (ex.BOOL, ex.ANY):
        ctx.report(error("E334", f"`applies when` needs a condition, not a `{type_name}`", expr.span))
    return plan


def _frozen(value):
    return tuple(value) if isinstance(value, list) else value


def _shown(value) -> str:
    return "+".join(map(str, value)) if isinstance(value, tuple) else str(value)


def _reduction_key(ctx: Context):
    def key(declaration, arguments: dict) -> str:
        features = tuple(sorted(arguments.get("by", ())))
        dataset = arguments.get("dataset")
        options = tuple(
            (name, _frozen(arguments[name])) for name in sorted(declaration.reduction_arguments) if name in arguments
        )
        where = dataset or "+".join(f"@{role}" for role in declaration.roles)
        reduction_id = f"{declaration.reduction}[{where}:{'+'.join(features) or '*'}]"
        if options:
            reduction_id = reduction_id[:-1] + "|" + ",".join(f"{name}={_shown(value)}" for name, value in options) + "]"
        if reduction_id not in ctx.reductions:
            ctx.reductions[reduction_id] = p.ReductionSpec(
                reduction_id, declaration.reduction, dataset, features, declaration.roles, options
            )
        return reduction_id

    return key


def _control_checks(ctx: Context, entry: PolicyEntry, control: ast.Control, qualified: str, scope: ex.Scope) -> list[str]:
    check_ids: list[str] = []
    seen: set[str] = set()
    for index, item in enumerate(control.checks, start=1):
        local = item.name.value if item.name else str(index)
        if local in seen:
            ctx.report(error("E104", f"check `{local}` is defined twice in control `{qualified}`", item.name.span if item.name else item.span))
            continue
        seen.add(local)
        check_id = f"{qualified}.{local}"
        if isinstance(item, ast.Check):
            source = ex.source_of(entry.unit.text, item.body.span)
            type_name, plan = ex.check(item.body, scope)
            if type_name not in (ex.BOOL, ex.ANY):
                hint = ex._groups_hint(type_name) or 'compare it with a threshold, for example `... <= 0.1`'
                ctx.report(error("E334", f"a check must be a condition, not a `{type_name}`", item.body.span, hint))
            spec = p.CheckSpec(check_id, qualified, "check", source, _span_dict(item.span), expression=plan,
                               reductions=tuple(sorted(_reductions_in(plan))))
        else:
            source = ex.source_of(entry.unit.text, item.span)
            within = None
            if item.within is not None:
                within_type, within = ex.check(item.within, _scope(ctx, entry, "within"))
                if within_type not in (ex.DURATION, ex.ANY):
                    ctx.report(error("E334", f"`within` needs a duration such as `90d`, not a `{within_type}`", item.within.span))
            requirement = {"kind": item.kind, "subject": item.subject.value, "within": within}
            spec = p.CheckSpec(check_id, qualified, "require", source, _span_dict(item.span), requirement=requirement)
        ctx.check_specs[check_id] = spec
        check_ids.append(check_id)
    return check_ids


def _reductions_in(plan) -> set[str]:
    """Return the ids of the reductions that the metric calls in a plan expression read."""
    found: set[str] = set()
    # Plan expressions are plain dicts and lists. Only those go on the stack, because the
    # strings and numbers that make up most of an expression hold no reduction.
    pending = [plan]
    while pending:
        value = pending.pop()
        if type(value) is dict:
            if value.get("kind") == "metric" and "reduction" in value:
                found.add(value["reduction"])
            value = value.values()
        for item in value:
            kind = type(item)
            if kind is dict or kind is list:
                pending.append(item)
    return found


# Pass 5


def resolve_clauses(ctx: Context) -> None:
    """Resolve every `maps` entry to a canonical clause reference of a loaded catalog.

    Also reports references into superseded catalogs, to deleted clauses, and to
    clauses whose obligations apply only after the evaluation date.
    """
    dated: set[str] = set()
    as_of = ctx.as_of.isoformat()
    # Many controls map to the same few clauses, so each reference text is resolved once.
    lookups: dict[str, object] = {}
    positions: dict[str, dict[str, int]] = {}
    for qualified, (control, _unit) in ctx.controls.items():
        resolved: list[str] = []
        for literal in control.maps:
            clause = lookups.get(literal.value)
            if clause is None:
                try:
                    clause = ctx.catalogs.resolve(literal.value)
                except ResolveError as exc:
                    clause = exc
                lookups[literal.value] = clause
            if isinstance(clause, ResolveError):
                ctx.report(error(clause.code, clause.message, literal.span, clause.help))
                continue
            if clause.reference in resolved:
                ctx.report(warning("W204", f"clause `{clause.reference}` is mapped twice", literal.span))
                continue
            _report_clause_state(ctx, clause, literal, dated, control, as_of)
            resolved.append(clause.reference)
            if clause.reference in ctx.clauses:
                continue
            catalog = ctx.catalogs.catalogs[clause.catalog]
            if clause.catalog not in positions:
                positions[clause.catalog] = {clause_id: index for index, clause_id in enumerate(catalog.clauses)}
            ctx.clauses[clause.reference] = p.ClauseInfo(
                clause.reference,
                clause.label,
                clause.assessable,
                clause.applies_from,
                clause.status,
                catalog.superseded_by if _superseded(catalog, as_of) else None,
                positions[clause.catalog][clause.id],
            )
        spec = ctx.control_specs.get(qualified)
        if spec is not None:
            ctx.control_specs[qualified] = p.ControlSpec(**{**spec.__dict__, "maps": tuple(resolved)})


def _superseded(catalog, as_of: str) -> bool:
    """Return whether `catalog` is superseded on the ISO date `as_of`."""
    if not catalog.superseded_by:
        return False
    return catalog.superseded_on is None or catalog.superseded_on <= as_of


def _report_clause_state(
    ctx: Context, clause, literal: ast.StringLit, dated: set[str], control: ast.Control, as_of: str
) -> None:
    catalog = ctx.catalogs.catalogs[clause.catalog]
    maps_successor = any(m.value.strip().upper().startswith(f"{catalog.superseded_by}:") for m in control.maps) if catalog.superseded_by else False
    if _superseded(catalog, as_of) and not maps_successor:
        since = f" since {catalog.superseded_on}" if catalog.superseded_on else ""
        ctx.report(
            warning("W206", f"`{clause.reference}` is from {catalog.prefix}, which is superseded by {catalog.superseded_by}{since}",
                    literal.span, f"map the control to the matching clause of {catalog.superseded_by} as well, or instead")
        )
    if clause.status == "deleted":
        replaced = f"; its content is now in {clause.replaced_by}" if clause.replaced_by else ""
        ctx.report(warning("W208", f"clause `{clause.reference}` was deleted by a later amendment{replaced}", literal.span))
        return
    if clause.applies_from and clause.applies_from > as_of and clause.reference not in dated:
        dated.add(clause.reference)
        ctx.report(
            info("I207", f"obligations of `{clause.reference}` apply from {clause.applies_from}, after {as_of}",
                 literal.span, "the control is evaluated as written; results before that date show readiness, not a legal duty")
        )


# Pass 6


def build_graph(ctx: Context) -> None:
    """Build the dependency graph: control -maps-> clause, control -has-> check, check -reads-> reduction."""
    nodes, edges = ctx.nodes, ctx.edges
    for reference in ctx.clauses:
        nodes[p.node_id(p.CLAUSE, reference)] = p.CLAUSE
    for reduction_id in ctx.reductions:
        nodes[p.node_id(p.REDUCTION, reduction_id)] = p.REDUCTION
    for control_id, spec in ctx.control_specs.items():
        control_node = p.node_id(p.CONTROL, control_id)
        nodes[control_node] = p.CONTROL
        for reference in spec.maps:
            edges[control_node, p.node_id(p.CLAUSE, reference)] = p.MAPS
        for check_id in spec.checks:
            check_node = p.node_id(p.CHECK, check_id)
            nodes[check_node] = p.CHECK
            edges[control_node, check_node] = p.HAS
            for reduction_id in ctx.check_specs[check_id].reductions:
                edges[check_node, p.node_id(p.REDUCTION, reduction_id)] = p.READS
        for required in spec.requires:
            # An edge to a control defined later adds its node here, where networkx's add_edge would.
            required_node = p.node_id(p.CONTROL, required)
            nodes.setdefault(required_node, p.CONTROL)
            edges[control_node, required_node] = p.REQUIRES


# Pass 7


def detect_cycles(ctx: Context) -> None:
    """Report `requires` cycles, printing the cycle; otherwise fix the evaluation order."""
    for cycle in _requires_cycles(ctx):
        names = [node.split(":", 1)[1] for node in cycle]
        start = names.index(min(names))
        names = names[start:] + names[:start]
        control, _unit = ctx.controls[names[0]]
        ctx.report(
            error("E103", f"controls require each other in a cycle: {' -> '.join(names + [names[0]])}",
                  control.name.span, "remove one `requires` entry to break the cycle")
        )
    if ctx.failed:
        return
    ctx.order = _evaluation_order(ctx.nodes, ctx.edges)


def _requires_cycles(ctx: Context) -> list[list[str]]:
    """Return the cycles of `requires` edges, sorted by their sorted node lists."""
    targets: dict[str, list[str]] = {}
    for (source, target), kind in ctx.edges.items():
        if kind == p.REQUIRES:
            targets.setdefault(source, []).append(target)
    if not targets or not _has_cycle(targets):
        return []
    # networkx takes about 0.1 to 0.4 s to import, so only policies with a cycle to report load it. The edges
    # go in node order, as iterating a networkx graph's edges gives them, which decides the
    # order of cycles whose sorted node lists are equal.
    import networkx as nx

    requires_graph = nx.DiGraph((source, target) for source in ctx.nodes for target in targets.get(source, ()))
    return sorted(nx.simple_cycles(requires_graph), key=sorted)


def _has_cycle(targets: dict[str, list[str]]) -> bool:
    """Return whether the graph given as each node's successors has a cycle (Kahn's algorithm)."""
    waiting: dict[str, int] = dict.fromkeys(targets, 0)
    for successors in targets.values():
        for target in successors:
            waiting[target] = waiting.get(target, 0) + 1
    ready = [node for node, count in waiting.items() if count == 0]
    removed = 0
    while ready:
        node = ready.pop()
        removed += 1
        for target in targets.get(node, ()):
            waiting[target] -= 1
            if waiting[target] == 0:
                ready.append(target)
    return removed != len(waiting)


def _evaluation_order(nodes: dict[str, str], edges: dict[tuple[str, str], str]) -> list[str]:
    """Return every node but the clauses, dependencies first, and among nodes ready at once the smallest id.

    A reduction comes before the checks that read it, a check before its control, and a
    required control before its dependants. Choosing the smallest ready id makes the
    order unique: it is the order networkx's lexicographical_topological_sort gives for
    the reversed graph without clauses, computed without copying the graph.
    """
    kept = {node for node, kind in nodes.items() if kind != p.CLAUSE}
    waiting = dict.fromkeys(kept, 0)  # per node, its dependencies not yet in the order
    dependants: dict[str, list[str]] = {}
    for source, target in edges:
        if source in kept and target in kept:
            waiting[source] += 1
            dependants.setdefault(target, []).append(source)
    ready = [node for node, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        node = heapq.heappop(ready)
        order.append(node)
        for dependant in dependants.get(node, ()):
            waiting[dependant] -= 1
            if waiting[dependant] == 0:
                heapq.heappush(ready, dependant)
    if len(order) != len(kept):
        raise InternalError("the dependency graph has a cycle that detect_cycles did not report")
    return order


PASSES: tuple[tuple[str, Callable[[Context], None]], ...] = (
    ("resolve_names", resolve_names),
    ("resolve_params", resolve_params),
    ("resolve_requires", resolve_requires),
    ("type_check", type_check),
    ("resolve_clauses", resolve_clauses),
    ("build_graph", build_graph),
    ("detect_cycles", detect_cycles),
)
