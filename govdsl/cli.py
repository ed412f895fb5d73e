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
EXIT_INTERNAL = 3  # a bug in govdsl

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
    diagnostics: list[Diagnostic], sources: dict[str, str] | None = None, show_info: bool = False, count_hidden: bool = False
) -> None:
    """Print diagnostics to stderr: `-q` keeps errors only, and info notes need -v or `show_info`.

    Info notes can run to hundreds of lines, such as one per clause whose obligations
    apply later. With `count_hidden`, as for the commands a policy author runs, one
    line counts the notes not shown.
    """
    settings = click.get_current_context().find_root().obj or {}
    quiet = settings.get("quiet")
    with_info = show_info or settings.get("verbose")
    printed = [d for d in diagnostics if d.is_error or (not quiet and (d.severity is not Severity.INFO or with_info))]
    if printed:
        click.echo(render_all(printed, sources), err=True)
    hidden = [d for d in diagnostics if d.severity is Severity.INFO and d not in printed]
    if hidden and count_hidden and not quiet:
        codes = ", ".join(sorted({d.code for d in hidden}))
        notes = "info note" if len(hidden) == 1 else "info notes"
        click.echo(f"govdsl: {len(hidden)} {notes} ({codes}) not shown; -v shows them", err=True)


def _reports_errors(command: Callable) -> Callable:
    """Turn govdsl errors into rendered diagnostics and exit code 2, never a traceback."""

    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except InvalidInputError as exc:
            _print_diagnostics([d for d in exc.diagnostics if d.severity is not Severity.INFO], exc.sources)
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
        except BrokenPipeError:
            # The reader of stdout, such as `head`, closed the pipe. Stop quietly, with the
            # status a shell gives a program killed by SIGPIPE, and let no later flush fail.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(128 + 13)
        except Exception as exc:  # a bug in govdsl: report it without a traceback unless -vv asks for one
            log.debug("internal error", exc_info=True)
            command_name = click.get_current_context().info_name
            click.echo(
                f"govdsl: internal error: {type(exc).__name__}: {exc}; please report it with the output of"
                f" `govdsl -vv {command_name} ...` (the same command with -vv before its name)",
                err=True,
            )
            sys.exit(EXIT_INTERNAL)

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
    the same files always give byte-identical output. A repeated compile of
    unchanged files reuses the stored output (see govdsl.compiler.plan_cache).
    """
    from govdsl.compiler.plan_cache import PlanCache

    day = as_of.date() if as_of else datetime.datetime.now(datetime.timezone.utc).date()
    cache = PlanCache(policies, day)
    cached = cache.load()
    if cached is not None:
        _print_diagnostics(cached.diagnostics, cached.sources, count_hidden=True)
        _write_utf8(cached.output, output)
        return

    from govdsl.compiler import compile_policies
    from govdsl.syntax.cache import collector_paused

    # The collector stays paused while the plan is alive: switched back on, it would soon
    # scan the plan's millions of objects, which hold no reference cycles, for nothing.
    with collector_paused():
        plan, warnings = compile_policies(policies, as_of=day)
        sources = plan.sources
        _print_diagnostics(warnings, sources, count_hidden=True)
        text = plan.to_json()
        del plan
    _write(text, output)
    cache.store(text, warnings, sources)


def _write_utf8(data: memoryview, output: str | None) -> None:
    """Write UTF-8 text as `_write` writes the decoded text, without decoding it for a file."""
    if output is None:
        _write(str(data, "utf-8"), None)
        return
    try:
        with open(output, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        raise InvalidInputError(
            [error("E503", f"cannot write output file `{output}`: {exc.strerror}", help="check that the folder exists and is writable")]
        ) from None


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
            # A byte order mark, which some Windows editors write, is kept as it was.
            bom = "\ufeff" if text.startswith("\ufeff") else ""
            text = text[len(bom) :]
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
            # As in `diff -u`, a last line without a line break is marked, so it stays a line of its own.
            click.echo("".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in diff), nl=False)
        else:
            file.write_text(bom + formatted, encoding="utf-8", newline="\n")
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
@click.option("--audit-log", "audit_log", type=click.Path(dir_okay=False), metavar="PATH", help="Audit log to append this run's record to. Default: GOVDSL_AUDIT_LOG, then audit_log under [tool.govdsl] in pyproject.toml, then .govdsl/audit.jsonl.")
@click.option("--no-audit", is_flag=True, help="Do not append a record to the audit log.")
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
    audit_log: str | None,
    no_audit: bool,
) -> None:
    """Check a model bundle against policies and decide the gate.

    A POLICY is a file path, or govdsl:NAME for a policy shipped with govdsl.
    Prints every control's status with measured values per group, the clause
    matrix and the gate decision. Exits 0 when the gate passes, 1 when it is
    blocked, and 2 on invalid input (then nothing is evaluated).
    """
    from govdsl.compiler import compile_policies
    from govdsl.engine.params import read_params_file
    from govdsl.evidence import load_bundle
    from govdsl.report.formats import format_problem, renderer

    for name in dict.fromkeys([output_format] + [target.format for target in reports]):
        problem = format_problem(name)
        if problem:
            raise click.UsageError(problem)
    if output and any(os.path.abspath(t.path) == os.path.abspath(output) for t in reports):
        raise click.UsageError(f"`{output}` is named by both -o and --report; give each output its own file")
    if output:
        from govdsl.report.formats import path_problem

        # Checked before evaluation: the audit log must not record a run whose report cannot be written.
        problem = path_problem(output)
        if problem:
            raise click.BadParameter(f"cannot write `{output}`: {problem}", param_hint="-o/--output")
    command_line = _param_pairs(param_values)
    file_values = read_params_file(params_file) if params_file else None
    plan, warnings = compile_policies(policies, as_of=as_of.date() if as_of else None)
    _print_diagnostics(warnings, plan.sources)
    if fail_on_regression and not baseline_file:
        raise click.UsageError("--fail-on-regression needs --baseline RESULTS.json")
    waivers = _load_waivers(waiver_files)
    baseline = None
    if baseline_file:
        from govdsl.engine.baseline import load_baseline

        baseline = load_baseline(baseline_file)
    bundle = load_bundle(bundle_dir)
    progress = _progress_line()
    try:
        results = _evaluate(plan, bundle, as_of, allow_insufficient, command_line, file_values, params_file, waivers, progress)
    finally:
        if progress is not None:
            progress.close()
    if baseline is not None:
        from govdsl.engine.baseline import compare_with_baseline

        results = compare_with_baseline(results, baseline, baseline_file, regression_tolerance, fail_on_regression)
    if not no_audit:
        results = _append_audit_record(results, plan, audit_log)
    for target in reports:
        _write(renderer(target.format)(results), target.path)
    text = renderer(output_format)(results)
    if output_format == "text" and output is None:
        from govdsl.report.ansi import colour_text_report, wants_colour

        if wants_colour(sys.stdout, os.environ):
            text = colour_text_report(text)
    _write(text, output)
    sys.exit(EXIT_OK if results.gate.passed else EXIT_FINDING)


def _audit_settings() -> dict:
    from govdsl.settings import configured_settings

    try:
        return configured_settings()
    except ValueError as exc:
        raise InvalidInputError([error("E901", str(exc), help="fix pyproject.toml, or run from another directory")]) from None


def _append_audit_record(results, plan, option: str | None):
    """Append the run's record to the audit log and return the results with the record's id; fail closed."""
    import dataclasses

    from govdsl.audit.log import AuditError, AuditLog
    from govdsl.audit.record import build_record, log_path

    settings = _audit_settings()
    path = log_path(option, settings)
    audit = AuditLog(path, settings.get("audit_signing_key"))
    try:
        appended = audit.append(build_record(results, plan.to_json()))
    except (AuditError, OSError) as exc:
        raise InvalidInputError(
            [error("E902", f"cannot append to audit log `{path}`: {exc}", help="fix the log as the message says, or pass --no-audit")]
        ) from None
    log.info("audit record %d appended to %s", appended.index, path)
    record = {"log": str(path), "index": appended.index, "leaf_hash": appended.leaf_hash, "size": appended.size, "root": appended.root}
    return dataclasses.replace(results, audit=record)


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
    from govdsl.engine.params import read_params_file
    from govdsl.evidence import load_bundle
    from govdsl.report.explain import explain_control, render_explanation_json, render_explanation_text

    command_line = _param_pairs(param_values)
    file_values = read_params_file(params_file) if params_file else None
    plan, warnings = compile_policies(policies, as_of=as_of.date() if as_of else None)
    _print_diagnostics(warnings, plan.sources)
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
    results = _evaluate(plan, bundle, as_of, allow_insufficient, command_line, file_values, params_file, waivers)
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


def _evaluate(plan, bundle, as_of, allow_insufficient, command_line, file_values, params_file, waivers, progress=None):
    """Evaluate a plan as `check` and `explain` do, with the clock set by --as-of."""
    from govdsl.engine.evaluate import evaluate, today_utc

    return evaluate(
        plan,
        bundle,
        clock=(lambda: as_of.date()) if as_of else today_utc,
        allow_insufficient=allow_insufficient,
        params=command_line,
        params_file=file_values,
        params_file_name=params_file or "",
        waivers=waivers,
        progress=progress,
    )


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
@click.option("--format", "output_format", type=click.Choice(["text", "json", "csv", "markdown", "html", "oscal"]), default="text", show_default=True, help="Output format; oscal writes an OSCAL component-definition.")
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
    _print_diagnostics(warnings, plan.sources, count_hidden=True)
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
@click.option("--family", "families", multiple=True, metavar="FAMILY", help="List only this family, such as fairness or drift; repeatable.")
@click.option("--format", "output_format", type=click.Choice(["text", "markdown"]), default="text", show_default=True, help="text: each metric's call, range and summary, by family; markdown: the pages of docs/metrics/.")
@click.option("-o", "--output", type=click.Path(file_okay=False), metavar="DIR", help="With --format markdown: write one page per family and an index (README.md) into DIR.")
@click.option("--check", "check_only", is_flag=True, help="With --output: write nothing; exit 1 and name the pages that differ from the registry.")
@_reports_errors
def metrics_command(families: tuple[str, ...], output_format: str, output: str | None, check_only: bool) -> None:
    """List the metrics a check can call, by family, with their arguments and value range.

    `govdsl metrics --format markdown --output docs/metrics/` regenerates the
    metric reference pages from the same registry.
    """
    from pathlib import Path

    from govdsl import docsgen
    from govdsl.metrics.registry import REGISTRY

    registry = REGISTRY
    if families:
        known = list(docsgen.by_family(REGISTRY))
        unknown = [family for family in families if family not in known]
        if unknown:
            raise click.BadParameter(f"unknown family `{unknown[0]}`; families: {', '.join(known)}", param_hint="--family")
        registry = {name: d for name, d in REGISTRY.items() if d.family in families}
    if (output or check_only) and output_format != "markdown":
        raise click.BadParameter("--output and --check need --format markdown", param_hint="--output")
    if check_only and not output:
        raise click.BadParameter("--check needs --output DIR, the folder to compare", param_hint="--check")
    if output_format == "text":
        click.echo(docsgen.render_metrics_text(registry), nl=False)
        return
    if output is None:
        pages = docsgen.render_pages(registry)
        click.echo("\n".join(pages.values()), nl=False)
        return
    if check_only:
        stale = docsgen.stale_pages(Path(output), registry)
        if stale:
            click.echo(f"govdsl: out of date in {output}: {', '.join(stale)}; run `{docsgen.REGENERATE_COMMAND}`", err=True)
            sys.exit(EXIT_FINDING)
        return
    written, removed = docsgen.write_pages(Path(output), registry)
    click.echo(f"govdsl metrics: {output}: {len(written)} page(s) written, {len(removed)} removed", err=True)


@main.command("metric")
@click.argument("name")
@click.option("--format", "output_format", type=click.Choice(["text", "markdown"]), default="text", show_default=True, help="Output format; markdown is the metric's section of docs/metrics/.")
@_reports_errors
def metric_command(name: str, output_format: str) -> None:
    """Show one metric: family, definition, parameters, range, edge cases and known limitations."""
    import difflib

    from govdsl import docsgen
    from govdsl.metrics.registry import REGISTRY

    declaration = REGISTRY.get(name)
    if declaration is None:
        close = difflib.get_close_matches(name, list(REGISTRY), n=1)
        hint = f"did you mean `{close[0]}`? " if close else ""
        raise InvalidInputError([error("E301", f"unknown metric `{name}`", help=f"{hint}run `govdsl metrics` to list them")])
    if output_format == "markdown":
        click.echo(docsgen.render_metric_markdown(declaration), nl=False)
    else:
        click.echo(docsgen.render_metric_text(declaration), nl=False)


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


@main.group("audit")
def audit_group() -> None:
    """Inspect and verify the tamper-evident audit log that `govdsl check` appends to."""


def _audit_log(path: str):
    from govdsl.audit.log import AuditLog

    if not os.path.isfile(path):
        raise InvalidInputError([error("E903", f"audit log `{path}` not found", help="pass the log file, such as .govdsl/audit.jsonl")])
    return AuditLog(path)


def _read_json_file(path: str, what: str) -> dict:
    import json

    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        raise InvalidInputError([error("E904", f"{what} `{path}` not found")]) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidInputError([error("E904", f"{what} `{path}` is not a JSON file: {exc}")]) from None
    if not isinstance(data, dict):
        raise InvalidInputError([error("E904", f"{what} `{path}` is not a JSON object")])
    return data


def _public_key(path: str | None):
    if path is None:
        return None
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        from cryptography.hazmat.primitives.serialization import load_pem_public_key
    except ImportError:
        raise InvalidInputError([error("E905", "checking signatures needs the `cryptography` package", help="pip install 'govdsl[signing]'")]) from None
    try:
        with open(path, "rb") as handle:
            key = load_pem_public_key(handle.read())
    except (OSError, ValueError) as exc:
        raise InvalidInputError([error("E905", f"cannot read public key `{path}`: {exc}")]) from None
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInputError([error("E905", f"`{path}` is not an Ed25519 public key")])
    return key


def _audit_call(function, *arguments):
    from govdsl.audit.log import AuditError

    try:
        return function(*arguments)
    except AuditError as exc:
        raise InvalidInputError([error("E906", str(exc))]) from None


@audit_group.command("verify")
@click.argument("log_file", metavar="LOG")
@click.option("--checkpoint", "checkpoint_file", type=click.Path(dir_okay=False), metavar="FILE", help="A checkpoint saved earlier (from `govdsl audit checkpoint`); the log must still contain that tree.")
@click.option("--public-key", "public_key_file", type=click.Path(dir_okay=False), metavar="KEY", help="Ed25519 public key (PEM); every checkpoint must carry a valid signature.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Output format.")
@_reports_errors
def audit_verify_command(log_file: str, checkpoint_file: str | None, public_key_file: str | None, output_format: str) -> None:
    """Recompute the log's Merkle tree and report every modified, deleted, inserted or reordered record.

    Also reports a torn final line, records without checkpoint, truncation relative
    to --checkpoint and bad signatures, each with its record index. Exits 0 only
    when everything holds, 1 on any finding.
    """
    import json

    from govdsl.audit.log import verify_log

    audit = _audit_log(log_file)
    checkpoint = _read_json_file(checkpoint_file, "checkpoint file") if checkpoint_file else None
    verification = verify_log(audit, checkpoint, _public_key(public_key_file))
    if output_format == "json":
        document = {"log": log_file, "size": verification.size, "root": verification.root, "ok": verification.ok,
                    "findings": [f.to_dict() for f in verification.findings]}
        click.echo(json.dumps(document, indent=2))
    else:
        for finding in verification.findings:
            # Record i is line i + 1 of the log, one record per line.
            where = f"record {finding.index} (line {finding.index + 1})" if finding.index is not None else "log"
            click.echo(f"{finding.kind.upper():<11} {where}: {finding.message}")
        verdict = "verified" if verification.ok else f"NOT verified: {len(verification.findings)} finding(s)"
        click.echo(f"{log_file}: {verification.size} records, root {verification.root}: {verdict}")
    sys.exit(EXIT_OK if verification.ok else EXIT_FINDING)


@audit_group.command("checkpoint")
@click.argument("log_file", metavar="LOG")
@_reports_errors
def audit_checkpoint_command(log_file: str) -> None:
    """Print the log's latest checkpoint as JSON, to keep outside the log for `verify --checkpoint`."""
    import json

    audit = _audit_log(log_file)
    valid = [c for c in audit.checkpoints() if "invalid" not in c]
    if not valid:
        raise InvalidInputError([error("E906", f"audit log `{log_file}` has no checkpoint")])
    click.echo(json.dumps(valid[-1], indent=2, sort_keys=True))


@audit_group.command("prove")
@click.argument("log_file", metavar="LOG")
@click.argument("index", type=click.IntRange(min=0))
@click.option("--size", type=click.IntRange(min=1), help="Tree size to prove against; default: the whole log.")
@click.option("--record-output", type=click.Path(dir_okay=False, writable=True), metavar="FILE", help="Also write the record's exact line to FILE, for `verify-proof --record`.")
@_reports_errors
def audit_prove_command(log_file: str, index: int, size: int | None, record_output: str | None) -> None:
    """Print the inclusion proof of record INDEX (counted from 0) as JSON; exits 1 when the log does not verify."""
    import json

    from govdsl.audit.log import read_lines
    from govdsl.audit.proofs import prove_inclusion

    audit = _audit_log(log_file)
    _require_verified(audit, log_file, "a proof from it would not show anything")
    proof = _audit_call(prove_inclusion, audit, index, size)
    if record_output:
        lines, _ = read_lines(audit.path)
        with open(record_output, "wb") as handle:
            handle.write(lines[index] + b"\n")
    click.echo(json.dumps(proof, indent=2))


@audit_group.command("consistency")
@click.argument("log_file", metavar="LOG")
@click.argument("old_size", type=click.IntRange(min=0))
@click.argument("new_size", type=click.IntRange(min=0))
@_reports_errors
def audit_consistency_command(log_file: str, old_size: int, new_size: int) -> None:
    """Print the proof that the tree of OLD_SIZE records is a prefix of the tree of NEW_SIZE records."""
    import json

    from govdsl.audit.proofs import prove_consistency

    audit = _audit_log(log_file)
    _require_verified(audit, log_file, "a proof from it would not show anything")
    click.echo(json.dumps(_audit_call(prove_consistency, audit, old_size, new_size), indent=2))


def _verification_problem(audit, log_file: str) -> str | None:
    """Return a one-line account of why the log does not verify against its own checkpoints, or None when it does."""
    from govdsl.audit.log import verify_log

    verification = verify_log(audit)
    if verification.ok:
        return None
    first = verification.findings[0]
    where = f"record {first.index}" if first.index is not None else "log"
    return f"`{log_file}` does not verify: {len(verification.findings)} finding(s), first {first.kind.upper()} {where}: {first.message}"


def _require_verified(audit, log_file: str, consequence: str) -> None:
    problem = _verification_problem(audit, log_file)
    if problem:
        click.echo(f"govdsl: {problem}; {consequence}. Run `govdsl audit verify {log_file}` for every finding.", err=True)
        sys.exit(EXIT_FINDING)


@audit_group.command("verify-proof")
@click.argument("proof_file", metavar="PROOF")
@click.option("--record", "record_file", type=click.Path(dir_okay=False), metavar="FILE", help="For an inclusion proof: the record's line.")
@click.option("--checkpoint", "checkpoint_file", type=click.Path(dir_okay=False), metavar="FILE", help="For an inclusion proof: the checkpoint of the proof's tree size.")
@click.option("--old", "old_file", type=click.Path(dir_okay=False), metavar="FILE", help="For a consistency proof: the older checkpoint.")
@click.option("--new", "new_file", type=click.Path(dir_okay=False), metavar="FILE", help="For a consistency proof: the newer checkpoint.")
@_reports_errors
def audit_verify_proof_command(proof_file: str, record_file: str | None, checkpoint_file: str | None, old_file: str | None, new_file: str | None) -> None:
    """Verify a proof from `audit prove` or `audit consistency` without the log. Exits 0 when it holds, 1 when not."""
    from govdsl.audit.proofs import CONSISTENCY, INCLUSION, verify_consistency_document, verify_inclusion_document

    proof = _read_json_file(proof_file, "proof file")
    if proof.get("format") == INCLUSION:
        if not (record_file and checkpoint_file):
            raise click.UsageError("an inclusion proof needs --record FILE and --checkpoint FILE")
        try:
            with open(record_file, "rb") as handle:
                record = handle.read()
        except OSError as exc:
            raise InvalidInputError([error("E904", f"cannot read record file `{record_file}`: {exc.strerror}")]) from None
        problems = _audit_call(verify_inclusion_document, proof, record, _read_json_file(checkpoint_file, "checkpoint file"))
    elif proof.get("format") == CONSISTENCY:
        if not (old_file and new_file):
            raise click.UsageError("a consistency proof needs --old FILE and --new FILE")
        old, new = _read_json_file(old_file, "checkpoint file"), _read_json_file(new_file, "checkpoint file")
        problems = _audit_call(verify_consistency_document, proof, old, new)
    else:
        raise InvalidInputError([error("E904", f"`{proof_file}` is not a govdsl proof", help="pass the output of `govdsl audit prove` or `govdsl audit consistency`")])
    for problem in problems:
        click.echo(f"FAILED: {problem}")
    if not problems:
        click.echo("proof verified")
    sys.exit(EXIT_FINDING if problems else EXIT_OK)


@audit_group.command("repair")
@click.argument("log_file", metavar="LOG")
@click.option("--yes", is_flag=True, help="Truncate without asking.")
@_reports_errors
def audit_repair_command(log_file: str, yes: bool) -> None:
    """Remove a torn final line left by a process stopped while appending, keeping a copy of it."""
    from govdsl.audit.repair import repair_torn_line

    audit = _audit_log(log_file)

    def confirm(size: int) -> bool:
        if yes:
            return True
        try:
            return click.confirm(f"{log_file} ends in a torn line of {size} bytes. Remove it (a copy is kept)?", default=False, err=True)
        except click.Abort:
            return False  # no answer, such as a closed standard input: leave the log unchanged

    result = _audit_call(repair_torn_line, audit, confirm)
    click.echo(result)


@audit_group.command("show")
@click.argument("log_file", metavar="LOG")
@click.option("--model", "model_id", metavar="ID", help="Only records of this model id.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="DATE", help="Only records from this UTC date (YYYY-MM-DD) on.")
@click.option("--format", "output_format", type=click.Choice(["text", "json", "csv"]), default="text", show_default=True, help="Output format.")
@_reports_errors
def audit_show_command(log_file: str, model_id: str | None, since: datetime.datetime | None, output_format: str) -> None:
    """List the records of an audit log: when, which model, which policies, the gate decision and who ran it.

    Exits 1, after the list, when the log does not verify against its checkpoints.
    """
    from govdsl.audit.show import render_records, select_records

    audit = _audit_log(log_file)
    problem = _verification_problem(audit, log_file)
    records = select_records(audit.records(), model_id, since.date() if since else None)
    click.echo(render_records(records, output_format), nl=False)
    if problem:
        # The records are listed, because an auditor may need to see them, and the exit status marks them as untrusted.
        click.echo(f"govdsl: warning: {problem}; the records above may have been changed. Run `govdsl audit verify {log_file}`.", err=True)
        sys.exit(EXIT_FINDING)


def _lint_settings() -> dict:
    from govdsl.settings import configured_settings

    try:
        settings = configured_settings().get("lint", {})
    except ValueError as exc:
        raise InvalidInputError([error("E901", str(exc), help="fix pyproject.toml, or run from another directory")]) from None
    return settings if isinstance(settings, dict) else {}


def _codes(values, source: str) -> tuple[str, ...]:
    """Return the rule codes of an option or setting: a string or a list of strings, each comma-separated."""
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, str) for v in values):
        raise click.UsageError(f"{source} must be a list of rule codes, such as [\"L4\", \"W206\"]")
    return tuple(code.strip().upper() for value in values for code in value.split(",") if code.strip())


@main.command("lint")
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "output_format", type=click.Choice(["text", "json", "sarif", "github"]), default="text", show_default=True, help="Output format: text for people, json, sarif for code scanning, github for workflow annotations.")
@click.option("--select", "select", multiple=True, metavar="CODES", help="Only these rules; codes or prefixes, comma-separated or repeated (L4 selects L401-L404).")
@click.option("--ignore", "ignore", multiple=True, metavar="CODES", help="Skip these rules; codes or prefixes, comma-separated or repeated.")
@click.option("--fail-level", type=click.Choice(["error", "warning", "info"]), default=None, help="Exit 1 when a finding of this severity or above remains (default: warning).")
@click.option("--bundle", "bundle_dir", metavar="DIR", help="Bundle to lint the policies against, for rules that need its datasets.")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="DATE", help="Date (YYYY-MM-DD) for clause application dates and waiver expiry; default today (UTC).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write the findings to this file instead of stdout.")
@_reports_errors
def lint_command(paths, output_format, select, ignore, fail_level, bundle_dir, as_of, output) -> None:
    """Lint policy files (.gov) and waiver files (.yaml) for what a careful reviewer would catch.

    A PATH is a file or a folder (searched for .gov files and files named
    *waiver*.yaml). Settings under [tool.govdsl.lint] in pyproject.toml: select,
    ignore, fail-level; options override them. `govdsl rule CODE` explains a
    rule. Exits 0 when no finding at or above the fail level remains, 1 otherwise,
    and 2 when a file cannot be read or an option is invalid.
    """
    from govdsl.diagnostics import render_all
    from govdsl.lint.engine import lint_paths
    from govdsl.lint.output import render_github, render_json, render_sarif

    settings = _lint_settings()
    chosen = _codes(list(select), "--select") if select else _codes(settings.get("select", []), "select in [tool.govdsl.lint]")
    skipped = _codes(list(ignore), "--ignore") if ignore else _codes(settings.get("ignore", []), "ignore in [tool.govdsl.lint]")
    level = fail_level or settings.get("fail-level", "warning")
    if level not in ("error", "warning", "info"):
        raise click.UsageError(f"fail-level in [tool.govdsl.lint] is {level!r}; use error, warning or info")
    unknown_keys = sorted(set(settings) - {"select", "ignore", "fail-level"})
    if unknown_keys:
        raise click.UsageError(f"unknown key(s) in [tool.govdsl.lint] of pyproject.toml: {', '.join(unknown_keys)}; use select, ignore, fail-level")
    _check_rule_codes(chosen + skipped)
    missing = [path for path in paths if not os.path.exists(path)]
    if missing:
        raise InvalidInputError([error("E501", f"`{path}` not found", help="pass policy files, waiver files or folders") for path in missing])
    roles = _bundle_roles(bundle_dir) if bundle_dir else None
    result = lint_paths(list(paths), chosen, skipped, roles, as_of.date() if as_of else None)
    if not result.files:
        raise InvalidInputError([error("E501", f"no .gov or *waiver*.yaml files in {', '.join(paths)}", help="pass policy files, waiver files or folders that contain them")])
    if output_format == "text":
        text = render_all(result.findings, result.sources) if result.findings else ""
        counts = {s: sum(1 for d in result.findings if d.severity.value == s) for s in ("error", "warning", "info")}
        summary = ", ".join(f"{n} {s}{'s' if n != 1 else ''}" for s, n in counts.items() if n) or "no findings"
        text = (text + "\n" if text else "") + f"govdsl lint: {len(result.files)} file(s), {summary}\n"
    else:
        text = {"json": render_json, "sarif": render_sarif, "github": render_github}[output_format](result.findings)
    _write(text, output)
    if any(d.code in _UNREADABLE for d in result.findings):
        sys.exit(EXIT_INVALID)
    sys.exit(EXIT_FINDING if result.fails(level) else EXIT_OK)


# Codes of a policy or waiver file that cannot be read at all: lint reports them with
# the other findings but exits 2, as for unusable input.
_UNREADABLE = frozenset({"E501", "E502", "E801"})


def _check_rule_codes(codes: tuple[str, ...]) -> None:
    """Reject a code or prefix that matches no rule, so a typo cannot silence lint."""
    from govdsl.lint.rules import RULES

    from govdsl.lint.codes import COMPILER_CODES

    known = (*RULES, *COMPILER_CODES)
    unknown = [code for code in codes if not any(known_code.startswith(code) for known_code in known)]
    if unknown:
        raise click.UsageError(
            f"no lint rule or compiler diagnostic matches {', '.join(unknown)}; `govdsl rule` lists the rules,"
            " and docs/language.md the compiler's codes"
        )


def _bundle_roles(bundle_dir: str) -> set[str]:
    """Read the dataset roles of a bundle.yaml without loading its data."""
    from govdsl.yamlfiles import load_yaml

    path = os.path.join(bundle_dir, "bundle.yaml")
    try:
        with open(path, encoding="utf-8") as handle:
            data = load_yaml(handle.read())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidInputError([error("E402", f"cannot read `{path}`: {exc}", help="pass the folder that contains bundle.yaml")]) from None
    datasets = data.get("datasets", []) if isinstance(data, dict) else []
    return {d.get("role") for d in datasets if isinstance(d, dict) and isinstance(d.get("role"), str)}


@main.command("rule")
@click.argument("code", required=False)
@click.option("--write-docs", type=click.Path(file_okay=False), metavar="DIR", help="Write one Markdown page per rule and an index to DIR, such as docs/rules.")
@_reports_errors
def rule_command(code: str | None, write_docs: str | None) -> None:
    """Print a lint rule's documentation, or list every rule without CODE."""
    import difflib
    from pathlib import Path

    from govdsl.lint.output import rule_text, write_rule_docs
    from govdsl.lint.rules import RULES

    if write_docs:
        written = write_rule_docs(Path(write_docs))
        click.echo(f"wrote {len(written)} files to {write_docs}")
        return
    if code is None:
        for rule in sorted(RULES.values(), key=lambda r: r.code):
            click.echo(f"{rule.code:<6} {rule.name:<34} {rule.severity.value:<8} {rule.summary}")
        return
    rule = RULES.get(code.upper())
    if rule is None:
        close = difflib.get_close_matches(code.upper(), list(RULES), n=1)
        raise InvalidInputError([error("E507", f"no lint rule `{code}`", help=f"did you mean `{close[0]}`?" if close else "`govdsl rule` lists the rules")])
    click.echo(rule_text(rule), nl=False)
