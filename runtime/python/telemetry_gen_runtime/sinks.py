"""Where validated events go, and what a sink learns when the user opts in.

A sink receives batches of envelopes (plain JSON-ready dicts). Its life cycle, driven by the
client: `start(session)` each time telemetry is switched on (or the level changes), `write()`
with batches, `flush(timeout)` when the app flushes and at exit, `stop(forget=...)` when the user
opts out (`forget=True`: delete anything the sink stored) or when the process exits
(`forget=False`). Sinks whose `background` is true are written on the delivery thread; the others
on the caller's thread, as the event is emitted.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TextIO

from .consent import Level
from .spec import AppInfo

# Counts events a sink had to drop, by reason (shown by `status()`): count("http 400", 3).
DropCounter = Callable[[str, int], None]


@dataclass(frozen=True)
class Session:
    """What a sink learns once the user has opted in: enough to deliver, nothing about the person."""

    app: AppInfo
    app_version: str
    environment: str
    level: Level  # "errors" or "all"; sinks are never started at "off"
    instance_id: str
    session_id: str
    data_dir: Path  # the app's user-data folder; a sink may keep files below it (created on demand)
    count_dropped: DropCounter


def dumps(event: dict[str, Any]) -> str:
    """Compact JSON; NaN and infinities are refused, as JSON has no such numbers."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class Sink:
    """Base of every sink: override `write`, and the life-cycle methods a sink needs."""

    background: ClassVar[bool] = True

    def start(self, session: Session) -> None:
        """Telemetry was switched on, or its level changed: prepare to deliver for `session`.

        A sink started before is always stopped first (`forget=False`), so it starts afresh."""

    def write(self, events: Sequence[dict[str, Any]]) -> None:
        raise NotImplementedError

    def flush(self, timeout: float) -> bool:
        """Wait, at most `timeout` seconds, until the sink has tried to send what `write` gave it;
        True if it has. Only a sink that sends on a thread of its own has anything to wait for."""
        return True

    def stop(self, *, forget: bool) -> None:
        """Telemetry was switched off (`forget=True`: delete what was stored) or the process exits."""

    def send_report(self, envelope: dict[str, Any], timeout: float) -> bool:
        """Send one report the user chose to send, now, within `timeout` seconds, keeping nothing
        the runtime stores; True when it was sent. Called whatever the consent level, so maybe
        without `start()`: a sink whose `write` needs it overrides this."""
        self.write([envelope])
        return True


class MemorySink(Sink):
    """Keeps events in a list, as they are emitted; for tests and for showing what would be sent."""

    background = False

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def write(self, events: Sequence[dict[str, Any]]) -> None:
        with self._lock:
            self.events.extend(events)

    def names(self) -> list[str]:
        return [event["event"] for event in self.events]

    def clear(self) -> None:
        with self._lock:
            self.events.clear()


class ConsoleSink(Sink):
    """Prints each event as it would be sent, as it is emitted, and sends nothing."""

    background = False

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def write(self, events: Sequence[dict[str, Any]]) -> None:
        stream = self._stream or sys.stderr
        for event in events:
            stream.write(f"telemetry (not sent): {dumps(event)}\n")
        stream.flush()


class JsonlSink(Sink):
    """Appends each event as one JSON line to a file (created on the first event), off the caller's thread."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def write(self, events: Sequence[dict[str, Any]]) -> None:
        lines = "".join(dumps(event) + "\n" for event in events)
        with self.path.open("a", encoding="utf-8") as file:
            file.write(lines)
