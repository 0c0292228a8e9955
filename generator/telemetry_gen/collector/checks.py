"""The checks `telemetry-gen build` generates for the Python package (`_checks.py`), rendered in
memory and loaded as a module: for the catalog, and for each event schema of an earlier build.

An earlier build's event schema is read
back into the catalog model's value types, then checked the same way. Only the JSON Schema that
`targets/jsonschema.py` writes is read: a keyword the checks do not know would go untested, so
any other is refused, with where it is.
"""

from __future__ import annotations

import functools
import math
import re
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from telemetry_gen_runtime import ENVELOPE_KEYS, Check, Violation

from ..catalog.model import (
    FIELD_NAME,
    ArrayType,
    BooleanType,
    Catalog,
    Category,
    EnumType,
    Field,
    NumericType,
    ObjectType,
    Privacy,
    ScalarType,
    StringType,
    ValueType,
    python_name,
)
from ..catalog.patterns import python_pattern
from ..diagnostics import Location
from ..targets.checkplan import CheckPlan, check_function, check_plan, field_members
from ..targets.jsonschema import DRAFT, envelope_properties
from ..targets.pychecks import module_source

# Keywords of an event schema's top level that say nothing about what is valid.
_ABOUT = frozenset({"$schema", "$id", "$comment", "title", "description", "deprecated"})
_ANNOTATIONS = frozenset({"description", "examples", "x-privacy", "x-unit"})
# The keywords `value_schema` writes for each kind of value ("enum": a string with `enum`).
_KEYWORDS = {
    "string": frozenset({"type", "maxLength", "minLength", "pattern"}),
    "enum": frozenset({"type", "enum"}),
    "integer": frozenset({"type", "minimum", "maximum"}),
    "number": frozenset({"type", "minimum", "maximum"}),
    "boolean": frozenset({"type"}),
    "array": frozenset({"type", "items", "maxItems", "minItems", "uniqueItems"}),
    "object": frozenset({"type", "additionalProperties", "required", "properties"}),
}
_NOWHERE = Location()


class GeneratedCheck(Protocol):
    """A generated `check_<owner>` function; `path` goes before every field path it reports."""

    def __call__(self, data: dict[str, Any], path: str = "") -> list[Violation]: ...


@dataclass(frozen=True)
class EventChecks:
    """The generated checks of one event schema: its context and its data, reporting paths from the
    envelope (`context.os`, `data.tags[2]`)."""

    context: Check
    data: Check

    @classmethod
    def of(cls, functions: Mapping[str, GeneratedCheck], context: str, data: str) -> EventChecks:
        return cls(
            functools.partial(functions[context], path="context."), functools.partial(functions[data], path="data.")
        )


class UnreadSchema(ValueError):
    """An event schema with something the generated checks cannot test."""


def _load(plan: CheckPlan, name: str) -> dict[str, GeneratedCheck]:
    """The check functions of `plan`, by owner, once its Python text has run as a module called `name`."""
    loaded = types.ModuleType(name)
    exec(compile(module_source(plan, "# Rendered in memory by the collector."), f"<{name}>", "exec"), loaded.__dict__)
    return {o.owner: getattr(loaded, check_function(o.owner)) for o in plan.objects}


def catalog_checks(catalog: Catalog) -> dict[str, EventChecks]:
    """The checks of every event of the catalog, by event name: one module, as the build writes it."""
    plan = check_plan(catalog)
    functions = _load(plan, "catalog_checks")
    reports = {event.name for event in catalog.events if event.category is Category.FEEDBACK}
    report_context = plan.report_context or plan.context  # the first when there are reports
    return {
        name: EventChecks.of(functions, report_context if name in reports else plan.context, owner)
        for name, owner in plan.events.items()
    }


def _count(schema: Mapping[str, Any], keyword: str, where: str) -> int | None:
    value = schema.get(keyword)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UnreadSchema(f"{where}: `{keyword}` is not a count")
    return value


def _bound(schema: Mapping[str, Any], keyword: str, where: str) -> int | float | None:
    value = schema.get(keyword)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise UnreadSchema(f"{where}: `{keyword}` is not a number")
    return value


def _fields(schema: Mapping[str, Any], where: str) -> tuple[Field, ...]:
    """The fields of an object schema (`additionalProperties: false`, as every object is)."""
    properties, required = schema.get("properties", {}), schema.get("required", [])
    if schema.get("additionalProperties") is not False or not isinstance(properties, dict):
        raise UnreadSchema(f"{where}: an object without `additionalProperties: false` and `properties`")
    if not isinstance(required, list) or not all(isinstance(name, str) and name in properties for name in required):
        raise UnreadSchema(f"{where}: `required` names fields it does not declare")
    fields = []
    by_python_name: dict[str, str] = {}
    for name, field_schema in properties.items():
        # A catalog's names hold no double underscore, which names nested checks, and no two have
        # one Python name, which names a check's constants.
        if not FIELD_NAME.match(name):
            raise UnreadSchema(f"{where}/properties: {name!r} is not a field name of a catalog")
        if (other := by_python_name.setdefault(python_name(name), name)) != name:
            raise UnreadSchema(f"{where}/properties: {other!r} and {name!r} have one Python name")
        value_type = _value_type(field_schema, f"{where}/properties/{name}")
        # Only the name, the type and whether it is required play a part in a check.
        fields.append(
            Field(name, value_type, "", Privacy.TECHNICAL, name in required, None, None, (), _NOWHERE, _NOWHERE)
        )
    return tuple(fields)


def _value_type(schema: object, where: str) -> ValueType:
    """The catalog value type a value schema of `targets/jsonschema.py` stands for."""
    if not isinstance(schema, dict):
        raise UnreadSchema(f"{where}: not a schema")
    kind = schema.get("type")
    kind = "enum" if kind == "string" and "enum" in schema else kind
    keywords = _KEYWORDS.get(kind) if isinstance(kind, str) else None
    if keywords is None:
        raise UnreadSchema(f"{where}: `type` {kind!r} is not one telemetry-gen writes")
    unknown = sorted(schema.keys() - keywords - _ANNOTATIONS)
    if unknown:
        raise UnreadSchema(f"{where}: `{unknown[0]}` is not a keyword telemetry-gen writes")
    if kind == "string":
        longest, pattern = _count(schema, "maxLength", where), schema.get("pattern")
        if longest is None:
            raise UnreadSchema(f"{where}: a string without `maxLength`")
        if pattern is not None:
            try:
                re.compile(python_pattern(pattern))
            except (TypeError, re.error):
                raise UnreadSchema(f"{where}: `pattern` is not a regular expression") from None
        return StringType(longest, _count(schema, "minLength", where), pattern)
    if kind == "enum":
        values = schema["enum"]
        if not isinstance(values, list) or not values or not all(isinstance(value, str) for value in values):
            raise UnreadSchema(f"{where}: `enum` is not a list of strings")
        return EnumType(tuple(values))
    if kind in ("integer", "number"):
        return NumericType(kind == "integer", _bound(schema, "minimum", where), _bound(schema, "maximum", where))
    if kind == "boolean":
        return BooleanType()
    if kind == "array":
        items, longest = _value_type(schema.get("items"), f"{where}/items"), _count(schema, "maxItems", where)
        if longest is None or isinstance(items, (ArrayType, ObjectType)):
            raise UnreadSchema(f"{where}: an array without `maxItems`, or of arrays or objects")
        unique = schema.get("uniqueItems", False)
        if not isinstance(unique, bool):
            raise UnreadSchema(f"{where}: `uniqueItems` is not true or false")
        scalar: ScalarType = items
        return ArrayType(scalar, longest, _count(schema, "minItems", where), unique)
    return ObjectType(_fields(schema, where))


def schema_checks(document: Mapping[str, Any]) -> EventChecks:
    """The checks of an earlier build's event schema (one whose `title` and `$id` are known good);
    `UnreadSchema` says why there are none."""
    unknown = sorted(
        key for key in document.keys() - _KEYWORDS["object"] - _ABOUT - {"$defs"} if not key.startswith("x-")
    )
    if unknown:
        raise UnreadSchema(f"`{unknown[0]}` is not a keyword telemetry-gen writes")
    properties = document.get("properties")
    envelope = envelope_properties(document["title"], document["$id"])
    if (
        document.get("$schema") != DRAFT
        or document.get("type") != "object"
        or document.get("additionalProperties") is not False
        or document.get("required") != list(ENVELOPE_KEYS)
        or not isinstance(properties, dict)
        or properties.keys() != set(ENVELOPE_KEYS)
        or any(properties[key] != schema for key, schema in envelope.items())
    ):
        raise UnreadSchema("its envelope is not the one telemetry-gen writes")
    definitions = document.get("$defs")
    if not isinstance(definitions, dict) or definitions.keys() != {"context"}:
        raise UnreadSchema("`$defs` holds something other than the context")
    context, data = (
        _value_type(definitions["context"], "/$defs/context"),
        _value_type(properties["data"], "/properties/data"),
    )
    if not isinstance(context, ObjectType):
        raise UnreadSchema("/$defs/context: not an object")
    if not isinstance(data, ObjectType):
        raise UnreadSchema("/properties/data: not an object")
    plan = CheckPlan()
    context_check = plan.add_object("context", "context", field_members(context.fields), "The context.")
    data_check = plan.add_object("data", str(document["title"]), field_members(data.fields), "The data.")
    functions = _load(plan, "earlier_checks")
    return EventChecks.of(functions, context_check, data_check)
