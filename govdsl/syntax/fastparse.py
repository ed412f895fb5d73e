"""Parse a valid policy text into the same Module AST as the Lark parser, about ten times faster.

One compiled regular expression splits each line into tokens, and a recursive-descent
parser that follows grammar/govdsl.lark builds the AST nodes. The result equals what
govdsl.syntax.lark_parser returns, including every span and the comments, because
the parser copies three behaviours of Lark:

- Lark's contextual lexer reads a keyword as a keyword only where the grammar
  accepts that keyword. Elsewhere the word is a NAME, so `model.title` is a field
  and `check and <= 1` compares a parameter called `and`.
- `propagate_positions` lets a node span from the start of its first token or child
  to the end of its last one. A child in parentheses counts with its parentheses,
  but its own span leaves them out.
- A quantifier's body reaches as far right as it can.

The parser decides nothing about invalid input. On any token it does not expect
it raises Unsupported, and govdsl.syntax.parser parses the text again with Lark,
which reports the diagnostics. It also gives up on some valid but unusual texts,
such as `not in` split over two lines, which Lark then parses.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import fields

from govdsl.diagnostics import Span
from govdsl.syntax import ast
from govdsl.syntax.lexical import DURATION_DAYS, ESCAPES, end_position


class Unsupported(Exception):
    """The fast parser does not accept this text; parse it with Lark instead."""


# Token types. An operator or punctuation token has its own text as its type.
NAME, STRING, NUMBER, PERCENT, DURATION, DATE, NOT_IN, END = (
    "NAME", "STRING", "NUMBER", "PERCENT", "DURATION", "DATE", "NOT_IN", "END",
)

# One alternative per terminal of grammar/govdsl.lark. Where two terminals can start
# with the same character, the alternatives keep Lark's order (higher priority first),
# so `2024-01-31` is a date, not a subtraction, and `not in` is one operator. The
# string alternative is the grammar's STRING pattern with its loop unrolled, which
# matches the same texts twice as fast. The first group holds the blanks before the
# token, which give its column. Lines are tokenized one at a time, so no token
# contains a line break.
_TOKEN = re.compile(
    r"""([ \t\f\r]*)(
      not\s+in\b                                              # NOT_IN
    | [A-Za-z_][A-Za-z0-9_]*                                  # NAME and keywords
    | <=|>=|==|!=|[<>{}\[\](),:=+\-*/]                        # operators, punctuation
    | "[^"\\\n]*(?:\\.[^"\\\n]*)*"                           # STRING
    | [0-9]{4}-[0-9]{2}-[0-9]{2}                              # DATE
    | [0-9]+(?:\.[0-9]+)?[dwhy]\b                             # DURATION
    | [0-9]+(?:\.[0-9]+)?%                                    # PERCENT
    | (?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?    # NUMBER
    | \.                                                      # the dot of a field access
    | \#.*                                                    # COMMENT
    | [^ \t\f\r]                                              # any other character: not a token
    )""",
    re.VERBOSE,
)

# The token type by the token's first character. Operators and punctuation are their
# own type, and `_NUMERIC` starts a number, percentage, duration or date.
_NUMERIC, _COMMENT = "numeric", "comment"
_FIRST_CHARACTER: dict[str, str | None] = {
    **dict.fromkeys("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_", NAME),
    **dict.fromkeys("<>{}[](),:=+-*/.!", None),
    **dict.fromkeys("0123456789", _NUMERIC),
    '"': STRING,
    "#": _COMMENT,
}

# Words that start a not_test. Where an expression may start, Lark reads them as
# keywords, so they cannot be a check's name or an argument's name there.
_EXPRESSION_KEYWORDS = frozenset({"not", "exists", "true", "false", "every", "any", "no"})
_QUANTIFIERS = frozenset({"every", "any", "no"})
_REQUIREMENT_KEYWORDS = frozenset({"model_card", "approval", "evidence"})
_COMPARE = frozenset({"<=", ">=", "==", "!=", "<", ">"})
_ONE_TOKEN_ATOMS = frozenset({NAME, STRING, NUMBER, PERCENT, DURATION, DATE})
_CLOSERS = frozenset({",", ")", "]", "}"})  # tokens that end an expression at every level
_STRING_FIELDS = frozenset({"title", "description", "owner", "remediation"})
_LIST_FIELDS = frozenset({"maps", "waivable_by", "tags", "references"})
_ESCAPE = re.compile(r"\\(.)")


def _constructor(cls: type):
    """Return a function that builds a `cls` node from all its fields, in declaration order.

    A frozen dataclass's __init__ sets each field through object.__setattr__. The
    returned function fills the instance dictionary directly, which gives an equal
    object: the same class and the same attribute values, compared, hashed and
    pickled as usual. On the benchmark machine (docs/benchmarks.md) a Span took
    1.9 microseconds through __init__ and 0.7 microseconds this way.
    """
    names = [item.name for item in fields(cls)]
    body = "".join(f"    values[{name!r}] = {name}\n" for name in names)
    source = f"def build({', '.join(names)}):\n    node = new(cls)\n    values = node.__dict__\n{body}    return node\n"
    namespace = {"new": object.__new__, "cls": cls}
    exec(source, namespace)  # noqa: S102 - the source is built from dataclass field names only
    return namespace["build"]


_new_object = object.__new__
_new_span = _constructor(Span)
_new_name = _constructor(ast.Name)
_new_string = _constructor(ast.StringLit)
_new_number = _constructor(ast.NumberLit)
_new_percent = _constructor(ast.PercentLit)
_new_duration = _constructor(ast.DurationLit)
_new_date = _constructor(ast.DateLit)
_new_bool = _constructor(ast.BoolLit)
_new_name_ref = _constructor(ast.NameRef)
_new_field = _constructor(ast.Field)
_new_list = _constructor(ast.ListLit)
_new_argument = _constructor(ast.Argument)
_new_call = _constructor(ast.Call)
_new_unary = _constructor(ast.Unary)
_new_binary = _constructor(ast.Binary)
_new_compare = _constructor(ast.Compare)
_new_exists = _constructor(ast.Exists)
_new_quantifier = _constructor(ast.Quantifier)
_new_check = _constructor(ast.Check)
_new_require = _constructor(ast.Require)
_new_comment = _constructor(ast.Comment)


def parse_fast(text: str, file: str = "<string>") -> ast.Module:
    """Parse a valid policy text; raise Unsupported for anything the fast parser does not accept."""
    tokens = _Tokens(text)
    return _Parser(tokens, file).module(text)


class _Tokens:
    """The tokens of one text as parallel lists, ending with END tokens; comments are kept apart."""

    def __init__(self, text: str) -> None:
        types: list[str] = []
        values: list[str] = []
        lines: list[int] = []
        columns: list[int] = []
        ends: list[int] = []  # the column after the token's last character
        self.comments: list[tuple[str, int, int]] = []  # (text, line, column)
        add_type, add_value, add_line, add_column, add_end = types.append, values.append, lines.append, columns.append, ends.append
        first_character = _FIRST_CHARACTER.get
        for number, line in enumerate(text.split("\n"), start=1):
            column = 1
            for blanks, value in _TOKEN.findall(line):
                column += len(blanks)
                kind = first_character(value[0], "")
                if kind is None:
                    kind = value if len(value) == 1 or value[0] != "." else _numeric_type(value)
                elif kind is NAME:
                    if value[0] == "n" and len(value) > 3 and value[3].isspace():
                        kind = NOT_IN
                elif kind is _NUMERIC:
                    kind = _numeric_type(value)
                elif kind is _COMMENT:
                    self.comments.append((value, number, column))
                    column += len(value)
                    continue
                elif kind == "" or (kind is STRING and len(value) == 1):
                    # A lone `"` is a string that is not closed on its line.
                    raise Unsupported(f"line {number}: character {value!r} is not part of a token")
                add_type(kind)
                add_value(value)
                add_line(number)
                add_column(column)
                column += len(value)
                add_end(column)
        # Two END tokens, so the parser can look one token past the end without an IndexError.
        types += [END, END]
        values += ["", ""]
        lines += [0, 0]
        columns += [0, 0]
        ends += [0, 0]
        self.types, self.values, self.lines, self.columns, self.ends = types, values, lines, columns, ends


def _numeric_type(value: str) -> str:
    """Return the type of a token that starts with a digit or is a number such as `.5`."""
    last = value[-1]
    if last == "%":
        return PERCENT
    if last in "dwhy":
        return DURATION
    if len(value) == 10 and value[4] == "-":
        return DATE
    return NUMBER


class _Parser:
    """A recursive-descent parser over one text's tokens.

    Every parse method takes the index of its first token and returns the index of
    its last one, so the caller goes on at that index plus one. Expression methods
    return `(node, first, last)`, where first and last include the parentheses that
    enclose the node, as Lark's container positions do.
    """

    def __init__(self, tokens: _Tokens, file: str) -> None:
        self.tokens = tokens
        self.types = tokens.types
        self.values = tokens.values
        self.lines = tokens.lines
        self.columns = tokens.columns
        self.ends = tokens.ends
        self.file = file

    # Helpers

    def fail(self, index: int, expected: str) -> Unsupported:
        found = self.values[index] if self.types[index] != END else "end of file"
        return Unsupported(f"line {self.lines[index]}: expected {expected}, found {found!r}")

    def span(self, first: int, last: int) -> Span:
        """Return the span from the start of token `first` to the end of token `last`."""
        # The body of _new_span, written out: the parser builds one span per node.
        span = _new_object(Span)
        fields = span.__dict__
        fields["file"] = self.file
        fields["line"] = self.lines[first]
        fields["column"] = self.columns[first]
        fields["end_line"] = self.lines[last]
        fields["end_column"] = self.ends[last]
        return span

    def name(self, index: int) -> ast.Name:
        if self.types[index] != NAME:
            raise self.fail(index, "a name")
        return _new_name(self.values[index], self.span(index, index))

    def string(self, index: int) -> ast.StringLit:
        if self.types[index] != STRING:
            raise self.fail(index, "a string")
        return _new_string(_unescape(self.values[index][1:-1]), self.span(index, index))

    def keyword(self, index: int, word: str) -> None:
        if self.types[index] != NAME or self.values[index] != word:
            raise self.fail(index, f"`{word}`")

    def punctuation(self, index: int, text: str) -> None:
        if self.types[index] != text:
            raise self.fail(index, f"`{text}`")

    # Declarations

    def module(self, text: str) -> ast.Module:
        types, values = self.types, self.values
        imports: list[ast.Import] = []
        policies: list[ast.Policy] = []
        index = 0
        while types[index] != END:
            word = values[index] if types[index] == NAME else None
            if word == "policy":
                policy, index = self.policy(index)
                policies.append(policy)
            elif word == "import":
                declaration, index = self.import_declaration(index)
                imports.append(declaration)
            else:
                raise self.fail(index, "`import` or `policy`")
            index += 1
        if not policies:
            raise Unsupported("the file contains no policy")
        comments = tuple(
            _new_comment(comment, _new_span(self.file, line, column, line, column + len(comment)))
            for comment, line, column in self.tokens.comments
        )
        return ast.Module(self.file, tuple(imports), tuple(policies), comments, Span(self.file, 1, 1, *end_position(text)))

    def import_declaration(self, first: int) -> tuple[ast.Import, int]:
        path = self.string(first + 1)
        last = first + 1
        alias = None
        if self.types[last + 1] == NAME and self.values[last + 1] == "as":
            alias = self.name(last + 2)
            last += 2
        return ast.Import(path, alias, self.span(first, last)), last

    def policy(self, first: int) -> tuple[ast.Policy, int]:
        types, values = self.types, self.values
        name = self.name(first + 1)
        self.punctuation(first + 2, "{")
        field_values: dict[str, object] = {}
        params: list[ast.Param] = []
        controls: list[ast.Control] = []
        index = first + 3
        while types[index] != "}":
            word = values[index] if types[index] == NAME else None
            if word == "control":
                control, index = self.control(index)
                controls.append(control)
            elif word == "param":
                param, index = self.param(index)
                params.append(param)
            else:
                if word == "version" or word == "description":
                    value, index = self.string(index + 1), index + 1
                elif word == "waivable_by":
                    value, index = self.string_list(index + 1)
                elif word == "applies":
                    value, index = self.applies(index)
                else:
                    raise self.fail(index, "a policy item")
                if word in field_values:
                    raise Unsupported(f"`{word}` is given more than once")
                field_values[word] = value
            index += 1
        return ast.Policy(name, params=tuple(params), controls=tuple(controls), span=self.span(first, index), **field_values), index

    def applies(self, first: int) -> tuple[ast.Expr, int]:
        self.keyword(first + 1, "when")
        condition, _, last = self.expression(first + 2)
        return condition, last

    def param(self, first: int) -> tuple[ast.Param, int]:
        types, values = self.types, self.values
        name = self.name(first + 1)
        self.punctuation(first + 2, ":")
        type_name = self.name(first + 3)
        last = first + 3
        argument = None
        if types[last + 1] == "[":
            argument = self.name(last + 2)
            self.punctuation(last + 3, "]")
            last += 3
        type_ref = ast.TypeRef(type_name, argument, self.span(first + 3, last))
        default = None
        if types[last + 1] == "=":
            default, _, last = self.expression(last + 2)
        doc = None
        tiers: list[ast.TierOverride] = []
        if types[last + 1] == "{":
            index = last + 2
            while types[index] != "}":
                word = values[index] if types[index] == NAME else None
                if word == "doc" and doc is None:
                    doc = self.string(index + 1)
                    index += 2
                elif word == "tier":
                    tier = self.name(index + 1)
                    self.punctuation(index + 2, "=")
                    value, _, value_last = self.expression(index + 3)
                    tiers.append(ast.TierOverride(tier, value, self.span(index, value_last)))
                    index = value_last + 1
                else:
                    raise self.fail(index, "`doc`, `tier` or `}`")
            last = index
        return ast.Param(name, type_ref, default, doc, tuple(tiers), self.span(first, last)), last

    def control(self, first: int) -> tuple[ast.Control, int]:
        types, values = self.types, self.values
        name = self.name(first + 1)
        self.punctuation(first + 2, "{")
        field_values: dict[str, object] = {}
        checks: list[ast.Check | ast.Require] = []
        index = first + 3
        while types[index] != "}":
            word = values[index] if types[index] == NAME else None
            if word == "check":
                check, index = self.check(index)
                checks.append(check)
            elif word == "require":
                requirement, index = self.require(index)
                checks.append(requirement)
            else:
                if word in _STRING_FIELDS:
                    value, index = self.string(index + 1), index + 1
                elif word in _LIST_FIELDS:
                    value, index = self.string_list(index + 1)
                elif word == "severity" or word == "enforcement":
                    value, index = self.name(index + 1), index + 1
                elif word == "requires":
                    value, index = self.requires(index + 1)
                elif word == "applies":
                    value, index = self.applies(index)
                else:
                    raise self.fail(index, "a control item")
                if word in field_values:
                    raise Unsupported(f"`{word}` is given more than once")
                field_values[word] = value
            index += 1
        return ast.Control(name=name, checks=tuple(checks), span=self.span(first, index), **field_values), index

    def string_list(self, first: int) -> tuple[tuple[ast.StringLit, ...], int]:
        """Parse `[ "a", "b", ]` starting at the `[`."""
        self.punctuation(first, "[")
        types = self.types
        items: list[ast.StringLit] = []
        index = first + 1
        while types[index] != "]":
            items.append(self.string(index))
            index += 1
            if types[index] == ",":
                index += 1
            elif types[index] != "]":
                raise self.fail(index, "`,` or `]`")
        return tuple(items), index

    def requires(self, first: int) -> tuple[tuple[ast.DottedName, ...], int]:
        """Parse `[a, policy.b]` starting at the `[`."""
        self.punctuation(first, "[")
        types, values = self.types, self.values
        names: list[ast.DottedName] = []
        index = first + 1
        while types[index] != "]":
            self.name(index)
            start = index
            parts = [values[index]]
            while types[index + 1] == ".":
                self.name(index + 2)
                parts.append(values[index + 2])
                index += 2
            names.append(ast.DottedName(tuple(parts), self.span(start, index)))
            index += 1
            if types[index] == ",":
                index += 1
            elif types[index] != "]":
                raise self.fail(index, "`,` or `]`")
        return tuple(names), index

    def check(self, first: int) -> tuple[ast.Check, int]:
        types, values = self.types, self.values
        index = first + 1
        name = None
        if types[index] == NAME and types[index + 1] == ":" and values[index] not in _EXPRESSION_KEYWORDS:
            name = self.name(index)
            index += 2
        body, _, last = self.expression(index)
        return _new_check(name, body, self.span(first, last)), last

    def require(self, first: int) -> tuple[ast.Require, int]:
        types, values = self.types, self.values
        index = first + 1
        name = None
        if types[index] == NAME and values[index] not in _REQUIREMENT_KEYWORDS:
            name = self.name(index)
            self.punctuation(index + 1, ":")
            index += 2
        word = values[index] if types[index] == NAME else None
        within = None
        if word == "model_card":
            self.keyword(index + 1, "section")
            kind, subject, last = "card_section", self.string(index + 2), index + 2
        elif word == "approval":
            kind, subject, last = "approval", self.string(index + 1), index + 1
            if types[last + 1] == NAME and values[last + 1] == "within":
                within, _, last = self.expression(last + 2)
        elif word == "evidence":
            kind, subject, last = "evidence", self.string(index + 1), index + 1
        else:
            raise self.fail(index, "`model_card`, `approval` or `evidence`")
        return _new_require(name, kind, subject, within, self.span(first, last)), last

    # Expressions, from the loosest binding to the tightest, as in the grammar

    def expression(self, first: int) -> tuple[ast.Expr, int, int]:
        """Parse an or_test."""
        types, values = self.types, self.values
        # A lone literal or name, as most arguments and list items are, skips the eight levels below.
        if types[first + 1] in _CLOSERS and types[first] in _ONE_TOKEN_ATOMS and values[first] not in _EXPRESSION_KEYWORDS:
            return self.atom(first)
        node, start, last = self.and_test(first)
        while types[last + 1] == NAME and values[last + 1] == "or":
            right, _, last = self.and_test(last + 2)
            node = _new_binary("or", node, right, self.span(start, last))
        return node, start, last

    def and_test(self, first: int) -> tuple[ast.Expr, int, int]:
        node, start, last = self.not_test(first)
        types, values = self.types, self.values
        while types[last + 1] == NAME and values[last + 1] == "and":
            right, _, last = self.not_test(last + 2)
            node = _new_binary("and", node, right, self.span(start, last))
        return node, start, last

    def not_test(self, first: int) -> tuple[ast.Expr, int, int]:
        if self.types[first] == NAME:
            word = self.values[first]
            if word == "not":
                operand, _, last = self.not_test(first + 1)
                return _new_unary("not", operand, self.span(first, last)), first, last
            if word == "exists":
                target, _, last = self.postfix(first + 1)
                return _new_exists(target, self.span(first, last)), first, last
            if word in _QUANTIFIERS:
                return self.quantifier(first)
        return self.comparison(first)

    def quantifier(self, first: int) -> tuple[ast.Expr, int, int]:
        variable = self.name(first + 1)
        self.keyword(first + 2, "in")
        domain, _, last = self.sum(first + 3)
        self.punctuation(last + 1, ":")
        # The body is an or_test, so it takes every `and` and `or` that follows.
        body, _, last = self.expression(last + 2)
        return _new_quantifier(self.values[first], variable, domain, body, self.span(first, last)), first, last

    def comparison(self, first: int) -> tuple[ast.Expr, int, int]:
        node, start, last = self.sum(first)
        operator = self.comparison_operator(last + 1)
        if operator is None:
            return node, start, last
        operands = [node]
        operators = []
        while operator is not None:
            operators.append(operator)
            right, _, last = self.sum(last + 2)
            operands.append(right)
            operator = self.comparison_operator(last + 1)
        return _new_compare(tuple(operands), tuple(operators), self.span(start, last)), start, last

    def comparison_operator(self, index: int) -> str | None:
        kind = self.types[index]
        if kind in _COMPARE:
            return kind
        if kind == NAME:
            word = self.values[index]
            return word if word == "in" or word == "matches" else None
        return "not in" if kind == NOT_IN else None

    def sum(self, first: int) -> tuple[ast.Expr, int, int]:
        node, start, last = self.product(first)
        types = self.types
        while types[last + 1] == "+" or types[last + 1] == "-":
            operator = types[last + 1]
            right, _, last = self.product(last + 2)
            node = _new_binary(operator, node, right, self.span(start, last))
        return node, start, last

    def product(self, first: int) -> tuple[ast.Expr, int, int]:
        node, start, last = self.unary(first)
        types = self.types
        while types[last + 1] == "*" or types[last + 1] == "/":
            operator = types[last + 1]
            right, _, last = self.unary(last + 2)
            node = _new_binary(operator, node, right, self.span(start, last))
        return node, start, last

    def unary(self, first: int) -> tuple[ast.Expr, int, int]:
        if self.types[first] == "-":
            operand, _, last = self.unary(first + 1)
            return _new_unary("-", operand, self.span(first, last)), first, last
        return self.postfix(first)

    def postfix(self, first: int) -> tuple[ast.Expr, int, int]:
        node, start, last = self.atom(first)
        types = self.types
        while types[last + 1] == ".":
            name = self.name(last + 2)
            last += 2
            node = _new_field(node, name, self.span(start, last))
        return node, start, last

    def atom(self, index: int) -> tuple[ast.Expr, int, int]:
        kind = self.types[index]
        value = self.values[index]
        if kind == NAME:
            # Only `true` and `false` are keywords here: `not`, `exists` and the
            # quantifiers reach an atom only where Lark reads them as names.
            if value == "true" or value == "false":
                return _new_bool(value == "true", self.span(index, index)), index, index
            if self.types[index + 1] == "(":
                return self.call(index)
            return _new_name_ref(value, self.span(index, index)), index, index
        if kind == STRING:
            return self.string(index), index, index
        if kind == NUMBER:
            return _new_number(float(value), value, self.span(index, index)), index, index
        if kind == PERCENT:
            return _new_percent(float(value[:-1]) / 100.0, value, self.span(index, index)), index, index
        if kind == DURATION:
            days = float(value[:-1]) * DURATION_DAYS[value[-1]]
            return _new_duration(days, value, self.span(index, index)), index, index
        if kind == DATE:
            try:
                datetime.date.fromisoformat(value)
            except ValueError:
                raise Unsupported(f"line {self.lines[index]}: `{value}` is not a valid date") from None
            return _new_date(value, self.span(index, index)), index, index
        if kind == "(":
            inner, _, last = self.expression(index + 1)
            self.punctuation(last + 1, ")")
            return inner, index, last + 1
        if kind == "[":
            return self.list(index)
        raise self.fail(index, "an expression")

    def list(self, first: int) -> tuple[ast.Expr, int, int]:
        types = self.types
        items: list[ast.Expr] = []
        index = first + 1
        while types[index] != "]":
            item, _, last = self.expression(index)
            items.append(item)
            index = last + 1
            if types[index] == ",":
                index += 1
            elif types[index] != "]":
                raise self.fail(index, "`,` or `]`")
        return _new_list(tuple(items), self.span(first, index)), first, index

    def call(self, first: int) -> tuple[ast.Expr, int, int]:
        types, values = self.types, self.values
        function = self.name(first)
        arguments: list[ast.Argument] = []
        index = first + 2
        while types[index] != ")":
            if types[index] == NAME and types[index + 1] == "=" and values[index] not in _EXPRESSION_KEYWORDS:
                value, _, last = self.expression(index + 2)
                argument = _new_argument(self.name(index), value, self.span(index, last))
            else:
                value, start, last = self.expression(index)
                argument = _new_argument(None, value, self.span(start, last))
            arguments.append(argument)
            index = last + 1
            if types[index] == ",":
                index += 1
            elif types[index] != ")":
                raise self.fail(index, "`,` or `)`")
        return _new_call(function, tuple(arguments), self.span(first, index)), first, index


def _unescape(body: str) -> str:
    if "\\" not in body:
        return body
    return _ESCAPE.sub(_replace_escape, body)


def _replace_escape(match: re.Match[str]) -> str:
    replacement = ESCAPES.get(match.group(1))
    if replacement is None:
        raise Unsupported(f"unknown escape sequence `\\{match.group(1)}`")
    return replacement
