"""Command-line conventions every command keeps: --version, completion, JSON diagnostics, defaults in
help, exit code 2 for a catalog that cannot be read, and advice when there is no git history."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import REPO, run_cli
from telemetry_gen import __version__

EXAMPLE = REPO / "events.yaml"


def test_version_option_prints_the_version() -> None:
    assert run_cli("--version") == (0, f"{__version__}\n")


def test_shell_completion_is_offered() -> None:
    code, output = run_cli("--help")
    assert code == 0
    assert "--install-completion" in output and "--show-completion" in output


def test_help_shows_the_output_folder_default() -> None:
    code, output = run_cli("build", "--help")
    assert code == 0
    flat = " ".join(output.replace("│", " ").split())
    assert "generated/ beside the catalog" in flat
    assert "Output folder ." not in flat


@pytest.mark.parametrize(
    "command",
    [
        ["build"],
        ["build", "--check"],
        ["lint"],
        ["diff", "--base-file", "also-missing.yaml"],
        ["changelog"],
        ["live-check", "--", "MISSING", "capture.jsonl"],
        ["collect", "--data-dir", "collected", "--port", "0"],
    ],
    ids=" ".join,
)
def test_a_missing_catalog_exits_2_everywhere(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "capture.jsonl").write_text("", "utf-8")
    arguments = [a if a != "MISSING" else "missing.yaml" for a in command]
    if "MISSING" not in command:
        arguments.insert(1, "missing.yaml")
    code, output = run_cli(*arguments)
    assert code == 2, output
    assert "missing.yaml" in output


def test_lint_and_build_print_diagnostics_as_json(tmp_path: Path) -> None:
    catalog = tmp_path / "events.yaml"
    text = EXAMPLE.read_text("utf-8")
    catalog.write_text(text.replace("privacy: interaction", "privacy: secret", 1), "utf-8")
    code, output = run_cli("lint", str(catalog), "--format", "json")
    assert code == 1
    document = json.loads(output)
    assert document["ok"] is False and document["errors"] >= 1
    first = document["diagnostics"][0]
    assert set(first) == {"code", "severity", "location", "message", "hint"}
    assert first["location"].startswith(f"{catalog.as_posix()}:")

    shutil.copy(EXAMPLE, catalog)
    code, output = run_cli("build", str(catalog), "--format", "json")
    assert code == 0, output
    built = json.loads(output)
    assert built["built"] is True and built["errors"] == 0 and built["files"] > 20
    code, output = run_cli("build", str(catalog), "--check", "--format", "json")
    assert code == 0 and json.loads(output)["up_to_date"] is True
    (tmp_path / "generated" / "docs" / "privacy.md").write_text("edited\n", "utf-8")
    code, output = run_cli("build", str(catalog), "--check", "--format", "json")
    assert code == 1
    stale = json.loads(output)["stale"]
    assert stale["changed"] == ["docs/privacy.md"] and stale["why"]


def test_diff_outside_git_suggests_a_base_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(EXAMPLE, tmp_path / "events.yaml")
    monkeypatch.chdir(tmp_path)
    code, output = run_cli("diff")
    assert code == 2
    assert "--base-file" in output
