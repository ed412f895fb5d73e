"""The `drift_histograms` reduction: value counts of columns in a reference and a current dataset.

It reads both datasets chunk by chunk and keeps, per compared column, the count of
each distinct value and of missing values, and for a numeric column its exact mean
and variance. Counts of two chunks merge by addition, so memory grows with the
distinct values, not the rows. A numeric column with more than `max_distinct`
distinct values in one dataset is rounded to fewer significant digits until they
fit (6, then 5, and so on), and both datasets are rounded alike. The drift metrics
(`govdsl.metrics.drift`) bin these counts themselves.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from govdsl.evidence.bundle import Dataset
from govdsl.evidence.readers import DEFAULT_CHUNK_ROWS, read_chunks
from govdsl.evidence.reductions import EvidenceInvalid, EvidenceMissing
from govdsl.metrics.drift import NUMERIC, CategoricalSample, ColumnPair, DriftTable, NumericSample

log = logging.getLogger("govdsl")

# Distinct values kept per numeric column and dataset before rounding: 16 bytes each
# (value and count), so at most about 1.6 MB per column and dataset.
MAX_DISTINCT_NUMERIC = 100_000
# Significant digits tried in turn when a numeric column has too many distinct values.
ROUNDING_DIGITS = (6, 5, 4, 3, 2, 1)
MAX_CATEGORIES = 10_000

# Texts that mean "no value" in a numeric column, besides an empty or blank cell.
_MISSING_TEXTS = {"nan"}
_EXAMPLES = 3


def round_significant(values: np.ndarray, digits: int) -> np.ndarray:
    """Round each value to `digits` significant digits; 0 stays 0.

    The rounding is monotone, so values that were ordered stay ordered, and values
    rounded to the same number were next to each other.
    """
    result = values.astype(np.float64, copy=True)
    nonzero = result != 0
    # Clipping the exponent keeps the scale finite for subnormal numbers, which round to 0.
    exponent = np.clip(np.floor(np.log10(np.abs(result[nonzero]))), -290, 308)
    scale = 10.0 ** (digits - 1 - exponent)
    result[nonzero] = np.round(result[nonzero] * scale) / scale
    return result


def coarsen(values: np.ndarray, start: int | None, stop: int) -> np.ndarray:
    """Round values that hold `start` significant digits (None: exact) down to `stop`, one digit at a time.

    Rounding one digit at a time makes the result depend only on the exact value and
    `stop`, so values read early and late in a file are rounded the same way.
    """
    for digits in ROUNDING_DIGITS:
        if (start is None or digits < start) and digits >= stop:
            values = round_significant(values, digits)
    return values


def _merge_counts(values: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    distinct, inverse = np.unique(values, return_inverse=True)
    return distinct, np.bincount(inverse.reshape(-1), weights=counts, minlength=len(distinct)).astype(np.int64)


class NumericCounter:
    """Counts of one numeric column's distinct values in one dataset, with its exact mean and variance."""

    def __init__(self, max_distinct: int) -> None:
        self.max_distinct = max_distinct
        self.values = np.empty(0)
        self.counts = np.empty(0, dtype=np.int64)
        self.rows = 0
        self.missing = 0
        self.n = 0
        self.mean = 0.0
        self.m2 = 0.0  # sum of squared deviations from the mean
        self.digits: int | None = None

    def add(self, values: np.ndarray, missing: int) -> None:
        """Add one chunk's finite values and its count of missing values."""
        self.rows += len(values) + missing
        self.missing += missing
        if not len(values):
            return
        self._add_moments(values)
        if self.digits is not None:
            values = coarsen(values, None, self.digits)
        chunk_values, chunk_counts = np.unique(values, return_counts=True)
        self.values, self.counts = _merge_counts(
            np.concatenate([self.values, chunk_values]), np.concatenate([self.counts, chunk_counts])
        )
        while len(self.values) > self.max_distinct and self.digits != ROUNDING_DIGITS[-1]:
            self.round_to(ROUNDING_DIGITS[0] if self.digits is None else self.digits - 1)

    def _add_moments(self, values: np.ndarray) -> None:
        # Two parts' sums of squared deviations add, plus delta² n_a n_b / n for the gap between their means.
        count = len(values)
        mean = float(values.mean())
        m2 = float(np.sum((values - mean) ** 2))
        total = self.n + count
        delta = mean - self.mean
        self.mean += delta * count / total
        self.m2 += m2 + delta * delta * self.n * count / total
        self.n = total

    def round_to(self, digits: int) -> None:
        """Round the counted values to `digits` significant digits, merging values that become equal."""
        if self.digits is not None and self.digits <= digits:
            return
        self.values, self.counts = _merge_counts(coarsen(self.values, self.digits, digits), self.counts)
        self.digits = digits

    def finish(self) -> NumericSample:
        mean = self.mean if self.n else None
        variance = max(self.m2 / self.n, 0.0) if self.n else None
        return NumericSample(self.values, self.counts, self.rows, self.missing, mean, variance, self.digits)


class CategoricalCounter:
    """Counts of one categorical column's values in one dataset."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.rows = 0
        self.missing = 0

    def add(self, values: pd.Series) -> None:
        self.rows += len(values)
        self.missing += int(values.isna().sum())
        for value, count in values.value_counts(dropna=True, sort=False).items():
            if count:
                key = str(value)
                self.counts[key] = self.counts.get(key, 0) + int(count)

    def finish(self) -> CategoricalSample:
        return CategoricalSample(dict(self.counts), self.rows, self.missing)


def column_names(spec) -> list[str]:
    """Return the columns a drift reduction counts: its `feature`, or its `features` without repeats."""
    feature = spec.option("feature")
    names = [feature] if feature is not None else list(spec.option("features", ()))
    return list(dict.fromkeys(names))


def _declared_types(columns: list[str], reference: Dataset, current: Dataset) -> dict[str, str]:
    """Return each column's declared type; raise EvidenceMissing or EvidenceInvalid for what the bundle lacks."""
    declared = {role: dict(dataset.feature_types) for role, dataset in (("reference", reference), ("current", current))}
    types: dict[str, str] = {}
    for column in columns:
        found = {role: kinds[column] for role, kinds in declared.items() if column in kinds}
        if not found:
            listed = sorted(set(declared["reference"]) | set(declared["current"]))
            raise EvidenceMissing(
                f"neither dataset `{reference.name}` nor `{current.name}` declares feature `{column}` under `features`"
                f" (declared: {', '.join(listed) or 'none'})"
            )
        if len(set(found.values())) > 1:
            raise EvidenceInvalid(
                f"feature `{column}` is declared {found['reference']} in dataset `{reference.name}`"
                f" but {found['current']} in dataset `{current.name}`",
                f"declare the same type for `{column}` at `{reference.key}.features` and `{current.key}.features`"
                " in bundle.yaml",
            )
        types[column] = next(iter(found.values()))
    for dataset in (reference, current):
        absent = [column for column in columns if not dataset.has_column(column)]
        if absent:
            names = ", ".join(f"`{column}`" for column in absent)
            raise EvidenceInvalid(
                f"feature {names} is not a column of `{dataset.relative_path}` (dataset `{dataset.name}`)",
                f"add the column to the file, or compare only columns that both datasets hold; columns in the"
                f" file: {dataset.column_names()}",
            )
    return types


def _parse_text(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse a column of texts: return the numbers (NaN where missing or not a number) and which values are missing.

    pyarrow's cast parses a chunk of plain numbers about 15 times faster than
    pandas.to_numeric (250,000 values, pyarrow 26, pandas 3.1). It rejects a chunk with
    blank cells, padded numbers or other text, which takes the slower pandas path.
    """
    try:
        numbers = pc.cast(pa.array(values, from_pandas=True), pa.float64()).to_numpy(zero_copy_only=False)
        return numbers, np.isnan(numbers)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        pass
    text = values.astype("string").str.strip()
    missing = (text.isna() | (text == "") | text.str.lower().isin(_MISSING_TEXTS)).to_numpy(dtype=bool)
    numbers = pd.to_numeric(text.where(~missing), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return numbers, missing


def _numbers(values: pd.Series, dataset: Dataset, column: str) -> tuple[np.ndarray, int]:
    """Return a chunk's finite numbers and its count of missing values; raise EvidenceInvalid for other values.

    An empty or blank cell and the text NaN (any case) are missing values.
    """
    if pd.api.types.is_numeric_dtype(values.dtype) and not isinstance(values.dtype, pd.CategoricalDtype):
        numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
        missing = np.isnan(numbers)
    else:
        numbers, missing = _parse_text(values)
    invalid = ~missing & ~np.isfinite(numbers)
    if invalid.any():
        examples = list(dict.fromkeys(str(value).strip() for value in values.to_numpy(dtype=object)[invalid]))
        listed = ", ".join(f"`{value}`" for value in examples[:_EXAMPLES])
        more = f" and {len(examples) - _EXAMPLES} more" if len(examples) > _EXAMPLES else ""
        raise EvidenceInvalid(
            f"column `{column}` of dataset `{dataset.name}` is declared numeric but contains {listed}{more}",
            f"correct the values in `{dataset.relative_path}` (a missing value is an empty cell or NaN),"
            f" or declare `{column}: categorical` under `features` at `{dataset.key}` in bundle.yaml",
        )
    return numbers[~missing], int(np.count_nonzero(missing))


def _count(dataset: Dataset, types: dict[str, str], chunk_rows: int, max_distinct: int) -> dict:
    counters: dict = {
        column: NumericCounter(max_distinct) if kind == NUMERIC else CategoricalCounter() for column, kind in types.items()
    }
    for chunk in read_chunks(dataset, list(types), chunk_rows):
        for column, counter in counters.items():
            if types[column] == NUMERIC:
                counter.add(*_numbers(chunk[column], dataset, column))
                continue
            counter.add(chunk[column])
            if len(counter.counts) > MAX_CATEGORIES:
                raise EvidenceInvalid(
                    f"column `{column}` of dataset `{dataset.name}` is declared categorical but has more than"
                    f" {MAX_CATEGORIES:,} distinct values",
                    f"declare `{column}: numeric` under `features` at `{dataset.key}` in bundle.yaml if its values"
                    " are numbers, or leave it out of drift checks",
                )
    return counters


def reduce_drift(
    datasets: dict[str, Dataset], spec, chunk_rows: int = DEFAULT_CHUNK_ROWS, max_distinct: int = MAX_DISTINCT_NUMERIC
) -> DriftTable:
    """Count the values of the spec's columns in the reference and the current dataset (the `drift_histograms` kind)."""
    reference, current = datasets["reference"], datasets["current"]
    columns = column_names(spec)
    types = _declared_types(columns, reference, current)
    reference_counts = _count(reference, types, chunk_rows, max_distinct)
    current_counts = _count(current, types, chunk_rows, max_distinct)
    pairs: dict[str, ColumnPair] = {}
    for column, kind in types.items():
        reference_counter, current_counter = reference_counts[column], current_counts[column]
        if kind == NUMERIC and (reference_counter.digits or current_counter.digits):
            digits = min(d for d in (reference_counter.digits, current_counter.digits) if d is not None)
            reference_counter.round_to(digits)
            current_counter.round_to(digits)
            log.info("feature %s has many distinct values, so they were rounded to %d significant digits", column, digits)
        pairs[column] = ColumnPair(column, kind, reference_counter.finish(), current_counter.finish())
    return DriftTable(reference.name, current.name, pairs)

