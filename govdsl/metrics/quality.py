"""Data quality metrics as pure functions of column profiles, duplicate counts and group shares.

The tables are built by `govdsl.evidence.quality_reductions`. Every function here is
called as `function(table, arguments)` and returns a MetricValue. A value that the
data cannot give, such as a rate over zero rows, is None with the reason, never 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, astuple, dataclass, field

from govdsl.metrics.values import GroupValues, MetricValue

# Distinct offending values a profile keeps per column and finding, to name them in a report.
EXAMPLES_KEPT = 10


@dataclass(frozen=True)
class ColumnRule:
    """A column's declaration in a dataset's `schema`: its type and the values it allows."""

    name: str
    key: str  # where the rule is declared in bundle.yaml, such as `datasets[0].schema.columns[2]`
    type: str | None = None
    nullable: bool = True
    minimum: float | str | None = None  # a number, or an ISO 8601 date for date and datetime columns
    maximum: float | str | None = None
    values: tuple | None = None  # the allowed values (the category domain), as declared
    allow_non_finite: bool = False

    @property
    def has_range(self) -> bool:
        return self.minimum is not None or self.maximum is not None

    def describe_range(self) -> str:
        low = "-inf" if self.minimum is None else str(self.minimum)
        high = "inf" if self.maximum is None else str(self.maximum)
        return f"[{low}, {high}]"

    def to_dict(self) -> dict:
        data = {"type": self.type, "nullable": self.nullable}
        if self.minimum is not None:
            data["minimum"] = self.minimum
        if self.maximum is not None:
            data["maximum"] = self.maximum
        if self.values is not None:
            data["values"] = list(self.values)
        if self.type == "number":
            data["allow_non_finite"] = self.allow_non_finite
        return data


@dataclass(frozen=True)
class ColumnCounts:
    """One column's counts over a dataset; `n` is the number of rows.

    `non_numeric` counts present values that are not numbers, so a column with
    numbers and no `non_numeric` value is numeric. `non_finite` counts NaN and
    infinite values, which no range check or rate averages in.
    """

    n: int
    missing: int = 0
    numbers: int = 0
    non_numeric: int = 0
    non_finite: int = 0
    type_errors: int = 0
    below_minimum: int = 0
    above_maximum: int = 0
    out_of_domain: int = 0
    # Values that the range and the domain checks compared: present, of the declared type,
    # and finite in a numeric column.
    range_checked: int = 0
    domain_checked: int = 0

    def __add__(self, other: ColumnCounts) -> ColumnCounts:
        return ColumnCounts(*(a + b for a, b in zip(astuple(self), astuple(other))))

    @property
    def present(self) -> int:
        return self.n - self.missing

    @property
    def numeric(self) -> bool:
        return self.numbers > 0 and self.non_numeric == 0

    @property
    def out_of_range(self) -> int:
        return self.below_minimum + self.above_maximum

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class ColumnProfile:
    """Per-column counts of one dataset, and the schema they were checked against.

    `examples` maps a column and a finding ("type", "non_finite", "range", "domain")
    to at most EXAMPLES_KEPT offending values (the first ones in sorted order) and
    how often each occurs.
    """

    dataset: str
    rows: int
    columns: dict[str, ColumnCounts]  # the columns read, in file order
    incomplete_rows: int  # rows with a missing value in at least one column read
    file_columns: tuple[str, ...]
    missing_values: tuple[str, ...] = ("",)
    rules: dict[str, ColumnRule] = field(default_factory=dict)
    schema_declared: bool = False
    additional_columns: bool = True
    examples: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    features: tuple[str, ...] = ("column",)
    rows_excluded: int = 0


@dataclass(frozen=True)
class DuplicateCounts:
    """Exact duplicate rows of a dataset over some columns: rows that repeat an earlier row."""

    dataset: str
    rows: int
    duplicate_rows: int
    columns: tuple[str, ...]
    examples: tuple[tuple[int, int], ...]  # (row, the earlier row it repeats), 1-based data rows
    memory_bytes: int  # peak bytes of the hash index the reduction kept
    features: tuple[str, ...] = ()
    rows_excluded: int = 0


@dataclass(frozen=True)
class PopulationShares:
    """A feature's reference shares in a population, with the source they come from."""

    feature: str
    source: str
    shares: dict[str, float]  # group -> share of the population
    key: str
    given_as: str  # "shares", "counts" or "file"
    total: float  # the sum of the shares or counts as declared
    file: str | None = None


@dataclass(frozen=True)
class GroupShares:
    """How many rows of a dataset fall in each group of one feature, beside the population's shares."""

    dataset: str
    feature: str
    rows: int  # rows with a value for the feature
    missing: int  # rows without one, which no share counts
    counts: dict[str, int]  # group -> rows, in first-seen order
    population: PopulationShares
    features: tuple[str, ...]  # (feature,), which names the groups in reports
    rows_excluded: int = 0


@dataclass(frozen=True)
class RowCounts:
    """Counts behind one group or column of a quality metric; `n` is its rows."""

    n: int
    counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, int]:
        return {"n": self.n, **self.counts}


# Missing values


def _column_rates(
    columns: dict[str, ColumnCounts],
    component: str,
    rate: Callable[[ColumnCounts], tuple[float | None, str | None]],
    counts: Callable[[ColumnCounts], dict[str, int]],
) -> tuple[GroupValues, ...]:
    """Build one group per column with the component's value, or None and the reason."""
    groups = []
    for name, column in columns.items():
        value, reason = rate(column)
        reasons = {component: reason} if reason else {}
        groups.append(GroupValues((name,), RowCounts(column.n, counts(column)), {component: value}, reasons))
    return tuple(groups)


def _missing(column: ColumnCounts) -> tuple[float | None, str | None]:
    if column.n == 0:
        return None, "the dataset has no rows"
    return column.missing / column.n, None


def _missing_groups(table: ColumnProfile) -> tuple[GroupValues, ...]:
    return _column_rates(table.columns, "missing_rate", _missing, lambda c: {"missing": c.missing})


def _missing_details(table: ColumnProfile) -> dict:
    cells = table.rows * len(table.columns)
    missing = sum(c.missing for c in table.columns.values())
    return {
        "rows": table.rows,
        "missing_values": list(table.missing_values),
        "columns": {name: {"missing": c.missing, "rows": c.n} for name, c in table.columns.items()},
        "missing_cells": missing,
        "missing_cell_rate": missing / cells if cells else None,
    }


def _no_columns(table: ColumnProfile) -> str:
    return f"no columns of dataset `{table.dataset}` are selected"


def missing_rate(table: ColumnProfile, arguments: dict) -> MetricValue:
    """Compute the share of rows whose value is missing, per column."""
    return MetricValue(None, None, groups=_missing_groups(table), details=_missing_details(table))


def max_missing_rate(table: ColumnProfile, arguments: dict) -> MetricValue:
    """Compute the largest share of missing values of any column."""
    groups = _missing_groups(table)
    details = _missing_details(table)
    if not groups:
        return MetricValue(None, _no_columns(table), groups=groups, details=details)
    if table.rows == 0:
        return MetricValue(None, f"dataset `{table.dataset}` has no rows", groups=groups, details=details)
    return MetricValue(
        max(g.rates["missing_rate"] for g in groups),
        groups=groups,
        extremes={"missing_rate": _extremes(groups, "missing_rate")},
        details=details,
    )


def incomplete_row_rate(table: ColumnProfile, arguments: dict) -> MetricValue:
    """Compute the share of rows with a missing value in at least one of the columns."""
    details = _missing_details(table) | {"incomplete_rows": table.incomplete_rows}
    groups = _missing_groups(table)
    if not table.columns:
        return MetricValue(None, _no_columns(table), groups=groups, details=details)
    if table.rows == 0:
        return MetricValue(None, f"dataset `{table.dataset}` has no rows", groups=groups, details=details)
    return MetricValue(table.incomplete_rows / table.rows, groups=groups, details=details)


def _extremes(groups: tuple[GroupValues, ...], component: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    low = min(groups, key=lambda g: (g.rates[component], g.key))
    high = max(groups, key=lambda g: (g.rates[component], g.key))
    return low.key, high.key


# NaN and infinite values


def non_finite_count(table: ColumnProfile, arguments: dict) -> MetricValue:
    """Count the NaN or infinite values in the numeric columns."""
    numeric = {name: c for name, c in table.columns.items() if _is_numeric(table, name, c)}
    groups = _column_rates(
        numeric, "non_finite_rate", _non_finite_rate, lambda c: {"non_finite": c.non_finite, "numbers": c.numbers}
    )
    details = {
        "numeric_columns": list(numeric),
        "columns": {name: c.non_finite for name, c in numeric.items() if c.non_finite},
        "examples": {name: table.examples.get(name, {}).get("non_finite", {}) for name, c in numeric.items() if c.non_finite},
    }
    return MetricValue(sum(c.non_finite for c in numeric.values()), groups=groups, details=details)


def _non_finite_rate(column: ColumnCounts) -> tuple[float | None, str | None]:
    if column.numbers == 0:
        return None, "the column has no numbers"
    return column.non_finite / column.numbers, None


def _is_numeric(table: ColumnProfile, name: str, column: ColumnCounts) -> bool:
    rule = table.rules.get(name)
    if rule is not None and rule.type is not None:
        return rule.type in ("integer", "number")
    return column.numeric


# Schema


def _violations(table: ColumnProfile) -> list[dict]:
    """List each rule of the schema that the data breaks, with counts and example values."""
    found: list[dict] = []
    for name, rule in table.rules.items():
        column = table.columns.get(name)
        if column is None:
            if name not in table.file_columns:
                found.append({"column": name, "finding": "missing_column", "key": rule.key,
                              "message": f"column `{name}` is declared in the schema but not in the file"})
            continue
        examples = table.examples.get(name, {})
        checks = [
            ("type", column.type_errors, f"value(s) are not of type `{rule.type}`"),
            ("nullable", 0 if rule.nullable else column.missing, "value(s) are missing, but the column is not nullable"),
            ("non_finite", column.non_finite if rule.type == "number" and not rule.allow_non_finite else 0,
             "value(s) are NaN or infinite"),
            ("range", column.out_of_range, f"value(s) are outside {rule.describe_range()}"),
            ("domain", column.out_of_domain, "value(s) are not among the declared `values`"),
        ]
        for finding, count, text in checks:
            if count:
                entry = {"column": name, "finding": finding, "key": rule.key, "count": count,
                         "message": f"column `{name}`: {count} {text}"}
                if finding in examples:
                    entry["examples"] = examples[finding]
                found.append(entry)
    if table.schema_declared and not table.additional_columns:
        for name in table.file_columns:
            if name not in table.rules:
                found.append({"column": name, "finding": "unexpected_column",
                              "message": f"column `{name}` is in the file but not in the schema,"
                                         " and `additional_columns` is false"})
    return found


def _violation_groups(table: ColumnProfile, found: list[dict]) -> tuple[GroupValues, ...]:
    """Build one row per violation, named `column (finding)`.

    Its `n` is the number of values breaking the rule, or every row for a missing or unexpected column.
    """
    return tuple(
        GroupValues((f"{v['column']} ({v['finding'].replace('_', ' ')})",), RowCounts(v.get("count", table.rows)), {})
        for v in found
    )


def schema_violations(table: ColumnProfile, arguments: dict) -> MetricValue:
    """Count the schema rules the data breaks; each (column, rule) pair counts once."""
    found = _violations(table)
    details = {
        "violations": found,
        "rules": {name: rule.to_dict() for name, rule in table.rules.items()},
        "additional_columns": table.additional_columns,
        "missing_values": list(table.missing_values),
        "rows": table.rows,
    }
    return MetricValue(len(found), groups=_violation_groups(table, found), details=details)


def _range_rate(column: ColumnCounts) -> tuple[float | None, str | None]:
    if column.range_checked == 0:
        return None, "the column has no finite values of its type to compare"
    return column.out_of_range / column.range_checked, None


def _range_details(table: ColumnProfile, ruled: dict[str, ColumnCounts]) -> dict:
    return {
        "columns": {
            name: {
                "range": table.rules[name].describe_range(),
                "checked": c.range_checked,
                "below_minimum": c.below_minimum,
                "above_maximum": c.above_maximum,
                "examples": table.examples.get(name, {}).get("range", {}),
            }
            for name, c in ruled.items()
        },
    }


def _named_without(table: ColumnProfile, arguments: dict, ruled: dict, rule_part: str) -> str | None:
    """Return a reason when the check names a column whose rule lacks what the metric reads."""
    named = [name for name in arguments.get("columns", ()) if name not in ruled]
    if not named:
        return None
    listed = ", ".join(f"`{name}`" for name in named)
    return f"the schema of dataset `{table.dataset}` declares no {rule_part} for column {listed}"


def _range_parts(table: ColumnProfile, arguments: dict):
    ruled = {name: c for name, c in table.columns.items() if name in table.rules and table.rules[name].has_range}
    groups = _column_rates(
        ruled,
        "out_of_range_rate",
        _range_rate,
        lambda c: {"checked": c.range_checked, "below_minimum": c.below_minimum, "above_maximum": c.above_maximum},
    )
    reason = _named_without(table, arguments, ruled, "minimum or maximum")
    if reason is None and not ruled:
        reason = f"the schema of dataset `{table.dataset}` declares a minimum or maximum for none of the columns read"
    return ruled, groups, _range_details(table, ruled), reason


def out_of_range_rate(table: ColumnProfile, arguments: dict) -> MetricValue:
    """Compute the share of a column's finite values outside its declared minimum and maximum, per column."""
    _, groups, details, reason = _range_parts(table, arguments)
    if reason is not None:
        return MetricValue(None, reason, details=details)
    return MetricValue(None, None, groups=groups, details=details)


def out_of_range_count(table: ColumnProfile, arguments: dict) -> MetricValue:
    """Count the finite values outside their column's declared minimum and maximum."""
    ruled, groups, details, reason = _range_parts(table, arguments)
    if reason is not None:
        return MetricValue(None, reason, details=details)
    return MetricValue(sum(c.out_of_range for c in ruled.values()), groups=groups, details=details)


def _domain_rate(column: ColumnCounts) -> tuple[float | None, str | None]:
    if column.domain_checked == 0:
        return None, "the column has no values of its type to compare"
    return column.out_of_domain / column.domain_checked, None


def _domain_parts(table: ColumnProfile, arguments: dict):
    ruled = {name: c for name, c in table.columns.items() if name in table.rules and table.rules[name].values is not None}
    details = {
        "columns": {
            name: {
                "values": list(table.rules[name].values),
                "checked": c.domain_checked,
                "out_of_domain": c.out_of_domain,
                "examples": table.examples.get(name, {}).get("domain", {}),
            }
            for name, c in ruled.items()
        },
    }
    reason = _named_without(table, arguments, ruled, "`values`")
    if reason is None and not ruled:
        reason = f"the schema of dataset `{table.dataset}` declares `values` for none of the columns read"
    groups = _column_rates(
        ruled,
        "out_of_domain_rate",
        _domain_rate,
        lambda c: {"checked": c.domain_checked, "out_of_domain": c.out_of_domain},
    )
    return ruled, groups, details, reason


def out_of_domain_rate(table: ColumnProfile, arguments: dict) -> MetricValue:
    """Compute the share of a column's values that are not among its declared `values`, per column."""
    _, groups, details, reason = _domain_parts(table, arguments)
    if reason is not None:
        return MetricValue(None, reason, details=details)
    return MetricValue(None, None, groups=groups, details=details)


def out_of_domain_count(table: ColumnProfile, arguments: dict) -> MetricValue:
    """Count the values that are not among their column's declared `values`."""
    ruled, groups, details, reason = _domain_parts(table, arguments)
    if reason is not None:
        return MetricValue(None, reason, details=details)
    return MetricValue(sum(c.out_of_domain for c in ruled.values()), groups=groups, details=details)


# Duplicates


def _duplicate_details(table: DuplicateCounts) -> dict:
    return {
        "rows": table.rows,
        "duplicate_rows": table.duplicate_rows,
        "columns": list(table.columns),
        "examples": [{"row": row, "repeats_row": first} for row, first in table.examples],
        "method": "rows compared by a 128-bit hash of their values (two independent 64-bit hashes)",
        "memory_bytes": table.memory_bytes,
    }


def duplicate_row_count(table: DuplicateCounts, arguments: dict) -> MetricValue:
    """Count the rows that repeat an earlier row exactly."""
    return MetricValue(table.duplicate_rows, details=_duplicate_details(table))


def duplicate_row_rate(table: DuplicateCounts, arguments: dict) -> MetricValue:
    """Compute the share of rows that repeat an earlier row exactly."""
    if table.rows == 0:
        return MetricValue(None, f"dataset `{table.dataset}` has no rows", details=_duplicate_details(table))
    return MetricValue(table.duplicate_rows / table.rows, details=_duplicate_details(table))


# Representation


def _share_rows(table: GroupShares) -> list[tuple[str, int, float | None, float | None]]:
    """Return (group, rows, data share, population share) for every group in the data or the population."""
    rows = []
    for group, count in table.counts.items():
        share = count / table.rows if table.rows else None
        rows.append((group, count, share, table.population.shares.get(group)))
    for group, population_share in table.population.shares.items():
        if group not in table.counts:
            rows.append((group, 0, 0.0 if table.rows else None, population_share))
    return rows


def _representation_details(table: GroupShares) -> dict:
    population = table.population
    return {
        "feature": table.feature,
        "rows": table.rows,
        "rows_without_value": table.missing,
        "population": {
            "source": population.source,
            "given_as": population.given_as,
            "total": population.total,
            "file": population.file,
            "key": population.key,
        },
        "groups": [
            {"group": group, "rows": count, "share": share, "population_share": reference}
            for group, count, share, reference in _share_rows(table)
        ],
        "absent_from_data": [g for g in population.shares if g not in table.counts],
        "absent_from_population": [g for g in table.counts if g not in population.shares],
    }


def _share_groups(table: GroupShares, component: str, value: Callable) -> tuple[GroupValues, ...]:
    groups = []
    for group, count, share, reference in _share_rows(table):
        result, reason = value(group, share, reference)
        groups.append(
            GroupValues((group,), RowCounts(count, {"rows_with_value": table.rows}), {component: result},
                        {component: reason} if reason else {})
        )
    return tuple(groups)


def _no_rows_reason(table: GroupShares) -> str:
    return f"dataset `{table.dataset}` has no rows with a value for `{table.feature}`"


def _difference(table: GroupShares):
    def value(group: str, share: float | None, reference: float | None):
        if share is None:
            return None, _no_rows_reason(table)
        if reference is None:
            return None, f"group `{group}` is not in the population shares of `{table.feature}` ({table.population.key})"
        return share - reference, None

    return value


def representation_difference(table: GroupShares, arguments: dict) -> MetricValue:
    """Compute each group's share of the data minus its share of the population."""
    groups = _share_groups(table, "representation_difference", _difference(table))
    return MetricValue(None, None, groups=groups, details=_representation_details(table))


def representation_ratio(table: GroupShares, arguments: dict) -> MetricValue:
    """Compute each group's share of the data divided by its share of the population."""

    def value(group: str, share: float | None, reference: float | None):
        if share is None:
            return None, _no_rows_reason(table)
        if reference is None:
            return None, f"group `{group}` is not in the population shares of `{table.feature}` ({table.population.key})"
        if reference == 0:
            return None, f"group `{group}` has a population share of 0, so the ratio is undefined"
        return share / reference, None

    groups = _share_groups(table, "representation_ratio", value)
    return MetricValue(None, None, groups=groups, details=_representation_details(table))


def representation_gap(table: GroupShares, arguments: dict) -> MetricValue:
    """Compute the largest absolute difference between a group's share of the data and of the population.

    A group of the data that the population shares do not list counts with a
    population share of 0, and a group of the population absent from the data
    with a data share of 0; the details name both.
    """
    details = _representation_details(table)

    def value(group: str, share: float | None, reference: float | None):
        if share is None:
            return None, _no_rows_reason(table)
        return abs(share - (reference or 0.0)), None

    groups = _share_groups(table, "representation_gap", value)
    if table.rows == 0:
        return MetricValue(None, _no_rows_reason(table), groups=groups, details=details)
    return MetricValue(
        max(g.rates["representation_gap"] for g in groups),
        groups=groups,
        extremes={"representation_gap": _extremes(groups, "representation_gap")},
        details=details,
    )
