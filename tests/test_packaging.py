"""The built wheels, installed into fresh venvs: telemetry-gen builds the example exactly as the checkout
does, and a generated package installs beside the runtime's own wheel and runs."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from conftest import REPO, file_tree

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(dist), str(REPO)], check=True
    )
    (built,) = dist.glob("telemetry_gen-*.whl")
    return built


def test_wheel_carries_templates_runtime_and_format_schema(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "telemetry_gen/templates/python/events.py.jinja" in names
    assert "telemetry_gen_runtime/client.py" in names  # generated packages import in the toolkit's venv
    assert "telemetry_gen/catalog/catalog.schema.json" in names
    assert "telemetry_gen/py.typed" in names
    assert not any(n.startswith(("generator/", "templates/", "tests/")) for n in names)


def test_installed_wheel_builds_the_example_identically(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    pip = [str(env_dir / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, str(wheel)], check=True)
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(REPO / "events.yaml", project / "events.yaml")
    # Run from outside the checkout so nothing can be imported from it.
    result = subprocess.run(
        [str(env_dir / "bin" / "telemetry-gen"), "build"], cwd=project, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert file_tree(project / "generated") == file_tree(REPO / "generated")
    probe = subprocess.run(
        [str(env_dir / "bin" / "python"), "-c", "import telemetry_gen; print(telemetry_gen.__file__)"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    )
    assert str(env_dir) in probe.stdout
    # The generated package imports in the toolkit's own environment: the runtime came with it.
    emit = "import vigilant_trader_telemetry as t; t.configure(app_version='1'); print(t.status().level)"
    probe = subprocess.run(
        [str(env_dir / "bin" / "python"), "-c", emit],
        cwd=project / "generated" / "python",
        capture_output=True,
        text=True,
    )
    assert probe.returncode == 0 and probe.stdout.strip() == "off", probe.stdout + probe.stderr


def _fresh_venv(folder: Path) -> list[str]:
    venv.create(folder, with_pip=True)
    return [str(folder / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]


def test_generated_package_installs_with_the_runtime_wheel_as_its_only_dependency(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    # Built from copies: building writes build/ and *.egg-info beside the sources.
    sources = tmp_path / "sources"
    shutil.copytree(REPO / "runtime" / "python", sources / "runtime", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "generated" / "python", sources / "package", ignore=shutil.ignore_patterns("__pycache__"))
    for project in (sources / "runtime", sources / "package"):
        wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(dist), str(project)]
        subprocess.run(wheel, check=True)
    (runtime_wheel,) = dist.glob("telemetry_gen_runtime-*.whl")
    names = set(zipfile.ZipFile(runtime_wheel).namelist())
    assert "telemetry_gen_runtime/py.typed" in names and not any(n.startswith("telemetry_gen/") for n in names)

    pip = _fresh_venv(tmp_path / "app-venv")
    # Only the two wheels just built: the generated package's one dependency is the runtime.
    subprocess.run([*pip, "--no-index", "--find-links", str(dist), "vigilant-trader-telemetry"], check=True)
    python = str(tmp_path / "app-venv" / "bin" / "python")
    data = str(tmp_path / "data")
    code = (
        "import sys\n"
        "import vigilant_trader_telemetry as t\n"
        "sink = t.MemorySink()\n"
        f"t.configure(app_version='3.2.0', sinks=[sink], consent='all', strict=True, data_dir={data!r})\n"
        "t.events.app_exited(exit_reason='normal', uptime_seconds=1.5)\n"
        "toolkit = ('telemetry_gen', 'jinja2', 'yaml')\n"
        "print(sink.names(), sorted(m for m in sys.modules if m.split('.')[0] in toolkit))\n"
    )
    result = subprocess.run([python, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['app/exited'] []"


def test_generated_package_names_the_runtime_it_needs(tmp_path: Path) -> None:
    """Without the runtime, or with one of another minor version, the import says what to install."""
    python = _fresh_venv(tmp_path / "venv")[0]
    package_dir = REPO / "generated" / "python"
    missing = subprocess.run(
        [python, "-c", "import vigilant_trader_telemetry"], cwd=package_dir, capture_output=True, text=True
    )
    assert "pip install 'telemetry-gen-runtime~=0.1.0'" in missing.stderr, missing.stderr

    fake = tmp_path / "other" / "telemetry_gen_runtime"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('__version__ = "0.9.0"\n', "utf-8")
    result = subprocess.run(
        [python, "-c", f"import sys; sys.path.insert(0, {str(fake.parent)!r}); import vigilant_trader_telemetry"],
        cwd=package_dir,
        capture_output=True,
        text=True,
    )
    assert "generated for telemetry-gen-runtime 0.1.x, but 0.9.0 is installed" in result.stderr, result.stderr
