"""AST node classes of the policy language: frozen dataclasses that carry source spans.

Spans are left out of equality and hashing, so two parses of the same program
laid out differently compare equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from govdsl.diagnostics import Span


def _span() -> Span:
    return field(default=None, compare=False, repr=False)  # type: ignore[return-value]


@dataclass(frozen=True)
class Node:
    pass


@dataclass(frozen=True)
class Name(Node):
    value: str
    span: Span = _span()


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
class ListLit(Expr):
    items: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Argument(Node):
    name: Name
    value: Expr
    span: Span = _span()


@dataclass(frozen=True)
class Call(Expr):
    """A metric call with named arguments, such as `false_positive_rate_difference(by = "race")`."""

    function: Name
    arguments: tuple[Argument, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Comparison(Expr):
    left: Expr
    operator: str
    right: Expr
    span: Span = _span()


# Declarations


@dataclass(frozen=True)
class Check(Node):
    name: Name | None
    body: Expr
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
    requires: tuple[Name, ...] = ()
    remediation: StringLit | None = None
    checks: tuple[Check, ...] = ()
    span: Span = _span()


@dataclass(frozen=True)
class Policy(Node):
    name: Name
    version: StringLit | None
    controls: tuple[Control, ...]
    span: Span = _span()


@dataclass(frozen=True)
class Module(Node):
    """One parsed policy file: its policy and the comments found in it, in source order."""

    file: str
    policy: Policy
    comments: tuple[Comment, ...] = ()
    span: Span = _span()
