"""The schemas' JSON writer gives the very text of `json.dumps(value, indent=2, ensure_ascii=False)`."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telemetry_gen.targets.jsontext import dumps


def reference(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


# Every code point, lone surrogates and control characters included.
TEXT = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()), max_size=12)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**200), max_value=2**200),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
)
KEYS = st.one_of(TEXT, st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.none())
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(KEYS, children, max_size=4),
    ),
    max_leaves=40,
)


@settings(max_examples=600)
@given(VALUES)
def test_any_json_value_is_written_as_json_dumps_writes_it(value: Any) -> None:
    assert dumps(value) == reference(value)


@pytest.mark.parametrize(
    "value",
    [
        {},
        [],
        (),
        {"a": {}, "b": [], "c": [{}], "d": [[]]},
        [1e16, 1e-7, -0.0, 0.1, 2**70, -(2**64), math.nan, math.inf, -math.inf],
        {'\x00\x1f\x7f\u2028\ud800 é "\\': "\n\t\r\x08\x0c 𝄞 \udfff"},
        {1: "int", 2.5: "float", None: "null", math.inf: "inf", -0.0: "minus zero"},
        {True: "true", False: "false"},
        [None, True, False, "", " "],
        "top-level string",
        12,
        None,
    ],
)
def test_edge_values_are_written_as_json_dumps_writes_them(value: Any) -> None:
    assert dumps(value) == reference(value)


@pytest.mark.parametrize("value", [{"a": {1, 2}}, [b"bytes"], {(1, 2): "tuple key"}])
def test_what_json_cannot_write_fails_the_same_way(value: Any) -> None:
    with pytest.raises(TypeError) as expected:
        reference(value)
    with pytest.raises(TypeError) as ours:
        dumps(value)
    assert str(ours.value) == str(expected.value)
