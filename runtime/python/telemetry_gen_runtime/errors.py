"""The runtime's error taxonomy, all in one place.

- `TelemetryError`: base of everything the runtime raises. In production mode nothing is
  raised into the host app: problems are counted, logged once per kind and passed to hooks.
- `ConfigurationError`: telemetry was given something unusable: an unknown consent level (to
  `configure()` or `enable()`), an app configuration (`config=`) that cannot be read or whose
  `telemetry.collect` is no level, a sink that is not a `Sink`, an app version the catalog's
  context rejects. Raised in strict mode; in production mode the problem is counted and logged
  and telemetry stays off (an unusable sink is left out).

Failures while delivering (a sink that raises, an endpoint that refuses a batch, a full queue or
spool) are never raised, in either mode: they are counted per reason in `status().dropped`.
- `EventValidationError`: an emitted event does not match its schema, or a value the app gives
  to `configure(context=...)` does not match its context field (its event is then `context`).
  Raised in strict mode (development and tests); in production the event (the context value) is
  dropped, counted per event and field, and passed to `on_violation`. Its `violations` say what
  is wrong, one `Violation` each.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Violation:
    """One way an event departs from its schema."""

    event: str  # the event's name ("app/started"), or "context" for the context
    field: str  # the path of the field: "command", "device.model", "tags[2]"; "" for the event itself
    code: str  # the JSON Schema keyword that fails: "required", "type", "enum", "maxLength", ...
    message: str

    def __str__(self) -> str:
        return f"{self.event}.{self.field}: {self.message}" if self.field else f"{self.event}: {self.message}"


class TelemetryError(Exception):
    """Base class of the runtime's errors."""


class ConfigurationError(TelemetryError):
    """Telemetry was configured with a value it cannot use."""


class EventValidationError(TelemetryError):
    """An event was emitted with data its schema rejects."""

    def __init__(self, event: str, violations: list[Violation]) -> None:
        super().__init__(f"invalid {event} event: " + "; ".join(map(str, violations)))
        self.event = event
        self.violations = violations
