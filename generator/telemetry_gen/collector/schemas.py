"""The event schemas the receiving side validates against, by `$id`, and what a violation means.

The schemas are the ones `telemetry-gen build` writes, rendered in memory from the catalog (so
the collector never trusts a stale `generated/`), plus the `schemas/` folders of earlier builds,
for apps still sending earlier versions of an event. Events are validated as the runtime
validates them before sending: the runtime's `check_envelope`, with the checks the build
generates (`_checks.py`, loaded in memory by `checks.py`). They accept exactly what the schemas
accept (tested against jsonschema, the reference implementation), read `$` in a pattern as
ECMA-262 does (the end of the text, never before a final newline), and test a value's length
before its items or its pattern, so checking an event costs no more than reading it.

A violation becomes a `Diagnostic` (see `problem`): an error with a stable code, located by a
JSON pointer into the event, and a message. The collector keeps them as the reasons of a bad row;
live-check reports them at the input line the event came from.
"""

from __future__ import annotations

import datetime
import functools
import heapq
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telemetry_gen_runtime import MISSING, Check, EventSpec, Violation, check_envelope, version_key

from ..catalog.model import EVENT_NAME, Catalog
from ..diagnostics import Diagnostic, Location, Severity, sorted_diagnostics
from ..targets.jsonschema import event_schema
from .checks import EventChecks, UnreadSchema, catalog_checks, schema_checks

BAD_SCHEMA_FILE = "CL001"
MAX_PROBLEMS = 20  # listed per event; more are summed up in one last problem
SHOWN_CHARS = 60  # values quoted in messages are cut to this length

# The codes of an event's problems, shared by bad rows and live-check findings.
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


def problem(where: str, code: str, message: str) -> Diagnostic:
    """One way an event departs from its schema, at the JSON pointer `where` into the event (`/data/command`)."""
    return Diagnostic(code, Severity.ERROR, Location(pointer=where), message)


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


_CODES = {
    "additionalProperties": UNKNOWN_FIELD,
    "required": MISSING_FIELD,
    "type": TYPE_MISMATCH,
    "enum": UNDECLARED_ENUM_VALUE,
    "const": SCHEMA_MISMATCH,
}
# One step of a violation's path: `[index]`, or a declared field's name (an identifier), then `.`.
_STEP = re.compile(r"(?:\[([0-9]+)\]|([A-Za-z_][A-Za-z0-9_]*))\.?")


def _located(event: dict[str, Any], path: str, *, undeclared: bool) -> tuple[list[object], object, object]:
    """Where a violation's path (`data.device.model`, `data.tags[2]`) is in `event`: the parts of a
    JSON pointer, the object or array holding the last part, and the value there (`MISSING` when absent).

    Paths join the names of declared fields, which are identifiers, with `.` and `[index]`; only an
    undeclared key, always last, can be any text. So an undeclared key is the rest of the path as soon
    as the object at hand holds that key. (An event with both `{"a.b": 1}` and `{"a": {"b": 1}}`
    undeclared gets two violations with the same path, both reported at `/a.b`.)
    """
    parts: list[object] = []
    holder: object = None
    node: object = event
    rest = path
    while True:
        if undeclared and isinstance(node, dict) and rest in node:
            return [*parts, rest], node, node[rest]
        if not rest:
            return parts, holder, node
        step = _STEP.match(rest)
        index, name = step.groups() if step else (None, None)
        if name is not None and isinstance(node, dict):
            parts.append(name)
            holder, node = node, node.get(name, MISSING)
        elif index is not None and isinstance(node, list) and int(index) < len(node):
            parts.append(int(index))
            holder, node = node, node[int(index)]
        else:  # not a path of this event: kept whole
            return [*parts, rest], None, MISSING
        assert step is not None
        rest = rest[step.end() :]


def _schema_at(document: Mapping[str, Any], parts: list[object]) -> Mapping[str, Any]:
    """The schema of the value at `parts` in an event, or {} where the document declares none."""
    node: Mapping[str, Any] = document
    for part in parts:
        node = _resolved(node, document)
        child = node.get("items") if isinstance(part, int) else node.get("properties", {}).get(part)
        node = child if isinstance(child, Mapping) else {}
    return _resolved(node, document)


def _message(violation: Violation, expected: object, value: object) -> str:
    """What is wrong, in the words of JSON: `expected` is the value of the failing keyword."""
    keyword = violation.code
    if keyword == "type":
        return f"expected {expected}, got {json_type(value)} {shown(value)}"
    if keyword == "enum" and isinstance(expected, list):
        return f"{shown(value)} is not a declared value (declared: {', '.join(map(str, expected))})"
    if keyword == "const":
        return f"{shown(value)} where this schema has {shown(expected)}"
    if keyword in ("maxLength", "maxItems") and isinstance(value, (str, list)):
        unit = "characters" if isinstance(value, str) else "items"
        return f"{len(value)} {unit}, more than the {expected} allowed"
    if keyword in ("minLength", "minItems") and isinstance(value, (str, list)):
        unit = "characters" if isinstance(value, str) else "items"
        return f"{len(value)} {unit}, fewer than the {expected} needed"
    if keyword == "pattern":
        return f"{shown(value)} does not match {expected}"
    if keyword in ("minimum", "maximum"):
        return f"{shown(value)} is {'below' if keyword == 'minimum' else 'above'} the {keyword} {expected}"
    if keyword == "uniqueItems":
        return "has repeated items"
    text = violation.message
    return text if len(text) <= 2 * SHOWN_CHARS else text[: 2 * SHOWN_CHARS - 3] + "..."


def _problems(violations: list[Violation], event: dict[str, Any], document: Mapping[str, Any]) -> set[Diagnostic]:
    """The problems the violations of `event` stand for. Undeclared keys are named up to the number of
    problems listed, per object, and the rest counted: an object can hold a hundred thousand."""
    found: set[Diagnostic] = set()
    undeclared: dict[tuple[object, ...], list[str]] = {}
    # The undeclared keys of one object come one after the other, each path its object's path + key.
    run: tuple[str, dict[str, Any], list[str]] | None = None  # that path, the object, its keys so far
    for violation in violations:
        code, field = _CODES.get(violation.code, INVALID_VALUE), violation.field
        if code == UNKNOWN_FIELD and run is not None and field.startswith(run[0]) and field[len(run[0]) :] in run[1]:
            run[2].append(field[len(run[0]) :])
            continue
        parts, holder, value = _located(event, field, undeclared=code == UNKNOWN_FIELD)
        if code == UNKNOWN_FIELD and parts and isinstance(holder, dict):
            key = str(parts[-1])
            keys = undeclared.setdefault(tuple(parts[:-1]), [])
            keys.append(key)
            run = (field[: len(field) - len(key)], holder, keys)
        elif code == MISSING_FIELD:
            found.add(problem(pointer(parts), code, "required, but missing"))
        else:
            expected = _schema_at(document, parts).get(violation.code)
            found.add(problem(pointer(parts), code, _message(violation, expected, value)))
    for where, keys in undeclared.items():
        for key in heapq.nsmallest(MAX_PROBLEMS, keys):
            found.add(problem(pointer([*where, key]), UNKNOWN_FIELD, "not declared in the catalog"))
        if len(keys) > MAX_PROBLEMS:
            rest = len(keys) - MAX_PROBLEMS
            found.add(problem(pointer(where), UNKNOWN_FIELD, f"{rest} more fields not declared in the catalog"))
    return found


def _resolved(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    """The schema a local `$ref` (`#/$defs/context`) points to, else `schema` itself."""
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return schema
    node: object = root
    for part in ref[2:].split("/"):
        node = node.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(node, Mapping) else None
    return node if isinstance(node, Mapping) else {}


def _real_timestamp(value: str) -> bool:
    """Whether a timestamp the schema's pattern accepts names a real moment (no month 13, no 25:00)."""
    try:
        datetime.datetime.fromisoformat(value[:19])  # YYYY-MM-DDTHH:MM:SS, as the pattern has it
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
    """One event schema, with its generated checks; `current` when it comes from the catalog itself."""

    schema_id: str
    name: str
    version: int
    document: Mapping[str, Any]
    spec: EventSpec  # the name, `$id` and check of `data` that `check_envelope` takes
    check_context: Check
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

    def _section(self, section: str) -> Mapping[str, Any]:
        """The schema of `data` or `context`."""
        if section == "context":
            found = self.document.get("$defs", {}).get("context", {})
        else:
            found = self.document.get("properties", {}).get("data", {})
        return found if isinstance(found, Mapping) else {}

    def declared(self, section: str) -> Mapping[str, Any]:
        """The schemas of the fields of `data` or `context`, by name."""
        found = self._section(section).get("properties", {})
        return found if isinstance(found, Mapping) else {}

    def required(self, section: str) -> frozenset[str]:
        """The fields of `data` or `context` that every valid event has."""
        found = self._section(section).get("required", [])
        return frozenset(found) if isinstance(found, list) else frozenset()

    def check(self, event: dict[str, Any]) -> list[Diagnostic]:
        """Every way `event` departs from this schema."""
        violations = check_envelope(event, self.spec, self.check_context)
        problems = sorted_diagnostics(_problems(violations, event, self.document))
        timestamp = event.get("timestamp")
        if not any(p.location.pointer == "/timestamp" for p in problems) and not _real_timestamp(str(timestamp)):
            problems.append(problem("/timestamp", INVALID_VALUE, f"{shown(timestamp)} is not a real date and time"))
        if len(problems) > MAX_PROBLEMS:
            rest = len(problems) - MAX_PROBLEMS
            problems = [*problems[:MAX_PROBLEMS], problem("", MORE_PROBLEMS, f"{rest} more problem(s) not listed")]
        return problems


def _entry(document: dict[str, Any], checks: EventChecks, *, current: bool) -> EventSchema:
    name, schema_id = document["title"], document["$id"]
    return EventSchema(
        schema_id=schema_id,
        name=name,
        version=document["x-version"],
        document=document,
        spec=EventSpec(name, schema_id, str(document.get("x-category")), checks.data),
        check_context=checks.context,
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

    def context_fields(self) -> dict[str, bool]:
        """Every context field a schema declares, in name order, and whether every schema requires it
        (so that no valid event is without it)."""
        schemas = self.by_id.values()
        names = sorted({name for schema in schemas for name in schema.declared("context")})
        return {name: all(name in schema.required("context") for schema in schemas) for name in names}

    def lookup(self, event: dict[str, Any]) -> tuple[EventSchema | None, Diagnostic | None]:
        """The schema an event names by `$id`, or why there is none."""
        schema_id, name = event.get("schema"), event.get("event")
        found = self.by_id.get(schema_id) if isinstance(schema_id, str) else None
        if found is not None:
            return found, None
        versions = self.versions.get(name) if isinstance(name, str) else None
        if versions is not None:
            return None, problem(
                "/schema",
                UNKNOWN_SCHEMA,
                f"{shown(schema_id, 4 * SHOWN_CHARS)} is not a known schema of {name} (known: {versions}); "
                "give the collector the schemas/ folder of the build that declared it",
            )
        return None, problem("/event", UNKNOWN_EVENT, "not an event of the catalog")

    def check(self, event: object) -> tuple[EventSchema | None, list[Diagnostic]]:
        """The event's schema (None when unknown) and every way the event departs from it."""
        if not isinstance(event, dict):
            return None, [problem("", NOT_AN_OBJECT, f"the event is {json_type(event)} {shown(event)}, not an object")]
        schema, unknown = self.lookup(event)
        if schema is None:
            assert unknown is not None
            return None, [unknown]
        return schema, schema.check(event)


def _diagnostic(file: Path, message: str, hint: str) -> Diagnostic:
    return Diagnostic(BAD_SCHEMA_FILE, Severity.ERROR, Location(file.as_posix()), message, hint)


def _not_an_event_schema(document: object) -> str | None:
    """Why a document is not an event schema written by `telemetry-gen build`, or None."""
    if not isinstance(document, dict):
        return "not a JSON object"
    name, version, schema_id = document.get("title"), document.get("x-version"), document.get("$id")
    if not isinstance(schema_id, str):
        return "no `$id`"
    if not isinstance(name, str) or not EVENT_NAME.match(name):
        return f"`title` {shown(name)} is not an event name"
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        return f"`x-version` {shown(version)} is not a version number"
    properties = document.get("properties")
    if not isinstance(properties, dict) or properties.get("schema") != {"const": schema_id}:
        return "it does not describe an event envelope"
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
        why = _not_an_event_schema(document)
        if why is None:
            assert isinstance(document, dict)
            try:
                found.append(_entry(document, schema_checks(document), current=False))
                continue
            except UnreadSchema as exc:
                why = str(exc)
        diagnostics.append(
            _diagnostic(path, f"not an event schema: {why}", "give the schemas/ folder of `telemetry-gen build`")
        )
    return found, diagnostics


def registry(catalog: Catalog, earlier: Iterable[Path] = ()) -> tuple[Registry, list[Diagnostic]]:
    """The catalog's schemas, then those of earlier builds (only `$id`s the catalog does not have)."""
    checks = catalog_checks(catalog)
    schemas = [_entry(event_schema(catalog, e), checks[e.name], current=True) for e in catalog.events]
    diagnostics: list[Diagnostic] = []
    for folder in earlier:
        found, problems = load_earlier(folder)
        schemas += found
        diagnostics += problems
    return Registry(schemas), diagnostics
