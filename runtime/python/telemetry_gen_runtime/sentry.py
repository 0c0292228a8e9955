"""Error reports to Sentry, once the user has opted in (`errors` or `all`).

sentry-sdk is optional: it is imported when the sink starts, that is after consent, never before.
What is sent: unhandled exceptions (also in threads) and errors the app reports, with their stack
traces and source lines; the release (the app version), the environment, the Python version and
the OS, and the anonymous instance id as the only user field. At `all`, also one release-health
session per run. If asked for, every catalog event the level lets through, as a message.
Never sent: the hostname (`server_name`), local variables, the command line, the list of
installed packages, log lines, and the home folder's path or the login name anywhere in a report.
"""

from __future__ import annotations

import getpass
import importlib
import json
import logging
import os
import platform
import re
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from .context import os_family, os_version
from .sinks import Session, Sink

log = logging.getLogger("telemetry")

# Of sentry-sdk's default integrations only crash capture is kept. Left out: argv (a command line
# names files and secrets), modules (the installed packages fingerprint a machine), logging (a log
# line may hold anything), stdlib (breadcrumbs name hosts and commands), and atexit (stop() flushes).
_INTEGRATIONS = (
    ("sentry_sdk.integrations.excepthook", "ExcepthookIntegration"),
    ("sentry_sdk.integrations.threading", "ThreadingIntegration"),
    ("sentry_sdk.integrations.dedupe", "DedupeIntegration"),
)
_NOT_ALNUM_BEFORE = "(?<![0-9A-Za-z])"
_NOT_ALNUM_AFTER = "(?![0-9A-Za-z])"
_TAG_VALUE_LIMIT = 200  # longer tag values are rejected by Sentry
_REPORT_TAG, _USER_INITIATED = "report", "user-initiated"  # marks a report the user chose to send


class Scrubber:
    """Replaces the home folder's path with `~` and the login name with `<user>` in every string."""

    def __init__(self, homes: Sequence[str], user: str | None) -> None:
        alternatives = []
        # A home that is a root folder ("/" for some services) would erase every path: left alone.
        homes = sorted({home for home in homes if Path(home).parent != Path(home)}, key=len, reverse=True)
        if homes:
            alternatives.append("(?P<home>" + "|".join(map(re.escape, homes)) + ")" + _NOT_ALNUM_AFTER)
        if user:
            alternatives.append(_NOT_ALNUM_BEFORE + "(?P<user>" + re.escape(user) + ")" + _NOT_ALNUM_AFTER)
        self._pattern = re.compile("|".join(alternatives), re.IGNORECASE) if alternatives else None

    @classmethod
    def for_current_user(cls) -> Scrubber:
        homes: list[str] = []
        try:
            home = Path.home()
            homes += [str(home), home.as_posix(), os.path.realpath(home)]
        except (RuntimeError, KeyError, OSError):
            pass  # no home folder known: no path to hide
        try:
            user: str | None = getpass.getuser()
        except (ImportError, KeyError, OSError):
            user = None
        return cls(homes, user)

    def text(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda match: "~" if match.lastgroup == "home" else "<user>", text)

    def value(self, value: Any) -> Any:
        """`value` with every string in it scrubbed (dictionary keys too); other values kept."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.value(key): self.value(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.value(item) for item in value]
        return value


def _frames(event: dict[str, Any]) -> list[dict[str, Any]]:
    """Every stack frame of an event: its exceptions' and its threads'."""
    frames: list[dict[str, Any]] = []
    for section in ("exception", "threads"):
        for entry in (event.get(section) or {}).get("values") or ():
            frames += (entry.get("stacktrace") or {}).get("frames") or ()
    return frames


def _tag(value: str | float | bool) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text[:_TAG_VALUE_LIMIT]


class SentrySink(Sink):
    """Sends crashes and reported errors to Sentry (`dsn`), and at `all` release-health sessions.

    With `mirror_events=True` every catalog event the user consented to is also sent as a message
    named after the event, its scalar fields as tags and all its data as the `event` context.
    The process's sentry-sdk client belongs to this sink while it runs.
    """

    def __init__(self, dsn: str, *, mirror_events: bool = False, flush_timeout: float = 2.0) -> None:
        self.dsn = dsn
        self.mirror_events = mirror_events
        self.flush_timeout = flush_timeout
        self._sdk: ModuleType | None = None  # set while a client runs
        self._session: Session | None = None

    def start(self, session: Session) -> None:
        self._session = session
        try:
            sdk = importlib.import_module("sentry_sdk")
        except ImportError:
            log.warning("telemetry: error reports stay off: sentry-sdk is not installed (the package's `sentry` extra)")
            return
        scrubber = Scrubber.for_current_user()
        # What the left-out stdlib integration would add (less the build string), and the OS family.
        contexts = {
            "runtime": {"name": platform.python_implementation(), "version": platform.python_version()},
            "os": {"name": os_family(), "version": os_version()},
        }

        def before_send(event: dict[str, Any], hint: object) -> dict[str, Any]:
            event.pop("server_name", None)
            for frame in _frames(event):
                frame.pop("vars", None)
            scrubbed: dict[str, Any] = scrubber.value(event)
            # A report the user chose to send carries the instance id only at level `all`.
            user_report = (scrubbed.get("tags") or {}).get(_REPORT_TAG) == _USER_INITIATED
            anonymous = user_report and session.level != "all"
            scrubbed["user"] = {} if anonymous else {"id": session.instance_id}  # whatever else the app set
            scrubbed.setdefault("contexts", {}).update(contexts)
            return scrubbed

        sdk.init(
            dsn=self.dsn,
            release=session.app_version,
            environment=session.environment,
            server_name="",  # else sentry-sdk fills in socket.gethostname(); before_send drops the key
            include_local_variables=False,
            default_integrations=False,
            integrations=[getattr(importlib.import_module(module), name)() for module, name in _INTEGRATIONS],
            auto_session_tracking=False,  # request sessions are for web apps; a run's session is started here
            spotlight=False,  # SENTRY_SPOTLIGHT on a user's machine must not add a destination
            before_send=before_send,
            before_send_transaction=before_send,
            # gzip is read by anything (brotli, sentry-sdk's default when installed, needs a module).
            _experiments={"transport_compression_algo": "gzip"},
        )
        # send_default_pii is left unset: off in every 2.x release (and deprecated in the newest).
        scope = sdk.Scope.get_global_scope()  # the global scope reaches events from every thread
        scope.set_user({"id": session.instance_id})
        if session.level == "all":
            scope.start_session(session_mode="application")
        self._sdk = sdk

    def write(self, events: Sequence[dict[str, Any]]) -> None:
        sdk, session = self._sdk, self._session
        if not self.mirror_events or session is None:
            return
        if sdk is None:
            session.count_dropped("sentry-sdk not installed", len(events))
            return
        for envelope in events:
            data = envelope["data"]
            tags = {name: _tag(value) for name, value in data.items() if isinstance(value, (str, int, float, bool))}
            context = {"name": envelope["event"], "schema": envelope["schema"], "id": envelope["id"], "data": data}
            sdk.capture_message(envelope["event"], level="info", tags=tags, contexts={"event": context})

    def send_report(self, envelope: dict[str, Any], timeout: float) -> bool:
        """Feedback events go to the event sinks; a bug report reaches Sentry through
        `send_error_report` (`report_error(exc, user_initiated=True)`)."""
        return False

    def send_error_report(self, exc: BaseException, session: Session) -> bool:
        """Send a bug report the user chose to send, tagged `report: user-initiated`; below level
        `all` it carries no instance id. A sink that is not running (telemetry is off) runs for
        this report only, with `session`, and is closed again, pending reports flushed."""
        running = self._sdk is not None
        if not running:
            self.start(session)
        try:
            sdk = self._sdk
            if sdk is None:  # sentry-sdk is not installed
                return False
            return sdk.capture_exception(exc, tags={_REPORT_TAG: _USER_INITIATED}) is not None
        finally:
            if not running:
                self.stop(forget=False)

    def capture_exception(self, exc: BaseException) -> str | None:
        """Report a handled exception; the Sentry event id, or None when nothing is sent."""
        if self._sdk is None:
            return None
        event_id: str | None = self._sdk.capture_exception(exc)
        return event_id

    def stop(self, *, forget: bool) -> None:
        """Close the client. At exit the run's session is ended and what is pending gets up to
        `flush_timeout` seconds to leave; on opting out (`forget`) the session is dropped unsent
        and nothing is waited for (sentry-sdk keeps nothing on disk)."""
        sdk, self._sdk = self._sdk, None
        self._session = None
        if sdk is None:
            return
        client, scope = sdk.get_client(), sdk.Scope.get_global_scope()
        if forget:
            scope.set_client(None)  # ends the session below unsent: this client records nothing
        scope.end_session()
        scope.set_client(None)  # nothing is recorded until the next start
        scope.set_user(None)
        client.close(timeout=0.0 if forget else self.flush_timeout)
