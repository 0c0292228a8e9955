"""The delivery queue: a bounded in-memory queue and one daemon thread that hands batches to sinks.

Emitting never blocks and never waits for the network: it appends to the queue, or drops and
counts the event when the queue is full. What the caller queues is the validated event as it was
emitted; the thread wraps it in its envelope (id, timestamp of the emit, context), so the app's
thread pays only for validation. The thread starts with the first queued event (so
never before the user opts in), gathers up to `batch_size` events or waits `batch_interval`
seconds, and writes each batch to every background sink. A forked child starts with an empty
queue and starts its own thread when it needs one; the parent delivers what it had queued.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import Any, Protocol

from .envelope import make_envelope
from .sinks import DropCounter, Sink
from .spec import EventSpec

# What is queued for each event: its spec, its validated data, when it was emitted (seconds since
# the epoch), and its id when sinks on the caller's thread already wrote it under one (else None:
# the thread draws it). The thread makes the envelope with the session's context.
Pending = tuple[EventSpec, dict[str, Any], float, str | None]


class Intake(Protocol):
    """Where the client puts each event it checked: an object whose method is called, not a
    stored bound method, as that is the cheaper call on the app's thread."""

    def put(self, event: Pending) -> None: ...


class Dispatcher:
    def __init__(
        self,
        sinks: Sequence[Sink],
        context: dict[str, Any],
        count_dropped: DropCounter,
        *,
        queue_size: int,
        batch_size: int,
        batch_interval: float,
    ) -> None:
        self._sinks = tuple(sinks)
        self._context = context
        self._count_dropped = count_dropped
        self._queue_size = queue_size
        self._batch_size = batch_size
        self._batch_interval = batch_interval
        self._reset()

    def _reset(self) -> None:
        """A fresh queue and no thread; also what a forked child starts from."""
        self._queue: deque[Pending] = deque()
        self._taken = 0  # events the thread has taken from the queue; it alone adds to this
        # While the queue is shorter than this, `put` needs to do nothing but append: the thread
        # runs, no batch is full, there is room. 0 until the thread runs, so the first event starts it.
        self._quiet_below = 0
        self._wake = threading.Event()
        self._idle = threading.Condition()
        self._busy = False
        self._stop = False
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def after_fork_in_child(self, context: dict[str, Any]) -> None:
        """Start afresh in a forked child, whose events carry its own session's context."""
        self._context = context
        self._reset()

    def put(self, event: Pending) -> None:
        """Queue one event for the background sinks; never blocks, never raises.

        Emitters call this on the app's thread for every event, so the usual case is one length
        test and one append (not even a count: see `accepted`); the rest waits until the queue
        needs attention.
        """
        queue = self._queue
        if len(queue) < self._quiet_below:
            queue.append(event)
        else:
            self._put_with_attention(event)

    def _put_with_attention(self, event: Pending) -> None:
        queue = self._queue
        if len(queue) >= self._queue_size:
            self._count_dropped("queue full", 1)
            return
        queue.append(event)
        try:
            if self._thread is None:
                self._start_thread()
        except RuntimeError:  # no thread can start (the interpreter is exiting); the event stays queued
            self._count_dropped("delivery thread failed to start", 1)
        if len(queue) >= self._batch_size:
            self._wake.set()

    def queued(self) -> int:
        return len(self._queue)

    def accepted(self) -> int:
        """Events queued so far: those the thread has taken and those still waiting."""
        return self._taken + len(self._queue)

    def _start_thread(self) -> None:
        with self._start_lock:
            if self._thread is None and not self._stop:
                self._thread = threading.Thread(target=self._run, name="telemetry-delivery", daemon=True)
                self._thread.start()
                self._quiet_below = min(self._batch_size, self._queue_size) - 1

    def _run(self) -> None:
        while True:
            self._wake.wait(self._batch_interval)
            self._wake.clear()
            with self._idle:
                self._busy = True
            try:
                while self._queue and not self._stop:
                    self._write(self._next_batch())
            finally:
                with self._idle:
                    self._busy = False
                    self._idle.notify_all()
            if self._stop:
                return

    def _next_batch(self) -> list[dict[str, Any]]:
        batch: list[dict[str, Any]] = []
        context = self._context
        try:
            while len(batch) < self._batch_size:
                spec, data, at, event_id = self._queue.popleft()
                self._taken += 1
                batch.append(make_envelope(spec, context, data, at, event_id))
        except IndexError:
            pass
        return batch

    def _write(self, batch: list[dict[str, Any]]) -> None:
        for sink in self._sinks:
            try:
                sink.write(batch)
            except Exception:  # a failing sink must not stop delivery to the others
                self._count_dropped(f"sink {type(sink).__name__} failed", len(batch))

    def flush(self, timeout: float) -> bool:
        """Wait until every queued event has been written, at most `timeout` seconds; True if so."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._queue or self._busy:
                if self._thread is None or not self._thread.is_alive():
                    return False
                self._wake.set()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def clear(self) -> int:
        """Drop everything queued; the number of events dropped."""
        dropped = 0
        try:
            while True:
                self._queue.popleft()  # one at a time: the thread may be taking some too
                dropped += 1
        except IndexError:
            pass
        return dropped

    def discard(self) -> int:
        """Drop everything queued and let the thread end; the number of events dropped."""
        self._stop = True
        dropped = self.clear()
        self._wake.set()
        return dropped
