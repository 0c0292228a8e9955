"""Background delivery to a real HTTP endpoint on 127.0.0.1: batching, gzip, the GET form,
retries, refusals, queue overflow, the spool, exit, fork.

The example catalog is built afresh for these tests (`example_build`), so they drive the runtime's
source rather than the copy committed in `generated/`."""

from __future__ import annotations

import contextlib
import email.utils
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import jsonschema
import pytest
from local_endpoint import FAST, Answer, Endpoint, endpoint, unused_port

from conftest import EXAMPLE_PACKAGE, import_generated


@pytest.fixture
def package(example_build: Path) -> ModuleType:
    return import_generated(example_build, EXAMPLE_PACKAGE)


@pytest.fixture
def server() -> Iterator[Endpoint]:
    with endpoint() as running:
        yield running


def exited(package: ModuleType, uptime: float = 1.0) -> None:
    package.events.app_exited(exit_reason="normal", uptime_seconds=uptime)


def test_batches_are_gzipped_json_posts_of_schema_valid_events(
    package: ModuleType, server: Endpoint, tmp_path: Path, example_build: Path
) -> None:
    package.configure(
        app_version="3.2.0", sinks=[package.HttpSink(server.url)], data_dir=tmp_path, consent="all", batch_size=3
    )
    for uptime in range(7):
        exited(package, float(uptime))
    assert package.flush(5.0)
    requests = server.wait_for(3)
    assert sum(len(r.events) for r in requests) == 7
    assert max(len(r.events) for r in requests) == 3  # batches of up to batch_size
    assert {r.headers["Content-Encoding"] for r in requests} == {"gzip"}
    assert {r.headers["Content-Type"] for r in requests} == {"application/json"}
    assert all(r.body is not None and r.body["sent_at"].endswith("Z") for r in requests)
    events = server.events()
    assert [e["data"]["uptime_seconds"] for e in events] == [float(u) for u in range(7)]
    assert len({e["id"] for e in events}) == 7
    schema = json.loads((example_build / "schemas/app/exited.v1.schema.json").read_text("utf-8"))
    for event in events:
        jsonschema.validate(event, schema)


def test_an_event_has_one_id_in_every_sink(package: ModuleType, server: Endpoint, tmp_path: Path) -> None:
    """A sink on the caller's thread and one on the delivery thread get the same envelope id."""
    memory = package.MemorySink()
    package.configure(
        app_version="3.2.0", sinks=[memory, package.HttpSink(server.url)], data_dir=tmp_path, consent="all"
    )
    exited(package, 1.0)
    exited(package, 2.0)
    assert package.flush(5.0)
    sent = server.events()
    assert [e["id"] for e in sent] == [e["id"] for e in memory.events]
    assert len({e["id"] for e in sent}) == 2
    assert [e["timestamp"] for e in sent] == [e["timestamp"] for e in memory.events]


def test_get_form_sends_one_query_string_request_per_event(
    package: ModuleType, server: Endpoint, tmp_path: Path
) -> None:
    sink = package.HttpSink(server.url, method="GET")
    package.configure(app_version="3.2.0", commit="4f2a9c1", sinks=[sink], data_dir=tmp_path, consent="all")
    package.events.app_started(command="watch", interactive=True, enabled_features=["tor", "dry-run"])
    exited(package)
    assert package.flush(5.0)
    first, second = server.wait_for(2)
    assert first.method == "GET" and first.body is None
    assert first.query["event"] == "app/started" and second.query["event"] == "app/exited"
    assert first.query["c_app_version"] == "3.2.0" and first.query["c_app_commit"] == "4f2a9c1"
    assert first.query["command"] == "watch"
    assert json.loads(first.query["interactive"]) is True
    assert json.loads(first.query["enabled_features"]) == ["tor", "dry-run"]
    assert json.loads(second.query["uptime_seconds"]) == 1.0
    assert first.query["id"] != second.query["id"]


def test_the_get_form_retries_the_same_event(package: ModuleType, server: Endpoint, tmp_path: Path) -> None:
    server.script = [Answer(503), Answer(reset=True)]
    sink = package.HttpSink(server.url, method="GET", **FAST)
    package.configure(app_version="3.2.0", sinks=[sink], data_dir=tmp_path, consent="all")
    exited(package, 7.0)
    requests = server.wait_for(3)
    assert package.flush(5.0)
    assert len({r.query["id"] for r in requests}) == 1
    assert [json.loads(r.query["uptime_seconds"]) for r in requests] == [7.0, 7.0, 7.0]


@pytest.mark.parametrize(
    "failures",
    [
        [Answer(503), Answer(500)],
        [Answer(408)],
        [Answer(429, {"Retry-After": "0"})],
        [Answer(reset=True), Answer(reset=True)],
        [Answer(delay=1.5)],  # slower than the sink's timeout
    ],
    ids=["5xx", "408", "429", "connection reset", "timeout"],
)
def test_temporary_failures_are_retried_until_delivered(
    package: ModuleType, server: Endpoint, tmp_path: Path, failures: list[Answer]
) -> None:
    server.script = list(failures)
    sink = package.HttpSink(server.url, **{**FAST, "timeout": 0.5})
    package.configure(app_version="3.2.0", sinks=[sink], data_dir=tmp_path, consent="all")
    exited(package)
    requests = server.wait_for(len(failures) + 1)
    assert package.flush(5.0)
    time.sleep(0.2)
    assert len(server.received) == len(failures) + 1
    assert all(len(r.events) == 1 for r in requests)
    assert len({r.events[0]["id"] for r in requests}) == 1  # the same event, retried
    assert package.status().dropped == {}


def test_retry_after_is_honoured(package: ModuleType, server: Endpoint, tmp_path: Path) -> None:
    server.script = [Answer(429, {"Retry-After": "1"})]
    sink = package.HttpSink(server.url, **{**FAST, "max_backoff": 5.0})
    package.configure(app_version="3.2.0", sinks=[sink], data_dir=tmp_path, consent="all")
    exited(package)
    first, second = server.wait_for(2)
    assert second.at - first.at >= 0.95


@pytest.mark.parametrize("status", [400, 401, 404, 413, 301])
def test_other_answers_drop_the_batch_and_count_it(
    package: ModuleType, server: Endpoint, tmp_path: Path, status: int
) -> None:
    server.script = [Answer(status, {"Location": server.url + "2"})]
    package.configure(
        app_version="3.2.0", sinks=[package.HttpSink(server.url, **FAST)], data_dir=tmp_path, consent="all"
    )
    exited(package)
    exited(package)
    assert package.flush(5.0)
    time.sleep(0.2)
    assert len(server.received) == 1
    assert package.status().dropped == {f"http {status}: refused": 2}


def test_a_full_queue_drops_and_counts_without_blocking(package: ModuleType, server: Endpoint, tmp_path: Path) -> None:
    server.script = [Answer(delay=2.0)]  # the delivery thread is stuck in the first request
    sink = package.HttpSink(server.url, **{**FAST, "timeout": 10.0})  # slow, not failed: sent once
    package.configure(app_version="3.2.0", sinks=[sink], data_dir=tmp_path, consent="all", queue_size=20, batch_size=1)
    exited(package)
    server.wait_for(1)
    for _ in range(100):
        exited(package)
    status = package.status()
    assert status.accepted == 21 and status.queued == 20  # a dropped event is not counted as accepted
    assert status.dropped == {"queue full": 80}
    assert package.flush(10.0)
    assert len(server.events()) == 21


def test_undeliverable_events_without_spool_are_counted(package: ModuleType, tmp_path: Path) -> None:
    sink = package.HttpSink(f"http://127.0.0.1:{unused_port()}/collect", max_attempts=2, **FAST)
    package.configure(app_version="3.2.0", sinks=[sink], data_dir=tmp_path, consent="all")
    exited(package)
    assert package.flush(5.0)
    assert package.status().dropped == {"http: undeliverable, no spool": 1}


def spooled_batches(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "spool").rglob("*.jsonl"))


def test_the_spool_keeps_events_while_offline_and_sends_them_in_order(package: ModuleType, tmp_path: Path) -> None:
    port = unused_port()
    sink = package.HttpSink(f"http://127.0.0.1:{port}/collect", spool_max_bytes=1_000_000, max_attempts=1, **FAST)
    package.configure(app_version="3.2.0", sinks=[sink], data_dir=tmp_path, consent="all")
    for uptime in range(5):
        exited(package, float(uptime))
        assert package.flush(5.0)
    assert len(spooled_batches(tmp_path)) == 5
    with endpoint(port) as server:  # back online
        exited(package, 5.0)
        assert package.flush(5.0)
        server.wait_for(6)
    assert [e["data"]["uptime_seconds"] for e in server.events()] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert spooled_batches(tmp_path) == []


def test_the_spool_drops_the_oldest_past_its_cap(package: ModuleType, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{unused_port()}/collect"
    sink = package.HttpSink(url, spool_max_bytes=3000, max_attempts=1, **FAST)
    package.configure(app_version="3.2.0", sinks=[sink], data_dir=tmp_path, consent="all")
    for uptime in range(20):
        exited(package, float(uptime))
        assert package.flush(5.0)
    batches = spooled_batches(tmp_path)
    kept = [json.loads(line)["data"]["uptime_seconds"] for path in batches for line in path.read_text().splitlines()]
    assert sum(p.stat().st_size for p in batches) <= 3000
    assert kept == [float(u) for u in range(20 - len(kept), 20)]  # the newest survive
    assert package.status().dropped == {"spool full: oldest dropped": 20 - len(kept)}


def test_the_spool_keeps_a_writes_batches_at_once_and_hands_them_out_oldest_first(
    package: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool_module = importlib.import_module("telemetry_gen_runtime.spool")
    dropped: list[tuple[str, int]] = []
    spool = spool_module.Spool(tmp_path / "spool", 100, lambda reason, events: dropped.append((reason, events)))
    listings: list[int] = []
    names: Callable[[object], list[str]] = spool_module.Spool._names

    def counted_names(self: object) -> list[str]:
        listings.append(1)
        return names(self)

    monkeypatch.setattr(spool_module.Spool, "_names", counted_names)
    spool.add([["a" * 30, "b" * 30], ["c" * 30], ["d" * 30]])  # 62 + 31 + 31 bytes: the first is dropped
    assert len(listings) == 1  # the cap is enforced once for the write, not once per batch
    assert dropped == [("spool full: oldest dropped", 2)]
    waiting = spool.waiting()
    assert [spool.read(path) for path in waiting] == [["c" * 30], ["d" * 30]]
    assert spool.claim(waiting[0]) is not None
    assert spool.claim(waiting[0]) is None  # taken already
    assert [spool.read(path) for path in spool.waiting()] == [["d" * 30]]  # this process's claim stays
    finished = subprocess.Popen([sys.executable, "-c", ""])
    finished.wait()
    (tmp_path / "spool" / f"00000000000000000001-dead.{finished.pid}.claim").write_text("e\n")
    assert [spool.read(path) for path in spool.waiting()] == [["e"], ["d" * 30]]  # a dead process's is taken back
    spool.close()
    assert spool.waiting() == [] and spool.claim(waiting[1]) is None


def test_opting_out_deletes_the_queue_the_spool_and_the_id(package: ModuleType, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{unused_port()}/collect"
    sink = package.HttpSink(url, spool_max_bytes=1_000_000, max_attempts=1, **FAST)
    package.configure(app_version="3.2.0", sinks=[sink], data_dir=tmp_path, consent="all")
    exited(package)
    assert package.flush(5.0)
    assert spooled_batches(tmp_path) and (tmp_path / "user_id.json").exists()
    package.disable()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["consent.json"]
    assert json.loads((tmp_path / "consent.json").read_text()) == {"level": "off"}


APP = """\
import sys, time
sys.path.insert(0, {python!r})
import vigilant_trader_telemetry as t
{head}
sink = t.HttpSink({url!r}, spool_max_bytes={spool}, {sink_options})
t.configure(app_version="3.2.0", sinks=[sink], data_dir={data!r}, flush_timeout={flush_timeout})
for i in range({count}):
    t.events.app_exited(exit_reason="normal", uptime_seconds=float({first} + i))
print("emitted", flush=True)
{tail}
"""
QUICK_RETRIES = "backoff=0.05, max_backoff=0.2, timeout=1.0"


def run_app(
    example: Path,
    tmp_path: Path,
    url: str,
    *,
    count: int,
    first: int = 0,
    spool: int | None = None,
    flush_timeout: float = 2.0,
    sink_options: str = QUICK_RETRIES,
    head: str = "",
    tail: str = "",
) -> subprocess.Popen[str]:
    """The example app in its own process: it emits `count` events (uptimes `first`, `first + 1`, ...)
    and exits, unless `tail` keeps it running."""
    script = tmp_path / "app.py"
    script.write_text(
        APP.format(
            python=str(example / "python"),
            head=head,
            url=url,
            spool=spool,
            sink_options=sink_options,
            data=str(tmp_path / "data"),
            flush_timeout=flush_timeout,
            count=count,
            first=first,
            tail=tail,
        )
    )
    env = {**os.environ, "VIGILANT_TRADER_TELEMETRY": "all"}
    return subprocess.Popen(
        [sys.executable, str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finished(process: subprocess.Popen[str]) -> tuple[str, str]:
    """What an app that exits by itself printed, once it exited cleanly (within a generous bound)."""
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    return stdout, stderr


def spooled_uptimes(data_dir: Path) -> list[float]:
    """The events in the spool, whether waiting or claimed by a process that has ended."""
    files = [p for p in (data_dir / "spool").rglob("*") if p.suffix in (".jsonl", ".claim")]
    return sorted(json.loads(line)["data"]["uptime_seconds"] for p in files for line in p.read_text().splitlines())


def test_exit_delivers_everything_queued_when_the_endpoint_is_up(
    example_build: Path, server: Endpoint, tmp_path: Path
) -> None:
    finished(run_app(example_build, tmp_path, server.url, count=500))
    assert sorted(e["data"]["uptime_seconds"] for e in server.events()) == [float(i) for i in range(500)]


@contextlib.contextmanager
def endpoint_down(down: str) -> Iterator[str]:
    """The URL of an endpoint that refuses connections, or that accepts them and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(100)
        port = listener.getsockname()[1] if down == "never answers" else unused_port()
        yield f"http://127.0.0.1:{port}/collect"


@pytest.mark.parametrize("down", ["refused", "never answers"])
def test_exit_is_bounded_when_the_endpoint_is_down(example_build: Path, tmp_path: Path, down: str) -> None:
    with endpoint_down(down) as url:
        started = time.monotonic()
        finished(run_app(example_build, tmp_path, url, count=50, flush_timeout=1.0))
        elapsed = time.monotonic() - started
    assert elapsed < 1.0 + 3.0, f"exit took {elapsed:.1f}s"  # the flush bound plus interpreter start-up


@pytest.mark.parametrize("down", ["refused", "never answers"])
def test_exit_keeps_every_queued_event_in_the_spool_when_the_endpoint_is_down(
    example_build: Path, tmp_path: Path, down: str
) -> None:
    with endpoint_down(down) as url:
        started = time.monotonic()
        _, stderr = finished(run_app(example_build, tmp_path, url, count=1000, spool=10_000_000))
        elapsed = time.monotonic() - started
    assert spooled_uptimes(tmp_path / "data") == [float(i) for i in range(1000)]
    assert "dropped" not in stderr
    assert elapsed < 2.0 + 5.0, f"exit took {elapsed:.1f}s"  # the flush bound, start-up and 1,000 emits


def test_an_app_that_exits_right_after_emitting_loses_nothing_across_an_outage(
    example_build: Path, tmp_path: Path
) -> None:
    port = unused_port()
    url = f"http://127.0.0.1:{port}/collect"
    runs = [(run * 400, 400) for run in range(5)]  # (first uptime, events) of each run
    for first, count in runs[:3]:  # the collector is down; the sink retries as it does by default
        finished(run_app(example_build, tmp_path, url, count=count, first=first, spool=10_000_000, sink_options=""))
    with endpoint(port) as server:  # and back
        for first, count in runs[3:]:
            app = run_app(example_build, tmp_path, url, count=count, first=first, spool=10_000_000, flush_timeout=30)
            finished(app)
    uptimes = sorted(e["data"]["uptime_seconds"] for e in server.events())
    assert uptimes == [float(i) for i in range(2000)]  # every event, once
    assert spooled_uptimes(tmp_path / "data") == []


def test_a_restarted_app_sends_its_spool_before_emitting_anything(example_build: Path, tmp_path: Path) -> None:
    port = unused_port()
    url = f"http://127.0.0.1:{port}/collect"
    finished(run_app(example_build, tmp_path, url, count=150, spool=10_000_000))
    assert len(spooled_uptimes(tmp_path / "data")) == 150
    with endpoint(port) as server:
        finished(run_app(example_build, tmp_path, url, count=0, spool=10_000_000, flush_timeout=30))
    assert sorted(e["data"]["uptime_seconds"] for e in server.events()) == [float(i) for i in range(150)]
    assert spooled_uptimes(tmp_path / "data") == []


# Registered before `configure`, so it runs after the runtime's own exit hook: it prints what
# `status()` counted once the exit flush gave up (given a moment for the attempt it ended).
PRINT_DROPPED_AT_EXIT = """\
import atexit, json

def print_dropped():
    deadline = time.monotonic() + 10
    while sum(t.status().dropped.values()) < 1000 and time.monotonic() < deadline:
        time.sleep(0.05)
    print(json.dumps(t.status().dropped))

atexit.register(print_dropped)
"""


def test_without_a_spool_what_exit_cannot_send_is_counted_and_logged_once(example_build: Path, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{unused_port()}/collect"
    slow_retries = "backoff=30.0, max_backoff=30.0"  # the first batch waits to be tried again
    process = run_app(
        example_build,
        tmp_path,
        url,
        count=1000,
        flush_timeout=1.0,
        sink_options=slow_retries,
        head=PRINT_DROPPED_AT_EXIT,
    )
    stdout, stderr = finished(process)
    dropped = json.loads(stdout.splitlines()[-1])
    assert sum(dropped.values()) == 1000
    assert dropped["not delivered within flush_timeout"] >= 900  # all but the batch being tried
    assert stderr.count("not delivered within flush_timeout") == 1


def test_spooled_events_survive_kill_9_and_leave_after_restart(example_build: Path, tmp_path: Path) -> None:
    port = unused_port()
    url = f"http://127.0.0.1:{port}/collect"
    process = run_app(example_build, tmp_path, url, count=30, spool=1_000_000, tail="time.sleep(60)")
    assert process.stdout is not None and process.stdout.readline().strip() == "emitted"
    deadline = time.monotonic() + 10
    while sum(p.read_text().count("\n") for p in spooled_batches(tmp_path / "data")) < 30:
        assert time.monotonic() < deadline, "events never reached the spool"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    with endpoint(port) as server:
        finished(run_app(example_build, tmp_path, url, count=1, spool=1_000_000))
    uptimes = sorted(e["data"]["uptime_seconds"] for e in server.events())
    assert uptimes == sorted([float(i) for i in range(30)] + [0.0])  # 30 from before the kill, 1 after
    assert spooled_batches(tmp_path / "data") == []


@pytest.mark.parametrize("spool", [None, 1_000_000], ids=["no spool", "spool"])
def test_a_forked_child_sends_its_own_events_once(
    server: Endpoint, tmp_path: Path, example_build: Path, spool: int | None
) -> None:
    code = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {str(example_build / "python")!r})
        import vigilant_trader_telemetry as t
        sink = t.HttpSink({server.url!r}, spool_max_bytes={spool})
        t.configure(app_version="3.2.0", sinks=[sink], data_dir={str(tmp_path)!r}, consent="all", batch_interval=30)
        t.events.app_exited(exit_reason="normal", uptime_seconds=1.0)  # queued in the parent
        pid = os.fork()
        if pid == 0:
            t.events.app_exited(exit_reason="normal", uptime_seconds=2.0)
            t.flush(5)
            os._exit(0)
        os.waitpid(pid, 0)
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)
    events = sorted(server.events(), key=lambda e: e["data"]["uptime_seconds"])
    assert [e["data"]["uptime_seconds"] for e in events] == [1.0, 2.0]
    assert events[0]["context"]["session_id"] != events[1]["context"]["session_id"]
    assert events[0]["context"]["instance_id"] == events[1]["context"]["instance_id"]


def test_a_fork_while_the_spool_is_busy_leaves_the_child_a_working_spool(
    server: Endpoint, tmp_path: Path, example_build: Path
) -> None:
    """The parent's spool thread may be reading the spool when the app forks: the child must
    still keep and send its own events, not wait forever on a lock nobody in it releases."""
    code = textwrap.dedent(
        f"""
        import os, sys, threading
        sys.path.insert(0, {str(example_build / "python")!r})
        import vigilant_trader_telemetry as t
        sink = t.HttpSink({server.url!r}, spool_max_bytes=1_000_000)
        t.configure(app_version="3.2.0", sinks=[sink], data_dir={str(tmp_path)!r}, consent="all")
        busy, release = threading.Event(), threading.Event()

        def read_the_spool():  # as the spool thread does when it lists the waiting batches
            with sink._spool._lock:
                busy.set()
                release.wait()

        threading.Thread(target=read_the_spool, daemon=True).start()
        busy.wait()
        pid = os.fork()
        if pid == 0:
            t.events.app_exited(exit_reason="normal", uptime_seconds=2.0)
            os._exit(0 if t.flush(5) else 1)
        release.set()
        _, status = os.waitpid(pid, 0)
        sys.exit(os.waitstatus_to_exitcode(status))
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)
    assert [e["data"]["uptime_seconds"] for e in server.events()] == [2.0]


def test_large_batches_are_split_to_stay_under_the_request_size(
    package: ModuleType, server: Endpoint, tmp_path: Path
) -> None:
    sink = package.HttpSink(server.url, max_request_bytes=2000)
    package.configure(app_version="3.2.0", sinks=[sink], data_dir=tmp_path, consent="all", batch_size=100)
    for uptime in range(20):
        exited(package, float(uptime))
    assert package.flush(5.0)
    requests = server.wait_for(2)
    assert len(requests) > 1
    assert all(len(json.dumps(r.body["events"])) <= 2000 + 100 for r in requests if r.body)
    assert [e["data"]["uptime_seconds"] for e in server.events()] == [float(u) for u in range(20)]


def test_a_long_retry_after_pauses_sending_and_the_spool_keeps_the_events(
    package: ModuleType, server: Endpoint, tmp_path: Path
) -> None:
    server.script = [Answer(503, {"Retry-After": "3600"})]
    sink = package.HttpSink(server.url, spool_max_bytes=1_000_000, **FAST)
    package.configure(app_version="3.2.0", sinks=[sink], data_dir=tmp_path, consent="all")
    exited(package)
    assert package.flush(5.0)
    exited(package)
    assert package.flush(5.0)
    time.sleep(0.2)
    assert len(server.received) == 1  # not asked again within the hour
    assert sum(p.read_text().count("\n") for p in spooled_batches(tmp_path)) == 2


def test_without_a_spool_a_long_retry_after_pauses_sending(
    package: ModuleType, server: Endpoint, tmp_path: Path
) -> None:
    server.script = [Answer(503, {"Retry-After": "3600"})]
    package.configure(
        app_version="3.2.0", sinks=[package.HttpSink(server.url, **FAST)], data_dir=tmp_path, consent="all"
    )
    for _ in range(10):  # ten batches
        exited(package)
        assert package.flush(5.0)
    time.sleep(0.2)
    assert len(server.received) == 1  # not asked again within the hour
    assert sum(package.status().dropped.values()) == 10  # no spool to keep them: counted


def test_retry_after_forms(package: ModuleType) -> None:
    http = importlib.import_module("telemetry_gen_runtime.http")
    now = 1_000_000.0
    assert http.retry_after_seconds("120", now) == 120.0
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert http.retry_after_seconds(date, now) == 30.0
    assert http.retry_after_seconds(email.utils.formatdate(now - 30, usegmt=True), now) == 0.0
    assert http.retry_after_seconds("soon", now) is None
    assert http.retry_after_seconds(None, now) is None


@pytest.mark.parametrize(
    ("platform", "environ", "expected"),
    [
        ("linux", {}, "{home}/.local/share/vigilant-trader"),
        ("linux", {"XDG_DATA_HOME": "/xdg"}, "/xdg/vigilant-trader"),
        ("darwin", {}, "{home}/Library/Application Support/vigilant-trader"),
        ("win32", {"LOCALAPPDATA": "/appdata/local"}, "/appdata/local/vigilant-trader"),
        ("win32", {}, "{home}/AppData/Local/vigilant-trader"),
    ],
)
def test_the_user_data_folder_follows_the_platform(
    package: ModuleType, monkeypatch: pytest.MonkeyPatch, platform: str, environ: dict[str, str], expected: str
) -> None:
    storage = importlib.import_module("telemetry_gen_runtime.storage")
    home = Path("/home/someone")
    monkeypatch.setattr(storage.sys, "platform", platform)
    monkeypatch.setenv("HOME", str(home))
    for name in ("XDG_DATA_HOME", "LOCALAPPDATA"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert storage.user_data_dir("vigilant-trader") == Path(expected.format(home=home))
