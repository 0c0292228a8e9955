"""The telemetry client: consent and its lifecycle, identity, and the one path of an event: `emit`
checks expiry and validity, then hands the event to the router of the sinks (`routing.py`).

One client per generated package. Importing it, and configuring it, starts nothing: no thread,
no file, no socket. Those come only once the user has opted in, and go when they opt out.
"""

from __future__ import annotations

import atexit
import datetime
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

from . import prompt, storage
from .checks import copied
from .consent import (
    AppConfig,
    Gate,
    Level,
    level_from_config,
    level_from_environment,
    parse_level,
    save_decision,
    saved_decision,
    switched_on,
)
from .context import context_values
from .delivery import Intake, Pending
from .envelope import make_envelope
from .errors import ConfigurationError, EventValidationError, Violation
from .expiry import expired_events
from .forks import reset_after_fork
from .identity import ensure_id
from .reports import Report
from .routing import Router, Tally
from .sinks import ConsoleSink, Session, Sink
from .spec import AppInfo, Check, EventSpec

ViolationHook = Callable[[EventValidationError], None]

# Sources of a decision that are the user's own, made in this process.
EXPLICIT = "explicit"
ERROR_PROMPT_ONCE = "error-report prompt (this run only)"
CONFIGURATION_ERROR = "configuration error (see the log)"


@dataclass(frozen=True)
class Status:
    """What telemetry does right now, and why."""

    level: Level
    source: str  # what decided the level: "default", "explicit", an environment variable, ...
    instance_id: str | None
    data_dir: str
    accepted: int  # events validated and handed to delivery in this process
    queued: int  # of those, waiting for the delivery thread
    dropped: dict[str, int] = field(default_factory=dict)  # "<event or stage>: <reason>" -> count

    def describe(self) -> str:
        lines = [f"telemetry: {self.level} (decided by {self.source})"]
        lines.append(f"instance id: {self.instance_id or 'none (nothing is stored while telemetry is off)'}")
        lines.append(f"data folder: {self.data_dir}")
        lines.append(f"events accepted this run: {self.accepted} ({self.queued} waiting to be sent)")
        lines += [f"dropped: {reason} x{count}" for reason, count in sorted(self.dropped.items())]
        return "\n".join(lines)


@dataclass(frozen=True)
class _Settings:
    """What `configure()` was given."""

    app_version: str
    commit: str | None
    environment: str
    sinks: tuple[Sink, ...]
    config_level: Level | None
    strict: bool
    on_violation: ViolationHook | None
    data_dir: Path | None
    flush_timeout: float
    queue_size: int
    batch_size: int
    batch_interval: float
    app_context: dict[str, Any]  # the checked values of the context fields the app gives


@dataclass(frozen=True)
class _Override:
    """Settings a test harness pins, whatever the code under test passes to `configure()`."""

    sinks: tuple[Sink, ...]
    data_dir: Path
    consent: Level


class Telemetry:
    def __init__(self, app: AppInfo) -> None:
        self.app = app
        self.gate = Gate()
        self._lock = threading.RLock()
        self._session_id = uuid.uuid4().hex
        self._settings: _Settings | None = None
        self._override: _Override | None = None
        self._explicit: tuple[Level, str] | None = None  # (level, source) decided in this process
        self._level: Level = "off"
        self._source = "not configured"  # as `_decision` says until configure()
        self._session: Session | None = None
        self._router: Router | None = None  # while telemetry is on
        # Where `emit` puts the events it checked: the router's intake while telemetry is on.
        self._intake: Intake = _NOWHERE
        self._exit_hook_registered = False
        self._expired: frozenset[str] = frozenset()  # events past their expiry; worked out by configure()
        self._opt_out_record = next((spec for spec in app.events if spec.category == "opt-out"), None)
        self._tally = Tally()
        reset_after_fork(self)

    # -- configuration and consent -------------------------------------------------------

    def configure(
        self,
        *,
        app_version: str,
        commit: str | None = None,
        environment: str = "production",
        sinks: Sequence[Sink] = (),
        consent: Level | None = None,
        config: AppConfig | None = None,
        strict: bool = False,
        on_violation: ViolationHook | None = None,
        data_dir: str | Path | None = None,
        flush_timeout: float = 2.0,
        queue_size: int = 10_000,
        batch_size: int = 100,
        batch_interval: float = 1.0,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        """Set telemetry up once at start-up. Sends nothing, and stores nothing, until the user opts in.

        `consent` is a decision your app made for this run (for example from its settings screen);
        `config` is your app's configuration (a parsed mapping, or the path of its YAML, JSON or
        TOML file) whose `telemetry: collect:` switches telemetry; without either, the environment
        and the user's saved decision decide, else telemetry stays off.
        `strict=True` raises `EventValidationError` on invalid events (use it in development and
        tests). At exit, events still queued get at most `flush_timeout` seconds to leave.
        `context` gives the values of the catalog's context fields of source `app`, sent with every
        event; each is checked here, like an event (a value its field rejects is left out).
        """
        with self._lock:
            self._stop_delivery(forget=False)
            config_level = None
            explicit: tuple[Level, str] | None = (consent, EXPLICIT) if consent is not None else None
            try:
                config_level = level_from_config(config)
                if consent is not None and parse_level(consent) != consent:
                    raise ConfigurationError(f"unknown consent level {consent!r}; use 'off', 'errors' or 'all'")
            except ConfigurationError as error:
                self._problem("configuration", error, strict)
                explicit = ("off", CONFIGURATION_ERROR)
            for sink in sinks:
                if not isinstance(sink, Sink):
                    error = ConfigurationError(f"{sink!r} is not a Sink; subclass Sink and override write()")
                    self._problem("configuration", error, strict)
            sinks = [sink for sink in sinks if isinstance(sink, Sink)]
            self._settings = _Settings(
                app_version=app_version,
                commit=commit,
                environment=environment,
                sinks=tuple(sinks),
                config_level=config_level,
                strict=strict,
                on_violation=on_violation,
                data_dir=Path(data_dir) if data_dir is not None else None,
                flush_timeout=flush_timeout,
                queue_size=queue_size,
                batch_size=batch_size,
                batch_interval=batch_interval,
                app_context={},
            )
            # Checked once the settings hold this call's `strict` and `on_violation`.
            self._settings = replace(self._settings, app_context=self._accepted_app_context(context or {}))
            self._expired = expired_events(self.app.events, datetime.date.today(), app_version)
            self._explicit = explicit
            self._apply()

    def _accepted_app_context(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """The app's context values that its check accepts. A rejected one is reported as an
        invalid event is (raised in strict mode; else counted, logged once and passed to
        `on_violation`) and left out."""
        values = {key: copied(value) for key, value in given.items()}
        check = self.app.check_app_context
        violations = check(values) if check is not None else []
        if violations:
            self._violation(EventValidationError("context", violations))
            # The field each violation's path starts with (`tags` of `tags[2]`).
            rejected = {re.split(r"[.\[]", violation.field, maxsplit=1)[0] for violation in violations}
            values = {key: value for key, value in values.items() if key not in rejected}
        return values

    def enable(self, level: Level = "all") -> None:
        """The user opts in (`all`, or `errors` for error reports only); the choice is saved."""
        if parse_level(level) != level or level == "off":
            error = ConfigurationError(f"enable() takes 'all' or 'errors', not {level!r}")
            self._problem("configuration", error, self.strict)
            return
        self._decide(level)

    def disable(self) -> None:
        """The user opts out: nothing more is sent, queued and stored events are deleted with the
        instance id, and the choice is saved. When telemetry was on, the catalog's opt-out record
        (if it declares one) is sent first, alone, within `flush_timeout`."""
        self._decide("off")

    def _decide(self, level: Level) -> None:
        with self._lock:
            self._explicit = (level, EXPLICIT)
            try:
                save_decision(self.data_dir, level)
            except OSError as exc:
                self._log_once("save", "telemetry could not save the decision in %s: %s", self.data_dir, exc)
            if level == "off":
                self._send_opt_out_record()
                self._stop_delivery(forget=True)
                storage.forget(self.data_dir)
            self._apply()

    def _send_opt_out_record(self) -> None:
        """Record that this installation opted out, once: only while telemetry is on (so on the
        change from `errors` or `all` to `off`, never in a later run), with the instance id that
        is about to be deleted, and never while DO_NOT_TRACK asks that nothing be sent."""
        router, spec, settings = self._router, self._opt_out_record, self._settings
        if router is None or spec is None or settings is None or switched_on(os.environ, "DO_NOT_TRACK"):
            return
        router.drop_queued()  # the record goes alone: the user no longer wants the rest sent
        self.emit(spec, dict(spec.fixed_data or {}))
        router.flush(settings.flush_timeout)

    def status(self) -> Status:
        with self._lock:
            instance = self._session.instance_id if self._session is not None else None
            router = self._router
            queued = router.queued() if router is not None else 0
            accepted = router.accepted() if router is not None else 0
            with self._tally.lock:
                accepted, dropped = accepted + self._tally.accepted, dict(self._tally.dropped)
            return Status(self._level, self._source, instance, str(self.data_dir), accepted, queued, dropped)

    @property
    def data_dir(self) -> Path:
        if self._override is not None:
            return self._override.data_dir
        configured = self._settings.data_dir if self._settings is not None else None
        return configured or storage.user_data_dir(self.app.name)

    def _decision(self) -> tuple[Level, str]:
        """The level in force and what decided it (see `consent` for the precedence)."""
        settings = self._settings
        if settings is None:
            return "off", "not configured"
        if self._explicit is not None:
            return self._explicit
        if self._override is None:  # a test harness pins the environment and the configuration
            from_environment = level_from_environment(os.environ, self.app.env_prefix)
            if from_environment is not None:
                return from_environment
            if settings.config_level is not None:
                return settings.config_level, "app configuration"
        saved = saved_decision(self.data_dir)
        if saved is not None:
            return saved, "saved decision"
        return ("off", "default") if self._override is None else (self._override.consent, "test harness")

    def _apply(self) -> None:
        """Bring the gate, identity and sinks in line with the decision in force."""
        level, source = self._decision()
        if level != "off" and (self._session is None or self._session.level != level):
            level = self._start_delivery(level, source)
        elif level == "off":
            self._stop_delivery(forget=False)
        self._level, self._source = level, source
        self.gate.set(level)

    def _start_delivery(self, level: Level, source: str) -> Level:
        """Identity, context and sinks for `level`; returns the level reached ("off" on failure)."""
        settings = self._settings
        assert settings is not None
        self.gate.set("off")
        self._stop_delivery(forget=False)
        try:
            # A one-off error report must leave nothing behind: its id is not stored.
            instance_id = uuid.uuid4().hex if source == ERROR_PROMPT_ONCE else ensure_id(self.data_dir)
        except OSError as exc:
            self._log_once(
                "identity", "telemetry stays off: cannot store the instance id in %s: %s", self.data_dir, exc
            )
            return "off"
        context = context_values(
            self.app.context,
            app_version=settings.app_version,
            commit=settings.commit,
            instance_id=instance_id,
            session_id=self._session_id,
            app_context=settings.app_context,
        )
        if not self._context_accepted(self.app.check_context, context, settings.strict):
            return "off"
        session = self._new_session(settings, level, instance_id)
        self._router = Router(
            self._sinks(settings),
            session,
            context,
            self._tally,
            queue_size=settings.queue_size,
            batch_size=settings.batch_size,
            batch_interval=settings.batch_interval,
        )
        self._session, self._intake = session, self._router.intake
        if not self._exit_hook_registered:
            atexit.register(self._at_exit)
            self._exit_hook_registered = True
        return level

    def _sinks(self, settings: _Settings) -> tuple[Sink, ...]:
        if self._override is not None:
            return self._override.sinks
        # <PREFIX>_TELEMETRY_DEBUG=1: print each event as it would be sent, and send nothing.
        debug = switched_on(os.environ, f"{self.app.env_prefix}_TELEMETRY_DEBUG")
        return (ConsoleSink(),) if debug else settings.sinks

    def _stop_delivery(self, *, forget: bool) -> None:
        """Close the gate, drop the queue (or flush it first, when not forgetting, and count what
        is left) and stop the sinks."""
        router = self._router
        if router is None:
            return
        self.gate.set("off")
        self._session, self._router, self._intake = None, None, _NOWHERE
        flush_timeout = self._settings.flush_timeout if self._settings is not None else None
        router.stop(forget=forget, flush_timeout=flush_timeout)

    def flush(self, timeout: float = 2.0) -> bool:
        """Wait until queued events have been handed to the sinks and the sinks have tried to send
        them, at most `timeout` seconds; True if so."""
        router = self._router
        return router is None or router.flush(timeout)

    def _at_exit(self) -> None:
        try:
            with self._lock:
                self._stop_delivery(forget=False)
        except Exception as exc:  # the app's exit must never fail because of telemetry
            self._log_once("exit", "telemetry failed at exit: %r", exc)

    def after_fork_in_child(self) -> None:
        self._lock = threading.RLock()
        self._tally.after_fork_in_child()
        self._session_id = uuid.uuid4().hex  # a new process is a new session
        names = [c.name for c in self.app.context if c.source == "session_id"]
        if self._router is not None:
            self._router.after_fork_in_child({**self._router.context, **dict.fromkeys(names, self._session_id)})

    # -- prompts and error reports -------------------------------------------------------

    def ask_consent(self, *, stdin: TextIO | None = None, stdout: TextIO | None = None) -> Level | None:
        """Ask the user once whether to share telemetry, and save the answer.

        Asks only when nothing has decided yet, on a terminal, outside CI; returns the level
        chosen, or None when it did not ask or got no answer (no answer is no consent).
        """
        with self._lock:
            if self._settings is None or self._decision()[1] != "default":
                return None
        level = prompt.ask_consent(self.app, stdin=stdin, stdout=stdout)
        if level is not None:
            self._decide(level)
        return level

    def report_error(
        self,
        error: BaseException,
        *,
        ask: bool = True,
        user_initiated: bool = False,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
    ) -> bool:
        """Send an error report for `error` if the user allows it; True when it may be sent.

        At `errors` or `all` it is sent. Otherwise, when nothing has decided yet and `ask` is
        true, the user is asked on a terminal: yes (this report), no, always (saved: `errors`)
        or never (saved: `off`). The report goes to every sink that takes exceptions (Sentry);
        emit your catalog's error event as well when this returns True.

        `user_initiated=True` is a bug report the user chose to send (call it only on their
        explicit action): it is sent now whatever the level, without asking, tagged
        `report: user-initiated`, and below `all` without the instance id; nothing is stored.
        True when a sink sent it.
        """
        if user_initiated:
            return self._send_error_report(error)
        with self._lock:
            level, source = self._decision()
        if level == "off":
            if not ask or source != "default":
                return False
            answer = prompt.ask_error_report(self.app, stdin=stdin, stdout=stdout)
            if answer in (None, "no"):
                return False
            if answer == "yes":
                with self._lock:
                    self._explicit = ("errors", ERROR_PROMPT_ONCE)
                    self._apply()
            else:
                self._decide("errors" if answer == "always" else "off")
                if answer == "never":
                    return False
        for sink in self._router.sinks if self._router is not None else ():
            capture = getattr(sink, "capture_exception", None)
            if callable(capture):
                try:
                    capture(error)
                except Exception as exc:
                    self._log_once(f"capture:{type(sink).__name__}", "telemetry sink %s failed: %r", sink, exc)
        return self.gate.errors

    # -- reports the user chooses to send ------------------------------------------------

    def report(self, spec: EventSpec, data: dict[str, Any]) -> Report:
        """A report the user chose to send (a feedback event), checked and ready; the generated
        `feedback` module calls this. Whatever the consent level: below `all` its context has
        neither the instance id nor the session id, and nothing is stored."""
        kept = _Kept()
        self.emit(spec, data, kept)
        envelope = None
        if kept.event is not None and (context := self._report_context()) is not None:
            envelope = make_envelope(spec, context, data, kept.event[2])
        return Report(spec.name, envelope, self._send_report)

    def _report_context(self) -> dict[str, Any] | None:
        """The context of a report made now; None when it cannot be made (counted and logged)."""
        with self._lock:
            settings, router = self._settings, self._router
            if settings is None:
                self._count("report: telemetry not configured", 1)
                self._log_once("report", "telemetry: a report needs configure() first; it was not made")
                return None
            if router is not None and self._level == "all":
                return dict(router.context)
        identity = {spec.name for spec in self.app.context if spec.source in ("instance_id", "session_id")}
        context = context_values(
            tuple(spec for spec in self.app.context if spec.name not in identity),
            app_version=settings.app_version,
            commit=settings.commit,
            instance_id="",
            session_id="",
            app_context=settings.app_context,
        )
        check = self.app.check_report_context
        return context if check is None or self._context_accepted(check, context, self.strict) else None

    def _context_accepted(self, check: Check, context: dict[str, Any], strict: bool) -> bool:
        """Whether `check` accepts the context; if not, the problem is raised in strict mode, else counted."""
        problems = check(context)
        if problems:
            self._problem(
                "configuration", ConfigurationError("context rejected: " + "; ".join(map(str, problems))), strict
            )
        return not problems

    def _new_session(self, settings: _Settings, level: Level, instance_id: str) -> Session:
        return Session(
            app=self.app,
            app_version=settings.app_version,
            environment=settings.environment,
            level=level,
            instance_id=instance_id,
            session_id=self._session_id,
            data_dir=self.data_dir,
            count_dropped=self._tally.count_undelivered,
        )

    def _send_report(self, envelope: dict[str, Any]) -> bool:
        """Hand a report to every sink, within `flush_timeout` in all; True when one sent it."""
        settings = self._settings
        if settings is None:
            return False
        deadline = time.monotonic() + settings.flush_timeout
        sent = False
        for sink in self._sinks(settings):
            try:
                sent = sink.send_report(envelope, max(0.0, deadline - time.monotonic())) or sent
            except Exception as exc:
                self._count(f"report: sink {type(sink).__name__} failed", 1)
                self._log_once(f"report:{type(sink).__name__}", "telemetry sink %s failed: %r", sink, exc)
        return sent

    def _send_error_report(self, error: BaseException) -> bool:
        """A bug report the user chose to send, through the sinks that take one (Sentry): the
        running ones, or, while telemetry is off, the configured ones for this report only, with
        an instance id that is neither stored nor sent."""
        with self._lock:
            settings, router = self._settings, self._router
            if settings is None:
                return False
            session = self._session or self._new_session(settings, "errors", uuid.uuid4().hex)
            sinks = router.sinks if router is not None else self._sinks(settings)
        sent = False
        for sink in sinks:  # outside the lock: sending may wait up to the sink's flush bound
            send = getattr(sink, "send_error_report", None)
            if callable(send):
                try:
                    sent = send(error, session) or sent
                except Exception as exc:
                    self._log_once(f"capture:{type(sink).__name__}", "telemetry sink %s failed: %r", sink, exc)
        return sent

    # -- test harness ----------------------------------------------------------------------

    def pin_for_tests(self, sinks: Sequence[Sink], data_dir: Path, consent: Level) -> None:
        """Route every event to `sinks` with strict validation, whatever the app configures."""
        with self._lock:
            self._override = _Override(tuple(sinks), data_dir, consent)
            settings = self._settings
            if settings is None:
                self.configure(app_version="0.0.0+test", strict=True)
            else:
                self._stop_delivery(forget=False)
                self._explicit = None
                self._apply()

    def unpin(self) -> None:
        """Undo `pin_for_tests` and return to the state of a fresh, unconfigured client."""
        with self._lock:
            self._stop_delivery(forget=False)
            self._override = None
            self._settings = self._explicit = None
            self._tally.clear()
            self._apply()

    @property
    def strict(self) -> bool:
        return self._override is not None or (self._settings is not None and self._settings.strict)

    # -- the emit path -------------------------------------------------------------------

    def emit(self, spec: EventSpec, data: dict[str, Any], intake: Intake | None = None) -> None:
        """The one way in for an event: from its emitter (once the gate is open), as the opt-out
        record, or as a report. An expired event is counted and dropped, an invalid one is
        reported (raised in strict mode); a valid one goes, with the time, to `intake` (by
        default the router's)."""
        if spec.name in self._expired:  # an expired event's emitter is a no-op, whatever it is given
            self._count(f"{spec.name}: expired", 1)
            return
        try:
            violations = spec.check_data(data)
        except Exception as exc:  # telemetry never breaks the host app
            self._tally.internal_error(spec.name, exc)
            return
        if violations:
            self._violation(EventValidationError(spec.name, violations))
            return
        (intake or self._intake).put((spec, data, time.time(), None))

    def _violation(self, error: EventValidationError) -> None:
        if self.strict:
            raise error
        for reason in dict.fromkeys(map(_dropped_as, error.violations)):
            self._count(reason, 1)
        self._log_once(f"invalid:{error.event}", "telemetry dropped an invalid event: %s", error)
        settings = self._settings
        if settings is not None and settings.on_violation is not None:
            try:
                settings.on_violation(error)
            except Exception as exc:
                self._log_once("hook", "telemetry on_violation hook failed: %r", exc)

    def _problem(self, kind: str, error: ConfigurationError, strict: bool) -> None:
        if strict:
            raise error
        self._count(kind, 1)
        self._log_once(kind, "telemetry: %s", error)

    def _count(self, reason: str, events: int) -> None:
        self._tally.count(reason, events)

    def _log_once(self, kind: str, message: str, *args: object) -> None:
        self._tally.log_once(kind, message, *args)


def _dropped_as(violation: Violation) -> str:
    """The tally's reason for a violation: its field, or for undeclared fields, which the app names
    freely, one reason per event, so the tally never grows with the app's keys."""
    if violation.code == "additionalProperties":
        return f"{violation.event}: undeclared field"
    return f"{violation.event}.{violation.field}: invalid"


class _Nowhere:
    """Where checked events go while telemetry is off (consent was withdrawn on their way)."""

    def put(self, event: Pending) -> None:
        pass


_NOWHERE = _Nowhere()


class _Kept:
    """Keeps the one event it is given: a report, which is sent only if the user chooses."""

    event: Pending | None = None

    def put(self, event: Pending) -> None:
        self.event = event
