"""The collector at scale: its connections, its stores (files and ClickHouse), several processes."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from local_collector import collector, envelope, post_events


def test_answers_are_not_held_back_by_nagle_and_delayed_acks(tmp_path: Path) -> None:
    # Without TCP_NODELAY on accepted connections, every answer waits for the client's delayed ACK.
    with collector(tmp_path) as running:
        assert post_events(running.url, [envelope()])[0] == 200
        with socket.create_connection(("127.0.0.1", running.port)) as client:
            client.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert client.recv(4096).startswith(b"HTTP/1.1 200")
            server = running.server.server_state.connections
            deadline = time.monotonic() + 10
            while not server and time.monotonic() < deadline:
                time.sleep(0.01)
            nodelay = [
                p.transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for p in server
            ]
            assert nodelay and all(nodelay), nodelay
