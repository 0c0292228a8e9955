"""`python -m benchmarks`: run every part, then print the results table (Markdown).

python -m benchmarks                  # the full run (several minutes)
python -m benchmarks --quick          # fewer repeats, smaller catalogs, 50,000 events delivered
python -m benchmarks --only emit,import --json results.json
python -m benchmarks --only emit-ts   # Node: the generated TypeScript emitter against Segment and PostHog
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import compare_env
from .catalogs import PACKAGE, write_catalogs

PARTS = ("emit", "consent-off", "import", "build", "rebuild", "delivery", "collect", "emit-ts")
REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Settings:
    repeats: int  # of every timed loop, import and delivery run
    seconds: float  # about how long one repeat of a timed loop takes
    build_repeats: int
    sizes: tuple[int, ...]  # catalogs built, smallest to largest
    reference: int  # the catalog size of targets 3 and 4
    deliveries: tuple[int, ...]  # events sent per delivery run; the last is the target's
    collected: int  # events sent to each receiver per collect run


FULL = Settings(15, 0.2, 3, (100, 1000, 5000), 1000, (100_000, 1_000_000), 200_000)
QUICK = Settings(5, 0.05, 1, (100, 200), 100, (5_000, 50_000), 20_000)


def run_part(command: list[str]) -> dict[str, Any]:
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def measure(parts: list[str], settings: Settings, work: Path) -> dict[str, Any]:
    """Each part's results, by part."""
    me = sys.executable
    catalogs = {size: write_catalogs(work / f"catalog-{size}", size) for size in settings.sizes}
    reference_catalog = catalogs[settings.reference][0]
    package_out = work / "reference-build"
    run_part([me, "-m", "benchmarks.building", "--child", str(reference_catalog), str(package_out)])
    package_dir = package_out / "python"
    schema = package_out / "schemas" / "bench" / "reference.v1.schema.json"
    compare = compare_env.ensure() if {"emit", "build"} & set(parts) else None
    timing = ["--repeats", str(settings.repeats), "--seconds", str(settings.seconds)]
    results: dict[str, Any] = {}
    for part in parts:
        print(f"benchmark: {part} ...", file=sys.stderr, flush=True)
        if part == "emit":
            assert compare is not None
            command = [str(compare), "-m", "benchmarks.emit", "--part", "emit", "--package-dir", str(package_dir)]
            results[part] = run_part([*command, "--schema", str(schema), *timing])
        elif part == "consent-off":
            command = [me, "-m", "benchmarks.emit", "--part", "consent-off", "--package-dir", str(package_dir)]
            results[part] = run_part([*command, *timing])
        elif part == "import":
            command = [me, "-m", "benchmarks.importing", "--package-dir", str(package_dir)]
            results[part] = run_part([*command, "--repeats", str(settings.repeats)])
        elif part == "build":
            assert compare is not None
            paths = {size: [str(events), str(metrics)] for size, (events, metrics) in catalogs.items()}
            command = [me, "-m", "benchmarks.building", "--catalogs", json.dumps(paths)]
            command += ["--reference", str(settings.reference), "--glean", str(compare.parent / "glean_parser")]
            command += ["--telemetry-gen", str(Path(me).parent / "telemetry-gen")]
            results[part] = run_part([*command, "--repeats", str(settings.build_repeats)])
        elif part == "rebuild":
            command = [me, "-m", "benchmarks.rebuilding", "--json", "--events", str(settings.reference)]
            results[part] = run_part([*command, "--repeats", str(settings.build_repeats + 2)])
        elif part == "emit-ts":
            results[part] = run_part([me, "-m", "benchmarks.emit_ts", "--build", str(package_out), *timing])
        elif part == "delivery":
            counts = ",".join(str(n) for n in settings.deliveries)
            command = [me, "-m", "benchmarks.delivery", "--package-dir", str(package_dir), "--counts", counts]
            command += ["--catalog", str(reference_catalog)]
            results[part] = run_part([*command, "--repeats", str(min(settings.repeats, 3))])
        elif part == "collect":
            command = [me, "-m", "benchmarks.collect", "--package-dir", str(package_dir), "--catalog"]
            command += [str(reference_catalog), "--events", str(settings.collected)]
            results[part] = run_part([*command, "--repeats", str(min(settings.repeats, 3))])
    return results


# -- the table --------------------------------------------------------------------------------


def duration(value: float, unit: str) -> str:
    seconds = value * 1e-9 if unit == "ns" else value
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.2f} us"


def amount(figure: dict[str, Any]) -> tuple[str, str]:
    """The median, and the min-max range, of a figure as text."""
    unit = figure["unit"]
    if unit in ("ns", "s"):
        return duration(figure["median"], unit), f"{duration(figure['low'], unit)} - {duration(figure['high'], unit)}"
    fmt = "{:,.0f}" if figure["median"] >= 100 else "{:,.1f}"
    low, high = fmt.format(figure["low"]), fmt.format(figure["high"])
    return f"{fmt.format(figure['median'])} {unit}", f"{low} - {high}"


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, ...]] = []
        self.missed: list[str] = []

    def add(
        self,
        target: str,
        what: str,
        figure: dict[str, Any] | None = None,
        ratio: str = "",
        *,
        goal: str = "",
        met: bool | None = None,
    ) -> None:
        median, spread = amount(figure) if figure else ("", "")
        verdict = "" if met is None else ("met" if met else "**missed**")
        if met is False:
            self.missed.append(f"{target} {what}")
        self.rows.append((target, what, median, spread, ratio, goal, verdict))

    def compare(
        self,
        target: str,
        what: str,
        figure: dict[str, Any],
        baseline: dict[str, Any],
        name: str,
        *,
        most: float | None = None,
        least: float | None = None,
    ) -> None:
        """A row with the ratio of `figure` to `baseline` (medians), checked against a bound if given."""
        ratio = figure["median"] / baseline["median"]
        goal, met = "", None
        if most is not None:
            goal, met = f"<= {most:g}x {name}", ratio <= most
        elif least is not None:
            goal, met = f">= {least:g}x {name}", ratio >= least
        self.add(target, what, figure, f"{ratio:.2f}x {name}", goal=goal, met=met)

    def render(self) -> str:
        header = ("target", "measure", "median", "min - max", "ratio", "goal", "verdict")
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines)


def table(results: dict[str, Any], settings: Settings) -> Table:
    t = Table()
    if "emit" in results:
        f = results["emit"]["figures"]
        ours, floor = f["telemetry-gen emit"], f["floor: dict + deque.append"]
        t.compare("1", "emit, consent `all` (build + validate + queue)", ours, floor, "floor", most=5)
        t.add("1", "floor: same dict + `deque.append`", floor)
        for name in ("segment-analytics-python track()", "posthog capture()"):
            t.compare("1", f"`{name}` (no validation)", f[name], ours, "telemetry-gen", least=10)
        check = f["validate: telemetry-gen check"]
        t.add("1", "validate only: telemetry-gen generated check", check)
        for name in ("validate: jsonschema (pre-built)", "validate: fastjsonschema"):
            t.compare("1", name.replace("validate: ", "validate only: "), f[name], check, "check")
        t.compare("1", "rejected event (dropped, counted)", f["telemetry-gen emit, rejected"], floor, "floor")
        caller = f["telemetry-gen emit, envelope on the caller"]
        t.compare("1", "emit with the envelope made on the caller (sync sink)", caller, floor, "floor")
    if "emit-ts" in results:
        f = results["emit-ts"]["figures"]
        ours, floor = f["telemetry-gen emit"], f["floor: object + array push"]
        t.compare("6", "Node: emit, consent `all` (copy + validate + queue)", ours, floor, "floor")
        t.add("6", "Node floor: object copy + `array.push`", floor)
        for name in ("@segment/analytics-node track()", "posthog-node capture()"):
            t.compare("6", f"Node: `{name}` (no validation)", f[name], ours, "telemetry-gen", least=10)
        t.compare("6", "Node: rejected event (dropped, counted)", f["telemetry-gen emit, rejected"], floor, "floor")
    if "consent-off" in results:
        f = results["consent-off"]["figures"]
        empty = f["empty function, same arguments"]
        t.compare("2", "emit, consent off", f["emit, consent off"], empty, "empty call", most=2)
        t.add("2", "empty function, same keyword arguments", empty)
    if "import" in results:
        r = results["import"]
        n = settings.reference
        t.add(
            "3",
            f"import the generated package ({n:,} events)",
            r["import"],
            "",
            goal="< 50 ms",
            met=r["import"]["median"] < 0.05,
        )
        t.add("3", "configure(), consent off", r["configure"], "", goal="< 50 ms", met=r["configure"]["median"] < 0.05)
        t.add(
            "3",
            f"threads after import + configure: {r['threads']}; files created: {len(r['files_created'])}",
            None,
            "",
            goal="1 thread, no file",
            met=r["threads"] == 1 and not r["files_created"],
        )
        t.add("3", "first import (compiles the .pyc files)", r["first_import"])
    if "build" in results:
        r = results["build"]
        sizes = [s for s in settings.sizes if str(s) in r]
        ref = r[str(settings.reference)]
        n = settings.reference
        build = f"build {n:,} events: schemas, emitters, docs"
        t.compare("4", build, ref["telemetry-gen"], ref["glean_parser"], "glean_parser", most=1.0)
        t.add("4", f"`glean_parser translate -f markdown`, {n:,} events", ref["glean_parser"])
        t.add("4", f"consumer models (datamodel-code-generator), {n:,} events", r["models"])
        t.add("4", f"`telemetry-gen build --check`, unchanged, {n:,} events", r["check"])
        for size in sizes:
            fig = r[str(size)]
            per_event = fig["telemetry-gen"]["median"] / size
            t.add("4", f"build {size:,} events", fig["telemetry-gen"], f"{duration(per_event, 's')} per event")
            t.add("4", f"glean_parser {size:,} events", fig["glean_parser"])
        if len(sizes) >= 2:
            small, large = sizes[-2], sizes[-1]
            growth = r[str(large)]["telemetry-gen"]["median"] / r[str(small)]["telemetry-gen"]["median"]
            proportional = large / small
            t.add(
                "4",
                f"growth {small:,} -> {large:,} events",
                None,
                f"{growth:.2f}x (proportional: {proportional:.0f}x)",
                goal="linear (<= 1.2x proportional)",
                met=growth <= 1.2 * proportional,
            )
    if "rebuild" in results:
        r = results["rebuild"]
        n = r["events"]
        t.add(
            "4",
            f"one-event edit, then full `telemetry-gen build`, {n:,} events",
            r["edit"],
            goal=f"<= {r['target']:g} s",
            met=r["edit"]["median"] <= r["target"],
        )
        t.add("4", "the same, CPU time of the build process (user + system; model generators apart)", r["cpu"]["edit"])
        t.add("4", "the same catalog built with `--skip models` (the rest of the build)", r["rest"])
        t.add("4", f"cold `telemetry-gen build` (no models cache), {n:,} events", r["cold"])
        t.add("4", "the same, CPU time of the build process (user + system; model generators apart)", r["cpu"]["cold"])
    if "delivery" in results:
        r = results["delivery"]
        counts = [c for c in settings.deliveries if str(c) in r]
        last = r[str(counts[-1])]
        t.add("5", f"delivered, {counts[-1]:,} events over loopback (gzip, batches of 100)", last["rate"])
        for count in counts:
            t.add("5", f"sender's peak RSS, {count:,} events", r[str(count)]["peak_rss"])
        first_peak = r[str(counts[0])]["peak_rss"]["median"]
        t.add(
            "5",
            "peak RSS bounded by the queue, not the event count",
            None,
            f"{last['peak_rss']['median'] / first_peak:.2f}x for {counts[-1] // counts[0]}x the events",
            goal="~ 1x",
            met=last["peak_rss"]["median"] <= 1.1 * first_peak,
        )
    if "collect" in results:
        r = results["collect"]
        rates = r["rates"]
        noop = rates["no-op receiver"]
        senders = f"{r['senders']} senders, {r['events']:,} events, batches of 100"
        t.add("6", f"no-op receiver: HTTP, gunzip, JSON parsing ({senders})", noop)
        for name, figure in rates.items():
            if name != "no-op receiver":
                t.compare("6", f"{name}, validated and stored", figure, noop, "no-op", least=0.2)
                t.add(
                    "6", f"{name}: at least 20,000 events/s", None, goal=">= 20,000/s", met=figure["median"] >= 20_000
                )
    return t


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller catalogs (a smoke test)")
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts of: {', '.join(PARTS)}")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args()
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown part(s): {', '.join(unknown)}")
    settings = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory(prefix="telemetry-gen-bench-") as folder:
        results = measure(parts, settings, Path(folder))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    result = table(results, settings)
    print(
        f"telemetry-gen benchmarks ({'quick' if args.quick else 'full'} run; Python {platform.python_version()}, "
        f"{platform.machine()}; package `{PACKAGE}`)\n"
    )
    print(result.render())
    if "delivery" in results:
        print(f"\nreceiver: {results['delivery']['receiver']}")
    for part in ("emit", "emit-ts"):
        if part in results:
            versions = ", ".join(f"{k} {v}" for k, v in results[part]["versions"].items())
            print(f"compared with ({part}): {versions}")
    print("\ntargets missed: " + ("; ".join(result.missed) if result.missed else "none"))
