"""Parse policy source text with Lark into a Module AST, or raise InvalidInputError with diagnostics.

The grammar is grammar/govdsl.lark, loaded once and parsed with Lark's LALR parser.
This parser recovers from errors and reports them as diagnostics; govdsl.syntax.parser
calls it when the fast parser of govdsl.syntax.fastparse does not accept a text.
"""

from __future__ import annotations

import datetime
import difflib
import threading
from functools import cache

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lexer import PatternStr

from govdsl import resources
from govdsl.diagnostics import Diagnostic, Span, error
from govdsl.errors import InvalidInputError
from govdsl.syntax import ast
from govdsl.syntax.lexical import DURATION_DAYS, ESCAPES, end_position

# Names shown in "expected ..." messages for terminals that are patterns, not fixed strings.
_TERMINAL_DESCRIPTIONS = {
    "NAME": "a name",
    "STRING": "a string",
    "NUMBER": "a number",
    "COMPARE": "a comparison operator",
    "PERCENT": "a percentage",
    "DURATION": "a duration",
    "DATE": "a date",
    "QUANTIFIER": "`every`, `any` or `no`",
    "ADD_OPERATOR": "`+` or `-`",
    "MUL_OPERATOR": "`*` or `/`",
    "NOT_IN": "`not in`",
    "$END": "end of file",
}
_MAX_EXPECTED_SHOWN = 20
_MAX_SYNTAX_ERRORS = 20


class _CommentSink:
    """Receives the comments the lexer skips; one parse at a time uses it, under the lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tokens: list[Token] = []

    def __call__(self, token: Token) -> Token:
        self.tokens.append(token)
        return token


_comments = _CommentSink()


@cache
def _parser() -> Lark:
    grammar = (resources.data_path("grammar") / "govdsl.lark").read_text(encoding="utf-8")
    return Lark(
        grammar,
        parser="lalr",
        propagate_positions=True,
        maybe_placeholders=True,
        lexer_callbacks={"COMMENT": _comments},
    )


def parse_lark(text: str, file: str = "<string>") -> ast.Module:
    """Parse one policy file with Lark; raise InvalidInputError with every diagnostic found."""
    parser = _parser()
    syntax_errors: list[Diagnostic] = []

    def recover(exc: UnexpectedInput) -> bool:
        # Skip the bad token and go on, keeping only the first error of each line, because
        # the tokens after an error on the same line usually fail only as its consequence.
        last_line = syntax_errors[-1].span.line if syntax_errors and syntax_errors[-1].span else 0
        if exc.line > last_line or exc.line < 0:
            syntax_errors.append(_syntax_error(exc, parser, file, text))
        return len(syntax_errors) < _MAX_SYNTAX_ERRORS and getattr(exc, "token", None) is not None and exc.token.type != "$END"

    with _comments.lock:
        _comments.tokens = []
        try:
            tree = parser.parse(text, on_error=recover)
        except UnexpectedInput as exc:
            last_line = syntax_errors[-1].span.line if syntax_errors and syntax_errors[-1].span else 0
            if not syntax_errors or exc.line > last_line or isinstance(exc, UnexpectedEOF):
                syntax_errors.append(_syntax_error(exc, parser, file, text))
        comment_tokens = list(_comments.tokens)
    if syntax_errors:
        raise InvalidInputError(syntax_errors, {file: text})

    builder = _AstBuilder(file)
    items = builder.transform(tree).children
    if builder.diagnostics:
        raise InvalidInputError(builder.diagnostics, {file: text})
    imports = tuple(item for item in items if isinstance(item, ast.Import))
    policies = tuple(item for item in items if isinstance(item, ast.Policy))
    if not policies:
        raise InvalidInputError(
            [error("E011", "the file contains no policy", _end_span(text, file), "add `policy NAME { ... }`")],
            {file: text},
        )
    comments = tuple(ast.Comment(str(t), _token_span(t, file)) for t in comment_tokens)
    return ast.Module(file, imports, policies, comments, Span(file, 1, 1, *end_position(text)))


def _token_span(token: Token, file: str) -> Span:
    return Span(file, token.line, token.column, token.end_line, token.end_column)


def _meta_span(meta, file: str) -> Span:
    return Span(file, meta.line, meta.column, meta.end_line, meta.end_column)


def _describe_terminal(name: str, parser: Lark) -> str:
    if name in _TERMINAL_DESCRIPTIONS:
        return _TERMINAL_DESCRIPTIONS[name]
    for terminal in parser.terminals:
        if terminal.name == name and isinstance(terminal.pattern, PatternStr):
            return f"`{terminal.pattern.value}`"
    return name.lower()


def _expected_text(expected: set[str] | frozenset[str], parser: Lark) -> str:
    names = sorted({_describe_terminal(name, parser) for name in expected})
    shown = names[:_MAX_EXPECTED_SHOWN]
    more = len(names) - len(shown)
    text = ", ".join(shown)
    if more > 0:
        text += f" or {more} more"
    return text


def _end_span(text: str, file: str) -> Span:
    lines = text.rstrip("\n").split("\n")
    return Span.point(file, len(lines), len(lines[-1]) + 1)


def _unclosed_bracket(text: str) -> tuple[str, int, int] | None:
    """Return the innermost bracket left open at the end of the text, with its line and column, outside strings and comments."""
    stack: list[tuple[str, int, int]] = []
    pairs = {"}": "{", "]": "[", ")": "("}
    for number, line in enumerate(text.split("\n"), start=1):
        index = 0
        while index < len(line):
            character = line[index]
            if character == "#":
                break
            if character == '"':
                index += 1
                while index < len(line) and line[index] != '"':
                    index += 2 if line[index] == "\\" else 1
            elif character in "{[(":
                stack.append((character, number, index + 1))
            elif character in pairs:
                if not stack or stack[-1][0] != pairs[character]:
                    return None  # mismatched brackets: no single bracket to name
                stack.pop()
            index += 1
    return stack[-1] if stack else None


def _syntax_error(exc: UnexpectedInput, parser: Lark, file: str, text: str) -> Diagnostic:
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
        exc = UnexpectedEOF(exc.expected)  # type: ignore[assignment]
    if isinstance(exc, UnexpectedEOF) and not _strip_comments(text).strip():
        return error(
            "E003",
            "the file contains no policy",
            _end_span(text, file),
            "a policy file starts with `policy NAME {` and ends with `}`",
        )
    if isinstance(exc, UnexpectedEOF):
        unclosed = _unclosed_bracket(text)
        if unclosed is not None:
            bracket, line, column = unclosed
            closer = {"{": "}", "[": "]", "(": ")"}[bracket]
            hint = f"the `{bracket}` at line {line}, column {column} is not closed; add `{closer}` where it ends"
        else:
            hint = "a `{`, `[`, `(` or string is not closed; every `policy` and `control` block ends with `}`"
        return error("E003", "unexpected end of file", _end_span(text, file), hint)
    if isinstance(exc, UnexpectedCharacters) and exc.char == '"':
        line = text.splitlines()[exc.line - 1]
        span = Span(file, exc.line, exc.column, exc.line, len(line) + 1)
        return error("E008", "string is not closed", span, 'add the closing `"` on the same line; strings cannot span lines')
    if isinstance(exc, UnexpectedCharacters):
        span = Span.point(file, exc.line, exc.column)
        return error(
            "E002",
            f"unexpected character `{exc.char}`",
            span,
            f"expected {_expected_text(exc.allowed, parser)}" if exc.allowed else None,
        )
    assert isinstance(exc, UnexpectedToken)
    token = exc.token
    span = _token_span(token, file)
    acceptable = _acceptable(exc)
    if token.type == "EQUAL" and "COMPARE" in acceptable:
        # A text or a name compared by `=` is an equality test; a number is more often a threshold.
        rest = text.splitlines()[token.line - 1][token.column :].lstrip()
        if rest[:1].isdigit() or rest[:1] in ".-":
            hint = "compare with a threshold using `<=` or `>=`; `==` tests exact equality"
        else:
            hint = "write `==` to test equality"
        return error("E006", "`=` is not a comparison", span, hint)
    if token.type == "CONTROL" and "RBRACE" in acceptable and "CONTROL" not in acceptable:
        return error(
            "E009",
            "a control cannot start inside another control",
            span,
            "add the missing `}` that closes the control before this one",
        )
    expected = f"expected {_expected_text(acceptable, parser)}"
    keywords = [_keyword(name, parser) for name in acceptable]
    close = difflib.get_close_matches(str(token), [k for k in keywords if k], n=1)
    if token.type == "NAME" and close:
        return error("E007", f"unknown keyword `{token}`", span, f"did you mean `{close[0]}`? {expected}")
    return error("E001", f"unexpected `{token}`", span, expected)


def _acceptable(exc: UnexpectedToken) -> set[str]:
    """Return the terminals the parser accepts at the error; LALR's own list can include impossible ones."""
    interactive = getattr(exc, "interactive_parser", None)
    if interactive is not None:
        try:
            return set(interactive.accepts())
        except UnexpectedInput:
            pass
    return set(exc.expected)


def _strip_comments(text: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def _keyword(name: str, parser: Lark) -> str | None:
    """Return the fixed text of a keyword terminal, or None for pattern terminals such as NAME."""
    for terminal in parser.terminals:
        if terminal.name == name and isinstance(terminal.pattern, PatternStr) and terminal.pattern.value.isalpha():
            return terminal.pattern.value
    return None



@v_args(meta=True)
class _AstBuilder(Transformer):
    """Turn Lark's parse tree into AST nodes, collecting diagnostics for repeated fields."""

    def __init__(self, file: str) -> None:
        super().__init__()
        self.file = file
        self.diagnostics: list[Diagnostic] = []

    def _span(self, meta) -> Span:
        return _meta_span(meta, self.file)

    def _name(self, token: Token) -> ast.Name:
        return ast.Name(str(token), _token_span(token, self.file))

    def _fields(self, items, owner: str) -> dict[str, object]:
        """Collect `(key, value, meta)` items, reporting keys given more than once."""
        collected: dict[str, object] = {}
        for key, value, item_meta in items:
            if key in collected:
                self.diagnostics.append(
                    error(
                        "E005",
                        f"`{key}` is given more than once in {owner}",
                        self._span(item_meta),
                        f"keep one `{key}`; a list field takes several values in one `[...]`",
                    )
                )
                continue
            collected[key] = value
        return collected

    # Literals

    def string(self, meta, children):
        (token,) = children
        return ast.StringLit(self._unescape(token), self._span(meta))

    def _unescape(self, token: Token) -> str:
        body = str(token)[1:-1]
        out: list[str] = []
        index = 0
        while index < len(body):
            char = body[index]
            if char == "\\":
                escaped = body[index + 1]
                if escaped not in ESCAPES:
                    column = token.column + index + 1
                    self.diagnostics.append(
                        error(
                            "E004",
                            f"unknown escape sequence `\\{escaped}` in string",
                            Span(self.file, token.line, column, token.line, column + 2),
                            'use `\\"`, `\\\\`, `\\n` or `\\t`',
                        )
                    )
                    out.append(escaped)
                else:
                    out.append(ESCAPES[escaped])
                index += 2
                continue
            out.append(char)
            index += 1
        return "".join(out)

    def number(self, meta, children):
        (token,) = children
        return ast.NumberLit(float(token), str(token), self._span(meta))

    def percent(self, meta, children):
        (token,) = children
        return ast.PercentLit(float(str(token)[:-1]) / 100.0, str(token), self._span(meta))

    def duration(self, meta, children):
        (token,) = children
        text = str(token)
        return ast.DurationLit(float(text[:-1]) * DURATION_DAYS[text[-1]], text, self._span(meta))

    def date(self, meta, children):
        (token,) = children
        text = str(token)
        try:
            datetime.date.fromisoformat(text)
        except ValueError:
            self.diagnostics.append(
                error("E010", f"`{text}` is not a valid date", _token_span(token, self.file), "write dates as YYYY-MM-DD")
            )
        return ast.DateLit(text, self._span(meta))

    def true(self, meta, children):
        return ast.BoolLit(True, self._span(meta))

    def false(self, meta, children):
        return ast.BoolLit(False, self._span(meta))

    def name(self, meta, children):
        (token,) = children
        return ast.NameRef(str(token), self._span(meta))

    def list(self, meta, children):
        items = tuple(child for child in children if child is not None)
        return ast.ListLit(items, self._span(meta))

    # Expressions

    def field(self, meta, children):
        target, name = children
        return ast.Field(target, self._name(name), self._span(meta))

    def named_argument(self, meta, children):
        name, value = children
        return ast.Argument(self._name(name), value, self._span(meta))

    def positional_argument(self, meta, children):
        (value,) = children
        return ast.Argument(None, value, self._span(meta))

    def call(self, meta, children):
        name, *arguments = children
        return ast.Call(self._name(name), tuple(a for a in arguments if a is not None), self._span(meta))

    def negate(self, meta, children):
        (operand,) = children
        return ast.Unary("-", operand, self._span(meta))

    def not_(self, meta, children):
        (operand,) = children
        return ast.Unary("not", operand, self._span(meta))

    def binary(self, meta, children):
        left, operator, right = children
        return ast.Binary(str(operator), left, right, self._span(meta))

    def and_(self, meta, children):
        left, right = children
        return ast.Binary("and", left, right, self._span(meta))

    def or_(self, meta, children):
        left, right = children
        return ast.Binary("or", left, right, self._span(meta))

    def compare(self, meta, children):
        operands = tuple(children[0::2])
        operators = tuple(" ".join(str(op).split()) for op in children[1::2])
        return ast.Compare(operands, operators, self._span(meta))

    def exists(self, meta, children):
        (target,) = children
        return ast.Exists(target, self._span(meta))

    def quantifier(self, meta, children):
        kind, variable, domain, body = children
        return ast.Quantifier(str(kind), self._name(variable), domain, body, self._span(meta))

    # Declarations

    def string_list(self, meta, children):
        return tuple(child for child in children if child is not None)

    def dotted_name(self, meta, children):
        return ast.DottedName(tuple(str(token) for token in children), self._span(meta))

    def check(self, meta, children):
        name, body = children
        return ast.Check(self._name(name) if name is not None else None, body, self._span(meta))

    def require_card_section(self, meta, children):
        return ("card_section", children[0], None)

    def require_approval(self, meta, children):
        return ("approval", children[0], children[1])

    def require_evidence(self, meta, children):
        return ("evidence", children[0], None)

    def require(self, meta, children):
        name, (kind, subject, within) = children
        return ast.Require(self._name(name) if name is not None else None, kind, subject, within, self._span(meta))

    def applies(self, meta, children):
        return ("applies", children[0], meta)

    def field_title(self, meta, children):
        return ("title", children[0], meta)

    def field_description(self, meta, children):
        return ("description", children[0], meta)

    def field_owner(self, meta, children):
        return ("owner", children[0], meta)

    def field_remediation(self, meta, children):
        return ("remediation", children[0], meta)

    def field_maps(self, meta, children):
        return ("maps", children[0], meta)

    def field_tags(self, meta, children):
        return ("tags", children[0], meta)

    def field_references(self, meta, children):
        return ("references", children[0], meta)

    def field_waivable_by(self, meta, children):
        return ("waivable_by", children[0], meta)

    def field_requires(self, meta, children):
        return ("requires", tuple(child for child in children if child is not None), meta)

    def field_severity(self, meta, children):
        return ("severity", self._name(children[0]), meta)

    def field_enforcement(self, meta, children):
        return ("enforcement", self._name(children[0]), meta)

    def control(self, meta, children):
        name_token, *items = children
        name = self._name(name_token)
        checks = [item for item in items if isinstance(item, (ast.Check, ast.Require))]
        fields = self._fields([i for i in items if isinstance(i, tuple)], f"control `{name.value}`")
        return ast.Control(name=name, checks=tuple(checks), span=self._span(meta), **fields)

    def type_ref(self, meta, children):
        name, argument = children
        return ast.TypeRef(self._name(name), self._name(argument) if argument is not None else None, self._span(meta))

    def param_doc(self, meta, children):
        return ("doc", children[0], meta)

    def param_tier(self, meta, children):
        tier, value = children
        return ast.TierOverride(self._name(tier), value, self._span(meta))

    def param_body(self, meta, children):
        return list(children)

    def param(self, meta, children):
        name_token, type_ref, default, body = children
        body = body or []
        fields = self._fields([i for i in body if isinstance(i, tuple)], f"parameter `{name_token}`")
        tiers = tuple(i for i in body if isinstance(i, ast.TierOverride))
        return ast.Param(self._name(name_token), type_ref, default, fields.get("doc"), tiers, self._span(meta))

    def policy_version(self, meta, children):
        return ("version", children[0], meta)

    def policy_description(self, meta, children):
        return ("description", children[0], meta)

    def policy_waivable_by(self, meta, children):
        return ("waivable_by", children[0], meta)

    def policy(self, meta, children):
        name_token, *items = children
        controls = tuple(item for item in items if isinstance(item, ast.Control))
        params = tuple(item for item in items if isinstance(item, ast.Param))
        fields = self._fields([i for i in items if isinstance(i, tuple)], f"policy `{name_token}`")
        return ast.Policy(
            self._name(name_token), params=params, controls=controls, span=self._span(meta), **fields
        )

    def import_decl(self, meta, children):
        path, alias = children
        return ast.Import(path, self._name(alias) if alias is not None else None, self._span(meta))
