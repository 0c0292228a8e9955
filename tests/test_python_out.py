"""The emitters shipped inside the app: a dotted `app.package` built with `build --python-out` into
the app's own source tree, and a dotted package as a standalone distribution."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from conftest import MINIMAL_CATALOG, REPO, file_tree, run_cli

PACKAGE = "ledgerline.telemetry"
APP_PYPROJECT = """\
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "ledgerline"
version = "1.4.0"
requires-python = ">=3.10"
dependencies = ["telemetry-gen-runtime~=0.1.0"]

[tool.setuptools.packages.find]
where = ["src"]

[tool.setuptools.package-data]
"*" = ["py.typed"]
"""
APP_INIT = '"""Ledgerline: double-entry bookkeeping on the command line."""\n\n__version__ = "1.4.0"\n'
# The app's own module that emits: what mypy checks together with the generated subpackage.
APP_CLI = '''\
"""The ledgerline command."""

from __future__ import annotations

from ledgerline import __version__, telemetry
from ledgerline.telemetry import events


def main(sinks: list[telemetry.Sink], data_dir: str) -> list[str]:
    telemetry.configure(app_version=__version__, sinks=sinks, consent="all", strict=True, data_dir=data_dir)
    events.app_started(mode="cli")
    return [sink.__class__.__name__ for sink in sinks]
'''


def app_project(root: Path, package: str = PACKAGE) -> Path:
    """A small app in the src layout with its own pyproject.toml, and its catalog."""
    (root / "src" / "ledgerline").mkdir(parents=True)
    (root / "pyproject.toml").write_text(APP_PYPROJECT, "utf-8")
    (root / "src" / "ledgerline" / "__init__.py").write_text(APP_INIT, "utf-8")
    (root / "src" / "ledgerline" / "cli.py").write_text(APP_CLI, "utf-8")
    (root / "src" / "ledgerline" / "py.typed").write_text("", "utf-8")
    catalog = MINIMAL_CATALOG.replace("package: demo_app_telemetry", f"package: {package}")
    (root / "events.yaml").write_text(catalog.replace("name: demo-app", "name: ledgerline"), "utf-8")
    return root


def build(root: Path, *args: str) -> tuple[int, str]:
    return run_cli("build", str(root / "events.yaml"), "--out", str(root / "generated"), *args)


@pytest.fixture
def built_app(tmp_path: Path) -> Path:
    root = app_project(tmp_path / "ledgerline")
    code, output = build(root, "--python-out", str(root / "src"))
    assert code == 0, output
    return root


def test_python_out_writes_the_subpackage_into_the_app_and_leaves_the_app_alone(built_app: Path) -> None:
    package_dir = built_app / "src" / "ledgerline" / "telemetry"
    assert sorted(p.name for p in package_dir.iterdir()) == [
        "__init__.py",
        "_catalog.py",
        "_checks.py",
        "events.py",
        "py.typed",
        "testing.py",
    ]
    assert (built_app / "src" / "ledgerline" / "__init__.py").read_text("utf-8") == APP_INIT
    assert (built_app / "src" / "ledgerline" / "cli.py").read_text("utf-8") == APP_CLI
    # The app has its own pyproject.toml: the output folder holds no second distribution.
    generated = built_app / "generated"
    assert not (generated / "python").exists()
    assert (generated / "models" / "ledgerline_telemetry_models.py").is_file()
    assert (generated / "schemas" / "app" / "started.v1.schema.json").is_file()


def test_the_subpackage_imports_from_the_app_and_emits(built_app: Path, tmp_path: Path) -> None:
    code = (
        "from ledgerline import cli, telemetry\n"
        "sink = telemetry.MemorySink()\n"
        f"cli.main([sink], {str(tmp_path / 'data')!r})\n"
        "print(sink.names(), telemetry.__name__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=built_app / "src", capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['app/started'] ledgerline.telemetry"


def test_a_rebuild_replaces_only_the_subpackage(built_app: Path) -> None:
    package_dir = built_app / "src" / "ledgerline" / "telemetry"
    (package_dir / "stray.py").write_text("x = 1\n", "utf-8")
    (built_app / "src" / "ledgerline" / "ledger.py").write_text("BOOKS = 2\n", "utf-8")
    code, output = build(built_app, "--python-out", str(built_app / "src"))
    assert code == 0, output
    assert f"to {built_app.as_posix()}/generated and {package_dir.as_posix()}" in output
    assert not (package_dir / "stray.py").exists()
    assert (built_app / "src" / "ledgerline" / "ledger.py").read_text("utf-8") == "BOOKS = 2\n"
    assert (built_app / "src" / "ledgerline" / "__init__.py").read_text("utf-8") == APP_INIT


def test_python_out_never_replaces_a_folder_of_the_apps_own_code(tmp_path: Path) -> None:
    root = app_project(tmp_path / "ledgerline")
    own = root / "src" / "ledgerline" / "telemetry"
    own.mkdir()
    (own / "__init__.py").write_text("def track() -> None: ...\n", "utf-8")
    before = file_tree(root / "src")
    code, output = build(root, "--python-out", str(root / "src"))
    assert code == 2, output
    assert "holds files telemetry-gen did not write" in output and own.as_posix() in output
    assert file_tree(root / "src") == before
    assert not (root / "generated").exists()


def test_build_check_covers_the_subpackage(built_app: Path) -> None:
    src = str(built_app / "src")
    code, output = build(built_app, "--python-out", src, "--check")
    assert code == 0 and "are up to date" in output, output

    package_dir = built_app / "src" / "ledgerline" / "telemetry"
    events_py = package_dir / "events.py"
    events_py.write_text(events_py.read_text("utf-8") + "# edited\n", "utf-8")
    (package_dir / "py.typed").unlink()
    code, output = build(built_app, "--python-out", src, "--check")
    assert code == 1, output
    assert f"{package_dir.as_posix()}: changed: events.py" in output
    assert f"{package_dir.as_posix()}: missing: py.typed" in output
    assert "generated output is stale" in output

    code, output = build(built_app, "--python-out", src, "--check", "--format", "json")
    result = json.loads(output)
    assert code == 1 and result["up_to_date"] is False, output
    assert result["python_out"] == package_dir.as_posix()
    assert result["python_stale"]["changed"] == ["events.py"] and result["python_stale"]["missing"] == ["py.typed"]
    assert result["stale"]["changed"] == [] and result["stale"]["missing"] == []
    # `--check` wrote nothing.
    assert events_py.read_text("utf-8").endswith("# edited\n")


def test_the_app_with_its_subpackage_passes_mypy_strict(built_app: Path, tmp_path: Path) -> None:
    mypy = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache")]
    result = subprocess.run([*mypy, "src/ledgerline"], cwd=built_app, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found in 7 source files" in result.stdout, result.stdout


# -- installed into a fresh venv ----------------------------------------------------------------------


def _wheel(project: Path, dist: Path) -> None:
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(dist), str(project)]
    subprocess.run(command, check=True)


@pytest.mark.slow
def test_the_app_installs_with_the_runtime_wheel_and_emits(built_app: Path, tmp_path: Path) -> None:
    """The app built with --python-out, and a dotted package as a standalone distribution, both
    install from wheels into a fresh venv whose only other package is the runtime."""
    dist = tmp_path / "dist"
    # Built from copies: building writes build/ and *.egg-info beside the sources.
    runtime = tmp_path / "runtime"
    shutil.copytree(REPO / "runtime" / "python", runtime, ignore=shutil.ignore_patterns("__pycache__"))
    standalone = app_project(tmp_path / "acme", "acme.telemetry")
    code, output = build(standalone)
    assert code == 0, output
    for project in (runtime, built_app, standalone / "generated" / "python"):
        _wheel(project, dist)
    (app_wheel,) = dist.glob("ledgerline-*.whl")
    assert "ledgerline/telemetry/py.typed" in zipfile.ZipFile(app_wheel).namelist()
    (standalone_wheel,) = dist.glob("acme_telemetry-*.whl")
    # The parent is the app's package: the standalone distribution does not claim its __init__.py.
    assert "acme/__init__.py" not in zipfile.ZipFile(standalone_wheel).namelist()

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = str(env_dir / "bin" / "python")
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-index"]
    subprocess.run([*pip, "--find-links", str(dist), "ledgerline", "acme-telemetry"], check=True)
    script = (
        "import sys\n"
        "from ledgerline import cli, telemetry\n"
        "import acme.telemetry\n"
        "sink = telemetry.MemorySink()\n"
        f"cli.main([sink], {str(tmp_path / 'data')!r})\n"
        "other = acme.telemetry.MemorySink()\n"
        "acme.telemetry.configure(app_version='1', sinks=[other], consent='all', strict=True, "
        f"data_dir={str(tmp_path / 'acme-data')!r})\n"
        "acme.telemetry.events.app_started(mode='gui')\n"
        "toolkit = ('telemetry_gen', 'jinja2', 'yaml')\n"
        "print(sink.names(), other.names(), sorted(m for m in sys.modules if m.split('.')[0] in toolkit))\n"
    )
    result = subprocess.run([python, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['app/started'] ['app/started'] []"
