"""The benchmark script runs and prints its table (its timing targets are judged by its ratios, not here)."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO


def test_quick_benchmark_prints_a_results_table() -> None:
    command = [sys.executable, "-m", "benchmarks", "--quick", "--only", "consent-off,import"]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "| target | measure | median | min - max | ratio | goal | verdict |" in lines
    assert any(line.startswith("| 2 | emit, consent off |") for line in lines)
    assert any(line.startswith("| 3 | import the generated package") for line in lines)
    assert any(line.startswith("targets missed:") for line in lines)
