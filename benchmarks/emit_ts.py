"""Target 6: what emitting the reference event costs in Node, against `@segment/analytics-node`'s
`track()` and `posthog-node`'s `capture()` (see `benchmarks/typescript/emit.mjs` for what is measured).

Run by `benchmarks.run` as `python -m benchmarks.emit_ts --build DIR ...`, DIR being the reference
catalog's build: its `typescript/` package is compiled against this checkout's runtime. The SDKs
compared are the benchmark folder's devDependencies, installed from its lock (`npm ci`).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FOLDER = REPO / "benchmarks" / "typescript"
RUNTIME = REPO / "runtime" / "typescript"


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _installed(folder: Path) -> None:
    if not (folder / "node_modules").is_dir():
        _run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], folder)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", type=Path, required=True)
    parser.add_argument("--repeats", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    args = parser.parse_args()
    _installed(RUNTIME)
    _installed(FOLDER)
    tsc = str(RUNTIME / "node_modules" / ".bin" / "tsc")
    _run([tsc, "-p", "tsconfig.json"], RUNTIME)
    package = args.build / "typescript"
    (package / "node_modules").mkdir(exist_ok=True)
    link = package / "node_modules" / "telemetry-gen-runtime"
    if not link.exists():
        link.symlink_to(RUNTIME, target_is_directory=True)
    _run([tsc, "-p", "tsconfig.json"], package)
    with tempfile.TemporaryDirectory(prefix="telemetry-gen-bench-ts-") as data_dir:
        env = {**os.environ, "BENCH_DATA_DIR": data_dir}
        env.pop("DO_NOT_TRACK", None)
        output = _run(["node", "emit.mjs", str(package), str(args.repeats), str(args.seconds)], FOLDER, env)
    sys.stdout.write(output.strip().splitlines()[-1] + "\n")


if __name__ == "__main__":
    main()
