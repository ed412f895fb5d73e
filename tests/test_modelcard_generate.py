"""`govdsl modelcard`: the nine sections, filled from the bundle and from results, in Markdown and HTML."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from govdsl.cli import main
from govdsl.report.modelcard import SECTIONS, Section, render_html
from support import COMPAS_BUNDLE, COMPAS_POLICY, copy_bundle, replace_in


@pytest.fixture(scope="module")
def compas_results(tmp_path_factory):
    path = tmp_path_factory.mktemp("results") / "results.json"
    result = CliRunner().invoke(
        main, ["check", str(COMPAS_POLICY), "--bundle", str(COMPAS_BUNDLE), "--format", "json", "-o", str(path), "--as-of", "2026-12-01"]
    )
    assert result.exit_code == 1, result.output
    return path


def card(*arguments):
    result = CliRunner().invoke(main, ["modelcard", *arguments])
    return result


def test_sections_in_order_without_results():
    result = card("--bundle", str(COMPAS_BUNDLE))
    assert result.exit_code == 0, result.output
    headings = re.findall(r"^## (.+)$", result.stdout, re.MULTILINE)
    assert headings == list(SECTIONS)
    assert "No evaluation results were given" in result.stdout
    assert "| independent_validator | Example Validation Analyst | approved | 2024-02-01 | broward-2013-2014 |" in result.stdout


def test_results_fill_quantitative_analyses(compas_results):
    text = card("--bundle", str(COMPAS_BUNDLE), "--results", str(compas_results)).stdout
    assert "| false_positive_rate_difference | <= 0.1000 | compas_fairness.fpr_parity_race | hard |" in text
    assert "Gate decision: blocked by 3 control(s): compas_fairness.fpr_parity_race, compas_fairness.fnr_parity_race," in text
    assert "| race=African-American | 3175 | 0.4234" in text
    caveats = text.split("## Caveats and Recommendations", 1)[1]
    assert "- compas_fairness.fpr_parity_race has the status fail. Remediation: Examine why defendants" in caveats


def test_bundle_without_card_says_not_documented(tmp_path):
    bundle = copy_bundle(tmp_path)
    replace_in(bundle / "bundle.yaml", "model_card: model_card.md\n", "")
    text = card("--bundle", str(bundle)).stdout
    ethics = text.split("## Ethical Considerations", 1)[1].split("##", 1)[0]
    assert "Not documented: the bundle, which has no model card, says nothing about ethical considerations." in ethics


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            assert not (name in ("src", "href") and value and value.startswith("http")), "the card must load nothing"

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_self_contained_and_escaped(tmp_path, compas_results):
    bundle = copy_bundle(tmp_path)
    replace_in(bundle / "bundle.yaml", 'owner: "Model Risk Example Team"', 'owner: "<script>alert(1)</script>"')
    result = card("--bundle", str(bundle), "--results", str(compas_results), "--format", "html")
    assert result.exit_code == 0, result.output
    page = result.stdout
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    parser = _Collector()
    parser.feed(page)
    assert parser.tags.count("h2") == 9
    assert "table" in parser.tags


def test_html_renders_card_markdown(compas_results):
    result = card("--bundle", str(COMPAS_BUNDLE), "--results", str(compas_results), "--format", "html")
    assert result.exit_code == 0, result.output
    page = result.stdout
    # The card's own pipe table in Quantitative Analyses, with its right-aligned columns.
    assert "<th>Group</th>" in page
    assert '<td style="text-align:right">3,175</td>' in page
    assert "<code>Low</code>" in page
    assert "<li>Name: COMPAS (Correctional Offender Management Profiling" in page
    assert "| ---" not in page
    assert "|---" not in page
    assert "`" not in page
    assert "<p>- " not in page
    parser = _Collector()
    parser.feed(page)
    parser.close()
    assert parser.tags.count("h1") == 1
    assert parser.tags.count("h2") == 9
    assert parser.tags.count("table") > 8


def test_html_note_without_results_renders_code():
    page = card("--bundle", str(COMPAS_BUNDLE), "--format", "html").stdout
    assert "pass <code>--results results.json</code>." in page
    assert "`" not in page


def test_html_escapes_raw_html_in_card(tmp_path):
    bundle = copy_bundle(tmp_path)
    replace_in(
        bundle / "model_card.md",
        "## Ethical Considerations\n",
        "## Ethical Considerations\n\n<script>alert(1)</script>\n\nA photo <img src=x onerror=alert(1)> inline.\n\n",
    )
    result = card("--bundle", str(bundle), "--format", "html")
    assert result.exit_code == 0, result.output
    page = result.stdout
    assert "<script" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "A photo &lt;img src=x onerror=alert(1)&gt; inline." in page
    parser = _Collector()
    parser.feed(page)
    parser.close()
    assert "script" not in parser.tags
    assert "img" not in parser.tags
    # The escaped markup is shown as text.
    assert "<script>alert(1)</script>" in "".join(parser.text)


def test_html_card_image_becomes_link(tmp_path):
    bundle = copy_bundle(tmp_path)
    replace_in(bundle / "model_card.md", "## Metrics\n", "## Metrics\n\n![ROC curve](plots/roc.png)\n\n")
    page = card("--bundle", str(bundle), "--format", "html").stdout
    assert "<img" not in page
    assert '<a href="plots/roc.png">ROC curve</a>' in page
    markdown = card("--bundle", str(bundle)).stdout
    assert "![ROC curve](plots/roc.png)" in markdown


def test_html_card_headings_nest_under_section():
    section = Section("Factors", [("markdown", "# Inner heading\n\nText.")])
    page = render_html("Card", [section])
    assert "<h3>Inner heading</h3>" in page
    assert page.count("<h1>") == 1


def test_results_of_another_model_rejected(tmp_path, compas_results):
    data = json.loads(compas_results.read_text(encoding="utf-8"))
    data["bundle"]["model"]["version"] = "v99"
    other = tmp_path / "other.json"
    other.write_text(json.dumps(data), encoding="utf-8")
    result = card("--bundle", str(COMPAS_BUNDLE), "--results", str(other))
    assert result.exit_code == 2
    assert "E809" in result.stderr
    assert "v99" in result.stderr


def test_bad_results_file_rejected(tmp_path):
    path = tmp_path / "results.json"
    path.write_text('{"schema_version": "2.0", "controls": []}', encoding="utf-8")
    result = card("--bundle", str(COMPAS_BUNDLE), "--results", str(path))
    assert result.exit_code == 2
    assert "E808" in result.stderr and "`gate` is missing" in result.stderr
