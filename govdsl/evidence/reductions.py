"""Per-group confusion counts: the reduction that every classification and fairness metric reads.

The reduction reads a dataset chunk by chunk. The states of two chunks merge by
addition, so the result does not depend on how the file was split. Other kinds of
reduction are listed in `govdsl.evidence.kinds`.
"""

from __future__ import annotations

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
    """Evidence whose values contradict the bundle's declarations, such as a positive label found nowhere.

    `help` says what to correct; without it, the engine points at the dataset's declaration.
    """

    def __init__(self, message: str, help: str | None = None) -> None:
        super().__init__(message)
        self.help = help


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


# Largest group code space counted directly with np.bincount. Below it the features' codes
# combine by mixed-radix arithmetic; above it the groups seen are renumbered densely first.
_DIRECT_CODE_SPACE = 1 << 22

# Integer labels whose largest and smallest values differ by at most this are their own codes.
_DIRECT_LABEL_RANGE = 256


def _feature_codes(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Return one non-negative integer code per row and the group name of each code.

    A categorical column already holds its codes; any other column is factorized once.
    Missing values get the last code, named MISSING_GROUP.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        uniques = np.asarray(values.cat.categories, dtype=object)
    else:
        codes, uniques = pd.factorize(values, sort=False, use_na_sentinel=True)
        uniques = np.asarray(uniques, dtype=object)
    names = [str(value) for value in uniques]
    names.append(MISSING_GROUP)
    if len(codes) and codes.min() < 0:
        codes = codes.astype(np.int64)
        codes[codes < 0] = len(uniques)
    return codes, names


def _outcome_flags(values: pd.Series, positive_label) -> tuple[np.ndarray, np.ndarray | pd.Index]:
    """Return whether each row matches the positive label, and the distinct values found.

    Each distinct value is tested once. A column of integers (or booleans) in a small
    range indexes a table of the values in that range; anything else is factorized.
    """
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "biu" and len(values):
        array = values.to_numpy()
        offsets = array.view(np.uint8) if array.dtype == bool else array
        low, high = int(offsets.min()), int(offsets.max())
        if high - low <= _DIRECT_LABEL_RANGE:
            if low:
                offsets = offsets - offsets.dtype.type(low)
            # The smallest and largest values are present; only values between them need counting.
            if high - low <= 1:
                seen = np.arange(high - low + 1)
            else:
                seen = np.flatnonzero(np.bincount(offsets, minlength=high - low + 1))
            uniques = np.array([low + int(offset) for offset in seen], dtype=array.dtype)
            positive = np.zeros(high - low + 1, dtype=bool)
            positive[seen] = is_positive(pd.Series(uniques), positive_label).to_numpy(dtype=bool)
            return positive[offsets], uniques
    codes, uniques = pd.factorize(values, sort=False)
    positive = is_positive(pd.Series(uniques), positive_label).to_numpy(dtype=bool)
    return positive[codes], uniques


def _renumber(index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Renumber group codes densely: return the distinct codes (sorted) and each row's new code."""
    distinct, inverse = np.unique(index, return_inverse=True)
    return distinct, inverse.reshape(-1).astype(np.int64, copy=False)


def group_confusion_chunk(
    chunk: pd.DataFrame, label: str, prediction: str, features: tuple[str, ...], positive_label
) -> GroupConfusionState:
    """Count TP, FP, FN and TN per group in one chunk, in one vectorized pass over integer codes."""
    present = (chunk[label].notna() & chunk[prediction].notna()).to_numpy(dtype=bool)
    excluded = int(len(present) - np.count_nonzero(present))

    def column(name: str) -> pd.Series:
        return chunk[name][present] if excluded else chunk[name]

    actual, label_values = _outcome_flags(column(label), positive_label)
    predicted, prediction_values = _outcome_flags(column(prediction), positive_label)
    # Cell order within a group: 0 = TP, 1 = FP, 2 = FN, 3 = TN, that is 2 * (not predicted) + (not actual).
    outcome = np.logical_not(predicted, out=predicted).view(np.uint8)
    outcome <<= 1
    outcome += np.logical_not(actual, out=actual).view(np.uint8)
    rows = len(outcome)

    # Combine the features' codes by mixed-radix arithmetic, in place, while the code space
    # stays small enough to count directly. Past that, renumber the groups seen so far
    # densely, so that codes stay below rows * (values of one feature) and never overflow.
    # `levels` records each renumbering: the distinct codes and the radices folded into them.
    index = np.zeros(rows, dtype=np.int64) if not features else None
    space = 1
    radices: list[int] = []
    levels: list[tuple[np.ndarray, list[int]]] = []
    names: list[list[str]] = []
    for feature in features:
        codes, feature_names = _feature_codes(column(feature))
        size = len(feature_names)
        if index is None:
            index = codes.astype(np.int64)
        else:
            if space * size > _DIRECT_CODE_SPACE:
                distinct, index = _renumber(index)
                levels.append((distinct, radices))
                space, radices = len(distinct), []
            np.multiply(index, size, out=index)
            np.add(index, codes, out=index, casting="unsafe")
        space *= size
        radices.append(size)
        names.append(feature_names)
    if space > _DIRECT_CODE_SPACE:
        distinct, index = _renumber(index)
        levels.append((distinct, radices))
        space, radices = len(distinct), []
    np.multiply(index, 4, out=index)
    np.add(index, outcome, out=index, casting="unsafe")
    table = np.bincount(index, minlength=space * 4).reshape(-1, 4) if rows else np.zeros((0, 4), np.int64)
    groups = np.flatnonzero(table.any(axis=1))

    # Decode each group seen into one code per feature, undoing the last renumbering first.
    key_codes: list[np.ndarray] = []
    position = groups
    for distinct, level_radices in reversed([*levels, (None, radices)]):
        if distinct is not None:
            position = distinct[position]
        for size in reversed(level_radices):
            position, code = np.divmod(position, size)
            key_codes.append(code)
    key_codes.reverse()

    cells: dict[GroupKey, np.ndarray] = {}
    counts = table[groups].astype(np.int64)
    columns = [[feature_names[code] for code in codes.tolist()] for feature_names, codes in zip(names, key_codes)]
    keys = zip(*columns) if features else [()]
    for key, count in zip(keys, counts):
        # Distinct values with the same text, such as 1 and "1", form one group.
        cells[key] = cells[key] + count if key in cells else count
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
    undeclared = dataset.undeclared_features(features)
    if undeclared:
        raise EvidenceMissing(undeclared)
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
                f"column `{column}` of `{dataset.relative_path}` (dataset `{dataset.name}`) has more than two distinct"
                f" values ({_listing(values)}), but binary classification metrics need two"
            )
        if len(values) == 2 and not values & aliases:
            raise EvidenceInvalid(
                f"positive_label `{dataset.positive_label}` of dataset `{dataset.name}` is not among the values of"
                f" column `{column}` of `{dataset.relative_path}` ({_listing(values)})"
            )
    if not (label_values | prediction_values) & aliases:
        found = _listing(label_values | prediction_values) or "none"
        raise EvidenceInvalid(
            f"positive_label `{dataset.positive_label}` of dataset `{dataset.name}` appears in neither"
            f" `{dataset.label_column}` nor `{dataset.prediction_column}` (values found: {found})"
        )


def reduce_for_plan(datasets: dict[str, Dataset], spec, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> GroupedConfusion:
    """The `group_confusion` kind: confusion counts of the predictions dataset, grouped by the spec's features."""
    dataset = datasets["predictions"]
    try:
        return reduce_group_confusion(dataset, spec.features, chunk_rows)
    except EvidenceInvalid as exc:
        help_text = f"correct `positive_label` or the columns declared at `{dataset.key}` in bundle.yaml, or the data file"
        if isinstance(dataset.positive_label, bool):
            help_text += (
                "; YAML reads unquoted yes, no, on, off, true and false as booleans,"
                ' so quote a text label: `positive_label: "yes"`'
            )
        raise EvidenceInvalid(str(exc), exc.help or help_text) from None
