"""Context the app supplies: `source: app` fields, given to `configure(context=...)`, checked there
and sent with every event."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from types import ModuleType

import jsonschema
import pytest
from telemetry_gen_runtime import EventValidationError, Violation

from conftest import MINIMAL_CATALOG, build_text, import_generated
from telemetry_gen.catalog import parse_catalog
from telemetry_gen.collector.checks import schema_checks

CONTEXT = """\
context:
  app_version:
    source: app_version
  platform:
    source: app
    type: enum
    values: [desktop, web]
    privacy: technical
    required: true
    description: Where the app runs.
    examples: [desktop]
  zoom_percent:
    source: app
    type: integer
    minimum: 50
    maximum: 200
    unit: percent
    privacy: technical
    description: The zoom level chosen in the settings.
  plugins:
    source: app
    type: array
    items:
      type: enum
      values: [charts, alerts]
    max_items: 2
    unique: true
    privacy: interaction
    description: Plugins switched on.
"""
CATALOG = MINIMAL_CATALOG.replace("never_collected:", CONTEXT + "never_collected:")


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("app-context")
    build_text(CATALOG, out)
    return out


@pytest.fixture
def package(build: Path) -> ModuleType:
    return import_generated(build, "demo_app_telemetry")


def sent(package: ModuleType, tmp_path: Path, **configure: object) -> list[dict[str, object]]:
    """The envelopes of one app/started event, with telemetry configured by `configure`."""
    sink = package.MemorySink()
    package.configure(app_version="1.0.0", sinks=[sink], consent="all", data_dir=tmp_path, **configure)
    package.events.app_started(mode="cli")
    events: list[dict[str, object]] = sink.events
    return events


def test_the_values_the_app_gives_go_with_every_event_and_match_the_schema(
    package: ModuleType, build: Path, tmp_path: Path
) -> None:
    given = {"platform": "web", "zoom_percent": 150, "plugins": ["charts"]}
    (envelope,) = sent(package, tmp_path, context=given, strict=True)
    assert envelope["context"] == {"app_version": "1.0.0", **given}
    schema = json.loads((build / "schemas" / "app" / "started.v1.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(envelope)
    assert not package.status().dropped


def test_the_apps_list_is_copied_so_what_was_checked_is_sent(package: ModuleType, tmp_path: Path) -> None:
    plugins = ["charts"]
    sink = package.MemorySink()
    package.configure(
        app_version="1.0.0",
        sinks=[sink],
        consent="all",
        data_dir=tmp_path,
        context={"platform": "web", "plugins": plugins},
    )
    plugins += ["charts", "evil"]
    package.events.app_started(mode="cli")
    assert sink.events[0]["context"]["plugins"] == ["charts"]


def test_an_optional_field_may_be_left_out(package: ModuleType, tmp_path: Path) -> None:
    (envelope,) = sent(package, tmp_path, context={"platform": "desktop"}, strict=True)
    assert envelope["context"] == {"app_version": "1.0.0", "platform": "desktop"}


def test_in_strict_mode_a_bad_value_raises_at_configure(package: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(EventValidationError) as raised:
        package.configure(app_version="1.0.0", data_dir=tmp_path, strict=True, context={"platform": "tablet"})
    assert raised.value.event == "context"
    assert [(v.event, v.field, v.code) for v in raised.value.violations] == [("context", "platform", "enum")]


def test_in_production_a_bad_value_is_left_out_counted_and_logged_once(
    package: ModuleType, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[EventValidationError] = []
    given = {"platform": "web", "zoom_percent": 900, "plugins": ["charts", "ads"], "hostname": "box"}
    with caplog.at_level(logging.WARNING, logger="telemetry"):
        (envelope,) = sent(package, tmp_path, context=given, on_violation=seen.append)
    assert envelope["context"] == {"app_version": "1.0.0", "platform": "web"}
    assert package.status().dropped == {
        "context: undeclared field": 1,
        "context.plugins[1]: invalid": 1,
        "context.zoom_percent: invalid": 1,
    }
    assert [sorted(v.field for v in error.violations) for error in seen] == [["hostname", "plugins[1]", "zoom_percent"]]
    assert len([r for r in caplog.records if "context" in r.getMessage()]) == 1


def test_without_a_required_value_nothing_is_sent(package: ModuleType, tmp_path: Path) -> None:
    """Every event's schema requires it: the runtime sends no event the collector would refuse."""
    assert sent(package, tmp_path, context={"zoom_percent": 100}) == []
    status = package.status()
    assert status.level == "off" and status.dropped["context.platform: invalid"] == 1
    assert status.dropped["configuration"] == 1


def test_the_schema_docs_and_checks_carry_the_fields(package: ModuleType, build: Path) -> None:
    schema = json.loads((build / "schemas" / "app" / "started.v1.schema.json").read_text())
    context = schema["$defs"]["context"]
    assert context["required"] == ["app_version", "platform"]
    assert context["properties"]["platform"]["enum"] == ["desktop", "web"]
    assert context["properties"]["zoom_percent"]["x-unit"] == "percent"
    privacy = (build / "docs" / "privacy.md").read_text()
    sent_with_every_event = privacy[privacy.index("## Sent with every event") :].split("\n## ", 1)[0]
    assert "`platform`" in sent_with_every_event and "`zoom_percent`" in sent_with_every_event
    check = package._catalog.APP.check_context
    assert check({"app_version": "1.0.0", "platform": "web"}) == []
    assert check({"app_version": "1.0.0", "platform": "tv"}) == [
        Violation("context", "platform", "enum", "'tv' is not one of ['desktop', 'web']")
    ]


@pytest.mark.parametrize(
    ("declaration", "code", "words"),
    [
        (
            "    type: object\n    fields: {a: {type: boolean, description: A., privacy: technical}}\n",
            "CF013",
            "object",
        ),
        ("    type: boolean\n    privacy: technical\n", "CF011", "description"),
        (
            "    type: boolean\n    description: On.\n    privacy: technical\n    package: requests\n",
            "CF010",
            "package",
        ),
        ("    type: string\n    max_length: 9\n    description: Free.\n    privacy: technical\n", "CF023", "free text"),
    ],
)
def test_a_bad_declaration_is_a_located_error(declaration: str, code: str, words: str) -> None:
    text = MINIMAL_CATALOG.replace(
        "never_collected:", "context:\n  theme:\n    source: app\n" + declaration + "never_collected:"
    )
    catalog, diagnostics = parse_catalog(text, "events.yaml")
    assert catalog is None
    problem = next(d for d in diagnostics if d.code == code)
    assert words in problem.message + problem.hint and 9 <= problem.location.line <= 14


def test_source_is_a_key_of_context_fields_only() -> None:
    text = MINIMAL_CATALOG.replace("        required: true\n", "        required: true\n        source: app\n")
    catalog, diagnostics = parse_catalog(text, "events.yaml")
    assert catalog is None
    (problem,) = diagnostics
    assert problem.code == "CF010" and "unknown key 'source'" in problem.message
    assert problem.location.line == text.splitlines().index("        source: app") + 1


def test_the_collector_reads_the_context_of_an_earlier_build(build: Path) -> None:
    """`collect --schemas` rebuilds the checks from the schema files, optional context included."""
    schema = json.loads((build / "schemas" / "app" / "started.v1.schema.json").read_text())
    checks = schema_checks(schema)
    assert checks.context({"app_version": "1.0.0", "platform": "web"}) == []
    assert [v.code for v in checks.context({"app_version": "1.0.0", "zoom_percent": 10})] == ["required", "minimum"]
