"""`telemetry-gen live-check`: a captured event stream checked against the catalog, in the spirit
of OpenTelemetry Weaver's live-check.

Input: JSON Lines of envelopes (what `JsonlSink` writes; a line may also be a whole POST body
`{"sent_at": ..., "events": [...]}`), a folder of `.jsonl` files such as a collector's data
folder (a bad row counts as the payload that arrived), or `-` for standard input.

Every departure from the catalog is a `Finding`: code, severity, event, where (input line and
JSON pointer) and message; identical findings are counted rather than repeated. Severities:
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
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from telemetry_gen_runtime import version_key

from .schemas import UNKNOWN_EVENT, EventSchema, Registry, shown
from .text import coverage_lines, share
from .wire import strict_loads

NOT_JSON = "not-json"
DEPRECATED_EVENT = "deprecated-event"
EXPIRED_EVENT = "expired-event"
DUPLICATE_ID = "duplicate-id"
EARLIER_VERSION = "earlier-version"
SEVERITIES = ("error", "warning", "info")
_SEVERITY = {DEPRECATED_EVENT: "warning", DUPLICATE_ID: "warning", EARLIER_VERSION: "info"}  # the rest: error


class InputError(Exception):
    """The input cannot be read at all (a usage problem, not a finding)."""


@dataclass
class Finding:
    code: str
    event: str  # the catalog name, or the name as it arrived (shown safely), or "" when there is none
    location: str  # a JSON pointer into the event
    message: str
    first_seen: str  # `file:line` of the first occurrence
    count: int = 1

    @property
    def severity(self) -> str:
        return _SEVERITY.get(self.code, "error")

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "event": self.event,
            "location": self.location,
            "message": self.message,
            "first_seen": self.first_seen,
            "count": self.count,
        }

    def render(self) -> str:
        where = " ".join(part for part in (self.event, self.location) if part)
        times = f" (x{self.count})" if self.count > 1 else ""
        return f"{self.first_seen}: {self.severity} {self.code}: {where + ': ' if where else ''}{self.message}{times}"


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

    def add(self, code: str, event: str, location: str, message: str, where: str) -> None:
        key = (code, event, location, message)
        if key in self.findings:
            self.findings[key].count += 1
        else:
            self.findings[key] = Finding(code, event, location, message, where)

    def check(self, where: str, event: object) -> None:
        """Check one event read at `where` (`file:line`)."""
        self.checked += 1
        schema, problems = self.registry.check(event)
        arrived = event.get("event") if isinstance(event, dict) else None
        if schema is not None or (isinstance(arrived, str) and arrived in self.registry.names):
            name = schema.name if schema else str(arrived)  # a declared name is safe to show as it is
        else:
            name = shown(arrived) if arrived is not None else ""
        for problem in problems:
            self.add(problem.code, name, problem.location.pointer, problem.message, where)
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
                self.add(EARLIER_VERSION, schema.name, "/schema", f"sent with v{schema.version}{now}", where)
            if schema.deprecated:
                self.add(DEPRECATED_EVENT, schema.name, "", f"deprecated: {schema.deprecated}", where)
            if expired := expiry_problem(schema, event):
                self.add(EXPIRED_EVENT, schema.name, "", expired, where)
                errors = True
        event_id = event.get("id") if isinstance(event, dict) else None
        if isinstance(event_id, str):
            if event_id in self._ids:
                self.add(DUPLICATE_ID, name, "/id", f"id {shown(event_id)} was already seen", where)
            self._ids.add(event_id)
        self.valid += not errors

    def not_json(self, where: str, message: str) -> None:
        self.checked += 1
        self.add(NOT_JSON, "", "", message, where)

    def counts(self) -> dict[str, int]:
        totals = Counter({severity: 0 for severity in SEVERITIES})
        for finding in self.findings.values():
            totals[finding.severity] += finding.count
        return dict(totals)

    def summary(self) -> dict[str, Any]:
        declared = sorted(self.registry.current)
        fields = sorted((name, key) for name in declared for key in self.registry.current[name].declared("data"))
        return {
            "events_checked": self.checked,
            "events_valid": self.valid,
            "findings": self.counts(),
            "coverage": {
                "declared_events": len(declared),
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
        lines = [finding.render() for finding in self.findings.values()]
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


def _records(name: str, stream: BinaryIO) -> Iterator[tuple[str, object | None, str]]:
    """(where, value, why unreadable) for every non-blank line; a batch body gives each of its events."""
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        where = f"{name}:{number}"
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
            yield where, value["payload"], ""
        elif isinstance(value, dict) and "event" not in value and isinstance(value.get("events"), list):
            for index, event in enumerate(value["events"]):
                yield f"{where}[{index}]", event, ""
        else:
            yield where, value, ""


def read(source: str) -> Iterator[tuple[str, object | None, str]]:
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


def live_check(registry: Registry, source: str) -> LiveCheck:
    result = LiveCheck(registry)
    for where, value, unreadable in read(source):
        if unreadable:
            result.not_json(where, unreadable)
        else:
            result.check(where, value)
    return result
