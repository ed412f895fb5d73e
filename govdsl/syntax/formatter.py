"""Print a parsed Module, with its comments, in the one canonical layout of policy source text.

The formatter first builds a tree of lines and blocks that remember their place in the
source. It then attaches each comment to the item it sits before, after or inside, and
writes the tree out with two-space indentation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from govdsl.diagnostics import Span
from govdsl.syntax import ast
from govdsl.syntax.parser import parse

_INDENT = "  "
_WIDTH = 100

# Binding strength of each expression form, loosest first, as in grammar/govdsl.lark. A quantifier
# binds like `not`, but its body reaches as far right as it can, like a lambda in Python.
_OR, _AND, _PREFIX, _COMPARE, _SUM, _PRODUCT, _UNARY, _POSTFIX = range(1, 9)
_BINARY_LEVELS = {"or": _OR, "and": _AND, "+": _SUM, "-": _SUM, "*": _PRODUCT, "/": _PRODUCT}

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t"}
_REQUIRE_KEYWORDS = {"card_section": "model_card section", "approval": "approval", "evidence": "evidence"}


def format_source(text: str, file: str = "<string>") -> str:
    """Parse policy source text and return it in canonical layout.

    Raises the parser's InvalidInputError when the text does not parse.
    """
    return format_module(parse(text, file), text)


def format_module(module: ast.Module, text: str = "") -> str:
    """Return the canonical text of a parsed module, keeping the comments of its source `text`."""
    source = _Source(text, module.comments) if module.comments else None
    root = _Builder(source).module(module)
    if source is not None:
        source.attach(root)
    lines: list[str] = []
    _Writer(source, lines).children(root, 0)
    return "\n".join(lines) + "\n"


def format_expression(expr: ast.Expr) -> str:
    """Return an expression on one line, with only the parentheses its structure needs."""
    return _expression(expr, _OR)


# Expressions


def _expression(expr: ast.Expr, context: int) -> str:
    """Print `expr` where the grammar expects at least the binding strength `context`."""
    text = _bare_expression(expr)
    return f"({text})" if _level(expr) < context else text


def _level(expr: ast.Expr) -> int:
    if isinstance(expr, ast.Binary):
        return _BINARY_LEVELS[expr.operator]
    if isinstance(expr, ast.Unary):
        return _PREFIX if expr.operator == "not" else _UNARY
    if isinstance(expr, (ast.Exists, ast.Quantifier)):
        return _PREFIX
    if isinstance(expr, ast.Compare):
        return _COMPARE
    return _POSTFIX


def _bare_expression(expr: ast.Expr) -> str:
    printer = _EXPRESSION_PRINTERS.get(type(expr))
    if printer is None:
        raise TypeError(f"cannot format expression node {type(expr).__name__}")
    return printer(expr)


def _binary(expr: ast.Binary) -> str:
    level = _BINARY_LEVELS[expr.operator]
    left = _expression(expr.left, level)
    if level <= _AND and _ends_in_quantifier(expr.left, level):
        left = f"({left})"  # a quantifier's body would otherwise take in this `and` or `or`
    return f"{left} {expr.operator} {_expression(expr.right, level + 1)}"


def _ends_in_quantifier(expr: ast.Expr, context: int) -> bool:
    """Return whether `expr`, printed where `context` is expected, ends in a bare quantifier."""
    if _level(expr) < context:
        return False
    if isinstance(expr, ast.Quantifier):
        return True
    if isinstance(expr, ast.Unary) and expr.operator == "not":
        return _ends_in_quantifier(expr.operand, _PREFIX)
    if isinstance(expr, ast.Binary) and expr.operator in ("and", "or"):
        return _ends_in_quantifier(expr.right, _BINARY_LEVELS[expr.operator] + 1)
    return False


def _unary(expr: ast.Unary) -> str:
    if expr.operator == "not":
        return f"not {_expression(expr.operand, _PREFIX)}"
    return f"-{_expression(expr.operand, _UNARY)}"


def _compare(expr: ast.Compare) -> str:
    parts = [_expression(expr.operands[0], _SUM)]
    for operator, operand in zip(expr.operators, expr.operands[1:], strict=True):
        parts.append(f"{operator} {_expression(operand, _SUM)}")
    return " ".join(parts)


def _quantifier(expr: ast.Quantifier) -> str:
    domain = _expression(expr.domain, _SUM)
    return f"{expr.kind} {expr.variable.value} in {domain}: {_expression(expr.body, _OR)}"


def _field(expr: ast.Field) -> str:
    target = _expression(expr.target, _POSTFIX)
    if isinstance(expr.target, ast.NumberLit) and target.isdigit():
        target = f"({target})"  # `1.x` would read as the number `1.` followed by `x`
    return f"{target}.{expr.name.value}"


def _call(expr: ast.Call) -> str:
    return f"{expr.function.value}({', '.join(_argument(a) for a in expr.arguments)})"


def _argument(argument: ast.Argument) -> str:
    value = _expression(argument.value, _OR)
    return f"{argument.name.value} = {value}" if argument.name is not None else value


def _list(expr: ast.ListLit) -> str:
    return f"[{', '.join(_expression(item, _OR) for item in expr.items)}]"


def _number(expr: ast.NumberLit) -> str:
    return expr.text or _plain_number(expr.value)


def _percent(expr: ast.PercentLit) -> str:
    return expr.text or f"{_plain_number(expr.value * 100)}%"


def _duration(expr: ast.DurationLit) -> str:
    return expr.text or f"{_plain_number(expr.days)}d"


def _plain_number(value: float) -> str:
    """Print a number that has no source text, such as one in an AST built by code."""
    return repr(float(value)).removesuffix(".0")


def _quote(value: str) -> str:
    """Return a string literal for `value`, escaping quotes, backslashes, newlines and tabs."""
    return '"' + "".join(_ESCAPES.get(char, char) for char in value) + '"'


def _string(literal: ast.StringLit) -> str:
    return _quote(literal.value)


_EXPRESSION_PRINTERS: dict[type, Callable] = {
    ast.StringLit: _string,
    ast.NumberLit: _number,
    ast.PercentLit: _percent,
    ast.DurationLit: _duration,
    ast.DateLit: lambda e: e.value,
    ast.BoolLit: lambda e: "true" if e.value else "false",
    ast.NameRef: lambda e: e.name,
    ast.Field: _field,
    ast.ListLit: _list,
    ast.Call: _call,
    ast.Unary: _unary,
    ast.Binary: _binary,
    ast.Compare: _compare,
    ast.Exists: lambda e: f"exists {_expression(e.target, _POSTFIX)}",
    ast.Quantifier: _quantifier,
}


# Layout


@dataclass(eq=False)
class _Item:
    """One output line, or a block: an opening line, indented children and a closing line.

    `start` and `end` are the source offsets of the item, and `inner_start` and `inner_end`
    those between a block's brackets. They are None when the source is unknown or not needed.
    """

    text: str
    start: int | None = None
    end: int | None = None
    gap: int = 0  # blank lines the layout puts before the item, unless it opens its block
    children: list[_Item] | None = None
    closing: str = ""
    inner_start: int | None = None
    inner_end: int | None = None
    leading: list[ast.Comment] = field(default_factory=list)
    trailing: ast.Comment | None = None
    opening_trailing: ast.Comment | None = None
    dangling: list[ast.Comment] = field(default_factory=list)


class _Builder:
    """Builder of a module's layout tree. Its `source` is None when there are no comments to place."""

    def __init__(self, source: _Source | None) -> None:
        self.source = source

    def module(self, module: ast.Module) -> _Item:
        groups = [[self.visit_Import(node) for node in module.imports]]
        groups.extend([self.visit_Policy(policy)] for policy in module.policies)
        end = len(self.source.text) if self.source else None
        return _Item("", 0, end, children=_separate(groups), inner_start=0, inner_end=end)

    def visit_Import(self, node: ast.Import) -> _Item:
        alias = f" as {node.alias.value}" if node.alias is not None else ""
        return self.line(f"import {_quote(node.path.value)}{alias}", node)

    def visit_Policy(self, node: ast.Policy) -> _Item:
        header = [
            self.string_field("version", node.version),
            self.string_field("description", node.description),
            self.list_field("waivable_by", node.waivable_by, _string, 1, omit_empty=True),
            self.applies(node.applies),
        ]
        groups = [
            [item for item in header if item is not None],
            [self.visit_Param(param) for param in node.params],
        ]
        groups.extend([self.visit_Control(control)] for control in node.controls)
        return self.block(f"policy {node.name.value} {{", node, node.name, _separate(groups))

    def visit_Param(self, node: ast.Param) -> _Item:
        text = f"param {node.name.value}: {node.type.text}"
        if node.default is not None:
            text += f" = {format_expression(node.default)}"
        if node.doc is None and not node.tiers:
            return self.line(text, node)
        children = [self.string_field("doc", node.doc)] if node.doc is not None else []
        children.extend(self.visit_TierOverride(tier) for tier in node.tiers)
        return self.block(text + " {", node, node.default or node.type, children)

    def visit_TierOverride(self, node: ast.TierOverride) -> _Item:
        return self.line(f"tier {node.tier.value} = {format_expression(node.value)}", node)

    def visit_Control(self, node: ast.Control) -> _Item:
        # An empty `waivable_by []` in a control overrides the policy's list, so it is printed.
        waivers = node.waivable_by
        waivers_item = None if waivers is None else self.list_field("waivable_by", waivers, _string, 2)
        fields = [
            self.string_field("title", node.title),
            self.string_field("description", node.description),
            self.string_field("owner", node.owner),
            self.list_field("maps", node.maps, _string, 2, omit_empty=True),
            self.name_field("severity", node.severity),
            self.name_field("enforcement", node.enforcement),
            waivers_item,
            self.list_field("tags", node.tags, _string, 2, omit_empty=True),
            self.list_field("references", node.references, _string, 2, omit_empty=True),
            self.list_field("requires", node.requires, _dotted, 2, omit_empty=True),
            self.applies(node.applies),
            self.string_field("remediation", node.remediation),
        ]
        children = [item for item in fields if item is not None]
        children.extend(self.requirement(item) for item in node.checks)
        return self.block(f"control {node.name.value} {{", node, node.name, children)

    def requirement(self, node: ast.Check | ast.Require) -> _Item:
        label = f"{node.name.value}: " if node.name is not None else ""
        if isinstance(node, ast.Check):
            return self.line(f"check {label}{format_expression(node.body)}", node)
        if not isinstance(node, ast.Require):
            raise TypeError(f"cannot format control item {type(node).__name__}")
        text = f"require {label}{_REQUIRE_KEYWORDS[node.kind]} {_quote(node.subject.value)}"
        if node.within is not None:
            text += f" within {format_expression(node.within)}"
        return self.line(text, node)

    def string_field(self, keyword: str, value: ast.StringLit | None) -> _Item | None:
        return None if value is None else self.line(f"{keyword} {_quote(value.value)}", value)

    def name_field(self, keyword: str, value: ast.Name | None) -> _Item | None:
        return None if value is None else self.line(f"{keyword} {value.value}", value)

    def applies(self, value: ast.Expr | None) -> _Item | None:
        return None if value is None else self.line(f"applies when {format_expression(value)}", value)

    def list_field(
        self, keyword: str, values: Sequence[ast.Node], show: Callable, depth: int, omit_empty: bool = False
    ) -> _Item | None:
        """Lay out `keyword [a, b]` on one line if it fits and contains no comment, else one value a line.

        `depth` is the indentation level of the field, which counts towards the width.
        """
        if not values:
            return None if omit_empty else _Item(f"{keyword} []")
        texts = [show(value) for value in values]
        start, end = self.source.list_brackets(values) if self.source else (None, None)
        one_line = _Item(f"{keyword} [{', '.join(texts)}]", start, end)
        has_comment = start is not None and end is not None and self.source.has_comment(start, end)
        if len(_INDENT) * depth + len(one_line.text) <= _WIDTH and not has_comment:
            return one_line
        children = [self.line(f"{text},", value) for text, value in zip(texts, values, strict=True)]
        item = _Item(f"{keyword} [", start, end, children=children, closing="]")
        if start is not None and end is not None:
            item.inner_start, item.inner_end = start + 1, end - 1
        return item

    def line(self, text: str, node: ast.Node) -> _Item:
        return _Item(text, *self.region(node))

    def block(self, opening: str, node: ast.Node, before: ast.Node, children: list[_Item]) -> _Item:
        """Lay out a `{ ... }` block. `before` is the node just before its opening brace."""
        start, end = self.region(node)
        inner_start = self.source.brace_after(before.span) if self.source else None
        inner_end = end - 1 if end is not None else None
        return _Item(opening, start, end, 0, children, "}", inner_start, inner_end)

    def region(self, node: ast.Node) -> tuple[int | None, int | None]:
        return self.source.region(node.span) if self.source else (None, None)


def _dotted(name: ast.DottedName) -> str:
    return name.text


def _separate(groups: list[list[_Item]]) -> list[_Item]:
    """Join groups of items with one blank line between non-empty groups."""
    joined: list[_Item] = []
    for group in groups:
        if group and joined:
            group[0].gap = 1
        joined.extend(group)
    return joined


# Comments


class _Source:
    """The source text and its comments, located by offset, for placing comments in the layout."""

    def __init__(self, text: str, comments: Sequence[ast.Comment]) -> None:
        self.text = text
        self.lines = text.split("\n")
        self.line_starts = [0]
        self.line_starts.extend(index + 1 for index, char in enumerate(text) if char == "\n")
        chars = list(text)
        self.located: list[tuple[int, ast.Comment]] = []
        self.unplaced: list[ast.Comment] = []
        for comment in comments:
            offset = self.offset(comment.span.line, comment.span.column) if comment.span else None
            if offset is None or not text.startswith(comment.text, offset):
                self.unplaced.append(comment)  # its text is not at its span, so it goes at the end
                continue
            self.located.append((offset, comment))
            chars[offset : offset + len(comment.text)] = " " * len(comment.text)
        self.located.sort(key=lambda pair: pair[0])
        self.blanked = "".join(chars)  # the text with comments blanked out, for finding brackets

    def offset(self, line: int, column: int) -> int | None:
        if not 1 <= line <= len(self.line_starts):
            return None
        offset = self.line_starts[line - 1] + column - 1
        return offset if 0 <= offset <= len(self.text) else None

    def region(self, span: Span | None) -> tuple[int | None, int | None]:
        if span is None:
            return None, None
        start, end = self.offset(span.line, span.column), self.offset(span.end_line, span.end_column)
        return (start, end) if start is not None and end is not None else (None, None)

    def line_of(self, offset: int) -> int:
        low, high = 0, len(self.line_starts)
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if self.line_starts[middle] <= offset else (low, middle)
        return low + 1

    def list_brackets(self, values: Sequence[ast.Node]) -> tuple[int | None, int | None]:
        """Return the offsets of a list's `[` and of the character after its `]`."""
        first, _ = self.region(values[0].span)
        _, last = self.region(values[-1].span)
        if first is None or last is None:
            return None, None
        opening = first - 1
        while opening >= 0 and self.blanked[opening].isspace():
            opening -= 1
        closing = last
        while self.blanked[closing : closing + 1] in (" ", "\t", "\r", "\n", "\f", ","):
            closing += 1
        if opening < 0 or self.blanked[opening] != "[" or self.blanked[closing : closing + 1] != "]":
            return None, None
        return opening, closing + 1

    def brace_after(self, span: Span | None) -> int | None:
        """Return the offset just after the `{` that follows `span`, past spaces and `)`."""
        _, offset = self.region(span)
        if offset is None:
            return None
        while offset < len(self.blanked) and (self.blanked[offset].isspace() or self.blanked[offset] == ")"):
            offset += 1
        return offset + 1 if self.blanked[offset : offset + 1] == "{" else None

    def has_comment(self, start: int, end: int) -> bool:
        return any(start < offset < end for offset, _ in self.located)

    def own_line(self, offset: int) -> bool:
        """Return whether only whitespace comes before `offset` on its line."""
        return not self.text[self.line_starts[self.line_of(offset) - 1] : offset].strip()

    def blank_above(self, line: int) -> int:
        """Return 1 if the line above `line` is blank, else 0: runs of blank lines count as one."""
        return 1 if line >= 2 and not self.lines[line - 2].strip() else 0

    def blank_above_comment(self, comment: ast.Comment) -> int:
        offset = self.offset(comment.span.line, comment.span.column) if comment.span else None
        if offset is None or not self.own_line(offset):
            return 0
        return self.blank_above(comment.span.line)

    def attach(self, root: _Item) -> None:
        """Give every comment to exactly one item: before it, after it, or inside a block."""
        self._attach(root, self.located)
        root.dangling.extend(self.unplaced)

    def _attach(self, block: _Item, comments: list[tuple[int, ast.Comment]]) -> None:
        placed = sorted((c for c in block.children or [] if c.start is not None), key=lambda c: c.start)
        inside: dict[int, list[tuple[int, ast.Comment]]] = {}
        for offset, comment in comments:
            owner = next((i for i, c in enumerate(placed) if c.start <= offset < c.end), None)
            if owner is not None:
                inside.setdefault(owner, []).append((offset, comment))
                continue
            if not self.own_line(offset) and self._trail(block, placed, offset, comment):
                continue
            following = next((c for c in placed if c.start > offset), None)
            (following.leading if following else block.dangling).append(comment)
        for index, found in inside.items():
            self._attach_inside(placed[index], found)

    @staticmethod
    def _trail(block: _Item, placed: list[_Item], offset: int, comment: ast.Comment) -> bool:
        """Make a comment that follows code the trailing comment of the item before it.

        With no item before it, the comment trails the block's opening line. Returns False, having
        placed nothing, when that line or item already has a trailing comment or the block is the module.
        """
        previous = [c for c in placed if c.end <= offset]
        if previous and previous[-1].trailing is None:
            previous[-1].trailing = comment
            return True
        if not previous and block.text and block.opening_trailing is None:  # the module has no opening line
            block.opening_trailing = comment
            return True
        return False

    def _attach_inside(self, item: _Item, comments: list[tuple[int, ast.Comment]]) -> None:
        """Place comments inside an item: between a block's brackets they stay, else they go before it."""
        if item.children is not None and item.inner_start is not None and item.inner_end is not None:
            inner = [(o, c) for o, c in comments if item.inner_start <= o < item.inner_end]
            item.leading.extend(c for o, c in comments if not item.inner_start <= o < item.inner_end)
            self._attach(item, inner)
        else:
            item.leading.extend(comment for _, comment in comments)


# Output


class _Writer:
    """Writer of the layout tree as lines, with comments and the blank lines of the layout."""

    def __init__(self, source: _Source | None, lines: list[str]) -> None:
        self.source = source
        self.lines = lines

    def children(self, block: _Item, depth: int) -> None:
        for index, child in enumerate(block.children or []):
            self.item(child, depth, first=index == 0)
        if block.dangling:
            self.comments(block.dangling, depth, 0, at_start=not block.children)

    def item(self, item: _Item, depth: int, first: bool) -> None:
        if item.leading:
            self.comments(item.leading, depth, item.gap, at_start=first)
            self.blank(self.blank_after(item.leading[-1], item))
        else:
            self.blank(0 if first else item.gap)
        indent = _INDENT * depth
        if item.children is None:
            self.lines.append(indent + item.text + self.trail(item.trailing))
        elif not item.children and not item.dangling and item.opening_trailing is None:
            self.lines.append(indent + item.text + item.closing + self.trail(item.trailing))
        else:
            self.lines.append(indent + item.text + self.trail(item.opening_trailing))
            self.children(item, depth + 1)
            self.lines.append(indent + item.closing + self.trail(item.trailing))

    def comments(self, comments: list[ast.Comment], depth: int, gap: int, at_start: bool) -> None:
        """Write own-line comments at `depth`, keeping one blank line before a comment if the source had one.

        Before the first comment come at least `gap` blank lines, or none at the start of a block.
        """
        for index, comment in enumerate(comments):
            blank = self.source.blank_above_comment(comment) if self.source else 0
            if index == 0:
                blank = 0 if at_start else max(gap, blank)
            self.blank(blank)
            self.lines.append(_INDENT * depth + comment.text.rstrip())

    def blank_after(self, comment: ast.Comment, item: _Item) -> int:
        """Keep one blank line between a comment and the item it precedes if the source had one."""
        if self.source is None or comment.span is None or item.start is None:
            return 0
        offset = self.source.offset(comment.span.line, comment.span.column)
        if offset is None or offset >= item.start:
            return 0
        return self.source.blank_above(self.source.line_of(item.start))

    def blank(self, count: int) -> None:
        self.lines.extend([""] * count)

    @staticmethod
    def trail(comment: ast.Comment | None) -> str:
        return "  " + comment.text.rstrip() if comment is not None else ""
