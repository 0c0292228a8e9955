"""The telemetry client: consent, identity, validation before sending, and delivery to sinks.

One client per generated package. Importing it starts nothing: no thread, no file, no socket.
"""

from __future__ import annotations

import datetime
import logging
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import identity
from .consent import Gate, Level, level_from_environment
from .context import context_values
from .envelope import make_envelope
from .errors import ConfigurationError, EventValidationError
from .expiry import expired_events
from .sinks import ConsoleSink, Sink
from .spec import AppInfo, EventSpec

log = logging.getLogger("telemetry")

ViolationHook = Callable[[EventValidationError], None]


@dataclass(frozen=True)
class Status:
    """What telemetry does right now, and why."""

    level: Level
    source: str  # what decided the level: "default", "explicit", an environment variable
    instance_id: str | None
    data_dir: str
    sent: int
    dropped: dict[str, int] = field(default_factory=dict)  # "<event>: <reason>" -> count

    def describe(self) -> str:
        lines = [f"telemetry: {self.level} (decided by {self.source})"]
        lines.append(f"instance id: {self.instance_id or 'none (nothing is stored before you opt in)'}")
        lines.append(f"events sent this run: {self.sent}")
        lines += [f"dropped: {reason} x{count}" for reason, count in sorted(self.dropped.items())]
        return "\n".join(lines)


class Telemetry:
    _expired: frozenset[str] = frozenset()  # events past their expiry; worked out by configure()

    def __init__(self, app: AppInfo) -> None:
        self.app = app
        self.gate = Gate()
        self._lock = threading.RLock()
        self._session_id = uuid.uuid4().hex
        self._explicit: Level | None = None
        self._level: Level = "off"
        self._source = "default"
        self._app_version: str | None = None
        self._commit: str | None = None
        self._data_dir: Path | None = None
        self._sinks: tuple[Sink, ...] = ()
        self._strict = False
        self._on_violation: ViolationHook | None = None
        self._context: dict[str, Any] | None = None
        self._sent = 0
        self._dropped: Counter[str] = Counter()
        self._logged_kinds: set[str] = set()

    # -- configuration and consent -------------------------------------------------------

    def configure(
        self,
        *,
        app_version: str,
        commit: str | None = None,
        sinks: Sequence[Sink] = (),
        consent: Level | None = None,
        strict: bool = False,
        on_violation: ViolationHook | None = None,
        data_dir: str | Path | None = None,
    ) -> None:
        """Set telemetry up once at start-up. Sends nothing, and stores nothing, until the user opts in.

        `consent` is an explicit decision (for example from your app's settings); leave it None to
        let the environment (`DO_NOT_TRACK`, `<PREFIX>_TELEMETRY`) decide, else telemetry stays off.
        `strict=True` raises `EventValidationError` on invalid events (use it in development and tests).
        """
        with self._lock:
            self._strict = strict
            if consent is not None and consent not in ("off", "errors", "all"):
                self._problem("configuration", ConfigurationError(f"unknown consent level {consent!r}"))
                consent = "off"
            self._app_version = app_version
            self._commit = commit
            self._expired = expired_events(self.app.events, datetime.date.today(), app_version)
            # <PREFIX>_TELEMETRY_DEBUG=1: print each event as it would be sent, and send nothing.
            debug = os.environ.get(f"{self.app.env_prefix}_TELEMETRY_DEBUG", "").strip().lower()
            self._sinks = (ConsoleSink(),) if debug in ("1", "true", "yes", "on") else tuple(sinks)
            self._on_violation = on_violation
            self._data_dir = Path(data_dir) if data_dir is not None else None
            self._explicit = consent
            self._context = None
            self._apply()

    def enable(self, level: Level = "all") -> None:
        """The user opts in (`all`, or `errors` for error reports only)."""
        with self._lock:
            self._explicit = level
            self._apply()

    def disable(self) -> None:
        """The user opts out: nothing more is sent, and the local instance id is deleted."""
        with self._lock:
            self._explicit = "off"
            self._apply()

    def status(self) -> Status:
        with self._lock:
            instance = identity.read_id(self.data_dir) if self._level != "off" else None
            return Status(self._level, self._source, instance, str(self.data_dir), self._sent, dict(self._dropped))

    @property
    def data_dir(self) -> Path:
        return self._data_dir or identity.user_data_dir(self.app.name)

    def _apply(self) -> None:
        if self._explicit is not None:
            level, source = self._explicit, "explicit"
        else:
            level, source = level_from_environment(os.environ, self.app.env_prefix) or ("off", "default")
        if self._app_version is None:
            level = "off"  # not configured yet: nothing can be sent
        self._level, self._source = level, source
        if level == "off":
            self._context = None
            if self._explicit == "off":
                identity.delete_id(self.data_dir)
        elif self._context is None:
            self._context = self._build_context()
            if self._context is None:
                level = "off"
        self.gate.set(level)

    def _build_context(self) -> dict[str, Any] | None:
        assert self._app_version is not None
        try:
            instance_id = identity.ensure_id(self.data_dir)
        except OSError as exc:
            log.warning("telemetry stays off: cannot store the instance id in %s: %s", self.data_dir, exc)
            return None
        values = context_values(
            self.app.context,
            app_version=self._app_version,
            commit=self._commit,
            instance_id=instance_id,
            session_id=self._session_id,
        )
        problems: list[str] = []
        self.app.check_context(values, problems)
        if problems:
            self._problem("configuration", ConfigurationError("context rejected: " + "; ".join(problems)))
            return None
        return values

    # -- the emit path -------------------------------------------------------------------

    def emit(self, spec: EventSpec, data: dict[str, Any]) -> None:
        """Validate and deliver one event; emitters call this only when the gate is open."""
        if spec.name in self._expired:  # an expired event's emitter is a no-op
            self._count(f"{spec.name}: expired")
            return
        violations: list[str] = []
        try:
            spec.check_data(data, violations)
            if not violations:
                self._deliver(spec, data, time.time())
                return
        except Exception as exc:  # telemetry never breaks the host app
            self._count(f"{spec.name}: internal error")
            self._log_once(f"internal:{type(exc).__name__}", "telemetry failed on %s: %r", spec.name, exc)
            return
        self._violation(EventValidationError(spec.name, violations))

    def _deliver(self, spec: EventSpec, data: dict[str, Any], at: float) -> None:
        with self._lock:
            context = self._context
            if context is None:
                return
            envelope = make_envelope(spec, context, data, at)
            for sink in self._sinks:
                try:
                    sink.write([envelope])
                except Exception as exc:
                    self._count(f"{spec.name}: sink {type(sink).__name__} failed")
                    self._log_once(f"sink:{type(sink).__name__}", "telemetry sink %s failed: %r", sink, exc)
            self._sent += 1

    def _violation(self, error: EventValidationError) -> None:
        if self._strict:
            raise error
        for violation in error.violations:
            self._count(violation.split(":", 1)[0] + ": invalid")
        self._log_once(f"invalid:{error.event}", "telemetry dropped an invalid event: %s", error)
        if self._on_violation is not None:
            try:
                self._on_violation(error)
            except Exception as exc:
                self._log_once("hook", "telemetry on_violation hook failed: %r", exc)

    def _problem(self, kind: str, error: ConfigurationError) -> None:
        if self._strict:
            raise error
        self._count(kind)
        self._log_once(kind, "telemetry: %s", error)

    def _count(self, reason: str) -> None:
        with self._lock:
            self._dropped[reason] += 1

    def _log_once(self, kind: str, message: str, *args: object) -> None:
        if kind not in self._logged_kinds:
            self._logged_kinds.add(kind)
            log.warning(message, *args)
