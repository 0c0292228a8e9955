"""`diff` and `changelog` on a real git repository with release tags, as a team uses them; and
every way they refuse, with exit 2 and a message instead of a traceback."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml
from test_diff import BASE, STARTED_V2, edit, in_cmd_ran

from conftest import REPO, catalog_from_text, run_cli

ADD_VALUE = ("values: [cli, gui]", "values: [cli, gui, tui]")
REMOVE_FIELD = (BASE[BASE.index("      duration_ms:") : BASE.index("      tags:")], "")


def version(text: str) -> tuple[str, str]:
    return ('version: "1.0"', f'version: "{text}"')


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def release(repo: Path, text: str, tag: str | None) -> None:
    (repo / "events.yaml").write_text(text, "utf-8")
    git(repo, "add", "events.yaml")
    git(repo, "commit", "-q", "-m", f"catalog {tag or 'work'}")
    if tag:
        git(repo, "tag", tag)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with two releases of its catalog: v1.0, then v1.1 (an enum value added)."""
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "config", "user.name", "Test")
    git(tmp_path, "config", "user.email", "test@example.invalid")
    git(tmp_path, "config", "tag.gpgSign", "false")
    git(tmp_path, "config", "commit.gpgSign", "false")
    release(tmp_path, BASE, "v1.0")
    release(tmp_path, edit(BASE, [ADD_VALUE, version("1.1")]), "v1.1")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def work(repo: Path, edits: list[tuple[str, str]]) -> str:
    """Edit the catalog in the work tree (not committed) and return its text."""
    text = edit(BASE, [ADD_VALUE, *edits])
    (repo / "events.yaml").write_text(text, "utf-8")
    return text


def test_breaking_change_without_major_bump_fails_against_the_last_tag(repo: Path) -> None:
    text = work(repo, [REMOVE_FIELD, version("1.2")])
    code, output = run_cli("diff")
    assert code == 1, output
    # A removal is located in the base catalog, read from the tag.
    removed = "v1.1:events.yaml:33:7: warning CD012: breaking field-removed: event 'app/started', field 'duration_ms'"
    assert f"{removed}: removed\n" in output
    assert "1 breaking change(s) need a major version bump, but the version is 1.1 → 1.2" in output
    assert 'hint: set `version: "2.0"`' in output
    # Nothing in the work tree was touched: the base came from `git show`.
    assert (repo / "events.yaml").read_text("utf-8") == text
    assert git(repo, "status", "--porcelain") == " M events.yaml\n"


def test_major_bump_passes_and_check_version_wants_the_event_version_too(repo: Path) -> None:
    work(repo, [REMOVE_FIELD, version("2.0")])
    assert run_cli("diff")[0] == 0
    code, output = run_cli("diff", "--check-version")
    assert code == 1
    assert "event 'app/started': a breaking change to its schema keeps schema version 1" in output
    assert "hint: set `version: 2` so the new schema gets its own `$id` beside the old one" in output
    work(repo, [REMOVE_FIELD, version("2.0"), STARTED_V2])
    code, output = run_cli("diff", "--check-version")
    assert code == 0, output
    assert "2 change(s) from v1.1:events.yaml (1.1) to events.yaml (2.0): 1 breaking, 1 additive" in output


def test_additive_change_needs_a_minor_bump_only_with_check_version(repo: Path) -> None:
    work(repo, [("values: [a, b]", "values: [a, b, c]"), version("1.1")])
    code, output = run_cli("diff")
    assert code == 0 and "warning CV003: 1 additive change(s) need a minor version bump" in output
    assert run_cli("diff", "--check-version")[0] == 1
    work(repo, [("values: [a, b]", "values: [a, b, c]"), version("1.2")])
    assert run_cli("diff", "--check-version")[0] == 0


def test_changes_and_version_problems_print_as_diagnostics_with_their_code(repo: Path) -> None:
    """`diff` prints what it finds as every command prints diagnostics: `location: severity CODE: message`."""
    work(repo, [REMOVE_FIELD, version("1.2")])
    code, output = run_cli("diff")
    assert code == 1
    line = (
        r"^events\.yaml:\d+:\d+: error CV002: 1 breaking change\(s\) need a major version bump, but the version is "
        r"1\.1 → 1\.2\n    hint: set `version: \"2\.0\"` \(or remove the breaking changes\)$"
    )
    assert re.search(line, output, re.M), output
    assert output.endswith("\n1 error(s), 1 warning(s)\n"), output
    work(repo, [REMOVE_FIELD, version("2.0")])
    code, output = run_cli("diff")
    assert code == 0
    assert re.search(r"^events\.yaml:\d+:\d+: warning CV005: event 'app/started': a breaking change", output, re.M)
    code, output = run_cli("diff", "--check-version")
    assert code == 1
    assert re.search(r"^events\.yaml:\d+:\d+: error CV005: event 'app/started': a breaking change", output, re.M)


def test_list_names_every_kind_with_its_code() -> None:
    code, output = run_cli("diff", "--list")
    assert code == 0
    assert (
        "CD012  breaking  field-removed: earlier events carry it and are rejected (no extra keys)"
        in output.splitlines()
    )
    assert len(output.splitlines()) == 26


def test_any_ref_can_be_the_base(repo: Path) -> None:
    work(repo, [version("1.1")])
    code, output = run_cli("diff", "--base", "v1.0", "--format", "json")
    assert code == 0
    report = json.loads(output)
    assert report["base"] == {"file": "v1.0:events.yaml", "version": "1.0"}
    assert [(c["code"], c["kind"], c["event"], c["field"], c["impact"]) for c in report["changes"]] == [
        ("CD016", "field-enum-value-added", "app/started", "mode", "additive")
    ]
    assert report["required_bump"] == "minor" and report["version_problems"] == []
    work(repo, [version("1.0")])
    report = json.loads(run_cli("diff", "--format", "json")[1].split("\nevents.yaml")[0])
    assert [p["code"] for p in report["version_problems"]] == ["CV001"]
    assert run_cli("diff", "--base", "HEAD~1")[0] == 0


def test_base_file_and_markdown(repo: Path, tmp_path: Path) -> None:
    (tmp_path / "old.yaml").write_text(BASE, "utf-8")
    work(repo, [REMOVE_FIELD, version("1.2")])
    code, output = run_cli("diff", "--base-file", str(tmp_path / "old.yaml"), "--format", "markdown")
    assert code == 1
    assert (
        "## 1.0 → 1.2\n\n### Breaking (needs a major version bump)\n\n- `app/started` `duration_ms`: removed" in output
    )
    assert "### Additive\n\n- `app/started` `mode`: value 'tui' added (CD016 field-enum-value-added)" in output
    assert "### Version problems\n\n- 1 breaking change(s) need a major version bump" in output
    assert "the version is 1.0 → 1.2 (CV002)\n" in output


def test_history_output_pastes_into_the_catalog(repo: Path) -> None:
    """`diff --format history` prints the entry the docs changelog is built from."""
    text = work(repo, [REMOVE_FIELD, version("2.0"), STARTED_V2])
    code, output = run_cli("diff", "--format", "history")
    assert code == 0
    assert "    - change: field-removed  # CD012\n" in output
    catalog = catalog_from_text(text + "history:\n" + output.split("\nevents.yaml")[0])
    assert [(h.version.key(), h.change, h.event, h.field, h.note) for h in catalog.history] == [
        ((2, 0), "event-version-changed", "app/started", None, "schema version 1 → 2"),
        ((2, 0), "field-removed", "app/started", "duration_ms", "removed"),
    ]


def test_changelog_has_a_section_per_release_and_the_unreleased_work(repo: Path) -> None:
    release(repo, edit(BASE, [ADD_VALUE, version("1.1"), in_cmd_ran("owner: core-team", "owner: cli-team")]), "v1.1.1")
    work(repo, [REMOVE_FIELD, version("2.0"), STARTED_V2])
    code, output = run_cli("changelog")
    assert code == 0, output
    titles = [line for line in output.splitlines() if line.startswith("## ")]
    assert titles == ["## 2.0 (unreleased)", "## 1.1 (`v1.1.1`)", "## 1.0 (first release, `v1.0`)"]
    sections = output.split("\n## ")
    assert "- `app/started` `duration_ms`: removed (CD012 field-removed)" in sections[1]
    assert "- `app/started` `mode`: value 'tui' added (CD016 field-enum-value-added)" in sections[2]
    assert "- `cmd/ran`: added (CD001 event-added)" in sections[3]
    assert run_cli("changelog", "--out", "CHANGES.md")[0] == 0
    assert (repo / "CHANGES.md").read_text("utf-8") == output


def test_changelog_names_unreleased_changes_without_a_bump_and_skips_broken_tags(repo: Path) -> None:
    release(repo, "catalog_format: 1\n", "v1.2-broken")
    work(repo, [("values: [a, b]", "values: [a, b, c]"), version("1.1")])
    code, output = run_cli("changelog")
    assert code == 0
    assert "note: skipped tag v1.2-broken: its catalog has errors" in output
    assert "## Unreleased (the catalog version is still 1.1)" in output
    assert "- 1 additive change(s) need a minor version bump, but the version is 1.1 → 1.1" in output


def test_changelog_checks_the_repository_once_and_reads_each_listed_tag_with_one_git_show(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from telemetry_gen.evolution import git as git_module

    calls: list[tuple[str, ...]] = []
    run_git = git_module._git

    def counted(folder: Path, *args: str) -> bytes:
        calls.append(args)
        return run_git(folder, *args)

    monkeypatch.setattr(git_module, "_git", counted)
    code, output = run_cli("changelog")
    assert code == 0, output
    assert [args[0] for args in calls] == ["rev-parse", "tag", "show", "show"]  # tags v1.0 and v1.1
    # A ref the user gives is still checked before it is read.
    calls.clear()
    assert run_cli("diff", "--base", "v1.0")[0] == 0
    assert [args[0] for args in calls] == ["rev-parse", "rev-parse", "show"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["diff", "--base", "v9.9"], "error: unknown git ref 'v9.9'"),
        (["diff", "--base", "--upload-pack=x"], "error: '--upload-pack=x' is not a git ref"),
        (["diff", "--base", "v1.0:other.yaml"], "is not a git ref"),
        (["diff", "--base", "v1.0", "--base-file", "events.yaml"], "error: give --base or --base-file, not both"),
        (["diff", "--base-file", "missing.yaml"], "missing.yaml:1:1: error CF000: cannot read the catalog"),
        (["diff", "--format", "yaml"], "Invalid value for '--format'"),
        (["diff", "missing.yaml"], "error: the catalog has errors, so it cannot be compared"),
    ],
)
def test_usage_errors_exit_2_with_a_message(repo: Path, args: list[str], message: str) -> None:
    code, output = run_cli(*args)
    assert code == 2 and message in output, output
    assert "Traceback" not in output


def test_a_bad_base_catalog_is_located_in_the_ref(repo: Path) -> None:
    release(repo, BASE.replace("  title: Demo App\n", "  title: Demo App\n  colour: red\n"), "v1.2")
    work(repo, [version("1.3")])
    code, output = run_cli("diff")
    assert code == 2
    assert "v1.2:events.yaml:5:3: error CF010: unknown key 'colour' in `app`" in output
    assert "error: the base catalog at v1.2 has errors, so it cannot be compared" in output


def test_a_catalog_added_after_the_tag_has_no_base(repo: Path) -> None:
    (repo / "sub").mkdir()
    (repo / "sub" / "events.yaml").write_text(BASE, "utf-8")
    code, output = run_cli("diff", "sub/events.yaml")
    assert code == 2 and "error: events.yaml does not exist at v1.1" in output


def test_outside_a_repository_or_without_tags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "events.yaml").write_text(BASE, "utf-8")
    code, output = run_cli("diff")
    assert code == 2 and "is not inside a git repository" in output
    git(tmp_path, "init", "-q")
    code, output = run_cli("changelog")
    assert code == 2 and "is not inside a git repository" not in output
    code, output = run_cli("diff")
    assert code == 2 and "no tag to compare with" in output and "pass --base REF or --base-file PATH" in output


def test_pre_commit_hooks_run_real_commands() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text("utf-8"))
    assert {hook["id"] for hook in hooks} == {"telemetry-gen-lint", "telemetry-gen-build", "telemetry-gen-diff"}
    for hook in hooks:
        program, *args = shlex.split(hook["entry"])
        assert program == "telemetry-gen" and hook["pass_filenames"] is False
        code, output = run_cli(*args, "--help")
        assert code == 0, (hook["id"], output)
