"""The collector on a real socket on 127.0.0.1: in a thread (to look inside it), or as the
`telemetry-gen collect` command (to kill it); and requests sent to it exactly as written."""

from __future__ import annotations

import contextlib
import functools
import gzip
import http.client
import json
import os
import selectors
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from conftest import REPO, sample
from telemetry_gen.build import check_catalog
from telemetry_gen.catalog.model import Catalog
from telemetry_gen.collector.app import EVENTS_PATH, Collector, Cors, manifest
from telemetry_gen.collector.schemas import Registry, registry
from telemetry_gen.collector.server import listen, make_server
from telemetry_gen.collector.store import FileStore
from telemetry_gen.collector.wire import Limits

CATALOG = REPO / "events.yaml"


@functools.cache
def example_catalog() -> Catalog:
    catalog, diagnostics = check_catalog(CATALOG)
    assert catalog is not None, diagnostics
    return catalog


@functools.cache
def example_registry() -> Registry:
    return registry(example_catalog())[0]


CONTEXT = {
    "app_commit": "4f2a9c1",
    "app_version": "3.2.0",
    "ccxt_version": "4.2.1",
    "instance_id": "a" * 32,
    "machine_arch": "x86_64",
    "os": "linux",
    "os_version": "6.1.0",
    "python_implementation": "CPython",
    "python_version": "3.11.7",
    "session_id": "b" * 32,
}


def envelope(name: str = "app/exited", *, number: int = 0, **changes: Any) -> dict[str, Any]:
    """A valid envelope of the example catalog (the first examples of each field), then `changes`."""
    event = next(e for e in example_catalog().events if e.name == name)
    result: dict[str, Any] = {
        "event": name,
        "schema": example_catalog().schema_id(event),
        "id": f"{number:032x}",
        "timestamp": "2026-03-01T10:00:00.000000Z",
        "context": dict(CONTEXT),
        "data": {f.name: sample(f.type, f.examples) for f in event.fields},
    }
    return {**result, **changes}


@dataclass
class Running:
    url: str
    app: Collector
    data_dir: Path
    server: uvicorn.Server

    @property
    def port(self) -> int:
        return int(urllib.parse.urlsplit(self.url).port or 0)


@contextmanager
def collector(
    data_dir: Path,
    *,
    schemas: Registry | None = None,
    limits: Limits | None = None,
    token: str | None = None,
    window: int = 10_000,
    cors: Cors | None = None,
) -> Iterator[Running]:
    """A collector served by uvicorn in a thread, on a free port; stopped (bounded) on exit.

    Without `schemas` it collects for the example catalog, and writes its catalog.json as the command does.
    """
    store = FileStore(data_dir, window)
    if schemas is None:
        schemas = example_registry()
        store.write_manifest(manifest(example_catalog(), schemas))
    app = Collector(schemas, store, limits, token, cors)
    sock = listen("127.0.0.1", 0)
    server = make_server(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the collector did not start"
        time.sleep(0.01)
    try:
        yield Running(f"http://127.0.0.1:{sock.getsockname()[1]}{EVENTS_PATH}", app, data_dir, server)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def start_command(store: Path | str, port: int = 0, *extra: str) -> tuple[subprocess.Popen[str], str]:
    """`telemetry-gen collect` in a subprocess, storing into a folder or a `--store` URL; returns it
    and its URL once it listens."""
    command = [str(Path(sys.executable).parent / "telemetry-gen"), "collect", str(CATALOG), "--store", str(store)]
    process = subprocess.Popen(
        [*command, "--port", str(port), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None and process.stderr is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=30):
            process.kill()
            raise AssertionError("telemetry-gen collect printed nothing within 30s")
    first = process.stdout.readline()
    assert " at http://" in first, first + (process.stderr.read() if process.poll() is not None else "")
    url = first.split(" at ", 1)[1].split(" ", 1)[0]
    deadline = time.monotonic() + 10
    while not healthy(url):
        assert time.monotonic() < deadline, "the collector never answered /health"
        time.sleep(0.05)
    return process, url


def healthy(url: str) -> bool:
    try:
        return request(url.replace(EVENTS_PATH, "/health"), method="GET")[0] == 200
    except OSError:
        return False


def request(
    url: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    method: str = "POST",
    timeout: float = 10.0,
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """One request as given (http.client adds only Host and, for a body, Content-Length); the answer's
    status, JSON body (empty when it is not JSON) and headers."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request(method, target, body=body, headers=dict(headers or {}))
        except (BrokenPipeError, ConnectionResetError):
            # The collector answers a body it refuses by its declared length (413) at once and closes;
            # on a loaded machine that happens while the body is still being sent. The answer is there.
            if connection.sock is None:
                raise
            response = http.client.HTTPResponse(connection.sock, method=method)
            response.begin()
        else:
            response = connection.getresponse()
        raw = response.read()
        headers = {k.lower(): v for k, v in response.getheaders()}
        # The collector answers in JSON; the HTTP layer's own answers (400, 503) are plain text.
        answer = json.loads(raw) if raw and headers.get("content-type") == "application/json" else {}
        return response.status, answer, headers
    finally:
        connection.close()


JSON_GZIP = {"Content-Type": "application/json", "Content-Encoding": "gzip"}


def post_events(
    url: str, events: Sequence[object], headers: Mapping[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    """POST a batch the way the runtime does."""
    body = gzip.compress(json.dumps({"sent_at": "2026-01-01T00:00:00.000000Z", "events": list(events)}).encode())
    status, answer, _ = request(url, body, {**JSON_GZIP, **(headers or {})})
    return status, answer


def raw_request(url: str, data: bytes, timeout: float = 10.0) -> int:
    """Send bytes as they are and return the status of the answer (0 if the connection closed first)."""
    parts = urllib.parse.urlsplit(url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=timeout) as sock:
        with contextlib.suppress(OSError):  # the server may answer and close before reading everything
            sock.sendall(data)
        answer = b""
        try:
            while b"\r\n" not in answer:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except OSError:
            return 0
    line = answer.split(b"\r\n", 1)[0].split()
    return int(line[1]) if len(line) >= 2 and line[1].isdigit() else 0


def stored(data_dir: Path) -> list[dict[str, Any]]:
    """Every stored event, in file order."""
    files = sorted((data_dir / "events").glob("*/*/*/part-*.jsonl"))
    return [json.loads(line) for path in files for line in path.read_text("utf-8").splitlines()]


def bad_rows(data_dir: Path) -> list[dict[str, Any]]:
    files = sorted((data_dir / "bad").glob("*/part-*.jsonl"))
    return [json.loads(line) for path in files for line in path.read_text("utf-8").splitlines()]
