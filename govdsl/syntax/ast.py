"""AST node classes of the policy language: frozen dataclasses that carry source spans.

Spans are left out of equality and hashing, so two parses of the same program
laid out differently compare equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from govdsl.diagnostics import Span


def _span() -> Span:
    return field(default=None, compare=False, repr=False)  # type: ignore[return-value]


@dataclass(frozen=True)
class Node:
    def children(self) -> list[Node]:
        """Return the child nodes in field order, for visitors that walk the whole tree."""
        found: list[Node] = []
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, Node):
                found.append(value)
            elif isinstance(value, tuple):
                found.extend(v for v in value if isinstance(v, Node))
        return found

    def walk(self):
        """Yield this node and every node below it, depth first."""
        yield self
        for child in self.children():
            yield from child.walk()


@dataclass(frozen=True)
class Name(Node):
    value: str
    span: Span = _span()


@dataclass(frozen=True)
class DottedName(Node):
    """A possibly qualified name such as `base.data_quality`."""

    parts: tuple[str, ...]
    span: Span = _span()

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Comment(Node):
    """A `#` comment; its text includes the `#`."""

    text: str
    span: Span = _span()


# Expressions


@dataclass(frozen=True)
class Expr(Node):
    pass


@dataclass(frozen=True)
class StringLit(Expr):
    value: str
    span: Span = _span()


@dataclass(frozen=True)
class NumberLit(Expr):
    value: float
    text: str = field(compare=False)
    span: Span = _span()


@dataclass(frozen=True)
class PercentLit(Expr):
    """`80%`: `value` is the fraction 0.8."""

    value: float
    text: str = field(compare=False)
    span: Span = _span()


@dataclass(frozen=True)
class DurationLit(Expr):
    """`90d`, `12w`, `48h` or `1y`: `days` is the length in days (a year is 365 days)."""

    days: float
    text: str = field(compare=False)
    span: Span = _span()


@dataclass(frozen=True)
class DateLit(Expr):
    value: str  # ISO 8601, YYYY-MM-DD
    span: Span = _span()


@dataclass(frozen=True)
class BoolLit(Expr):
    value: bool
    span: Span = _span()


@dataclass(frozen=True)
class NameRef(Expr):
    """A bare name: a parameter, a quantifier variable, or a built-in object such as `model`."""

    name: str
    span: Span = _span()


@dataclass(frozen=True)
class Field(Expr):
    """Field access, such as `model.risk_tier` or `card.intended_use`."""

    target: Expr
    name: Name
    span: Span = _span()


@dataclass(frozen=True)
class ListLit(Expr):
    items: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Argument(Node):
    name: Name | None  # None for a positional argument
    value: Expr
    span: Span = _span()


@dataclass(frozen=True)
class Call(Expr):
    """A metric or built-in function call, such as `false_positive_rate_difference(by = "race")`."""

    function: Name
    arguments: tuple[Argument, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Unary(Expr):
    operator: str  # "-" or "not"
    operand: Expr
    span: Span = _span()


@dataclass(frozen=True)
class Binary(Expr):
    operator: str  # "+", "-", "*", "/", "and", "or"
    left: Expr
    right: Expr
    span: Span = _span()


@dataclass(frozen=True)
class Compare(Expr):
    """A comparison, possibly chained: `0.8 <= x <= 1.25` holds when every adjacent pair holds."""

    operands: tuple[Expr, ...]
    operators: tuple[str, ...]  # "<", "<=", ">", ">=", "==", "!=", "in", "not in", "matches"
    span: Span = _span()


@dataclass(frozen=True)
class Exists(Expr):
    target: Expr
    span: Span = _span()


@dataclass(frozen=True)
class Quantifier(Expr):
    """`every g in selection_rate(by = "race"): g >= 0.8`; the kind is every, any or no."""

    kind: str
    variable: Name
    domain: Expr
    body: Expr
    span: Span = _span()


# Declarations


@dataclass(frozen=True)
class Check(Node):
    name: Name | None
    body: Expr
    span: Span = _span()


@dataclass(frozen=True)
class Require(Node):
    """A requirement on documents or process: a model card section, an approval, or an evidence file."""

    name: Name | None
    kind: str  # "card_section", "approval" or "evidence"
    subject: StringLit
    within: Expr | None = None
    span: Span = _span()


@dataclass(frozen=True)
class TypeRef(Node):
    name: Name
    argument: Name | None = None
    span: Span = _span()

    @property
    def text(self) -> str:
        return f"{self.name.value}[{self.argument.value}]" if self.argument else self.name.value


@dataclass(frozen=True)
class TierOverride(Node):
    tier: Name
    value: Expr
    span: Span = _span()


@dataclass(frozen=True)
class Param(Node):
    name: Name
    type: TypeRef
    default: Expr | None = None
    doc: StringLit | None = None
    tiers: tuple[TierOverride, ...] = ()
    span: Span = _span()


@dataclass(frozen=True)
class Control(Node):
    name: Name
    title: StringLit | None = None
    description: StringLit | None = None
    owner: StringLit | None = None
    maps: tuple[StringLit, ...] = ()
    severity: Name | None = None
    enforcement: Name | None = None
    waivable_by: tuple[StringLit, ...] | None = None
    tags: tuple[StringLit, ...] = ()
    references: tuple[StringLit, ...] = ()
    requires: tuple[DottedName, ...] = ()
    remediation: StringLit | None = None
    applies: Expr | None = None
    checks: tuple[Check | Require, ...] = ()
    span: Span = _span()


@dataclass(frozen=True)
class Policy(Node):
    name: Name
    version: StringLit | None = None
    description: StringLit | None = None
    waivable_by: tuple[StringLit, ...] = ()
    applies: Expr | None = None
    params: tuple[Param, ...] = ()
    controls: tuple[Control, ...] = ()
    span: Span = _span()


@dataclass(frozen=True)
class Import(Node):
    path: StringLit
    alias: Name | None = None
    span: Span = _span()


@dataclass(frozen=True)
class Module(Node):
    """One parsed policy file: its imports, its policies and its comments, in source order."""

    file: str
    imports: tuple[Import, ...] = ()
    policies: tuple[Policy, ...] = ()
    comments: tuple[Comment, ...] = field(default=(), compare=False)
    span: Span = _span()

    @property
    def policy(self) -> Policy:
        """The file's first policy; most files hold exactly one."""
        return self.policies[0]
