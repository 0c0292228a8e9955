"""What the runtime tells an app's developer and its user, each in a real process of the example app:
a TOML configuration without tomllib, and telemetry switched on with nowhere to send."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import EXAMPLE_PACKAGE as PACKAGE
from conftest import GENERATED

PRELUDE = f"import sys\nsys.path.insert(0, {str(GENERATED / 'python')!r})\n"


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
