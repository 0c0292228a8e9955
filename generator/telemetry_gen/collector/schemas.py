"""The event schemas the receiving side validates against, by `$id`, and what a violation means.

The schemas are the ones `telemetry-gen build` writes, rendered in memory from the catalog (so
the collector never trusts a stale `generated/`), plus the `schemas/` folders of earlier builds,
for apps still sending earlier versions of an event. Each schema gets one `jsonschema` validator
(Draft 2020-12, the reference implementation), built once and reused for every event. Lengths
(`maxLength`, `maxItems`) are checked first, in one walk that costs no more than reading the
event: an event past one never reaches jsonschema, whose cost can grow with their square.

A violation becomes a `Problem`: a stable code, a JSON-pointer location in the event and a
message. The collector writes problems into bad rows; live-check turns them into findings.
"""

from __future__ import annotations

import datetime
import functools
import heapq
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import SchemaError, ValidationError
from telemetry_gen_runtime import version_key

from ..catalog.model import NAME_PART, Catalog
from ..diagnostics import Diagnostic, Location, Severity
from ..targets.jsonschema import event_schema

BAD_SCHEMA_FILE = "CL001"
MAX_PROBLEMS = 20  # listed per event; more are summed up in one last problem
SHOWN_CHARS = 60  # values quoted in messages are cut to this length

# Problem codes, shared by bad rows and live-check findings.
NOT_AN_OBJECT = "not-an-object"
UNKNOWN_EVENT = "unknown-event"
UNKNOWN_SCHEMA = "unknown-schema"
UNKNOWN_FIELD = "unknown-field"
MISSING_FIELD = "missing-field"
TYPE_MISMATCH = "type-mismatch"
UNDECLARED_ENUM_VALUE = "undeclared-enum-value"
SCHEMA_MISMATCH = "schema-mismatch"
INVALID_VALUE = "invalid-value"
MORE_PROBLEMS = "more-problems"


@dataclass(frozen=True, order=True)
class Problem:
    """One way an event departs from its schema. `location` is a JSON pointer (`/data/command`)."""

    location: str
    code: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "location": self.location, "message": self.message}


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """`value` as JSON text safe to print (control characters escaped), cut to a readable length."""
    try:
        text = json.dumps(value, ensure_ascii=True, allow_nan=True, default=repr)
    except (RecursionError, ValueError):
        text = "<unprintable>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def json_type(value: object) -> str:
    """The JSON name of a parsed value's type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    for kind, name in ((int, "integer"), (float, "number"), (str, "string"), (list, "array"), (dict, "object")):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def pointer(parts: Iterable[object]) -> str:
    """A JSON pointer to `parts`; keys from the wire are escaped and cut, so it is always safe to print."""
    text = ""
    for part in parts:
        segment = json.dumps(str(part).replace("~", "~0").replace("/", "~1"), ensure_ascii=True)[1:-1]
        text += "/" + (segment if len(segment) <= SHOWN_CHARS else segment[: SHOWN_CHARS - 3] + "...")
    return text


def _too_long(value: str | list[Any], limit: object) -> str:
    unit = "characters" if isinstance(value, str) else "items"
    return f"{len(value)} {unit}, more than the {limit} allowed"


def _message(error: ValidationError) -> str:
    keyword, expected, value = error.validator, error.validator_value, error.instance
    if keyword == "type":
        wanted = " or ".join(expected) if isinstance(expected, list) else str(expected)
        return f"expected {wanted}, got {json_type(value)} {shown(value)}"
    if keyword == "enum" and isinstance(expected, list):
        return f"{shown(value)} is not a declared value (declared: {', '.join(map(str, expected))})"
    if keyword == "const":
        return f"{shown(value)} where this schema has {shown(expected)}"
    if keyword in ("maxLength", "maxItems") and isinstance(value, (str, list)):
        return _too_long(value, expected)
    if keyword in ("minLength", "minItems") and isinstance(value, (str, list)):
        unit = "characters" if isinstance(value, str) else "items"
        return f"{len(value)} {unit}, fewer than the {expected} needed"
    if keyword == "pattern":
        return f"{shown(value)} does not match {expected}"
    if keyword in ("minimum", "maximum"):
        return f"{shown(value)} is {'below' if keyword == 'minimum' else 'above'} the {keyword} {expected}"
    if keyword == "uniqueItems":
        return "has repeated items"
    text = error.message
    return text if len(text) <= 2 * SHOWN_CHARS else text[: 2 * SHOWN_CHARS - 3] + "..."


def _problems(error: ValidationError) -> Iterator[Problem]:
    where = list(error.absolute_path)
    keyword, instance = error.validator, error.instance
    if keyword == "additionalProperties" and isinstance(instance, dict) and isinstance(error.schema, Mapping):
        declared = error.schema.get("properties", {})
        unknown = [key for key in instance if key not in declared]
        # Named up to the number of problems listed; an object can hold a hundred thousand.
        for key in heapq.nsmallest(MAX_PROBLEMS, unknown):
            yield Problem(pointer([*where, key]), UNKNOWN_FIELD, "not declared in the catalog")
        if len(unknown) > MAX_PROBLEMS:
            rest = len(unknown) - MAX_PROBLEMS
            yield Problem(pointer(where), UNKNOWN_FIELD, f"{rest} more fields not declared in the catalog")
    elif keyword == "required" and isinstance(instance, dict) and isinstance(error.validator_value, list):
        for key in error.validator_value:
            if key not in instance:
                yield Problem(pointer([*where, key]), MISSING_FIELD, "required, but missing")
    else:
        code = {"type": TYPE_MISMATCH, "enum": UNDECLARED_ENUM_VALUE, "const": SCHEMA_MISMATCH}.get(
            str(keyword), INVALID_VALUE
        )
        yield Problem(pointer(where), code, _message(error))


def _resolved(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    """The schema a local `$ref` (`#/$defs/context`) points to, else `schema` itself."""
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return schema
    node: object = root
    for part in ref[2:].split("/"):
        node = node.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(node, Mapping) else None
    return node if isinstance(node, Mapping) else {}


def _past_bounds(
    value: object, schema: Mapping[str, Any], root: Mapping[str, Any], path: list[object]
) -> Iterator[Problem]:
    """Strings and arrays in `value` longer than their schema's `maxLength` or `maxItems`.

    One walk along the schema: it looks at no item of an array that is too long and at no field the
    schema does not declare, so it costs no more than reading the event. It runs before jsonschema,
    which tests `uniqueItems` by comparing every pair of items it cannot sort, and `pattern` on
    strings of any length.
    """
    schema = _resolved(schema, root)
    if isinstance(value, str):
        limit = schema.get("maxLength")
        if isinstance(limit, int) and len(value) > limit:
            yield Problem(pointer(path), INVALID_VALUE, _too_long(value, limit))
    elif isinstance(value, list):
        limit, items = schema.get("maxItems"), schema.get("items")
        if isinstance(limit, int) and len(value) > limit:
            yield Problem(pointer(path), INVALID_VALUE, _too_long(value, limit))
        elif isinstance(items, Mapping):
            for index, item in enumerate(value):
                yield from _past_bounds(item, items, root, [*path, index])
    elif isinstance(value, dict):
        properties = schema.get("properties")
        if isinstance(properties, Mapping):
            for key, declared in properties.items():
                if key in value and isinstance(declared, Mapping):
                    yield from _past_bounds(value[key], declared, root, [*path, key])


def _real_timestamp(value: str) -> bool:
    """Whether a timestamp the schema's pattern accepts names a real moment (no month 13, no 25:00)."""
    try:
        datetime.datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Expiry:
    """An event schema's `expires`, worked out once: the last day the event may be sent, or the app
    version from which it is not sent (as written, and its `version_key`); neither for `never`."""

    last_day: datetime.date | None = None
    app_version: str | None = None
    app_key: tuple[int, ...] = ()


@dataclass(frozen=True)
class EventSchema:
    """One event schema, with its validator; `current` when it comes from the catalog itself."""

    schema_id: str
    name: str
    version: int
    document: Mapping[str, Any]
    validator: jsonschema.Draft202012Validator
    current: bool

    @property
    def deprecated(self) -> str | None:
        return str(self.document.get("x-deprecated") or "deprecated") if self.document.get("deprecated") else None

    @property
    def expires(self) -> str:
        """`never`, a date (YYYY-MM-DD), or `app:<version>`, as the catalog says."""
        return str(self.document.get("x-expires", "never"))

    @functools.cached_property
    def expiry(self) -> Expiry:
        """`expires`, parsed the first time it is asked for."""
        expires = self.expires
        if expires.startswith("app:"):
            version = expires[len("app:") :]
            return Expiry(app_version=version, app_key=version_key(version))
        try:
            return Expiry(last_day=datetime.date.fromisoformat(expires))
        except ValueError:
            return Expiry()  # `never`

    def declared(self, section: str) -> Mapping[str, Any]:
        """The schemas of the fields of `data` or `context`, by name."""
        if section == "context":
            found = self.document.get("$defs", {}).get("context", {}).get("properties", {})
        else:
            found = self.document.get("properties", {}).get("data", {}).get("properties", {})
        return found if isinstance(found, Mapping) else {}

    def check(self, event: dict[str, Any]) -> list[Problem]:
        """Every way `event` departs from this schema; an event past a length bound is reported for
        that alone, and never reaches jsonschema (see `_past_bounds`)."""
        problems = sorted(set(_past_bounds(event, self.document, self.document, [])))
        if not problems:
            problems = sorted({p for error in self.validator.iter_errors(event) for p in _problems(error)})
            timestamp = event.get("timestamp")
            if not any(p.location == "/timestamp" for p in problems) and not _real_timestamp(str(timestamp)):
                problems.append(Problem("/timestamp", INVALID_VALUE, f"{shown(timestamp)} is not a real date and time"))
        if len(problems) > MAX_PROBLEMS:
            rest = len(problems) - MAX_PROBLEMS
            problems = [*problems[:MAX_PROBLEMS], Problem("", MORE_PROBLEMS, f"{rest} more problem(s) not listed")]
        return problems


def _entry(document: dict[str, Any], *, current: bool) -> EventSchema:
    return EventSchema(
        schema_id=document["$id"],
        name=document["title"],
        version=document["x-version"],
        document=document,
        validator=jsonschema.Draft202012Validator(document),
        current=current,
    )


def _max_length(node: object) -> int:
    """The largest `maxLength` anywhere in a (trusted, shallow) schema."""
    if isinstance(node, dict):
        own = node.get("maxLength")
        return max([own if isinstance(own, int) else 0, *(_max_length(v) for v in node.values())])
    if isinstance(node, list):
        return max([0, *(_max_length(v) for v in node)])
    return 0


class Registry:
    """Every schema the receiving side knows, by `$id`; the catalog's own win over earlier builds'."""

    def __init__(self, schemas: Iterable[EventSchema]) -> None:
        self.by_id: dict[str, EventSchema] = {}
        for schema in schemas:
            self.by_id.setdefault(schema.schema_id, schema)
        self.current = {s.name: s for s in self.by_id.values() if s.current}
        by_name: dict[str, list[int]] = {}
        for schema in self.by_id.values():
            by_name.setdefault(schema.name, []).append(schema.version)
        # Each event's known schema versions, as an unknown `$id` of it lists them ("v1, v2").
        self.versions = {name: ", ".join(f"v{v}" for v in sorted(found)) for name, found in by_name.items()}
        self.names = frozenset(self.versions)
        self.longest_string = max([0, *(_max_length(s.document) for s in self.by_id.values())])

    def lookup(self, event: dict[str, Any]) -> tuple[EventSchema | None, Problem | None]:
        """The schema an event names by `$id`, or why there is none."""
        schema_id, name = event.get("schema"), event.get("event")
        found = self.by_id.get(schema_id) if isinstance(schema_id, str) else None
        if found is not None:
            return found, None
        versions = self.versions.get(name) if isinstance(name, str) else None
        if versions is not None:
            return None, Problem(
                "/schema",
                UNKNOWN_SCHEMA,
                f"{shown(schema_id, 4 * SHOWN_CHARS)} is not a known schema of {name} (known: {versions}); "
                "give the collector the schemas/ folder of the build that declared it",
            )
        return None, Problem("/event", UNKNOWN_EVENT, "not an event of the catalog")

    def check(self, event: object) -> tuple[EventSchema | None, list[Problem]]:
        """The event's schema (None when unknown) and every way the event departs from it."""
        if not isinstance(event, dict):
            return None, [Problem("", NOT_AN_OBJECT, f"the event is {json_type(event)} {shown(event)}, not an object")]
        schema, unknown = self.lookup(event)
        if schema is None:
            assert unknown is not None
            return None, [unknown]
        return schema, schema.check(event)


def _diagnostic(file: Path, message: str, hint: str) -> Diagnostic:
    return Diagnostic(BAD_SCHEMA_FILE, Severity.ERROR, Location(file.as_posix(), 1, 1), message, hint)


def _not_an_event_schema(document: object) -> str | None:
    """Why a document is not an event schema written by `telemetry-gen build`, or None."""
    if not isinstance(document, dict):
        return "not a JSON object"
    name, version, schema_id = document.get("title"), document.get("x-version"), document.get("$id")
    if not isinstance(schema_id, str):
        return "no `$id`"
    if not isinstance(name, str) or len(parts := name.split("/")) != 2 or not all(map(NAME_PART.match, parts)):
        return f"`title` {shown(name)} is not an event name"
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        return f"`x-version` {shown(version)} is not a version number"
    properties = document.get("properties")
    if not isinstance(properties, dict) or properties.get("schema") != {"const": schema_id}:
        return "it does not describe an event envelope"
    try:
        jsonschema.Draft202012Validator.check_schema(document)
    except SchemaError as exc:
        return f"not a valid JSON Schema: {exc.message}"
    return None


def load_earlier(folder: Path) -> tuple[list[EventSchema], list[Diagnostic]]:
    """The event schemas of an earlier build: its output folder, or the `schemas/` folder in it."""
    root = folder / "schemas" if (folder / "schemas").is_dir() else folder
    if not root.is_dir():
        return [], [_diagnostic(folder, "not a folder", "give the schemas/ folder of an earlier `telemetry-gen build`")]
    found: list[EventSchema] = []
    diagnostics: list[Diagnostic] = []
    for path in sorted(root.rglob("*.schema.json")):
        if path.name == "bundle.schema.json":
            continue
        try:
            document: object = json.loads(path.read_bytes().decode("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            diagnostics.append(_diagnostic(path, f"cannot read the schema: {exc}", "give an unmodified build output"))
            continue
        problem = _not_an_event_schema(document)
        if problem is not None:
            diagnostics.append(
                _diagnostic(
                    path, f"not an event schema: {problem}", "give the schemas/ folder of `telemetry-gen build`"
                )
            )
            continue
        assert isinstance(document, dict)
        found.append(_entry(document, current=False))
    return found, diagnostics


def registry(catalog: Catalog, earlier: Iterable[Path] = ()) -> tuple[Registry, list[Diagnostic]]:
    """The catalog's schemas, then those of earlier builds (only `$id`s the catalog does not have)."""
    schemas = [_entry(event_schema(catalog, event), current=True) for event in catalog.events]
    diagnostics: list[Diagnostic] = []
    for folder in earlier:
        found, problems = load_earlier(folder)
        schemas += found
        diagnostics += problems
    return Registry(schemas), diagnostics
