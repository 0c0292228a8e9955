"""The runtime's error taxonomy, all in one place.

- `TelemetryError`: base of everything the runtime raises. In production mode nothing is
  raised into the host app: problems are counted, logged once per kind and passed to hooks.
- `ConfigurationError`: `configure()` was given something unusable (an unknown consent level,
  an app version the catalog's context rejects). Raised in strict mode; in production mode
  telemetry stays off and the problem is logged.
- `EventValidationError`: an emitted event does not match its schema. Raised in strict mode
  (development and tests); in production the event is dropped, counted per event and reason,
  and passed to `on_violation`.
"""

from __future__ import annotations


class TelemetryError(Exception):
    """Base class of the runtime's errors."""


class ConfigurationError(TelemetryError):
    """Telemetry was configured with a value it cannot use."""


class EventValidationError(TelemetryError):
    """An event was emitted with data its schema rejects."""

    def __init__(self, event: str, violations: list[str]) -> None:
        super().__init__(f"invalid {event} event: " + "; ".join(violations))
        self.event = event
        self.violations = violations
