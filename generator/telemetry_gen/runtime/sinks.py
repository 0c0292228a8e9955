"""Where validated events go. A sink receives batches of envelopes (plain JSON-ready dicts)."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, TextIO


class Sink(Protocol):
    def write(self, events: Sequence[dict[str, Any]]) -> None: ...

    def close(self) -> None: ...


def dumps(event: dict[str, Any]) -> str:
    """Compact JSON; NaN and infinities are refused, as JSON has no such numbers."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class MemorySink:
    """Keeps events in a list; for tests and for showing what would be sent."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def write(self, events: Sequence[dict[str, Any]]) -> None:
        with self._lock:
            self.events.extend(events)

    def close(self) -> None:
        pass

    def names(self) -> list[str]:
        return [event["event"] for event in self.events]


class ConsoleSink:
    """Prints each event as it would be sent, and sends nothing."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def write(self, events: Sequence[dict[str, Any]]) -> None:
        stream = self._stream or sys.stderr
        for event in events:
            stream.write(f"telemetry (not sent): {dumps(event)}\n")
        stream.flush()

    def close(self) -> None:
        pass


class JsonlSink:
    """Appends each event as one JSON line to a file, created on the first event."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def write(self, events: Sequence[dict[str, Any]]) -> None:
        lines = "".join(dumps(event) + "\n" for event in events)
        with self._lock, self.path.open("a", encoding="utf-8") as file:
            file.write(lines)

    def close(self) -> None:
        pass
