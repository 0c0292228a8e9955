"""The envelope every event travels in, and its check (mirrors the generated JSON Schemas)."""

from __future__ import annotations

import datetime
import re
import uuid
from typing import Any

from .errors import Violation
from .spec import Check, EventSpec

ENVELOPE_KEYS = ("event", "schema", "id", "timestamp", "context", "data")
EVENT_ID_PATTERN = "^[0-9a-f]{32}$"
TIMESTAMP_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?Z$"
TIMESTAMP_MAX_LENGTH = 32
_KEYS = frozenset(ENVELOPE_KEYS)
# Matched whole (`fullmatch`), as ECMA-262 reads `$`: no newline may follow.
_EVENT_ID = re.compile(EVENT_ID_PATTERN)
_TIMESTAMP = re.compile(TIMESTAMP_PATTERN)


def utc_timestamp(at: float) -> str:
    """`at` (seconds since the epoch) as the envelope's UTC timestamp, with microseconds."""
    return datetime.datetime.fromtimestamp(at, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def make_envelope(
    spec: EventSpec, context: dict[str, Any], data: dict[str, Any], at: float, event_id: str | None = None
) -> dict[str, Any]:
    """Wrap validated `data` emitted at `at` (seconds since the epoch) for sending, under
    `event_id`, or a new random id."""
    return {
        "event": spec.name,
        "schema": spec.schema_id,
        "id": event_id or uuid.uuid4().hex,
        "timestamp": utc_timestamp(at),
        "context": context,
        "data": data,
    }


def check_envelope(envelope: object, spec: EventSpec, check_context: Check) -> list[Violation]:
    """Every way `envelope` departs from `spec`'s JSON Schema; empty when it is valid."""
    name = spec.name
    if not isinstance(envelope, dict):
        return [Violation(name, "", "type", "the event is not an object")]
    errors: list[Violation] = []
    if envelope.keys() != _KEYS:
        errors += [
            Violation(name, key, "additionalProperties", "unexpected key")
            for key in sorted(map(str, envelope.keys() - _KEYS))
        ]
        errors += [
            Violation(name, key, "required", "required key is missing") for key in ENVELOPE_KEYS if key not in envelope
        ]
    for key, expected in (("event", name), ("schema", spec.schema_id)):
        if key in envelope and not (isinstance(envelope[key], str) and envelope[key] == expected):
            errors.append(Violation(name, key, "const", f"{envelope[key]!r} is not {expected!r}"))
    for key, pattern, longest in (("id", _EVENT_ID, 32), ("timestamp", _TIMESTAMP, TIMESTAMP_MAX_LENGTH)):
        value = envelope.get(key)
        if key in envelope and not (isinstance(value, str) and len(value) <= longest and pattern.fullmatch(value)):
            errors.append(Violation(name, key, "pattern", f"{value!r} does not match {pattern.pattern!r}"))
    for key, check in (("context", check_context), ("data", spec.check_data)):
        value = envelope.get(key)
        if key not in envelope:
            continue
        if isinstance(value, dict):
            errors += check(value)
        else:
            errors.append(Violation(name, key, "type", f"{value!r} is not an object"))
    return errors
