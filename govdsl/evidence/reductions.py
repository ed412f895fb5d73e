"""Reductions: passes over evidence that produce mergeable sufficient statistics.

Each kind in REDUCTION_KINDS reads a dataset chunk by chunk. The states of two chunks
merge by addition, so the result does not depend on how the file was split.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from govdsl.evidence.bundle import Dataset
from govdsl.evidence.readers import DEFAULT_CHUNK_ROWS, read_chunks
from govdsl.metrics.counts import ConfusionCounts, GroupedConfusion, GroupKey

MISSING_GROUP = "(missing)"


class EvidenceMissing(Exception):
    """The bundle does not declare evidence a reduction needs; checks that read it get status `error`."""


def is_positive(values: pd.Series, positive_label) -> pd.Series:
    """Return which values equal the positive label; `1`, `1.0` and ` 1 ` all match the label 1."""
    text = values.str.strip()
    hits = text == str(positive_label)
    if isinstance(positive_label, bool):
        hits |= text.str.lower() == str(positive_label).lower()
    elif isinstance(positive_label, (int, float)):
        hits |= pd.to_numeric(text, errors="coerce") == positive_label
    return hits


@dataclass
class GroupConfusionState:
    features: tuple[str, ...]
    cells: dict[GroupKey, np.ndarray]  # group -> [tp, fp, fn, tn]
    rows_excluded: int = 0

    def merge(self, other: GroupConfusionState) -> GroupConfusionState:
        cells = {key: value.copy() for key, value in self.cells.items()}
        for key, value in other.cells.items():
            if key in cells:
                cells[key] += value
            else:
                cells[key] = value.copy()
        return GroupConfusionState(self.features, cells, self.rows_excluded + other.rows_excluded)

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
    chunk = chunk[present]
    actual = is_positive(chunk[label], positive_label).to_numpy()
    predicted = is_positive(chunk[prediction], positive_label).to_numpy()
    # Cell order within a group: 0 = TP, 1 = FP, 2 = FN, 3 = TN.
    outcome = np.where(actual, np.where(predicted, 0, 2), np.where(predicted, 1, 3))

    combined = np.zeros(len(chunk), dtype=np.int64)
    levels: list[np.ndarray] = []
    for feature in features:
        codes, uniques = pd.factorize(chunk[feature].fillna(MISSING_GROUP), sort=False)
        combined = combined * len(uniques) + codes
        levels.append(np.asarray(uniques, dtype=object))
    if not features:
        levels = []
    unique_groups, group_index = np.unique(combined, return_inverse=True)
    table = np.bincount(group_index * 4 + outcome, minlength=len(unique_groups) * 4).reshape(-1, 4)

    cells: dict[GroupKey, np.ndarray] = {}
    for row, code in enumerate(unique_groups):
        key: list[str] = []
        remainder = int(code)
        for uniques in reversed(levels):
            remainder, position = divmod(remainder, len(uniques))
            key.append(str(uniques[position]))
        cells[tuple(reversed(key))] = table[row].astype(np.int64)
    return GroupConfusionState(features, cells, excluded)


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
    return state.finalize()


REDUCTION_KINDS: dict[str, Callable[..., GroupedConfusion]] = {
    "group_confusion": reduce_group_confusion,
}
