"""The baseline comparison and the regression gate in the markdown, html, junit and oscal reports.

Each case runs `govdsl check` twice as a user would: once on the previous model's
bundle to write the baseline results, then on the new bundle with `--baseline`, and
writes every report format from that second run.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from junitparser import Failure, JUnitXml
from trestle.oscal.assessment_results import Model

from govdsl.cli import main
from govdsl.engine.results import Gate
from govdsl.report.views import Regression, gate_regressions
from support import make_bundle, write_policy

# `parity` passes in both runs, but its gap grows from 0 to 0.5. The advisory `hint`
# passes before (accuracy 7/8) and fails after (5/8), which is a regression only.
POLICY = """
policy drift {
  control parity { enforcement hard check gap: true_positive_rate_difference(by = "group") <= 0.6 }
  control hint { enforcement advisory check accuracy() >= 0.7 }
}
"""
# The same policy without the advisory control: the only regression is the worsened gap.
METRIC_ONLY_POLICY = """
policy drift {
  control parity { enforcement hard check gap: true_positive_rate_difference(by = "group") <= 0.6 }
}
"""
# A hard control that fails in both runs blocks the gate beside the regressions.
ALSO_BLOCKED_POLICY = """
policy drift {
  control parity { enforcement hard check gap: true_positive_rate_difference(by = "group") <= 0.6 }
  control hint { enforcement advisory check accuracy() >= 0.7 }
  control strict { enforcement hard check accuracy() >= 0.99 }
}
"""
# Before: TPR a 2/2, b 2/2 (gap 0), accuracy 7/8.
BEFORE = "label,prediction,group\n1,1,a\n1,1,a\n0,0,a\n0,0,a\n1,1,b\n1,1,b\n0,0,b\n0,1,b\n"
# After: TPR a 1/2, b 2/2 (gap 0.5), accuracy 5/8.
AFTER = "label,prediction,group\n1,1,a\n1,0,a\n0,0,a\n0,0,a\n1,1,b\n1,1,b\n0,1,b\n0,1,b\n"

FORMATS = ("json", "markdown", "html", "junit", "oscal", "csv")
HINT_REGRESSION = "control drift.hint newly fails"
GAP_REGRESSION = (
    "drift.parity.gap: true_positive_rate_difference worsened from 0.0000 to 0.5000, by 0.5000,"
    " more than the regression tolerance 0.3; its threshold <= 0.6 still holds"
)


def run_with_baseline(folder: Path, policy_text: str, *options: str) -> tuple[int, dict[str, str]]:
    """Check the BEFORE bundle into a baseline, then the AFTER bundle against it.

    Returns the exit code of the second run and its report in every format.
    """
    folder.mkdir()
    policy = write_policy(folder, policy_text)
    before, after = folder / "before", folder / "after"
    before.mkdir()
    after.mkdir()
    baseline = folder / "baseline.json"
    first = CliRunner().invoke(
        main, ["check", str(policy), "--bundle", str(make_bundle(before, BEFORE)), "--format", "json", "-o", str(baseline)]
    )
    # A control that fails in both runs blocks the first gate too (exit 1), and the results are still written.
    assert first.exit_code in (0, 1), first.output
    assert baseline.exists()
    reports = [f"--report={name}={folder / f'report.{name}'}" for name in FORMATS]
    arguments = ["check", str(policy), "--bundle", str(make_bundle(after, AFTER)), "--baseline", str(baseline), *options, *reports]
    second = CliRunner().invoke(main, arguments)
    assert second.exit_code in (0, 1), second.output
    return second.exit_code, {name: (folder / f"report.{name}").read_text(encoding="utf-8") for name in FORMATS}


@pytest.fixture(scope="module")
def regression_only(tmp_path_factory):
    folder = tmp_path_factory.mktemp("regression_only") / "run"
    return run_with_baseline(folder, POLICY, "--fail-on-regression", "--regression-tolerance", "0.3")


@pytest.fixture(scope="module")
def metric_only(tmp_path_factory):
    folder = tmp_path_factory.mktemp("metric_only") / "run"
    return run_with_baseline(folder, METRIC_ONLY_POLICY, "--fail-on-regression", "--regression-tolerance", "0.3")


@pytest.fixture(scope="module")
def also_blocked(tmp_path_factory):
    folder = tmp_path_factory.mktemp("also_blocked") / "run"
    return run_with_baseline(folder, ALSO_BLOCKED_POLICY, "--fail-on-regression", "--regression-tolerance", "0.3")


@pytest.fixture(scope="module")
def compared_only(tmp_path_factory):
    folder = tmp_path_factory.mktemp("compared_only") / "run"
    return run_with_baseline(folder, POLICY)


def test_case_blocks_only_by_regressions(regression_only):
    exit_code, reports = regression_only
    gate = json.loads(reports["json"])["gate"]
    assert exit_code == 1
    assert gate["decision"] == "blocked"
    assert gate["blocking_controls"] == []
    assert gate["regressions"] == [HINT_REGRESSION, GAP_REGRESSION]


# --- markdown -----------------------------------------------------------------------------


def test_markdown_gate_names_regressions(regression_only):
    _, reports = regression_only
    text = reports["markdown"]
    assert "**Gate: BLOCKED** by 2 regression(s) against the baseline" in text
    assert "0 control(s)" not in text
    assert "- control drift.hint newly fails" in text
    assert "- drift.parity.gap: true\\_positive\\_rate\\_difference worsened from 0.0000 to 0.5000, by 0.5000," in text


def test_markdown_gate_names_controls_and_regressions(also_blocked):
    exit_code, reports = also_blocked
    assert exit_code == 1
    assert "**Gate: BLOCKED** by 1 control(s): `drift.strict` and 2 regression(s) against the baseline" in reports["markdown"]


def test_markdown_baseline_section(regression_only):
    _, reports = regression_only
    text = reports["markdown"]
    section = text[text.index("### Baseline"):]
    assert "| `drift.hint` | newly failing | pass | fail |" in section
    assert "| `drift.parity.gap` | `true_positive_rate_difference` | 0.0000 | 0.5000 | +0.5000 | **worse, blocks the gate** |" in section
    # Accuracy fell by 0.25, within the tolerance of 0.3.
    assert "| `drift.hint.1` | `accuracy` | 0.8750 | 0.6250 | -0.2500 | **worse** |" in section
    assert "more than 0.3, blocks the gate" in section


def test_markdown_baseline_without_regression_gate(compared_only):
    exit_code, reports = compared_only
    text = reports["markdown"]
    assert exit_code == 0
    assert text.startswith("## govdsl check\n\n**Gate: PASSED**")
    assert "### Baseline" in text
    assert "| `drift.hint` | newly failing | pass | fail |" in text
    # Without --fail-on-regression a worse value is marked but blocks nothing.
    assert "| **worse** |" in text
    assert "blocks the gate** |" not in text


# --- html ---------------------------------------------------------------------------------


def html_gate(page: str) -> str:
    return re.search(r'<p class="gate gate-\w+">(.*?)</p>', page).group(1)


def test_html_gate_names_regressions(regression_only):
    _, reports = regression_only
    page = reports["html"]
    assert html_gate(page) == 'Gate: BLOCKED by <a href="#baseline">2 regression(s) against the baseline</a>'
    items = re.search(r'<ul class="regressions">(.*?)</ul>', page).group(1)
    assert items == f"<li>{HINT_REGRESSION}</li><li>{html.escape(GAP_REGRESSION, quote=False)}</li>"


def test_html_gate_names_controls_and_regressions(also_blocked):
    _, reports = also_blocked
    gate = html_gate(reports["html"])
    assert gate.startswith("Gate: BLOCKED by 1 control(s): ")
    assert "drift.strict</code></a> and " in gate
    assert gate.endswith("2 regression(s) against the baseline</a>")


class TableReader(HTMLParser):
    """Collect the cell texts of every table row, keyed by the class of its table."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.table: str | None = None
        self.row: list[str] | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.table = dict(attrs).get("class") or ""
            self.tables.setdefault(self.table, [])
        elif tag == "tr" and self.table is not None:
            self.row = []
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self.table = None
        elif tag == "tr" and self.row is not None:
            self.tables[self.table].append(self.row)
            self.row = None
        elif tag in ("td", "th") and self.cell is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def html_tables(page: str) -> dict[str, list[list[str]]]:
    reader = TableReader()
    reader.feed(page)
    return reader.tables


def test_html_baseline_section(regression_only):
    _, reports = regression_only
    page = reports["html"]
    assert '<section id="baseline"><h2>Baseline</h2>' in page
    assert '<a href="#baseline">Baseline</a>' in page
    tables = html_tables(page)
    assert tables["baseline-controls"] == [
        ["control", "change", "baseline status", "status now"],
        ["drift.hint", "newly failing", "PASS", "FAIL"],
    ]
    assert tables["baseline-metrics"] == [
        ["check", "metric", "baseline value", "value now", "change", "move"],
        ["drift.parity.gap", "true_positive_rate_difference", "0.0000", "0.5000", "+0.5000", "worse, blocks the gate"],
        ["drift.hint.1", "accuracy", "0.8750", "0.6250", "-0.2500", "worse"],
    ]


def test_html_baseline_section_only_with_baseline(compared_only, tmp_path):
    exit_code, reports = compared_only
    assert exit_code == 0
    assert 'class="gate gate-passed"' in reports["html"]
    assert '<section id="baseline">' in reports["html"]
    policy = write_policy(tmp_path, POLICY)
    plain = CliRunner().invoke(main, ["check", str(policy), "--bundle", str(make_bundle(tmp_path, AFTER)), "--format", "html"])
    assert plain.exit_code == 0, plain.output
    assert 'id="baseline"' not in plain.stdout
    assert 'href="#baseline"' not in plain.stdout


# --- junit --------------------------------------------------------------------------------


def junit_suites(text: str) -> dict:
    return {suite.name: suite for suite in JUnitXml.fromstring(text)}


def test_junit_counts_regressions_as_failures(regression_only):
    _, reports = regression_only
    suites = junit_suites(reports["junit"])
    baseline = suites["baseline"]
    cases = {case.name: case for case in baseline}
    assert list(cases) == ["drift.hint", "drift.parity.gap"]
    assert {case.classname for case in baseline} == {"baseline"}
    messages = [case.result[0].message for case in cases.values()]
    assert messages == [HINT_REGRESSION, GAP_REGRESSION]
    assert all(isinstance(case.result[0], Failure) for case in cases.values())
    assert baseline.failures == 2
    # The advisory check's own failure and the two regressions.
    assert JUnitXml.fromstring(reports["junit"]).failures == 3


def test_junit_regression_details(regression_only):
    _, reports = regression_only
    case = next(case for case in junit_suites(reports["junit"])["baseline"] if case.name == "drift.parity.gap")
    text = case.result[0].text
    assert "value 0.0000 in the baseline, 0.5000 now" in text
    assert "change +0.5000, more than the tolerance 0.3" in text
    assert re.search(r"^baseline: \S*/baseline\.json \(as of \d{4}-\d\d-\d\d, model toy version 1\)$", text, re.M)


def test_junit_metric_only_regression_fails(metric_only):
    exit_code, reports = metric_only
    root = JUnitXml.fromstring(reports["junit"])
    assert exit_code == 1
    # Every check passed, so without the regression's test case CI would show no failure.
    assert root.failures == 1
    (case,) = junit_suites(reports["junit"])["baseline"]
    assert case.name == "drift.parity.gap"
    assert case.result[0].message == GAP_REGRESSION


def test_junit_without_regression_gate_adds_no_suite(compared_only):
    _, reports = compared_only
    assert "baseline" not in junit_suites(reports["junit"])


# --- oscal --------------------------------------------------------------------------------


def oscal_result(text: str) -> dict:
    return json.loads(text)["assessment-results"]["results"][0]


def test_oscal_gate_names_regressions(regression_only):
    _, reports = regression_only
    result = oscal_result(reports["oscal"])
    assert result["description"].endswith(
        f"The gate is blocked by 2 regression(s) against the baseline: {HINT_REGRESSION}; {GAP_REGRESSION}."
    )
    props = {prop["name"]: prop["value"] for prop in result["props"]}
    assert props["gate"] == "blocked"
    assert props["regressions"] == f"{HINT_REGRESSION}; {GAP_REGRESSION}"
    assert props["baseline"].endswith("baseline.json")


def test_oscal_baseline_remarks(regression_only):
    _, reports = regression_only
    remarks = oscal_result(reports["oscal"])["remarks"].splitlines()
    assert "- control drift.hint: newly failing (pass in the baseline, fail now)" in remarks
    assert (
        "- check drift.parity.gap: true_positive_rate_difference 0.0000 in the baseline, 0.5000 now (+0.5000, worse, blocks the gate)"
        in remarks
    )


def test_oscal_with_baseline_loads_with_trestle(regression_only):
    _, reports = regression_only
    model = Model.model_validate(json.loads(reports["oscal"]))
    (result,) = model.assessment_results.results
    assert "newly failing" in result.remarks


def test_oscal_gate_names_controls_and_regressions(also_blocked):
    _, reports = also_blocked
    description = oscal_result(reports["oscal"])["description"]
    assert "The gate is blocked by 1 control(s): drift.strict and by 2 regression(s) against the baseline" in description


# --- csv ----------------------------------------------------------------------------------


def test_csv_keeps_clause_matrix_only(regression_only):
    # The policy maps no clause, so the CSV is its header alone: the comparison is not part of it.
    _, reports = regression_only
    assert reports["csv"].splitlines()[0].startswith("framework,clause,reference")
    assert len(reports["csv"].splitlines()) == 1


# --- views.gate_regressions ---------------------------------------------------------------


def gate_from(data: dict) -> Gate:
    """Rebuild the Gate of JSON results."""
    return Gate(**{key: tuple(value) if isinstance(value, list) else value for key, value in data["gate"].items()})


def test_regressions_pair_with_baseline_records(regression_only):
    _, reports = regression_only
    data = json.loads(reports["json"])
    regressions = gate_regressions(SimpleNamespace(gate=gate_from(data), baseline=data["baseline"]))
    assert [r.text for r in regressions] == [HINT_REGRESSION, GAP_REGRESSION]
    assert [r.subject for r in regressions] == ["drift.hint", "drift.parity.gap"]
    assert regressions[1].details[-1] == "change +0.5000, more than the tolerance 0.3"


def test_regressions_keep_text_when_records_differ(regression_only):
    _, reports = regression_only
    data = json.loads(reports["json"])
    # A gate entry that no baseline record matches, as a newer comparison might write.
    gate = dataclasses.replace(gate_from(data), regressions=("something else moved",))
    assert gate_regressions(SimpleNamespace(gate=gate, baseline=data["baseline"])) == [Regression("something else moved")]
