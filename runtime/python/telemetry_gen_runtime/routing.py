"""Routing checked events to the sinks, while telemetry is on.

The client (`client.py`) decides whether anything may be sent; once it may, a `Router` takes the
events it checked: to the queue and its thread for the background sinks, which make the envelopes
there, and on the caller's thread to the sinks that write at once. `Tally` counts what happens to
events, for `status()`, and logs each kind of problem once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from .delivery import Dispatcher, Intake, Pending
from .envelope import make_envelope
from .sinks import Session, Sink

log = logging.getLogger("telemetry")


class Tally:
    """Events accepted and dropped in this process, and the problems already logged.

    It has its own lock: the delivery thread counts while the client's lock may be held by a
    caller waiting for that very thread (a flush).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.accepted = 0  # by routers already stopped, and on the caller's thread (see `Router.accepted`)
        self.dropped: Counter[str] = Counter()
        self._logged_kinds: set[str] = set()

    def count(self, reason: str, events: int) -> None:
        with self.lock:
            self.dropped[reason] += events

    def count_undelivered(self, reason: str, events: int) -> None:
        """Count valid events that delivery had to drop; each reason is also logged, once."""
        self.count(reason, events)
        self.log_once(f"dropped:{reason}", "telemetry dropped %d event(s): %s", events, reason)

    def internal_error(self, event: str, exc: Exception) -> None:
        """Count an event lost to a failure of telemetry's own (never raised into the app), and log it once."""
        self.count(f"{event}: internal error", 1)
        self.log_once(f"internal:{type(exc).__name__}", "telemetry failed on %s: %r", event, exc)

    def log_once(self, kind: str, message: str, *args: object) -> None:
        if kind not in self._logged_kinds:
            self._logged_kinds.add(kind)
            log.warning(message, *args)

    def after_fork_in_child(self) -> None:
        self.lock = threading.Lock()

    def clear(self) -> None:
        with self.lock:
            self.accepted = 0
            self.dropped.clear()


class Router:
    """The started sinks of one period of consent, and the way each checked event reaches them."""

    def __init__(
        self,
        sinks: Sequence[Sink],
        session: Session,
        context: dict[str, Any],
        tally: Tally,
        *,
        queue_size: int,
        batch_size: int,
        batch_interval: float,
    ) -> None:
        self.tally = tally
        self.context = context
        if not sinks:
            tally.log_once(
                "no-sinks",
                "telemetry is on (%s), but no sink is configured, so events go nowhere: pass "
                "sinks=[HttpSink(url)] (or another Sink) to configure()",
                session.level,
            )
        for sink in sinks:
            try:
                sink.start(session)
            except Exception as exc:
                tally.count(f"sink {type(sink).__name__} failed to start", 1)
                tally.log_once(f"start:{type(sink).__name__}", "telemetry sink %s failed to start: %r", sink, exc)
        self.sinks = tuple(sinks)
        self._sync_sinks = tuple(sink for sink in sinks if not sink.background)
        background = [sink for sink in sinks if sink.background]
        self._dispatcher = (
            Dispatcher(
                background,
                context,
                tally.count_undelivered,
                queue_size=queue_size,
                batch_size=batch_size,
                batch_interval=batch_interval,
            )
            if background
            else None
        )
        # Where the client puts each checked event: the queue itself while every sink writes in the
        # background, else this router, which writes to the others first.
        self.intake: Intake = self._dispatcher if self._dispatcher is not None and not self._sync_sinks else self

    def put(self, event: Pending) -> None:
        """Write the event's envelope to the sinks that write on the caller's thread, and queue the
        event for the others under the same id."""
        spec, data, at, _ = event
        try:
            envelope = make_envelope(spec, self.context, data, at)
        except Exception as exc:
            self.tally.internal_error(spec.name, exc)
            return
        for sink in self._sync_sinks:
            try:
                sink.write([envelope])
            except Exception as exc:
                self.tally.count(f"sink {type(sink).__name__} failed", 1)
                self.tally.log_once(f"sink:{type(sink).__name__}", "telemetry sink %s failed: %r", sink, exc)
        if self._dispatcher is not None:
            self._dispatcher.put((spec, data, at, envelope["id"]))  # counted there
        else:
            with self.tally.lock:
                self.tally.accepted += 1

    def queued(self) -> int:
        return self._dispatcher.queued() if self._dispatcher is not None else 0

    def accepted(self) -> int:
        """Events the queue took (counted by the queue, not on every emit)."""
        return self._dispatcher.accepted() if self._dispatcher is not None else 0

    def flush(self, timeout: float) -> bool:
        """Hand the queue to the sinks and let them try to send it, within `timeout` seconds in all."""
        deadline = time.monotonic() + timeout
        done = self._dispatcher is None or self._dispatcher.flush(timeout)
        for sink in self.sinks:
            try:
                done = sink.flush(max(0.0, deadline - time.monotonic())) and done
            except Exception as exc:
                done = False
                self.tally.log_once(f"flush:{type(sink).__name__}", "telemetry sink %s failed to flush: %r", sink, exc)
        return done

    def drop_queued(self) -> None:
        if self._dispatcher is not None:
            self._dispatcher.clear()

    def stop(self, *, forget: bool, flush_timeout: float | None) -> None:
        """Flush first (within `flush_timeout`, unless forgetting, and count what is left), then
        drop the queue and stop the sinks."""
        if not forget and flush_timeout is not None:
            self.flush(flush_timeout)
        if self._dispatcher is not None:
            with self.tally.lock:
                self.tally.accepted += self._dispatcher.accepted()
            unsent = self._dispatcher.discard()
            if unsent and not forget:
                self.tally.count_undelivered("not delivered within flush_timeout", unsent)
        for sink in self.sinks:
            try:
                sink.stop(forget=forget)
            except Exception as exc:
                self.tally.log_once(f"stop:{type(sink).__name__}", "telemetry sink %s failed to stop: %r", sink, exc)

    def after_fork_in_child(self, context: dict[str, Any]) -> None:
        """The child's own context (its session id); the parent's queue stays the parent's."""
        self.context = context
        if self._dispatcher is not None:
            self._dispatcher.after_fork_in_child(context)
