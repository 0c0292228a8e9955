"""The built wheel, installed into a fresh venv, builds the example exactly as the checkout does."""

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
    assert "telemetry_gen/runtime/client.py" in names
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
