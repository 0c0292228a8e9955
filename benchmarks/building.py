"""Target 4: build time, against glean_parser on the same events, and how it grows with the catalog.

- telemetry-gen build (schemas, emitters, docs): a fresh `python -m benchmarks.building --child`
  process that runs the build pipeline (`telemetry_gen.build`) into an empty folder and times each
  stage; the figure is the whole process, start-up and imports included. The consumer models
  (datamodel-code-generator) are timed apart in the same process, after the rest is written.
- glean_parser: `glean_parser translate metrics.yaml -f markdown -o OUT` on the same events as a
  glean metrics file (from `.venv-compare`), the whole process too.
- `telemetry-gen build --check` on unchanged output (after a full `telemetry-gen build`, which
  leaves the consumer models in the cache), the whole process.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

# The child is the process measured, start-up included: this module imports at its top only what
# the child needs. The parent's own modules (subprocess, the statistics helpers) are imported
# where it uses them.


def child(catalog_path: Path, out: Path, with_models: bool) -> None:
    """One build, stage by stage, as `telemetry-gen build` runs it."""
    from telemetry_gen.build import TARGETS, catalog_format_file
    from telemetry_gen.catalog import load_catalog
    from telemetry_gen.catalog.lint import run_lints, today
    from telemetry_gen.write import write_tree

    stages: dict[str, float] = {}
    mark = time.perf_counter()

    def stage(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        stages[name] = now - mark
        mark = now

    catalog, diagnostics = load_catalog(catalog_path)
    assert catalog is not None, [d.render() for d in diagnostics]
    stage("load")
    assert not run_lints(catalog, today())
    stage("lint")
    files = [catalog_format_file()]
    for name, render in TARGETS.items():
        files += render(catalog)
        stage(name)
    write_tree(sorted(files, key=lambda f: f.path), out)
    stage("write")
    if with_models:
        from telemetry_gen.targets import models

        models.render(catalog, None)
        stage("models")
    print(json.dumps({"stages": stages, "files": len(files)}))


def _run(command: list[str]) -> tuple[float, str]:
    import os
    import subprocess

    # Every tool runs from compiled bytecode, as an installed package does (see `measure`).
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    os.sync()  # no run waits while the file system writes back an earlier run's files
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return elapsed, result.stdout


def build_once(catalog: Path, work: Path, with_models: bool = False) -> tuple[float, dict[str, float]]:
    out = Path(tempfile.mkdtemp(dir=work))
    command = [sys.executable, "-m", "benchmarks.building", "--child", str(catalog), str(out)]
    elapsed, output = _run([*command, "--models"] if with_models else command)
    stages: dict[str, float] = json.loads(output)["stages"]
    if with_models:
        elapsed -= stages["models"]
    return elapsed, stages


def glean_once(glean: Path, metrics: Path, work: Path) -> float:
    out = Path(tempfile.mkdtemp(dir=work))
    elapsed, _ = _run([str(glean), "translate", str(metrics), "-f", "markdown", "-o", str(out)])
    return elapsed


def measure(
    catalogs: dict[int, tuple[Path, Path]], reference: int, glean: Path, telemetry_gen: Path, repeats: int
) -> dict[str, object]:
    """Every size is built `repeats` times, alternating telemetry-gen and glean_parser.

    Outputs are deleted together at the end, not after each build: on a file system that discards
    freed blocks at once (ext4 mounted with `discard`, as on these machines), creating files soon
    after deleting a thousand stalls, which would charge each build for the previous one's clean-up.
    """
    import compileall
    import importlib.util

    from .stats import Figure

    # pip compiles a package's `.pyc` files when it installs it (glean_parser's, in `.venv-compare`);
    # telemetry-gen is installed editable here, so its files, and this harness's, are compiled now.
    toolkit = importlib.util.find_spec("telemetry_gen")
    assert toolkit is not None and toolkit.submodule_search_locations
    for folder in [*toolkit.submodule_search_locations, str(Path(__file__).parent)]:
        compileall.compile_dir(folder, quiet=1)
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        for size, (events, metrics) in sorted(catalogs.items()):
            ours: list[float] = []
            theirs: list[float] = []
            stages: list[dict[str, float]] = []
            for index in range(repeats):
                elapsed, stage_times = build_once(events, work, with_models=(index == 0 and size == reference))
                ours.append(elapsed)
                stages.append(stage_times)
                theirs.append(glean_once(glean, metrics, work))
            models = stages[0].pop("models", None)
            results[str(size)] = {
                "telemetry-gen": Figure.of(ours, "s"),
                "glean_parser": Figure.of(theirs, "s"),
                "stages": {name: min(s[name] for s in stages) for name in stages[0]},
            }
            if models is not None:
                results["models"] = Figure.of([models], "s")
        events, _ = catalogs[reference]
        out = work / "checked"
        _run([str(telemetry_gen), "build", str(events), "--out", str(out)])
        checks = [
            _run([str(telemetry_gen), "build", str(events), "--out", str(out), "--check"])[0] for _ in range(repeats)
        ]
        results["check"] = Figure.of(checks, "s")
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=2, metavar=("CATALOG", "OUT"))
    parser.add_argument("--models", action="store_true")
    parser.add_argument("--catalogs", help="JSON: {size: [events.yaml, metrics.yaml]}")
    parser.add_argument("--reference", type=int, default=1000)
    parser.add_argument("--glean", type=Path)
    parser.add_argument("--telemetry-gen", type=Path)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]), args.models)
        return
    from .stats import emit_json

    catalogs = {int(size): (Path(a), Path(b)) for size, (a, b) in json.loads(args.catalogs).items()}
    emit_json(measure(catalogs, args.reference, args.glean, args.telemetry_gen, args.repeats))


if __name__ == "__main__":
    main()
