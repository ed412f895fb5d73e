"""Report renderers (junit, markdown, csv, html) and the output options of `govdsl check`."""

from __future__ import annotations

import base64
import csv
import dataclasses
import importlib.util
import io
import json
import re
import xml.etree.ElementTree as ET

import click
import pytest
from click.testing import CliRunner
from junitparser import Error, Failure, JUnitXml, Skipped

from govdsl import cli
from govdsl.report import formats
from govdsl.report.ansi import colour_text_report, wants_colour
from govdsl.report.csv_report import COLUMNS, render_csv
from govdsl.report.html import render_html
from govdsl.report.junit import render_junit
from govdsl.report.markdown import GITHUB_COMMENT_LIMIT, render_markdown
from govdsl.report.progress import ProgressLine
from report_cases import EXPECTED_CONTROL_STATUSES, HOSTILE_GROUP, compas_results, mixed_results
from support import COMPAS_BUNDLE, COMPAS_POLICY


@pytest.fixture(scope="module")
def compas():
    return compas_results()


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    return mixed_results(tmp_path_factory.mktemp("mixed"))


@pytest.fixture(scope="module")
def mixed_relaxed(tmp_path_factory):
    return mixed_results(tmp_path_factory.mktemp("relaxed"), allow_insufficient=True)


@pytest.fixture(autouse=True)
def run_in_temporary_folder(tmp_path, monkeypatch):
    """Run each test in its own folder, so that files a run writes beside it (such as an audit log) stay there."""
    monkeypatch.chdir(tmp_path)


def invoke(*args, **options):
    return CliRunner().invoke(cli.main, [str(a) for a in args], catch_exceptions=False, **options)


def check_args(*extra):
    return ["check", COMPAS_POLICY, "--bundle", COMPAS_BUNDLE, "--as-of", "2026-12-04", *extra]


def test_mixed_case_has_every_status(mixed):
    assert {c.id: c.status for c in mixed.controls} == EXPECTED_CONTROL_STATUSES


# --- junit --------------------------------------------------------------------------------


def junit_outcomes(text: str) -> dict[str, str]:
    outcomes = {}
    for suite in JUnitXml.fromstring(text):
        for case in suite:
            kinds = {type(result) for result in case.result}
            outcome = "passed"
            for kind, name in ((Failure, "failure"), (Error, "error"), (Skipped, "skipped")):
                if kind in kinds:
                    outcome = name
            outcomes[case.name] = outcome
    return outcomes


def test_junit_compas_counts(compas):
    xml = JUnitXml.fromstring(render_junit(compas))
    suites = list(xml)
    assert [s.name for s in suites] == ["compas_fairness"]
    suite = suites[0]
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (6, 3, 0, 0)
    checks = [check for control in compas.controls for check in control.checks]
    assert suite.failures == sum(1 for check in checks if check.status == "fail")


def test_junit_case_ids_and_message(compas):
    suite = next(iter(JUnitXml.fromstring(render_junit(compas))))
    case = next(c for c in suite if c.name == "compas_fairness.fpr_parity_race.fpr_gap")
    assert case.classname == "compas_fairness.fpr_parity_race"
    (failure,) = case.result
    assert isinstance(failure, Failure)
    assert failure.type == "fail"
    assert "value 0.4130" in failure.message
    assert "threshold <= 0.1" in failure.message
    assert "race=African-American (n = 3175)" in failure.text
    assert "remediation: Examine why defendants" in failure.text


def test_junit_status_mapping(mixed):
    outcomes = junit_outcomes(render_junit(mixed))
    assert outcomes == {
        "mixed.passes.1": "passed",
        "mixed.fails.gap": "failure",
        "mixed.errs.1": "error",
        "mixed.undecided.1": "failure",
        "mixed.later.1": "error",
        "mixed.not_here.1": "skipped",
        "mixed.advice.1": "failure",
        "mixed.empty": "failure",
        "mixed.excused.1": "skipped",
    }


def test_junit_counts_match_results(mixed):
    suite = next(iter(JUnitXml.fromstring(render_junit(mixed))))
    assert suite.tests == 9
    assert suite.failures == 4
    assert suite.errors == 2
    assert suite.skipped == 2


def test_junit_relaxed_insufficient_skipped(mixed_relaxed):
    outcomes = junit_outcomes(render_junit(mixed_relaxed))
    assert outcomes["mixed.undecided.1"] == "skipped"
    assert outcomes["mixed.empty"] == "skipped"
    assert outcomes["mixed.fails.gap"] == "failure"


def test_junit_waived_names_waiver(mixed):
    suite = next(iter(JUnitXml.fromstring(render_junit(mixed))))
    case = next(c for c in suite if c.name == "mixed.excused.1")
    (skipped,) = case.result
    assert skipped.type == "waived"
    assert "waived by `W-1`" in skipped.message


def test_junit_properties_record_gate(mixed):
    suite = next(iter(JUnitXml.fromstring(render_junit(mixed))))
    properties = {p.name: p.value for p in suite.properties()}
    assert properties["gate"] == "blocked"
    assert properties["as_of"] == "2026-12-04"


def test_junit_drops_invalid_xml_characters(compas):
    control = compas.controls[0]
    check = dataclasses.replace(control.checks[0], message="bad \x01 byte")
    broken = dataclasses.replace(compas, controls=(dataclasses.replace(control, checks=(check,)),))
    xml = JUnitXml.fromstring(render_junit(broken))
    case = next(iter(next(iter(xml))))
    assert "bad \ufffd byte" in case.result[0].message


# --- markdown -----------------------------------------------------------------------------


def test_markdown_compas_summary(compas):
    text = render_markdown(compas)
    assert text.startswith("## govdsl check\n")
    assert "**Gate: BLOCKED** by 3 control(s)" in text
    assert "| `fpr_gap` | **fail** | 0.4130 | `<= 0.1` |" in text
    assert "**Remediation:** Examine why defendants who did not reoffend" in text


def test_markdown_failed_controls_first(compas):
    text = render_markdown(compas)
    assert text.index("FAIL `compas_fairness.demographic_parity_race`") < text.index("PASS <code>compas_fairness.fpr_parity_sex")
    assert text.count("<details><summary>PASS") == 3


def test_markdown_clause_matrix(compas):
    text = render_markdown(compas)
    matrix = text[text.index("### Clause matrix"):]
    assert "| `EU-AI-ACT:Art.10(2)(f)` (applies from 2027-12-02) | fail | `compas_fairness.fpr_parity_race` | fail |" in matrix
    assert len([line for line in matrix.splitlines() if line.startswith("| ") and "compas_fairness." in line]) == 16


def test_markdown_escapes_policy_text(mixed):
    text = render_markdown(mixed)
    assert "<script" not in text
    assert "<img" not in text
    assert "<b " not in text
    assert "\\$x^2\\$" in text
    assert "\\[link\\](javascript:alert(1))" in text
    assert text.count("<details>") == text.count("</details>")


def test_markdown_names_waiver(mixed):
    assert "**Waived** (fail) by `W-1`, approved by Test Approver (model\\_risk\\_officer)" in render_markdown(mixed)


def test_markdown_truncates_with_note(compas):
    text = render_markdown(compas, max_chars=3000)
    assert len(text) <= 3000
    assert "This comment was cut to fit GitHub's limit" in text
    assert "**Gate: BLOCKED**" in text
    assert text.count("<details>") == text.count("</details>")


def test_markdown_many_controls_fit_github_limit(compas):
    many = tuple(dataclasses.replace(c, id=f"{c.id}_{n}") for n in range(150) for c in compas.controls)
    text = render_markdown(dataclasses.replace(compas, controls=many))
    assert len(text) <= GITHUB_COMMENT_LIMIT
    assert "control(s) are left out" in text
    assert "the clause matrix is left out" in text


# --- csv ----------------------------------------------------------------------------------


def csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_clause_matrix_rows(compas):
    text = render_csv(compas)
    assert text.splitlines()[0].split(",") == COLUMNS
    rows = csv_rows(text)
    assert len(rows) == sum(len(clause.controls) for clause in compas.clauses) == 16
    row = next(r for r in rows if r["reference"] == "EU-AI-ACT:Art.10(2)(g)" and r["control"] == "compas_fairness.fnr_parity_sex")
    assert row["framework"] == "EU-AI-ACT"
    assert row["clause"] == "Art.10(2)(g)"
    assert row["status"] == "fail"
    assert row["control_status"] == "pass"
    assert row["blocks_gate"] == "no"
    assert row["enforcement"] == "hard"


def test_csv_statuses_match_results(mixed):
    rows = csv_rows(render_csv(mixed))
    for row in rows:
        assert row["control_status"] == EXPECTED_CONTROL_STATUSES[row["control"]]


def test_csv_neutralizes_formulas(compas):
    control = dataclasses.replace(compas.controls[0], title='=HYPERLINK("http://example.invalid","x")')
    changed = dataclasses.replace(compas, controls=(control, *compas.controls[1:]))
    rows = csv_rows(render_csv(changed))
    titles = {r["control_title"] for r in rows if r["control"] == control.id}
    assert titles == {"'" + control.title}


# --- html ---------------------------------------------------------------------------------


def chart_svgs(page: str) -> list[str]:
    sources = re.findall(r'<img class="chart[^"]*" alt="[^"]*" src="data:image/svg\+xml;base64,([^"]+)"', page)
    return [base64.b64decode(source).decode("utf-8") for source in sources]


@pytest.fixture(scope="module")
def compas_page(compas):
    return render_html(compas)


@pytest.fixture(scope="module")
def mixed_page(mixed):
    return render_html(mixed)


def test_html_loads_nothing_from_network(compas_page):
    assert "Content-Security-Policy" in compas_page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", compas_page)
    assert "<script" not in compas_page
    assert "@import" not in compas_page
    assert "url(" not in compas_page


def test_html_charts_are_valid_svg(compas, compas_page):
    svgs = chart_svgs(compas_page)
    checks_with_groups = sum(1 for c in compas.controls for check in c.checks if check.groups)
    assert len(svgs) == checks_with_groups + 1  # one chart per check, and the heat map
    for svg in svgs:
        root = ET.fromstring(svg)
        assert root.tag.endswith("svg")
    assert "race=African-American" in svgs[0]


def test_html_failed_controls_first(compas_page):
    assert compas_page.index("compas_fairness.demographic_parity_race</code>") < compas_page.index(
        "compas_fairness.fpr_parity_sex</code>"
    )
    assert compas_page.count('<details class="control s-fail"') == 3
    assert len(re.findall(r'<details class="control [^>]* open>', compas_page)) == 3


def test_html_clause_drill_down(compas, compas_page):
    assert compas_page.count('<details class="clause"') == len(compas.clauses) == 3
    assert "NIST-AI-RMF:MEASURE 2.11</code> Evaluate fairness and bias" in compas_page


def test_html_error_bars_with_intervals(mixed_page, mixed):
    check = next(c for c in mixed.controls if c.id == "mixed.fails").checks[0]
    if not hasattr(check.groups[0], "intervals"):
        pytest.skip("these results carry no group intervals")
    svg = chart_svgs(mixed_page)[0]
    assert "error bars: interval of each value" in svg
    assert "[0.0945, 0.9055]" in mixed_page


def test_html_escapes_policy_and_bundle_text(mixed_page):
    assert "<script" not in mixed_page
    assert "<img src=x" not in mixed_page
    assert "<b onmouseover" not in mixed_page
    assert "&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt;" in mixed_page
    for svg in chart_svgs(mixed_page):
        assert "<b onmouseover" not in svg
        assert "<script" not in svg


def test_html_names_waiver(mixed_page):
    assert "Waived (fail) by <code>W-1</code>" in mixed_page


def test_html_is_reproducible(compas, compas_page):
    assert render_html(compas) == compas_page


def clause_facts(page: str, reference: str) -> dict[str, str]:
    """Return the facts listed in the folded section of one clause."""
    start = page.index(f"<code>{reference}</code>", page.index('<section id="clauses">'))
    facts = page[start : page.index("</dl>", start)]
    return dict(re.findall(r"<dt>([^<]*)</dt><dd>([^<]*)</dd>", facts))


def test_html_clause_date_only_when_set(compas_page):
    dated = clause_facts(compas_page, "EU-AI-ACT:Art.10(2)(f)")
    assert dated["applies from"] == "2027-12-02"
    in_force = clause_facts(compas_page, "NIST-AI-RMF:MEASURE 2.11")
    assert in_force["catalog status"] == "in_force"
    assert "applies from" not in in_force
    assert "in force" not in compas_page


def test_html_heading_levels_do_not_skip(compas_page, mixed_page):
    for page in (compas_page, mixed_page):
        levels = [int(level) for level in re.findall(r"<h([1-6])[\s>]", page)]
        assert levels[0] == 1
        jumps = [(before, after) for before, after in zip(levels, levels[1:]) if after > before + 1]
        assert jumps == []
        assert 3 in levels


def test_html_clause_matrix_table(compas, compas_page):
    section = compas_page[compas_page.index('<section id="matrix">') : compas_page.index('<section id="clauses">')]
    table = section[section.index('<table class="matrix">') :]
    rows = re.findall(r"<tr>(.*?)</tr>", table[table.index("</thead>") :])
    assert len(rows) == sum(len(clause.controls) for clause in compas.clauses) == 16
    first = re.sub(r"<[^>]+>", " ", rows[0]).split()
    assert first == ["EU-AI-ACT:Art.10(2)(f)", "FAIL", "compas_fairness.fpr_parity_race", "FAIL"]
    assert table.count("<tbody>") == len(compas.clauses)


def test_html_group_counts_and_rows(compas_page):
    # The group race=African-American: 641 false positives among 1514 actual negatives.
    assert '0.4234 <span class="interval">[0.3987, 0.4484]</span> <span class="fraction">(641/1514)</span>' in compas_page
    assert "<dt>overall rows</dt><dd>6172</dd>" in compas_page
    assert "In parentheses: the numerator and denominator of each rate." in compas_page


def test_html_interval_method_names(compas_page):
    assert "<dt>interval (95% Newcombe hybrid score)</dt>" in compas_page
    assert "95% newcombe" not in compas_page


def test_html_without_matplotlib_is_usage_error(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *rest: None if name == "matplotlib" else real(name, *rest))
    target = tmp_path / "report.html"
    result = invoke(*check_args("--report", f"html={target}"))
    assert result.exit_code == 2
    assert "pip install 'govdsl[html]'" in result.stderr
    assert not target.exists()


# --- check --format and --report ------------------------------------------------------------


def test_formats_match_cli_choices():
    assert formats.FORMATS == cli.CHECK_FORMATS


@pytest.mark.parametrize("name", ["junit", "markdown", "csv"])
def test_check_format_to_stdout(name, compas):
    result = invoke(*check_args("--format", name))
    assert result.exit_code == 1
    assert result.stdout == formats.renderer(name)(compas)


def test_check_format_oscal_to_stdout(compas):
    # UUIDs derive from the whole results, which record the paths as given, so compare the findings.
    result = invoke(*check_args("--format", "oscal"))
    assert result.exit_code == 1
    findings = json.loads(result.stdout)["assessment-results"]["results"][0]["findings"]
    expected = json.loads(formats.renderer("oscal")(compas))["assessment-results"]["results"][0]["findings"]
    assert [f["title"] for f in findings] == [f["title"] for f in expected]


def test_check_writes_several_reports(tmp_path):
    targets = {name: tmp_path / f"report.{name}" for name in ("json", "junit", "markdown", "csv", "html", "oscal")}
    options = [part for name, path in targets.items() for part in ("--report", f"{name}={path}")]
    result = invoke(*check_args("--format", "text", *options))
    assert result.exit_code == 1
    assert "Gate: BLOCKED" in result.stdout
    for name, path in targets.items():
        assert path.stat().st_size > 0, name
    written = json.loads(targets["json"].read_text(encoding="utf-8"))
    printed = json.loads(invoke(*check_args("--format", "json")).stdout)
    # Each run appends its own audit record, so only the record differs.
    written.pop("audit", None)
    printed.pop("audit", None)
    assert written == printed


@pytest.mark.parametrize(
    ("report", "message"),
    [
        ("pdf=out.pdf", "unknown format `pdf`"),
        ("html", "is not FMT=PATH"),
        ("html=", "is not FMT=PATH"),
        ("html={missing}/out.html", "does not exist"),
        ("html={folder}", "is a folder"),
    ],
)
def test_bad_report_is_usage_error_before_evaluation(tmp_path, report, message):
    report = report.format(missing=tmp_path / "missing", folder=tmp_path)
    # The bundle does not exist: the report option must fail first, before anything is loaded.
    result = invoke("check", COMPAS_POLICY, "--bundle", tmp_path / "no-bundle", "--report", report)
    assert result.exit_code == 2
    assert "--report" in result.stderr
    assert message in result.stderr


def test_report_path_named_twice_rejected(tmp_path):
    target = tmp_path / "out.html"
    result = invoke(*check_args("--report", f"html={target}", "--report", f"markdown={target}"))
    assert result.exit_code == 2
    assert "named by two reports" in result.stderr
    result = invoke(*check_args("-o", target, "--report", f"html={target}"))
    assert result.exit_code == 2
    assert "named by both -o and --report" in result.stderr


def test_text_has_no_colour_off_terminal():
    result = invoke(*check_args(), color=True)
    assert "\x1b[" not in result.stdout


def test_text_colour_on_terminal(monkeypatch):
    monkeypatch.setattr("govdsl.report.ansi.wants_colour", lambda stream, environ: True)
    result = invoke(*check_args(), color=True)
    assert "\x1b[" in result.stdout
    plain = invoke(*check_args()).stdout
    # Both runs print the same report; only the audit record line at the end differs.
    assert click.unstyle(result.stdout).split("Gate:")[0] == plain.split("Gate:")[0]


class FakeStream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_wants_colour_rules():
    assert wants_colour(FakeStream(True), {})
    assert not wants_colour(FakeStream(False), {})
    assert not wants_colour(FakeStream(True), {"NO_COLOR": "1"})
    assert wants_colour(FakeStream(True), {"NO_COLOR": ""})


def test_colour_marks_statuses_and_gate():
    text = "FAIL         p.c  [hard]\n    PASS         check x\nGate: BLOCKED by 1 control(s): p.c\n"
    coloured = colour_text_report(text)
    assert "\x1b[31m\x1b[1mFAIL\x1b[0m" in coloured
    assert "\x1b[32mPASS\x1b[0m" in coloured
    assert "Gate: \x1b[31m\x1b[1mBLOCKED\x1b[0m" in coloured


def test_progress_waits_for_delay():
    now = [0.0]
    stream = FakeStream(True)
    progress = ProgressLine(stream, delay=1.0, clock=lambda: now[0])
    progress(0, 2, "reduction r1")
    assert stream.getvalue() == ""
    now[0] = 1.5
    progress(1, 2, "reduction r2")
    assert "govdsl: [##########----------] 1/2 reduction r2" in stream.getvalue()
    progress.close()
    assert stream.getvalue().endswith("\r")


def test_progress_reports_each_reduction():
    import datetime

    from govdsl.compiler import compile_policies
    from govdsl.engine.evaluate import evaluate
    from govdsl.evidence import load_bundle

    calls = []
    plan, _ = compile_policies([str(COMPAS_POLICY)])
    evaluate(plan, load_bundle(COMPAS_BUNDLE), clock=lambda: datetime.date(2026, 12, 4), progress=lambda *a: calls.append(a))
    total = len(plan.reductions)
    assert [c[0] for c in calls] == list(range(total + 1))
    assert all(c[1] == total for c in calls)


def test_no_progress_when_stderr_not_terminal():
    result = invoke(*check_args())
    assert "govdsl: [" not in result.stderr


def test_hostile_group_in_text_report(mixed):
    # The text report is for terminals, where markup is inert: it prints feature values as they are.
    from govdsl.report.text import render_text

    assert HOSTILE_GROUP in render_text(mixed)


def test_markdown_names_requirement_statements():
    from support import REPO

    result = CliRunner().invoke(
        cli.main,
        ["check", str(REPO / "policies" / "examples" / "adult.gov"), "--bundle", str(REPO / "examples" / "adult"), "--format", "markdown", "--no-audit"],
    )
    rows = [line for line in result.stdout.splitlines() if line.startswith("| `owner`")]
    assert rows == [rows[0]]
    assert '`require owner: approval "model_owner" within 365d`' in rows[0]
