"""The build cache: a recalled `build` or `build --check` says exactly what a full one says, and only
when nothing it depends on has changed.

Every run is a real `telemetry-gen` process under `-X importtime`, so a test sees both what it
printed and whether it loaded the catalog pipeline's libraries.
"""

from __future__ import annotations

import datetime
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import EXPIRING, REPO, file_tree

CLI = "from telemetry_gen.cli import main; main()"
# What the pipeline imports and a recalled outcome must not.
PIPELINE_MODULES = frozenset(
    {"yaml", "jsonschema", "jinja2", "datamodel_code_generator", "telemetry_gen.catalog.model"}
)

QUIET_DAY = "2030-01-01"  # no diagnostics
WARNING_DAY = "2030-06-20"  # the trial expires within 30 days: a warning
EXPIRED_DAY = "2030-07-01"  # the trial has expired: an error


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str
    imported: frozenset[str]

    @property
    def printed(self) -> tuple[int, str, str]:
        return self.code, self.stdout, self.stderr

    @property
    def loaded_pipeline(self) -> bool:
        return not self.imported.isdisjoint(PIPELINE_MODULES)


def telemetry_gen(project: Path, *args: str, day: str = QUIET_DAY, env: dict[str, str] | None = None) -> Run:
    """`telemetry-gen build events.yaml --out out ARGS` in `project`, with the build cache on."""
    midnight = datetime.datetime.fromisoformat(day).replace(tzinfo=datetime.timezone.utc)
    environment = {**os.environ, "SOURCE_DATE_EPOCH": str(int(midnight.timestamp())), **(env or {})}
    environment.pop("TELEMETRY_GEN_NO_CACHE", None)  # conftest sets it for every other test
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", CLI, "build", "events.yaml", "--out", "out", *args],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    timings = [line for line in result.stderr.splitlines() if line.startswith("import time:")]
    stderr = "".join(line for line in result.stderr.splitlines(keepends=True) if not line.startswith("import time:"))
    imported = frozenset(line.rsplit("|", 1)[1].strip() for line in timings)
    return Run(result.returncode, result.stdout, stderr, imported)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("built")
    (project / "events.yaml").write_text(EXPIRING, "utf-8")
    assert telemetry_gen(project, "--no-cache").code == 0
    return project


@pytest.fixture
def project(built: Path, tmp_path: Path) -> Path:
    """A catalog and its up-to-date output, with no cache yet."""
    copy = tmp_path / "project"
    shutil.copytree(built, copy)
    return copy


def _edit_catalog(project: Path) -> None:
    catalog = project / "events.yaml"
    catalog.write_text(catalog.read_text("utf-8").replace("The app started", "The app has started"), "utf-8")


def _break_catalog(project: Path) -> None:
    catalog = project / "events.yaml"
    catalog.write_text(catalog.read_text("utf-8").replace("values: [cli, gui]", "valuez: [cli, gui]"), "utf-8")


CHANGES: dict[str, tuple[Callable[[Path], object], str]] = {
    "up to date": (lambda project: None, QUIET_DAY),
    "a changed output file": (lambda project: (project / "out" / "catalog.schema.json").write_text("{}"), QUIET_DAY),
    "a missing output file": (lambda project: (project / "out" / "catalog.schema.json").unlink(), QUIET_DAY),
    "a stray output file": (lambda project: (project / "out" / "stray.txt").write_text("left over"), QUIET_DAY),
    "an edited catalog": (_edit_catalog, QUIET_DAY),
    "a catalog with warnings": (lambda project: None, WARNING_DAY),
    "a catalog with lint errors": (lambda project: None, EXPIRED_DAY),
    "a catalog with format errors": (_break_catalog, QUIET_DAY),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_recalled_check_prints_what_a_full_check_prints(project: Path, change: str) -> None:
    make_change, day = CHANGES[change]
    make_change(project)
    full = telemetry_gen(project, "--check", "--no-cache", day=day)
    recording = telemetry_gen(project, "--check", day=day)
    recalled = telemetry_gen(project, "--check", day=day)
    assert recording.loaded_pipeline, "there was no record yet"
    assert recalled.imported.isdisjoint(PIPELINE_MODULES), "the record was not used"
    assert recording.printed == recalled.printed == full.printed
    assert full.code == (0 if change in ("up to date", "a catalog with warnings") else 1)


INVALIDATIONS: dict[str, tuple[tuple[str, ...], str]] = {
    # name: (options, day) of the second run; the first runs with no options on WARNING_DAY.
    "another day": ((), EXPIRED_DAY),
    "--fatal-warnings": (("--fatal-warnings",), WARNING_DAY),
    "--app-version": (("--app-version", "2.0"), WARNING_DAY),
}


@pytest.mark.parametrize("change", list(INVALIDATIONS))
def test_a_record_is_not_used_for_other_options_or_another_day(project: Path, change: str) -> None:
    options, day = INVALIDATIONS[change]
    assert telemetry_gen(project, "--check", day=WARNING_DAY).code == 0
    rerun = telemetry_gen(project, "--check", *options, day=day)
    assert rerun.loaded_pipeline
    assert rerun.printed == telemetry_gen(project, "--check", "--no-cache", *options, day=day).printed
    assert rerun.code == 1  # what the first run recorded would have said 0


def test_an_edited_catalog_is_built_afresh(project: Path) -> None:
    assert telemetry_gen(project, "--check").code == 0
    _edit_catalog(project)
    rerun = telemetry_gen(project, "--check")
    assert rerun.loaded_pipeline
    assert rerun.printed == telemetry_gen(project, "--check", "--no-cache").printed
    assert rerun.code == 1 and "changed: " in rerun.stderr


def test_an_edited_toolkit_is_not_answered_from_the_cache(project: Path) -> None:
    toolkit = project.parent / "toolkit" / "telemetry_gen"
    shutil.copytree(REPO / "generator" / "telemetry_gen", toolkit, ignore=shutil.ignore_patterns("__pycache__"))
    env = {"PYTHONPATH": str(toolkit.parent)}
    assert telemetry_gen(project, "--check", env=env).code == 0
    assert not telemetry_gen(project, "--check", env=env).loaded_pipeline
    docs_target = toolkit / "targets" / "docs.py"
    docs_target.write_text(docs_target.read_text("utf-8") + "# an edit that leaves the version as it is\n", "utf-8")
    assert telemetry_gen(project, "--check", env=env).loaded_pipeline
    assert not telemetry_gen(project, "--check", env=env).loaded_pipeline


def test_a_damaged_record_is_ignored_and_replaced(project: Path) -> None:
    first = telemetry_gen(project, "--check")
    (record,) = (project / ".telemetry-gen-cache").glob("build-*.json")
    for damage in ("", "{not json", '{"format": 1, "key": 3}', record.read_text("utf-8").replace('"files"', '"f"')):
        record.write_text(damage, "utf-8")
        rerun = telemetry_gen(project, "--check")
        assert rerun.loaded_pipeline and rerun.printed == first.printed
    assert not telemetry_gen(project, "--check").loaded_pipeline


def test_a_build_with_nothing_to_write_leaves_the_output_alone(project: Path) -> None:
    out = project / "out"
    first = telemetry_gen(project)
    assert first.stdout.startswith("wrote ")
    folder = out.stat().st_ino  # a build swaps in a new folder
    again = telemetry_gen(project)
    assert not again.loaded_pipeline
    assert again.printed == (0, f"out is up to date ({len(file_tree(out))} files)\n", "")
    assert out.stat().st_ino == folder

    (out / "stray.txt").write_text("left over", "utf-8")
    rebuilt = telemetry_gen(project)
    assert rebuilt.printed == first.printed and not (out / "stray.txt").exists()


def test_the_cache_stays_beside_the_catalog_and_out_of_the_output(project: Path, tmp_path: Path) -> None:
    assert telemetry_gen(project).code == 0
    cache = project / ".telemetry-gen-cache"
    assert [p.name for p in cache.iterdir() if not p.name.startswith("build-")] == [".gitignore"]
    assert (cache / ".gitignore").read_text("utf-8") == "*\n"
    uncached = tmp_path / "uncached"
    uncached.mkdir()
    shutil.copy(project / "events.yaml", uncached / "events.yaml")
    assert telemetry_gen(uncached, "--no-cache").code == 0
    assert file_tree(project / "out") == file_tree(uncached / "out")
    assert not (uncached / ".telemetry-gen-cache").exists()
