"""The collector's verdict against jsonschema's, on valid and invalid events of the example catalog.

The collector and live-check validate with the checks the build generates, run by the runtime's
`check_envelope`; jsonschema's Draft 2020-12 validator on the schemas the build writes is the
reference, with `$` in patterns read as ECMA-262 reads it: the end of the text, never before a
final newline. Every event of the catalog is tried as the runtime sends it, then with one change
at a time, made where its schema says what is valid: a key removed or added, a value of every
other JSON type, lengths, counts and bounds at and one past their limits, trailing newlines,
repeated items, another event's name. The catalog's own checks and the checks read back from its
build's schema files (as `--schemas` reads an earlier build) must both agree with the reference,
and a rejected event's problems must point at the place that was changed.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
from local_collector import envelope, example_catalog, example_registry

from telemetry_gen.collector.schemas import EventSchema, load_earlier, pointer
from telemetry_gen.targets import jsonschema as schema_target
from telemetry_gen.write import write_tree

JsonPath = tuple[str, ...]  # keys only: the changes are made in objects, never at a list's index
OTHER_TYPES: list[object] = [None, True, "x", {}]
REMOVED = object()  # in place of a value: the key is taken out
ANNOTATIONS = {"description", "examples", "x-privacy", "x-unit"}


def _ecma_pattern(
    validator: jsonschema.Draft202012Validator, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[jsonschema.ValidationError]:
    """jsonschema's `pattern`, with ECMA-262's `$` (the catalog's patterns hold one, at the end)."""
    assert pattern.find("$") == len(pattern) - 1, f"{pattern}: `$` other than at the end"
    if validator.is_type(instance, "string") and not re.search(pattern.replace("$", r"\Z"), instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


Reference = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": _ecma_pattern})  # type: ignore[no-untyped-call]


def _resolved(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        resolved: dict[str, Any] = root["$defs"][schema["$ref"].rsplit("/", 1)[1]]
        return resolved
    return schema


def _values(schema: dict[str, Any], value: Any) -> list[object]:
    """Values to put in place of `value`, valid or not by `schema`: around each of its limits."""
    found = [other for other in OTHER_TYPES if type(other) is not type(value)]
    if "const" in schema:
        return [*found, "app/started", schema["const"] + "\n"]
    if "enum" in schema:
        return [*found, schema["enum"][-1], schema["enum"][0] + "\n", schema["enum"][0].upper(), ""]
    kind = schema.get("type")
    if kind == "string":
        longest, shortest = schema["maxLength"], schema.get("minLength", 0)
        found += [value + "\n", value[:-1] + " ", "é" * longest, "x" * (longest + 1)]
        return found + ([value[: shortest - 1]] if shortest else [])
    if kind in ("integer", "number"):
        found += [-1, 1.5, 2.0]
        for bound in (schema.get("minimum"), schema.get("maximum")):
            if bound is not None:
                found += [bound - 1, bound + 1, bound + 0.5]
        return found
    if kind == "array" and value:
        item, longest = value[0], schema["maxItems"]
        found += [[], [item] * longest, [item] * (longest + 1), [*value, None]]
        return found + [[other] for other in _values(schema["items"], item)[-3:]]
    return found


def _changes(
    path: JsonPath, schema: dict[str, Any], value: Any, root: dict[str, Any], tried: set[str]
) -> Iterator[tuple[JsonPath, object]]:
    """Where to change what, once per kind of value (`tried`: the value schemas already changed)."""
    schema = _resolved(schema, root)
    # Values of the same type, with the same keywords and pattern, are changed the same way: once.
    kind = json.dumps([sorted(schema.keys() - ANNOTATIONS), schema.get("pattern"), schema.get("properties")])
    if kind in tried:
        return
    tried.add(kind)
    if path:
        for replacement in _values(schema, value):
            yield path, replacement
    if schema.get("type") == "object":
        for key, field in schema["properties"].items():
            if key in value:
                yield (*path, key), REMOVED
                yield from _changes((*path, key), field, value[key], root, tried)
        yield (*path, "undeclared"), 1


def changed(event: dict[str, Any], root: dict[str, Any], tried: set[str]) -> Iterator[tuple[JsonPath, dict[str, Any]]]:
    """`event` with one change each, and where the change is."""
    for path, replacement in _changes((), root, event, root, tried):
        copied = copy.deepcopy(event)
        container = copied
        for part in path[:-1]:
            container = container[part]
        if replacement is REMOVED:
            del container[path[-1]]
        else:
            container[path[-1]] = replacement
        yield path, copied


def _checked(schema: EventSchema, event: dict[str, Any], reference: jsonschema.Draft202012Validator) -> str | None:
    """Why the collector's verdict on `event` is not the reference's, or None."""
    problems = schema.check(event)
    if (not problems) != reference.is_valid(event):
        return f"collector: {[p.as_json() for p in problems]}; jsonschema: {reference.is_valid(event)}"
    return None


def test_the_collector_agrees_with_jsonschema_on_valid_and_changed_events(tmp_path: Path) -> None:
    catalog, current = example_catalog(), example_registry()
    write_tree(schema_target.render(catalog), tmp_path / "build")
    earlier, diagnostics = load_earlier(tmp_path / "build")
    assert diagnostics == [] and len(earlier) == len(catalog.events)
    read_back = {schema.schema_id: schema for schema in earlier}
    cases, rejected, disagreements = 0, 0, []
    tried: set[str] = set()
    for event in catalog.events:
        schema = current.current[event.name]
        document = schema_target.event_schema(catalog, event)
        reference = Reference(document)
        sent = envelope(event.name, number=1)
        for path, tried_event in [((), sent), *changed(sent, document, tried)]:
            cases += 1
            for judge in (schema, read_back[schema.schema_id]):
                if why := _checked(judge, tried_event, reference):
                    disagreements.append(f"{event.name} {pointer(path)} = {tried_event!r:.200}: {why}")
            problems = schema.check(tried_event)
            if problems:
                rejected += 1
                where = pointer(path)
                found = [p.location.pointer for p in problems]
                assert any(at == where or at.startswith(where + "/") for at in found), (
                    f"{event.name}: changed at {where}, problems at {found}"
                )
    assert disagreements == []
    assert rejected > cases / 2 and cases - rejected > len(catalog.events)  # both verdicts, many times
