"""Timing helpers shared by every part (standard library only: parts run in other venvs too)."""

from __future__ import annotations

import json
import statistics
import sys
import timeit
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Figure:
    """One measured quantity: the median, min and max over the repeats, in `unit`."""

    median: float
    low: float
    high: float
    unit: str
    repeats: int

    @classmethod
    def of(cls, samples: list[float], unit: str) -> Figure:
        return cls(statistics.median(samples), min(samples), max(samples), unit, len(samples))


@dataclass(frozen=True)
class Loop:
    """A statement timed `timeit`-style; `setup` runs before each repeat (e.g. to empty a queue)."""

    name: str
    stmt: str
    setup: str = "pass"


def calibrate(loop: Loop, namespace: dict[str, object], seconds: float) -> int:
    """How many runs of `loop` take about `seconds`."""
    timer = timeit.Timer(loop.stmt, loop.setup, globals=namespace)
    number = 1
    while True:
        elapsed = timer.timeit(number)
        if elapsed >= seconds / 10 or number >= 10_000_000:
            return max(1, int(number * seconds / max(elapsed, 1e-9)))
        number *= 10


def time_loops(loops: list[Loop], namespace: dict[str, object], *, repeats: int, seconds: float) -> dict[str, Figure]:
    """Nanoseconds per run of each loop. Repeats are interleaved (one of each loop in turn), so a
    slow moment of a shared machine hits every loop alike and the ratios between them hold.
    The garbage collector is paused while a loop runs, as `timeit` does."""
    numbers = {loop.name: calibrate(loop, namespace, seconds) for loop in loops}
    samples: dict[str, list[float]] = {loop.name: [] for loop in loops}
    for _ in range(repeats):
        for loop in loops:
            number = numbers[loop.name]
            elapsed = timeit.Timer(loop.stmt, loop.setup, globals=namespace).timeit(number)
            samples[loop.name].append(elapsed / number * 1e9)
    return {name: Figure.of(values, "ns") for name, values in samples.items()}


def emit_json(results: dict[str, object]) -> None:
    """What a part prints for `benchmarks.run`: one JSON line on stdout."""
    sys.stdout.write(json.dumps(results, default=asdict) + "\n")
