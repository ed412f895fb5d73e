"""Tests of the group confusion reduction: golden counts, group keys, and mergeability across chunks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govdsl.evidence.reductions import (
    MISSING_GROUP,
    EvidenceInvalid,
    EvidenceMissing,
    GroupConfusionState,
    group_confusion_chunk,
    reduce_group_confusion,
)
from govdsl.metrics.counts import ConfusionCounts


def count_chunk(frame: pd.DataFrame, features=("group",), positive_label=1) -> GroupConfusionState:
    return group_confusion_chunk(frame, "label", "prediction", tuple(features), positive_label)


def test_chunk_golden_counts():
    frame = pd.DataFrame(
        {
            "group": ["a", "a", "a", "a", "b", "b", "b"],
            "label": ["1", "1", "0", "0", "1", "0", "0"],
            "prediction": ["1", "0", "1", "0", "0", "0", "1"],
        }
    )

    table = count_chunk(frame).finalize()

    assert table.features == ("group",)
    assert table.groups == {
        ("a",): ConfusionCounts(tp=1, fp=1, fn=1, tn=1),
        ("b",): ConfusionCounts(tp=0, fp=1, fn=1, tn=1),
    }
    assert table.rows_excluded == 0


def test_chunk_keys_match_groupby():
    rng = np.random.default_rng(7)
    rows = 500
    frame = pd.DataFrame(
        {
            "x": rng.choice(["p", "q"], rows),
            "y": rng.choice(["r", "s", "t"], rows),
            "z": rng.choice(["u", "v", "w", "k", "m"], rows),
            "label": rng.choice(["0", "1"], rows),
            "prediction": rng.choice(["0", "1"], rows),
        }
    )
    cell = np.where(frame["label"] == "1", np.where(frame["prediction"] == "1", "tp", "fn"), np.where(frame["prediction"] == "1", "fp", "tn"))
    expected_frame = pd.crosstab([frame["x"], frame["y"], frame["z"]], cell)
    expected = {key: ConfusionCounts(**{name: int(row.get(name, 0)) for name in ("tp", "fp", "fn", "tn")}) for key, row in expected_frame.iterrows()}

    table = count_chunk(frame, features=("x", "y", "z")).finalize()

    assert table.groups == expected


def test_chunk_no_features_one_group():
    frame = pd.DataFrame({"label": ["1", "0", "1"], "prediction": ["1", "1", "0"]})

    table = count_chunk(frame, features=()).finalize()

    assert table.groups == {(): ConfusionCounts(tp=1, fp=1, fn=1, tn=0)}


def test_chunk_keys_many_distinct_values():
    # 7000 distinct values in each of five features: a group code that multiplies the
    # numbers of values, 7000**5 or about 1.7e19, would overflow int64 (2**63 is about 9.2e18).
    rows = 7000
    rng = np.random.default_rng(0)
    features = ("f0", "f1", "f2", "f3", "f4")
    frame = pd.DataFrame({feature: rng.permutation(rows).astype(str) for feature in features})
    frame["label"] = "1"
    frame["prediction"] = "1"
    expected = set(zip(*(frame[feature] for feature in features)))

    table = count_chunk(frame, features=features).finalize()

    assert set(table.groups) == expected


def test_merge_adds_counts():
    first = count_chunk(pd.DataFrame({"group": ["a", "b"], "label": ["1", None], "prediction": ["1", "0"]}))
    second = count_chunk(pd.DataFrame({"group": ["a", "c"], "label": ["0", "1"], "prediction": ["1", "0"]}))

    table = first.merge(second).finalize()

    assert table.groups == {
        ("a",): ConfusionCounts(tp=1, fp=1, fn=0, tn=0),
        ("c",): ConfusionCounts(tp=0, fp=0, fn=1, tn=0),
    }
    assert table.rows_excluded == 1


def test_merge_leaves_inputs_unchanged():
    first = count_chunk(pd.DataFrame({"group": ["a"], "label": ["1"], "prediction": ["1"]}))
    second = count_chunk(pd.DataFrame({"group": ["a"], "label": ["0"], "prediction": ["0"]}))

    first.merge(second)
    first.merge(second)

    assert first.finalize().groups == {("a",): ConfusionCounts(tp=1)}
    assert second.finalize().groups == {("a",): ConfusionCounts(tn=1)}


# Property: however the rows are split into chunks, the merged counts equal one pass.

LABELS = st.sampled_from(["0", "1", "1.0", " 1", "0.0", None])
rows_with_missing = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c", None]), st.sampled_from(["F", "M", None]), LABELS, LABELS),
    min_size=1,
    max_size=60,
)


def rows_frame(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["group", "sex", "label", "prediction"], dtype=object)


@settings(max_examples=100, deadline=None)
@given(rows=rows_with_missing, data=st.data())
def test_split_merge_equals_one_pass(rows, data):
    frame = rows_frame(rows)
    cuts = data.draw(st.lists(st.integers(0, len(frame)), max_size=6).map(sorted))
    bounds = [0, *cuts, len(frame)]
    features = ("group", "sex")

    merged = GroupConfusionState(features, {}, 0)
    for start, stop in zip(bounds, bounds[1:]):
        merged = merged.merge(count_chunk(frame.iloc[start:stop], features=features))

    one_pass = count_chunk(frame, features=features)
    assert merged.finalize() == one_pass.finalize()
    assert merged.label_values == one_pass.label_values
    assert merged.prediction_values == one_pass.prediction_values


@settings(max_examples=50, deadline=None)
@given(rows=rows_with_missing, data=st.data())
def test_merge_order_irrelevant(rows, data):
    frame = rows_frame(rows)
    cut = data.draw(st.integers(0, len(frame)))
    head = count_chunk(frame.iloc[:cut])
    tail = count_chunk(frame.iloc[cut:])

    assert head.merge(tail).finalize() == tail.merge(head).finalize()


# The same through the bundle loader and the chunked reader.

READER_CSV = """\
group,label,prediction
a,1,1
b,0,1
a,,0
c,1.0,0
b,0,
a,0,0
,1,1
c, 1,1
b,1,0
a,0,1
"""


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 4, 7, 10, 1000])
def test_reader_chunk_sizes(make_dataset, chunk_rows):
    dataset = make_dataset(READER_CSV)
    frame = pd.read_csv(dataset.path, dtype=str, keep_default_na=False, na_values=[""])
    one_pass = count_chunk(frame).finalize()

    table = reduce_group_confusion(dataset, ("group",), chunk_rows=chunk_rows)

    assert table == one_pass
    assert table.rows_excluded == 2
    assert table.groups[(MISSING_GROUP,)] == ConfusionCounts(tp=1)
    assert table.groups[("c",)] == ConfusionCounts(tp=1, fn=1)


def test_reader_undeclared_feature(make_dataset):
    dataset = make_dataset(READER_CSV)

    with pytest.raises(EvidenceMissing, match=r"declares no sensitive feature `label` \(declared: group\)"):
        reduce_group_confusion(dataset, ("label",))


# Thirteen spellings of 0 and 1, then a third label value, `2`, in the last rows.
LATE_THIRD_VALUE_CSV = (
    "group,label,prediction\n"
    + "".join(f"a,{label},1\n" for label in ["0", "1", "0.0", "1.0", " 0", " 1", "0 ", "1 ", "00", "01", "0.00", "1.00", "+1"])
    + "b,2,0\nb,0,0\n"
)


# A reduction that kept only the first few distinct raw spellings of a chunk would
# never see the `2` when the file is read in one chunk.
@pytest.mark.parametrize("chunk_rows", [5, 1000])
def test_reader_third_label_rejected(make_dataset, chunk_rows):
    dataset = make_dataset(LATE_THIRD_VALUE_CSV)

    with pytest.raises(EvidenceInvalid, match="more than two distinct values"):
        reduce_group_confusion(dataset, ("group",), chunk_rows=chunk_rows)


MANY_LABELS_CSV = "group,label,prediction\n" + "".join(f"a,{label},1\n" for label in range(1, 21))


def test_reader_many_labels_message(make_dataset):
    dataset = make_dataset(MANY_LABELS_CSV)
    messages = []
    for chunk_rows in (10, 1000):
        with pytest.raises(EvidenceInvalid, match="more than two distinct values") as raised:
            reduce_group_confusion(dataset, ("group",), chunk_rows=chunk_rows)
        messages.append(str(raised.value))

    assert messages[0] == messages[1]
    assert "`1`, `2`, `3`" in messages[0]
