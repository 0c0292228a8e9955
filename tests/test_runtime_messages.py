"""What the runtime tells an app's developer and its user, each in a real process of the example app:
a TOML configuration without tomllib, telemetry switched on with nowhere to send, and
`telemetry status` in a fresh process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import EXAMPLE_PACKAGE as PACKAGE
from conftest import GENERATED

PRELUDE = f"import sys\nsys.path.insert(0, {str(GENERATED / 'python')!r})\n"
DATA = ".local/share/vigilant-trader"  # the user-data folder below the home folder, on Linux


def run_app(code: str, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A fresh process of the example app, with `home` as its home folder."""
    environment = {"PATH": os.environ["PATH"], "HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(code), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_toml_configuration_without_tomllib_says_what_to_do(tmp_path: Path) -> None:
    """Python 3.10 has no tomllib: the message names the version needed and the way around it."""
    config = tmp_path / "config.toml"
    config.write_text('[telemetry]\ncollect = "all"\n', "utf-8")
    code = f"""
    sys.modules["tomllib"] = None  # what Python 3.10 has: no tomllib
    import {PACKAGE} as t
    try:
        t.configure(app_version="3.2.0", config={str(config)!r}, strict=True)
    except t.ConfigurationError as error:
        print(error)
    t.configure(app_version="3.2.0", config={str(config)!r})
    print(t.status().level, "/", t.status().source)
    """
    result = run_app(code, tmp_path)
    assert result.returncode == 0, result.stderr
    message, status = result.stdout.splitlines()
    assert f"cannot read {config}" in message
    assert "TOML needs Python 3.11 or later (tomllib)" in message
    assert "pass the parsed configuration as `config=`" in message
    # Not strict: logged, and telemetry stays off.
    assert status == "off / configuration error (see the log)"
    assert "TOML needs Python 3.11 or later" in result.stderr


def test_telemetry_on_without_a_sink_warns_once(tmp_path: Path) -> None:
    code = f"""
    import {PACKAGE} as t
    t.configure(app_version="3.2.0")
    t.enable()
    t.events.app_exited(exit_reason="normal", uptime_seconds=1.0)
    t.enable("errors")
    t.disable()
    t.enable()
    t.events.app_exited(exit_reason="normal", uptime_seconds=1.0)
    """
    result = run_app(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("no sink is configured") == 1, result.stderr
    assert "sinks=[HttpSink(" in result.stderr and "configure()" in result.stderr

    with_sink = f"""
    import {PACKAGE} as t
    t.configure(app_version="3.2.0", sinks=[t.MemorySink()])
    t.enable()
    """
    result = run_app(with_sink, tmp_path)
    assert result.returncode == 0 and result.stderr == "", result.stderr


def _closed_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return int(listener.getsockname()[1])


def _spool_events_offline(home: Path) -> None:
    """An earlier run that opted in and emitted while the endpoint was down: its batch waits in the spool."""
    code = f"""
    import {PACKAGE} as t
    sink = t.HttpSink("http://127.0.0.1:{_closed_port()}/v1/events", spool_max_bytes=1_000_000, max_attempts=1)
    t.configure(app_version="3.2.0", sinks=[sink], flush_timeout=5.0)
    t.enable()
    for _ in range(3):
        t.events.app_exited(exit_reason="normal", uptime_seconds=1.0)
    """
    result = run_app(code, home)
    assert result.returncode == 0, result.stderr


STATUS_COMMAND = f"""
import argparse, threading
import {PACKAGE} as t
parser = argparse.ArgumentParser(prog="vigilant-trader")
t.add_argparse_command(parser.add_subparsers(dest="command", required=True))
configured = sys.argv[-1] == "--configured"  # the app configures before it dispatches, or not at all
args = parser.parse_args(sys.argv[1:-1] if configured else sys.argv[1:])
if configured:
    t.configure(app_version="3.2.0")
code = args.telemetry_handler(args)
print("threads:", threading.active_count())
raise SystemExit(code)
"""


def test_status_in_a_fresh_process_shows_the_decision_the_id_and_the_spool(tmp_path: Path) -> None:
    data = tmp_path / DATA
    _spool_events_offline(tmp_path)
    instance_id = json.loads((data / "user_id.json").read_text("utf-8"))["user_id"]
    spooled = sorted(path for path in (data / "spool").rglob("*") if path.is_file())
    assert spooled, "the offline run left nothing in the spool"
    size = sum(path.stat().st_size for path in spooled)
    before = {path: path.read_bytes() for path in spooled}

    for configured in ([], ["--configured"]):
        result = run_app(STATUS_COMMAND, tmp_path, "telemetry", "status", *configured)
        assert result.returncode == 0, result.stderr
        shown = result.stdout
        assert "saved decision: all" in shown, shown
        first = (
            "telemetry: all (decided by saved decision)" if configured else "telemetry: off (decided by not configured)"
        )
        assert shown.startswith(first), shown
        assert f"instance id: {instance_id}" in shown, shown
        assert f"waiting in the spool: {len(spooled)} batch(es), 3 event(s), {size} bytes" in shown, shown
        # Nothing started, nothing sent: the spool is as the earlier run left it.
        assert "threads: 1" in shown, shown
        assert {path: path.read_bytes() for path in (data / "spool").rglob("*") if path.is_file()} == before

    fresh = run_app(STATUS_COMMAND, tmp_path / "new-user", "telemetry", "status")
    assert fresh.returncode == 0, fresh.stderr
    assert "saved decision: none" in fresh.stdout and "waiting in the spool: nothing" in fresh.stdout
    assert not (tmp_path / "new-user" / ".local").exists()  # status stores nothing
