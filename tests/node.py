"""Node and npm for the TypeScript tests: the runtime package installed (`npm ci`, from its
committed lock) and compiled, generated packages compiled with its `tsc --strict`, scripts run.

The tests that use it fail (they never skip) when Node is missing: the project's test script
installs it.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO

RUNTIME = REPO / "runtime" / "typescript"
TSC = RUNTIME / "node_modules" / ".bin" / "tsc"
MISSING = "Node 18+ and npm are needed for the TypeScript tests: run `apt-get install nodejs npm`"


def run(command: list[str], cwd: Path, timeout: float = 300) -> str:
    """Run `command`; its output, or the test fails with it."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail(MISSING, pytrace=False)
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}", pytrace=False)
    return done.stdout


@functools.cache
def runtime() -> Path:
    """The runtime package, installed from its lock when it is not yet, and compiled."""
    if not TSC.exists():
        run(["npm", "ci", "--no-audit", "--no-fund"], RUNTIME)
    run([str(TSC), "-p", "tsconfig.json"], RUNTIME)
    return RUNTIME


def compile_package(folder: Path) -> Path:
    """Compile a generated TypeScript package against the runtime of this checkout, as an app
    that installed both would: `tsc --strict` must be clean."""
    modules = folder / "node_modules"
    modules.mkdir(exist_ok=True)
    link = modules / "telemetry-gen-runtime"
    if not link.exists():
        link.symlink_to(runtime(), target_is_directory=True)
    run([str(TSC), "-p", "tsconfig.json"], folder)
    return folder
