"""Expiry: an expired event's emitter sends nothing; the lints warn before and fail after."""

from __future__ import annotations

import datetime
import inspect
from pathlib import Path
from typing import Any

import pytest
from telemetry_gen_runtime import EventSpec, Violation, version_key
from telemetry_gen_runtime.expiry import is_expired

from conftest import EXPIRING, build_text, catalog_from_text, import_generated, run_cli
from telemetry_gen.catalog.lint import run_lints


def no_violations(data: dict[str, Any]) -> list[Violation]:
    return []


def spec(date: str | None = None, app: str | None = None) -> EventSpec:
    return EventSpec("app/x", "id", "usage", no_violations, date, app)


@pytest.mark.parametrize(
    ("a", "b"),
    [("3.10", "3.9"), ("4", "3.99.1"), ("4.0.1", "4"), ("v4.1", "4.0"), ("10.0", "9.9")],
)
def test_versions_compare_by_numeric_parts(a: str, b: str) -> None:
    assert version_key(a) > version_key(b)


@pytest.mark.parametrize(("a", "b"), [("4", "4.0"), ("4.0.0", "4"), ("4.0rc1", "4.0"), ("4.0.dev3", "4")])
def test_equal_versions(a: str, b: str) -> None:
    assert version_key(a) == version_key(b)


@pytest.mark.parametrize(
    ("event", "today", "app_version", "expired"),
    [
        (spec(date="2030-06-30"), datetime.date(2030, 6, 30), "1.0", False),  # sent on its last day
        (spec(date="2030-06-30"), datetime.date(2030, 7, 1), "1.0", True),
        (spec(app="2.0"), datetime.date(2030, 1, 1), "1.9.9", False),
        (spec(app="2.0"), datetime.date(2030, 1, 1), "2.0", True),
        (spec(app="2.0"), datetime.date(2030, 1, 1), "2.0rc1", True),  # pre-releases of 2.0 too
        (spec(app="2.0"), datetime.date(2030, 1, 1), "10.1", True),
        (spec(), datetime.date(2999, 1, 1), "99", False),
    ],
)
def test_is_expired(event: EventSpec, today: datetime.date, app_version: str, expired: bool) -> None:
    assert is_expired(event, today, app_version) is expired


def test_an_expired_emitter_sends_nothing_and_counts_the_call(tmp_path: Path) -> None:
    build_text(EXPIRING.replace('"2030-06-30"', '"2001-01-01"'), tmp_path / "out")
    package = import_generated(tmp_path / "out", "demo_app_telemetry")
    params = inspect.signature(package.events.app_legacy_started).parameters
    assert list(params) == []  # the signature stays: app code keeps type-checking
    sink = package.MemorySink()
    package.configure(app_version="2.1.0", sinks=[sink], strict=True, consent="all", data_dir=tmp_path / "data")
    package.events.app_legacy_started()
    package.events.app_trial_shown()
    package.events.app_started(mode="cli")
    assert sink.names() == ["app/started"]
    assert package.status().dropped == {"app/legacy-started: expired": 1, "app/trial-shown: expired": 1}
    package.configure(app_version="1.9", sinks=[sink], strict=True, consent="all", data_dir=tmp_path / "data")
    package.events.app_legacy_started()
    assert sink.names() == ["app/started", "app/legacy-started"]


def test_the_emitter_and_the_docs_say_when_it_stops(tmp_path: Path) -> None:
    build_text(EXPIRING, tmp_path)
    events = (tmp_path / "python" / "demo_app_telemetry" / "events.py").read_text("utf-8")
    assert "Expiry: not sent from app version 2.0 on; its emitter then does nothing." in events
    assert "Expiry: sent up to 2030-06-30; after that day its emitter does nothing." in events
    page = (tmp_path / "docs" / "events" / "app.md").read_text("utf-8")
    assert "- **Expires:** not sent from app version 2.0 on; its emitter then does nothing" in page


@pytest.mark.parametrize(
    ("app_version", "codes"),
    [
        (None, []),  # app versions are linted only when the release says which it is
        ("1.0", ["LN005"]),  # 2.0 is the next major release
        ("1.9.3", ["LN005"]),
        ("0.9", []),
        ("2.0", ["LN004"]),
        ("2.0.1", ["LN004"]),
    ],
)
def test_app_version_expiry_lints(app_version: str | None, codes: list[str]) -> None:
    catalog = catalog_from_text(EXPIRING)
    found = run_lints(catalog, datetime.date(2030, 1, 1), app_version)
    assert [d.code for d in found if "legacy" in d.message] == codes


def test_lint_takes_the_app_version_and_source_date_epoch(chdir_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (chdir_tmp / "events.yaml").write_text(EXPIRING, "utf-8")
    monkeypatch.setenv(
        "SOURCE_DATE_EPOCH", str(int(datetime.datetime(2030, 5, 1, tzinfo=datetime.timezone.utc).timestamp()))
    )
    code, output = run_cli("lint", "--app-version", "2.0")
    assert code == 1
    assert "error LN004: event 'app/legacy-started' expired with app version 2.0 (this is 2.0)" in output
    assert "warning LN005" not in output  # 2030-06-30 is 60 days after the fixed "today"
    monkeypatch.setenv(
        "SOURCE_DATE_EPOCH", str(int(datetime.datetime(2030, 7, 1, tzinfo=datetime.timezone.utc).timestamp()))
    )
    code, output = run_cli("lint", "--app-version", "1.5")
    assert code == 1
    assert "error LN004: event 'app/trial-shown' expired on 2030-06-30; its emitter already sends nothing" in output
    assert "warning LN005: event 'app/legacy-started' expires with app version 2.0" in output
