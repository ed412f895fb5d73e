"""Parser: valid programs become AST nodes with spans; invalid ones give diagnostics, never tracebacks."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govdsl.diagnostics import render
from govdsl.errors import InvalidInputError
from govdsl.syntax import ast, parse
from support import COMPAS_POLICY

VALID = """\
# leading comment
policy demo {
  version "1.2.0"
  control gap {
    title "Gaps stay small"
    maps ["EU-AI-ACT:Art.10(2)(f)", "NIST-AI-RMF:MEASURE 2.11",]
    severity high
    enforcement hard
    requires [base]
    remediation "Retrain with \\"balanced\\" data"
    check fpr: false_positive_rate_difference(by = "race") <= 0.1  # trailing comment
    check 0.8 <= demographic_parity_ratio(by = ["race", "sex"])
  }
  control base { }
}
"""


def parse_error(text: str):
    with pytest.raises(InvalidInputError) as caught:
        parse(text, "bad.gov")
    return caught.value.diagnostics


def test_parse_valid_policy_fields():
    module = parse(VALID, "demo.gov")
    policy = module.policy
    assert policy.name.value == "demo"
    assert policy.version.value == "1.2.0"
    assert [c.name.value for c in policy.controls] == ["gap", "base"]
    gap = policy.controls[0]
    assert gap.title.value == "Gaps stay small"
    assert [m.value for m in gap.maps] == ["EU-AI-ACT:Art.10(2)(f)", "NIST-AI-RMF:MEASURE 2.11"]
    assert gap.severity.value == "high"
    assert gap.enforcement.value == "hard"
    assert [r.text for r in gap.requires] == ["base"]
    assert gap.remediation.value == 'Retrain with "balanced" data'


def test_parse_check_expression_tree():
    gap = parse(VALID, "demo.gov").policy.controls[0]
    first, second = gap.checks
    assert first.name.value == "fpr"
    assert isinstance(first.body, ast.Compare)
    assert first.body.operators == ("<=",)
    metric, threshold = first.body.operands
    assert metric.function.value == "false_positive_rate_difference"
    assert metric.arguments[0].name.value == "by"
    assert metric.arguments[0].value == ast.StringLit("race")
    assert threshold.value == pytest.approx(0.1)
    assert second.name is None
    assert isinstance(second.body.operands[0], ast.NumberLit)
    assert second.body.operands[1].arguments[0].value == ast.ListLit((ast.StringLit("race"), ast.StringLit("sex")))


def test_parse_spans_point_at_source():
    module = parse(VALID, "demo.gov")
    check = module.policy.controls[0].checks[0]
    assert check.span.file == "demo.gov"
    assert check.span.line == 11
    assert check.span.column == 5
    lines = VALID.splitlines()
    assert lines[check.span.line - 1][check.span.column - 1 :].startswith("check fpr:")


def test_parse_keeps_comments():
    module = parse(VALID, "demo.gov")
    assert [c.text for c in module.comments] == ["# leading comment", "# trailing comment"]
    assert module.comments[1].span.line == 11


def test_equality_ignores_positions():
    compact = 'policy p { control c { check selection_rate() <= 0.5 } }'
    spread = 'policy p {\n\n  control c {\n    check selection_rate( ) <= 0.5\n  }\n}\n'
    assert parse(compact, "a.gov").policy == parse(spread, "b.gov").policy


def test_shipped_example_parses():
    module = parse(COMPAS_POLICY.read_text(encoding="utf-8"), "compas.gov")
    assert len(module.policy.controls) == 6


@pytest.mark.parametrize(
    ("text", "code", "line", "column"),
    [
        ('policy p { control c { titel "x" } }', "E007", 1, 24),
        ('policy p { control c { 42 } }', "E001", 1, 24),
        ('policy p { control c { check f(by = "a") = 0.1 } }', "E006", 1, 42),
        ('policy p { control c { title "x" ', "E003", 1, 34),
        ('policy p { control c { check f(by = @) <= 1 } }', "E002", 1, 37),
        ('policy p { control c { maps ["a" "b"] } }', "E001", 1, 34),
        ('policy p { control c { title "a\\q" } }', "E004", 1, 32),
        ('policy p { control c { title "a" title "b" } }', "E005", 1, 34),
        ('policy p { control c { title "open } }', "E008", 1, 30),
        ('policy p { control c { title "x"\n  control d { } }', "E009", 2, 3),
        ("# nothing here\n", "E011", 1, 15),
    ],
)
def test_syntax_error_location(text, code, line, column):
    (diagnostic,) = parse_error(text)
    assert diagnostic.code == code
    assert diagnostic.span.file == "bad.gov"
    assert (diagnostic.span.line, diagnostic.span.column) == (line, column)


def test_misspelled_keyword_suggestion():
    (diagnostic,) = parse_error('policy p { control c { titel "x" } }')
    assert diagnostic.message == "unknown keyword `titel`"
    assert diagnostic.help.startswith("did you mean `title`?")
    assert "`maps`" in diagnostic.help


def test_syntax_error_lists_expected():
    (diagnostic,) = parse_error("policy p { control c { 42 } }")
    assert diagnostic.message == "unexpected `42`"
    for keyword in ("`title`", "`maps`", "`check`", "`}`"):
        assert keyword in diagnostic.help


def test_syntax_error_rendering():
    text = 'policy p {\n  control c {\n    check f(by = "a") = 0.1\n  }\n}\n'
    (diagnostic,) = parse_error(text)
    assert render(diagnostic, {"bad.gov": text}) == (
        "error[E006]: `=` is not a comparison\n"
        " --> bad.gov:3:23\n"
        "  |\n"
        '3 |     check f(by = "a") = 0.1\n'
        "  |                       ^\n"
        "  = help: compare with a threshold using `<=` or `>=`; `==` tests exact equality"
    )


@pytest.mark.parametrize(
    "text, bracket, line, column",
    [
        ('policy p {\n  control c {\n    title "x"\n  }\n', "{", 1, 10),
        ('policy p {\n  control c {\n    title "{ not a brace"  # nor this {\n', "{", 2, 13),
        ('policy p {\n  control c {\n    maps ["A",\n', "[", 3, 10),
    ],
)
def test_end_of_file_names_unclosed_bracket(text, bracket, line, column):
    (diagnostic,) = parse_error(text)
    assert diagnostic.code == "E003"
    assert diagnostic.help.startswith(f"the `{bracket}` at line {line}, column {column} is not closed")


def test_single_equals_before_text_suggests_double():
    (diagnostic,) = parse_error('policy p { control c { applies when model.task = "regression" } }')
    assert diagnostic.code == "E006"
    assert diagnostic.help == "write `==` to test equality"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('policy control check{}[]()"=<>.,:#\n 0123456789abc_-')), max_size=80))
def test_random_text_gives_diagnostics_only(text):
    try:
        parse(text, "fuzz.gov")
    except InvalidInputError as exc:
        assert exc.diagnostics
        assert all(d.code.startswith("E") for d in exc.diagnostics)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(VALID) - 1), st.sampled_from(["", "{", "}", '"', "=", "@", "\n"]))
def test_mutated_policy_gives_diagnostics_only(position, insert):
    text = VALID[:position] + insert + VALID[position + 1 :]
    try:
        parse(text, "mutated.gov")
    except InvalidInputError as exc:
        assert exc.diagnostics


def test_errors_collected_one_per_line():
    text = 'policy x {\n  control a { titel "x" }\n  control b { check f(by = "a") = 0.1 }\n  control c { severity high\n}\n'
    diagnostics = parse_error(text)
    assert [d.code for d in diagnostics] == ["E007", "E006", "E003"]
    assert [d.span.line for d in diagnostics] == [2, 3, 5]


def test_error_count_capped():
    text = "policy x {\n" + "".join(f"  control c{i} {{ titel \"x\" }}\n" for i in range(40)) + "}\n"
    diagnostics = parse_error(text)
    assert len(diagnostics) == 20
