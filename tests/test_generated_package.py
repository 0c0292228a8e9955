"""The generated emitter package of the example catalog, used the way an app uses it."""

from __future__ import annotations

import ast
import inspect
import json
import subprocess
import sys
import typing
from pathlib import Path
from types import ModuleType

import jsonschema
import pytest
import telemetry_gen_runtime

from conftest import REPO, arguments, build_text, import_generated
from telemetry_gen.catalog.model import (
    Catalog,
)

EXAMPLE_TEXT = (REPO / "events.yaml").read_text("utf-8")
PACKAGE = "vigilant_trader_telemetry"
GENERATED_RUFF = ["--isolated", "--select", "E,F,W,I,B,UP,RUF", "--ignore", "E501,UP013", "--target-version", "py310"]


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[Catalog, Path]:
    out = tmp_path_factory.mktemp("example") / "generated"
    return build_text(EXAMPLE_TEXT, out), out


@pytest.fixture
def package(example: tuple[Catalog, Path]) -> ModuleType:
    return import_generated(example[1], PACKAGE)


def test_a_sink_is_stopped_before_it_starts_again(package: ModuleType, tmp_path: Path) -> None:
    """Sinks rely on it (the Sentry sink starts a new sentry-sdk client for the new level)."""
    calls: list[str] = []

    class Recording(package.MemorySink):  # type: ignore[name-defined,misc]
        def start(self, session: typing.Any) -> None:
            calls.append(f"start {session.level}")

        def stop(self, *, forget: bool) -> None:
            calls.append(f"stop forget={forget}")

    package.configure(app_version="3.2.0", sinks=[Recording()], data_dir=tmp_path, consent="errors")
    package.enable("all")
    package.configure(app_version="3.2.1", sinks=[], data_dir=tmp_path, consent="all")
    package.disable()
    assert calls == ["start errors", "stop forget=False", "start all", "stop forget=False"]


def test_every_emitter_sends_a_schema_valid_event(
    example: tuple[Catalog, Path], package: ModuleType, tmp_path: Path
) -> None:
    catalog, out = example
    sink = package.MemorySink()
    package.configure(app_version="3.2.0", commit="4f2a9c1", sinks=[sink], strict=True, data_dir=tmp_path)
    package.enable()
    for event in catalog.events:
        getattr(package.events, event.identifier)(**arguments(event.fields))
    assert sink.names() == [e.name for e in catalog.events]
    for envelope, event in zip(sink.events, catalog.events, strict=False):
        schema_file = out / "schemas" / f"{event.name}.v{event.version}.schema.json"
        jsonschema.validate(json.loads(json.dumps(envelope)), json.loads(schema_file.read_text("utf-8")))
        assert envelope["context"]["instance_id"] == json.loads((tmp_path / "user_id.json").read_text())["user_id"]


def test_optional_fields_left_out_when_none(package: ModuleType, tmp_path: Path) -> None:
    sink = package.MemorySink()
    package.configure(app_version="3.2.0", sinks=[sink], strict=True, data_dir=tmp_path, consent="all")
    package.events.app_exited(exit_reason="normal", uptime_seconds=1.5, exit_code=None)
    assert sink.events[0]["data"] == {"exit_reason": "normal", "uptime_seconds": 1.5}


def test_nothing_is_sent_or_stored_without_consent(
    example: tuple[Catalog, Path], package: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = example[0]
    sink = package.MemorySink()
    data_dir = tmp_path / "data"
    package.configure(app_version="3.2.0", sinks=[sink], strict=True, data_dir=data_dir)
    for event in catalog.events:
        getattr(package.events, event.identifier)(**arguments(event.fields))
    assert sink.events == []
    assert not data_dir.exists()
    assert package.status().level == "off"

    monkeypatch.setenv("DO_NOT_TRACK", "1")
    monkeypatch.setenv("VIGILANT_TRADER_TELEMETRY", "all")
    package.configure(app_version="3.2.0", sinks=[sink], strict=True, data_dir=data_dir)
    package.events.app_exited(exit_reason="normal", uptime_seconds=1.0)
    assert sink.events == [] and not data_dir.exists()
    assert package.status().source == "DO_NOT_TRACK"


def test_errors_level_sends_error_events_only(
    example: tuple[Catalog, Path], package: ModuleType, tmp_path: Path
) -> None:
    catalog = example[0]
    sink = package.MemorySink()
    package.configure(app_version="3.2.0", sinks=[sink], strict=True, data_dir=tmp_path, consent="errors")
    for event in catalog.events:
        getattr(package.events, event.identifier)(**arguments(event.fields))
    expected = [e.name for e in catalog.events if e.category.value == "errors"]
    assert expected and sink.names() == expected


def test_app_variable_opts_in_and_disable_deletes_the_id(
    package: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGILANT_TRADER_TELEMETRY", "1")
    sink = package.MemorySink()
    package.configure(app_version="3.2.0", sinks=[sink], data_dir=tmp_path)
    package.events.app_exited(exit_reason="normal", uptime_seconds=1.0)
    assert sink.names() == ["app/exited"] and (tmp_path / "user_id.json").exists()
    package.disable()
    assert not (tmp_path / "user_id.json").exists()
    package.events.app_exited(exit_reason="normal", uptime_seconds=1.0)
    assert sink.names() == ["app/exited"]


def test_what_is_checked_is_what_is_sent_whatever_the_app_does_to_its_list(package: ModuleType, tmp_path: Path) -> None:
    """The delivery thread serializes events later: a list the app changes after the call must not change the event."""
    batches: list[list[dict[str, typing.Any]]] = []

    class Recording(package.Sink):  # type: ignore[name-defined,misc]
        def write(self, events: list[dict[str, typing.Any]]) -> None:
            batches.append(json.loads(json.dumps(events)))

    package.configure(app_version="3.2.0", sinks=[Recording()], data_dir=tmp_path, consent="all", strict=True)
    features = ["tor", "dry-run"]
    package.events.app_started(command="watch", interactive=True, enabled_features=features)
    features += ["not-a-feature", "dry-run"]  # invalid, and repeated
    assert package.flush(5.0)
    assert [event["data"]["enabled_features"] for batch in batches for event in batch] == [["tor", "dry-run"]]


def test_status_counts_every_accepted_event_across_reconfiguration(package: ModuleType, tmp_path: Path) -> None:
    """Queued events are counted by the delivery queue, not on the emit path: none may go missing."""

    class Background(package.Sink):  # type: ignore[name-defined,misc]
        def write(self, events: object) -> None:
            pass

    package.configure(app_version="3.2.0", sinks=[Background()], data_dir=tmp_path, consent="all")
    for _ in range(3):
        package.events.app_exited(exit_reason="normal", uptime_seconds=1.0)
    assert package.status().accepted == 3  # waiting or taken, whichever the thread has got to
    assert package.flush(5.0)
    package.configure(app_version="3.2.0", sinks=[Background(), package.MemorySink()], data_dir=tmp_path, consent="all")
    package.events.app_exited(exit_reason="normal", uptime_seconds=1.0)
    package.events.app_exited(exit_reason="normal", uptime_seconds=-1.0)  # invalid: dropped, not accepted
    package.disable()
    status = package.status()
    assert (status.accepted, status.dropped) == (4, {"app/exited.uptime_seconds: invalid": 1})


def test_invalid_event_raises_in_strict_mode_and_is_dropped_in_production(package: ModuleType, tmp_path: Path) -> None:
    sink = package.MemorySink()
    package.configure(app_version="3.2.0", sinks=[sink], strict=True, data_dir=tmp_path, consent="all")
    with pytest.raises(package.EventValidationError) as raised:
        package.events.app_exited(exit_reason="exploded", uptime_seconds=1.0)
    assert "app/exited.exit_reason: 'exploded' is not one of ['normal'," in str(raised.value)

    seen: list[Exception] = []
    package.configure(app_version="3.2.0", sinks=[sink], data_dir=tmp_path, consent="all", on_violation=seen.append)
    package.events.app_exited(exit_reason="normal", uptime_seconds=-5.0)  # below the declared minimum
    assert sink.events == [] and len(seen) == 1
    assert package.status().dropped == {"app/exited.uptime_seconds: invalid": 1}


def test_undeclared_keys_are_tallied_once_per_event_whatever_their_names(package: ModuleType, tmp_path: Path) -> None:
    """An object argument is the app's dict: its undeclared keys must not grow the tally."""
    package.configure(app_version="3.2.0", sinks=[package.MemorySink()], data_dir=tmp_path, consent="all")
    for run in range(3):
        options = {"replace_by_fee": True, **{f"key_{run}_{index}": index for index in range(1000)}}
        package.events.transaction_created(asset="btc", fee_level="low", network="mainnet", options=options)
    assert package.status().dropped == {"transaction/created: undeclared field": 3}


def test_a_failing_sink_never_reaches_the_host_app(package: ModuleType, tmp_path: Path) -> None:
    class Broken(package.Sink):  # type: ignore[name-defined,misc]
        background = False

        def write(self, events: object) -> None:
            raise OSError("disk full")

    class NotASink:
        def write(self, events: object) -> None:
            raise AssertionError("never called")

    good = package.MemorySink()
    package.configure(app_version="3.2.0", sinks=[Broken(), NotASink(), good], data_dir=tmp_path, consent="all")
    package.events.app_exited(exit_reason="normal", uptime_seconds=1.0)
    assert good.names() == ["app/exited"]
    assert package.status().dropped == {"configuration": 1, "sink Broken failed": 1}
    with pytest.raises(package.ConfigurationError, match="is not a Sink"):
        package.configure(app_version="3.2.0", sinks=[NotASink()], data_dir=tmp_path, strict=True)


def test_emitters_are_keyword_only_typed_and_documented(example: tuple[Catalog, Path], package: ModuleType) -> None:
    for event in example[0].events:
        function = getattr(package.events, event.identifier)
        parameters = inspect.signature(function).parameters.values()
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters)
        doc = inspect.getdoc(function) or ""
        assert event.description.split(".")[0] in doc
        for field in event.fields:
            assert field.privacy.value in doc
    hints = typing.get_type_hints(package.events.app_exited)
    assert typing.get_args(hints["exit_reason"]) == ("normal", "keyboard-interrupt", "signal", "fatal-error")


def test_public_api_is_exactly_all(package: ModuleType) -> None:
    assert sorted(package.__all__) == sorted(
        [
            "EVENTS",
            "ConfigurationError",
            "ConsoleSink",
            "EventValidationError",
            "HttpSink",
            "JsonlSink",
            "Level",
            "MemorySink",
            "SentrySink",
            "Session",
            "Sink",
            "Status",
            "TelemetryError",
            "add_argparse_command",
            "ask_consent",
            "configure",
            "disable",
            "enable",
            "events",
            "flush",
            "report_error",
            "status",
            "typer_app",
        ]
    )
    public = sorted(
        n for n in vars(package) if not n.startswith("_") and not isinstance(getattr(package, n), ModuleType)
    )
    assert sorted(set(public) - {"client"}) == sorted(n for n in package.__all__ if n != "events")


def _imported(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name.split(".")[0] for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.append((node.module or "").split(".")[0])
    return names


def test_generated_package_imports_only_the_runtime_and_the_standard_library(example: tuple[Catalog, Path]) -> None:
    """Apps ship it to their users: nothing beyond the runtime and the standard library, except the
    pytest plugin, which only pytest loads (the package itself never imports it). The runtime needs
    nothing else either; sentry-sdk only in its Sentry sink."""
    root = example[1] / "python" / PACKAGE
    plugin = root / "testing.py"
    assert "testing" not in (root / "__init__.py").read_text("utf-8")
    for path in set(root.rglob("*.py")) - {plugin}:
        for name in _imported(path):
            assert name in sys.stdlib_module_names or name == "telemetry_gen_runtime", f"{path.name} imports {name}"
    runtime = Path(telemetry_gen_runtime.__file__).parent
    for path in runtime.rglob("*.py"):
        for name in _imported(path):
            allowed = name in sys.stdlib_module_names or (name == "sentry_sdk" and path.name == "sentry.py")
            assert allowed, f"the runtime's {path.name} imports {name}"


def test_importing_starts_no_thread_and_touches_no_file(example: tuple[Catalog, Path], tmp_path: Path) -> None:
    code = (
        "import threading, sys\n"
        f"sys.path.insert(0, {str(example[1] / 'python')!r})\n"
        f"import {PACKAGE} as t\n"
        "t.configure(app_version='1.0.0')\n"
        "t.events.app_exited(exit_reason='normal', uptime_seconds=1.0)\n"
        "print(threading.active_count())\n"
    )
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.strip() == "1"
    assert list(tmp_path.iterdir()) == []


def test_generated_package_passes_mypy_strict_and_ruff(example: tuple[Catalog, Path], tmp_path: Path) -> None:
    python_dir = example[1] / "python"
    usage = tmp_path / "app_code.py"
    usage.write_text(
        f"from {PACKAGE} import configure, events\n"
        "configure(app_version='1.0')\n"
        "events.app_exited(exit_reason='normal', uptime_seconds=1.0)\n"
        "events.app_exited(exit_reason='typo', uptime_seconds=1.0)  # mypy must reject this\n",
        "utf-8",
    )
    mypy = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache")]
    result = subprocess.run([*mypy, PACKAGE], cwd=python_dir, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    result = subprocess.run(
        [*mypy, str(usage)],
        cwd=python_dir,
        capture_output=True,
        text=True,
        env={"MYPYPATH": str(python_dir), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 1 and "incompatible type \"Literal['typo']\"" in result.stdout, result.stdout
    assert result.stdout.count("error:") == 1, result.stdout
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", *GENERATED_RUFF, PACKAGE],
        cwd=python_dir,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_event_without_fields_gets_a_parameterless_emitter(tmp_path: Path) -> None:
    minimal = """\
    catalog_format: 1
    app: {name: tiny, title: Tiny, package: tiny_telemetry, version: "1.0", domains: [app]}
    never_collected: [Everything personal]
    events:
      app/pinged:
        description: The app is alive; counts running installations.
        trigger: Once a day while the app runs.
        category: usage
        owner: core-team
        since: "1.0"
    """
    build_text(minimal, tmp_path / "out")
    tiny = import_generated(tmp_path / "out", "tiny_telemetry")
    sink = tiny.MemorySink()
    tiny.configure(app_version="1.0", sinks=[sink], data_dir=tmp_path / "data", consent="all", strict=True)
    tiny.events.app_pinged()
    assert sink.events[0]["data"] == {} and sink.events[0]["context"] == {}


def test_debug_variable_prints_events_and_sends_nothing(
    package: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VIGILANT_TRADER_TELEMETRY_DEBUG", "1")
    sink = package.MemorySink()
    package.configure(app_version="3.2.0", sinks=[sink], data_dir=tmp_path, consent="all", strict=True)
    package.events.app_exited(exit_reason="normal", uptime_seconds=2.0)
    assert sink.events == []
    printed = capsys.readouterr().err.strip().splitlines()
    assert len(printed) == 1 and printed[0].startswith("telemetry (not sent): ")
    assert json.loads(printed[0].removeprefix("telemetry (not sent): "))["data"] == {
        "exit_reason": "normal",
        "uptime_seconds": 2.0,
    }
