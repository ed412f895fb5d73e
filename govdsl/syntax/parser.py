"""Parse policy source text into a Module AST, or raise InvalidInputError with diagnostics.

The grammar is grammar/govdsl.lark, loaded once and parsed with Lark's LALR parser.
"""

from __future__ import annotations

import difflib
import threading
from functools import cache
from pathlib import Path

import lark
from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lexer import PatternStr

from govdsl import resources
from govdsl.diagnostics import Diagnostic, Span, error
from govdsl.errors import InvalidInputError
from govdsl.syntax import ast

# Names shown in "expected ..." messages for terminals that are patterns, not fixed strings.
_TERMINAL_DESCRIPTIONS = {
    "NAME": "a name",
    "STRING": "a string",
    "NUMBER": "a number",
    "COMPARE": "a comparison operator",
    "$END": "end of file",
}
_MAX_EXPECTED_SHOWN = 12

_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}


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


def parse(text: str, file: str = "<string>") -> ast.Module:
    """Parse one policy file; raise InvalidInputError with every diagnostic found."""
    parser = _parser()
    with _comments.lock:
        _comments.tokens = []
        try:
            tree = parser.parse(text)
        except UnexpectedInput as exc:
            raise InvalidInputError([_syntax_error(exc, parser, file, text)], {file: text}) from None
        comment_tokens = list(_comments.tokens)

    builder = _AstBuilder(file)
    policy = builder.transform(tree).children[0] if isinstance(tree, lark.Tree) else tree
    if builder.diagnostics:
        raise InvalidInputError(builder.diagnostics, {file: text})
    comments = tuple(ast.Comment(str(t), _token_span(t, file)) for t in comment_tokens)
    return ast.Module(file, policy, comments, policy.span)


def parse_file(path: str | Path, display_name: str | None = None) -> tuple[ast.Module, str]:
    """Read and parse a policy file; return the module and the source text."""
    path = Path(path)
    name = display_name or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInputError(
            [error("E501", f"policy file `{name}` not found", help="check the path")]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(
            [error("E502", f"cannot read policy file `{name}`: {exc}", help="policy files are UTF-8 text")]
        ) from None
    return parse(text, name), text


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
    lines = text.splitlines() or [""]
    return Span.point(file, len(lines), len(lines[-1]) + 1)


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
        return error(
            "E003",
            "unexpected end of file",
            _end_span(text, file),
            "a `{`, `[`, `(` or string is not closed; every `policy` and `control` block ends with `}`",
        )
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
        return error(
            "E006", "`=` is not a comparison", span, "compare with a threshold using `<=` or `>=`; `==` tests exact equality"
        )
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
    """Turn Lark's parse tree into AST nodes, collecting diagnostics for repeated control fields."""

    def __init__(self, file: str) -> None:
        super().__init__()
        self.file = file
        self.diagnostics: list[Diagnostic] = []

    def _span(self, meta) -> Span:
        return _meta_span(meta, self.file)

    def _name(self, token: Token) -> ast.Name:
        return ast.Name(str(token), _token_span(token, self.file))

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
                if escaped not in _ESCAPES:
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
                    out.append(_ESCAPES[escaped])
                index += 2
                continue
            out.append(char)
            index += 1
        return "".join(out)

    def number(self, meta, children):
        (token,) = children
        return ast.NumberLit(float(token), str(token), self._span(meta))

    def list(self, meta, children):
        items = tuple(child for child in children if child is not None)
        return ast.ListLit(items, self._span(meta))

    # Expressions

    def argument(self, meta, children):
        name, value = children
        return ast.Argument(self._name(name), value, self._span(meta))

    def arguments(self, meta, children):
        return tuple(children)

    def call(self, meta, children):
        name, arguments = children
        return ast.Call(self._name(name), arguments or (), self._span(meta))

    def comparison(self, meta, children):
        left, operator, right = children
        return ast.Comparison(left, str(operator), right, self._span(meta))

    # Declarations

    def string_items(self, meta, children):
        return tuple(children)

    def name_items(self, meta, children):
        return tuple(self._name(token) for token in children)

    def check(self, meta, children):
        name, body = children
        return ast.Check(self._name(name) if name is not None else None, body, self._span(meta))

    def field_title(self, meta, children):
        return ("title", children[0], meta)

    def field_description(self, meta, children):
        return ("description", children[0], meta)

    def field_owner(self, meta, children):
        return ("owner", children[0], meta)

    def field_remediation(self, meta, children):
        return ("remediation", children[0], meta)

    def field_maps(self, meta, children):
        return ("maps", children[0] or (), meta)

    def field_requires(self, meta, children):
        return ("requires", children[0] or (), meta)

    def field_severity(self, meta, children):
        return ("severity", self._name(children[0]), meta)

    def field_enforcement(self, meta, children):
        return ("enforcement", self._name(children[0]), meta)

    def control(self, meta, children):
        name_token, *items = children
        name = self._name(name_token)
        fields: dict[str, object] = {}
        checks: list[ast.Check] = []
        for item in items:
            if isinstance(item, ast.Check):
                checks.append(item)
                continue
            key, value, item_meta = item
            if key in fields:
                self.diagnostics.append(
                    error(
                        "E005",
                        f"`{key}` is given more than once in control `{name.value}`",
                        self._span(item_meta),
                        f"keep one `{key}`; a list field takes several values in one `[...]`",
                    )
                )
                continue
            fields[key] = value
        return ast.Control(name=name, checks=tuple(checks), span=self._span(meta), **fields)

    def policy_version(self, meta, children):
        return ("version", children[0], meta)

    def policy(self, meta, children):
        name_token, *items = children
        version: ast.StringLit | None = None
        controls: list[ast.Control] = []
        for item in items:
            if isinstance(item, ast.Control):
                controls.append(item)
                continue
            _, value, item_meta = item
            if version is not None:
                self.diagnostics.append(
                    error(
                        "E005",
                        f"`version` is given more than once in policy `{name_token}`",
                        self._span(item_meta),
                        "keep one `version`",
                    )
                )
                continue
            version = value
        return ast.Policy(self._name(name_token), version, tuple(controls), self._span(meta))
