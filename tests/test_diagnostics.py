"""The one error shape: a `Diagnostic` names where it points in the form each tool needs (a position
in the catalog, a line of an input, a place inside an event) and prints the same way everywhere."""

from __future__ import annotations

from telemetry_gen.diagnostics import Diagnostic, Location, Severity, sorted_diagnostics


def test_a_location_prints_only_the_parts_it_has() -> None:
    assert str(Location("events.yaml", 12, 5)) == "events.yaml:12:5"
    assert str(Location("capture.jsonl", 3)) == "capture.jsonl:3"
    assert str(Location("capture.jsonl", 3, pointer="/data/tags/2")) == "capture.jsonl:3#/data/tags/2"
    assert str(Location(pointer="/data/tags/2")) == "#/data/tags/2"
    assert str(Location("old/app.schema.json")) == "old/app.schema.json"
    assert str(Location("capture.jsonl", 3, pointer="")) == "capture.jsonl:3"  # "" points at the whole value


def test_every_kind_of_location_renders_as_location_severity_code_message_hint() -> None:
    at_line = Diagnostic("unknown-field", Severity.ERROR, Location("c.jsonl", 4, pointer="/data/x"), "undeclared")
    assert at_line.render() == "c.jsonl:4#/data/x: error unknown-field: undeclared"
    in_catalog = Diagnostic("LN010", Severity.WARNING, Location("events.yaml", 8, 9), "no maximum", "add one")
    assert in_catalog.render() == "events.yaml:8:9: warning LN010: no maximum\n    hint: add one"
    assert Diagnostic("earlier-version", Severity.INFO, Location(), "sent with v1").render() == (
        "info earlier-version: sent with v1"
    )


def test_diagnostics_sort_by_place_then_code() -> None:
    found = [
        Diagnostic("b", Severity.ERROR, Location(pointer="/data/b"), ""),
        Diagnostic("z", Severity.ERROR, Location(pointer="/data/a"), ""),
        Diagnostic("a", Severity.ERROR, Location(pointer="/data/a"), ""),
        Diagnostic("CF010", Severity.ERROR, Location("e.yaml", 2, 1), ""),
        Diagnostic("CF010", Severity.ERROR, Location("e.yaml", 10, 1), ""),
    ]
    assert [(str(d.location), d.code) for d in sorted_diagnostics(found)] == [
        ("#/data/a", "a"),
        ("#/data/a", "z"),
        ("#/data/b", "b"),
        ("e.yaml:2:1", "CF010"),
        ("e.yaml:10:1", "CF010"),
    ]
