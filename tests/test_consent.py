"""Consent as a user meets it: sources and their precedence, the saved decision, the instance id,
the prompts on a real terminal, the ready-made `telemetry` command, and nothing before opt-in."""

from __future__ import annotations

import ast
import importlib
import json
import os
import pty
import select
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner

from conftest import EXAMPLE_PACKAGE as PACKAGE
from conftest import GENERATED

VARIABLE = "VIGILANT_TRADER_TELEMETRY"
# The start of every app script run in its own process: the example package, imported as `t`.
PRELUDE = f"import sys\nsys.path.insert(0, {str(GENERATED / 'python')!r})\nimport {PACKAGE} as t\n"


def level(package: ModuleType, tmp_path: Path, **configure: object) -> tuple[str, str]:
    package.configure(app_version="3.2.0", data_dir=tmp_path, **configure)
    status = package.status()
    return status.level, status.source


def test_off_by_default(package: ModuleType, tmp_path: Path) -> None:
    assert level(package, tmp_path) == ("off", "default")
    assert list(tmp_path.iterdir()) == []


def test_precedence_explicit_environment_config_saved(
    package: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "consent.json").write_text('{"level": "all"}')
    assert level(package, tmp_path) == ("all", "saved decision")
    assert level(package, tmp_path, config={"telemetry": {"collect": "errors"}}) == ("errors", "app configuration")
    monkeypatch.setenv(VARIABLE, "0")
    assert level(package, tmp_path, config={"telemetry": {"collect": True}}) == ("off", VARIABLE)
    monkeypatch.setenv(VARIABLE, "all")
    monkeypatch.setenv("DO_NOT_TRACK", "1")
    assert level(package, tmp_path) == ("off", "DO_NOT_TRACK")
    assert level(package, tmp_path, consent="errors") == ("errors", "explicit")


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("config.yaml", "exchange: kraken\ntelemetry:\n  collect: true\n"),
        ("config.json", '{"telemetry": {"collect": "errors"}}'),
        ("config.toml", '[telemetry]\ncollect = "all"\n'),
    ],
)
def test_the_apps_config_file_switches_telemetry(package: ModuleType, tmp_path: Path, name: str, text: str) -> None:
    config = tmp_path / name
    config.write_text(text)
    expected = "errors" if "errors" in text else "all"
    assert level(package, tmp_path / "data", config=config) == (expected, "app configuration")
    assert level(package, tmp_path / "data", config=tmp_path / "missing.yaml") == ("off", "default")


def test_a_broken_config_is_reported_and_leaves_telemetry_off(package: ModuleType, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("telemetry:\n  collect: maybe\n")
    assert level(package, tmp_path / "data", config=config) == ("off", "configuration error (see the log)")
    assert package.status().dropped == {"configuration": 1}
    with pytest.raises(package.ConfigurationError, match=r"telemetry\.collect is 'maybe'"):
        package.configure(app_version="3.2.0", data_dir=tmp_path, config=config, strict=True)
    config.write_text("telemetry: [unclosed\n")
    with pytest.raises(package.ConfigurationError, match="cannot read"):
        package.configure(app_version="3.2.0", data_dir=tmp_path, config=config, strict=True)


def test_enable_with_a_bad_level_raises_under_the_test_harness(package: ModuleType, tmp_path: Path) -> None:
    testing = importlib.import_module("telemetry_gen_runtime.testing")
    with testing.capture(package._catalog.client, tmp_path / "captured"):
        package.configure(app_version="3.2.0")  # the app's own, lenient configure: the harness is strict
        with pytest.raises(package.ConfigurationError, match="enable\\(\\) takes 'all' or 'errors', not 'off'"):
            package.enable("off")
        with pytest.raises(package.ConfigurationError, match="not 'sometimes'"):
            package.enable("sometimes")
    package.configure(app_version="3.2.0", data_dir=tmp_path / "data")
    package.enable("sometimes")  # outside the harness, and not strict: counted and logged
    assert package.status().dropped == {"configuration": 1}
    assert package.status().level == "off"


@pytest.mark.parametrize(
    ("value", "on"),
    [
        ("1", True),
        ("true", True),
        (" YES ", True),
        ("on", True),
        ("2", True),
        ("", False),
        ("0", False),
        ("false", False),
        ("No", False),
        ("off", False),
    ],
)
def test_on_off_variables_are_read_alike(
    package: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    value: str,
    on: bool,
) -> None:
    """DO_NOT_TRACK, the debug variable and the CI variables are on unless empty or 0, false, no, off."""
    prompt = importlib.import_module("telemetry_gen_runtime.prompt")
    for name in prompt._CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name in ("DO_NOT_TRACK", f"{VARIABLE}_DEBUG", "CI"):
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(VARIABLE, "all")
    assert level(package, tmp_path) == (("off", "DO_NOT_TRACK") if on else ("all", VARIABLE))
    assert prompt.running_in_ci() is on
    sink = package.MemorySink()
    package.configure(app_version="3.2.0", data_dir=tmp_path, sinks=[sink], consent="all", strict=True)
    package.events.app_started(command="watch", interactive=False)
    assert sink.names() == ([] if on else ["app/started"])  # on: printed by the debug sink, not sent


def run_app(code: str, home: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A fresh process of the app, with `home` as its home folder."""
    environment = {"PATH": os.environ["PATH"], "HOME": str(home), **(env or {})}
    return subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(code)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_enable_and_disable_are_remembered_across_runs(tmp_path: Path) -> None:
    data = tmp_path / ".local/share/vigilant-trader"
    show = "t.configure(app_version='3.2.0')\nprint(t.status().level, t.status().source, t.status().instance_id)\n"
    assert run_app(show, tmp_path).stdout.split() == ["off", "default", "None"]
    assert not (tmp_path / ".local").exists()

    run_app("t.configure(app_version='3.2.0')\nt.enable()\n", tmp_path)
    stored = json.loads((data / "user_id.json").read_text())["user_id"]
    assert uuid.UUID(stored).version == 4 and stored == uuid.UUID(stored).hex
    assert run_app(show, tmp_path).stdout.split() == ["all", "saved", "decision", stored]

    (data / "user_id.json").unlink()  # a deleted id is made anew
    renewed = run_app(show, tmp_path).stdout.split()[-1]
    assert renewed != stored and len(renewed) == 32

    run_app("t.configure(app_version='3.2.0')\nt.disable()\n", tmp_path)
    assert sorted(p.name for p in data.iterdir()) == ["consent.json"]
    assert run_app(show, tmp_path).stdout.split() == ["off", "saved", "decision", "None"]


def test_sessions_differ_per_process_and_share_the_instance(tmp_path: Path) -> None:
    code = """
    sink = t.MemorySink()
    t.configure(app_version='3.2.0', sinks=[sink], consent='all')
    t.events.app_exited(exit_reason='normal', uptime_seconds=1.0)
    c = sink.events[0]['context']
    print(c['instance_id'], c['session_id'])
    """
    first, second = (run_app(code, tmp_path).stdout.split() for _ in range(2))
    assert first[0] == second[0] and first[1] != second[1]


def test_context_never_carries_the_hostname_user_or_home(tmp_path: Path) -> None:
    home = tmp_path / "home-of-zelda"
    home.mkdir()
    code = """
    import json
    sink = t.MemorySink()
    t.configure(app_version='3.2.0', sinks=[sink], consent='all')
    t.events.app_exited(exit_reason='normal', uptime_seconds=1.0)
    print(json.dumps(sink.events[0]))
    """
    result = run_app(code, home, {"USER": "zelda", "LOGNAME": "zelda", "HOSTNAME": "zeldas-laptop"})
    import socket

    sent = result.stdout
    assert "zelda" not in sent and str(home) not in sent and socket.gethostname() not in sent


GUARD = """
import sys, threading
seen = []
WATCHED = {"socket.connect", "socket.bind", "os.mkdir", "os.rename", "os.replace", "os.remove"}
def hook(event, args):
    if event in WATCHED or (event == "open" and isinstance(args[1], str) and set(args[1]) & set("wax+")):
        seen.append(event)
sys.addaudithook(hook)
"""


@pytest.mark.parametrize(
    "env",
    [{}, {"DO_NOT_TRACK": "1", VARIABLE: "all"}, {VARIABLE: "0"}],
    ids=["no decision", "DO_NOT_TRACK", "app variable off"],
)
def test_nothing_happens_before_consent(tmp_path: Path, example_build: Path, env: dict[str, str]) -> None:
    """No socket, no file or folder, no thread, no sentry_sdk import: checked by an audit hook."""
    code = GUARD + textwrap.dedent(
        f"""
        sys.path.insert(0, {str(example_build / "python")!r})
        import {PACKAGE} as t
        t.configure(app_version="3.2.0", config={{"other": 1}},
                    sinks=[t.HttpSink("http://127.0.0.1:9/c", spool_max_bytes=10**6), t.JsonlSink("sent.jsonl")])
        for _ in range(50):
            t.events.app_started(command="watch", interactive=False)
            t.events.error_exchange_request_failed(exchange="kraken", operation="fetch-ticker", error_class="network")
        t.report_error(ValueError("boom"))
        t.flush(1)
        print(t.status().level, sorted(set(seen)), threading.active_count(), "sentry_sdk" in sys.modules)
        """
    )
    # Importing a fresh build would write its bytecode: not the runtime's doing.
    environment = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1", **env}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "off [] 1 False", result.stdout + result.stderr
    assert list(tmp_path.iterdir()) == []
    # The same guard sees all of it once the user opts in.
    environment[VARIABLE] = "all"
    environment.pop("DO_NOT_TRACK", None)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=60
    )
    level, seen, threads, sentry = result.stdout.rsplit(" ", 2)[0].split(" ", 1) + result.stdout.split()[-2:]
    # The delivery thread, and the thread that sends the spool.
    assert level == "all" and threads == "3" and sentry == "False", result.stdout
    assert {"open", "os.mkdir", "os.rename", "socket.connect"} <= set(ast.literal_eval(seen)), result.stdout


def ask_on_a_terminal(code: str, answer: str | None, home: Path, env: dict[str, str] | None = None) -> str:
    """Run `code` with a real pseudo-terminal as its stdin and stdout, type `answer` (None: close
    the input), and return everything the terminal showed."""
    main, child = pty.openpty()
    environment = {"PATH": os.environ["PATH"], "HOME": str(home), **(env or {})}
    process = subprocess.Popen(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(code)],
        stdin=child,
        stdout=child,
        stderr=child,
        env=environment,
    )
    os.close(child)
    shown = b""
    typed = False
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(main, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
        if not typed and shown.rstrip().endswith(b":"):
            os.write(main, b"\x04" if answer is None else answer.encode() + b"\n")
            typed = True
        if process.poll() is not None and not ready:
            break
    process.wait(timeout=10)
    os.close(main)
    return shown.decode(errors="replace").replace("\r\n", "\n")


FIRST_RUN = """
t.configure(app_version="3.2.0")
print("answer:", t.ask_consent())
print("level:", t.status().level)
"""


@pytest.mark.parametrize(
    ("answer", "chosen", "saved"),
    [("y", "all", "all"), ("e", "errors", "errors"), ("n", "off", "off"), ("", "off", "off"), (None, "None", None)],
    ids=["yes", "errors", "no", "enter", "end of input"],
)
def test_first_run_prompt_on_a_terminal(tmp_path: Path, answer: str | None, chosen: str, saved: str | None) -> None:
    shown = ask_on_a_terminal(FIRST_RUN, answer, tmp_path)
    assert "Help improve Vigilant Trader?" in shown and "https://vigilant-trader.example/privacy" in shown
    assert f"answer: {chosen}" in shown
    decision = tmp_path / ".local/share/vigilant-trader/consent.json"
    assert (json.loads(decision.read_text())["level"] if decision.exists() else None) == saved
    # Asked once: the next run keeps the saved answer and does not ask.
    if saved is not None:
        again = ask_on_a_terminal(FIRST_RUN, "y", tmp_path)
        assert "Help improve" not in again and "answer: None" in again and f"level: {saved}" in again


def test_no_prompt_in_ci_or_without_a_terminal(tmp_path: Path) -> None:
    shown = ask_on_a_terminal(FIRST_RUN, "y", tmp_path, {"CI": "true"})
    assert "Help improve" not in shown and "answer: None" in shown and "level: off" in shown
    piped = run_app(FIRST_RUN, tmp_path)
    assert "Help improve" not in piped.stdout and "answer: None" in piped.stdout
    assert not (tmp_path / ".local").exists()


ERROR_REPORT = """
sink = t.MemorySink()
t.configure(app_version="3.2.0", sinks=[sink])
try:
    raise KeyError("x")
except KeyError as error:
    allowed = t.report_error(error)
if allowed:
    t.events.error_unhandled_exception(exception_type="KeyError", module="app", command="watch")
print("sent:", sink.names(), "level:", t.status().level)
"""


@pytest.mark.parametrize(
    ("answer", "sent", "saved"),
    [("y", True, None), ("n", False, None), ("a", True, "errors"), ("never", False, "off")],
    ids=["yes", "no", "always", "never"],
)
def test_error_report_prompt(tmp_path: Path, answer: str, sent: bool, saved: str | None) -> None:
    shown = ask_on_a_terminal(ERROR_REPORT, answer, tmp_path)
    assert "Send an error report" in shown
    assert ("sent: ['error/unhandled-exception']" in shown) is sent, shown
    data = tmp_path / ".local/share/vigilant-trader"
    decision = data / "consent.json"
    assert (json.loads(decision.read_text())["level"] if decision.exists() else None) == saved
    if answer == "y":  # a one-off report stores no id
        assert not (data / "user_id.json").exists()
    if saved is not None:  # always and never are not asked again
        again = ask_on_a_terminal(ERROR_REPORT, "n", tmp_path)
        assert "Send an error report" not in again and ("sent: ['error/unhandled-exception']" in again) is sent


ARGPARSE_APP = """
import argparse
parser = argparse.ArgumentParser(prog="vigilant-trader")
commands = parser.add_subparsers(dest="command", required=True)
t.add_argparse_command(commands)
args = parser.parse_args(sys.argv[1:])
t.configure(app_version="3.2.0")
raise SystemExit(args.telemetry_handler(args))
"""


def test_argparse_telemetry_command(tmp_path: Path) -> None:
    def run(*words: str, env: dict[str, str] | None = None) -> str:
        environment = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **(env or {})}
        result = subprocess.run(
            [sys.executable, "-c", PRELUDE + ARGPARSE_APP, *words], env=environment, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert run("telemetry", "status").startswith("telemetry: off (decided by default)")
    assert run("telemetry", "enable", "--errors-only").startswith("telemetry: errors (decided by explicit)")
    assert run("telemetry", "status").startswith("telemetry: errors (decided by saved decision)")
    assert "DO_NOT_TRACK is set" in run("telemetry", "enable", env={"DO_NOT_TRACK": "1"})
    shown = run("telemetry", "disable")
    assert shown.startswith("telemetry: off (decided by explicit)") and "instance id: none" in shown
    assert sorted(p.name for p in (tmp_path / ".local/share/vigilant-trader").iterdir()) == ["consent.json"]


def test_typer_telemetry_command(package: ModuleType, tmp_path: Path) -> None:
    import typer

    cli = typer.Typer()
    cli.command()(lambda: None)
    cli.add_typer(package.typer_app(), name="telemetry")
    package.configure(app_version="3.2.0", data_dir=tmp_path)
    runner = CliRunner()
    result = runner.invoke(cli, ["telemetry", "enable"])
    assert result.exit_code == 0 and result.output.startswith("telemetry: all (decided by explicit)")
    assert (tmp_path / "user_id.json").exists()
    result = runner.invoke(cli, ["telemetry", "disable"])
    assert result.exit_code == 0 and "instance id: none" in result.output
    assert not (tmp_path / "user_id.json").exists()
    assert "--errors-only" in runner.invoke(cli, ["telemetry", "enable", "--help"]).output


def test_apps_assert_their_events_with_the_pytest_fixture(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(f'pytest_plugins = ["{PACKAGE}.testing"]\n')
    (tmp_path / "test_app.py").write_text(
        textwrap.dedent(
            f"""
            import pytest
            import {PACKAGE} as t

            def start(command):  # the app's code: it configures telemetry itself
                t.configure(app_version="3.2.0", sinks=[t.HttpSink("http://127.0.0.1:9/c")])
                t.events.app_started(command=command, interactive=False)

            def test_start_is_tracked(telemetry_events):
                start("watch")
                assert telemetry_events.names() == ["app/started"]
                assert telemetry_events.data("app/started") == [{{"command": "watch", "interactive": False}}]

            def test_invalid_events_fail_the_test(telemetry_events):
                with pytest.raises(t.EventValidationError):
                    start("rm -rf /")

            def test_opting_out_is_testable(telemetry_events):
                t.configure(app_version="3.2.0")
                t.disable()
                start("watch")
                assert telemetry_events.names() == []

            def test_without_the_fixture_nothing_is_captured():
                assert t.status().level == "off"
            """
        )
    )
    environment = {**os.environ, "PYTHONPATH": str(GENERATED / "python"), "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and "4 passed" in result.stdout, result.stdout + result.stderr
    assert not (tmp_path / ".local").exists()
