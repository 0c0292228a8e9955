"""The README's "Your first events", run as a new user would: each command as written, in order.

Only what a reader cannot copy is supplied: a home folder of its own, a free port for 8787, and
the collector run in the background (a reader starts it in a second terminal) and stopped with
Ctrl-C's signal.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from local_endpoint import unused_port

from conftest import REPO

pytestmark = pytest.mark.slow

SECTION = "## Your first events"


def _blocks() -> list[tuple[str, str]]:
    """The section's fenced code blocks, as (language, text), in order."""
    readme = (REPO / "README.md").read_text("utf-8")
    start = readme.index(SECTION)
    end = readme.index("\n## ", start + len(SECTION))
    return re.findall(r"```(\w+)\n(.*?)```", readme[start:end], flags=re.S)


def _script(blocks: list[tuple[str, str]], port: int) -> str:
    """One bash script of the section: the collector in the background, `app.py` saved, then run."""
    lines = ["set -euo pipefail", f"cd {shlex.quote(str(REPO))}"]
    for language, written in blocks:
        text = written.replace("8787", str(port))
        if language == "python":
            lines += ["cat > app.py <<'APP'", text.rstrip("\n"), "APP", "python app.py"]
            lines += ['kill -INT "$collector"', 'wait "$collector" || true']
            continue
        assert language == "sh", language
        for line in text.splitlines():
            if line.startswith("telemetry-gen collect "):
                lines += [
                    f"{line} > collector.log 2>&1 &",
                    "collector=$!",
                    "for _ in $(seq 600); do grep -q '^collecting' collector.log && break; sleep 0.1; done",
                    "grep '^collecting' collector.log || { cat collector.log; exit 1; }",
                ]
            else:
                lines.append(line)
    return "\n".join(lines) + "\n"


def test_a_new_user_gets_events_to_the_collector_by_following_the_readme(tmp_path: Path) -> None:
    blocks = _blocks()
    assert [language for language, _ in blocks] == ["sh", "sh", "sh", "python", "sh"]
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "LANG": "C.UTF-8",
        # The same versions as the development environment, from the same download cache.
        "PIP_CONSTRAINT": str(REPO / "requirements.lock"),
        "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip")),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_QUIET": "1",
    }
    script = _script(blocks, unused_port())
    result = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{script}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    report = result.stdout[result.stdout.index("collecting") :]
    assert re.search(r"app/started\b.*\b1\b", report), result.stdout
    stored = list((home / "my-tool" / "collected").rglob("*.jsonl"))
    assert stored, result.stdout
    assert not (REPO / "app.py").exists()
