"""The collector at scale: its connections, its stores (files and ClickHouse), several processes."""

from __future__ import annotations

import concurrent.futures
import datetime
import gzip
import json
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from types import ModuleType

import pytest
from local_clickhouse import ClickHouse
from local_collector import (
    CATALOG,
    JSON_GZIP,
    collector,
    envelope,
    example_registry,
    post_events,
    request,
    start_command,
)
from local_endpoint import FAST

from conftest import MINIMAL_CATALOG, REPO, catalog_from_text, run_cli
from telemetry_gen.collector.clickhouse import VIEW_ENVELOPE_COLUMNS, ClickHouseStore, GroupInsert, event_view
from telemetry_gen.collector.schemas import registry
from telemetry_gen.collector.store import Accepted


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


# -- the ClickHouse store -----------------------------------------------------------------------


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    return out + err


def _gzipped(events: list[dict[str, object]]) -> bytes:
    return gzip.compress(json.dumps({"sent_at": "2026-01-01T00:00:00.000000Z", "events": events}).encode())


def _same_but_title(first: str, second: str) -> None:
    assert first.split("\n", 1)[1] == second.split("\n", 1)[1]


def test_runtime_to_two_collectors_to_clickhouse_to_report_matches_the_file_store(
    package: ModuleType, tmp_path: Path, clickhouse: ClickHouse
) -> None:
    store = clickhouse.url("end_to_end")
    # Two processes creating the database and tables at once both start.
    with concurrent.futures.ThreadPoolExecutor(2) as starting:
        (first, first_url), (second, second_url) = starting.map(lambda _: start_command(store), range(2))
    files, files_url = start_command(tmp_path / "files")
    try:
        copy = package.MemorySink()
        sinks = [package.HttpSink(first_url, **FAST), package.HttpSink(files_url, **FAST), copy]
        package.configure(app_version="3.2.0", sinks=sinks, data_dir=tmp_path / "app", consent="all")
        package.events.app_started(command="watch", interactive=True, enabled_features=["tor"])
        for uptime in range(3):
            package.events.app_exited(exit_reason="normal", uptime_seconds=float(uptime))
        assert package.flush(30.0)
        sinks = [package.HttpSink(second_url, **FAST), package.HttpSink(files_url, **FAST), copy]
        package.configure(app_version="3.2.0", sinks=sinks, data_dir=tmp_path / "app", consent="all")
        package.events.perf_command_timing(command="watch", total_ms=812.5, phases={"import_ms": 95.0})
        assert package.flush(30.0) and package.status().dropped == {}
        unknown = envelope(number=900, event="app/nonsense", schema="https://example.com/nonsense")
        bad = [unknown, envelope(number=901, data={"exit_reason": 3})]
        for url in (second_url, files_url):
            assert post_events(url, bad)[1] == {"accepted": 0, "bad": 2, "duplicates": 0}
    finally:
        stopped = [_stop(p) for p in (first, second, files)]
    assert "Events stored: 4" in stopped[0] and "Events stored: 1" in stopped[1], stopped

    code, from_clickhouse = run_cli("report", "--store", store)
    assert code == 0, from_clickhouse
    assert from_clickhouse.startswith(f"Collected in {store} (vigilant-trader, catalog 3.2)\nStored events: 5\n")
    code, from_files = run_cli("report", "--data-dir", str(tmp_path / "files"))
    assert code == 0, from_files
    _same_but_title(from_clickhouse, from_files)
    assert "Bad rows: 2" in from_files and "app/nonsense" in from_files, from_files
    code, as_json = run_cli("report", "--store", store, "--format", "json")
    assert json.loads(as_json)["stored"] == 5

    code, checked_clickhouse = run_cli("live-check", str(CATALOG), "--store", store)
    assert code == 1 and "7 events checked, 5 valid" in checked_clickhouse, checked_clickhouse
    code, checked_files = run_cli("live-check", str(CATALOG), "--store", f"file:{tmp_path / 'files'}")
    assert checked_files == checked_clickhouse
    # What ClickHouse holds is what the runtime sent, event for event.
    rows = clickhouse.query(
        "SELECT id, event, version, toString(time), context_app_version, visitParamExtractString(data, 'command') "
        "FROM end_to_end.events FINAL ORDER BY id FORMAT TSV"
    ).splitlines()
    sent = sorted(copy.events, key=lambda e: e["id"])
    assert [row.split("\t")[0] for row in rows] == [e["id"] for e in sent]
    started = next(row.split("\t") for row in rows if "\tapp/started\t" in row)
    timestamp = next(e["timestamp"] for e in sent if e["event"] == "app/started")
    assert started[2:] == ["2", timestamp[:19].replace("T", " "), "3.2.0", "watch"]


def test_text_that_tabs_newlines_and_backslashes_would_break_comes_back_from_clickhouse_as_sent(
    clickhouse: ClickHouse,
) -> None:
    # Rows go to ClickHouse as TabSeparated text: every character that format gives a meaning to
    # (and `\\N`, its NULL) must arrive as it was sent, in the data and in a bad row's payload.
    awkward = "tab\there\nline\\N back\\slash \\t\r\x00 \u00e9\u6f22 \U0001f600"
    store = clickhouse.url("awkward")
    good = [envelope("error/exchange-request-failed", number=n) for n in (1, 2)]
    good[0]["data"]["exchange_error_code"], good[1]["data"]["exchange_error_code"] = awkward, "\\N"
    bad = envelope(number=3, data={"exit_reason": awkward, awkward: [awkward, "\\N", None]})
    process, url = start_command(store)
    try:
        assert post_events(url, [*good, bad]) == (200, {"accepted": 2, "bad": 1, "duplicates": 0})
    finally:
        _stop(process)
    opened = ClickHouseStore(store)
    assert list(opened.events()) == good
    assert [row["payload"] for row in opened.bad_rows()] == [bad]


def _stored_once(clickhouse: ClickHouse, database: str) -> tuple[int, int]:
    """Rows ClickHouse returns for `report` (with FINAL), and distinct ids."""
    answer = clickhouse.query(f"SELECT count(), uniqExact(id) FROM {database}.events FINAL FORMAT TSV")
    rows, ids = answer.split()
    return int(rows), int(ids)


def test_a_batch_sent_again_through_another_process_is_stored_once(tmp_path: Path, clickhouse: ClickHouse) -> None:
    store = clickhouse.url("retried")
    batch = [envelope(number=n) for n in range(1, 51)]
    first, first_url = start_command(store)
    second, second_url = start_command(store)
    try:
        assert post_events(first_url, batch)[1]["accepted"] == 50
        assert post_events(second_url, [*batch[25:], envelope(number=51)])[0] == 200
    finally:
        _stop(first), _stop(second)
    assert _stored_once(clickhouse, "retried") == (51, 51)
    code, output = run_cli("report", "--store", store)
    assert code == 0 and "Stored events: 51" in output


def test_a_collector_killed_mid_stream_loses_nothing_and_the_retries_are_stored_once(
    package: ModuleType, tmp_path: Path, clickhouse: ClickHouse
) -> None:
    store = clickhouse.url("killed")
    process, url = start_command(store)
    port = int(url.split(":")[2].split("/")[0])
    sent = 2000
    try:
        sink = package.HttpSink(url, max_attempts=100, backoff=0.05, max_backoff=0.5, timeout=10.0)
        package.configure(app_version="3.2.0", sinks=[sink], data_dir=tmp_path / "app", consent="all")
        for uptime in range(sent):
            package.events.app_exited(exit_reason="normal", uptime_seconds=float(uptime))
            if uptime == sent // 3:
                process.kill()  # mid-stream: batches in flight are not answered
                process.wait()
                process, _ = start_command(store, port)  # another process, where the first one was
        assert package.flush(120.0)
        assert package.status().dropped == {}
    finally:
        _stop(process)
    assert _stored_once(clickhouse, "killed") == (sent, sent)


def test_clickhouse_down_is_a_503_with_retry_after_and_nothing_is_acknowledged(tmp_path: Path) -> None:
    server = ClickHouse.start(tmp_path / "clickhouse")
    process = None
    try:
        process, url = start_command(server.url("down"))
        server.stop()
        status, answer, headers = request(url, _gzipped([envelope(number=1)]), JSON_GZIP)
        assert (status, answer["error"], headers["retry-after"]) == (503, "storage-failed", "5")
        server = server.restart()
        assert post_events(url, [envelope(number=1), envelope(number=2)]) == (
            200,
            {"accepted": 2, "bad": 0, "duplicates": 0},
        )
        assert _stored_once(server, "down") == (2, 2)
    finally:
        if process is not None:
            output = _stop(process)
            assert "cannot store events" in output
        server.stop()


def test_workers_serve_one_port_and_the_closing_line_counts_them_all(tmp_path: Path) -> None:
    process, url = start_command(tmp_path / "files", 0, "--workers", "2")
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    assert len(children) == 1
    with concurrent.futures.ThreadPoolExecutor(4) as senders:  # a connection each
        answers = list(
            senders.map(lambda n: post_events(url, [envelope(number=n * 10 + k) for k in range(10)]), range(40))
        )
    output = _stop(process)
    assert all(status == 200 and answer["accepted"] == 10 for status, answer in answers)
    assert "Events stored: 400," in output, output
    assert not any(Path(f"/proc/{child}").exists() for child in children)  # no worker outlives the command
    runs = {path.name.rsplit("-", 1)[0] for path in (tmp_path / "files" / "events").rglob("part-*.jsonl")}
    code, report = run_cli("report", "--store", f"file:{tmp_path / 'files'}")
    assert code == 0 and "Stored events: 400" in report and 1 <= len(runs) <= 2


def test_a_context_column_is_nullable_only_while_an_event_may_leave_its_field_out(clickhouse: ClickHouse) -> None:
    # NULL is how ClickHouse keeps "not sent"; a field every event has needs no null map.
    def column_types() -> dict[str, str]:
        rows = clickhouse.query(
            "SELECT name, type FROM system.columns "
            "WHERE database = 'context_types' AND name LIKE 'context_%' FORMAT TSV"
        )
        return dict(line.split("\t") for line in rows.splitlines())

    received = datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.timezone.utc)
    first = ClickHouseStore(clickhouse.url("context_types"))
    first.create_tables({"app_version": True, "os": True})
    assert column_types() == {"context_app_version": "String", "context_os": "String"}
    with_os = envelope(number=1, context={"app_version": "3.2.0", "os": "linux"})
    first.save([Accepted("app/exited", 1, with_os)], [], received)

    # A later catalog in which some event may be sent without `os`: the column takes NULLs from now on,
    # and keeps what it holds; a field required again does not make it narrower.
    later = ClickHouseStore(clickhouse.url("context_types"))
    later.create_tables({"app_version": True, "os": False})
    later.create_tables({"app_version": True, "os": True})
    assert column_types() == {"context_app_version": "String", "context_os": "Nullable(String)"}
    without_os = envelope(number=2, context={"app_version": "3.2.1"})
    later.save([Accepted("app/exited", 1, without_os)], [], received)
    assert list(later.events()) == [with_os, without_os]


def test_a_worker_process_store_writes_into_the_tables_the_first_process_made(clickhouse: ClickHouse) -> None:
    # `collect --workers N`: the first process makes the tables and views, each worker only learns
    # the context columns, which every row it writes must fill.
    fields = example_registry().context_fields()
    ClickHouseStore(clickhouse.url("worker")).create_tables(fields)
    worker = ClickHouseStore(clickhouse.url("worker"))
    worker.load_columns()
    event = envelope(number=7)
    received = datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.timezone.utc)
    assert worker.save([Accepted("app/exited", 1, event)], [], received).accepted == 1
    assert list(worker.events()) == [event]


def test_each_event_version_has_a_view_with_a_typed_column_per_field(clickhouse: ClickHouse) -> None:
    known = example_registry()
    store = ClickHouseStore(clickhouse.url("views"))
    store.create_tables(known.context_fields())
    created = store.create_views(known.by_id.values())
    assert len(created) == len(known.by_id) and "app_started_v2" in created and "app_exited_v1" in created
    assert store.create_views(known.by_id.values()) == []  # unchanged: nothing replaced

    received = datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.timezone.utc)
    started = envelope(
        "app/started", number=1, data={"command": "watch", "interactive": True, "enabled_features": ["tor", "dry-run"]}
    )
    exited = envelope("app/exited", number=2, data={"exit_reason": "normal", "uptime_seconds": 1e-07, "exit_code": 130})
    awkward = 'say "no" \\ \u00e9\t'
    failed = envelope("error/exchange-request-failed", number=3)
    failed["data"]["exchange_error_code"] = awkward
    store.save([Accepted("app/started", 2, started), Accepted("app/exited", 1, exited)], [], received)
    store.save(
        [Accepted("app/started", 2, started), Accepted("error/exchange-request-failed", 1, failed)], [], received
    )

    def rows(sql: str) -> list[list[str]]:
        return [line.split("\t") for line in clickhouse.query(sql + " FORMAT TSV").splitlines()]

    # Sent twice, seen once; an optional field not sent is NULL; an array is its JSON text.
    assert rows(
        "SELECT id, time, context_app_version, command, interactive, enabled_features, is_first_start "
        "FROM views.app_started_v2"
    ) == [[started["id"], "2026-03-01 10:00:00", "3.2.0", "watch", "1", '["tor","dry-run"]', "\\N"]]
    assert rows("SELECT uptime_seconds, exit_code, events_dropped FROM views.app_exited_v1") == [["1e-7", "130", "\\N"]]
    assert rows("SELECT name, type FROM system.columns WHERE database = 'views' AND table = 'app_exited_v1'")[-4:] == [
        ["events_dropped", "Nullable(Int64)"],
        ["exit_code", "Nullable(Int64)"],
        ["exit_reason", "String"],
        ["uptime_seconds", "Float64"],
    ]
    text = clickhouse.query("SELECT exchange_error_code FROM views.error_exchange_request_failed_v1 FORMAT JSONEachRow")
    assert json.loads(text)["exchange_error_code"] == awkward
    # The README's query per event runs as written.
    readme = (REPO / "README.md").read_text("utf-8")
    query = next(block for block in re.findall("```sql\n(.*?)```", readme, re.DOTALL) if "_v1" in block)
    assert rows(query.strip().rstrip(";").replace("FROM ", "FROM views.")) == [["2026-03-01", "normal", "1", "1e-7"]]


def test_a_view_follows_its_event_as_fields_are_added_and_leaves_out_a_field_it_would_read_wrong(
    clickhouse: ClickHouse, caplog: pytest.LogCaptureFixture
) -> None:
    first = registry(catalog_from_text(MINIMAL_CATALOG))[0]
    store = ClickHouseStore(clickhouse.url("view_changes"))
    store.create_tables(first.context_fields())
    assert store.create_views(first.by_id.values()) == ["app_started_v1"]

    # An additive change: same event version, two more fields. `mode` is now also a key inside
    # `details`, which `visitParamExtract*` could find instead; `day` is an envelope column's name.
    added = """\
      day:
        type: integer
        description: Day of the trial.
        privacy: interaction
        minimum: 1
        maximum: 30
        unit: day
      details:
        type: object
        description: How the app was started, in detail.
        privacy: interaction
        fields:
          mode:
            type: enum
            values: [tray, window]
            description: How the window first showed.
            privacy: interaction
"""
    later = registry(catalog_from_text(MINIMAL_CATALOG + added))[0]
    schema = later.current["app/started"]
    assert event_view(schema, {c: "String" for c in (*VIEW_ENVELOPE_COLUMNS, "data")}).unread == ("mode",)
    assert store.create_views(later.by_id.values()) == ["app_started_v1"]
    assert "view app_started_v1 has no column for mode" in caplog.text
    assert store.create_views(later.by_id.values()) == []
    event = {
        "event": "app/started",
        "schema": schema.schema_id,
        "id": "c" * 32,
        "timestamp": "2026-03-01T10:00:00.000000Z",
        "context": {},
        "data": {"details": {"mode": "tray"}, "mode": "gui", "day": 3},
    }
    store.save([Accepted("app/started", 1, event)], [], datetime.datetime.now(datetime.timezone.utc))
    row = json.loads(clickhouse.query("SELECT * FROM view_changes.app_started_v1 FORMAT JSONEachRow"))
    assert "mode" not in row
    assert {key: value for key, value in row.items() if key.startswith(("data_", "details"))} == {
        "data_day": "3",  # 64-bit integers are quoted in JSON output
        "details": '{"mode":"tray"}',
    }


def test_a_table_of_a_view_s_name_that_is_not_a_view_is_left_as_it_is(clickhouse: ClickHouse) -> None:
    first = registry(catalog_from_text(MINIMAL_CATALOG))[0]
    store = ClickHouseStore(clickhouse.url("not_a_view"))
    store.create_tables(first.context_fields())
    clickhouse.query("CREATE TABLE not_a_view.app_started_v1 (kept UInt8) ENGINE = TinyLog")
    clickhouse.query("INSERT INTO not_a_view.app_started_v1 VALUES (1)")
    assert store.create_views(first.by_id.values()) == []
    assert clickhouse.query("SELECT kept FROM not_a_view.app_started_v1") == "1\n"


# -- inserts shared by requests ------------------------------------------------------------------


def _submitting(inserts: GroupInsert, work: str) -> threading.Thread:
    """A thread submitting `work` while nothing else is being written, once it is about to write (or
    has written)."""
    thread = threading.Thread(target=inserts.submit, args=(work,), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not inserts._writing and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    thread.join(0.1)
    return thread


def test_an_insert_waits_for_a_request_on_its_way_and_carries_it_too() -> None:
    written: list[list[str]] = []
    inserts = GroupInsert(written.append, gather=60.0)
    arrived = inserts.expect()
    first = _submitting(inserts, "first")
    assert first.is_alive() and written == []
    inserts.submit("second", arrived)
    first.join(10)
    assert written == [["first", "second"]] and not first.is_alive()


def test_an_insert_waits_for_nobody_when_no_request_is_on_its_way_or_one_never_gets_there() -> None:
    written: list[list[str]] = []
    inserts = GroupInsert(written.append, gather=60.0)
    began = time.monotonic()
    inserts.submit("alone")
    assert written == [["alone"]] and time.monotonic() - began < 10
    arrived = inserts.expect()
    waiting = _submitting(inserts, "next")
    assert waiting.is_alive()
    arrived()  # refused on its way, say
    arrived()  # and counted off once only
    waiting.join(10)
    assert written == [["alone"], ["next"]] and not waiting.is_alive()
    began = time.monotonic()
    inserts.submit("last")  # nobody is on the way, which a count taken off twice would not show
    assert written[-1] == ["last"] and time.monotonic() - began < 10


def test_an_insert_waits_for_a_request_on_its_way_no_longer_than_the_gather_time() -> None:
    written: list[list[str]] = []
    inserts = GroupInsert(written.append, gather=0.05)
    inserts.expect()  # never arrives
    inserts.submit("late")
    assert written == [["late"]]


def test_the_collector_leaves_no_request_counted_as_on_its_way_to_clickhouse(
    tmp_path: Path, clickhouse: ClickHouse
) -> None:
    # A request refused, or whose events were all bad, must not hold back the inserts that follow.
    with collector(tmp_path) as running:
        store = ClickHouseStore(clickhouse.url("counted_off"))
        store.create_tables(running.app.registry.context_fields())
        store._inserts = GroupInsert(store._insert, gather=60.0)
        running.app.store = store
        assert request(running.url, b"not gzip", JSON_GZIP)[0] == 400
        assert request(running.url, _gzipped([{"event": "nope"}]), JSON_GZIP)[0] == 200
        assert request(running.url, b"{}", {"Content-Type": "text/plain"})[0] == 415
        began = time.monotonic()
        assert post_events(running.url, [envelope()]) == (200, {"accepted": 1, "bad": 0, "duplicates": 0})
        assert time.monotonic() - began < 30
