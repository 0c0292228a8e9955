"""Target 3: importing a generated package, and configuring telemetry with consent off.

Each repeat is a fresh interpreter (`python -m benchmarks.importing --child ...`) that times, with
`time.perf_counter`, `import <package>` and then `configure(app_version=...)` with nothing
decided (no saved decision, no variable: consent stays off), and counts threads afterwards.
The first process compiles the package's `.pyc` files; it is reported apart ("first import").
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from .catalogs import PACKAGE
from .stats import Figure, emit_json


def child(package_dir: Path, data_dir: str) -> None:
    sys.path.insert(0, str(package_dir))
    start = time.perf_counter()
    telemetry = __import__(PACKAGE)
    imported = time.perf_counter()
    telemetry.configure(app_version="1.0", data_dir=data_dir)
    configured = time.perf_counter()
    level = telemetry.status().level
    print(
        json.dumps(
            {
                "import": imported - start,
                "configure": configured - imported,
                "threads": threading.active_count(),
                "level": level,
                "created": sorted(os.listdir(data_dir)),
            }
        )
    )


def isolated_environment(home: str) -> dict[str, str]:
    """The environment without any telemetry decision, with a home of its own."""
    dropped = ("DO_NOT_TRACK", "PYTHONDONTWRITEBYTECODE")  # the package's `.pyc` files are written, as for an app
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.endswith("_TELEMETRY")}
    env.update(HOME=home, XDG_DATA_HOME=os.path.join(home, "data"))
    return env


def measure(package_dir: Path, repeats: int) -> dict[str, object]:
    runs = []
    with tempfile.TemporaryDirectory() as home:
        env = isolated_environment(home)
        for _ in range(repeats + 1):
            data_dir = tempfile.mkdtemp(dir=home)
            command = [sys.executable, "-m", "benchmarks.importing", "--child", str(package_dir), data_dir]
            output = subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout
            runs.append(json.loads(output))
    first, warm = runs[0], runs[1:]
    return {
        "first_import": Figure.of([first["import"]], "s"),
        "import": Figure.of([r["import"] for r in warm], "s"),
        "configure": Figure.of([r["configure"] for r in warm], "s"),
        "threads": max(r["threads"] for r in runs),
        "levels": sorted({r["level"] for r in runs}),
        "files_created": sorted({name for r in runs for name in r["created"]}),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=2, metavar=("PACKAGE_DIR", "DATA_DIR"))
    parser.add_argument("--package-dir", type=Path)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), args.child[1])
    else:
        emit_json(measure(args.package_dir, args.repeats))


if __name__ == "__main__":
    main()
