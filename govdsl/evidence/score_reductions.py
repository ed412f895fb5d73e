"""Reductions for score-based and regression metrics: per-group score counts and per-group error sums.

Each reads a dataset chunk by chunk and merges the chunks' states. Memory is bounded
by the number of distinct (group, score) pairs for score counts, and by the number of
groups for regression sums, not by the rows of the file.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.compute
from pandas.api.types import is_numeric_dtype

from govdsl.evidence.bundle import Dataset
from govdsl.evidence.readers import DEFAULT_CHUNK_ROWS, read_chunks
from govdsl.evidence.reductions import MISSING_GROUP, EvidenceInvalid, EvidenceMissing, is_positive
from govdsl.metrics.counts import GroupKey
from govdsl.metrics.regression import RegressionSums, RegressionTable
from govdsl.metrics.scores import ScoreCounts, ScoreTable

# Parts of one group's score counts kept before they are added up. A file of few distinct
# scores in many chunks then keeps one short array per group, not one per chunk.
_PARTS_BEFORE_MERGE = 16

# Distinct label values kept: enough to tell a binary label from others and name a few in a message.
_LABEL_VALUES_KEPT = 12


def _require(dataset: Dataset, fields: tuple[str, ...], purpose: str) -> None:
    missing = [name for name in fields if getattr(dataset, name) is None]
    if missing:
        names = ", ".join(f"`{name}`" for name in missing)
        raise EvidenceMissing(f"dataset `{dataset.name}` declares no {names}, which {purpose} need")


def _require_features(dataset: Dataset, features: tuple[str, ...]) -> None:
    undeclared = dataset.undeclared_features(features)
    if undeclared:
        raise EvidenceMissing(undeclared)


def _present(chunk: pd.DataFrame, columns: tuple[str, ...]) -> tuple[pd.DataFrame, int]:
    """Return the rows with a value in every column and the number of rows left out."""
    mask = np.ones(len(chunk), dtype=bool)
    for column in columns:
        mask &= chunk[column].notna().to_numpy(dtype=bool)
    excluded = len(chunk) - int(np.count_nonzero(mask))
    return (chunk[mask] if excluded else chunk), excluded


def _parse_numbers(values: pd.Series) -> np.ndarray:
    """Return a column as float64, with NaN where a text is not a number.

    CSV columns arrive as text and Parquet columns with their own types. pyarrow casts
    text several times faster than pandas. When pyarrow rejects a value, pandas parses
    the column again to mark the values that are not numbers.
    """
    if is_numeric_dtype(values.dtype):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    text = values.astype(str)
    try:
        return pyarrow.compute.cast(pyarrow.compute.utf8_trim_whitespace(pyarrow.array(text)), pyarrow.float64()).to_numpy(
            zero_copy_only=False
        )
    except pyarrow.ArrowInvalid:
        return pd.to_numeric(text.str.strip(), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _where(dataset: Dataset, row: int) -> str:
    """Name a data row (1 is the first row after the header) in the file's own terms."""
    if dataset.format == "parquet":
        return f"row {row} of `{dataset.relative_path}`"
    return f"line {row + 1} of `{dataset.relative_path}`"


def _numbers(values: pd.Series, dataset: Dataset, column: str, help_text: str) -> np.ndarray:
    """Parse a column as finite float64 numbers; raise EvidenceInvalid naming the first bad cell.

    The chunk's index must number the file's data rows from 0.
    """
    numbers = _parse_numbers(values)
    bad = ~np.isfinite(numbers)
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        raise EvidenceInvalid(
            f"column `{column}` of dataset `{dataset.name}` must hold finite numbers, but"
            f" {_where(dataset, int(values.index[position]) + 1)} holds `{str(values.iloc[position]).strip()}`",
            help_text,
        )
    return numbers


def _numbered_chunks(dataset: Dataset, columns: list[str], chunk_rows: int):
    """Read the dataset's chunks with an index that numbers the file's data rows from 0, across chunks."""
    offset = 0
    for chunk in read_chunks(dataset, columns, chunk_rows):
        chunk.index = pd.RangeIndex(offset, offset + len(chunk))
        offset += len(chunk)
        yield chunk


# Largest number of group codes counted with np.bincount; past it, codes are renumbered by sorting.
_DIRECT_CODE_SPACE = 1 << 22


def _group_codes(chunk: pd.DataFrame, features: tuple[str, ...]) -> tuple[np.ndarray, list[GroupKey]]:
    """Return one group code per row, numbered densely from 0, and the group key of each code.

    An empty feature cell belongs to the group `(missing)`. Codes are renumbered after
    each feature, so they stay below the number of rows.
    """
    codes = np.zeros(len(chunk), dtype=np.int64)
    keys: list[GroupKey] = [()]
    for feature in features:
        feature_codes, distinct = pd.factorize(chunk[feature], sort=False)
        names = [str(value) for value in distinct] + [MISSING_GROUP]
        feature_codes = np.where(feature_codes < 0, len(names) - 1, feature_codes)
        size = len(names)
        combined = codes * size + feature_codes
        if len(keys) * size <= _DIRECT_CODE_SPACE:
            present = np.flatnonzero(np.bincount(combined, minlength=len(keys) * size))
            dense = np.zeros(len(keys) * size, dtype=np.int64)
            dense[present] = np.arange(len(present))
            codes = dense[combined]
        else:
            present, codes = np.unique(combined, return_inverse=True)
            codes = codes.reshape(-1)
        keys = [keys[code // size] + (names[code % size],) for code in present.tolist()]
    return codes, keys


def _runs(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort rows by the columns, last column first; return the order and where each run of equal rows starts."""
    order = np.lexsort(columns[::-1])
    changes = np.zeros(len(order), dtype=bool)
    if len(order):
        changes[0] = True
    for column in columns:
        ordered = column[order]
        changes[1:] |= ordered[1:] != ordered[:-1]
    return order, np.flatnonzero(changes)


# Score counts.


def _label_text(value: str) -> str:
    """Return a label's canonical text, so that `1`, `1.0` and ` 1 ` count as one label value."""
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else repr(number)


class _ScoreState:
    """Score counts of the chunks read so far, with the label values seen."""

    def __init__(self, features: tuple[str, ...]) -> None:
        self.features = features
        self.parts: dict[GroupKey, list[ScoreCounts]] = {}
        self.rows_excluded = 0
        self.label_values: set[str] = set()

    def add(self, key: GroupKey, counts: ScoreCounts) -> None:
        parts = self.parts.setdefault(key, [])
        parts.append(counts)
        if len(parts) >= _PARTS_BEFORE_MERGE:
            self.parts[key] = [ScoreCounts.combine(parts)]

    def add_labels(self, values) -> None:
        if len(self.label_values) <= _LABEL_VALUES_KEPT:
            self.label_values |= {_label_text(str(value)) for value in values}

    def groups(self) -> dict[GroupKey, ScoreCounts]:
        return {key: ScoreCounts.combine(parts) for key, parts in self.parts.items()}


def _positive_flags(labels: pd.Series, positive_label) -> tuple[np.ndarray, pd.Index]:
    """Return whether each label is the positive one, testing each distinct label once, and the distinct labels."""
    codes, distinct = pd.factorize(labels, sort=False)
    positive = is_positive(pd.Series(distinct, dtype=object), positive_label).to_numpy(dtype=bool)
    return positive[codes], distinct


def _score_counts(codes: np.ndarray, scores: np.ndarray, positive: np.ndarray) -> dict[int, ScoreCounts]:
    """Count the positive and negative rows per group code and distinct score, in one sort."""
    order, starts = _runs(codes, scores)
    rows = np.diff(np.append(starts, len(order)))
    positives = np.add.reduceat(positive[order].astype(np.int64), starts) if len(order) else np.zeros(0, np.int64)
    run_codes = codes[order][starts]
    run_scores = scores[order][starts]
    # The runs are sorted by group code, so each group's runs are one slice.
    bounds = np.concatenate(([0], np.flatnonzero(np.diff(run_codes)) + 1, [len(starts)]))
    counts = {}
    for begin, end in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        if end > begin:
            group = slice(begin, end)
            counts[int(run_codes[begin])] = ScoreCounts(run_scores[group], positives[group], rows[group] - positives[group])
    return counts


def _score_help(dataset: Dataset, column: str, probabilities: bool) -> str:
    what = "predicted probabilities of the positive class, from 0 to 1" if probabilities else "numbers"
    return (
        f"scores must be {what}; correct column `{column}` of `{dataset.relative_path}`, or name another column"
        f" with `score_column` at `{dataset.key}` in bundle.yaml or with `score_column = \"...\"` in the check"
    )


def _check_probabilities(scores: np.ndarray, values: pd.Series, dataset: Dataset, column: str) -> None:
    outside = (scores < 0) | (scores > 1)
    if outside.any():
        position = int(np.flatnonzero(outside)[0])
        raise EvidenceInvalid(
            "log loss, Brier score and expected calibration error need probabilities from 0 to 1, but column"
            f" `{column}` of dataset `{dataset.name}` holds `{str(values.iloc[position]).strip()}`"
            f" on {_where(dataset, int(values.index[position]) + 1)}",
            _score_help(dataset, column, True) + "; ROC AUC accepts scores on any scale",
        )


def _score_column(dataset: Dataset, spec) -> str:
    column = spec.option("score_column") or dataset.score_column
    if column is None:
        raise EvidenceMissing(
            f"dataset `{dataset.name}` declares no `score_column`; declare one in bundle.yaml"
            ' or name a column with `score_column = "..."` in the check'
        )
    if not dataset.has_column(column):
        raise EvidenceMissing(
            f"column `{column}` is not in `{dataset.relative_path}` of dataset `{dataset.name}`"
            f" (columns: {dataset.column_names()})"
        )
    return column


def _check_labels(dataset: Dataset, label_values: set[str]) -> None:
    """Reject a label column with more than two values, or two values of which neither is `positive_label`."""
    shown = ", ".join(f"`{v}`" for v in sorted(label_values)[:_LABEL_VALUES_KEPT])
    if len(label_values) > 2:
        more = " and more" if len(label_values) > _LABEL_VALUES_KEPT else ""
        raise EvidenceInvalid(
            f"column `{dataset.label_column}` of dataset `{dataset.name}` has more than two distinct values"
            f" ({shown}{more}), but score-based classification metrics need a binary label"
        )
    positive = is_positive(pd.Series(sorted(label_values), dtype=object), dataset.positive_label)
    if len(label_values) == 2 and not positive.any():
        raise EvidenceInvalid(
            f"positive_label `{dataset.positive_label}` of dataset `{dataset.name}` is not among the values of"
            f" column `{dataset.label_column}` ({shown})"
        )


def reduce_score_counts(
    dataset: Dataset, features: tuple[str, ...], score_column: str, probabilities: bool, chunk_rows: int
) -> ScoreTable:
    """Count positive and negative rows per group and distinct score; with `probabilities`, reject scores outside [0, 1]."""
    _require(dataset, ("label_column", "positive_label"), "score-based classification metrics")
    _require_features(dataset, features)
    label = dataset.label_column
    state = _ScoreState(features)
    columns = list(dict.fromkeys([label, score_column, *features]))
    help_text = _score_help(dataset, score_column, probabilities)
    for chunk in _numbered_chunks(dataset, columns, chunk_rows):
        chunk, excluded = _present(chunk, (label, score_column))
        state.rows_excluded += excluded
        scores = _numbers(chunk[score_column], dataset, score_column, help_text)
        if probabilities:
            _check_probabilities(scores, chunk[score_column], dataset, score_column)
        positive, distinct = _positive_flags(chunk[label], dataset.positive_label)
        state.add_labels(distinct)
        codes, keys = _group_codes(chunk, features)
        for code, counts in _score_counts(codes, scores, positive).items():
            state.add(keys[code], counts)
    _check_labels(dataset, state.label_values)
    return ScoreTable(features, state.groups(), state.rows_excluded, score_column)


def _reduce_scores_for_plan(datasets: dict[str, Dataset], spec, chunk_rows: int, probabilities: bool) -> ScoreTable:
    dataset = datasets["predictions"]
    column = _score_column(dataset, spec)
    try:
        return reduce_score_counts(dataset, spec.features, column, probabilities, chunk_rows)
    except EvidenceInvalid as exc:
        help_text = f"correct `positive_label` or `label_column` at `{dataset.key}` in bundle.yaml, or the data file"
        raise EvidenceInvalid(str(exc), exc.help or help_text) from None


def reduce_scores(datasets: dict[str, Dataset], spec, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> ScoreTable:
    """Count scores of the predictions dataset for the `score_counts` kind, whose scores may have any scale."""
    return _reduce_scores_for_plan(datasets, spec, chunk_rows, probabilities=False)


def reduce_probabilities(datasets: dict[str, Dataset], spec, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> ScoreTable:
    """Count scores of the predictions dataset for the `probability_counts` kind, whose scores must be in [0, 1]."""
    return _reduce_scores_for_plan(datasets, spec, chunk_rows, probabilities=True)


# Regression sums.


def _regression_sums(codes: np.ndarray, target: np.ndarray, prediction: np.ndarray) -> dict[int, RegressionSums]:
    """Sum the errors and the target's moments per group code."""
    groups = int(codes.max()) + 1 if len(codes) else 0
    rows = np.bincount(codes, minlength=groups)
    error = target - prediction
    mean = np.bincount(codes, target, groups) / np.maximum(rows, 1)
    deviation = np.bincount(codes, np.square(target - mean[codes]), groups)
    absolute = np.bincount(codes, np.abs(error), groups)
    squared = np.bincount(codes, np.square(error), groups)
    order, starts = _runs(codes)
    low = np.minimum.reduceat(target[order], starts) if len(order) else np.zeros(0)
    high = np.maximum.reduceat(target[order], starts) if len(order) else np.zeros(0)
    present = codes[order][starts]
    return {
        int(code): RegressionSums(
            int(rows[code]),
            float(absolute[code]),
            float(squared[code]),
            float(mean[code]),
            float(deviation[code]),
            float(low[index]),
            float(high[index]),
        )
        for index, code in enumerate(present.tolist())
    }


def reduce_regression_sums(dataset: Dataset, features: tuple[str, ...], chunk_rows: int) -> RegressionTable:
    """Sum errors and target moments per group, reading `label_column` as the target."""
    _require(dataset, ("label_column", "prediction_column"), "regression metrics")
    _require_features(dataset, features)
    target, prediction = dataset.label_column, dataset.prediction_column
    help_text = (
        f"regression metrics read `label_column` as the target and `prediction_column` as the prediction, both numbers;"
        f" correct the data file or the columns declared at `{dataset.key}` in bundle.yaml"
    )
    groups: dict[GroupKey, RegressionSums] = {}
    rows_excluded = 0
    columns = list(dict.fromkeys([target, prediction, *features]))
    for chunk in _numbered_chunks(dataset, columns, chunk_rows):
        chunk, excluded = _present(chunk, (target, prediction))
        rows_excluded += excluded
        values = _numbers(chunk[target], dataset, target, help_text)
        predictions = _numbers(chunk[prediction], dataset, prediction, help_text)
        codes, keys = _group_codes(chunk, features)
        for code, sums in _regression_sums(codes, values, predictions).items():
            groups[keys[code]] = groups.get(keys[code], RegressionSums()).merge(sums)
    return RegressionTable(features, groups, rows_excluded, target, prediction)


def reduce_regression(datasets: dict[str, Dataset], spec, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> RegressionTable:
    """Sum the errors of the predictions dataset per group of the spec's features, for the `regression_sums` kind."""
    return reduce_regression_sums(datasets["predictions"], spec.features, chunk_rows)
