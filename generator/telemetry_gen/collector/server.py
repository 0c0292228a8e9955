"""Serving the collector with uvicorn: set up so that nothing about clients is logged or trusted.

No access log (it would record client addresses), no `X-Forwarded-*` handling, no `Server`
header, no lifespan or websockets. Bounds: on concurrent connections (past it, 503, which the
runtime retries), on the time a request's head may take to arrive (past it, 408) and on the
graceful shutdown, so stopping the collector never hangs. A slow connection costs little but
its place; with the head and body deadlines, it keeps that place for a bounded time.
"""

from __future__ import annotations

import asyncio
import http
import signal
import socket
import threading

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .app import Collector, json_answer

MAX_CONNECTIONS = 1000
MAX_HEAD_BYTES = 16 * 1024  # request line and headers; past it h11 refuses the request (400)
KEEP_ALIVE_SECONDS = 5  # a connection kept alive with no request in it is closed after this
SHUTDOWN_SECONDS = 2  # for requests in flight; those still running then are answered 503


def _raw_answer(status: int, answer: dict[str, str]) -> bytes:
    """A whole answer that closes the connection, as bytes, for the protocol to write itself."""
    body = json_answer(answer)
    head = (
        f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


def _head_timed(app: Collector) -> type[H11Protocol]:
    """uvicorn's h11 protocol, with a deadline on each request's head (request line and headers).

    uvicorn has none: its keep-alive timeout runs between requests only, and restarts with every
    byte, so a client sending a byte now and then would keep its connection for ever. The deadline
    runs from the connection's opening, or from the first byte of the next request on a connection
    kept alive; past it the client gets 408 and the connection closes. (The body's deadline is the
    app's: see `Limits.max_body_seconds`.)
    """
    seconds = app.limits.max_header_seconds
    timed_out = _raw_answer(
        408, {"error": "request-timeout", "message": f"the request line and headers took more than {seconds:g} seconds"}
    )

    class HeadTimedProtocol(H11Protocol):
        head_deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self.head_deadline = self.loop.call_later(seconds, self.head_timed_out)

        def data_received(self, data: bytes) -> None:
            if self.head_deadline is None and self.conn.their_state is h11.IDLE:  # a next request begins
                self.head_deadline = self.loop.call_later(seconds, self.head_timed_out)
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE:  # its head is in
                self.stop_head_deadline()

        def connection_lost(self, exc: Exception | None) -> None:
            self.stop_head_deadline()
            super().connection_lost(exc)

        def stop_head_deadline(self) -> None:
            if self.head_deadline is not None:
                self.head_deadline.cancel()
                self.head_deadline = None

        def head_timed_out(self) -> None:
            self.head_deadline = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                app.count_refused()
                self.transport.write(timed_out)
                self.transport.close()

    return HeadTimedProtocol


def listen(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: any free port); bound here so the caller learns the real port.

    Its protocol is named (not 0): asyncio sets TCP_NODELAY only on connections of a socket whose
    protocol is TCP, and without it each answer waits for the client's delayed ACK (about 40 ms)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    plain = socket.create_server((host, port), family=family)
    return socket.socket(plain.family, plain.type, socket.IPPROTO_TCP, fileno=plain.detach())


def make_server(app: Collector) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        log_config=None,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        server_header=False,
        lifespan="off",
        ws="none",
        http=_head_timed(app),
        loop="asyncio",
        interface="asgi3",
        limit_concurrency=MAX_CONNECTIONS,
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=SHUTDOWN_SECONDS,
    )
    return uvicorn.Server(config)


def run(server: uvicorn.Server, sock: socket.socket) -> None:
    """Serve until SIGINT or SIGTERM, then return.

    uvicorn shuts down gracefully on those signals and raises them again afterwards for the handlers
    it found; the quiet handlers installed here take them, so the caller can print its summary.
    """
    if threading.current_thread() is not threading.main_thread():
        server.run(sockets=[sock])
        return
    quiet = {sig: signal.signal(sig, lambda *_: None) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run(sockets=[sock])
    finally:
        for sig, handler in quiet.items():
            signal.signal(sig, handler)
