"""Target 5: events per second from one process to a local collector, and the sender's peak memory.

The sender (`--send`) is an app in a fresh process: the generated package with consent `all` and
an `HttpSink` with its defaults (batches of 100 events, gzipped JSON POSTs) and the default queue
of 10,000 events. It emits the reference event as fast as the queue takes it: the loop waits
while the queue is nearly full, since a full queue drops events (by design, an app never waits
for telemetry). The time runs from the first emit until `flush()` returns, when the collector
has answered every batch. Peak memory is the process's peak resident set size (`VmHWM`).

The receiving side is `telemetry-gen collect` in its own process, on 127.0.0.1, validating every
event with the catalog's schemas and storing it (flushed and fsynced per batch). Arrivals are
counted from the files it stored, so an event counts only once it is on disk.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .catalogs import PACKAGE, REFERENCE_ARGUMENTS, REFERENCE_EMITTER
from .stats import Figure, emit_json


def rss_kib() -> int:
    """This process's peak resident set size in KiB.

    Linux's `VmHWM` is this program's own; `ru_maxrss` survives `exec`, so it would also count
    the parent that started the sender (the compiler's peak while it made the `.pyc` files).
    """
    try:
        peak = re.search(r"^VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    except OSError:
        peak = None
    return int(peak.group(1)) if peak else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


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


def stored(data_dir: Path) -> int:
    """Events the collector has stored, counted as `telemetry-gen report` counts them (complete lines).

    Imported here, not at the top: the sender runs this module too, and its peak memory is measured.
    """
    from telemetry_gen.collector.store import FileStore

    return sum(FileStore(data_dir, 0).stored_counts().values())


def measure(package_dir: Path, catalog: Path, counts: list[int], repeats: int) -> dict[str, object]:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-collector-"))
    collector = [str(Path(sys.executable).parent / "telemetry-gen"), "collect", str(catalog)]
    server = subprocess.Popen(
        [*collector, "--data-dir", str(data_dir), "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        endpoint = re.search(r"http://\S+", server.stdout.readline())
        if endpoint is None:
            raise RuntimeError("the collector did not start")
        results: dict[str, object] = {"receiver": "telemetry-gen collect (validates, stores, fsyncs per batch)"}
        # An app runs from compiled `.pyc` files: compile once, so no sender's peak memory is the compiler's.
        compileall.compile_dir(package_dir, quiet=1)
        env = {k: v for k, v in os.environ.items() if k not in ("DO_NOT_TRACK", "PYTHONDONTWRITEBYTECODE")}
        total = 0  # stored so far (the folder starts empty): each repeat reads the stored files once
        for count in counts:
            rates, peaks, growth = [], [], []
            for _ in range(repeats):
                command = [
                    sys.executable, "-m", "benchmarks.delivery", "--send", str(count),
                    "--package-dir", str(package_dir), "--endpoint", endpoint.group(),
                ]  # fmt: skip
                run = json.loads(subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout)
                before, total = total, stored(data_dir)
                arrived = total - before
                if not run["flushed"] or run["dropped"] or arrived != count:
                    raise RuntimeError(f"lost events: sent {count}, stored {arrived}: {run}")
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
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--catalog", type=Path)
    parser.add_argument("--send", type=int)
    parser.add_argument("--endpoint")
    parser.add_argument("--package-dir", type=Path)
    parser.add_argument("--counts", type=lambda text: [int(n) for n in text.split(",")])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.send is not None:
        send(args.package_dir, args.endpoint, args.send)
    else:
        emit_json(measure(args.package_dir, args.catalog, args.counts, args.repeats))


if __name__ == "__main__":
    main()
