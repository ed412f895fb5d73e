"""Checked ASTs to a Plan: runs the ordered compiler passes and collects their diagnostics."""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from pathlib import Path, PurePath

from govdsl import resources
from govdsl.catalog import CatalogSet, load_catalogs
from govdsl.compiler.passes import PASSES, Context, Unit
from govdsl.compiler.plan import Plan, PolicyInfo
from govdsl.diagnostics import Diagnostic, error, has_errors
from govdsl.errors import InvalidInputError
from govdsl.syntax.parser import parse

log = logging.getLogger("govdsl")

# A policy argument that starts with this prefix names a policy shipped with govdsl.
SHIPPED_PREFIX = "govdsl:"


def compile_units(
    units: Sequence[Unit], catalogs: CatalogSet, as_of: datetime.date | None = None
) -> tuple[Plan, list[Diagnostic]]:
    """Run every pass; return the plan and the warnings, or raise InvalidInputError with all errors.

    `as_of` (default: today, UTC) decides which clauses still lie in the future.
    """
    as_of = as_of or datetime.datetime.now(datetime.timezone.utc).date()
    ctx = Context(list(units), catalogs, as_of)
    for name, run in PASSES:
        run(ctx)
        log.debug("pass %s: %d diagnostics so far", name, len(ctx.diagnostics))
        if name == "deduplicate_reductions" and ctx.failed:
            break  # the graph needs every name, check and clause resolved
    sources = {unit.file: unit.text for unit in units}
    if has_errors(ctx.diagnostics):
        raise InvalidInputError(ctx.diagnostics, sources)
    log.info(
        "compiled %d policies: %d controls, %d checks, %d shared reductions",
        len(units),
        len(ctx.control_specs),
        len(ctx.check_specs),
        len(ctx.reductions),
    )
    policies = [
        PolicyInfo(
            unit.module.policy.name.value,
            unit.module.policy.version.value if unit.module.policy.version else None,
            unit.file,
            unit.sha256,
        )
        for unit in units
    ]
    plan = Plan(
        policies=policies,
        controls=ctx.control_specs,
        checks=ctx.check_specs,
        reductions=ctx.reductions,
        clauses=ctx.clauses,
        graph=ctx.graph,
        order=ctx.order,
        sources=sources,
    )
    return plan, ctx.diagnostics


def read_policy(argument: str) -> Unit:
    """Read and parse one policy given on the command line, a path or `govdsl:NAME` for a shipped one."""
    if argument.startswith(SHIPPED_PREFIX):
        relative = argument[len(SHIPPED_PREFIX) :]
        path = resources.data_path("policies") / relative
        display = argument
    else:
        path = Path(argument)
        display = PurePath(argument).as_posix()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        help_text = "check the path"
        if argument.startswith(SHIPPED_PREFIX):
            shipped = sorted(
                p.relative_to(resources.data_path("policies")).as_posix()
                for p in resources.data_path("policies").rglob("*.gov")
            )
            help_text = f"shipped policies: {', '.join(SHIPPED_PREFIX + s for s in shipped)}"
        raise InvalidInputError([error("E501", f"policy file `{display}` not found", help=help_text)]) from None
    except IsADirectoryError:
        raise InvalidInputError([error("E502", f"`{display}` is a directory, not a policy file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(
            [error("E502", f"cannot read policy file `{display}`: {exc}", help="policy files are UTF-8 text")]
        ) from None
    return Unit(parse(text, display), text, display)


def compile_policies(
    arguments: Sequence[str], catalogs: CatalogSet | None = None, as_of: datetime.date | None = None
) -> tuple[Plan, list[Diagnostic]]:
    """Parse and compile policy files; collect the errors of every file before raising."""
    units: list[Unit] = []
    diagnostics: list[Diagnostic] = []
    sources: dict[str, str] = {}
    for argument in arguments:
        try:
            units.append(read_policy(argument))
        except InvalidInputError as exc:
            diagnostics.extend(exc.diagnostics)
            sources.update(exc.sources)
    if diagnostics:
        raise InvalidInputError(diagnostics, sources)
    return compile_units(units, catalogs or load_catalogs(), as_of)
