"""Reductions: passes over evidence that produce mergeable sufficient statistics.

Each kind in REDUCTION_KINDS reads a dataset chunk by chunk. The states of two chunks
merge by addition, so the result does not depend on how the file was split.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from govdsl.evidence.bundle import Dataset
from govdsl.evidence.readers import DEFAULT_CHUNK_ROWS, read_chunks
from govdsl.metrics.counts import ConfusionCounts, GroupedConfusion, GroupKey

MISSING_GROUP = "(missing)"

# Distinct label or prediction values kept per column: enough to tell a binary column from a
# multiclass one and to name a few values in a message.
_MAX_DISTINCT_KEPT = 12


class EvidenceMissing(Exception):
    """The bundle does not declare evidence a reduction needs; checks that read it get status `error`."""


class EvidenceInvalid(Exception):
    """Evidence whose values contradict the bundle's declarations, such as a positive label found nowhere."""


def _normalized(value: str) -> str:
    """Return a value's canonical text, so that `1`, `1.0` and ` 1 ` count as one distinct value."""
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return repr(int(number)) if number.is_integer() else repr(number)


def _distinct(values: pd.Series) -> set[str]:
    """Return the distinct normalized values of a column chunk, at most one more than the cap."""
    uniques = pd.Series(pd.unique(values.dropna()), dtype=object).astype(str).str.strip()
    numbers = pd.to_numeric(uniques, errors="coerce")
    texts = set(uniques[numbers.isna()])
    distinct_numbers = sorted(set(numbers.dropna()))[: _MAX_DISTINCT_KEPT + 1]
    return _capped(texts | {_normalized(repr(float(n))) for n in distinct_numbers})


def _value_order(value: str) -> tuple:
    """Sort numbers numerically before texts, so that capping gives the same set however data is chunked."""
    try:
        return (0, float(value), "")
    except ValueError:
        return (1, 0.0, value)


def _capped(values: set[str]) -> set[str]:
    """Keep at most one value more than the cap, so a set past the cap still shows it is past."""
    if len(values) <= _MAX_DISTINCT_KEPT + 1:
        return values
    return set(sorted(values, key=_value_order)[: _MAX_DISTINCT_KEPT + 1])


def is_positive(values: pd.Series, positive_label) -> pd.Series:
    """Return which values equal the positive label; `1`, `1.0` and ` 1 ` all match the label 1."""
    text = values.astype(str).str.strip()
    hits = text == str(positive_label)
    if isinstance(positive_label, bool):
        hits |= text.str.lower() == str(positive_label).lower()
        hits |= text == ("1" if positive_label else "0")
    elif isinstance(positive_label, (int, float)):
        hits |= pd.to_numeric(text, errors="coerce") == positive_label
    return hits


@dataclass
class GroupConfusionState:
    features: tuple[str, ...]
    cells: dict[GroupKey, np.ndarray]  # group -> [tp, fp, fn, tn]
    rows_excluded: int = 0
    label_values: set[str] = field(default_factory=set)
    prediction_values: set[str] = field(default_factory=set)

    def merge(self, other: GroupConfusionState) -> GroupConfusionState:
        cells = {key: value.copy() for key, value in self.cells.items()}
        for key, value in other.cells.items():
            if key in cells:
                cells[key] += value
            else:
                cells[key] = value.copy()
        return GroupConfusionState(
            self.features,
            cells,
            self.rows_excluded + other.rows_excluded,
            _capped(self.label_values | other.label_values),
            _capped(self.prediction_values | other.prediction_values),
        )

    def finalize(self) -> GroupedConfusion:
        groups = {
            key: ConfusionCounts(int(cell[0]), int(cell[1]), int(cell[2]), int(cell[3]))
            for key, cell in self.cells.items()
        }
        return GroupedConfusion(self.features, groups, self.rows_excluded)


def group_confusion_chunk(
    chunk: pd.DataFrame, label: str, prediction: str, features: tuple[str, ...], positive_label
) -> GroupConfusionState:
    """Count TP, FP, FN and TN per group in one chunk, in one vectorized pass over integer codes."""
    present = chunk[label].notna() & chunk[prediction].notna()
    excluded = int((~present).sum())
    if excluded:
        chunk = chunk[present]
    # Labels have few distinct values, so test each distinct value once and index by code.
    label_codes, label_values = pd.factorize(chunk[label], sort=False)
    prediction_codes, prediction_values = pd.factorize(chunk[prediction], sort=False)
    actual = is_positive(pd.Series(label_values), positive_label).to_numpy(dtype=bool)[label_codes]
    predicted = is_positive(pd.Series(prediction_values), positive_label).to_numpy(dtype=bool)[prediction_codes]
    # Cell order within a group: 0 = TP, 1 = FP, 2 = FN, 3 = TN.
    outcome = np.where(actual, np.where(predicted, 0, 2), np.where(predicted, 1, 3))

    # Combine the features' value codes one feature at a time, renumbering the groups densely
    # after each step, so codes stay below the row count and never overflow int64.
    group_index = np.zeros(len(chunk), dtype=np.int64)
    group_count = 1
    steps: list[tuple[np.ndarray, int, np.ndarray]] = []
    for feature in features:
        codes, uniques = pd.factorize(chunk[feature].fillna(MISSING_GROUP), sort=False)
        merged = group_index * len(uniques) + codes
        dense_values, group_index = np.unique(merged, return_inverse=True)
        group_index = group_index.reshape(-1)
        group_count = len(dense_values)
        steps.append((dense_values, len(uniques), np.asarray(uniques, dtype=object)))
    if len(chunk) == 0:
        group_count = 0
    table = np.bincount(group_index * 4 + outcome, minlength=group_count * 4).reshape(-1, 4)

    cells: dict[GroupKey, np.ndarray] = {}
    for group in range(group_count):
        key: list[str] = []
        position = group
        for dense_values, level_count, uniques in reversed(steps):
            position, code = divmod(int(dense_values[position]), level_count)
            key.append(str(uniques[code]))
        cells[tuple(reversed(key))] = table[group].astype(np.int64)
    return GroupConfusionState(
        features, cells, excluded, _distinct(pd.Series(label_values)), _distinct(pd.Series(prediction_values))
    )


def group_confusion_frame(
    frame: pd.DataFrame, label: str, prediction: str, features: tuple[str, ...], positive_label
) -> GroupedConfusion:
    """Per-group confusion counts of an in-memory DataFrame, in one pass (no label checks)."""
    return group_confusion_chunk(frame, label, prediction, features, positive_label).finalize()


def reduce_group_confusion(
    dataset: Dataset, features: tuple[str, ...], chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> GroupedConfusion:
    """Per-group confusion counts of a dataset's predictions against its labels."""
    missing_fields = [
        name for name in ("label_column", "prediction_column", "positive_label") if getattr(dataset, name) is None
    ]
    if missing_fields:
        raise EvidenceMissing(
            f"dataset `{dataset.name}` declares no {', '.join(f'`{m}`' for m in missing_fields)}"
        )
    undeclared = [f for f in features if f not in dataset.sensitive_features]
    if undeclared:
        declared = ", ".join(dataset.sensitive_features) or "none"
        raise EvidenceMissing(
            f"dataset `{dataset.name}` declares no sensitive feature {', '.join(f'`{u}`' for u in undeclared)}"
            f" (declared: {declared})"
        )
    columns = [dataset.label_column, dataset.prediction_column, *features]
    state = GroupConfusionState(features, {}, 0)
    for chunk in read_chunks(dataset, list(dict.fromkeys(columns)), chunk_rows):
        state = state.merge(
            group_confusion_chunk(chunk, dataset.label_column, dataset.prediction_column, features, dataset.positive_label)
        )
    check_binary_values(dataset, state.label_values, state.prediction_values)
    return state.finalize()


def _listing(values: set[str]) -> str:
    shown = sorted(values, key=_value_order)[:_MAX_DISTINCT_KEPT]
    more = " and more" if len(values) > _MAX_DISTINCT_KEPT else ""
    return ", ".join(f"`{v}`" for v in shown) + more


def check_binary_values(dataset: Dataset, label_values: set[str], prediction_values: set[str]) -> None:
    """Reject label and prediction columns that are not binary or never contain the positive label.

    A column with two distinct values must have the positive label as one of them, and
    at least one of the two columns must contain it; otherwise `positive_label` does
    not describe the data, and every rate would silently be 0.
    """
    positive = _normalized(str(dataset.positive_label))
    if isinstance(dataset.positive_label, bool):
        aliases = {positive, positive.lower(), positive.capitalize(), "1" if dataset.positive_label else "0"}
    else:
        aliases = {positive}
    columns = ((dataset.label_column, label_values), (dataset.prediction_column, prediction_values))
    for column, values in columns:
        if len(values) > 2:
            raise EvidenceInvalid(
                f"column `{column}` of dataset `{dataset.name}` has more than two distinct values ({_listing(values)}),"
                " but binary classification metrics need two"
            )
        if len(values) == 2 and not values & aliases:
            raise EvidenceInvalid(
                f"positive_label `{dataset.positive_label}` of dataset `{dataset.name}` is not among the values of"
                f" column `{column}` ({_listing(values)})"
            )
    if not (label_values | prediction_values) & aliases:
        found = _listing(label_values | prediction_values) or "none"
        raise EvidenceInvalid(
            f"positive_label `{dataset.positive_label}` of dataset `{dataset.name}` appears in neither"
            f" `{dataset.label_column}` nor `{dataset.prediction_column}` (values found: {found})"
        )


REDUCTION_KINDS: dict[str, Callable[..., GroupedConfusion]] = {
    "group_confusion": reduce_group_confusion,
}
