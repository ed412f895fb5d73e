"""Model cards: headings as CommonMark finds them, standard sections, placeholders, metadata, and the metrics.

References: markdown-it-py (CommonMark) for the headings of a Markdown card, and
huggingface_hub for the Hugging Face `model-index` structure.
"""

from __future__ import annotations

import datetime
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from huggingface_hub import ModelCard as HubModelCard
from huggingface_hub.repocard_data import model_index_to_eval_results
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from govdsl.cli import main
from govdsl.compiler import compile_policies
from govdsl.engine.evaluate import evaluate
from govdsl.errors import InvalidInputError
from govdsl.evidence import load_bundle
from govdsl.evidence.card_metadata import metadata_problems
from govdsl.evidence.model_card import STANDARD_SECTIONS, find_headings, is_placeholder, read_model_card
from support import COMPAS_BUNDLE, REPO, make_bundle, write_policy

CARDS = Path(__file__).resolve().parent / "data" / "cards"
AS_OF = datetime.date(2026, 1, 15)
COMMONMARK = MarkdownIt("commonmark")
CSV = "label,prediction,group\n1,1,a\n0,0,a\n1,0,b\n0,1,b\n"


def bundle_with_card(tmp_path: Path, card: str | None, text: str | None = None) -> Path:
    """Write a small bundle whose model card is a file of tests/data/cards (or `text`, saved as `card`)."""
    bundle = make_bundle(tmp_path, CSV)
    if card is not None:
        if text is None:
            shutil.copy(CARDS / card, bundle / card)
        else:
            (bundle / card).write_bytes(text.encode("utf-8"))
        with (bundle / "bundle.yaml").open("a", encoding="utf-8") as manifest:
            manifest.write(f"model_card: {card}\n")
    return bundle


def check(tmp_path: Path, bundle: Path, body: str):
    """Evaluate one control `p.c` whose body is `body`, and return its check results."""
    policy = write_policy(tmp_path, f"policy p {{\n  control c {{\n{body}\n  }}\n}}\n")
    plan, _ = compile_policies([str(policy)])
    results = evaluate(plan, load_bundle(bundle), clock=lambda: AS_OF)
    return results.controls[0].checks


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


# Headings, compared with a CommonMark parser


def reference_headings(text: str) -> list[tuple[int, str, int]]:
    """Top-level headings as markdown-it-py finds them: (level, text, 0-based first line)."""
    tokens = COMMONMARK.parse(text)
    return [
        (int(token.tag[1]), " ".join(tokens[index + 1].content.split()), token.map[0])
        for index, token in enumerate(tokens)
        if token.type == "heading_open" and token.level == 0
    ]


def own_headings(text: str) -> list[tuple[int, str, int]]:
    return [(h.level, " ".join(h.text.split()), h.start) for h in find_headings(text.split("\n"))]


# Lines that exercise every block the heading finder models: ATX and setext headings,
# fences, HTML blocks, block quotes, list items, indented code and lazy continuation lines.
LINES = [
    "# A", "## Intended Use", "### x ###", "#no", "# C#", "text", "more text", "", "", "===", "---", "-",
    "- item", "* item", "1. one", "2) two", "  indented", "    code", "```", "~~~", "```py", "> quote", ">",
    "<!-- c", "-->", "<!-- one -->", "<div>", "</div>", "<span>", "<pre>", "</pre>", "* * *", "___",
    "| a | b |", "|---|---|", "\t# tab", "   # three", "  - nested", "   ## in item", "<details>", "<?php", "?>",
]


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(LINES), max_size=12))
def test_headings_match_commonmark_random(lines):
    text = "\n".join(lines)
    assert own_headings(text) == reference_headings(text)


@pytest.mark.parametrize("path", sorted(CARDS.glob("*.md")) + [COMPAS_BUNDLE / "model_card.md"], ids=lambda p: p.name)
def test_headings_match_commonmark_cards(path):
    text = path.read_text(encoding="utf-8")
    if text.startswith("---\n"):
        end = text.index("\n---\n", 4) + 5
        text = "\n" * text[:end].count("\n") + text[end:]  # blank out the front matter, keeping line numbers
    assert own_headings(text) == reference_headings(text)


def test_compas_card_section_words_match_reference():
    """Word counts of each section: text between markdown-it's heading lines, tokens with a letter or digit."""
    path = COMPAS_BUNDLE / "model_card.md"
    lines = path.read_text(encoding="utf-8").splitlines()
    tokens = COMMONMARK.parse("\n".join(lines))
    starts = [t.map for t in tokens if t.type == "heading_open"]
    card = read_model_card(path, "model_card.md")
    assert [s.line - 1 for s in card.sections] == [start for start, _ in starts]
    for section, (start, end) in zip(card.sections[1:], starts[1:]):
        following = [s for s, _ in starts if s > start]
        stop = following[0] if following else len(lines)
        words = sum(1 for line in lines[end:stop] for token in line.split() if re.search(r"\w", token))
        assert section.words == words, section.heading
    assert card.section("Intended Use").startswith("- Use by the developer's customers")


# Standard sections and placeholders


@pytest.mark.parametrize(
    ("heading", "title"),
    [
        ("Model Details", "Model Details"),
        ("## 1. Model description", "Model Details"),
        ("Uses", "Intended Use"),
        ("Intended uses & limitations", "Intended Use"),
        ("Intended Use:", "Intended Use"),
        ("Relevant factors", "Factors"),
        ("Model Performance Measures", "Metrics"),
        ("Testing Data", "Evaluation Data"),
        ("Training and evaluation data", "Evaluation Data"),
        ("Training and evaluation data", "Training Data"),
        ("Results", "Quantitative Analyses"),
        ("Bias, Risks, and Limitations", "Ethical Considerations"),
        ("Bias, Risks, and Limitations", "Caveats and Recommendations"),
        ("Limitations", "Caveats and Recommendations"),
        ("**Caveats and Recommendations**", "Caveats and Recommendations"),
        ("[Training Data](#training-data)", "Training Data"),
    ],
)
def test_heading_variants_count_for_standard_section(tmp_path, heading, title):
    path = tmp_path / "card.md"
    path.write_text(f"# Card\n\n## {heading.lstrip('# ')}\n\nReal text about the model.\n", encoding="utf-8")
    card = read_model_card(path, "card.md")
    standard = {s.title: s for s in card.standard_sections()}
    assert standard[title].status == "present"
    assert standard[title].section.line == 3


def test_unrelated_heading_counts_for_nothing(tmp_path):
    path = tmp_path / "card.md"
    path.write_text("# Card\n\n## Overview of the business\n\nReal text.\n", encoding="utf-8")
    card = read_model_card(path, "card.md")
    assert all(s.status == "missing" for s in card.standard_sections())


@pytest.mark.parametrize(
    ("text", "placeholder"),
    [
        ("", True),
        ("   \n\n", True),
        ("TBD", True),
        ("tbd.", True),
        ("To be determined", True),
        ("TODO", True),
        ("TODO: describe who may use the model.", True),
        ("FIXME - add data", True),
        ("N/A", True),
        ("n.a.", True),
        ("None", True),
        ("Unknown", True),
        ("Not applicable", True),
        ("...", True),
        ("…", True),
        ("- TBD\n- TODO\n- N/A", True),
        ("**TBD**", True),
        ("[More Information Needed]", True),
        ("- **Developed by:** [More Information Needed]\n- **Model type:** TBD", True),
        ("Version:", True),
        ("Lorem ipsum dolor sit amet.", True),
        ("Real text, then lorem\nipsum filler.", True),
        ("<!-- Describe the training data. -->", True),
        ("{{ training_data | default('', true) }}", True),
        ("| Group | Accuracy |\n|---|---|\n| TBD | TBD |", True),
        ("N/A: the model is rule-based, so it has no training data.", False),
        ("Not applicable: the model has no training data.", False),
        ("Unknown. The vendor has not published the training data.", False),
        ("Developed by: the credit analytics team", False),
        ("| Group | Accuracy |\n|---|---|\n| a | 0.91 |", False),
        ("See https://example.org/report for the results.", False),
        ("TBD\nTrained on 2019-2023 applications.", False),
        ("0.87", False),
    ],
)
def test_placeholder_detection(text, placeholder):
    assert is_placeholder(text) is placeholder


# Completeness and sections, through the engine


@pytest.mark.parametrize(
    ("card", "value", "placeholder", "missing"),
    [
        ("hf_valid.md", 1.0, [], []),
        (
            "placeholders.md",
            1 / 9,
            ["Model Details", "Intended Use", "Factors", "Evaluation Data", "Training Data", "Quantitative Analyses",
             "Ethical Considerations", "Caveats and Recommendations"],
            [],
        ),
        (
            "hf_template.md",
            0.0,
            ["Model Details", "Intended Use", "Training Data", "Quantitative Analyses", "Ethical Considerations",
             "Caveats and Recommendations"],
            ["Factors", "Metrics", "Evaluation Data"],
        ),
        ("card.yaml", 7 / 9, ["Evaluation Data", "Quantitative Analyses"], []),
        (
            "hf_invalid.md",
            1 / 9,
            [],
            ["Intended Use", "Factors", "Metrics", "Evaluation Data", "Training Data", "Quantitative Analyses",
             "Ethical Considerations", "Caveats and Recommendations"],
        ),
    ],
)
def test_completeness_of_test_cards(tmp_path, card, value, placeholder, missing):
    (result,) = check(tmp_path, bundle_with_card(tmp_path, card), "check model_card_completeness() >= 1")
    assert result.value == pytest.approx(value)
    assert result.status == ("pass" if value == 1 else "fail")
    assert result.details["placeholder"] == placeholder
    assert result.details["missing"] == missing
    assert len(result.groups) == 9
    assert [g.group["section"] for g in result.groups] == list(STANDARD_SECTIONS)


def test_completeness_of_compas_card(tmp_path):
    bundle = tmp_path / "compas"
    shutil.copytree(COMPAS_BUNDLE, bundle)
    (result,) = check(tmp_path, bundle, "check model_card_completeness() >= 1")
    assert result.status == "pass"
    assert result.value == 1.0
    rows = {g.group["section"]: g for g in result.groups}
    assert rows["Intended Use"].n == 74
    assert rows["Intended Use"].counts == {"words": 74}
    assert rows["Intended Use"].values == {"present": 1.0}
    assert result.details["standard"].startswith("Mitchell et al. (2019)")


def test_completeness_rows_name_heading_found(tmp_path):
    (result,) = check(tmp_path, bundle_with_card(tmp_path, "hf_valid.md"), "check model_card_completeness() >= 1")
    headings = {g.group["section"]: g.group["heading"] for g in result.groups}
    assert headings["Intended Use"] == "Uses"
    assert headings["Evaluation Data"] == "Testing Data"
    assert headings["Ethical Considerations"] == "Bias, Risks, and Limitations"


def test_sections_quantifier_names_missing_sections(tmp_path):
    (result,) = check(
        tmp_path, bundle_with_card(tmp_path, "hf_template.md"), "check every s in model_card_sections() : s >= 1"
    )
    assert result.status == "fail"
    assert "section=Factors, heading=(none)" in result.message
    assert "section=Training Data, heading=Training Data" in result.message
    assert len(result.failing_groups) == 9


def test_sections_min_passes_on_full_card(tmp_path):
    (result,) = check(tmp_path, bundle_with_card(tmp_path, "hf_valid.md"), "check min(model_card_sections()) >= 1")
    assert result.status == "pass"


def test_card_without_headings_is_zero(tmp_path):
    bundle = bundle_with_card(tmp_path, "card.md", "Just a paragraph about the model, with no headings.\n")
    (result,) = check(tmp_path, bundle, "check model_card_completeness() >= 1")
    assert result.value == 0.0
    assert result.status == "fail"


def test_empty_card_is_zero(tmp_path):
    (result,) = check(tmp_path, bundle_with_card(tmp_path, "card.md", ""), "check model_card_completeness() >= 1")
    assert result.value == 0.0


def test_no_card_declared_is_error(tmp_path):
    results = check(
        tmp_path,
        bundle_with_card(tmp_path, None),
        "check model_card_completeness() >= 1\n    check model_card_metadata_errors() <= 0",
    )
    for result in results:
        assert result.status == "error"
        assert "the bundle declares no model card (`model_card` in bundle.yaml)" in result.reason


def test_card_with_bom_and_crlf(tmp_path):
    text = "\ufeff---\r\nlicense: mit\r\n---\r\n# Card\r\n\r\n## Intended Use\r\n\r\nLoan screening.\r\n"
    bundle = bundle_with_card(tmp_path, "card.md", text)
    completeness, errors = check(
        tmp_path, bundle, "check model_card_completeness() >= 1\n    check model_card_metadata_errors() <= 0"
    )
    assert completeness.details["present"] == ["Intended Use"]
    assert errors.value == 0
    assert errors.details["fields"] == ["license"]


def test_unclosed_front_matter_is_body_text(tmp_path):
    """Hugging Face reads a card whose first `---` is never closed as having no metadata; so does govdsl."""
    path = tmp_path / "card.md"
    path.write_text("---\nlicense: mit\n\n## Intended Use\n\nLoan screening.\n", encoding="utf-8")
    card = read_model_card(path, "card.md")
    assert card.metadata is None
    assert card.section("Intended Use") == "Loan screening."
    assert HubModelCard(path.read_text(encoding="utf-8")).data.to_dict() == {}


def test_require_section_accepts_heading_variant(tmp_path):
    bundle = bundle_with_card(tmp_path, "hf_valid.md")
    (result,) = check(tmp_path, bundle, '    require model_card section "Intended Use"')
    assert result.status == "pass"
    assert "section `Intended Use` of `hf_valid.md` is present as `Uses`" in result.message
    assert result.requirement["heading"] == "Uses"


def test_require_missing_standard_section_lists_variants(tmp_path):
    bundle = bundle_with_card(tmp_path, "hf_invalid.md")
    (result,) = check(tmp_path, bundle, '    require model_card section "Evaluation Data"')
    assert result.status == "fail"
    assert "has no section `Evaluation Data` (sections: Model Card for broken-model, Model Details)" in result.message
    assert "other headings accepted for it: Evaluation Dataset, Evaluation Datasets, Eval Data, Testing Data" in result.message


def test_require_placeholder_under_variant_names_heading(tmp_path):
    bundle = bundle_with_card(tmp_path, "hf_template.md")
    (result,) = check(tmp_path, bundle, '    require model_card section "Intended Use"')
    assert result.status == "fail"
    assert "section `Intended Use` (heading `Uses`, line 18) of `hf_template.md` is empty or only a placeholder" in result.message


def test_require_other_name_matches_exact_heading_only(tmp_path):
    """`Limitations` is no standard section name, so it finds only a `Limitations` heading, not `Caveats`."""
    bundle = bundle_with_card(tmp_path, "card.md", "# Card\n\n## Caveats\n\nOnly tested in 2024.\n")
    (result,) = check(tmp_path, bundle, '    require model_card section "Limitations"')
    assert result.status == "fail"
    assert "has no section `Limitations` (sections: Card, Caveats)" in result.message


def test_yaml_card_nested_keys_are_subsections(tmp_path):
    card = read_model_card(CARDS / "card.yaml", "card.yaml")
    assert card.format == "yaml"
    lines = {s.heading: s.line for s in card.sections}
    assert lines["ethical_considerations"] == 17
    assert lines["model_details"] == 2
    assert card.section("Caveats and Recommendations") == "Not validated for applicants younger than 21."
    assert card.section("evaluation_data") is None  # only TBD leaves


def test_json_card_reads_as_yaml(tmp_path):
    path = tmp_path / "card.json"
    path.write_text(json.dumps({"model_details": {"name": "m"}, "intended_use": "TBD"}), encoding="utf-8")
    card = read_model_card(path, "card.json")
    assert [s.status for s in card.standard_sections()[:2]] == ["present", "placeholder"]


def test_front_matter_field_as_section(tmp_path):
    path = tmp_path / "card.md"
    path.write_text("---\nlicense: mit\nmetrics: accuracy\n---\n# Card\n", encoding="utf-8")
    card = read_model_card(path, "card.md")
    assert card.section("license") == "mit"
    # A front-matter field never counts for a standard section, which needs a heading.
    assert card.section("Metrics") is None


# Hugging Face metadata


def test_valid_front_matter_no_problems(tmp_path):
    (result,) = check(tmp_path, bundle_with_card(tmp_path, "hf_valid.md"), "check model_card_metadata_errors() <= 0")
    assert result.status == "pass"
    assert result.value == 0
    assert result.groups == ()
    hub = HubModelCard((CARDS / "hf_valid.md").read_text(encoding="utf-8"))
    assert hub.data.license == "apache-2.0"
    assert [(r.metric_type, r.metric_value) for r in hub.data.eval_results] == [("accuracy", 0.874), ("f1", 0.71)]


def test_invalid_front_matter_lists_each_problem_with_line(tmp_path):
    (result,) = check(tmp_path, bundle_with_card(tmp_path, "hf_invalid.md"), "check model_card_metadata_errors() <= 0")
    assert result.status == "fail"
    found = [(p["line"], p["field"]) for p in result.details["problems"]]
    assert found == [
        (4, "language[1]"),
        (5, "language[2]"),
        (6, "license"),
        (7, "tags"),
        (9, "datasets"),
        (10, "library_name"),
        (14, "model-index[0].results[0].task"),
        (16, "model-index[0].results[0].dataset"),
        (20, "model-index[0].results[0].metrics[0].value"),
        (21, "model-index[0].results[0].metrics[1]"),
        (22, "model-index[0].results[0].metrics[1].verified"),
    ]
    assert result.value == 11
    messages = [p["message"] for p in result.details["problems"]]
    assert "YAML reads as a boolean" in messages[0]  # `no` (Norwegian) became false
    assert "not a language code" in messages[1]
    assert "has no `type`, which is required" in messages[6]
    assert "has no `name`, which is required" in messages[7]
    assert [g.group for g in result.groups][0] == {"line": "4", "problem": messages[0]}


def test_hub_rejects_the_invalid_model_index():
    """huggingface_hub's own parser fails on the model-index that govdsl reports as invalid."""
    metadata = yaml.safe_load((CARDS / "hf_invalid.md").read_text(encoding="utf-8").split("---")[1])
    with pytest.raises((KeyError, TypeError)):
        model_index_to_eval_results(metadata["model-index"])


def test_license_other_needs_name_and_link(tmp_path):
    (result,) = check(tmp_path, bundle_with_card(tmp_path, "license_other.md"), "check model_card_metadata_errors() <= 0")
    assert result.value == 1
    assert result.details["problems"][0]["message"] == (
        "`license` is `other` but `license_link` is missing; give it, such as `license_link: LICENSE.md`"
    )


def test_empty_front_matter_has_no_problems(tmp_path):
    bundle = bundle_with_card(tmp_path, "card.md", "---\n---\n# Card\n")
    (result,) = check(tmp_path, bundle, "check model_card_metadata_errors() <= 0")
    assert result.value == 0
    assert result.status == "pass"


@pytest.mark.parametrize(
    ("card", "reason"),
    [
        ("model_card.md", "has no YAML front matter (fields between `---` lines at its top)"),
        ("card.yaml", "is a YAML card, which has no front matter to check"),
    ],
)
def test_metadata_undefined_without_front_matter(tmp_path, card, reason):
    text = (COMPAS_BUNDLE / card).read_text(encoding="utf-8") if card == "model_card.md" else None
    (result,) = check(tmp_path, bundle_with_card(tmp_path, card, text), "check model_card_metadata_errors() <= 0")
    assert result.status == "insufficient"
    assert result.value is None
    assert reason in result.reason


REQUIRED_PATHS = [
    ("name",),
    ("results",),
    ("results", 0, "task"),
    ("results", 0, "task", "type"),
    ("results", 0, "dataset"),
    ("results", 0, "dataset", "type"),
    ("results", 0, "dataset", "name"),
    ("results", 0, "metrics"),
    ("results", 0, "metrics", 0, "type"),
    ("results", 0, "metrics", 0, "value"),
]


def _model_index_entry() -> dict:
    return {
        "name": "m",
        "results": [
            {
                "task": {"type": "text-classification", "name": "Classification"},
                "dataset": {"type": "imdb", "name": "IMDB", "split": "test"},
                "metrics": [{"type": "accuracy", "value": 0.9}, {"type": "f1", "value": "0.8 ± 0.1"}],
            }
        ],
    }


@settings(max_examples=300, deadline=None)
@given(st.sets(st.sampled_from(REQUIRED_PATHS), max_size=3))
def test_model_index_agrees_with_huggingface_hub(removed):
    """Removing required keys: govdsl reports a problem exactly when huggingface_hub cannot parse the model-index."""
    entry = _model_index_entry()
    for path in sorted(removed, key=len, reverse=True):
        target = entry
        for part in path[:-1]:
            target = target[part] if isinstance(target, list) or part in target else None
            if target is None:
                break
        if target is not None and path[-1] in target:
            del target[path[-1]]
    try:
        model_index_to_eval_results([entry])
        hub_accepts = True
    except (KeyError, TypeError):
        hub_accepts = False
    front = yaml.safe_dump({"model-index": [entry]}, sort_keys=False)
    problems = metadata_problems({"model-index": [entry]}, front, 2)
    assert (not problems) == hub_accepts, problems


# Malformed cards are invalid input (exit 2), never a traceback


@pytest.mark.parametrize(
    ("card", "where", "message"),
    [
        ("malformed_front_matter.md", ":4:9", "the YAML front matter of model card `malformed_front_matter.md` is not valid YAML at line 4, column 9"),
        ("not_a_mapping_front_matter.md", ":2:1", "is not a mapping of field names to values"),
        ("broken.yaml", ":4:1", "model card `broken.yaml` is not valid YAML at line 4, column 1"),
        ("list.yaml", ":1:1", "model card `list.yaml` is YAML but not a mapping of section names to text"),
    ],
)
def test_malformed_card_exits_2(tmp_path, card, where, message):
    bundle = bundle_with_card(tmp_path, card)
    policy = write_policy(tmp_path, "policy p {\n  control c { check model_card_completeness() >= 1 }\n}\n")
    result = invoke("check", policy, "--bundle", bundle, "--as-of", "2026-01-15")
    assert result.exit_code == 2
    assert "error[E412]" in result.stderr
    assert message in result.stderr
    assert f"{card}{where}" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "nothing was evaluated" in result.stderr


def test_malformed_front_matter_names_the_open_bracket():
    with pytest.raises(InvalidInputError) as caught:
        read_model_card(CARDS / "malformed_front_matter.md", "card.md")
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "E412"
    assert "(while parsing a flow sequence that starts at line 3)" in diagnostic.message
    assert (diagnostic.span.line, diagnostic.span.column) == (4, 9)


def test_malformed_card_fails_even_without_card_checks(tmp_path):
    """The card is read before anything is evaluated, so a broken card stops every run with a card."""
    bundle = bundle_with_card(tmp_path, "malformed_front_matter.md")
    policy = write_policy(tmp_path, 'policy p {\n  control c { check selection_rate() <= 1 }\n}\n')
    result = invoke("check", policy, "--bundle", bundle)
    assert result.exit_code == 2


# Text report and command line


def test_text_report_shows_section_rows(tmp_path):
    bundle = bundle_with_card(tmp_path, "placeholders.md")
    policy = write_policy(tmp_path, "policy p {\n  control c { check model_card_completeness() >= 0.8 }\n}\n")
    result = invoke("check", policy, "--bundle", bundle, "--as-of", "2026-01-15")
    assert result.exit_code == 1
    assert "model_card_completeness() = 0.1111 is not >= 0.8" in result.stdout
    assert re.search(r"section=Metrics, heading=Metrics +17 +1\.0000", result.stdout)
    assert re.search(r"section=Training Data, heading=Training Data +0 +0\.0000", result.stdout)


def test_metric_command_documents_completeness():
    result = invoke("metric", "model_card_completeness")
    assert result.exit_code == 0
    assert "Mitchell et al. (2019)" in result.stdout
    assert "Caveats and Recommendations" in result.stdout


def test_compiler_does_not_import_numeric_libraries(tmp_path):
    policy = write_policy(
        tmp_path,
        "policy p {\n  control c {\n    check model_card_completeness() >= 1\n"
        '    check approval_age_days(role = "owner") <= 90\n  }\n}\n',
    )
    code = (
        "import sys\nfrom govdsl.compiler import compile_policies\n"
        f"compile_policies([{str(policy)!r}])\n"
        "loaded = [m for m in ('pandas', 'numpy', 'scipy') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
