"""Target 5: events per second from one process to a local collector, and the sender's peak memory.

The sender (`--send`) is an app in a fresh process: the generated package with consent `all` and
an `HttpSink` with its defaults (batches of 100 events, gzipped JSON POSTs) and the default queue
of 10,000 events. It emits the reference event as fast as the queue takes it: the loop waits
while the queue is nearly full, since a full queue drops events (by design, an app never waits
for telemetry). The time runs from the first emit until `flush()` returns, when the collector
has answered every batch. Peak memory is the process's peak resident set size (`ru_maxrss`).

The receiving side (`--sink`) is a separate process: a standard-library HTTP server on 127.0.0.1
that inflates each batch, parses it and counts its events (`telemetry-gen collect` is used
instead when the installed telemetry-gen has it).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .catalogs import PACKAGE, REFERENCE_ARGUMENTS, REFERENCE_EMITTER
from .stats import Figure, emit_json


class _Counter(BaseHTTPRequestHandler):
    received = 0
    requests = 0
    lock = threading.Lock()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        events = len(json.loads(body)["events"])
        with self.lock:
            type(self).received += events
            type(self).requests += 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        answer = json.dumps({"events": type(self).received, "requests": type(self).requests}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


def sink() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


def rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def send(package_dir: Path, endpoint: str, count: int) -> None:
    sys.path.insert(0, str(package_dir))
    telemetry = __import__(PACKAGE)
    emit = getattr(telemetry.events, REFERENCE_EMITTER)
    queue_size = 10_000
    telemetry.configure(
        app_version="1.0",
        consent="all",
        sinks=[telemetry.HttpSink(endpoint)],
        data_dir=tempfile.mkdtemp(),
        queue_size=queue_size,
        flush_timeout=60.0,
    )
    before = rss_kib()
    waits = 0
    start = time.perf_counter()
    for index in range(count):
        if index % 1000 == 0:
            while telemetry.status().queued > queue_size - 2000:
                waits += 1
                time.sleep(0.001)
        emit(**REFERENCE_ARGUMENTS)
    flushed = telemetry.flush(timeout=600.0)
    elapsed = time.perf_counter() - start
    status = telemetry.status()
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "flushed": flushed,
                "accepted": status.accepted,
                "dropped": status.dropped,
                "rss_before_kib": before,
                "rss_peak_kib": rss_kib(),
                "waits": waits,
            }
        )
    )


def _received(port: int) -> dict[str, int]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/count", timeout=10) as answer:
        result: dict[str, int] = json.loads(answer.read())
        return result


def measure(package_dir: Path, counts: list[int], repeats: int) -> dict[str, object]:
    server = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.delivery", "--sink"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        results: dict[str, object] = {"receiver": "standard-library HTTP server (inflates, parses, counts)"}
        env = {k: v for k, v in os.environ.items() if k != "DO_NOT_TRACK"}
        for count in counts:
            rates, peaks, growth = [], [], []
            for _ in range(repeats):
                before = _received(port)["events"]
                command = [
                    sys.executable, "-m", "benchmarks.delivery", "--send", str(count),
                    "--package-dir", str(package_dir), "--endpoint", f"http://127.0.0.1:{port}/collect",
                ]  # fmt: skip
                run = json.loads(subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout)
                arrived = _received(port)["events"] - before
                if not run["flushed"] or run["dropped"] or arrived != count:
                    raise RuntimeError(f"lost events: sent {count}, received {arrived}: {run}")
                rates.append(count / run["seconds"])
                peaks.append(run["rss_peak_kib"] / 1024)
                growth.append((run["rss_peak_kib"] - run["rss_before_kib"]) / 1024)
            results[str(count)] = {
                "rate": Figure.of(rates, "events/s"),
                "peak_rss": Figure.of(peaks, "MiB"),
                "rss_growth": Figure.of(growth, "MiB"),
            }
        return results
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sink", action="store_true")
    parser.add_argument("--send", type=int)
    parser.add_argument("--endpoint")
    parser.add_argument("--package-dir", type=Path)
    parser.add_argument("--counts", type=lambda text: [int(n) for n in text.split(",")])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.sink:
        sink()
    elif args.send is not None:
        send(args.package_dir, args.endpoint, args.send)
    else:
        emit_json(measure(args.package_dir, args.counts, args.repeats))


if __name__ == "__main__":
    main()
