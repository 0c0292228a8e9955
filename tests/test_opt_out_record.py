"""The opt-out record: the one event the runtime sends itself, when the user opts out.

Each rule is proved against a real HTTP endpoint on 127.0.0.1, from real processes of an app
built from a catalog that declares the record.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from local_endpoint import Answer, Endpoint, endpoint

from conftest import MINIMAL_CATALOG, build_text, catalog_from_text, import_generated
from telemetry_gen.catalog import parse_catalog

RECORD = """\
  app/opted-out:
    description: The user switched telemetry off; counts how many installations leave.
    trigger: Sent by the runtime itself when the user opts out while telemetry is on.
    category: opt-out
    owner: core-team
    since: "1.0"
    fields:
      decision:
        type: enum
        values: [opted-out]
        description: What the user decided.
        privacy: interaction
        required: true
"""
RECORD_HEAD = RECORD.partition("    fields:")[0]  # the record without its fields
CONTEXT = """\
context:
  instance_id:
    source: instance_id
  session_id:
    source: session_id
"""
CATALOG = MINIMAL_CATALOG.replace("never_collected:", CONTEXT + "never_collected:") + RECORD

# One run of the app: configure with an HttpSink, then each action of argv in turn. `exit` leaves
# at once, without the exit handler's flush: what the endpoint has then was sent synchronously.
APP = """
import json, os, sys, time
sys.path.insert(0, os.environ["APP_PYTHONPATH"])
import demo_app_telemetry as t

t.configure(
    app_version="1.0.0",
    sinks=[t.HttpSink(os.environ["ENDPOINT"], timeout=60.0, backoff=0.01)],
    data_dir=os.environ["DATA_DIR"],
    flush_timeout=float(os.environ.get("FLUSH_TIMEOUT", "5")),
    batch_interval=60.0,
)
for action in sys.argv[1:]:
    if action == "enable":
        t.enable()
    elif action == "errors":
        t.enable("errors")
    elif action == "emit":
        t.events.app_started(mode="cli")
    elif action == "disable":
        started = time.monotonic()
        t.disable()
        print(json.dumps({"disable_seconds": time.monotonic() - started}), flush=True)
    elif action == "command":
        import argparse
        parser = argparse.ArgumentParser(prog="demo")
        t.add_argparse_command(parser.add_subparsers(dest="command", required=True))
        args = parser.parse_args(["telemetry", "disable"])
        args.telemetry_handler(args)
    elif action == "exit":
        os._exit(0)
"""


@pytest.fixture(scope="module")
def app_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("opt-out-build")
    build_text(CATALOG, out)
    return out


def run_app(build: Path, data_dir: Path, url: str, *actions: str, **env: str) -> list[dict[str, Any]]:
    """A fresh process of the app doing `actions`; the JSON lines it printed."""
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": str(data_dir.parent),
        "APP_PYTHONPATH": str(build / "python"),
        "ENDPOINT": url,
        "DATA_DIR": str(data_dir),
        **env,
    }
    result = subprocess.run(
        [sys.executable, "-c", APP, *actions], env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def stored_id(data_dir: Path) -> str:
    value: str = json.loads((data_dir / "user_id.json").read_text())["user_id"]
    return value


def names(server: Endpoint) -> list[str]:
    return [event["event"] for event in server.events()]


def test_opting_out_sends_the_record_once_with_the_id_it_then_deletes(app_build: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    with endpoint() as server:
        run_app(app_build, data, server.url, "enable", "exit")
        instance = stored_id(data)
        # Events still queued when the user opts out are deleted, not sent with the record.
        run_app(app_build, data, server.url, "emit", "emit", "disable", "exit")
        assert names(server) == ["app/opted-out"]
        (record,) = server.events()
        assert record["data"] == {"decision": "opted-out"}
        assert record["context"]["instance_id"] == instance
        assert not (data / "user_id.json").exists()
        # Later runs, and opting out again, send nothing.
        run_app(app_build, data, server.url, "emit", "disable")
        run_app(app_build, data, server.url, "disable")
        assert names(server) == ["app/opted-out"]


def test_the_telemetry_command_sends_it_when_leaving_errors(app_build: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    with endpoint() as server:
        run_app(app_build, data, server.url, "errors", "exit")
        instance = stored_id(data)
        run_app(app_build, data, server.url, "command", "exit")
        assert names(server) == ["app/opted-out"]
        assert server.events()[0]["context"]["instance_id"] == instance
        run_app(app_build, data, server.url, "command")
        assert names(server) == ["app/opted-out"]


def test_it_is_sent_within_the_app_run_that_opts_out_only(app_build: Path, tmp_path: Path) -> None:
    """Enabling and disabling in one run sends it; a run that starts off never does."""
    data = tmp_path / "data"
    with endpoint() as server:
        run_app(app_build, data, server.url, "disable", "exit")
        assert server.events() == []
        run_app(app_build, data, server.url, "enable", "disable", "enable", "disable", "exit")
        assert names(server) == ["app/opted-out", "app/opted-out"]  # two opt-outs, one each


def test_never_while_do_not_track_is_set(app_build: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    with endpoint() as server:
        # An explicit opt-in outranks DO_NOT_TRACK for this run; the opt-out still sends nothing.
        run_app(app_build, data, server.url, "enable", "emit", "disable", DO_NOT_TRACK="1")
        assert server.events() == [] and not (data / "user_id.json").exists()


def test_an_endpoint_that_does_not_answer_holds_disable_no_longer_than_the_flush_bound(
    app_build: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    with endpoint() as server:
        run_app(app_build, data, server.url, "enable", "exit")
        server.script.append(Answer(delay=30.0))
        started = time.monotonic()
        (shown,) = run_app(app_build, data, server.url, "disable", "exit", FLUSH_TIMEOUT="1")
        assert shown["disable_seconds"] < 10  # 1 s bound, generous margin for a loaded machine
        assert time.monotonic() - started < 25  # the process, too, left long before the answer
        assert names(server) == ["app/opted-out"]  # it did reach the endpoint
        assert not (data / "user_id.json").exists()


def test_the_app_has_no_emitter_for_it(app_build: Path) -> None:
    package = import_generated(app_build, "demo_app_telemetry")
    assert not hasattr(package.events, "app_opted_out")
    assert package.EVENTS["app/opted-out"].fixed_data == {"decision": "opted-out"}


@pytest.mark.parametrize(
    "fields",
    [
        # free data
        "      count:\n        type: integer\n        description: How many.\n        privacy: technical\n",
        # two values: not fixed
        "      decision:\n        type: enum\n        values: [a, b]\n        required: true\n"
        "        description: What.\n        privacy: interaction\n",
        # one value, but optional: the record could leave it out
        "      decision:\n        type: enum\n        values: [a]\n"
        "        description: What.\n        privacy: interaction\n",
    ],
)
def test_a_record_field_not_fixed_to_one_value_is_a_located_error(fields: str) -> None:
    text = MINIMAL_CATALOG.replace("events:\n", f"events:\n{RECORD_HEAD}    fields:\n{fields}")
    catalog, diagnostics = parse_catalog(text, "events.yaml")
    assert catalog is None
    (problem,) = [d for d in diagnostics if d.code == "CF035"]
    field_line = text.splitlines().index(fields.splitlines()[0]) + 1
    assert (problem.location.line, problem.location.column) == (field_line, 7)
    assert "not fixed to one value" in problem.message


def test_a_catalog_declares_one_opt_out_record_at_most() -> None:
    second = RECORD.replace("app/opted-out", "app/left")
    catalog, diagnostics = parse_catalog(MINIMAL_CATALOG + RECORD + second, "events.yaml")
    assert catalog is None
    assert [d.code for d in diagnostics if d.severity.value == "error"] == ["CF035"]


def test_a_record_without_fields_is_valid() -> None:
    catalog = catalog_from_text(MINIMAL_CATALOG + RECORD_HEAD)
    assert [e.fixed_data() for e in catalog.events if e.name == "app/opted-out"] == [{}]


def test_the_docs_say_what_it_holds_and_when_it_is_sent(app_build: Path) -> None:
    page = (app_build / "docs" / "index.md").read_text("utf-8")
    assert "`app/opted-out`" in page and "`decision` = `opted-out`" in page
    assert "never while `DO_NOT_TRACK=1` is set, and never in a later run" in " ".join(page.split())
    html = " ".join((app_build / "docs" / "one-page.html").read_text("utf-8").split())
    assert "<code>app/opted-out</code>" in html and "never while <code>DO_NOT_TRACK=1</code> is set" in html
