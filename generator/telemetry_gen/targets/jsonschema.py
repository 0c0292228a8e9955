"""Output target: one JSON Schema (Draft 2020-12) per event, and a bundle of all of them.

Every event is sent as an envelope: `event`, `schema` (the `$id` below), `id`, `timestamp`,
`context` (the catalog's context fields) and `data` (the event's own fields).
"""

from __future__ import annotations

import json
from typing import Any

from telemetry_gen_runtime import ENVELOPE_KEYS, EVENT_ID_PATTERN, TIMESTAMP_MAX_LENGTH, TIMESTAMP_PATTERN

from ..catalog.model import (
    ArrayType,
    BooleanType,
    Catalog,
    Category,
    EnumType,
    Event,
    Field,
    NumericType,
    ObjectType,
    StringType,
    ValueType,
)
from .common import GeneratedFile, banner

DRAFT = "https://json-schema.org/draft/2020-12/schema"
EVENT_ID = {"type": "string", "minLength": 32, "maxLength": 32, "pattern": EVENT_ID_PATTERN}
# RFC 3339 UTC with optional fraction. A pattern rather than `format`, which validators only
# annotate by default, so every validator agrees on what a valid timestamp is.
TIMESTAMP = {"type": "string", "format": "date-time", "maxLength": TIMESTAMP_MAX_LENGTH, "pattern": TIMESTAMP_PATTERN}


def value_schema(value_type: ValueType) -> dict[str, Any]:
    """The JSON Schema of one value of `value_type`."""
    if isinstance(value_type, StringType):
        schema: dict[str, Any] = {"type": "string", "maxLength": value_type.max_length}
        if value_type.min_length is not None:
            schema["minLength"] = value_type.min_length
        if value_type.pattern is not None:
            schema["pattern"] = value_type.pattern
        return schema
    if isinstance(value_type, EnumType):
        return {"type": "string", "enum": list(dict.fromkeys(value_type.values))}
    if isinstance(value_type, NumericType):
        schema = {"type": "integer" if value_type.integer else "number"}
        if value_type.minimum is not None:
            schema["minimum"] = value_type.minimum
        if value_type.maximum is not None:
            schema["maximum"] = value_type.maximum
        return schema
    if isinstance(value_type, BooleanType):
        return {"type": "boolean"}
    if isinstance(value_type, ArrayType):
        schema = {"type": "array", "items": value_schema(value_type.items), "maxItems": value_type.max_items}
        if value_type.min_items is not None:
            schema["minItems"] = value_type.min_items
        if value_type.unique:
            schema["uniqueItems"] = True
        return schema
    assert isinstance(value_type, ObjectType)
    return object_schema(value_type.fields)


def _unit(value_type: ValueType) -> str | None:
    if isinstance(value_type, ArrayType):
        return _unit(value_type.items)
    return value_type.unit if isinstance(value_type, NumericType) else None


def field_schema(field: Field) -> dict[str, Any]:
    schema = {"description": field.description, **value_schema(field.type), "x-privacy": field.privacy.value}
    if unit := _unit(field.type):
        schema["x-unit"] = unit
    if field.examples:
        schema["examples"] = list(field.examples)
    return schema


def object_schema(fields: tuple[Field, ...]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [f.name for f in fields if f.required],
        "properties": {f.name: field_schema(f) for f in fields},
    }


def context_schema(catalog: Catalog, *, report: bool = False) -> dict[str, Any]:
    """The context of every event; with `report`, of a report the user sends (a `feedback` event),
    which may go without the instance and session ids."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [c.name for c in catalog.context if (c.required_in_reports if report else c.required)],
        "properties": {
            c.name: field_schema(c.declared)
            if c.declared is not None
            else {"description": c.description, **value_schema(c.type), "x-privacy": c.privacy.value}
            for c in catalog.context
        },
    }


def envelope_properties(name: str, schema_id: str) -> dict[str, Any]:
    """The schemas of an event's envelope keys, but its data: what the collector expects of an
    earlier build's event schema too."""
    return {
        "event": {"const": name},
        "schema": {"const": schema_id},
        "id": EVENT_ID,
        "timestamp": TIMESTAMP,
        "context": {"$ref": "#/$defs/context"},
    }


def event_schema(catalog: Catalog, event: Event) -> dict[str, Any]:
    schema_id = catalog.schema_id(event)
    schema: dict[str, Any] = {
        "$schema": DRAFT,
        "$id": schema_id,
        "$comment": banner(catalog),
        "title": event.name,
        "description": event.description,
        "type": "object",
        "additionalProperties": False,
        "required": list(ENVELOPE_KEYS),
        "properties": {**envelope_properties(event.name, schema_id), "data": object_schema(event.fields)},
        "$defs": {"context": context_schema(catalog, report=event.category is Category.FEEDBACK)},
        "x-trigger": event.trigger,
        "x-category": event.category.value,
        "x-owner": event.owner,
        "x-since": str(event.since),
        "x-version": event.version,
        "x-expires": str(event.expires),
    }
    if event.deprecated:
        schema["deprecated"] = True
        schema["x-deprecated"] = event.deprecated
    return schema


def dump(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def bundle_text(catalog: Catalog, schemas: list[dict[str, Any]], texts: list[str]) -> str:
    """All event schemas as one document: an envelope is valid if exactly one event schema accepts it.

    The schemas sit under `$defs` by title, as written in their own files (`texts`): dumping them
    again took as long as the first time, so their texts are spliced in, indented two levels
    deeper. JSON strings hold no raw line breaks, so every line break in a text is one to indent.
    A catalog has at least one event, so `$defs` is never empty (which would dump as `{}`).
    """
    head = {
        "$schema": DRAFT,
        "$id": f"{catalog.app.schema_base_url}bundle.schema.json",
        "$comment": banner(catalog),
        "title": f"{catalog.app.title} telemetry events (catalog {catalog.app.version})",
        "oneOf": [{"$ref": schema["$id"]} for schema in schemas],
    }
    entries = [
        f"    {json.dumps(schema['title'], ensure_ascii=False)}: " + text.rstrip("\n").replace("\n", "\n    ")
        for schema, text in zip(schemas, texts, strict=True)
    ]
    return dump(head).removesuffix("\n}\n") + ',\n  "$defs": {\n' + ",\n".join(entries) + "\n  }\n}\n"


def schema_path(event: Event) -> str:
    return f"schemas/{event.name}.v{event.version}.schema.json"


def render(catalog: Catalog) -> list[GeneratedFile]:
    schemas = [event_schema(catalog, event) for event in catalog.events]
    texts = [dump(schema) for schema in schemas]
    files = [GeneratedFile(schema_path(event), text) for event, text in zip(catalog.events, texts, strict=True)]
    files.append(GeneratedFile("schemas/bundle.schema.json", bundle_text(catalog, schemas, texts)))
    return files
