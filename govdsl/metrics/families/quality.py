"""Data quality metrics: missing values, duplicate rows, schema, ranges, category domains and representation."""

from __future__ import annotations

import math

from govdsl.metrics.declaration import DATASET, FEATURES, MetricDeclaration, Parameter, mark_integer_valued

COLUMNS = Parameter(
    "columns",
    FEATURES,
    False,
    "Column, or list of columns, to read; default: every column of the file.",
)
EXCLUDE = Parameter(
    "exclude",
    FEATURES,
    False,
    "Column, or list of columns, to leave out, such as a row id.",
)
REPRESENTED_BY = Parameter(
    "by",
    FEATURES,
    True,
    "The column whose groups are compared with the population shares that the dataset declares for it"
    " under `population_shares` in bundle.yaml.",
)

_IMPL = "govdsl.metrics.quality"
_COUNT = (0.0, math.inf)
_SHARE = (0.0, 1.0)

_NO_ROWS = "a dataset without rows has no rate, and the check is `insufficient`"
_UNKNOWN_COLUMN = "a column named in `columns` or `exclude` that the file lacks gives the check status `error`"
_MARKERS = (
    "an empty cell is missing; a dataset's `schema.missing_values` adds markers such as `NA` or `?`,"
    " compared after stripping spaces"
)
_NO_SCHEMA = "a dataset that declares no `schema` gives the check status `error`"
_NON_FINITE_APART = (
    "NaN and infinite values are reported by `non_finite_count` and in the schema's `non_finite` finding;"
    " a range or a domain never compares them"
)
_ONE_FEATURE = "`by` takes one column: population shares are declared per feature, not per combination"
_NO_POPULATION = "a feature without `population_shares` in bundle.yaml gives the check status `error`"
_EXACT_TEXT = "rows compare by their values exactly as written: in CSV, `1`, `1.0` and ` 1` are three different values"


def _declaration(
    name: str,
    summary: str,
    component: str,
    reduction: str,
    parameters: tuple[Parameter, ...],
    value_range: tuple[float, float] = _SHARE,
    edge_cases: tuple[str, ...] = (),
    limitations: tuple[str, ...] = (),
    per_group: bool = False,
    reduction_arguments: tuple[str, ...] = (),
    kind: str = "overall",
    better: str = "lower",
) -> MetricDeclaration:
    return MetricDeclaration(
        name=name,
        summary=summary,
        kind=kind,
        components=(component,) if component else (),
        value_range=value_range,
        reduction=reduction,
        implementation=f"{_IMPL}:{name}",
        parameters=parameters,
        better=better,
        edge_cases=edge_cases,
        family="data quality",
        limitations=limitations,
        reduction_arguments=reduction_arguments,
        calling="arguments",
        per_group=per_group,
    )


_SELECTION = (COLUMNS, EXCLUDE, DATASET)
_SELECTED = ("columns", "exclude")
_RULED = (COLUMNS, DATASET)

DECLARATIONS = [
    _declaration(
        "missing_rate",
        "Share of rows whose value is missing, one value per column; compare it through `max(...)` or a quantifier.",
        "missing_rate",
        "column_profile",
        _SELECTION,
        per_group=True,
        reduction_arguments=_SELECTED,
        edge_cases=(_NO_ROWS, _MARKERS, _UNKNOWN_COLUMN),
    ),
    _declaration(
        "max_missing_rate",
        "The largest share of missing values of any column.",
        "missing_rate",
        "column_profile",
        _SELECTION,
        reduction_arguments=_SELECTED,
        edge_cases=(_NO_ROWS, _MARKERS, _UNKNOWN_COLUMN),
    ),
    _declaration(
        "incomplete_row_rate",
        "Share of rows with a missing value in at least one of the columns.",
        "missing_rate",
        "column_profile",
        _SELECTION,
        reduction_arguments=_SELECTED,
        edge_cases=(_NO_ROWS, _MARKERS, _UNKNOWN_COLUMN),
    ),
    _declaration(
        "duplicate_row_count",
        "Number of rows whose values in the columns repeat an earlier row exactly.",
        "",
        "duplicate_rows",
        _SELECTION,
        value_range=_COUNT,
        reduction_arguments=_SELECTED,
        edge_cases=(
            "a dataset without rows has 0 duplicate rows",
            "two rows with a missing value in the same column and equal other values are duplicates",
            _EXACT_TEXT,
            _UNKNOWN_COLUMN,
        ),
        limitations=(
            "rows are compared by a 128-bit hash; two distinct rows collide with a probability of about"
            " n^2 / 2^129 for n rows",
            "memory grows by 24 bytes per distinct row (the hash and the first row number), about 240 MB for"
            " 10 million distinct rows",
        ),
    ),
    _declaration(
        "duplicate_row_rate",
        "Share of rows whose values in the columns repeat an earlier row exactly.",
        "",
        "duplicate_rows",
        _SELECTION,
        reduction_arguments=_SELECTED,
        edge_cases=(_NO_ROWS, _EXACT_TEXT, _UNKNOWN_COLUMN),
        limitations=(
            "rows are compared by a 128-bit hash; two distinct rows collide with a probability of about"
            " n^2 / 2^129 for n rows",
            "memory grows by 24 bytes per distinct row",
        ),
    ),
    _declaration(
        "non_finite_count",
        "Number of NaN or infinite values in the numeric columns.",
        "non_finite_rate",
        "column_profile",
        _SELECTION,
        value_range=_COUNT,
        reduction_arguments=_SELECTED,
        edge_cases=(
            "a column is numeric when its schema declares `integer` or `number`, or, without a declared type,"
            " when every present value is a number",
            "`nan`, `inf`, `-inf` and `Infinity` in any case are NaN or infinite; an empty cell is missing, not NaN",
            "in an `integer` column, NaN and infinite values are type errors of the schema and not counted here",
            _UNKNOWN_COLUMN,
        ),
        limitations=("in Parquet, a null and a NaN of a float column read the same, and both count as missing",),
    ),
    _declaration(
        "schema_violations",
        "Number of schema rules the data breaks: a missing or unexpected column, or a column with values of"
        " the wrong type, missing values where it is not nullable, NaN or infinite numbers, values out of"
        " range or out of the category domain.",
        "",
        "schema_profile",
        (DATASET,),
        value_range=_COUNT,
        edge_cases=(
            _NO_SCHEMA,
            "each (column, rule) pair counts once however many values break it; the details give the count"
            " of values and up to 10 example values",
            _NON_FINITE_APART,
        ),
    ),
    _declaration(
        "out_of_range_rate",
        "Share of a column's values outside its declared `minimum` and `maximum`, one value per column.",
        "out_of_range_rate",
        "schema_profile",
        _RULED,
        per_group=True,
        reduction_arguments=("columns",),
        edge_cases=(
            _NO_SCHEMA,
            "the share counts values of the declared type; missing values, type errors and NaN or infinite"
            " values are not compared",
            "a column named in `columns` without a declared range, or no such column at all,"
            " makes the check `insufficient`",
        ),
    ),
    _declaration(
        "out_of_range_count",
        "Number of values outside their column's declared `minimum` and `maximum`.",
        "out_of_range_rate",
        "schema_profile",
        _RULED,
        value_range=_COUNT,
        reduction_arguments=("columns",),
        edge_cases=(_NO_SCHEMA, _NON_FINITE_APART),
    ),
    _declaration(
        "out_of_domain_rate",
        "Share of a column's values that are not among its declared `values`, one value per column.",
        "out_of_domain_rate",
        "schema_profile",
        _RULED,
        per_group=True,
        reduction_arguments=("columns",),
        edge_cases=(
            _NO_SCHEMA,
            "values of `integer` and `number` columns compare as numbers, so 1.0 is in the domain [1, 2];"
            " `string` columns compare text",
            "a column named in `columns` without declared `values` makes the check `insufficient`",
        ),
    ),
    _declaration(
        "out_of_domain_count",
        "Number of values that are not among their column's declared `values`.",
        "out_of_domain_rate",
        "schema_profile",
        _RULED,
        value_range=_COUNT,
        reduction_arguments=("columns",),
        edge_cases=(_NO_SCHEMA, _NON_FINITE_APART),
    ),
    _declaration(
        "representation_gap",
        "The largest absolute difference between a group's share of the rows and its share of the population"
        " that the bundle declares, with the source of those shares.",
        "representation_gap",
        "group_shares",
        (REPRESENTED_BY, DATASET),
        kind="between_groups",
        edge_cases=(
            "a group of the data that the population shares do not list counts with a population share of 0,"
            " and a group of the population absent from the data with a data share of 0; the details name both",
            "rows without a value for the feature count in no share; the details give their number",
            _ONE_FEATURE,
            _NO_POPULATION,
            _NO_ROWS,
        ),
    ),
    _declaration(
        "representation_difference",
        "Each group's share of the rows minus its share of the population; negative values mean the group"
        " is under-represented.",
        "representation_difference",
        "group_shares",
        (REPRESENTED_BY, DATASET),
        value_range=(-1.0, 1.0),
        per_group=True,
        better="higher",
        edge_cases=(
            "a group of the data that the population shares do not list has no value, and the check is"
            " `insufficient`; a group of the population absent from the data has a data share of 0",
            _ONE_FEATURE,
            _NO_POPULATION,
        ),
    ),
    _declaration(
        "representation_ratio",
        "Each group's share of the rows divided by its share of the population; values below 1 mean the"
        " group is under-represented.",
        "representation_ratio",
        "group_shares",
        (REPRESENTED_BY, DATASET),
        value_range=(0.0, math.inf),
        per_group=True,
        better="higher",
        edge_cases=(
            "a group that the population shares do not list, or list with a share of 0, has no ratio,"
            " and the check is `insufficient`",
            _ONE_FEATURE,
            _NO_POPULATION,
        ),
    ),
]

# Counts of rows, values, files or days, and 0/1 indicators: `==` compares them exactly.
DECLARATIONS = mark_integer_valued(DECLARATIONS, {"duplicate_row_count", "non_finite_count", "out_of_domain_count", "out_of_range_count", "schema_violations"})
