"""A real HTTP endpoint on 127.0.0.1 that records what the runtime sends and answers as told."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAST = {"backoff": 0.01, "max_backoff": 0.05, "timeout": 2.0}  # HttpSink retries for tests: quick, few


@dataclass(frozen=True)
class Answer:
    """How the endpoint answers one request: a status, headers, a delay, or a reset connection."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    reset: bool = False


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any] | None  # the decoded JSON body of a POST
    at: float

    @property
    def events(self) -> list[dict[str, Any]]:
        return self.body["events"] if self.body else []


class Endpoint:
    def __init__(self, port: int = 0) -> None:
        self.received: list[Received] = []
        self.script: list[Answer] = []  # answers for the next requests, in order; then 200
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/collect"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def _answer(self, body: dict[str, Any] | None) -> None:
                url = urllib.parse.urlsplit(self.path)
                with endpoint._lock:
                    answer = endpoint.script.pop(0) if endpoint.script else Answer()
                    endpoint.received.append(
                        Received(
                            self.command,
                            url.path,
                            dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True)),
                            dict(self.headers.items()),
                            body,
                            time.monotonic(),
                        )
                    )
                time.sleep(answer.delay)
                if answer.reset:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.connection.close()
                    return
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    raw = gzip.decompress(raw)
                self._answer(json.loads(raw))

            def do_GET(self) -> None:
                self._answer(None)

        return Handler

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return [event for request in self.received for event in request.events]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The requests received once there are at least `count` (fails the test after `timeout`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.01)
        raise AssertionError(f"expected {count} requests within {timeout}s, got {len(self.received)}")

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def endpoint(port: int = 0) -> Iterator[Endpoint]:
    """A running endpoint; `port` brings one up where an app saw nothing listening before."""
    server = Endpoint(port)
    try:
        yield server
    finally:
        server.close()


def unused_port() -> int:
    """A loopback port nothing listens on (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
