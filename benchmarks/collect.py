"""Target 6: validated events stored per second by `telemetry-gen collect`, from 4 concurrent senders,
as a ratio to a no-op receiver measured in the same run.

The no-op receiver is the collector's own HTTP server (same socket, protocol and limits) with an app
that reads the body, gunzips it and parses the JSON, as the collector does, then answers 200 without
validating or storing anything. The collector runs as the `telemetry-gen collect` command with its
default settings, into the file store and, when `clickhouse-server` is installed, into a ClickHouse
server started for the run, its files on a journaled ext4 made for the run (see `server_folder`).

The senders are 4 processes, each POSTing its share of ready-made gzipped batches (100 reference
events with unique ids, as the runtime sends them) one after the other over one kept-alive
connection. The time runs from their common start until the last answer; the run counts only if
every batch was answered 200 with all its events accepted.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import http.client
import json
import multiprocessing
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .catalogs import REFERENCE_ARGUMENTS, REFERENCE_EMITTER
from .emit import import_package
from .stats import Figure, emit_json

SENDERS = 4
BATCH = 100
IMAGE_BYTES = 8 * 1024**3  # the ClickHouse server's file system; sparse, so only what it writes takes room
REPO = Path(__file__).resolve().parents[1]


def template(package_dir: Path) -> dict[str, Any]:
    """The reference event as the generated package makes it."""
    telemetry = import_package(package_dir)
    sink = telemetry.MemorySink()
    telemetry.configure(app_version="1.0", consent="all", sinks=[sink], data_dir=tempfile.mkdtemp())
    getattr(telemetry.events, REFERENCE_EMITTER)(**REFERENCE_ARGUMENTS)
    telemetry.flush(timeout=10.0)
    event: dict[str, Any] = sink.events[0]
    return event


def bodies(event: dict[str, Any], count: int, run: int) -> list[bytes]:
    """Gzipped batches of `count` copies of `event` in all, each with an id of its own."""
    batches = []
    for start in range(0, count, BATCH):
        events = [{**event, "id": f"{run:08x}{n:024x}"} for n in range(start, min(start + BATCH, count))]
        document = {"sent_at": event["timestamp"], "events": events}
        batches.append(gzip.compress(json.dumps(document).encode("utf-8"), compresslevel=6))
    return batches


def send(url: str, batches: list[bytes], start: Any, failures: Any) -> None:
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=120)
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    start.wait()
    for body in batches:
        connection.request("POST", parts.path, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read()
        if response.status != 200 or json.loads(answer).get("accepted") != BATCH:
            with failures.get_lock():
                failures.value += 1
    connection.close()


def rate(url: str, batches: list[bytes], events: int) -> float:
    """Events per second from `SENDERS` processes sharing `batches`."""
    context = multiprocessing.get_context("fork")
    start, failures = context.Barrier(SENDERS + 1), context.Value("i", 0)
    senders = [context.Process(target=send, args=(url, batches[k::SENDERS], start, failures)) for k in range(SENDERS)]
    for process in senders:
        process.start()
    start.wait()
    began = time.perf_counter()
    for process in senders:
        process.join()
    elapsed = time.perf_counter() - began
    if failures.value or any(p.exitcode for p in senders):
        raise RuntimeError(f"{failures.value} batch(es) not stored at {url}")
    return events / elapsed


def noop_receiver() -> None:
    """Serve the no-op app on a free loopback port; print its URL."""
    from telemetry_gen.collector.app import EVENTS_PATH, _read_body, _respond
    from telemetry_gen.collector.server import listen, make_server
    from telemetry_gen.collector.wire import Limits, batch_events, inflate, parse_json

    class Noop:
        limits = Limits()

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                return
            encoding = dict(scope["headers"]).get(b"content-encoding", b"").decode()
            body = await _read_body(receive, self.limits)
            document, _ = parse_json(inflate(body, encoding, self.limits.max_json_bytes), self.limits)
            events = batch_events(document, self.limits.max_events)
            await _respond(send, 200, {"accepted": len(events), "bad": 0, "duplicates": 0}, {})

        def count_refused(self) -> None:
            pass

    sock = listen("127.0.0.1", 0)
    print(f"no-op receiver at http://127.0.0.1:{sock.getsockname()[1]}{EVENTS_PATH}", flush=True)
    make_server(Noop()).run(sockets=[sock])  # type: ignore[arg-type]


def started(command: list[str]) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=REPO)
    assert process.stdout is not None
    found = re.search(r"http://\S+", process.stdout.readline())
    if found is None:
        process.kill()
        raise RuntimeError(f"{' '.join(command)} did not start")
    return process, found.group()


def measure(package_dir: Path, catalog: Path, count: int, repeats: int) -> dict[str, object]:
    event = template(package_dir)
    collect = [str(Path(sys.executable).parent / "telemetry-gen"), "collect", str(catalog), "--port", "0"]
    work = Path(tempfile.mkdtemp(prefix="bench-collect-"))
    receivers: dict[str, list[str]] = {
        "no-op receiver": [sys.executable, "-m", "benchmarks.collect", "--noop"],
        "collect, file store": [*collect, "--store", f"file:{work / 'files'}"],
    }
    try:
        with contextlib.ExitStack() as running:
            if shutil.which("clickhouse-server"):
                sys.path.insert(0, str(REPO / "tests"))
                from local_clickhouse import ClickHouse

                folder, where = running.enter_context(server_folder(work))
                clickhouse = ClickHouse.start(folder)
                running.callback(clickhouse.stop)
                receivers[f"collect, ClickHouse store (its server's files {where})"] = [
                    *collect,
                    "--store",
                    clickhouse.url("bench"),
                ]
            samples = interleaved(receivers, event, count, repeats)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {
        "events": count,
        "senders": SENDERS,
        "rates": {name: Figure.of(found, "events/s") for name, found in samples.items()},
    }


def interleaved(
    receivers: dict[str, list[str]], event: dict[str, Any], count: int, repeats: int
) -> dict[str, list[float]]:
    """Each receiver's rates (a receiver: a command that prints its URL), `repeats` of each."""
    samples: dict[str, list[float]] = {name: [] for name in receivers}
    running = {name: started(command) for name, command in receivers.items()}
    try:
        for run in range(repeats):  # interleaved, so a busy moment of the machine hits every receiver
            batches = bodies(event, count, run)
            for name, (_, url) in running.items():
                samples[name].append(rate(url, batches, count))
    finally:
        for process, _ in running.values():
            process.terminate()
            process.wait()
    return samples


@contextlib.contextmanager
def server_folder(work: Path) -> Iterator[tuple[Path, str]]:
    """A folder for the ClickHouse server's files, and where it is: on a journaled ext4 made for the
    run where this process may make and mount one (as root), else in `work`.

    Without a journal (as on the machine the README's figures come from), ext4 passes over every
    inode freed in the last minutes, one by one, each time it creates a file: after any large
    deletion (an earlier part of the benchmarks, an earlier run's folder) ClickHouse, which writes
    dozens of files per insert, slows to a fraction of its speed for minutes, whatever the
    collector does. With a journal, as a database server's file system has, it does not."""
    folder = work / "clickhouse"
    folder.mkdir()
    if not _mounted_ext4(work / "clickhouse.ext4", folder):
        yield folder, "in a temporary folder"
        return
    try:
        yield folder, "on a journaled ext4 made for the run"
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def _mounted_ext4(image: Path, folder: Path) -> bool:
    """Whether a new ext4 file system, in the file `image`, is now mounted on `folder`."""
    try:
        with image.open("wb") as file:
            file.truncate(IMAGE_BYTES)
        for command in (["mkfs.ext4", "-q", "-F", str(image)], ["mount", "-o", "loop", str(image), str(folder)]):
            subprocess.run(command, check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--noop", action="store_true")
    parser.add_argument("--catalog", type=Path)
    parser.add_argument("--package-dir", type=Path)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.noop:
        noop_receiver()
    else:
        emit_json(measure(args.package_dir, args.catalog, args.events, args.repeats))


if __name__ == "__main__":
    main()
