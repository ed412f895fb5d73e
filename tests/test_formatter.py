"""Formatter: policy text in, the canonical layout out, with the same AST and every comment kept."""

from __future__ import annotations

import datetime
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govdsl.errors import InvalidInputError
from govdsl.syntax import ast, parse
from govdsl.syntax.formatter import format_expression, format_module, format_source
from support import REPO

FIXTURES = Path(__file__).parent / "data" / "fmt"
GOLDEN = sorted(path.name.removesuffix(".in.gov") for path in FIXTURES.glob("*.in.gov"))
SHIPPED = sorted((REPO / "policies").rglob("*.gov"))


def comment_texts(text: str) -> Counter[str]:
    return Counter(comment.text.rstrip() for comment in parse(text).comments)


def assert_formatted_well(source: str, formatted: str) -> None:
    """The properties every output has: same AST, same comments, stable, clean whitespace."""
    assert parse(formatted, "x.gov") == parse(source, "x.gov")
    assert comment_texts(formatted) == comment_texts(source)
    assert format_source(formatted) == formatted
    assert formatted.endswith("\n")
    assert not formatted.endswith("\n\n")
    assert "\r\n" not in formatted
    for line in formatted.split("\n"):
        assert line == line.rstrip(" \t"), f"trailing space in {line!r}"


def check_text(expression: str) -> str:
    return f"policy p {{\n  control c {{\n    check {expression}\n  }}\n}}\n"


# Golden files: tests/data/fmt/NAME.in.gov formats to NAME.out.gov


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_file(name):
    source = (FIXTURES / f"{name}.in.gov").read_text(encoding="utf-8")
    expected = (FIXTURES / f"{name}.out.gov").read_text(encoding="utf-8")
    assert format_source(source, f"{name}.gov") == expected


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_output_is_canonical(name):
    expected = (FIXTURES / f"{name}.out.gov").read_text(encoding="utf-8")
    assert format_source(expected) == expected


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_input_keeps_ast_and_comments(name):
    source = (FIXTURES / f"{name}.in.gov").read_text(encoding="utf-8")
    assert_formatted_well(source, format_source(source))


def test_golden_cases_present():
    assert {"comments", "layout", "lists", "params", "imports"} <= set(GOLDEN)


# Expressions, one check each


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # spacing
        ('f(by="race")<=0.1', 'f(by = "race") <= 0.1'),
        ("f( a ,b , )", "f(a, b)"),
        ("[ 1,2 , ]", "[1, 2]"),
        ("f()", "f()"),
        ("[]", "[]"),
        ("a.b . c", "a.b.c"),
        ("- x", "-x"),
        ("- - x", "--x"),
        ("a - -b", "a - -b"),
        ("not(x)", "not x"),
        ("exists(model.card)", "exists model.card"),
        # literals keep their text
        ("x >= 80%", "x >= 80%"),
        ("x <= 12.5%", "x <= 12.5%"),
        ("age < 90d", "age < 90d"),
        ("age < 1.5w or age > 48h or age > 1y", "age < 1.5w or age > 48h or age > 1y"),
        ("x == 1e5 or x == .5 or x == 1. or x == 010", "x == 1e5 or x == .5 or x == 1. or x == 010"),
        ("date >= 2024-02-29", "date >= 2024-02-29"),
        ("x == true and y == false", "x == true and y == false"),
        (r'x == "say \"hi\"\\ \n\t"', r'x == "say \"hi\"\\ \n\t"'),
        ('x == "# not a comment"', 'x == "# not a comment"'),
        # comparisons
        ("0.8<=x<=1.25", "0.8 <= x <= 1.25"),
        ("a<b>c==d!=e>=f", "a < b > c == d != e >= f"),
        ('model.risk_tier in ["high","limited"]', 'model.risk_tier in ["high", "limited"]'),
        ('x not   in ["a"]', 'x not in ["a"]'),
        ('x not\n  in ["a"]', 'x not in ["a"]'),
        ('card.owner matches "^[a-z]+@"', 'card.owner matches "^[a-z]+@"'),
        # quantifiers
        ('every g in selection_rate(by="race"):g>=0.8', 'every g in selection_rate(by = "race"): g >= 0.8'),
        ("any g in groups: g.size > 30", "any g in groups: g.size > 30"),
        ("no g in groups: g.rate < 10%", "no g in groups: g.rate < 10%"),
        ("not every g in x: g", "not every g in x: g"),
        # a quantifier's body reaches as far right as it can
        ("every g in x: g and y", "every g in x: g and y"),
        ("every g in x: (g and y)", "every g in x: g and y"),
        ("every g in x: (g or y) and z", "every g in x: (g or y) and z"),
        ("every g in x: (not g)", "every g in x: not g"),
        ("every g in x: (every h in g: h)", "every g in x: every h in g: h"),
        ("every g in x: (every h in g: h) and z", "every g in x: (every h in g: h) and z"),
        ("(every g in x: g) and y", "(every g in x: g) and y"),
        ("(every g in x: g) or y", "(every g in x: g) or y"),
        ("(not every g in x: g) and y", "(not every g in x: g) and y"),
        ("not (every g in x: g) and y", "(not every g in x: g) and y"),
        ("(a and every g in x: g) or c", "(a and every g in x: g) or c"),
        ("a and (every g in x: g) or c", "(a and every g in x: g) or c"),
        ("a or (every g in x: g) or c", "(a or every g in x: g) or c"),
        ("a and (every g in x: g)", "a and every g in x: g"),
        ("(every g in x: g) + 1 > 2", "(every g in x: g) + 1 > 2"),
        ("f(every g in x: g, y)", "f(every g in x: g, y)"),
        ("[every g in x: g or y, z]", "[every g in x: g or y, z]"),
        ("every g in (a < b): g", "every g in (a < b): g"),
        ("every g in a + b: g", "every g in a + b: g"),
        ("(every g in x: g) == true", "(every g in x: g) == true"),
        # parentheses: removed where precedence makes them redundant
        ("(a)", "a"),
        ("((a and b))", "a and b"),
        ("(a and b) or c", "a and b or c"),
        ("a or (b and c)", "a or b and c"),
        ("(a or b) or c", "a or b or c"),
        ("(a + b) + c", "a + b + c"),
        ("(a * b) + (c * d)", "a * b + c * d"),
        ("(-a) * b", "-a * b"),
        ("(a.b).c", "a.b.c"),
        ("(f(x)).y", "f(x).y"),
        ("not (a < b)", "not a < b"),
        ("(not a) and b", "not a and b"),
        ("a and (not b)", "a and not b"),
        ("exists (a.b)", "exists a.b"),
        ("f((a or b))", "f(a or b)"),
        ("[(a < b)]", "[a < b]"),
        # parentheses: kept where precedence needs them
        ("(a or b) and c", "(a or b) and c"),
        ("a and (b and c)", "a and (b and c)"),
        ("a or (b or c)", "a or (b or c)"),
        ("a - (b + c)", "a - (b + c)"),
        ("a - (b - c)", "a - (b - c)"),
        ("a / (b * c)", "a / (b * c)"),
        ("(a + b) * c", "(a + b) * c"),
        ("-(a + b)", "-(a + b)"),
        ("-(a * b)", "-(a * b)"),
        ("not (a and b)", "not (a and b)"),
        ("(a < b) < c", "(a < b) < c"),
        ("a == (b < c)", "a == (b < c)"),
        ("(not a) == b", "(not a) == b"),
        ("(exists a) == b", "(exists a) == b"),
        ("exists (-a)", "exists (-a)"),
        ("exists (a + b)", "exists (a + b)"),
        ("exists (not a)", "exists (not a)"),
        ("(a + b).c", "(a + b).c"),
        ("(-a).c", "(-a).c"),
        ("(1).x + (1.5).x + (1.).y", "(1).x + 1.5.x + 1..y"),
        ("(a < b).c", "(a < b).c"),
        ("(exists a).b", "(exists a).b"),
    ],
)
def test_expression_layout(source, expected):
    formatted = format_source(check_text(source))
    assert formatted == check_text(expected)
    assert parse(formatted) == parse(check_text(source))


def test_format_expression_built_trees():
    a, b, c = (ast.NameRef(name) for name in "abc")
    assert format_expression(ast.Binary("*", ast.Binary("+", a, b), c)) == "(a + b) * c"
    assert format_expression(ast.Binary("+", a, ast.Binary("+", b, c))) == "a + (b + c)"
    assert format_expression(ast.Compare((ast.Compare((a, b), ("<",)), c), ("==",))) == "(a < b) == c"
    assert format_expression(ast.Unary("not", ast.Binary("or", a, b))) == "not (a or b)"
    any_a = ast.Quantifier("any", ast.Name("g"), c, a)
    any_a_and_b = ast.Quantifier("any", ast.Name("g"), c, ast.Binary("and", a, b))
    assert format_expression(any_a_and_b) == "any g in c: a and b"
    assert format_expression(ast.Binary("and", any_a, b)) == "(any g in c: a) and b"
    assert format_expression(ast.Binary("and", b, any_a)) == "b and any g in c: a"
    assert format_expression(ast.Binary("or", ast.Unary("not", any_a), b)) == "(not any g in c: a) or b"


def test_format_expression_without_literal_text():
    number = ast.NumberLit(0.25, "")
    assert format_expression(number) == "0.25"
    assert format_expression(ast.NumberLit(3.0, "")) == "3"
    assert format_expression(ast.PercentLit(0.8, "")) == "80%"
    assert format_expression(ast.DurationLit(90.0, "")) == "90d"


# Layout rules stated one at a time


def test_control_field_order():
    source = """policy p { control c {
        check second: y
        remediation "r"
        require evidence "e.pdf"
        applies when model.deployed
        requires [base.x]
        references ["ref"]
        tags ["t"]
        waivable_by ["cro"]
        enforcement hard
        severity high
        maps ["m"]
        owner "o"
        description "d"
        title "t"
        check first: x
    } }"""
    assert format_source(source) == (
        "policy p {\n"
        "  control c {\n"
        '    title "t"\n'
        '    description "d"\n'
        '    owner "o"\n'
        '    maps ["m"]\n'
        "    severity high\n"
        "    enforcement hard\n"
        '    waivable_by ["cro"]\n'
        '    tags ["t"]\n'
        '    references ["ref"]\n'
        "    requires [base.x]\n"
        "    applies when model.deployed\n"
        '    remediation "r"\n'
        "    check second: y\n"
        '    require evidence "e.pdf"\n'
        "    check first: x\n"
        "  }\n"
        "}\n"
    )


def test_requirements_of_each_kind():
    source = """policy p { control c {
        require sign_off: approval "chief-risk-officer" within 90d
        require approval "dpo"
        require card: model_card section "Intended use"
        require model_card section "Limitations"
        require dpia: evidence "dpia.pdf"
        check 1 < 2
    } }"""
    lines = format_source(source).split("\n")[2:8]
    assert lines == [
        '    require sign_off: approval "chief-risk-officer" within 90d',
        '    require approval "dpo"',
        '    require card: model_card section "Intended use"',
        '    require model_card section "Limitations"',
        '    require dpia: evidence "dpia.pdf"',
        "    check 1 < 2",
    ]


def test_empty_lists_dropped_except_control_waivers():
    lists = "maps [] tags [] references [] requires [] waivable_by []"
    source = f"policy p {{ waivable_by [] control c {{ {lists} }} }}"
    assert format_source(source) == "policy p {\n  control c {\n    waivable_by []\n  }\n}\n"


def test_empty_blocks_close_on_the_same_line():
    assert format_source("policy p { control c { } }") == "policy p {\n  control c {}\n}\n"
    assert format_source("policy p {\n\n}") == "policy p {}\n"
    assert format_source("policy p { param a: number { } }") == "policy p {\n  param a: number\n}\n"


def maps_source(*items: str) -> str:
    quoted = ", ".join(f'"{item}"' for item in items)
    return f"policy p {{ control c {{ maps [{quoted}] }} }}"


def test_list_fits_in_one_hundred_columns():
    items = ["x" * 20, "y" * 20, "z" * 39]
    line = "    maps [" + ", ".join(f'"{item}"' for item in items) + "]"
    assert len(line) == 100
    assert format_source(maps_source(*items)).split("\n")[2] == line


def test_wide_list_one_item_per_line():
    items = ["x" * 20, "y" * 20, "z" * 40]
    assert format_source(maps_source(*items)).split("\n")[2:7] == [
        "    maps [",
        f'      "{"x" * 20}",',
        f'      "{"y" * 20}",',
        f'      "{"z" * 40}",',
        "    ]",
    ]


def test_policy_waiver_list_width_counts_its_own_indentation():
    items = ", ".join(f'"{"r" * 39}"' for _ in range(2))
    assert len(f"  waivable_by [{items}]") == 100
    assert format_source(f"policy p {{ waivable_by [{items}] }}").split("\n")[1] == f"  waivable_by [{items}]"
    items = items.replace("r" * 39, "r" * 40, 1)
    assert format_source(f"policy p {{ waivable_by [{items}] }}").split("\n")[1] == "  waivable_by ["


def test_whitespace_is_normalized():
    source = 'policy p {\r\n\tversion   "1"\r\n\r\n\r\n\tcontrol c {  \r\n\t\tcheck x: a  \r\n\t}\r\n}'
    assert format_source(source) == 'policy p {\n  version "1"\n\n  control c {\n    check x: a\n  }\n}\n'


def test_comment_trailing_whitespace_dropped():
    source = "# top   \r\npolicy p {  # open \t\r\n}\r\n"
    assert format_source(source) == "# top\npolicy p {  # open\n}\n"


def test_blank_lines_before_comment_collapse():
    source = "policy p {\n  version \"1\"\n\n\n\n  # about c\n\n\n  control c {}\n}\n"
    assert format_source(source) == "policy p {\n  version \"1\"\n\n  # about c\n\n  control c {}\n}\n"


def test_blank_lines_at_block_start_dropped():
    source = "\n\n# top\npolicy p {\n\n  # first\n  version \"1\"\n}\n"
    assert format_source(source) == "# top\npolicy p {\n  # first\n  version \"1\"\n}\n"


def test_comment_inside_an_expression_moves_above_its_check():
    source = "policy p { control c {\n  check x: a and  # why a\n    # and b\n    b  # end\n} }"
    assert format_source(source) == (
        "policy p {\n  control c {\n    # why a\n    # and b\n    check x: a and b  # end\n  }\n}\n"
    )


def test_comment_inside_list_splits_it():
    source = 'policy p { control c {\n  tags ["a",  # first\n  "b"]\n} }'
    lines = format_source(source).split("\n")[2:6]
    assert lines == ["    tags [", '      "a",  # first', '      "b",', "    ]"]


def test_comment_after_list_keeps_one_line():
    source = 'policy p { control c {\n  tags [\n    "a", "b",\n  ]  # two tags\n} }'
    assert format_source(source).split("\n")[2] == '    tags ["a", "b"]  # two tags'


def test_comment_stays_with_last_item_on_line():
    source = 'policy p { control c { title "t" owner "o"  # who\n } }'
    assert format_source(source).split("\n")[2:4] == ['    title "t"', '    owner "o"  # who']


def test_comment_between_keyword_and_value():
    source = 'policy p { control c {\n  title\n  # the title\n  "t"\n} }'
    assert format_source(source).split("\n")[2:4] == ["    # the title", '    title "t"']


def test_format_source_reports_syntax_errors():
    with pytest.raises(InvalidInputError) as caught:
        format_source("policy p { control c { check x = 1 } }", "bad.gov")
    assert caught.value.diagnostics[0].code == "E006"
    assert caught.value.diagnostics[0].span.file == "bad.gov"


def test_format_module_matches_format_source():
    text = (FIXTURES / "comments.in.gov").read_text(encoding="utf-8")
    assert format_module(parse(text, "a.gov"), text) == format_source(text)


def test_format_module_without_text_needs_no_comments():
    module = parse("policy p { control c { check x: a<b } }")
    assert format_module(module, "") == "policy p {\n  control c {\n    check x: a < b\n  }\n}\n"


def test_format_module_keeps_comments_it_cannot_place():
    module = parse("# a\npolicy p {}  # b\n")
    formatted = format_module(module, "text that does not match")
    assert comment_texts(formatted) == Counter({"# a": 1, "# b": 1})


# Shipped policies


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.name)
def test_shipped_policy_is_canonical(path):
    text = path.read_text(encoding="utf-8")
    assert_formatted_well(text, format_source(text, path.name))
    assert format_source(text, path.name) == text


def test_shipped_policies_found():
    assert SHIPPED


# Random programs built as ASTs


def _keywords() -> frozenset[str]:
    grammar = (REPO / "grammar" / "govdsl.lark").read_text(encoding="utf-8")
    return frozenset(re.findall(r'"([A-Za-z_]+)"', grammar)) | {"every", "any", "no", "in", "not", "matches"}


def node(cls, *args, **kwargs):
    """Like `st.builds`, but a failing example prints with the node's own repr.

    Hypothesis prints nested `st.builds` results as calls, in time exponential in the depth.
    """
    arguments = st.tuples(st.tuples(*args), st.fixed_dictionaries(kwargs))
    return arguments.map(lambda pair: cls(*pair[0], **pair[1]))


KEYWORDS = _keywords()
DURATION_DAYS = {"d": 1.0, "w": 7.0, "h": 1.0 / 24.0, "y": 365.0}

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,7}", fullmatch=True).filter(lambda n: n not in KEYWORDS)
name_nodes = names.map(ast.Name)
strings = st.text(st.characters(exclude_categories=("Cs",)), max_size=12).map(ast.StringLit)
NUMBER_TEXT = r"([0-9]{1,4}(\.[0-9]{0,3})?|\.[0-9]{1,3})([eE][+-]?[0-9]{1,2})?"
numbers = st.from_regex(NUMBER_TEXT, fullmatch=True).map(lambda text: ast.NumberLit(float(text), text))
percents = st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,2})?%", fullmatch=True).map(
    lambda text: ast.PercentLit(float(text[:-1]) / 100.0, text)
)
durations = st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,2})?[dwhy]", fullmatch=True).map(
    lambda text: ast.DurationLit(float(text[:-1]) * DURATION_DAYS[text[-1]], text)
)
dates = st.dates(min_value=datetime.date(1000, 1, 1)).map(lambda day: ast.DateLit(day.isoformat()))
leaves = st.one_of(
    numbers, percents, durations, dates, strings, st.booleans().map(ast.BoolLit), names.map(ast.NameRef)
)
COMPARE_OPERATORS = ["<", "<=", ">", ">=", "==", "!=", "in", "not in", "matches"]


def _compare(children):
    def build(size):
        operands = st.lists(children, min_size=size, max_size=size)
        operators = st.lists(st.sampled_from(COMPARE_OPERATORS), min_size=size - 1, max_size=size - 1)
        return st.tuples(operands, operators).map(lambda pair: ast.Compare(tuple(pair[0]), tuple(pair[1])))

    return st.integers(2, 3).flatmap(build)


def _extend(children):
    arguments = node(ast.Argument, st.none() | name_nodes, children)
    return st.one_of(
        node(ast.Unary, st.sampled_from(["-", "not"]), children),
        node(ast.Binary, st.sampled_from(["+", "-", "*", "/", "and", "or"]), children, children),
        _compare(children),
        node(ast.Exists, children),
        node(ast.Quantifier, st.sampled_from(["every", "any", "no"]), name_nodes, children, children),
        node(ast.Field, children, name_nodes),
        node(ast.Call, name_nodes, st.lists(arguments, max_size=3).map(tuple)),
        st.lists(children, max_size=3).map(lambda items: ast.ListLit(tuple(items))),
    )


expressions = st.recursive(leaves, _extend, max_leaves=10)


def optional(strategy):
    return st.none() | strategy


def tuples(strategy, max_size=4):
    return st.lists(strategy, max_size=max_size).map(tuple)


def _require(name, kind, subject, within):
    return ast.Require(name, kind, subject, within if kind == "approval" else None)


checks = node(ast.Check, optional(name_nodes), expressions)
REQUIRE_KINDS = ["card_section", "approval", "evidence"]
requires = node(
    _require, optional(name_nodes), st.sampled_from(REQUIRE_KINDS), strings, optional(expressions)
)
long_strings = st.text(st.characters(exclude_categories=("Cs",)), min_size=20, max_size=40).map(ast.StringLit)
string_lists = tuples(strings | long_strings)
controls = node(
    ast.Control,
    name=name_nodes,
    title=optional(strings),
    description=optional(strings),
    owner=optional(strings),
    maps=string_lists,
    severity=optional(name_nodes),
    enforcement=optional(name_nodes),
    waivable_by=optional(string_lists),
    tags=string_lists,
    references=string_lists,
    requires=tuples(st.lists(names, min_size=1, max_size=3).map(lambda parts: ast.DottedName(tuple(parts)))),
    remediation=optional(strings),
    applies=optional(expressions),
    checks=tuples(checks | requires),
)
params = node(
    ast.Param,
    name=name_nodes,
    type=node(ast.TypeRef, name_nodes, optional(name_nodes)),
    default=optional(expressions),
    doc=optional(strings),
    tiers=tuples(node(ast.TierOverride, name_nodes, expressions), max_size=2),
)
policies = node(
    ast.Policy,
    name=name_nodes,
    version=optional(strings),
    description=optional(strings),
    waivable_by=string_lists,
    applies=optional(expressions),
    params=tuples(params, max_size=3),
    controls=tuples(controls, max_size=3),
)
modules = node(
    ast.Module,
    file=st.just("gen.gov"),
    imports=tuples(node(ast.Import, strings, optional(name_nodes)), max_size=2),
    policies=st.lists(policies, min_size=1, max_size=2).map(tuple),
)

# Whole programs are large to generate, so they get fewer examples than single expressions.
PROGRAM_SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EXPRESSION_SETTINGS = settings(max_examples=300, deadline=None)


@PROGRAM_SETTINGS
@given(modules)
def test_random_program_round_trips(module):
    formatted = format_module(module, "")
    assert parse(formatted, "gen.gov") == module
    assert format_source(formatted, "gen.gov") == formatted
    assert formatted.endswith("\n")
    assert not formatted.endswith("\n\n")
    assert all(line == line.rstrip(" ") for line in formatted.split("\n"))


@EXPRESSION_SETTINGS
@given(expressions)
def test_random_expression_round_trips(expr):
    text = check_text(format_expression(expr))
    assert parse(text).policy.controls[0].checks[0].body == expr


@PROGRAM_SETTINGS
@given(modules, st.data())
def test_random_comments_are_kept_once(module, data):
    """Add comments at the ends of lines and on lines of their own, then format twice."""
    lines = format_module(module, "").split("\n")
    edited: list[str] = []
    for number, line in enumerate(lines):
        if data.draw(st.booleans(), "own-line comment before"):
            blank = data.draw(st.integers(0, 2), "blank lines")
            indent = data.draw(st.integers(0, 6), "indentation")
            edited.extend([""] * blank + [" " * indent + f"# own {number}"])
        if line and data.draw(st.booleans(), "trailing comment"):
            line += f"  # end {number}"
        edited.append(line)
    source = "\n".join(edited)
    formatted = format_source(source, "gen.gov")
    assert parse(formatted, "gen.gov") == module
    assert comment_texts(formatted) == comment_texts(source)
    assert format_source(formatted, "gen.gov") == formatted


# Strings and the two-word operator `not in` are matched whole so that no break falls inside them.
BREAK_POINTS = re.compile(r'"(?:[^"\\\n]|\\.)*"|\bnot in\b|[ (\[{,]')


@PROGRAM_SETTINGS
@given(modules, st.data())
def test_random_breaks_between_tokens(module, data):
    """Break canonical text at random token boundaries, inside expressions and lists too, and add comments."""
    text = format_module(module, "")
    points = [m.end() for m in BREAK_POINTS.finditer(text) if m.group() in " ([{,"]
    if not points:
        return
    chosen = data.draw(st.sets(st.sampled_from(points), max_size=10), "break points")
    pieces, previous = [], 0
    for number, point in enumerate(sorted(chosen)):
        kind = data.draw(st.sampled_from(["newline", "trailing", "own line", "blank and own line"]), "kind")
        insert = {
            "newline": "\n",
            "trailing": f"  # end {number}\n",
            "own line": f"\n# own {number}\n",
            "blank and own line": f"\n\n    # own {number}\n\n",
        }[kind]
        pieces.extend([text[previous:point], insert])
        previous = point
    source = "".join(pieces) + text[previous:]
    formatted = format_source(source, "gen.gov")
    assert parse(formatted, "gen.gov") == module
    assert comment_texts(formatted) == comment_texts(source)
    assert format_source(formatted, "gen.gov") == formatted
