"""Reports the user chooses to send: feedback events, made by the generated `feedback` module,
shown before they are sent, and sent whatever the consent level; below `all` without the
instance and session ids, and storing nothing."""

from __future__ import annotations

import inspect
import json
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest
from local_collector import bad_rows, collector, stored
from local_endpoint import FAST, Answer, endpoint

from conftest import MINIMAL_CATALOG, build_text, catalog_from_text, import_generated
from telemetry_gen.collector.schemas import registry

CONTEXT = """\
context:
  app_version:
    source: app_version
  instance_id:
    source: instance_id
  session_id:
    source: session_id
"""
FEEDBACK = """\
  app/feedback-sent:
    description: The user rated the app in the feedback form; tells the developers what users think.
    trigger: When the user presses Send in the feedback form, after seeing what will be sent.
    category: feedback
    owner: core-team
    since: "1.0"
    fields:
      rating:
        type: integer
        minimum: 1
        maximum: 5
        description: Stars given, from 1 to 5.
        privacy: interaction
        required: true
      area:
        type: enum
        values: [charts, alerts, other]
        description: The part of the app the rating is about.
        privacy: interaction
"""
CATALOG = MINIMAL_CATALOG.replace("never_collected:", CONTEXT + "never_collected:") + FEEDBACK


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("feedback-build")
    build_text(CATALOG, out)
    return out


@pytest.fixture
def package(build: Path) -> ModuleType:
    return import_generated(build, "demo_app_telemetry")


def schema(build: Path, name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads((build / "schemas" / name).read_text()))


def test_the_emitter_lives_apart_and_returns_a_report(package: ModuleType) -> None:
    assert not hasattr(package.events, "app_feedback_sent")
    signature = inspect.signature(package.feedback.app_feedback_sent)
    assert list(signature.parameters) == ["rating", "area"]
    assert signature.return_annotation == "Report"
    assert "Report" in package.__all__ and "feedback" in package.__all__


@pytest.mark.parametrize("level", [None, "off", "errors"])
def test_below_all_it_is_sent_without_ids_and_stores_nothing(
    package: ModuleType, build: Path, tmp_path: Path, level: str | None
) -> None:
    data_dir = tmp_path / "data"
    with endpoint() as server:
        package.configure(app_version="1.0.0", sinks=[package.HttpSink(server.url, **FAST)], data_dir=data_dir)
        if level == "off":
            package.disable()
        elif level == "errors":
            package.enable("errors")
        report = package.feedback.app_feedback_sent(rating=4, area="charts")
        assert report.envelope["context"] == {"app_version": "1.0.0"}  # the preview: what is sent
        assert report.envelope["data"] == {"rating": 4, "area": "charts"}
        schema(build, "app/feedback-sent.v1.schema.json").validate(report.envelope)
        assert report.send()
        assert server.events() == [report.envelope]
    stored_files = sorted(p.name for p in data_dir.iterdir()) if data_dir.exists() else []
    assert stored_files == {None: [], "off": ["consent.json"], "errors": ["consent.json", "user_id.json"]}[level]


def test_at_all_it_carries_the_instance_and_session(package: ModuleType, build: Path, tmp_path: Path) -> None:
    sink = package.MemorySink()
    package.configure(app_version="1.0.0", sinks=[sink], data_dir=tmp_path, consent="all")
    report = package.feedback.app_feedback_sent(rating=5)
    stored_id = json.loads((tmp_path / "user_id.json").read_text())["user_id"]
    assert report.envelope["context"]["instance_id"] == stored_id
    assert len(report.envelope["context"]["session_id"]) == 32
    assert sink.events == []  # nothing is sent before `send()`
    assert report.send() and sink.events == [report.envelope]
    schema(build, "app/feedback-sent.v1.schema.json").validate(report.envelope)


def test_only_reports_may_go_without_the_ids(build: Path) -> None:
    no_ids: dict[str, Any] = {
        "event": "app/started",
        "schema": "https://telemetry.invalid/demo-app/events/app/started/v1.schema.json",
        "id": "0" * 32,
        "timestamp": "2026-03-01T10:00:00.000000Z",
        "context": {"app_version": "1.0.0"},
        "data": {"mode": "cli"},
    }
    assert not schema(build, "app/started.v1.schema.json").is_valid(no_ids)


def test_the_collector_stores_a_report_without_ids(package: ModuleType, tmp_path: Path) -> None:
    catalog = catalog_from_text(CATALOG)
    with collector(tmp_path / "collected", schemas=registry(catalog)[0]) as running:
        package.configure(app_version="1.0.0", sinks=[package.HttpSink(running.url, **FAST)], data_dir=tmp_path)
        report = package.feedback.app_feedback_sent(rating=2, area="other")
        assert report.send()
    assert bad_rows(tmp_path / "collected") == []
    assert stored(tmp_path / "collected") == [report.envelope]


def test_an_invalid_report_raises_in_strict_mode_and_is_not_sent_in_production(
    package: ModuleType, tmp_path: Path
) -> None:
    sink = package.MemorySink()
    package.configure(app_version="1.0.0", sinks=[sink], data_dir=tmp_path, strict=True)
    with pytest.raises(package.EventValidationError):
        package.feedback.app_feedback_sent(rating=9)
    package.configure(app_version="1.0.0", sinks=[sink], data_dir=tmp_path)
    report = package.feedback.app_feedback_sent(rating=9)
    assert report.envelope is None and not report.send() and sink.events == []
    assert package.status().dropped == {"app/feedback-sent.rating: invalid": 1}


def test_an_endpoint_that_does_not_answer_holds_send_no_longer_than_the_flush_bound(
    package: ModuleType, tmp_path: Path
) -> None:
    with endpoint() as server:
        server.script.append(Answer(delay=30.0))
        sink = package.HttpSink(server.url, timeout=60.0)
        package.configure(app_version="1.0.0", sinks=[sink], data_dir=tmp_path, flush_timeout=1.0)
        report = package.feedback.app_feedback_sent(rating=3)
        started = time.monotonic()
        assert not report.send()
        assert time.monotonic() - started < 10  # a 1 s bound, with a generous margin


def test_the_docs_say_when_reports_are_sent(build: Path) -> None:
    page = " ".join((build / "docs" / "index.md").read_text("utf-8").split())
    assert "`feedback` events only when you choose to send one (shown to you first" in page
