"""Golden-file tests: the whole generated tree of each fixture catalog, byte for byte.

Regenerate after an intended change to the output (and review the diff):

    TELEMETRY_GEN_UPDATE_GOLDEN=1 scripts/test tests/test_golden.py
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO, file_tree, run_cli

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = sorted(p.name for p in (FIXTURES / "golden").iterdir() if (p / "events.yaml").is_file())
UPDATE = os.environ.get("TELEMETRY_GEN_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("case", CASES)
def test_generated_tree_matches_golden(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Build from inside the fixture folder, as a user would, so the banner names `events.yaml`.
    monkeypatch.chdir(FIXTURES / "golden" / case)
    code, output = run_cli("build", "events.yaml", "--out", str(tmp_path / "out"))
    assert code == 0, output
    expected_root = GOLDEN / case
    if UPDATE:
        shutil.rmtree(expected_root, ignore_errors=True)
        shutil.copytree(tmp_path / "out", expected_root)
    actual, expected = file_tree(tmp_path / "out"), file_tree(expected_root)
    assert sorted(actual) == sorted(expected), "generated file list changed; see the module docstring to regenerate"
    for path, content in expected.items():
        assert actual[path] == content, f"{case}/{path} differs from the golden copy; see the module docstring"


def test_committed_example_output_is_up_to_date(monkeypatch: pytest.MonkeyPatch) -> None:
    """generated/ is the build output of events.yaml; `scripts/demo` refreshes it."""
    monkeypatch.chdir(REPO)
    code, output = run_cli("build", "events.yaml", "--check")
    assert code == 0, output
