"""The collector through a real socket: runtime -> collector -> files -> report, bad rows, old
schema versions, hostile requests, duplicates after retries, and a kill in the middle of a stream."""

from __future__ import annotations

import datetime
import gzip
import json
import os
import random
import signal
import socket
import string
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from local_collector import (
    JSON_GZIP,
    bad_rows,
    collector,
    envelope,
    example_catalog,
    post_events,
    raw_request,
    request,
    start_command,
    stored,
)
from local_endpoint import FAST

from conftest import GENERATED, MINIMAL_CATALOG, REPO, catalog_from_text, run_cli
from telemetry_gen.collector.schemas import registry
from telemetry_gen.collector.store import event_name, folder_name
from telemetry_gen.collector.wire import Limits
from telemetry_gen.targets import jsonschema as schema_target
from telemetry_gen.write import write_tree


def test_runtime_to_collector_to_files_to_report(package: ModuleType, tmp_path: Path) -> None:
    data_dir = tmp_path / "collected"
    with collector(data_dir) as running:
        copy = package.MemorySink()
        sink = package.HttpSink(running.url, **FAST)
        package.configure(app_version="3.2.0", sinks=[sink, copy], data_dir=tmp_path / "app", consent="all")
        package.events.app_started(command="watch", interactive=True, enabled_features=["tor"])
        for uptime in range(5):
            package.events.app_exited(exit_reason="normal", uptime_seconds=float(uptime))
        package.events.perf_command_timing(command="watch", total_ms=812.5, phases={"import_ms": 95.0})
        assert package.flush(10.0)
        assert package.status().dropped == {}
        assert running.app.counts.accepted == 7
    assert sorted(stored(data_dir), key=lambda e: e["id"]) == sorted(copy.events, key=lambda e: e["id"])
    day = copy.events[0]["timestamp"][:10]
    folders = sorted(p.parent.relative_to(data_dir).as_posix() for p in (data_dir / "events").rglob("part-*.jsonl"))
    assert folders == [
        f"events/app.exited/v1/date={day}",
        f"events/app.started/v2/date={day}",
        f"events/perf.command-timing/v1/date={day}",
    ]
    for path in (data_dir / "events").rglob("part-*.jsonl"):  # every line is a whole event its schema accepts
        schema = json.loads(
            (GENERATED / "schemas" / f"{event_name(path.parts[-4])}.{path.parts[-3]}.schema.json").read_text()
        )
        for line in path.read_text("utf-8").splitlines():
            jsonschema.validate(json.loads(line), schema)
    assert not (data_dir / "bad").exists()

    code, output = run_cli("report", "--data-dir", str(data_dir), "--format", "json")
    assert code == 0, output
    report = json.loads(output)
    assert report["events"] == [
        {"event": "app/exited", "version": 1, "day": day, "count": 5},
        {"event": "app/started", "version": 2, "day": day, "count": 1},
        {"event": "perf/command-timing", "version": 1, "day": day, "count": 1},
    ]
    assert report["stored"] == 7 and report["bad_rows"] == 0
    assert report["coverage"]["declared"] == len(example_catalog().events)
    assert report["coverage"]["seen"] == ["app/exited", "app/started", "perf/command-timing"]
    assert "app/instance-created" in report["coverage"]["never_seen"]
    code, text = run_cli("report", "--data-dir", str(data_dir))
    assert code == 0 and "Stored events: 7" in text and f"app/exited           v1       {day}" in text
    assert f"Coverage: 3 of {len(example_catalog().events)} declared events seen" in text


def test_the_get_form_is_turned_back_into_the_envelope_the_runtime_made(package: ModuleType, tmp_path: Path) -> None:
    with collector(tmp_path / "collected") as running:
        copy = package.MemorySink()
        sink = package.HttpSink(running.url, method="GET", **FAST)
        package.configure(app_version="3.2.0", commit="4f2a9c1", sinks=[sink, copy], data_dir=tmp_path, consent="all")
        package.events.app_started(command="watch", interactive=False, enabled_features=["tor", "dry-run"])
        package.events.perf_command_timing(command="watch", total_ms=12.0, phases={"import_ms": 95.5})
        package.events.app_exited(exit_reason="normal", uptime_seconds=3.0, exit_code=0)
        assert package.flush(10.0)
    assert sorted(stored(tmp_path / "collected"), key=lambda e: e["id"]) == sorted(copy.events, key=lambda e: e["id"])


def test_a_batch_with_bad_events_stores_the_good_ones_and_keeps_the_bad_with_reasons(tmp_path: Path) -> None:
    good = envelope(number=1)
    wrong_type = envelope(number=2, data={**good["data"], "uptime_seconds": "long"})
    undeclared = envelope("app/started", number=3, data={"command": "rm -rf /", "interactive": True, "extra": 1})
    with collector(tmp_path) as running:
        status, answer = post_events(running.url, [good, wrong_type, undeclared, "just text", {"event": "x/y"}])
    assert status == 200 and answer == {"accepted": 1, "duplicates": 0, "bad": 4}
    assert stored(tmp_path) == [good]
    rows = bad_rows(tmp_path)
    assert [[(e["code"], e["location"]) for e in row["errors"]] for row in rows] == [
        [("type-mismatch", "/data/uptime_seconds")],
        [("undeclared-enum-value", "/data/command"), ("unknown-field", "/data/extra")],
        [("not-an-object", "")],
        [("unknown-event", "/event")],
    ]
    assert rows[0]["payload"] == wrong_type and rows[0]["received_at"].endswith("Z")
    assert "expected number, got string" in rows[0]["errors"][0]["message"]
    code, output = run_cli("report", "--data-dir", str(tmp_path), "--format", "json")
    report = json.loads(output)
    assert code == 0 and report["bad_rows"] == 4
    assert report["bad_reasons"] == {
        "not-an-object": 1,
        "type-mismatch": 1,
        "undeclared-enum-value": 1,
        "unknown-event": 1,
        "unknown-field": 1,
    }
    assert report["coverage"]["unknown_events"] == {'"x/y"': 1}


def test_a_trailing_newline_does_not_match_a_pattern_that_ends_with_dollar(tmp_path: Path) -> None:
    """`$` in a catalog pattern ends the text, as in JSON Schema (ECMA-262), where Python's `re`
    also lets it match before a final newline: such a value is a bad row, in the data, in an array's
    items and in the context alike."""
    sent = envelope("error/unhandled-exception", number=1)
    data = sent["data"]
    newline_in_data = {**data, "exception_type": "KeyError\n"}
    newline_in_items = {**data, "stack_frames": ["vigilant_trader.cli:main:88\n"]}
    events = [
        sent,
        envelope("error/unhandled-exception", number=2, data=newline_in_data),
        envelope("error/unhandled-exception", number=3, data=newline_in_items),
        envelope("error/unhandled-exception", number=4, context={**sent["context"], "app_version": "3.2.0\n"}),
    ]
    with collector(tmp_path) as running:
        _, answer = post_events(running.url, events)
    assert answer == {"accepted": 1, "duplicates": 0, "bad": 3}
    assert [row["errors"] for row in bad_rows(tmp_path)] == [
        [
            {
                "code": "invalid-value",
                "location": "/data/exception_type",
                "message": '"KeyError\\n" does not match ^[A-Za-z_][A-Za-z0-9_.]*$',
            }
        ],
        [
            {
                "code": "invalid-value",
                "location": "/data/stack_frames/0",
                "message": '"vigilant_trader.cli:main:88\\n" does not match '
                "^[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_<][A-Za-z0-9_.<>]*:[0-9]+$",
            }
        ],
        [
            {
                "code": "invalid-value",
                "location": "/context/app_version",
                "message": '"3.2.0\\n" does not match ^[0-9A-Za-z][0-9A-Za-z.+_-]*$',
            }
        ],
    ]


def test_timestamps_that_match_the_pattern_but_name_no_real_day_are_bad(tmp_path: Path) -> None:
    with collector(tmp_path) as running:
        _, answer = post_events(running.url, [envelope(timestamp="2026-13-45T99:00:00Z")])
    assert answer["bad"] == 1
    assert bad_rows(tmp_path)[0]["errors"][0]["location"] == "/timestamp"


NEWER_CATALOG = MINIMAL_CATALOG.replace('version: "1.0"', 'version: "2.0"').replace(
    '    since: "1.0"\n', '    since: "1.0"\n    version: 2\n'
)


def minimal_envelope(version: int, mode: str = "cli", number: int = 1) -> dict[str, Any]:
    return {
        "event": "app/started",
        "schema": f"https://telemetry.invalid/demo-app/events/app/started/v{version}.schema.json",
        "id": f"{number:032x}",
        "timestamp": "2026-03-01T10:00:00Z",
        "context": {},
        "data": {"mode": mode},
    }


def test_unknown_schema_versions_are_bad_rows_unless_an_earlier_build_is_given(tmp_path: Path) -> None:
    newer = catalog_from_text(NEWER_CATALOG)
    write_tree(schema_target.render(catalog_from_text(MINIMAL_CATALOG)), tmp_path / "v1-build")
    alone, _ = registry(newer)
    with collector(tmp_path / "alone", schemas=alone) as running:
        _, answer = post_events(running.url, [minimal_envelope(1), minimal_envelope(2, number=2)])
    assert answer == {"accepted": 1, "duplicates": 0, "bad": 1}
    (row,) = bad_rows(tmp_path / "alone")
    assert row["errors"][0]["code"] == "unknown-schema" and "known: v2" in row["errors"][0]["message"]

    both, diagnostics = registry(newer, [tmp_path / "v1-build"])
    assert diagnostics == []
    with collector(tmp_path / "both", schemas=both) as running:
        _, answer = post_events(
            running.url, [minimal_envelope(1), minimal_envelope(2, number=2), minimal_envelope(3, number=3)]
        )
    assert answer == {"accepted": 2, "duplicates": 0, "bad": 1}
    versions = sorted(p.parent.parent.name for p in (tmp_path / "both" / "events").rglob("part-*.jsonl"))
    assert versions == ["v1", "v2"]


def test_a_folder_that_is_not_a_build_is_refused_with_a_diagnostic(tmp_path: Path) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "odd.schema.json").write_text('{"title": "../x"}')
    (tmp_path / "schemas" / "broken.schema.json").write_text("{")
    code, output = run_cli(
        "collect", str(REPO / "events.yaml"), "--data-dir", str(tmp_path / "d"), "--schemas", str(tmp_path)
    )
    assert code == 1
    assert "broken.schema.json: error CL001: cannot read the schema" in output
    assert "odd.schema.json: error CL001: not an event schema: no `$id`" in output
    assert "Traceback" not in output


def test_an_earlier_schema_in_words_telemetry_gen_does_not_write_is_refused(tmp_path: Path) -> None:
    """An earlier build's schema is checked by generated checks, which test only what `build` writes:
    a schema saying more (edited by hand, or by another tool) is refused rather than half-checked."""
    from telemetry_gen.collector.schemas import load_earlier

    (written,) = schema_target.render(catalog_from_text(MINIMAL_CATALOG))[:1]
    edits: dict[str, Callable[[dict[str, Any]], object]] = {
        "extra-keyword": lambda s: s["properties"]["data"].update(minProperties=1),
        "field-format": lambda s: s["properties"]["data"]["properties"]["mode"].update(format="email"),
        "top-level": lambda s: s.update(allOf=[{"required": ["data"]}]),
        "envelope": lambda s: s["properties"]["timestamp"].pop("pattern"),
        "field-name": lambda s: s["properties"]["data"]["properties"].update({"a.b": {"type": "boolean"}}),
    }
    for name, edit in edits.items():
        schema = json.loads(written.content)
        edit(schema)
        (tmp_path / "schemas" / name).mkdir(parents=True)
        (tmp_path / "schemas" / name / "app.schema.json").write_text(json.dumps(schema))
    (tmp_path / "schemas" / "as-written.schema.json").write_text(written.content)
    found, diagnostics = load_earlier(tmp_path)
    assert [schema.name for schema in found] == ["app/started"]
    assert [(Path(d.location.file).parent.name, d.code, d.message) for d in diagnostics] == [
        ("envelope", "CL001", "not an event schema: its envelope is not the one telemetry-gen writes"),
        (
            "extra-keyword",
            "CL001",
            "not an event schema: /properties/data: `minProperties` is not a keyword telemetry-gen writes",
        ),
        (
            "field-format",
            "CL001",
            "not an event schema: /properties/data/properties/mode: `format` is not a keyword telemetry-gen writes",
        ),
        (
            "field-name",
            "CL001",
            "not an event schema: /properties/data/properties: 'a.b' is not a field name of a catalog",
        ),
        ("top-level", "CL001", "not an event schema: `allOf` is not a keyword telemetry-gen writes"),
    ]


def test_the_collector_command_reports_a_busy_port_without_a_traceback(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        code, output = run_cli(
            "collect", str(REPO / "events.yaml"), "--data-dir", str(tmp_path), "--port", str(busy.getsockname()[1])
        )
    assert code == 1 and "cannot start" in output and "Traceback" not in output


# --------------------------------------------------------------------------- hostile requests


def gz(document: object) -> bytes:
    return gzip.compress(json.dumps(document).encode() if not isinstance(document, bytes) else document)


HttpCase = tuple[int, bytes | None, dict[str, str], str, str]


def http_case(
    status: int, body: bytes | None, headers: dict[str, str], method: str = "POST", path: str = ""
) -> HttpCase:
    """A request (body, headers, method, path or query) and the status it must get."""
    return (status, body, headers, method, path)


HOSTILE = {
    "bad gzip": http_case(400, b"this is not gzip", JSON_GZIP),
    "truncated gzip": http_case(400, gz({"events": []})[:-6], JSON_GZIP),
    "data after gzip": http_case(400, gz({"events": []}) + b"junk", JSON_GZIP),
    "gzip bomb": http_case(413, gzip.compress(b" " * (6 * 1024 * 1024)), JSON_GZIP),
    "deep JSON": http_case(400, gz(b"[" * 200_000 + b"]" * 200_000), JSON_GZIP),
    "deep event": http_case(400, gz({"events": [{"data": json.loads("[" * 40 + "]" * 40)}]}), JSON_GZIP),
    "not JSON": http_case(400, gz(b'{"events": [oops'), JSON_GZIP),
    "not UTF-8": http_case(400, gz(b'{"events": ["\xff\xfe"]}'), JSON_GZIP),
    "NaN": http_case(400, gz(b'{"events": [NaN]}'), JSON_GZIP),
    "infinite number": http_case(400, gz(b'{"events": [{"data": {"uptime_seconds": 1e999}}]}'), JSON_GZIP),
    "huge integer": http_case(400, gz(b'{"events": [' + b"9" * 5000 + b"]}"), JSON_GZIP),
    "array body": http_case(400, gz([]), JSON_GZIP),
    "events not a list": http_case(400, gz({"events": {"a": 1}}), JSON_GZIP),
    "too many events": http_case(413, gz({"events": [{}] * 1001}), JSON_GZIP),
    "body too large": http_case(413, b"x" * (1024 * 1024 + 1), JSON_GZIP),
    # Answered while most of it is still on its way; the sender still reads the answer.
    "body far too large": http_case(413, b"x" * (64 * 1024 * 1024), JSON_GZIP),
    "text/plain": http_case(415, gz({"events": []}), {"Content-Type": "text/plain", "Content-Encoding": "gzip"}),
    "no content type": http_case(415, gz({"events": []}), {"Content-Encoding": "gzip"}),
    "form": http_case(415, b"events=1", {"Content-Type": "application/x-www-form-urlencoded"}),
    "brotli": http_case(415, b"...", {"Content-Type": "application/json", "Content-Encoding": "br"}),
    "PUT": http_case(405, b"{}", JSON_GZIP, "PUT"),
    "DELETE": http_case(405, None, {}, "DELETE"),
    "POST to /health": http_case(405, b"{}", {}, "POST", "/health"),
    "unknown path": http_case(404, gz({"events": []}), JSON_GZIP, "POST", "/v1/events/../../etc/passwd"),
    "GET without query": http_case(400, None, {}, "GET"),
    "GET repeated parameter": http_case(400, None, {}, "GET", "?event=a&event=b"),
    "GET overlong query": http_case(414, None, {}, "GET", "?event=" + "a" * 9000),
    "GET not UTF-8": http_case(400, None, {}, "GET", "?event=%ff%fe"),
    "GET malformed": http_case(400, None, {}, "GET", "?event"),
}


@pytest.mark.parametrize("case", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_requests_get_a_clear_4xx(tmp_path: Path, case: HttpCase) -> None:
    status, body, headers, method, path = case
    with collector(tmp_path) as running:
        url = running.url + path if path.startswith("?") else running.url.replace("/v1/events", path or "/v1/events")
        started = time.monotonic()
        got, answer, _ = request(url, body, headers, method)
        assert time.monotonic() - started < 1.0  # seconds, however costly the request is to read
        assert got == status, answer
        assert answer["error"] and answer["message"]
        assert request(running.url.replace("/v1/events", "/health"), method="GET")[0] == 200
    assert stored(tmp_path) == [] and bad_rows(tmp_path) == []


POST_JSON = b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
MALFORMED_HTTP = {
    "declared huge body": (POST_JSON + b"Content-Length: 1000000000\r\n\r\n", {413}),
    "chunked without length": (POST_JSON + b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n", {411}),
    "negative length": (POST_JSON + b"Content-Length: -5\r\n\r\n", {400}),
    "garbage": (b"NONSENSE\r\n\r\n", {400}),
    # The HTTP layer refuses it (400) if it arrives in pieces; whole, the collector's own limit does (414).
    "enormous request line": (b"GET /v1/events?" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", {400, 414}),
}


@pytest.mark.parametrize(("data", "statuses"), MALFORMED_HTTP.values(), ids=MALFORMED_HTTP.keys())
def test_malformed_http_gets_a_4xx(tmp_path: Path, data: bytes, statuses: set[int]) -> None:
    with collector(tmp_path) as running:
        assert raw_request(running.url, data) in statuses


def test_many_mutated_requests_never_get_a_5xx(tmp_path: Path) -> None:
    rng = random.Random(20240601)
    batch = json.dumps({"sent_at": "2026-01-01T00:00:00Z", "events": [envelope(number=n) for n in range(3)]})
    statuses: set[int] = set()
    with collector(tmp_path / "collected", limits=Limits(max_body_bytes=64 * 1024)) as running:
        for _ in range(150):
            text = list(batch)
            for _ in range(rng.randint(1, 8)):
                text[rng.randrange(len(text))] = rng.choice(string.printable + '\u00e9\ud800\x00{}[]"')
            body = "".join(text).encode("utf-8", "surrogatepass")
            kind = rng.random()
            if kind < 0.6:
                body = gzip.compress(body)
            elif kind < 0.8:
                raw = bytearray(gzip.compress(body))
                raw[rng.randrange(len(raw))] ^= 0xFF
                body = bytes(raw)
            headers = dict(JSON_GZIP) if kind < 0.9 else {"Content-Type": "application/json"}
            status, _, _ = request(running.url, body, headers)
            statuses.add(status)
        for _ in range(50):
            query = "&".join(
                f"{rng.choice(['event', 'schema', 'id', 'timestamp', 'c_os', 'uptime_seconds', '%2e%2e', 'x'])}="
                f"{urllib.parse.quote(''.join(rng.choice(string.printable) for _ in range(rng.randint(0, 20))))}"
                for _ in range(rng.randint(1, 6))
            )
            statuses.add(request(f"{running.url}?{query}", method="GET")[0])
    assert max(statuses) < 500, statuses
    assert statuses <= {200, 400, 413, 415}
    assert [p.name for p in tmp_path.iterdir()] == ["collected"]


PATH_LIKE = [
    "../../../../tmp/evil",
    "/etc/passwd",
    "app/../../../evil",
    "app/started/../../..",
    "..",
    ".",
    "app\\..\\..\\evil",
    "%2e%2e/%2e%2e/evil",
    "app/started\x00.jsonl",
    "C:\\Windows\\evil",
    "a/" + "b" * 300,
]


@pytest.mark.parametrize("name", PATH_LIKE)
def test_path_like_event_names_never_reach_the_filesystem(tmp_path: Path, name: str) -> None:
    data_dir = tmp_path / "collected"
    valid = envelope(number=9)
    with collector(data_dir) as running:
        _, answer = post_events(running.url, [{**valid, "event": name}, {**valid, "event": name, "schema": name}])
        get = urllib.parse.urlencode({"event": name, "schema": name, "id": "c" * 32, "timestamp": valid["timestamp"]})
        assert request(f"{running.url}?{get}", method="GET")[:2] == (200, {"accepted": 0, "duplicates": 0, "bad": 1})
    assert answer == {"accepted": 0, "duplicates": 0, "bad": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["collected"]
    assert not (data_dir / "events").exists()
    assert sorted({p.relative_to(data_dir).parts[0] for p in data_dir.rglob("*")}) == ["bad", "catalog.json"]


@given(st.text(min_size=1, max_size=40))
def test_folder_names_are_safe_and_reversible(name: str) -> None:
    folder = folder_name(name)
    assert folder not in (".", "..") and "/" not in folder and "\\" not in folder and "\x00" not in folder
    assert set(folder) <= set(string.ascii_lowercase + string.digits + "-.%ABCDEF")
    assert event_name(folder) == name


def test_folder_names_of_catalog_events_read_well() -> None:
    assert folder_name("app/started") == "app.started"
    assert folder_name("perf/command-timing") == "perf.command-timing"
    assert folder_name("../x") == "%2E%2E.x"
    assert folder_name("settings/general/change-language") == "settings.general.change-language"


def test_oversized_fields_and_broken_text_are_bad_rows_cut_to_size(tmp_path: Path) -> None:
    huge = envelope(number=1, data={"exit_reason": "x" * 100_000})
    unpaired = envelope(number=2, data={"exit_reason": "normal", "note\ud800": 1})
    with collector(tmp_path) as running:
        _, answer = post_events(running.url, [huge, unpaired])
    assert answer == {"accepted": 0, "duplicates": 0, "bad": 2}
    first, second = bad_rows(tmp_path)
    assert first["errors"] == [
        {"code": "field-too-large", "location": "/data/exit_reason", "message": "100000 characters; the limit is 4096"}
    ]
    assert len(first["payload"]["data"]["exit_reason"]) < 4200
    assert second["errors"][0]["code"] == "invalid-text"
    assert all(path.read_bytes().decode("utf-8") for path in (tmp_path / "bad").rglob("*.jsonl"))


def test_nothing_about_the_client_is_stored(tmp_path: Path) -> None:
    headers = {"User-Agent": "agent-marker-7431", "X-Forwarded-For": "10.99.88.77", "Cookie": "session=cookie-marker"}
    with collector(tmp_path) as running:
        assert post_events(running.url, [envelope(number=1), {"event": "x"}], headers)[0] == 200
        assert request(f"{running.url}?event=y&id=1", method="GET", headers=headers)[0] == 200
    everything = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    for marker in (b"agent-marker-7431", b"10.99.88.77", b"cookie-marker", b"127.0.0.1"):
        assert marker not in everything


def test_a_failing_disk_is_a_503_the_runtime_retries_not_a_500(tmp_path: Path) -> None:
    with collector(tmp_path) as running:
        (tmp_path / "events").write_text("a file where the events folder should be")
        status, answer, headers = request(
            running.url, gzip.compress(json.dumps({"events": [envelope()]}).encode()), JSON_GZIP
        )
        assert (status, answer["error"], headers["retry-after"]) == (503, "storage-failed", "5")
        (tmp_path / "events").unlink()
        assert post_events(running.url, [envelope()])[1] == {"accepted": 1, "duplicates": 0, "bad": 0}


def test_a_bearer_token_is_required_when_configured(tmp_path: Path) -> None:
    with collector(tmp_path, token="s3cret-token") as running:
        assert post_events(running.url, [envelope()])[0] == 401
        status, answer = post_events(running.url, [envelope()], {"Authorization": "Bearer wrong"})
        assert (status, answer["error"]) == (401, "unauthorized")
        assert request(f"{running.url}?event=x", method="GET")[0] == 401
        assert post_events(running.url, [envelope()], {"Authorization": "Bearer s3cret-token"})[0] == 200
    assert len(stored(tmp_path)) == 1


# --------------------------------------------------------------------------- duplicates and crashes


def test_the_same_events_sent_again_are_stored_once_even_after_a_restart(tmp_path: Path) -> None:
    batch = [envelope(number=n) for n in range(5)]
    with collector(tmp_path) as running:
        assert post_events(running.url, batch + batch[:2])[1] == {"accepted": 5, "duplicates": 2, "bad": 0}
        assert post_events(running.url, batch)[1] == {"accepted": 0, "duplicates": 5, "bad": 0}
    with collector(tmp_path) as restarted:  # the window is rebuilt from the files
        assert post_events(restarted.url, [*batch, envelope(number=5)])[1] == {"accepted": 1, "duplicates": 5, "bad": 0}
    assert sorted(e["id"] for e in stored(tmp_path)) == [f"{n:032x}" for n in range(6)]


def test_the_window_forgets_the_oldest_ids(tmp_path: Path) -> None:
    with collector(tmp_path, window=3) as running:
        post_events(running.url, [envelope(number=n) for n in range(5)])
        assert post_events(running.url, [envelope(number=0), envelope(number=4)])[1]["duplicates"] == 1


class DroppingProxy:
    """Forwards requests to the collector, but resets the connection instead of relaying the first answers."""

    def __init__(self, target: str, drop: int) -> None:
        self.drop = drop
        self.requests = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "content-encoding")}
                status, answer, _ = request(target, body, headers)
                proxy.requests += 1
                if proxy.drop > 0:
                    proxy.drop -= 1
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    self.connection.close()
                    return
                raw = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1/events"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def proxy_factory() -> Iterator[list[DroppingProxy]]:
    proxies: list[DroppingProxy] = []
    yield proxies
    for proxy in proxies:
        proxy.close()


def test_a_batch_retried_after_a_lost_answer_is_stored_once(
    package: ModuleType, tmp_path: Path, proxy_factory: list[DroppingProxy]
) -> None:
    with collector(tmp_path / "collected") as running:
        proxy = DroppingProxy(running.url, drop=2)
        proxy_factory.append(proxy)
        copy = package.MemorySink()
        package.configure(
            app_version="3.2.0", sinks=[package.HttpSink(proxy.url, **FAST), copy], data_dir=tmp_path, consent="all"
        )
        for uptime in range(10):
            package.events.app_exited(exit_reason="normal", uptime_seconds=float(uptime))
        assert package.flush(10.0)
        assert package.status().dropped == {}
        assert proxy.requests >= 3 and running.app.counts.duplicates >= 1
    assert sorted(e["id"] for e in stored(tmp_path / "collected")) == sorted(e["id"] for e in copy.events)


def wait_for_stored(data_dir: Path, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        events = stored(data_dir) if (data_dir / "events").exists() else []
        if len(events) >= count or time.monotonic() > deadline:
            return events
        time.sleep(0.05)


def test_killing_the_collector_mid_stream_loses_nothing_once_it_is_back(package: ModuleType, tmp_path: Path) -> None:
    data_dir = tmp_path / "collected"
    process, url = start_command(data_dir)
    port = urllib.parse.urlsplit(url).port
    try:
        copy = package.MemorySink()
        sink = package.HttpSink(url, spool_max_bytes=5_000_000, max_attempts=2, **FAST)
        app_dir = tmp_path / "app"
        package.configure(
            app_version="3.2.0", sinks=[sink, copy], data_dir=app_dir, consent="all", batch_size=5, batch_interval=0.02
        )
        emitted = 0

        def emit(count: int) -> None:
            nonlocal emitted
            for _ in range(count):
                package.events.app_exited(exit_reason="normal", uptime_seconds=float(emitted))
                emitted += 1
                time.sleep(0.002)

        emit(60)
        assert len(wait_for_stored(data_dir, 20)) >= 20
        emit(20)  # still streaming when the collector dies
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=10)
        emit(40)  # refused: kept in the app's spool
        assert package.flush(10.0)
        process, _ = start_command(data_dir, port or 0)
        emit(1)  # the next batch drains the spool, oldest first
        assert package.flush(20.0)
        events = wait_for_stored(data_dir, emitted)
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=15)
    ids = [e["id"] for e in events]
    assert len(ids) == len(set(ids)) == emitted == 121
    assert set(ids) == {e["id"] for e in copy.events}
    assert package.status().dropped == {}


def test_the_collector_command_stops_on_sigterm_with_a_summary(tmp_path: Path) -> None:
    process, url = start_command(tmp_path / "collected", 0)
    assert post_events(url, [envelope(number=1), envelope(number=1), {"event": "x"}])[0] == 200
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert "Events stored: 1, duplicates dropped: 1, bad rows: 1, requests refused: 0" in out
    assert "Traceback" not in err


def test_the_demo_app_sends_through_the_runtime_to_the_collector(tmp_path: Path) -> None:
    """The loop `scripts/demo` shows: the example app's events arrive, and `report` lists them."""
    with collector(tmp_path / "collected") as running:
        demo = [sys.executable, str(REPO / "examples" / "demo_app.py"), "--endpoint", running.url]
        # scripts/demo installs the package into a venv of the app's own (test_packaging.py tests
        # that install); here the built package is found on the path.
        env = {**os.environ, "PYTHONPATH": str(REPO / "generated" / "python")}
        result = subprocess.run(
            [*demo, "--workdir", str(tmp_path / "app")], capture_output=True, text=True, timeout=60, env=env
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4. Sent 3 events to the collector at" in result.stdout
    report = json.loads(run_cli("report", "--data-dir", str(tmp_path / "collected"), "--format", "json")[1])
    assert [(e["event"], e["count"]) for e in report["events"]] == [
        ("app/started", 1),
        ("command/watch-session-started", 1),
        ("perf/command-timing", 1),
    ]
    assert report["coverage"]["unknown_events"] == {'"app/crashed"': 1}


def test_collect_refuses_to_listen_without_a_catalog(tmp_path: Path) -> None:
    code, output = run_cli("collect", str(tmp_path / "missing.yaml"), "--data-dir", str(tmp_path / "d"))
    assert code == 2 and "CF000" in output


def test_report_on_a_folder_the_collector_never_wrote(tmp_path: Path) -> None:
    code, output = run_cli("report", "--data-dir", str(tmp_path))
    assert (
        code == 0
        and "Stored events: 0" in output
        and "Coverage: unknown (no catalog recorded, such as catalog.json" in output
    )
    code, output = run_cli("report", "--data-dir", str(tmp_path / "missing"))
    assert code == 2 and "no such folder" in output and "Traceback" not in output


def test_catalog_json_is_written_whole_pretty_and_sorted_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    from local_collector import example_registry

    from telemetry_gen.collector.app import manifest
    from telemetry_gen.collector.report import build_report
    from telemetry_gen.collector.store import MANIFEST, FileStore

    store = FileStore(tmp_path, 10)
    written = manifest(example_catalog(), example_registry())
    store.write_manifest(written)
    assert (tmp_path / MANIFEST).read_text("utf-8") == json.dumps(written, indent=2, sort_keys=True) + "\n"
    assert build_report(FileStore(tmp_path)).manifest == written
    (tmp_path / MANIFEST).write_text("[1, 2]\n", "utf-8")  # JSON, but not an object: as if it were missing
    assert build_report(FileStore(tmp_path)).manifest is None
    # A write that fails (here: catalog.json is a folder) leaves no temporary file behind.
    (tmp_path / MANIFEST).unlink()
    (tmp_path / MANIFEST / "x").mkdir(parents=True)
    with pytest.raises(OSError):
        store.write_manifest(written)
    assert sorted(p.name for p in tmp_path.iterdir()) == [MANIFEST]


@given(
    st.datetimes(
        min_value=datetime.datetime(1971, 1, 1),
        max_value=datetime.datetime(2200, 1, 1),
        timezones=st.sampled_from(
            [datetime.timezone.utc, datetime.timezone(datetime.timedelta(hours=-7, minutes=-30))]
        ),
    )
)
def test_a_bad_row_says_when_it_arrived_in_the_envelope_timestamp_format(moment: datetime.datetime) -> None:
    """`received_at` is the runtime's `utc_timestamp`, to the microsecond, whatever the time zone."""
    from local_collector import example_registry

    from telemetry_gen.collector.app import Collector
    from telemetry_gen.collector.store import FileStore

    app = Collector(example_registry(), FileStore.__new__(FileStore))  # a store that is never written to
    row = app._bad_row({}, [], moment)
    assert row["received_at"] == moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_an_unknown_schema_of_a_known_event_lists_its_versions_without_scanning_every_schema() -> None:
    import dataclasses

    from local_collector import example_registry

    from telemetry_gen.collector.schemas import Registry

    known = example_registry()
    first, other = sorted(known.current.values(), key=lambda s: s.name)[:2]
    older = [dataclasses.replace(first, schema_id=f"old-{n}", version=n, current=False) for n in (3, 10)]
    schemas = Registry([*known.by_id.values(), *older])

    class Unscanned(dict[str, Any]):
        def values(self) -> Any:
            raise AssertionError("lookup scanned every schema")

    schemas.by_id = Unscanned(schemas.by_id)
    found, problem = schemas.lookup({"event": first.name, "schema": "nope"})
    assert found is None and problem is not None and problem.code == "unknown-schema"
    assert f"is not a known schema of {first.name} (known: v{first.version}, v3, v10)" in problem.message
    found, problem = schemas.lookup({"event": other.name, "schema": "nope"})
    assert problem is not None and f"(known: v{other.version})" in problem.message
    found, problem = schemas.lookup({"event": ["not", "a", "name"], "schema": "nope"})
    assert problem is not None and problem.code == "unknown-event"
    assert schemas.lookup({"event": first.name, "schema": first.schema_id}) == (first, None)


def _reference_depth(value: object) -> int:
    """How deeply objects and arrays nest, the plain recursive way (values here are shallow)."""
    if isinstance(value, dict):
        return 1 + max([0, *map(_reference_depth, value.values())])
    if isinstance(value, list):
        return 1 + max([0, *map(_reference_depth, value)])
    return 0


_TEXT = st.text(alphabet=st.sampled_from(["a", "é", "\ud800", "\udfff", "/", "~"]), max_size=6)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=12,
)


@given(_JSON, st.integers(min_value=0, max_value=5))
def test_one_walk_finds_the_depth_and_whether_any_text_is_wrong(value: object, max_chars: int) -> None:
    from telemetry_gen.collector import wire

    deepest, clean = wire.scan(value, max_chars)
    assert deepest == _reference_depth(value)
    assert clean == (wire.text_problems(value, max_chars) == [])
    with_paths = wire._strings(value)
    assert clean == all(
        len(text) <= max_chars and "\ud800" not in text and "\udfff" not in text for _, text in with_paths
    )


def test_strings_are_walked_with_their_paths_only_in_events_whose_text_is_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from local_collector import example_registry

    from telemetry_gen.collector import wire
    from telemetry_gen.collector.app import Collector
    from telemetry_gen.collector.schemas import SHOWN_CHARS
    from telemetry_gen.collector.store import FileStore, unexpected

    walked: list[object] = []
    strings = wire._strings

    def counted(event: object) -> list[tuple[list[object], str]]:
        walked.append(event)
        return strings(event)

    monkeypatch.setattr(wire, "_strings", counted)
    app = Collector(example_registry(), FileStore(tmp_path, 10))
    good = [envelope(number=n) for n in range(1, 4)]
    outcome = app._process_body(json.dumps({"events": good}).encode(), "", unexpected)
    assert (outcome.accepted, outcome.bad, walked) == (3, 0, [])
    long_key = envelope(number=5, data={**envelope()["data"], "k" * 5000: 1})
    outcome = app._process_body(json.dumps({"events": [envelope(number=4), long_key]}).encode(), "", unexpected)
    assert (outcome.accepted, outcome.bad) == (1, 1) and walked == [long_key]
    (row,) = bad_rows(tmp_path)
    assert row["errors"] == [
        {
            "code": "field-too-large",
            "location": "/data/" + "k" * (SHOWN_CHARS - 3) + "...",
            "message": "5000 characters; the limit is 4096",
        }
    ]


def test_the_reasons_of_a_bad_event_are_diagnostics_located_inside_it() -> None:
    """The collector's reasons take the one error shape, so they print as every other diagnostic does."""
    from local_collector import example_registry

    from telemetry_gen.collector.wire import text_problems
    from telemetry_gen.diagnostics import Severity

    wrong = envelope(data={**envelope()["data"], "exit_reason": "boom", "colour": "red"})
    _, problems = example_registry().check(wrong)
    assert {p.severity for p in problems} == {Severity.ERROR}
    assert [p.render() for p in problems] == [
        "#/data/colour: error unknown-field: not declared in the catalog",
        f"#/data/exit_reason: error undeclared-enum-value: {problems[1].message}",
    ]
    (too_long,) = text_problems({"data": {"note": "x" * 10}}, max_chars=4)
    assert too_long.render() == "#/data/note: error field-too-large: 10 characters; the limit is 4"
