"""Serving the collector with uvicorn: set up so that nothing about clients is logged or trusted.

No access log (it would record client addresses), no `X-Forwarded-*` handling, no `Server`
header, no lifespan or websockets; a bound on concurrent connections (past it, 503, which the
runtime retries) and on the graceful shutdown, so stopping the collector never hangs.
"""

from __future__ import annotations

import signal
import socket
import threading

import uvicorn

from .app import Collector

MAX_CONNECTIONS = 100
SHUTDOWN_SECONDS = 2  # for requests in flight; those still running then are answered 503


def listen(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: any free port); bound here so the caller learns the real port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family)


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
        http="h11",
        loop="asyncio",
        interface="asgi3",
        limit_concurrency=MAX_CONNECTIONS,
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
