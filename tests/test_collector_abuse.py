"""The collector under abuse, through real sockets on 127.0.0.1: requests that are cheap to send and
costly to check are answered within a second; connections that send a byte now and then get 408
within a second of running past a time bound, while other clients keep getting 200; and SIGTERM
stops it within 5 seconds whatever is in flight, keeping every batch it answered 200 and never
answering 500."""

from __future__ import annotations

import contextlib
import gzip
import http.client
import json
import os
import selectors
import signal
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
from local_collector import (
    JSON_GZIP,
    bad_rows,
    collector,
    envelope,
    post_events,
    request,
    start_command,
    stored,
)

from telemetry_gen.collector.wire import Limits

ANSWERED_WITHIN = 1.0  # seconds, for a request that abuses the collector
STOPPED_WITHIN = 5.0  # seconds after SIGTERM


def mixed_features(count: int) -> list[object]:
    """`count` items, all different, half numbers and half strings: no sort orders them, so a test of
    uniqueness that compared every pair (as jsonschema's does) would take their count squared."""
    return [f"feature-{n}" if n % 2 else n for n in range(count)]


def started_with_features(features: list[object], number: int = 0) -> dict[str, Any]:
    """An `app/started` event whose `enabled_features` (at most 5, unique) is `features`."""
    return envelope(
        "app/started", number=number, data={"command": "watch", "interactive": True, "enabled_features": features}
    )


def timed_post(url: str, events: list[object], timeout: float = 5.0) -> tuple[int, dict[str, Any], float]:
    body = gzip.compress(json.dumps({"sent_at": "2026-01-01T00:00:00.000000Z", "events": events}).encode())
    started = time.monotonic()
    status, answer, _ = request(url, body, JSON_GZIP, timeout=timeout)
    return status, answer, time.monotonic() - started


# --------------------------------------------------------------------------- costly to check


@pytest.mark.parametrize("count", [20_000, 100_000])
def test_an_array_far_past_its_max_items_is_a_bad_row_answered_within_a_second(tmp_path: Path, count: int) -> None:
    event = started_with_features(mixed_features(count))
    body = gzip.compress(json.dumps({"events": [event]}).encode())
    assert len(body) < 1024 * 1024  # within the body limit: the collector reads it
    with collector(tmp_path) as running:
        status, answer, elapsed = timed_post(running.url, [event])
        assert (status, answer) == (200, {"accepted": 0, "duplicates": 0, "bad": 1})
        assert elapsed < ANSWERED_WITHIN, f"answered after {elapsed:.1f}s"
    (row,) = bad_rows(tmp_path)
    assert row["errors"] == [
        {
            "code": "invalid-value",
            "location": "/data/enabled_features",
            "message": f"{count} items, more than the 5 allowed",
        }
    ]


@pytest.mark.parametrize("where", ["data", "context"])
def test_an_event_with_100_000_undeclared_fields_is_a_bad_row_answered_within_a_second(
    tmp_path: Path, where: str
) -> None:
    event = envelope(number=1)
    event[where] = {**event[where], **{f"f{n:06d}": 0 for n in range(100_000)}}
    with collector(tmp_path) as running:
        status, answer, elapsed = timed_post(running.url, [event])
        assert (status, answer) == (200, {"accepted": 0, "duplicates": 0, "bad": 1})
        assert elapsed < ANSWERED_WITHIN, f"answered after {elapsed:.1f}s"
    (row,) = bad_rows(tmp_path)
    assert [(error["code"], error["location"]) for error in row["errors"]][:3] == [
        ("unknown-field", f"/{where}"),
        ("unknown-field", f"/{where}/f000000"),
        ("unknown-field", f"/{where}/f000001"),
    ]
    assert row["errors"][0]["message"] == "99980 more fields not declared in the catalog"
    assert len(row["payload"][where]) > 100_000


# --------------------------------------------------------------------------- slow connections


def _status(answer: bytes) -> int:
    """The status on the first line of an HTTP answer; 0 if there is none."""
    line = answer.split(b"\r\n", 1)[0].split()
    return int(line[1]) if len(line) >= 2 and line[1].isdigit() else 0


@dataclass
class Trickle:
    """`count` connections that each send `head` at once, then `tail` one byte every `interval`
    seconds, all from one thread. What each got back (a status, 0 for a close without one, None
    for nothing yet) and when are recorded; it stops once every connection has its answer, or
    after `seconds`."""

    url: str
    head: bytes
    tail: bytes
    count: int
    interval: float = 0.5
    seconds: float = 15.0
    opened: list[float] = field(default_factory=list)
    statuses: list[int | None] = field(default_factory=list)
    answered: list[float] = field(default_factory=list)

    def start(self) -> threading.Thread:
        """The thread sending, once every connection is open."""
        connected = threading.Event()
        thread = threading.Thread(target=self._run, args=(connected,), daemon=True)
        thread.start()
        assert connected.wait(30), "the slow connections did not open"
        return thread

    def _run(self, connected: threading.Event) -> None:
        parts = urllib.parse.urlsplit(self.url)
        received = [b""] * self.count
        self.statuses = [None] * self.count
        self.answered = [0.0] * self.count
        with selectors.DefaultSelector() as selector:
            try:
                for index in range(self.count):
                    sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=10)
                    sock.sendall(self.head)
                    sock.setblocking(False)
                    # Only sockets are registered: each key's fileobj is cast back to one below.
                    selector.register(sock, selectors.EVENT_READ, index)
                    self.opened.append(time.monotonic())
                connected.set()
                deadline = time.monotonic() + self.seconds
                next_byte, sent = time.monotonic(), 0
                while selector.get_map() and time.monotonic() < deadline:
                    if sent < len(self.tail) and time.monotonic() >= next_byte:
                        for key in list(selector.get_map().values()):
                            with contextlib.suppress(OSError):  # closed: what came back is read below
                                cast(socket.socket, key.fileobj).send(self.tail[sent : sent + 1])
                        sent, next_byte = sent + 1, next_byte + self.interval
                    wake = min(deadline, next_byte if sent < len(self.tail) else deadline)
                    for key, _ in selector.select(timeout=max(0.0, wake - time.monotonic())):
                        index, sock = key.data, cast(socket.socket, key.fileobj)
                        try:
                            chunk = sock.recv(4096)
                        except OSError:
                            chunk = b""
                        received[index] += chunk
                        if b"\r\n" in received[index] or not chunk:
                            self.statuses[index], self.answered[index] = _status(received[index]), time.monotonic()
                            selector.unregister(sock)
                            sock.close()
            finally:
                for key in list(selector.get_map().values()):
                    cast(socket.socket, key.fileobj).close()

    def late(self, bound: float) -> list[float]:
        """For each connection answered more than `ANSWERED_WITHIN` after `bound` seconds from its
        opening (or never), how late it was."""
        delays = [
            answered - opened - bound if status is not None else float("inf")
            for opened, answered, status in zip(self.opened, self.answered, self.statuses, strict=True)
        ]
        return [delay for delay in delays if delay > ANSWERED_WITHIN]


SLOW_HEAD = b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
SLOW_BODY_HEAD = (
    b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
)


def test_slow_connections_get_408_and_never_lock_out_other_clients(tmp_path: Path) -> None:
    limits = Limits(max_header_seconds=2.0, max_body_seconds=2.0)
    with collector(tmp_path, limits=limits) as running:
        slow_heads = Trickle(running.url, b"", SLOW_HEAD, count=200)
        slow_bodies = Trickle(running.url, SLOW_BODY_HEAD, b"{" * 1000, count=50)
        threads = [slow_heads.start(), slow_bodies.start()]
        statuses: list[int] = []
        number = 0
        while any(thread.is_alive() for thread in threads):
            number += 1
            statuses.append(timed_post(running.url, [envelope(number=number)])[0])
            time.sleep(0.1)
        for thread in threads:
            thread.join()
    assert len(statuses) >= 10 and set(statuses) == {200}, statuses
    assert set(slow_heads.statuses) == set(slow_bodies.statuses) == {408}
    assert slow_heads.late(limits.max_header_seconds) == []
    assert slow_bodies.late(limits.max_body_seconds) == []
    assert len(stored(tmp_path)) == number and bad_rows(tmp_path) == []


def _read_answer(sock: socket.socket) -> tuple[int, bytes]:
    """One whole answer from `sock` (status and body); (0, b"") if it closes first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return 0, b""
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    fields = dict(line.split(b":", 1) for line in head.lower().split(b"\r\n")[1:])
    length = int(fields[b"content-length"])
    while len(body) < length:
        body += sock.recv(4096)
    return _status(head), body


def test_a_kept_alive_connection_that_starts_its_next_request_slowly_gets_408(tmp_path: Path) -> None:
    limits = Limits(max_header_seconds=2.0)
    with collector(tmp_path, limits=limits) as running:
        with socket.create_connection(("127.0.0.1", running.port), timeout=10) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert _read_answer(sock)[0] == 200
            sock.sendall(b"G")
            started = time.monotonic()
            status, body = _read_answer(sock)
            elapsed = time.monotonic() - started
            assert sock.recv(1) == b""  # closed
        assert running.app.counts.refused == 1
    assert status == 408 and json.loads(body)["error"] == "request-timeout"
    assert elapsed < limits.max_header_seconds + ANSWERED_WITHIN


def test_a_refused_request_closes_its_connection_instead_of_waiting_for_its_body(tmp_path: Path) -> None:
    with collector(tmp_path) as running, socket.create_connection(("127.0.0.1", running.port), timeout=10) as sock:
        sock.sendall(
            b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n{"
        )
        status, body = _read_answer(sock)
        started = time.monotonic()
        assert sock.recv(1) == b""  # closed, though 999 bytes of the body are still to come
        assert time.monotonic() - started < ANSWERED_WITHIN
    assert status == 415 and json.loads(body)["error"] == "unsupported-media-type"


# --------------------------------------------------------------------------- stopping under load


@dataclass
class Load:
    """Clients sending to the collector until it goes away: every answer, with the ids it covered."""

    url: str
    answers: list[tuple[int, list[str]]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def send_batches(self, client: int, size: int) -> None:
        template = envelope()
        for batch in range(1000):
            ids = [f"{client:08x}{batch:08x}{n:016x}" for n in range(size)]
            self._send([{**template, "id": event_id} for event_id in ids], ids)
            if self.stop.is_set():
                return

    def send_costly_events(self, client: int) -> None:
        for number in range(1000):
            event = started_with_features(mixed_features(20_000), number=client * 1000 + number)
            self._send([event], [])
            if self.stop.is_set():
                return

    def _send(self, events: list[object], ids: list[str]) -> None:
        try:
            status = post_events(self.url, events)[0]
        except (OSError, http.client.HTTPException):
            self.stop.set()  # the collector is gone
            status = 0
        self.answers.append((status, ids))


def test_sigterm_stops_the_collector_within_5_seconds_under_load_keeping_what_it_acknowledged(tmp_path: Path) -> None:
    data_dir = tmp_path / "collected"
    process, url = start_command(data_dir)
    load = Load(url)
    try:
        clients = [threading.Thread(target=load.send_batches, args=(n, 1000), daemon=True) for n in range(4)]
        clients += [threading.Thread(target=load.send_costly_events, args=(n,), daemon=True) for n in range(4, 8)]
        slow = [
            Trickle(url, SLOW_BODY_HEAD, b"{" * 1000, count=20, seconds=20),
            Trickle(url, b"", SLOW_HEAD, count=20, seconds=20),
        ]
        trickling = [trickle.start() for trickle in slow]
        for client in clients:
            client.start()
        deadline = time.monotonic() + 30
        while sum(status == 200 for status, ids in load.answers if ids) < 4:
            assert time.monotonic() < deadline, load.answers
            time.sleep(0.05)
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        try:
            out, err = process.communicate(timeout=60)
        finally:
            stopped = time.monotonic() - signalled
        load.stop.set()
        for thread in clients + trickling:
            thread.join(30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert stopped < STOPPED_WITHIN, f"stopped {stopped:.1f}s after SIGTERM"
    assert process.returncode == 0 and "collector stopped." in out, err
    assert "Traceback" not in err, err
    statuses = {status for status, _ in load.answers} | {s for trickle in slow for s in trickle.statuses}
    assert statuses <= {0, 200, 408, 503}, statuses  # never a 500
    kept = {event["id"] for event in stored(data_dir)}
    acknowledged = [ids for status, ids in load.answers if status == 200]
    assert acknowledged and all(set(ids) <= kept for ids in acknowledged)


def test_a_write_that_hangs_does_not_keep_the_collector_from_stopping(tmp_path: Path) -> None:
    """A named pipe where the next part file goes blocks the write, as a hung network disk would:
    the request is answered 503 (the runtime sends it again), and the collector stops all the same."""
    data_dir = tmp_path / "collected"
    process, url = start_command(data_dir)
    answers: list[int] = []
    try:
        assert post_events(url, [{"event": "x"}])[0] == 200  # a bad row: its file name tells the run
        (first,) = (data_dir / "bad").glob("*/part-*-0000.jsonl")
        folder = data_dir / "events" / "app.exited" / "v1" / "date=2026-03-01"
        folder.mkdir(parents=True)
        os.mkfifo(folder / first.name)
        sending = threading.Thread(target=lambda: answers.append(post_events(url, [envelope(number=1)])[0]))
        sending.start()
        sending.join(1.0)
        assert sending.is_alive(), answers  # the write is stuck
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        try:
            out, err = process.communicate(timeout=30)
        finally:
            stopped = time.monotonic() - signalled
        sending.join(10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert stopped < STOPPED_WITHIN, f"stopped {stopped:.1f}s after SIGTERM"
    assert process.returncode == 0 and "collector stopped." in out and "Traceback" not in err, err
    assert answers == [503]
