"""Fast parser: the same AST as the Lark parser, spans and comments included, or a fallback to Lark.

Every test compares govdsl.syntax.fastparse with govdsl.syntax.lark_parser on the same
text. The fast parser may decline a valid text, but it must never accept a text that
Lark rejects, and what it accepts must equal Lark's Module field by field, including
the fields that AST equality ignores (spans, comments, literal texts).
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govdsl.diagnostics import Span
from govdsl.errors import InvalidInputError
from govdsl.syntax import ast, parser
from govdsl.syntax.fastparse import Unsupported, parse_fast
from govdsl.syntax.formatter import format_module
from govdsl.syntax.lark_parser import parse_lark
from support import REPO
from test_formatter import KEYWORDS, check_text, expressions, modules

REPOSITORY_FILES = sorted(
    path
    for folder in ("policies", "tests", "examples")
    for path in (REPO / folder).rglob("*.gov")
)


def differences(actual, expected, path: str = "module") -> list[str]:
    """Return where two parse results differ, comparing every dataclass field, spans included."""
    if type(actual) is not type(expected):
        return [f"{path}: {type(actual).__name__} != {type(expected).__name__}"]
    if isinstance(actual, (ast.Node, Span)):
        found: list[str] = []
        for item in dataclasses.fields(actual):
            found += differences(getattr(actual, item.name), getattr(expected, item.name), f"{path}.{item.name}")
        return found
    if isinstance(actual, tuple):
        if len(actual) != len(expected):
            return [f"{path}: {len(actual)} items != {len(expected)}"]
        found = []
        for index, (left, right) in enumerate(zip(actual, expected)):
            found += differences(left, right, f"{path}[{index}]")
        return found
    # repr distinguishes 0.0 from -0.0, which == does not.
    if actual != expected or repr(actual) != repr(expected):
        return [f"{path}: {actual!r} != {expected!r}"]
    return []


def lark_result(text: str, file: str) -> ast.Module | InvalidInputError:
    try:
        return parse_lark(text, file)
    except InvalidInputError as exc:
        return exc


def assert_same_as_lark(text: str, file: str = "case.gov", accept: bool = False) -> ast.Module | None:
    """Assert the fast parser agrees with Lark on `text`; with `accept`, that it takes the text itself.

    Return the fast parser's Module, or None when it falls back to Lark.
    """
    expected = lark_result(text, file)
    try:
        actual = parse_fast(text, file)
    except Unsupported:
        actual = None
    if isinstance(expected, InvalidInputError):
        codes = [d.code for d in expected.diagnostics]
        assert actual is None, f"the fast parser accepted a text that Lark rejects with {codes}:\n{text}"
        return None
    if accept:
        assert actual is not None, f"the fast parser fell back to Lark on a valid text:\n{text}"
    if actual is not None:
        assert differences(actual, expected) == [], text
    return actual


def assert_public_parse_unchanged(text: str, file: str = "case.gov") -> None:
    """Assert `parser.parse` gives Lark's Module or Lark's diagnostics, whichever parser runs."""
    expected = lark_result(text, file)
    try:
        actual = parser.parse(text, file)
    except InvalidInputError as exc:
        assert isinstance(expected, InvalidInputError), f"Lark accepts this text:\n{text}"
        assert exc.diagnostics == expected.diagnostics
        assert exc.sources == expected.sources
        return
    assert not isinstance(expected, InvalidInputError), f"Lark rejects this text:\n{text}"
    assert differences(actual, expected) == []


# Policy files and snippets of this repository


@pytest.mark.parametrize("path", REPOSITORY_FILES, ids=lambda path: str(path.relative_to(REPO)))
def test_repository_file(path):
    text = path.read_text(encoding="utf-8")
    name = path.relative_to(REPO).as_posix()
    valid = not isinstance(lark_result(text, name), InvalidInputError)
    assert_same_as_lark(text, name, accept=valid)
    assert_public_parse_unchanged(text, name)


def test_repository_files_found():
    assert len(REPOSITORY_FILES) >= 10


def conformance_sources() -> list[tuple[str, str]]:
    sources = []
    for case_file in sorted((REPO / "tests" / "conformance").glob("*.yaml")):
        for case in yaml.safe_load(case_file.read_text(encoding="utf-8"))["cases"]:
            texts = {"policy.gov": case["policy"], **case.get("files", {})}
            for name, text in texts.items():
                sources.append((f"{case_file.stem}/{case['name']}/{name}", text))
    return sources


CONFORMANCE = conformance_sources()


@pytest.mark.parametrize(("name", "text"), CONFORMANCE, ids=[name for name, _ in CONFORMANCE])
def test_conformance_source(name, text):
    valid = not isinstance(lark_result(text, name), InvalidInputError)
    assert_same_as_lark(text, name, accept=valid)
    assert_public_parse_unchanged(text, name)


def documentation_snippets() -> list[tuple[str, str]]:
    snippets = []
    for path in sorted((REPO / "docs").glob("*.md")) + [REPO / "README.md"]:
        blocks = re.findall(r"^```(?:text|gov)?\n(.*?)^```", path.read_text(encoding="utf-8"), re.M | re.S)
        for number, block in enumerate(blocks, start=1):
            if "policy " in block:
                snippets.append((f"{path.name}#{number}", block))
    return snippets


SNIPPETS = documentation_snippets()


@pytest.mark.parametrize(("name", "text"), SNIPPETS, ids=[name for name, _ in SNIPPETS])
def test_documentation_snippet(name, text):
    assert_same_as_lark(text, name)


# Hand-picked cases: the rules where a recursive-descent parser most easily differs from Lark's


def policy_with(body: str) -> str:
    return f"policy p {{\n  control c {{\n{body}\n  }}\n}}\n"


ACCEPTED = {
    "field named like a keyword": check_text('model.title == "x" and card.check == model.in'),
    "name that is a keyword elsewhere": check_text("and <= 1"),
    "check named like a keyword": check_text("title: x <= 1"),
    "names after a minus": check_text("-not < -exists + -every"),
    "names after comparison": check_text("a < not"),
    "exists then name": check_text("exists every"),
    "quantifier body takes or": check_text("x and every g in d: a or b and c"),
    "nested quantifiers": check_text("no g in d: any h in e: g < h or not g"),
    "quantifier over parenthesized domain": check_text("every g in (d + 1): (g)"),
    "chained comparison": check_text("0.8 <= a <= 1.25 != b in c not in d matches e"),
    "parenthesized operands": check_text("(a) <= ((b)) and (c).d"),
    "parentheses around a whole check": check_text("((a <= b))"),
    "parentheses in arguments": check_text('f((a), by = ("x"), (g(h = (1))))'),
    "precedence": check_text("-a * b + c / -d - e <= f or g and not h"),
    "trailing commas": check_text('f(a, b = 1,) in [1, 2,]') + 'policy q { waivable_by ["a",] control c { requires [a, b.c,] } }\n',
    "empty brackets": check_text("f() in []") + "policy q { waivable_by [] control c { maps [] requires [] } }\n",
    "literals": check_text("[1, 1., .5, 1e5, 1.5E-3, 12.5%, 3%, 1.5y, 2w, 48h, 90d, 2024-02-29, true, false]"),
    "date-like subtraction": check_text("2024-1-1 + 12345-01-01"),
    "string escapes": check_text(r'"a\"b\\c\nd\te" matches "\\d+"'),
    "unicode strings": check_text('"ünïcödé – ✓" == "\u2028 tab\there"'),
    "not in across spaces": check_text("a not \t in b"),
    "not in across a non-breaking space": check_text("a not\u00a0in b"),
    "operators without spaces": check_text("a<=b==c!=d<e>f and(g)or-h"),
    "number then keyword": check_text("1and 2or 3"),
    "comments everywhere": "# head\npolicy p # after name\n{ # brace\n  control c { check a # mid\n  <= # op\n  1 }\n}\n# tail",
    "comment at end without newline": "policy p { }\n# end",
    "crlf line endings": "policy p {\r\n  control c {\r\n    check a <=\r\n      1  # note\r\n  }\r\n}\r\n",
    "tabs and form feeds": "policy p {\n\tcontrol c {\f\n\t\tcheck a\t<=\t1\n\t}\n}\n",
    "carriage returns only": "policy p {\r  control c { check a <= 1 }\r}\r",
    "imports": 'import "a.gov"\nimport "b.gov" as policy\npolicy p { }\nimport "c.gov" as as\npolicy q { }\n',
    "policy items": 'policy p {\n  version "1"\n  description "d"\n  waivable_by ["r"]\n  applies when model.risk_tier == "high"\n  param max_gap: number = 0.1 { doc "d" tier high = 0.05 tier low = (0.2) }\n  param names: list[string]\n  param plain: number = (1)\n  param empty: number {}\n}\n',
    "control items": policy_with(
        '    title "t"\n    description "d"\n    owner "o"\n    maps ["A:1", "B:2"]\n    severity high\n'
        '    enforcement hard\n    waivable_by ["r"]\n    tags ["x"]\n    references ["y"]\n    requires [a, p.b]\n'
        '    remediation "r"\n    applies when exists card.intended_use\n    check named: a <= 1\n    check a <= 2\n'
        '    require model_card section "Intended use"\n    require approval "risk" within 90d\n'
        '    require appr: approval "risk" within (2 * 30d)\n    require ev: evidence "data.csv"\n'
        '    require card: model_card section "s"'
    ),
    "keywords as names where only a name fits": 'policy control {\n  param check: number = 1\n  control policy { severity check enforcement true }\n}\n',
    "empty policy": "policy p {}",
}


@pytest.mark.parametrize("text", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_valid_case_parsed_fast(text):
    assert_same_as_lark(text, accept=True)


# Valid texts the fast parser leaves to Lark, because Lark's contextual lexer reads them unusually.
DECLINED = {
    "not in at an expression start": check_text("not in"),
    "not in over a line break": check_text("a not\n in b"),
    "not in over a crlf": "policy p {\r\n  control c { check a not\r\n  in b }\r\n}\r\n",
    "keyword prefix of a name": check_text("a inb"),
    "keyword then name": policy_with("    checkx <= 1"),
}


@pytest.mark.parametrize("text", DECLINED.values(), ids=DECLINED.keys())
def test_unusual_valid_case_left_to_lark(text):
    with pytest.raises(Unsupported):
        parse_fast(text, "case.gov")
    assert_public_parse_unchanged(text)


INVALID = {
    "unknown escape": check_text(r'"a\qb" == x'),
    "invalid date": check_text("x < 2024-02-30"),
    "duplicate field": policy_with('    title "a"\n    title "b"'),
    "duplicate policy field": 'policy p { version "1" version "2" }',
    "duplicate param doc": 'policy p { param x: number { doc "a" doc "b" } }',
    "no policy": 'import "a.gov"\n',
    "comments only": "# nothing\n",
    "empty text": "",
    "keyword as check name": check_text("every: x"),
    "keyword as argument name": check_text("f(true = 1)"),
    "true as a call": check_text("true(1)"),
    "exists before comparison": check_text("exists a <= 1"),
    "comparison in domain": check_text("every g in a < b: g"),
    "minus after exists": check_text("exists -a"),
    "double comma": check_text("f(a,,)"),
    "leading comma": check_text("[,]"),
    "unclosed string": check_text('"abc'),
    "string over two lines": check_text('"a\nb"'),
    "single equals": check_text("a = 1"),
    "bang": check_text("!a"),
    "vertical tab": check_text("a\v<= 1"),
    "byte order mark": "\ufeffpolicy p { }",
    "non-ascii name": check_text("ä <= 1"),
    "number then name": check_text("12dx <= 1"),
    "two names": check_text("a b"),
    "unclosed block": "policy p { control c { check a <= 1 }",
    "unknown control item": policy_with('    titel "x"'),
    "requirement keyword missing": policy_with('    require r: "x"'),
}


@pytest.mark.parametrize("text", INVALID.values(), ids=INVALID.keys())
def test_invalid_case_falls_back(text):
    with pytest.raises(Unsupported):
        parse_fast(text, "case.gov")
    assert_public_parse_unchanged(text)


def test_unknown_escape_diagnostic_unchanged():
    with pytest.raises(InvalidInputError) as caught:
        parser.parse(check_text(r'"a\qb" == x'), "bad.gov")
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "E004"
    assert (diagnostic.span.line, diagnostic.span.column) == (3, 13)


def test_deep_nesting_falls_back_to_lark():
    text = check_text("(" * 400 + "a" + ")" * 400)
    assert_public_parse_unchanged(text)


# Generated programs


PROGRAM_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROGRAM_SETTINGS
@given(modules)
def test_generated_program(module):
    text = format_module(module, "")
    assert_same_as_lark(text, "gen.gov", accept=True)


@settings(max_examples=200, deadline=None)
@given(expressions)
def test_generated_expression(expression):
    from govdsl.syntax.formatter import format_expression

    assert_same_as_lark(check_text(format_expression(expression)), accept=True)


def expression_spans(module: ast.Module) -> list[Span]:
    """Return the span of every expression node; the strings of imports, titles and lists are not expressions."""
    roots: list[ast.Expr | None] = []
    for node in module.walk():
        if isinstance(node, (ast.Policy, ast.Control)):
            roots.append(node.applies)
        elif isinstance(node, ast.Param):
            roots.append(node.default)
        elif isinstance(node, (ast.Check, ast.TierOverride)):
            roots.append(node.body if isinstance(node, ast.Check) else node.value)
        elif isinstance(node, ast.Require):
            roots.append(node.within)
    return [node.span for root in roots if root is not None for node in root.walk() if isinstance(node, ast.Expr)]


def offsets(text: str) -> list[int]:
    """Return the offset of the first character of each line, as Lark counts lines."""
    starts = [0]
    for line in text.split("\n")[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    return starts


@PROGRAM_SETTINGS
@given(modules, st.data())
def test_generated_program_with_parentheses(module, data):
    """Wrap random expressions in parentheses, which changes the spans of the nodes around them."""
    text = format_module(module, "")
    spans = expression_spans(parse_lark(text, "gen.gov"))
    if not spans:
        return
    chosen = data.draw(st.lists(st.sampled_from(spans), max_size=8), "wrapped")
    line_starts = offsets(text)
    inserts: list[tuple[int, int, str]] = []
    for span in chosen:
        inserts.append((line_starts[span.line - 1] + span.column - 1, 1, "("))
        inserts.append((line_starts[span.end_line - 1] + span.end_column - 1, 0, ")"))
    # Closing parentheses go before opening ones at the same offset, so nested wraps stay balanced.
    for offset, _, character in sorted(inserts, reverse=True):
        text = text[:offset] + character + text[offset:]
    actual = assert_same_as_lark(text, "gen.gov", accept=True)
    assert actual == module


# Strings and the two-word operator `not in` match whole, so no break falls inside them: the
# fast parser leaves a `not in` split over two lines to Lark.
LAYOUT_BREAKS = re.compile(r'"(?:[^"\\\n]|\\.)*"|\bnot in\b|[ (\[{,]')


@PROGRAM_SETTINGS
@given(modules, st.data())
def test_generated_program_with_layout(module, data):
    """Break lines, indent with tabs, add comments and use CRLF line endings at random token boundaries."""
    text = format_module(module, "")
    points = [m.end() for m in LAYOUT_BREAKS.finditer(text) if m.group() in " ([{,"]
    chosen = sorted(data.draw(st.sets(st.sampled_from(points), max_size=12), "points")) if points else []
    inserts = ["\n", "\t", "  # note\n", "\n\n  # own line\n", "\f", " \r\n "]
    pieces, previous = [], 0
    for point in chosen:
        pieces += [text[previous:point], data.draw(st.sampled_from(inserts), "insert")]
        previous = point
    text = "".join(pieces) + text[previous:]
    if data.draw(st.booleans(), "crlf"):
        text = text.replace("\n", "\r\n")
    actual = assert_same_as_lark(text, "gen.gov", accept=True)
    assert actual == module


NAME_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*')


@PROGRAM_SETTINGS
@given(modules, st.data())
def test_generated_program_with_keyword_names(module, data):
    """Replace names with keywords: Lark reads some as names, some as keywords, and rejects the rest."""
    text = format_module(module, "")
    words = [m for m in NAME_TOKEN.finditer(text) if not m.group().startswith('"')]
    chosen = data.draw(st.sets(st.sampled_from(words), max_size=6), "replaced") if words else set()
    for match in sorted(chosen, key=lambda m: m.start(), reverse=True):
        keyword = data.draw(st.sampled_from(sorted(KEYWORDS)), "keyword")
        text = text[: match.start()] + keyword + text[match.end() :]
    assert_same_as_lark(text, "gen.gov")


# Mutations: the accepted texts must be exactly those Lark accepts


VALID_SOURCES = [path.read_text(encoding="utf-8") for path in REPOSITORY_FILES] + list(ACCEPTED.values())
MUTATIONS = ["", " ", "\n", "{", "}", "(", ")", "[", "]", '"', "=", "<", "-", ".", ",", ":", "#", "\\", "%", "a", "1", "not ", "in ", "and "]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(VALID_SOURCES), st.data())
def test_mutated_program(source, data):
    """Delete, replace or insert a few characters; the fast parser must agree with Lark or fall back."""
    text = source
    for _ in range(data.draw(st.integers(1, 3), "edits")):
        position = data.draw(st.integers(0, len(text)), "position")
        removed = data.draw(st.integers(0, 2), "removed")
        inserted = data.draw(st.sampled_from(MUTATIONS), "inserted")
        text = text[:position] + inserted + text[position + removed :]
    assert_same_as_lark(text, "mutated.gov")
    assert_public_parse_unchanged(text, "mutated.gov")


# Wiring


def test_parse_uses_fast_parser(monkeypatch):
    monkeypatch.delenv("GOVDSL_PARSER", raising=False)
    called = []
    monkeypatch.setattr("govdsl.syntax.lark_parser.parse_lark", lambda *args: called.append(args))
    module = parser.parse(check_text("a <= 1"), "fast.gov")
    assert isinstance(module, ast.Module)
    assert called == []


def test_parser_variable_forces_lark(monkeypatch):
    monkeypatch.setenv("GOVDSL_PARSER", "lark")

    def fail_if_called(text, file):
        raise AssertionError("the fast parser ran although GOVDSL_PARSER=lark")

    monkeypatch.setattr("govdsl.syntax.fastparse.parse_fast", fail_if_called)
    module = parser.parse(check_text("a <= 1"), "lark.gov")
    assert module.policy.controls[0].checks[0].body.operators == ("<=",)


def test_valid_parse_does_not_import_lark():
    code = (
        "import sys\n"
        "from govdsl.syntax.parser import parse\n"
        "parse('policy p { control c { check a <= 1 } }')\n"
        "print('lark' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_unclosed_string_mid_line_falls_back():
    text = 'policy p {\n  control c {\n    check -a * b + c /" -d - e <= f or g and not h\n  }\n}\n'
    assert_same_as_lark(text, "unclosed.gov")
