"""The `govdsl` command line: click commands that wire the layers together, with no logic of their own.

Exit codes: 0 success (gate passed), 1 a finding (gate blocked), 2 invalid input or usage.
`compile` and `--help` import no pandas, numpy or fairlearn; `check` loads them when it runs.
"""

from __future__ import annotations

import datetime
import logging
import os
import sys
from collections.abc import Callable
from functools import wraps

import click

from govdsl import __version__
from govdsl.diagnostics import Diagnostic, Severity, error, render_all
from govdsl.errors import GovdslError, InvalidInputError

log = logging.getLogger("govdsl")

EXIT_OK, EXIT_FINDING, EXIT_INVALID = 0, 1, 2

# The output formats of `check`; govdsl.report.formats has their renderers. Listed here so --help imports no renderer.
CHECK_FORMATS = ("text", "json", "junit", "markdown", "csv", "html", "oscal")


def _configure_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING
    if quiet:
        level = logging.ERROR
    elif verbose >= 2:
        level = logging.DEBUG
    elif verbose == 1:
        level = logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("govdsl: %(levelname)s: %(message)s"))
    logger = logging.getLogger("govdsl")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


def _print_diagnostics(
    diagnostics: list[Diagnostic], sources: dict[str, str] | None = None, show_info: bool = True
) -> None:
    """Print diagnostics to stderr: `-q` keeps errors only, and `show_info=False` drops info notes."""
    settings = click.get_current_context().find_root().obj or {}
    shown = [
        d
        for d in diagnostics
        if d.is_error
        or (not settings.get("quiet") and (d.severity is not Severity.INFO or show_info or settings.get("verbose")))
    ]
    if shown:
        click.echo(render_all(shown, sources), err=True)


def _reports_errors(command: Callable) -> Callable:
    """Turn govdsl errors into rendered diagnostics and exit code 2, never a traceback."""

    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except InvalidInputError as exc:
            _print_diagnostics(exc.diagnostics, exc.sources, show_info=False)
            count = sum(1 for d in exc.diagnostics if d.is_error)
            summary = f"govdsl: {count} error{'s' if count != 1 else ''}"
            if click.get_current_context().info_name == "check":
                summary += "; nothing was evaluated"
            click.echo(summary, err=True)
            sys.exit(EXIT_INVALID)
        except GovdslError as exc:
            click.echo(f"govdsl: error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except (KeyboardInterrupt, SystemExit, click.exceptions.Exit, click.ClickException):
            raise
        except Exception as exc:  # a bug in govdsl: report it without a traceback unless -vv asks for one
            log.debug("internal error", exc_info=True)
            click.echo(
                f"govdsl: internal error: {type(exc).__name__}: {exc}; please report it, with the output of -vv",
                err=True,
            )
            sys.exit(3)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="govdsl")
@click.option("-v", "--verbose", count=True, help="Log progress and info notes to stderr; -vv adds debug output.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors to stderr: no warnings, notes or log lines.")
@click.pass_context
def main(context: click.Context, verbose: int, quiet: bool) -> None:
    """Compile AI governance policies and check model bundles against them."""
    context.obj = {"verbose": verbose, "quiet": quiet}
    _configure_logging(verbose, quiet)


@main.command("compile")
@click.argument("policies", nargs=-1, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write the plan to this file instead of stdout.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="DATE", help="Date (YYYY-MM-DD) that decides which obligations still lie in the future; default today (UTC).")
@_reports_errors
def compile_command(policies: tuple[str, ...], output: str | None, as_of: datetime.datetime | None) -> None:
    """Compile policies and print the plan as JSON.

    A POLICY is a file path, or govdsl:NAME for a policy shipped with govdsl
    (for example govdsl:examples/compas.gov). The plan lists controls, checks,
    the clauses each control maps to, shared reductions and the dependency graph;
    the same files always give byte-identical output.
    """
    from govdsl.compiler import compile_policies

    plan, warnings = compile_policies(policies, as_of=as_of.date() if as_of else None)
    _print_diagnostics(warnings, plan.sources)
    _write(plan.to_json(), output)


@main.command("fmt")
@click.argument("paths", nargs=-1, required=True)
@click.option("--check", "check_only", is_flag=True, help="Write nothing; exit 1 and print a diff when a file is not formatted.")
@_reports_errors
def fmt_command(paths: tuple[str, ...], check_only: bool) -> None:
    """Rewrite policy files in the canonical layout; comments are kept.

    A PATH is a .gov file, a folder (every .gov file below it), or - to format
    standard input to standard output.
    """
    import difflib
    from pathlib import Path

    from govdsl.syntax.formatter import format_source

    if paths == ("-",):
        click.echo(format_source(sys.stdin.read(), "<stdin>"), nl=False)
        return
    files: list[Path] = []
    for path in paths:
        candidate = Path(path)
        files.extend(sorted(candidate.rglob("*.gov")) if candidate.is_dir() else [candidate])
    problems: list[Diagnostic] = []
    sources: dict[str, str] = {}
    changed = 0
    for file in files:
        name = file.as_posix()
        try:
            text = file.read_text(encoding="utf-8")
            formatted = format_source(text, name)
        except InvalidInputError as exc:
            problems.extend(exc.diagnostics)
            sources.update(exc.sources)
            continue
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(error("E502", f"cannot read policy file `{name}`: {exc}", help="check the path"))
            continue
        if formatted == text:
            continue
        changed += 1
        if check_only:
            diff = difflib.unified_diff(text.splitlines(True), formatted.splitlines(True), f"{name} (original)", f"{name} (formatted)")
            click.echo("".join(diff), nl=False)
        else:
            file.write_text(formatted, encoding="utf-8", newline="\n")
            click.echo(f"reformatted {name}", err=True)
    if problems:
        raise InvalidInputError(problems, sources)
    verb = "would reformat" if check_only else "reformatted"
    click.echo(f"govdsl fmt: {len(files)} file(s), {changed} {verb}", err=True)
    sys.exit(EXIT_FINDING if check_only and changed else EXIT_OK)


@main.command("check")
@click.argument("policies", nargs=-1, required=True)
@click.option("--bundle", "bundle_dir", required=True, metavar="DIR", help="Model bundle directory (the folder with bundle.yaml).")
@click.option("--format", "output_format", type=click.Choice(CHECK_FORMATS), default="text", show_default=True, help="Format of the results on stdout (or in -o FILE).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write the results to this file instead of stdout.")
@click.option("--report", "reports", multiple=True, metavar="FMT=PATH", callback=lambda c, p, v: _report_targets(v, p), help=f"Also write the results as FMT to PATH, such as html=report.html; repeatable. FMT is one of {', '.join(CHECK_FORMATS)}.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="DATE", help="Evaluate as of this date (YYYY-MM-DD) instead of today (UTC).")
@click.option("--allow-insufficient", is_flag=True, help="Do not block the gate on `insufficient` controls; the report names the controls relaxed.")
@click.option("--param", "param_values", multiple=True, metavar="NAME=VALUE", help="Set a policy parameter, such as max_gap=0.05 or compas_fairness.max_gap=5%; repeatable. Overrides --params.")
@click.option("--params", "params_file", type=click.Path(dir_okay=False), metavar="FILE", help="YAML file of parameter values: `name: value` or `policy: {name: value}`.")
@click.option("--waivers", "waiver_files", multiple=True, type=click.Path(dir_okay=False), metavar="FILE", help="YAML file of waivers (see docs/waivers.md); repeatable. A malformed file stops the run before evaluation.")
@click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False), metavar="RESULTS.json", help="JSON results of the previous model version: report which controls newly fail or pass and how each metric moved.")
@click.option("--fail-on-regression", is_flag=True, help="With --baseline, also block the gate when an advisory control newly fails or a metric worsens by more than --regression-tolerance.")
@click.option("--regression-tolerance", type=click.FloatRange(min=0), default=0.0, show_default=True, callback=lambda c, p, v: _finite(v, p), help="Largest worsening of a metric value (absolute difference) that --fail-on-regression accepts.")
@_reports_errors
def check_command(
    policies: tuple[str, ...],
    bundle_dir: str,
    output_format: str,
    output: str | None,
    reports: tuple,
    as_of: datetime.datetime | None,
    allow_insufficient: bool,
    param_values: tuple[str, ...],
    params_file: str | None,
    waiver_files: tuple[str, ...],
    baseline_file: str | None,
    fail_on_regression: bool,
    regression_tolerance: float,
) -> None:
    """Check a model bundle against policies and decide the gate.

    A POLICY is a file path, or govdsl:NAME for a policy shipped with govdsl.
    Prints every control's status with measured values per group, the clause
    matrix and the gate decision. Exits 0 when the gate passes, 1 when it is
    blocked, and 2 on invalid input (then nothing is evaluated).
    """
    from govdsl.compiler import compile_policies
    from govdsl.engine.evaluate import evaluate, today_utc
    from govdsl.engine.params import read_params_file
    from govdsl.evidence import load_bundle
    from govdsl.report.formats import format_problem, renderer

    for name in dict.fromkeys([output_format] + [target.format for target in reports]):
        problem = format_problem(name)
        if problem:
            raise click.UsageError(problem)
    if output and any(os.path.abspath(t.path) == os.path.abspath(output) for t in reports):
        raise click.UsageError(f"`{output}` is named by both -o and --report; give each output its own file")
    command_line = _param_pairs(param_values)
    file_values = read_params_file(params_file) if params_file else None
    plan, warnings = compile_policies(policies, as_of=as_of.date() if as_of else None)
    _print_diagnostics(warnings, plan.sources, show_info=False)
    if fail_on_regression and not baseline_file:
        raise click.UsageError("--fail-on-regression needs --baseline RESULTS.json")
    waivers = _load_waivers(waiver_files)
    baseline = None
    if baseline_file:
        from govdsl.engine.baseline import load_baseline

        baseline = load_baseline(baseline_file)
    bundle = load_bundle(bundle_dir)
    clock = (lambda: as_of.date()) if as_of else today_utc
    progress = _progress_line()
    try:
        results = evaluate(
            plan,
            bundle,
            clock=clock,
            allow_insufficient=allow_insufficient,
            params=command_line,
            params_file=file_values,
            params_file_name=params_file or "",
            waivers=waivers,
            progress=progress,
        )
    finally:
        if progress is not None:
            progress.close()
    if baseline is not None:
        from govdsl.engine.baseline import compare_with_baseline

        results = compare_with_baseline(results, baseline, baseline_file, regression_tolerance, fail_on_regression)
    for target in reports:
        _write(renderer(target.format)(results), target.path)
    text = renderer(output_format)(results)
    if output_format == "text" and output is None:
        from govdsl.report.ansi import colour_text_report, wants_colour

        if wants_colour(sys.stdout, os.environ):
            text = colour_text_report(text)
    _write(text, output)
    sys.exit(EXIT_OK if results.gate.passed else EXIT_FINDING)


def _report_targets(values: tuple[str, ...], parameter: click.Parameter) -> tuple:
    """Parse every --report FMT=PATH and check that each PATH can be written, before anything is evaluated."""
    from govdsl.report.formats import parse_report_target, path_problem

    targets = []
    for value in values:
        try:
            target = parse_report_target(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param=parameter) from None
        problem = path_problem(target.path)
        if problem:
            raise click.BadParameter(f"cannot write `{value}`: {problem}", param=parameter)
        if any(os.path.abspath(t.path) == os.path.abspath(target.path) for t in targets):
            raise click.BadParameter(f"`{target.path}` is named by two reports; give each report its own file", param=parameter)
        targets.append(target)
    return tuple(targets)


def _progress_line():
    """Return a progress line on stderr when stderr is a terminal and -q was not given, else None."""
    settings = click.get_current_context().find_root().obj or {}
    if settings.get("quiet") or not sys.stderr.isatty():
        return None
    from govdsl.report.progress import ProgressLine

    return ProgressLine(sys.stderr)


@main.command("explain")
@click.argument("policies", nargs=-1, required=True)
@click.option("--bundle", "bundle_dir", required=True, metavar="DIR", help="Model bundle directory (the folder with bundle.yaml).")
@click.option("--control", "control_id", required=True, metavar="ID", help="Control to explain, as `policy.control`; a bare control name works when it is unique.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write the explanation to this file instead of stdout.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="DATE", help="Evaluate as of this date (YYYY-MM-DD) instead of today (UTC).")
@click.option("--allow-insufficient", is_flag=True, help="Evaluate as `check --allow-insufficient` does.")
@click.option("--param", "param_values", multiple=True, metavar="NAME=VALUE", help="Set a policy parameter, as for `check`; repeatable.")
@click.option("--params", "params_file", type=click.Path(dir_okay=False), metavar="FILE", help="YAML file of parameter values, as for `check`.")
@click.option("--waivers", "waiver_files", multiple=True, type=click.Path(dir_okay=False), metavar="FILE", help="YAML file of waivers, as for `check`; repeatable.")
@_reports_errors
def explain_command(
    policies: tuple[str, ...],
    bundle_dir: str,
    control_id: str,
    output_format: str,
    output: str | None,
    as_of: datetime.datetime | None,
    allow_insufficient: bool,
    param_values: tuple[str, ...],
    params_file: str | None,
    waiver_files: tuple[str, ...],
) -> None:
    """Explain why one control has its status.

    Prints the control's dependency path (the controls it requires, the controls
    that require it, the clauses it maps to), the evidence files and columns each
    check read, every value with its groups and interval, the threshold, why the
    check passed or failed, and for a failure the value that would pass and the
    remediation. Exits 0; 2 on invalid input or an unknown control.
    """
    import difflib

    from govdsl.compiler import compile_policies
    from govdsl.engine.evaluate import evaluate, today_utc
    from govdsl.engine.params import read_params_file
    from govdsl.evidence import load_bundle
    from govdsl.report.explain import explain_control, render_explanation_json, render_explanation_text

    command_line = _param_pairs(param_values)
    file_values = read_params_file(params_file) if params_file else None
    plan, warnings = compile_policies(policies, as_of=as_of.date() if as_of else None)
    _print_diagnostics(warnings, plan.sources, show_info=False)
    if control_id not in plan.controls:
        matches = [name for name in plan.controls if name.split(".", 1)[1] == control_id]
        if len(matches) == 1:
            control_id = matches[0]
        else:
            close = difflib.get_close_matches(control_id, list(plan.controls), n=1)
            if len(matches) > 1:
                hint = f"name one of {', '.join(matches)}"
            else:
                hint = f"did you mean `{close[0]}`?" if close else f"controls: {', '.join(sorted(plan.controls)) or 'none'}"
            raise InvalidInputError([error("E506", f"the policies have no control `{control_id}`", help=hint)])
    waivers = _load_waivers(waiver_files)
    bundle = load_bundle(bundle_dir)
    clock = (lambda: as_of.date()) if as_of else today_utc
    results = evaluate(
        plan,
        bundle,
        clock=clock,
        allow_insufficient=allow_insufficient,
        params=command_line,
        params_file=file_values,
        params_file_name=params_file or "",
        waivers=waivers,
    )
    explanation = explain_control(plan, bundle, results, control_id)
    render = render_explanation_json if output_format == "json" else render_explanation_text
    _write(render(explanation), output)


@main.command("modelcard")
@click.option("--bundle", "bundle_dir", required=True, metavar="DIR", help="Model bundle directory (the folder with bundle.yaml).")
@click.option("--results", "results_file", type=click.Path(dir_okay=False), metavar="RESULTS.json", help="JSON results of `govdsl check` on this bundle, for the metrics and the quantitative analysis per group.")
@click.option("--format", "output_format", type=click.Choice(["markdown", "html"]), default="markdown", show_default=True, help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write the card to this file instead of stdout.")
@_reports_errors
def modelcard_command(bundle_dir: str, results_file: str | None, output_format: str, output: str | None) -> None:
    """Write a model card with the nine sections of Mitchell et al. (2019).

    Sections are filled from the bundle's metadata, datasets, approvals and own
    model card and, with --results, from an evaluation: the metrics checked,
    thresholds and per-group values. A section the evidence does not cover says
    so. Exits 0; 2 on invalid input.
    """
    from govdsl.engine.baseline import load_results_file
    from govdsl.engine.evaluate import read_bundle_card
    from govdsl.evidence import load_bundle
    from govdsl.report.modelcard import build_card, render_html, render_markdown

    results = load_results_file(results_file) if results_file else None
    bundle = load_bundle(bundle_dir)
    if results is not None:
        evaluated = (results.get("bundle") or {}).get("model") or {}
        if (evaluated.get("id"), evaluated.get("version")) != (bundle.model.get("id"), bundle.model.get("version")):
            raise InvalidInputError(
                [
                    error(
                        "E809",
                        f"results file `{results_file}` evaluated model {evaluated.get('id')} {evaluated.get('version')},"
                        f" not this bundle's {bundle.model.get('id')} {bundle.model.get('version')}",
                        help="run govdsl check on this bundle and pass its results",
                    )
                ]
            )
    title, sections = build_card(bundle, read_bundle_card(bundle), results)
    render = render_html if output_format == "html" else render_markdown
    _write(render(title, sections), output)


def _load_waivers(paths: tuple[str, ...]) -> tuple:
    """Load every waivers file, reporting the problems of all of them at once; ids must be unique across files."""
    from govdsl.evidence.waivers import load_waivers

    waivers, problems, sources = [], [], {}
    for path in paths:
        try:
            waivers.extend(load_waivers(path))
        except InvalidInputError as exc:
            problems.extend(exc.diagnostics)
            sources.update(exc.sources or {})
    first_file: dict[str, str] = {}
    for waiver in waivers:
        if waiver.id in first_file and first_file[waiver.id] != waiver.file:
            problems.append(
                error("E804", f"waiver id `{waiver.id}` is used in both `{first_file[waiver.id]}` and `{waiver.file}`", help="give every waiver its own id")
            )
        first_file.setdefault(waiver.id, waiver.file)
    if problems:
        raise InvalidInputError(problems, sources)
    return tuple(waivers)


@main.command("coverage")
@click.argument("policies", nargs=-1, required=True)
@click.option("--framework", "frameworks", multiple=True, help="Framework prefix to report, such as EU-AI-ACT; repeatable. Default: every framework the policies map to.")
@click.option("--format", "output_format", type=click.Choice(["text", "json", "csv", "markdown"]), default="text", show_default=True, help="Output format.")
@click.option("--min-coverage", type=click.FloatRange(0, 100), callback=lambda c, p, v: _finite(v, p), help="Exit with status 1 when a framework covers less than this percentage of its leaf clauses.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write the matrix to this file instead of stdout.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="DATE", help="Date (YYYY-MM-DD) that decides which obligations still lie in the future; default today (UTC).")
@_reports_errors
def coverage_command(
    policies: tuple[str, ...],
    frameworks: tuple[str, ...],
    output_format: str,
    min_coverage: float | None,
    output: str | None,
    as_of: datetime.datetime | None,
) -> None:
    """Print the clause coverage matrix of policies, without a bundle.

    Lists every leaf clause of the chosen frameworks with the controls that map to
    it, or `uncovered`, and the share covered per framework, per article or
    function, and over technical clauses alone.
    """
    from govdsl.catalog import load_catalogs
    from govdsl.compiler import compile_policies
    from govdsl.report.coverage import compute_coverage
    from govdsl.report.coverage_render import COVERAGE_RENDERERS

    catalogs = load_catalogs()
    chosen = [_framework_prefix(catalogs, name) for name in frameworks]
    day = as_of.date() if as_of else datetime.datetime.now(datetime.timezone.utc).date()
    plan, warnings = compile_policies(policies, catalogs, as_of=day)
    _print_diagnostics(warnings, plan.sources)
    coverage = compute_coverage(plan, catalogs, chosen or None, min_coverage=min_coverage, as_of=day.isoformat())
    _write(COVERAGE_RENDERERS[output_format](coverage), output)
    if coverage.below_minimum and output_format != "text":
        click.echo(
            f"govdsl: coverage below the minimum of {min_coverage:g}%: {', '.join(coverage.below_minimum)}", err=True
        )
    sys.exit(EXIT_FINDING if coverage.below_minimum else EXIT_OK)


def _finite(value: float | None, parameter: click.Parameter) -> float | None:
    if value is not None and value != value:  # NaN is the only value unequal to itself
        raise click.BadParameter("must be a number from 0 to 100", param=parameter)
    return value


def _framework_prefix(catalogs, name: str, option: str | None = "--framework") -> str:
    import difflib

    from govdsl.catalog.model import reference_key

    for prefix in catalogs.catalogs:
        if reference_key(prefix) == reference_key(name):
            return prefix
    known = ", ".join(catalogs.catalogs)
    close = difflib.get_close_matches(name.strip().upper(), list(catalogs.catalogs), n=1)
    hint = f"did you mean `{close[0]}`? " if close else ""
    if option is None:
        raise InvalidInputError(
            [error("E202", f"unknown framework `{name}`", help=f"{hint}known frameworks: {known}; a clause is FRAMEWORK:ID")]
        )
    raise click.BadParameter(f"unknown framework `{name}`; {hint}known frameworks: {known}", param_hint=option)


@main.command("metrics")
def metrics_command() -> None:
    """List the metrics a check can call, with their arguments and value range."""
    from govdsl.metrics.registry import REGISTRY

    width = max(len(name) for name in REGISTRY)
    for declaration in REGISTRY.values():
        arguments = ", ".join(p.name if p.required else f"[{p.name}]" for p in declaration.parameters)
        click.echo(f"{declaration.name:<{width}}  ({arguments})  {declaration.summary}")


@main.command("metric")
@click.argument("name")
@_reports_errors
def metric_command(name: str) -> None:
    """Show one metric's definition, parameters, range and edge cases."""
    import difflib

    from govdsl.metrics.registry import REGISTRY

    declaration = REGISTRY.get(name)
    if declaration is None:
        close = difflib.get_close_matches(name, list(REGISTRY), n=1)
        hint = f"did you mean `{close[0]}`? " if close else ""
        raise InvalidInputError([error("E301", f"unknown metric `{name}`", help=f"{hint}run `govdsl metrics` to list them")])
    low, high = declaration.value_range
    lines = [declaration.name, f"  {declaration.summary}", f"  kind: {declaration.kind.replace('_', ' ')}"]
    lines.append(f"  range: [{low:g}, {high:g}]; {declaration.better} values mean less disparity or error")
    lines.append(f"  rates per group: {', '.join(declaration.components)}")
    for parameter in declaration.parameters:
        required = "required" if parameter.required else "optional"
        lines.append(f"  {parameter.name} ({parameter.type}, {required}): {parameter.doc}")
    for case in declaration.edge_cases:
        lines.append(f"  edge case: {case}")
    click.echo("\n".join(lines))


@main.group("catalog")
def catalog_group() -> None:
    """List and show the regulation catalogs that clause references resolve against."""


@catalog_group.command("list")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format.")
@_reports_errors
def catalog_list_command(output_format: str) -> None:
    """List the catalogs with their versions, clause counts and supersession, and the crosswalks."""
    from govdsl.catalog import load_catalogs
    from govdsl.report.catalog_render import render_catalog_list

    _write(render_catalog_list(load_catalogs(), output_format), None)


@catalog_group.command("show")
@click.argument("target")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format.")
@_reports_errors
def catalog_show_command(target: str, output_format: str) -> None:
    """Show a catalog (TARGET = EU-AI-ACT) or one clause (TARGET = "NIST-AI-RMF:MEASURE 2.11").

    A clause shows its parent, children, assessable kind, dates and crosswalk links.
    """
    from govdsl.catalog import load_catalogs
    from govdsl.catalog.model import ResolveError
    from govdsl.diagnostics import error
    from govdsl.report.catalog_render import render_catalog, render_clause

    catalogs = load_catalogs()
    if ":" not in target:
        prefix = _framework_prefix(catalogs, target, option=None)
        _write(render_catalog(catalogs, catalogs.catalogs[prefix], output_format), None)
        return
    try:
        clause = catalogs.resolve(target)
    except ResolveError as exc:
        raise InvalidInputError([error(exc.code, exc.message, help=exc.help)]) from None
    _write(render_clause(catalogs, clause, output_format), None)


def _param_pairs(values: tuple[str, ...]) -> dict[str, str]:
    pairs = {}
    for item in values:
        name, separator, value = item.partition("=")
        if not separator or not name.strip():
            raise click.BadParameter(f"`{item}` is not NAME=VALUE", param_hint="--param")
        pairs[name.strip()] = value.strip()
    return pairs


def _write(text: str, output: str | None) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        with open(output, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    except OSError as exc:
        raise InvalidInputError(
            [error("E503", f"cannot write output file `{output}`: {exc.strerror}", help="check that the folder exists and is writable")]
        ) from None
