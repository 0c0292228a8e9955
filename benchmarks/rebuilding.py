"""Target 4b: a one-event edit, then a full `telemetry-gen build`, against the 3 s target.

Every figure is a whole `telemetry-gen build` process (start-up included) on the same synthetic
catalog, in the same output folder, with the models cache beside the catalog; each is given as
wall-clock time and as the CPU time the build process used (user + system), which other load on
a shared machine changes much less; the processes that generate consumer models beside it start
from a fork server, not from the build process, so their time is not part of that figure:

- cold: no cache, so every consumer model is generated;
- one-event edit: the description of one event changes (a different event each repeat), and the
  build regenerates that event's model only;
- the same catalog built with `--skip models` just before: the rest of the build, for comparison.

    python -m benchmarks.rebuilding                  # 1,000 events, prints the figures
    python -m benchmarks.rebuilding --events 200 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .catalogs import events_yaml
from .stats import Figure, emit_json

TARGET_SECONDS = 3.0
DESCRIPTION = "    description: The "


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _build(telemetry_gen: Path, catalog: Path, *options: str) -> tuple[float, float]:
    """Seconds one `telemetry-gen build` of `catalog` takes, into `generated/` beside it: wall clock and CPU."""
    env = {name: value for name, value in os.environ.items() if name != "TELEMETRY_GEN_NO_CACHE"}
    cpu = _cpu_of_children()
    start = time.perf_counter()
    result = subprocess.run(
        [str(telemetry_gen), "build", str(catalog), *options], capture_output=True, text=True, env=env
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"telemetry-gen build failed:\n{result.stdout}\n{result.stderr}")
    return elapsed, _cpu_of_children() - cpu


def _edit_one_event(catalog: Path, index: int) -> None:
    """Change the description of the catalog's `index`-th event."""
    text = catalog.read_text("utf-8")
    at = -1
    for _ in range(index + 1):
        at = text.index(DESCRIPTION, at + 1)
    end = text.index("\n", at)
    catalog.write_text(f"{text[:end]} (edit {index}){text[end:]}", "utf-8")


def measure(events: int, repeats: int, cold_repeats: int, telemetry_gen: Path) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="telemetry-gen-rebuild-") as folder:
        catalog = Path(folder) / "events.yaml"
        catalog.write_text(events_yaml(events), "utf-8")
        cold = []
        for _ in range(cold_repeats):
            shutil.rmtree(Path(folder) / ".telemetry-gen-cache", ignore_errors=True)
            cold.append(_build(telemetry_gen, catalog))
        edits, rest = [], []
        for index in range(repeats):
            _edit_one_event(catalog, 1 + index * (events - 1) // max(repeats, 1))
            rest.append(_build(telemetry_gen, catalog, "--skip", "models"))
            edits.append(_build(telemetry_gen, catalog))
    measured = {"cold": cold, "edit": edits, "rest": rest}
    figures = {name: Figure.of([s[0] for s in samples], "s") for name, samples in measured.items()}
    cpu = {name: Figure.of([s[1] for s in samples], "s") for name, samples in measured.items()}
    return {"events": events, **figures, "cpu": cpu, "target": TARGET_SECONDS}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.rebuilding", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5, help="one-event edits, each then built")
    parser.add_argument("--cold-repeats", type=int, default=1, help="builds without a cache")
    parser.add_argument("--telemetry-gen", type=Path, default=Path(sys.executable).parent / "telemetry-gen")
    parser.add_argument("--json", action="store_true", help="print one JSON line (for `python -m benchmarks`)")
    args = parser.parse_args()
    results = measure(args.events, args.repeats, args.cold_repeats, args.telemetry_gen)
    if args.json:
        emit_json(results)
        return
    cold, edit, rest, cpu = results["cold"], results["edit"], results["rest"], results["cpu"]
    assert isinstance(cold, Figure) and isinstance(edit, Figure) and isinstance(rest, Figure) and isinstance(cpu, dict)
    verdict = "met" if edit.median <= TARGET_SECONDS else "missed"
    print(
        f"one-event edit, then full build, {args.events:,} events: median {edit.median:.2f} s "
        f"(min {edit.low:.2f} s, max {edit.high:.2f} s, {edit.repeats} runs; CPU {cpu['edit'].median:.2f} s); "
        f"target <= {TARGET_SECONDS:g} s: {verdict}"
    )
    print(
        f"the same catalog with --skip models: median {rest.median:.2f} s "
        f"(min {rest.low:.2f} s, max {rest.high:.2f} s; CPU {cpu['rest'].median:.2f} s)"
    )
    print(
        f"cold full build (no cache), {args.events:,} events: median {cold.median:.2f} s "
        f"(min {cold.low:.2f} s, max {cold.high:.2f} s, {cold.repeats} runs; CPU {cpu['cold'].median:.2f} s)"
    )


if __name__ == "__main__":
    main()
