"""The benchmark script runs and prints its table (its timing targets are judged by its ratios, not here)."""

from __future__ import annotations

import datetime
import subprocess
import sys
from pathlib import Path

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


def test_the_delivery_benchmark_counts_the_events_the_collector_stored(tmp_path: Path) -> None:
    """Only complete lines of stored events count: not bad rows, not a line cut short."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from benchmarks.delivery import stored
    from telemetry_gen.collector.store import Accepted, FileStore

    store = FileStore(tmp_path, 10)
    assert stored(tmp_path) == 0
    received = datetime.datetime(2026, 3, 1, tzinfo=datetime.timezone.utc)
    events = [{"id": f"{n:032x}", "timestamp": f"2026-03-0{n}T10:00:00Z"} for n in (1, 1, 2)]
    outcome = store.save([Accepted("app/started", 1, event) for event in events], [{"why": "bad"}], received)
    assert (outcome.accepted, outcome.duplicates, outcome.bad) == (2, 1, 1)
    assert stored(tmp_path) == 2
    store.save([Accepted("app/exited", 2, {"id": "f" * 32, "timestamp": "2026-03-02T11:00:00Z"})], [], received)
    (part,) = (tmp_path / "events" / "app.exited").rglob("part-*.jsonl")
    with part.open("a", encoding="utf-8") as stream:
        stream.write('{"id": "cut sh')
    assert stored(tmp_path) == 3
