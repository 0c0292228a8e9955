"""The toolkit itself is typed (mypy --strict) and linted (ruff), as the README promises, and so are
its runtime, benchmarks and tests (the `files` of pyproject's [tool.mypy])."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO


def test_toolkit_runtime_benchmarks_and_tests_pass_mypy_strict() -> None:
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_repository_passes_ruff() -> None:
    for command in (["check"], ["format", "--check"]):
        result = subprocess.run([sys.executable, "-m", "ruff", *command, "."], cwd=REPO, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
