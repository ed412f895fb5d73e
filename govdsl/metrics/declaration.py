"""What a metric declaration says: name, parameters, value range, the reduction it reads, docs.

This module imports no numeric library, so the compiler can type-check a policy
without pandas or numpy. Each family of metrics declares its metrics in a module of
`govdsl.metrics.families`; `govdsl.metrics.registry` collects them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace

# Parameter types the compiler checks arguments against.
FEATURES = "features"  # one column name, or a list of them
STRING = "string"
NUMBER = "number"
BOOL = "bool"


@dataclass(frozen=True)
class Parameter:
    """One named argument of a metric, with the literal values the compiler accepts for it."""

    name: str
    type: str
    required: bool
    doc: str
    # For NUMBER: whether the value must be whole, its smallest and largest values, and
    # bounds it must stay strictly above or below.
    integer: bool = False
    minimum: float | None = None
    maximum: float | None = None
    above: float | None = None
    below: float | None = None
    # For STRING: the only values allowed, when the set is closed.
    choices: tuple[str, ...] = ()

    def accepted(self) -> str | None:
        """Describe the values the compiler accepts, such as `a whole number from 2 to 10000`; None for any value of the type."""
        if self.choices:
            quoted = [f'"{choice}"' for choice in self.choices]
            return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
        if self.type != NUMBER:
            return None
        low = self.minimum if self.minimum is not None else 0
        kind = "a whole number" if self.integer else "a number"
        if self.maximum is not None:
            return f"{kind} from {low:g} to {self.maximum:g}"
        if self.above is not None and self.below is not None:
            return f"{kind} between {self.above:g} and {self.below:g} (exclusive)"
        if self.below is not None:
            return f"{kind} at least {low:g} and below {self.below:g}"
        return f"{kind} of at least {low:g}"

    def accepts(self, value) -> bool:
        """Return whether a literal value is within the parameter's bounds or choices."""
        if self.choices:
            return value in self.choices
        if self.type != NUMBER:
            return True
        low = self.minimum if self.minimum is not None else 0
        return not (
            (self.integer and value != int(value))
            or (self.above is None and value < low)
            or (self.above is not None and value <= self.above)
            or (self.maximum is not None and value > self.maximum)
            or (self.below is not None and value >= self.below)
        )


@dataclass(frozen=True)
class MetricDeclaration:
    """Everything the compiler and the docs need to know about a metric, without computing it."""

    name: str
    summary: str
    kind: str  # "overall": one value for the whole dataset; "between_groups": compares groups
    components: tuple[str, ...]  # the rates computed per group and shown in reports
    value_range: tuple[float, float]
    reduction: str
    implementation: str  # "module:function"
    parameters: tuple[Parameter, ...] = ()
    better: str = "lower"  # which direction of the value means less disparity or error
    edge_cases: tuple[str, ...] = field(default=())
    # The section of `govdsl metrics` and docs/metrics/ the metric is listed in.
    family: str = "fairness"
    limitations: tuple[str, ...] = ()
    # Dataset roles the reduction reads, such as ("predictions",) or ("reference", "current").
    roles: tuple[str, ...] = ("predictions",)
    # Arguments, besides `by` and `dataset`, that change what the reduction computes, such as
    # the columns or the bins of a histogram; checks that pass equal values share one reduction.
    reduction_arguments: tuple[str, ...] = ()
    # How the implementation is called: "components" as function(table, components, **options)
    # with the options `min_group_size` and `exclude_small`; "arguments" as function(table, arguments),
    # where `arguments` holds every argument of the call.
    calling: str = "components"
    # True when the value is one number per group or per feature, which a check compares
    # through an aggregate or a quantifier, whatever the arguments.
    per_group: bool = False
    # True when every value is a whole number, such as a count of rows or days, so that
    # comparing it with `==` is exact (no W312).
    integer_valued: bool = False

    def parameter(self, name: str) -> Parameter | None:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        return None

    def load(self) -> Callable:
        module_name, function_name = self.implementation.split(":")
        return getattr(importlib.import_module(module_name), function_name)


BY = Parameter(
    "by",
    FEATURES,
    True,
    "Sensitive feature column, or list of columns, whose values (or combinations of values) form the groups.",
)
BY_OPTIONAL = Parameter(
    "by",
    FEATURES,
    False,
    "Sensitive feature column, or list of columns; with it, the metric gives one value per group,"
    " which a check compares through an aggregate such as `max(...)` or a quantifier such as `every g in ...`.",
)
MIN_GROUP_SIZE = Parameter(
    "min_group_size",
    NUMBER,
    False,
    "Fewest rows a group needs; a smaller group makes the value `insufficient`, naming the group and its size.",
    integer=True,
    minimum=0,
)
EXCLUDE_SMALL = Parameter(
    "exclude_small",
    BOOL,
    False,
    "With `min_group_size`, leave smaller groups out instead of making the value `insufficient`;"
    " the report lists the groups left out.",
)
DATASET = Parameter(
    "dataset",
    STRING,
    False,
    "Name of the bundle dataset to read; default: the dataset whose role is `predictions`.",
)


def mark_integer_valued(declarations: list[MetricDeclaration], names: set[str]) -> list[MetricDeclaration]:
    """Return the declarations with `integer_valued` set on the named ones; every name must be declared."""
    unknown = names - {declaration.name for declaration in declarations}
    if unknown:
        raise ValueError(f"no declaration named {', '.join(sorted(unknown))}")
    return [replace(d, integer_valued=True) if d.name in names else d for d in declarations]
