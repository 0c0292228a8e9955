"""`benchmarks/.venv-compare`: the libraries telemetry-gen is compared with, at pinned versions."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements-compare.txt"
VENV = HERE / ".venv-compare"
STAMP = VENV / "requirements.sha256"


def python() -> Path:
    return VENV / "bin" / "python"


def ensure() -> Path:
    """Create or update the venv when the requirements changed; return its Python."""
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if python().exists() and STAMP.exists() and STAMP.read_text().strip() == wanted:
        return python()
    print(f"installing the comparison libraries into {VENV} ...", file=sys.stderr, flush=True)
    if not python().exists():
        venv.create(VENV, with_pip=True)
    command = [str(python()), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", str(REQUIREMENTS)]
    subprocess.run(command, check=True)
    STAMP.write_text(wanted + "\n")
    return python()
