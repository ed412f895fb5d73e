"""The plan's JSON writer: the same text as json.dumps(indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govdsl.compiler import jsontext
from govdsl.compiler import compile_policies
from support import COMPAS_POLICY


def reference(value) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)


# Strings with the characters that JSON escapes, the NUL that the writer uses as a marker,
# and the brackets and commas it writes around values.
texts = st.text(st.characters(codec="utf-8") | st.sampled_from(list('{}[],:"\\\x00\n\t\u2028')), max_size=8)
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | texts
flat_records = st.lists(st.dictionaries(texts, scalars, min_size=1, max_size=4), min_size=1, max_size=4)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=4).map(tuple)
        | st.dictionaries(texts, children, max_size=4)
        | flat_records
    ),
    max_leaves=25,
)


@settings(max_examples=1000, deadline=None)
@given(values)
def test_same_text_as_json_dumps(value):
    assert jsontext.dumps(value) == reference(value)


@pytest.mark.parametrize(
    "value",
    [
        {},
        [],
        [{}],
        [[]],
        {"a": []},
        [{"a": 1}, {}],
        [{"a": 1}, {"b": [1]}],
        {"b": 1, "a": {"d": [1, "x"], "c": None}},
        {1: "int key"},
        {"a": 1, 1: "mixed keys"},
        [True, False, None, 0, -1, 1.5, -0.0, 1e300, "é"],
        {"a": "\x00,\n\x00{"},
    ],
    ids=repr,
)
def test_edge_case_same_as_json_dumps(value):
    try:
        expected = reference(value)
    except TypeError as exc:
        with pytest.raises(TypeError, match=str(exc)):
            jsontext.dumps(value)
        return
    assert jsontext.dumps(value) == expected


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_non_finite_number_raises_as_json_dumps(number):
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        jsontext.dumps({"value": [number]})


def test_unsupported_type_raises_as_json_dumps():
    with pytest.raises(TypeError, match="Object of type set is not JSON serializable"):
        jsontext.dumps({"value": {1}})


def test_subclass_values_written_as_json_dumps():
    class Text(str):
        pass

    class Count(int):
        pass

    value = {"text": Text("a"), "count": Count(2), "items": [Text("b")]}
    assert jsontext.dumps(value) == reference(value)


def test_plan_json_same_as_json_dumps():
    plan, _ = compile_policies([str(COMPAS_POLICY)])
    assert plan.to_json() == reference(plan.to_dict()) + "\n"
