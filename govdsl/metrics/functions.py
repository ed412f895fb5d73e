"""Built-in functions a policy expression can call, declared with their argument and result types.

Types are the compiler's type names: `number`, `string`, `bool`, `duration`, `date`,
`list[T]`, and `groups` for per-group values of a metric called with `by`.
`numbers` in a signature accepts `groups` or `list[number]`. `estimate` accepts a
call of a metric that reports confidence intervals (one that takes `confidence`); a
function whose result is `estimate` returns the type of that call, `number` or `groups`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FunctionDeclaration:
    name: str
    parameters: tuple[str, ...]
    result: str
    summary: str


FUNCTIONS: dict[str, FunctionDeclaration] = {
    f.name: f
    for f in (
        FunctionDeclaration("max", ("numbers",), "number", "Largest of per-group values or of a list of numbers."),
        FunctionDeclaration("min", ("numbers",), "number", "Smallest of per-group values or of a list of numbers."),
        FunctionDeclaration("difference", ("numbers",), "number", "Largest minus smallest value."),
        FunctionDeclaration("ratio", ("numbers",), "number", "Smallest divided by largest value; undefined when the largest is 0."),
        FunctionDeclaration("abs", ("number",), "number", "Absolute value."),
        FunctionDeclaration("count", ("collection",), "number", "Number of items in a list or of groups."),
        FunctionDeclaration("today", (), "date", "The evaluation date (`--as-of`, default today in UTC)."),
        FunctionDeclaration(
            "lower",
            ("estimate",),
            "estimate",
            "Lower bound of a metric's confidence interval, or of each group's; the metric's `confidence` sets the level.",
        ),
        FunctionDeclaration(
            "upper",
            ("estimate",),
            "estimate",
            "Upper bound of a metric's confidence interval, or of each group's; the metric's `confidence` sets the level.",
        ),
    )
}
