"""SentrySink with the real sentry-sdk, sending to a real ingest endpoint on 127.0.0.1.

The endpoint decodes every envelope sentry-sdk posts; the tests assert what is inside and, on
the raw bytes, what is not: the hostname, local variables, the home folder's path, the login name.
"""

from __future__ import annotations

import gzip
import http.server
import json
import re
import socket
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from telemetry_gen_runtime.sentry import Scrubber

from conftest import MINIMAL_CATALOG, build_text, import_generated

PACKAGE = "demo_app_telemetry"
WAIT = 15.0  # seconds any wait for the endpoint may take
FAKE_USER = "zqfakeuser81"  # the login name of the subprocesses' made-up user; their home is named after it


@dataclass(frozen=True)
class Envelope:
    raw: bytes  # the decompressed body, as it left the process
    items: list[tuple[dict[str, Any], Any]]  # (item header, decoded payload)


def parse_envelope(body: bytes) -> Envelope:
    """Sentry's envelope format: a header line, then per item a header line and a payload."""
    _, _, rest = body.partition(b"\n")
    items = []
    while rest.strip():
        header_line, _, rest = rest.partition(b"\n")
        header = json.loads(header_line)
        if "length" in header:
            payload, rest = rest[: header["length"]], rest[header["length"] + 1 :]
        else:
            payload, _, rest = rest.partition(b"\n")
        items.append((header, json.loads(payload)))
    return Envelope(body, items)


class Ingest:
    """A Sentry ingest endpoint on loopback that keeps every envelope posted to it."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self._changed = threading.Condition()
        ingest = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                encoding = self.headers.get("Content-Encoding")
                assert encoding in (None, "gzip"), f"unexpected encoding {encoding}"
                envelope = parse_envelope(gzip.decompress(body) if encoding == "gzip" else body)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"{}")
                with ingest._changed:
                    ingest.envelopes.append(envelope)
                    ingest._changed.notify_all()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def dsn(self) -> str:
        return f"http://publickey@127.0.0.1:{self._server.server_address[1]}/1"

    @property
    def raw(self) -> bytes:
        return b"\n".join(envelope.raw for envelope in self.envelopes)

    def items(self, kind: str) -> list[Any]:
        return [payload for e in self.envelopes for header, payload in e.items if header["type"] == kind]

    def wait_for(self, kind: str, count: int = 1) -> list[Any]:
        with self._changed:
            arrived = self._changed.wait_for(lambda: len(self.items(kind)) >= count, timeout=WAIT)
        got = [header["type"] for envelope in self.envelopes for header, _ in envelope.items]
        assert arrived, f"expected {count} {kind} item(s); got {got}"
        return self.items(kind)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=WAIT)


@pytest.fixture
def ingest() -> Iterator[Ingest]:
    endpoint = Ingest()
    yield endpoint
    endpoint.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sentry-build")
    build_text(MINIMAL_CATALOG, out)
    return out


@pytest.fixture
def package(built: Path) -> ModuleType:
    return import_generated(built, PACKAGE)


def new_session(package: ModuleType, level: str, count_dropped: Any = lambda reason, n: None) -> Any:
    """The Session the client hands a sink at opt-in, for app version 2.5.0 in `staging`."""
    return package.Session(
        app=package.client.app,
        app_version="2.5.0",
        environment="staging",
        level=level,
        instance_id=uuid.uuid4().hex,
        session_id=uuid.uuid4().hex,
        data_dir=Path("unused"),
        count_dropped=count_dropped,
    )


@pytest.fixture
def sinks() -> Iterator[list[Any]]:
    """Sinks a test starts in this process; stopped afterwards whatever happens."""
    started: list[Any] = []
    yield started
    for sink in started:
        sink.stop(forget=False)


def hostname_in(raw: bytes) -> bool:
    """Whether the machine's hostname appears as a word (it may be as short as "vm")."""
    name = re.escape(socket.gethostname().encode())
    return re.search(rb"(?<![0-9A-Za-z])" + name + rb"(?![0-9A-Za-z])", raw, re.IGNORECASE) is not None


def run_python(code: str, path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    path.write_text(textwrap.dedent(code), "utf-8")
    return subprocess.run([sys.executable, str(path), *args], capture_output=True, text=True, env=env, timeout=60)


def test_sentry_sdk_is_not_imported_before_consent(built: Path, tmp_path: Path) -> None:
    code = f"""
        import sys
        import {PACKAGE} as telemetry

        telemetry.configure(app_version="2.5.0", sinks=[telemetry.SentrySink("http://publickey@127.0.0.1:9/1")])
        telemetry.events.app_started(mode="cli")
        print("before consent:", "sentry_sdk" in sys.modules)
        telemetry.enable("errors")
        print("after consent:", "sentry_sdk" in sys.modules)
        telemetry.disable()
    """
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(built / "python")}
    result = run_python(code, tmp_path / "app.py", env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["before consent: False", "after consent: True"]


def test_a_crash_is_reported_with_its_traceback_and_nothing_private(
    built: Path, tmp_path: Path, ingest: Ingest
) -> None:
    home = tmp_path / FAKE_USER  # so every path below it names the user, as /home/<user> does
    home.mkdir()
    # The app's code lives in the home folder, so the traceback's paths do too.
    code = f"""
        import sys
        from pathlib import Path
        import {PACKAGE} as telemetry

        sink = telemetry.SentrySink(sys.argv[1], mirror_events=True)
        telemetry.configure(app_version="2.5.0", environment="staging", sinks=[sink])
        telemetry.enable()
        print(telemetry.status().instance_id)
        telemetry.events.app_started(mode="cli")


        def load_settings():
            secret = "-".join(["local", "variable", "value"])
            return open(Path.home() / "settings.toml")


        load_settings()
    """
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(built / "python"),
        "HOME": str(home),
        "USERPROFILE": str(home),
        "USER": FAKE_USER,
        "LOGNAME": FAKE_USER,
        "USERNAME": FAKE_USER,
    }
    result = run_python(code, home / "trader.py", env, ingest.dsn)

    assert result.returncode == 1  # the usual exit code of an unhandled exception, traceback printed
    assert "FileNotFoundError" in result.stderr
    instance_id = result.stdout.strip()
    events = ingest.wait_for("event", 2)
    [crash] = [event for event in events if "exception" in event]
    [exception] = crash["exception"]["values"]
    assert exception["type"] == "FileNotFoundError"
    assert exception["mechanism"]["handled"] is False
    assert exception["value"].endswith("'~/settings.toml'")
    frames = exception["stacktrace"]["frames"]
    assert [frame["function"] for frame in frames] == ["<module>", "load_settings"]
    assert all(frame["abs_path"] == "~/trader.py" and "vars" not in frame for frame in frames)
    assert frames[-1]["context_line"].strip().startswith("return open(Path.home()")
    for event in events:
        assert event["release"] == "2.5.0"
        assert event["environment"] == "staging"
        assert event["user"] == {"id": instance_id}
        assert "server_name" not in event
        assert set(event["contexts"]) >= {"runtime", "os"}
    [message] = [event for event in events if "message" in event]
    assert (message["message"], message["tags"]) == ("app/started", {"mode": "cli"})

    [session] = ingest.wait_for("session")
    assert session["status"] == "crashed"
    assert session["errors"] == 1
    assert session["did"] == instance_id
    assert session["attrs"] == {"release": "2.5.0", "environment": "staging"}

    raw = ingest.raw
    assert b"server_name" not in raw
    assert not hostname_in(raw)
    assert FAKE_USER.encode() not in raw.lower()
    assert str(home).encode() not in raw
    assert b"local-variable-value" not in raw
    assert b"sys.argv" not in raw


def test_disable_closes_the_client_through_the_public_api(package: ModuleType, ingest: Ingest, tmp_path: Path) -> None:
    import sentry_sdk

    sink = package.SentrySink(ingest.dsn)
    package.configure(app_version="2.5.0", environment="staging", sinks=[sink], data_dir=tmp_path)
    package.enable("errors")
    try:
        raise KeyError("missing price")
    except KeyError as exc:
        assert package.report_error(exc)
    package.disable()

    assert not sentry_sdk.get_client().is_active()
    try:
        raise KeyError("after opting out")
    except KeyError as exc:
        assert not package.report_error(exc, ask=False)
    assert sentry_sdk.capture_message("after opting out") is None
    [event] = ingest.wait_for("event")
    assert event["exception"]["values"][0]["value"] == "'missing price'"
    assert ingest.items("session") == []  # error reports only: no sessions


def test_mirrored_events_become_messages_with_their_fields_as_tags(
    package: ModuleType, ingest: Ingest, sinks: list[Any], tmp_path: Path
) -> None:
    memory = package.MemorySink()
    package.configure(app_version="2.5.0", sinks=[memory], consent="all", data_dir=tmp_path)
    package.events.app_started(mode="cli")
    [envelope] = memory.events
    sink = package.SentrySink(ingest.dsn, mirror_events=True)
    sinks.append(sink)
    sink.start(new_session(package, "all"))
    sink.write([envelope])
    sink.stop(forget=False)

    [message] = ingest.wait_for("event")
    assert message["message"] == "app/started"
    assert message["level"] == "info"
    assert message["tags"] == {"mode": "cli"}
    assert message["contexts"]["event"] == {
        "name": "app/started",
        "schema": envelope["schema"],
        "id": envelope["id"],
        "data": {"mode": "cli"},
    }
    [session] = ingest.wait_for("session")
    assert (session["status"], session.get("errors", 0)) == ("exited", 0)


def test_a_stopped_sink_sends_nothing_until_it_starts_again(
    package: ModuleType, ingest: Ingest, sinks: list[Any]
) -> None:
    sink = package.SentrySink(ingest.dsn)
    sinks.append(sink)
    sink.start(new_session(package, "all"))
    sink.stop(forget=True)  # opting out: the run's session is dropped, not sent
    assert sink.capture_exception(RuntimeError("after opting out")) is None

    session = new_session(package, "errors")
    sink.start(session)
    event_id = sink.capture_exception(RuntimeError("opted in again"))
    sink.stop(forget=False)
    [event] = ingest.wait_for("event")
    assert event["event_id"] == event_id
    assert event["exception"]["values"][0]["value"] == "opted in again"
    assert event["user"] == {"id": session.instance_id}
    assert ingest.items("session") == []


def test_without_sentry_sdk_the_sink_stays_off_and_counts_mirrored_events(
    package: ModuleType, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "sentry_sdk", None)  # import fails as if it were not installed
    dropped: list[tuple[str, int]] = []
    sink = package.SentrySink("http://publickey@127.0.0.1:9/1", mirror_events=True)
    sink.start(new_session(package, "all", lambda reason, n: dropped.append((reason, n))))
    sink.write([{"event": "app/started", "data": {}}])
    assert sink.capture_exception(RuntimeError("lost")) is None
    sink.stop(forget=True)
    assert dropped == [("sentry-sdk not installed", 1)]
    assert "sentry-sdk is not installed" in caplog.text


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        ("/home/alice/app/main.py", "~/app/main.py"),
        ("open('/HOME/ALICE/x')", "open('~/x')"),
        ("permission denied for alice.", "permission denied for <user>."),
        ("/srv/alice/data", "/srv/<user>/data"),
        ("malice and alice2 stay", "malice and alice2 stay"),
        ("/home/alicea/x", "/home/alicea/x"),
    ],
)
def test_scrubber_replaces_the_home_folder_and_the_login_name(text: str, scrubbed: str) -> None:
    assert Scrubber(["/home/alice"], "alice").text(text) == scrubbed


def test_scrubber_leaves_a_root_home_alone_and_walks_nested_values() -> None:
    scrubber = Scrubber(["/"], "bob")
    event = {"a": ["/etc/bob", {"bob": 1.5}], "b": None}
    assert scrubber.value(event) == {"a": ["/etc/<user>", {"<user>": 1.5}], "b": None}


@pytest.mark.parametrize("level", [None, "errors", "all"])
def test_a_bug_report_the_user_sends_goes_whatever_the_level_and_with_the_id_only_at_all(
    package: ModuleType, ingest: Ingest, tmp_path: Path, level: str | None
) -> None:
    import sentry_sdk

    data_dir = tmp_path / "data"
    package.configure(app_version="2.5.0", sinks=[package.SentrySink(ingest.dsn)], data_dir=data_dir)
    if level is not None:
        package.enable(level)
    try:
        raise KeyError("the chart is empty")
    except KeyError as exc:
        assert package.report_error(exc, ask=False, user_initiated=True)
    [event] = ingest.wait_for("event")
    assert event["tags"]["report"] == "user-initiated"
    assert event["exception"]["values"][0]["value"] == "'the chart is empty'"
    if level is None:  # a client for this report only, closed again; nothing stored
        assert not data_dir.exists() and not sentry_sdk.get_client().is_active()
        assert event.get("user") in (None, {})
    else:
        instance = json.loads((data_dir / "user_id.json").read_text())["user_id"]
        assert (event.get("user") == {"id": instance}) is (level == "all")
        assert (instance.encode() in ingest.raw) is (level == "all")
    package.disable()
