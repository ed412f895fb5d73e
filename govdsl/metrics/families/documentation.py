"""Model card metrics: which standard sections a card fills, and problems in its Hugging Face metadata."""

from __future__ import annotations

from govdsl.metrics.declaration import MetricDeclaration, mark_integer_valued

_IMPL = "govdsl.metrics.documentation"

_SECTIONS = (
    "Model Details, Intended Use, Factors, Metrics, Evaluation Data, Training Data, Quantitative Analyses,"
    " Ethical Considerations, Caveats and Recommendations"
)
_HEADINGS = (
    "a section counts under its own heading or a common variant, such as `Uses` for Intended Use,"
    " `Testing Data` for Evaluation Data or `Limitations` for Caveats and Recommendations"
    " (docs/metrics.md lists them all); headings compare without case, numbering or punctuation"
)
_PLACEHOLDERS = (
    "a section whose text is empty or only placeholders (TBD, TODO, N/A, None, Unknown,"
    " `[More Information Needed]`, lorem ipsum, lines starting with TODO) counts as missing;"
    " HTML comments do not count as text"
)
_NO_CARD = "a bundle that declares no `model_card` gives status `error`"
_MALFORMED = "malformed YAML front matter, or a YAML card that is not valid YAML, stops the run with E412 (exit 2)"
_ROWS = "each row is one standard section, named with the heading found for it; `n` is the section's word count"

_COMMON = dict(kind="overall", family="documentation", roles=(), calling="arguments")

DECLARATIONS = [
    MetricDeclaration(
        name="model_card_completeness",
        summary=(
            "Share of the nine sections of Mitchell et al. (2019), \"Model Cards for Model Reporting\","
            f" that the model card fills with real text: {_SECTIONS}."
        ),
        components=("present",),
        value_range=(0.0, 1.0),
        reduction="model_card_sections",
        implementation=f"{_IMPL}:model_card_completeness",
        better="higher",
        edge_cases=(_PLACEHOLDERS, _HEADINGS, _NO_CARD, _MALFORMED, "a card with no headings has completeness 0"),
        limitations=(
            "only the presence of real text is checked, not whether the text is accurate or sufficient",
            "a heading inside a list item or block quote does not start a section",
            _ROWS,
        ),
        **_COMMON,
    ),
    MetricDeclaration(
        name="model_card_sections",
        summary=(
            "One value per standard model card section of Mitchell et al. (2019): 1 when the card fills it"
            " with real text, else 0. A check reads it through `min(...)` or a quantifier, such as"
            " `every s in model_card_sections() : s == 1`, whose message names the missing sections."
        ),
        components=("present",),
        value_range=(0.0, 1.0),
        reduction="model_card_sections",
        implementation=f"{_IMPL}:model_card_sections",
        better="higher",
        edge_cases=(_PLACEHOLDERS, _HEADINGS, _NO_CARD, _MALFORMED),
        limitations=("only the presence of real text is checked, not whether the text is accurate or sufficient", _ROWS),
        per_group=True,
        **_COMMON,
    ),
    MetricDeclaration(
        name="model_card_metadata_errors",
        summary=(
            "Number of problems in the model card's YAML front matter, checked against the Hugging Face"
            " model card metadata fields: license, license_name, license_link, language, tags, datasets,"
            " metrics, base_model, library_name, pipeline_tag, model_name and the model-index structure."
        ),
        components=(),
        value_range=(0.0, float("inf")),
        reduction="model_card_metadata",
        implementation=f"{_IMPL}:model_card_metadata_errors",
        better="lower",
        edge_cases=(
            "a Markdown card without front matter, or a YAML card, has no metadata: the value is undefined"
            " and the check is `insufficient`",
            "empty front matter (`---` directly followed by `---`) has no problems",
            _NO_CARD,
            _MALFORMED,
        ),
        limitations=(
            "types and structure are checked, not the Hub's lists of license ids, languages, libraries or tasks",
            "fields that the specification does not name are allowed and not checked",
            "each row is one problem, with the card line it is on",
        ),
        **_COMMON,
    ),
]

# Counts of rows, values, files or days, and 0/1 indicators: `==` compares them exactly.
DECLARATIONS = mark_integer_valued(DECLARATIONS, {"model_card_metadata_errors", "model_card_sections"})
