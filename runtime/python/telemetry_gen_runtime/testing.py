"""Capturing the events an app emits, for the app's own tests (the generated `testing` module
wraps this in the `telemetry_events` pytest fixture).

While capturing, every event goes to memory only, validated strictly (an invalid event raises
`EventValidationError` in the code under test), whatever the app passes to `configure()`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .client import Status, Telemetry
from .consent import Level
from .sinks import MemorySink


class CapturedEvents:
    """The events emitted so far, as they would have been sent."""

    def __init__(self, client: Telemetry, sink: MemorySink) -> None:
        self._client = client
        self._sink = sink

    @property
    def events(self) -> list[dict[str, Any]]:
        return list(self._sink.events)

    def names(self) -> list[str]:
        return self._sink.names()

    def data(self, name: str) -> list[dict[str, Any]]:
        """The fields of each emitted event called `name`, in order."""
        return [event["data"] for event in self._sink.events if event["event"] == name]

    def clear(self) -> None:
        self._sink.clear()

    def status(self) -> Status:
        return self._client.status()


@contextmanager
def capture(client: Telemetry, data_dir: Path, consent: Level = "all") -> Iterator[CapturedEvents]:
    sink = MemorySink()
    client.pin_for_tests([sink], data_dir, consent)
    try:
        yield CapturedEvents(client, sink)
    finally:
        client.unpin()
