"""The quick structure check agrees with jsonschema, so valid catalogs can skip jsonschema's error collection.

`check_structure` trusts the gate's yes and asks jsonschema only on a no. A gate that said yes to
data jsonschema rejects would let a broken catalog through, so it is compared with jsonschema on
every catalog file of the test suite and on many mutations of valid catalogs: deleted and added
keys, values of other types, booleans where numbers go, empty and over-long values.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.catalogs import events_yaml
from conftest import FIXTURES, MINIMAL_CATALOG, REPO
from telemetry_gen.catalog.schema_gate import _cases_by_member, compile_gate
from telemetry_gen.catalog.source import load_yaml
from telemetry_gen.catalog.validate import catalog_meta_schema

SCHEMA = catalog_meta_schema()
REFERENCE = jsonschema.Draft202012Validator(SCHEMA)
GATE = compile_gate(SCHEMA)


def _catalog_texts() -> dict[str, str]:
    paths = [*sorted(FIXTURES.rglob("*.yaml")), REPO / "events.yaml"]
    texts = {path.relative_to(REPO).as_posix(): path.read_bytes().decode("utf-8", "replace") for path in paths}
    texts["conftest MINIMAL_CATALOG"] = MINIMAL_CATALOG
    texts["benchmark catalog"] = events_yaml(20)
    return texts


def _loaded(text: str) -> Any:
    loaded, _ = load_yaml(text, "events.yaml")
    return None if loaded is None else loaded.data


LOADED = {name: data for name, text in _catalog_texts().items() if (data := _loaded(text)) is not None}
VALID = [data for data in LOADED.values() if REFERENCE.is_valid(data)]


def test_the_corpus_has_valid_and_invalid_catalogs() -> None:
    assert len(VALID) >= 5
    assert len(LOADED) - len(VALID) >= 30


@pytest.mark.parametrize("name", sorted(LOADED))
def test_gate_agrees_with_jsonschema_on_every_catalog_file(name: str) -> None:
    assert GATE(LOADED[name]) == REFERENCE.is_valid(LOADED[name])


# Values that probe the type rules where Python and JSON Schema differ (True is 1, 1.0 is an integer).
SCALARS = st.one_of(
    st.sampled_from([True, False, 0, 1, -1, 1.0, 0.5, math.inf, math.nan, "", "1", "1.0", "x", None]),
    st.sampled_from(["u" * 32, "u" * 33, "a" * 64, "a" * 65, "T" * 100, "T" * 101]),  # around the maxLengths
    st.sampled_from(["string", "enum", "integer", "number", "boolean", "array", "object", "usage", "technical"]),
    st.integers(-3, 100),
    st.text(max_size=70),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["type", "a", "max_length"]), inner),
    max_leaves=6,
)


def _places(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside `data`."""
    places = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            places += _places(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            places += _places(value, (*path, index))
    return places


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


@st.composite
def mutated_catalogs(draw: st.DrawFn) -> Any:
    data = copy.deepcopy(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_places(data)))
        target = _at(data, path)
        action = draw(st.sampled_from(["replace", "delete", "add", "duplicate"]))
        if action == "replace" and path:
            _at(data, path[:-1])[path[-1]] = draw(VALUES)
        elif action == "delete" and path:
            del _at(data, path[:-1])[path[-1]]
        elif action == "add" and isinstance(target, dict):
            known = ["type", "description", "privacy", "values", "max_length", "fields", "since", "unit", "a" * 65]
            target[draw(st.sampled_from(known) | st.text(max_size=8))] = draw(VALUES)
        elif action in ("add", "duplicate") and isinstance(target, list):
            target.append(copy.deepcopy(target[0]) if action == "duplicate" and target else draw(VALUES))
    return data


@settings(deadline=None, database=None, max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_catalogs())
def test_gate_agrees_with_jsonschema_on_mutated_catalogs(data: Any) -> None:
    assert GATE(data) == REFERENCE.is_valid(data)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("catalog_format",), True),  # True == 1 in Python, not in JSON Schema
        (("catalog_format",), 1.0),  # but 1.0 is 1
        (("app", "version"), 1.0),
        (("app", "domains"), ["app", "app"]),
        (("never_collected",), []),
        (("events", "app/started", "fields", "mode", "type"), "object"),
        (("app", "title"), "T" * 100),
        (("app", "title"), "T" * 101),
        (("app", "title"), ""),
        (("app", "name"), "Demo"),
        (
            ("events", "app/started", "fields", "a" * 65),
            {"type": "boolean", "description": "x", "privacy": "technical"},
        ),
        (("events", "app/started", "fields", "mode", "unit"), "ms"),
        (("events", "app/started", "fields", "mode", "values"), []),
        (("events", "app/started", "version"), 0),
        (("events", "app/started", "version"), 1.0),
        (("events", "app/started", "category"), "Usage"),
        (("events", "app/started", "lint_ignore"), ["LN001", 1]),
        (
            ("events", "app/started", "fields", "mode"),
            {"type": "number", "description": "x", "privacy": "technical", "unit": "u" * 33, "minimum": True},
        ),
        (("history",), {"1.0": [{"change": "event-added", "event": "app/started", "note": ""}]}),
        (("context",), {"os": {"source": "os", "package": "x"}, "Os": {"source": "os"}}),
        (("events",), {}),
    ],
)
def test_gate_follows_json_schema_equality_and_types(path: tuple[str, ...], value: object) -> None:
    data = copy.deepcopy(LOADED["conftest MINIMAL_CATALOG"])
    _at(data, path[:-1])[path[-1]] = value
    assert GATE(data) == REFERENCE.is_valid(data)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": ["string", "null"]},
        {"format": "date"},
        {"patternProperties": {"^a": True}, "properties": {}},
        {"not": {"uniqueItems": True}},
        {"$ref": "https://example.com/other.json"},
    ],
)
def test_the_compiler_refuses_what_it_cannot_check_exactly(schema: dict[str, Any]) -> None:
    with pytest.raises(NotImplementedError):
        compile_gate(schema)


def test_recursive_references_are_followed() -> None:
    schema = {"$defs": {"tree": {"type": "array", "items": {"$ref": "#/$defs/tree"}}}, "$ref": "#/$defs/tree"}
    gate = compile_gate(schema)
    assert gate([[], [[]]])
    assert not gate([[], [[1]]])


# An allOf of if/then cases on one member, as the meta-schema has for field types, which the gate
# answers with one lookup of the member; with cases that overlap, under `not` too.
CASES = {
    "allOf": [
        {
            "if": {"properties": {"kind": {"const": "a"}}, "required": ["kind"]},
            "then": {"type": "object", "required": ["x"]},
        },
        {
            "if": {"properties": {"kind": {"enum": ["a", "b"]}}, "required": ["kind"]},
            "then": {"properties": {"x": {"type": "integer"}}},
        },
    ]
}
CASE_VALUES = st.recursive(
    st.sampled_from(["a", "b", "c", "", 1, 1.0, True, None]),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.sampled_from(["kind", "x", "y"]), inner),
    max_leaves=4,
)


@settings(deadline=None, database=None, max_examples=300)
@given(CASE_VALUES)
def test_cases_on_one_member_follow_json_schema(value: Any) -> None:
    assert _cases_by_member(CASES["allOf"]) is not None
    for schema in (CASES, {"not": CASES}):
        assert compile_gate(schema)(value) == jsonschema.Draft202012Validator(schema).is_valid(value)
