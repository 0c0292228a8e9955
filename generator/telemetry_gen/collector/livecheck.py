"""`telemetry-gen live-check`: a captured event stream checked against the catalog, in the spirit
of OpenTelemetry Weaver's live-check.

Input: JSON Lines of envelopes (what `JsonlSink` writes; a line may also be a whole POST body
`{"sent_at": ..., "events": [...]}`), a folder of `.jsonl` files such as a collector's data
folder (a bad row counts as the payload that arrived), `-` for standard input, or a store
(`--store`: its events in the store's order, then its bad rows' payloads).

Every departure from the catalog is a `Diagnostic`: code, severity, location (the input line, and
a JSON pointer into what that line holds: `capture.jsonl:3#/data/tags/2`) and message, about an
event; identical ones are one `Finding`, counted rather than repeated. Severities:
`error` the event breaks the catalog (unknown event or field, type mismatch, enum value not
declared, expired event, ...); `warning` allowed but wrong (a deprecated event, an id seen twice);
`info` worth knowing (an event sent with an earlier version, known through `--schemas`).
The summary gives coverage: declared events seen and never seen, unknown events, declared fields
seen.
"""

from __future__ import annotations

import datetime
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

from telemetry_gen_runtime import version_key

from ..diagnostics import Diagnostic, Location, Severity
from .schemas import UNKNOWN_EVENT, EventSchema, Registry, shown
from .store import Store
from .text import coverage_lines, share
from .wire import strict_loads

NOT_JSON = "not-json"
DEPRECATED_EVENT = "deprecated-event"
EXPIRED_EVENT = "expired-event"
DUPLICATE_ID = "duplicate-id"
EARLIER_VERSION = "earlier-version"
_SEVERITY = {DEPRECATED_EVENT: Severity.WARNING, DUPLICATE_ID: Severity.WARNING, EARLIER_VERSION: Severity.INFO}


class InputError(Exception):
    """The input cannot be read at all (a usage problem, not a finding)."""


def _diagnostic(code: str, pointer: str, message: str) -> Diagnostic:
    """A departure live-check finds itself, at `pointer` into the event; its code decides its severity."""
    return Diagnostic(code, _SEVERITY.get(code, Severity.ERROR), Location(pointer=pointer), message)


@dataclass
class Finding:
    """One diagnostic of the stream, counted: the same code, event, place in the event and message
    are one finding, located where they first occurred."""

    event: str  # the catalog name, or the name as it arrived (shown safely), or "" when there is none
    pointer: str  # into the event, wherever the event is in its line
    diagnostic: Diagnostic
    count: int = 1

    def printed(self) -> Diagnostic:
        """The diagnostic as printed: the event before the message, and the count after it."""
        about = f"{self.event}: " if self.event else ""
        times = f" (x{self.count})" if self.count > 1 else ""
        return replace(self.diagnostic, message=about + self.diagnostic.message + times)

    def as_json(self) -> dict[str, Any]:
        found = self.diagnostic
        first_seen = replace(found.location, pointer=found.location.pointer.removesuffix(self.pointer))
        return {
            "code": found.code,
            "severity": found.severity.value,
            "event": self.event,
            "location": self.pointer,
            "message": found.message,
            "first_seen": str(first_seen),
            "count": self.count,
        }


def expiry_problem(schema: EventSchema, event: dict[str, Any]) -> str | None:
    """Why an event was sent after its expiry (a date, or an app version), or None."""
    expiry = schema.expiry
    if expiry.app_version is not None:
        context = event.get("context")
        sent_by = context.get("app_version") if isinstance(context, dict) else None
        # The runtime's own rule (`4` is `4.0`, `v4.1` is `4.1`), so both agree on what has expired.
        if isinstance(sent_by, str) and version_key(sent_by) >= expiry.app_key:
            return f"sent by app version {shown(sent_by)}; the catalog retires it from version {expiry.app_version}"
        return None
    if expiry.last_day is None:
        return None
    try:
        sent_on = datetime.date.fromisoformat(str(event.get("timestamp"))[:10])
    except ValueError:
        return None  # a timestamp the schema check reports
    return f"sent on {sent_on}, after it expired on {expiry.last_day}" if sent_on > expiry.last_day else None


@dataclass
class LiveCheck:
    """Accumulates findings and coverage over a stream of events."""

    registry: Registry
    checked: int = 0
    valid: int = 0
    findings: dict[tuple[str, str, str, str], Finding] = field(default_factory=dict)
    seen: Counter[str] = field(default_factory=Counter)
    unknown: Counter[str] = field(default_factory=Counter)
    fields_seen: set[tuple[str, str]] = field(default_factory=set)
    _ids: set[str] = field(default_factory=set)

    def add(self, found: Diagnostic, event: str, at: Location) -> None:
        """Count `found`, located by a pointer into the event `at` (a line, and the event's place in it)."""
        pointer = found.location.pointer
        key = (found.code, event, pointer, found.message)
        if key in self.findings:
            self.findings[key].count += 1
        else:
            located = replace(found, location=replace(at, pointer=at.pointer + pointer))
            self.findings[key] = Finding(event, pointer, located)

    def check(self, at: Location, event: object) -> None:
        """Check one event read `at` a line of the input."""
        self.checked += 1
        schema, problems = self.registry.check(event)
        arrived = event.get("event") if isinstance(event, dict) else None
        if schema is not None or (isinstance(arrived, str) and arrived in self.registry.names):
            name = schema.name if schema else str(arrived)  # a declared name is safe to show as it is
        else:
            name = shown(arrived) if arrived is not None else ""
        for problem in problems:
            self.add(problem, name, at)
            if problem.code == UNKNOWN_EVENT:
                self.unknown[shown(arrived)] += 1
        errors = bool(problems)
        if schema is not None and isinstance(event, dict):
            self.seen[schema.name] += 1
            if schema.current:
                data = event.get("data")
                declared = schema.declared("data")
                if isinstance(data, dict):
                    self.fields_seen.update((schema.name, key) for key in data if key in declared)
            else:
                current = self.registry.current.get(schema.name)
                now = f"; the catalog has v{current.version}" if current else ""
                self.add(_diagnostic(EARLIER_VERSION, "/schema", f"sent with v{schema.version}{now}"), schema.name, at)
            if schema.deprecated:
                self.add(_diagnostic(DEPRECATED_EVENT, "", f"deprecated: {schema.deprecated}"), schema.name, at)
            if expired := expiry_problem(schema, event):
                self.add(_diagnostic(EXPIRED_EVENT, "", expired), schema.name, at)
                errors = True
        event_id = event.get("id") if isinstance(event, dict) else None
        if isinstance(event_id, str):
            if event_id in self._ids:
                self.add(_diagnostic(DUPLICATE_ID, "/id", f"id {shown(event_id)} was already seen"), name, at)
            self._ids.add(event_id)
        self.valid += not errors

    def not_json(self, at: Location, message: str) -> None:
        self.checked += 1
        self.add(_diagnostic(NOT_JSON, "", message), "", at)

    def counts(self) -> dict[str, int]:
        totals = Counter({severity.value: 0 for severity in Severity})
        for finding in self.findings.values():
            totals[finding.diagnostic.severity.value] += finding.count
        return dict(totals)

    def coverage_percent(self) -> float:
        """The share of declared events seen at least once, in percent (100 for a catalog of none)."""
        declared = self.registry.current
        seen = sum(1 for name in declared if name in self.seen)
        return 100.0 * seen / len(declared) if declared else 100.0

    def summary(self) -> dict[str, Any]:
        declared = sorted(self.registry.current)
        fields = sorted((name, key) for name in declared for key in self.registry.current[name].declared("data"))
        domains: dict[str, dict[str, int]] = {}
        for name in declared:
            counts = domains.setdefault(name.split("/", 1)[0], {"declared_events": 0, "seen": 0})
            counts["declared_events"] += 1
            counts["seen"] += name in self.seen
        return {
            "events_checked": self.checked,
            "events_valid": self.valid,
            "findings": self.counts(),
            "coverage": {
                "declared_events": len(declared),
                "percent": round(self.coverage_percent(), 1),
                "domains": {
                    domain: {**counts, "percent": round(100.0 * counts["seen"] / counts["declared_events"], 1)}
                    for domain, counts in domains.items()
                },
                "seen": dict(sorted(self.seen.items())),
                "never_seen": [name for name in declared if name not in self.seen],
                "unknown_events": dict(sorted(self.unknown.items())),
                "declared_fields": len(fields),
                "fields_seen": len(self.fields_seen),
                "fields_never_seen": [f"{name}.{key}" for name, key in fields if (name, key) not in self.fields_seen],
            },
        }

    def as_json(self) -> dict[str, Any]:
        return {"findings": [f.as_json() for f in self.findings.values()], "summary": self.summary()}

    def text(self) -> str:
        summary = self.summary()
        coverage = summary["coverage"]
        lines = [finding.printed().render() for finding in self.findings.values()]
        counts = ", ".join(f"{count} {severity}" for severity, count in summary["findings"].items())
        lines.append(f"{self.checked} events checked, {self.valid} valid; findings: {counts}")
        declared, never = coverage["declared_events"], coverage["never_seen"]
        seen, fields, fields_seen = declared - len(never), coverage["declared_fields"], coverage["fields_seen"]
        lines.append(
            f"coverage: {seen} of {declared} declared events seen{share(seen, declared)}, "
            f"{fields_seen} of {fields} declared fields seen{share(fields_seen, fields)}"
        )
        lines += coverage_lines(never, coverage["unknown_events"], "unknown events")
        return "\n".join(lines) + "\n"

    def failed(self, *, fatal_warnings: bool = False) -> bool:
        counts = self.counts()
        return counts["error"] > 0 or (fatal_warnings and counts["warning"] > 0)


def _is_bad_row(value: object) -> bool:
    return isinstance(value, dict) and {"received_at", "errors", "payload"} <= value.keys() and "event" not in value


def _records(name: str, stream: BinaryIO) -> Iterator[tuple[Location, object | None, str]]:
    """(where, value, why unreadable) for every non-blank line: the line, and the value's place in it
    (a JSON pointer), for a bad row's payload and for each event of a batch body."""
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        where = Location(name, number)
        try:
            value = strict_loads(line.decode("utf-8"))
        except RecursionError:
            yield where, None, "nested too deeply to read"
            continue
        except ValueError as exc:  # includes text that is not UTF-8
            yield where, None, f"not a JSON line ({shown(str(exc))})"
            continue
        if _is_bad_row(value):
            assert isinstance(value, dict)
            yield replace(where, pointer="/payload"), value["payload"], ""
        elif isinstance(value, dict) and "event" not in value and isinstance(value.get("events"), list):
            for index, event in enumerate(value["events"]):
                yield replace(where, pointer=f"/events/{index}"), event, ""
        else:
            yield where, value, ""


def read(source: str) -> Iterator[tuple[Location, object | None, str]]:
    """Every record of a file, of the `.jsonl` files below a folder (sorted), or of standard input (`-`)."""
    if source == "-":
        yield from _records("<stdin>", sys.stdin.buffer)
        return
    path = Path(source)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.jsonl") if p.is_file() and not p.name.startswith("."))
        if not files:
            raise InputError(f"{source}: no .jsonl files in this folder")
    elif path.is_file():
        files = [path]
    else:
        raise InputError(f"{source}: no such file or folder")
    for file in files:
        try:
            with file.open("rb") as stream:
                yield from _records(file.as_posix(), stream)
        except OSError as exc:
            raise InputError(f"{file.as_posix()}: cannot read: {exc.strerror or exc}") from None


def read_store(store: Store) -> Iterator[tuple[Location, object | None, str]]:
    """Every event a store holds, located by its id (`events/<id>`), then every bad row's payload,
    located by its place among them (`bad_rows:3#/payload`); in the same order from either store."""
    for event in store.events():
        yield Location(f"events/{shown(event.get('id'))}"), event, ""
    for number, row in enumerate(store.bad_rows(), 1):
        yield Location("bad_rows", number, pointer="/payload"), row.get("payload"), ""


def live_check(registry: Registry, records: Iterable[tuple[Location, object | None, str]]) -> LiveCheck:
    """Check every record of `read` or `read_store`."""
    result = LiveCheck(registry)
    for where, value, unreadable in records:
        if unreadable:
            result.not_json(where, unreadable)
        else:
            result.check(where, value)
    return result
