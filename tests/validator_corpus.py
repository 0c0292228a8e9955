"""The shared corpus of the validators: payloads of every event of
`tests/fixtures/alltypes/events.yaml` (every type and constraint the catalog offers), and of its
context, each with jsonschema's verdict. Every language's generated validators must give that
verdict on every case (`tests/test_typescript.py` runs the Python and the TypeScript ones).

The cases are built deterministically from the catalog: a valid payload of the fields' examples,
then each field missing, replaced by a value of every JSON type, by values at and past each
bound (lengths in ASCII, in two-byte and in astral characters, which JSON Schema counts as one),
by strings with a trailing newline against `$`, by lists with repeated and wrong items, and with
keys the schema does not declare (also ones every JavaScript object inherits).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
from hypothesis import HealthCheck, find, settings
from hypothesis import strategies as st

from conftest import FIXTURES, sample
from telemetry_gen.catalog.model import (
    ArrayType,
    Catalog,
    EnumType,
    Field,
    NumericType,
    ObjectType,
    StringType,
    ValueType,
)

CATALOG = FIXTURES / "alltypes" / "events.yaml"
Json = Any
OF_EVERY_TYPE: list[Json] = [None, True, False, 0, 1, -1, 2.5, 1.0, 2**53, "", "x", " \n", [], ["a"], {}, {"x": 1}]
UNDECLARED = ["extra", "constructor", "toString", "__proto__", ""]
# A valid value of each context source.
CONTEXT_EXAMPLES = {
    "app_version": "1.2.3",
    "app_commit": "0123abc",
    "python_version": "3.12.1",
    "python_implementation": "CPython",
    "os": "linux",
    "os_version": "6.1.0-13-amd64",
    "machine_arch": "x86_64",
    "instance_id": "0123456789abcdef" * 2,
    "session_id": "fedcba9876543210" * 2,
    "package_version": "6.0.1",
}


def _ecma_pattern(
    validator: jsonschema.Draft202012Validator, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[jsonschema.ValidationError]:
    """jsonschema's `pattern`, with ECMA-262's `$`: the end of the text, never before a final newline."""
    if validator.is_type(instance, "string") and not re.search(pattern.replace("$", r"\Z"), instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


Reference = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": _ecma_pattern})  # type: ignore[no-untyped-call]


def variants(value_type: ValueType, valid: Json) -> list[Json]:
    """Values to put in place of a valid one: of every type, and near each limit of `value_type`."""
    found = list(OF_EVERY_TYPE)
    if isinstance(value_type, StringType):
        lengths = {value_type.min_length or 0, value_type.max_length}
        for length in sorted({n + delta for n in lengths for delta in (-1, 0, 1) if n + delta >= 0}):
            found += ["a" * length, "é" * length, "😀" * length]
        found += [valid + "\n", "\n" + valid, valid.upper(), valid[:-1]]
    elif isinstance(value_type, EnumType):
        for value in value_type.values:
            found += [value, value + " ", value.upper()]
    elif isinstance(value_type, NumericType):
        for bound in (value_type.minimum, value_type.maximum):
            if bound is not None:
                found += [bound, bound - 1, bound + 1, bound - 0.5, bound + 0.5, float(bound)]
    elif isinstance(value_type, ArrayType):
        item = valid[0] if isinstance(valid, list) and valid else "x"
        found += [[item] * value_type.max_items, [item] * (value_type.max_items + 1), [item, item]]
        found += [[value] for value in variants(value_type.items, item)]
        found += [[*valid, None], valid[:-1]] if isinstance(valid, list) else []
    elif isinstance(value_type, ObjectType):
        found += list(payloads(value_type.fields))
    return found


def _example(value_type: ValueType, examples: tuple[Any, ...]) -> Json:
    """A valid value: the catalog's example, else one built from the limits; for a pattern the
    catalog gives no example of, the smallest match hypothesis finds (with a fixed seed)."""
    if examples:
        return examples[0]
    if isinstance(value_type, StringType) and value_type.pattern is not None:
        pattern, low, high = value_type.pattern, value_type.min_length or 0, value_type.max_length
        matches = st.from_regex(pattern.replace("$", r"\Z"))
        settled = settings(database=None, max_examples=2000, suppress_health_check=list(HealthCheck))
        return find(matches, lambda text: low <= len(text) <= high, settings=settled, random=random.Random(0))
    if isinstance(value_type, ArrayType):
        return [_example(value_type.items, ())] * max(value_type.min_items or 0, 1)
    if isinstance(value_type, ObjectType):
        return {f.name: _example(f.type, f.examples) for f in value_type.fields}
    return sample(value_type, ())


def payloads(fields: tuple[Field, ...]) -> Iterator[dict[str, Json]]:
    """A valid object of `fields`, then that object with one change each."""
    valid = {f.name: _example(f.type, f.examples) for f in fields}
    yield valid
    for f in fields:
        yield {key: value for key, value in valid.items() if key != f.name}
        for value in variants(f.type, valid[f.name]):
            yield {**valid, f.name: value}
    for key in UNDECLARED:
        yield {**valid, key: 1}


def _unique(cases: Iterator[Json]) -> list[Json]:
    return list({json.dumps(case, sort_keys=True): case for case in cases}.values())


def build(catalog: Catalog, schemas: Path) -> list[dict[str, Json]]:
    """The corpus of `catalog` (built into `schemas`): {"event", "data", "valid"} per case; the
    context's cases have the event `context`."""
    corpus = []
    for event in catalog.events:
        document = json.loads((schemas / f"{event.name}.v{event.version}.schema.json").read_text("utf-8"))
        data = Reference({**document["properties"]["data"], "$defs": document["$defs"]})
        for case in _unique(payloads(event.fields)):
            corpus.append({"event": event.name, "data": case, "valid": data.is_valid(case)})
    context = Reference(document["$defs"]["context"])
    context_fields = tuple(
        Field(c.name, c.type, "", c.privacy, True, None, None, (CONTEXT_EXAMPLES[c.source],), c.location, c.location)
        for c in catalog.context
    )
    for case in _unique(payloads(context_fields)):
        corpus.append({"event": "context", "data": case, "valid": context.is_valid(case)})
    return corpus
