"""Parsed policy files to a Plan: runs the ordered compiler passes and collects their diagnostics.

The passes, the catalogs and the AST classes load when a function first needs them,
so govdsl.compiler.plan_cache can serve a repeated compile without importing them.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from govdsl.compiler.modules import SHIPPED_PREFIX, Unit, load_units
from govdsl.diagnostics import Diagnostic, has_errors
from govdsl.errors import InvalidInputError

if TYPE_CHECKING:
    from govdsl.catalog import CatalogSet
    from govdsl.compiler.plan import Plan

log = logging.getLogger("govdsl")

__all__ = ["SHIPPED_PREFIX", "Unit", "compile_policies", "compile_units", "load_units"]


def compile_units(
    units: Sequence[Unit], catalogs: CatalogSet, as_of: datetime.date | None = None
) -> tuple[Plan, list[Diagnostic]]:
    """Run every pass; return the plan and the warnings, or raise InvalidInputError with all errors.

    `as_of` (default: today, UTC) decides which clauses still lie in the future.
    """
    from govdsl.compiler.passes import PASSES, Context
    from govdsl.compiler.plan import Plan

    as_of = as_of or datetime.datetime.now(datetime.timezone.utc).date()
    ctx = Context(list(units), catalogs, as_of)
    for name, run in PASSES:
        run(ctx)
        log.debug("pass %s: %d diagnostics so far", name, len(ctx.diagnostics))
        if name == "resolve_clauses" and ctx.failed:
            break  # the graph needs every name, check and clause resolved
    sources = {unit.file: unit.text for unit in units}
    if has_errors(ctx.diagnostics):
        raise InvalidInputError(ctx.diagnostics, sources)
    log.info(
        "compiled %d policies: %d controls, %d checks, %d shared reductions",
        len(ctx.policies), len(ctx.control_specs), len(ctx.check_specs), len(ctx.reductions),
    )
    plan = Plan(
        policies=ctx.policy_infos,
        controls=ctx.control_specs,
        checks=ctx.check_specs,
        reductions=ctx.reductions,
        clauses=ctx.clauses,
        nodes=ctx.nodes,
        edges=ctx.edges,
        order=ctx.order,
        params=ctx.params,
        sources=sources,
    )
    return plan, ctx.diagnostics


def compile_policies(
    arguments: Sequence[str], catalogs: CatalogSet | None = None, as_of: datetime.date | None = None
) -> tuple[Plan, list[Diagnostic]]:
    """Parse and compile policy files and their imports; collect the errors of every file before raising."""
    from govdsl.catalog import load_catalogs
    from govdsl.syntax.cache import collector_paused

    # The ASTs and the plan are large trees without reference cycles, which every full
    # collection would scan again for nothing.
    with collector_paused():
        units = load_units(list(arguments))
        return compile_units(units, catalogs or load_catalogs(), as_of)
