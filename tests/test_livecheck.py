"""live-check: a captured stream against the catalog, with findings per event and field, coverage,
text and JSON output, and an exit code by severity."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from local_collector import CATALOG, collector, envelope, example_catalog, post_events
from typer.testing import CliRunner

from conftest import MINIMAL_CATALOG, catalog_from_text, run_cli
from telemetry_gen.cli import app
from telemetry_gen.targets import jsonschema as schema_target
from telemetry_gen.write import write_tree


def write_lines(path: Path, *records: object) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), "utf-8")
    return path


def check(*args: str) -> tuple[int, dict[str, Any]]:
    code, output = run_cli("live-check", *args, "--format", "json")
    return code, json.loads(output)


def codes(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [(f["severity"], f["code"], f["event"], f["location"]) for f in result["findings"]]


def test_findings_per_event_and_field_with_their_severity(tmp_path: Path) -> None:
    started = envelope("app/started", number=2)
    captured = write_lines(
        tmp_path / "captured.jsonl",
        envelope(number=1),
        {**started, "data": {"command": "rm", "interactive": "yes", "colour": "red"}},
        {**envelope(number=3), "event": "checkout/completed", "schema": "https://shop.example/checkout.json"},
        {**envelope(number=10), "event": "app/started"},
        {**started, "id": "4" * 32, "schema": started["schema"].replace("/v2.", "/v1.")},
        envelope("command/invoked", number=5),
        envelope("command/invoked", number=6, context={**envelope()["context"], "app_version": "4.0.1"}),
        envelope("wallet/receive-shown", number=7, timestamp="2027-07-01T00:00:00Z"),
        envelope(number=1),
        "{not json",
        {"sent_at": "2026-03-01T10:00:00Z", "events": [envelope(number=8), envelope(number=9)]},
    )
    code, result = check(str(CATALOG), str(captured))
    assert code == 1
    assert codes(result) == [
        ("error", "unknown-field", "app/started", "/data/colour"),
        ("error", "undeclared-enum-value", "app/started", "/data/command"),
        ("error", "type-mismatch", "app/started", "/data/interactive"),
        ("error", "unknown-event", '"checkout/completed"', "/event"),
        ("error", "schema-mismatch", "app/exited", "/event"),
        ("error", "unknown-schema", "app/started", "/schema"),
        ("warning", "deprecated-event", "command/invoked", ""),
        ("error", "expired-event", "command/invoked", ""),
        ("error", "expired-event", "wallet/receive-shown", ""),
        ("warning", "duplicate-id", "app/exited", "/id"),
        ("error", "not-json", "", ""),
    ]
    by_code = {f["code"]: f for f in result["findings"]}
    assert by_code["deprecated-event"]["count"] == 2
    assert by_code["deprecated-event"]["first_seen"] == f"{captured.as_posix()}:6"
    assert by_code["type-mismatch"]["message"] == 'expected boolean, got string "yes"'
    assert [f["message"] for f in result["findings"] if f["code"] == "expired-event"] == [
        'sent by app version "4.0.1"; the catalog retires it from version 4.0',
        "sent on 2027-07-01, after it expired on 2027-06-30",
    ]
    summary = result["summary"]
    assert summary["events_checked"] == 12
    assert summary["findings"] == {"error": 9, "warning": 3, "info": 0}
    coverage = summary["coverage"]
    assert coverage["declared_events"] == len(example_catalog().events)
    assert coverage["seen"] == {"app/exited": 5, "app/started": 1, "command/invoked": 2, "wallet/receive-shown": 1}
    assert coverage["unknown_events"] == {'"checkout/completed"': 1}
    assert "app/exited.exit_reason" not in coverage["fields_never_seen"]
    assert "app/instance-created" in coverage["never_seen"]


def test_a_trailing_newline_does_not_match_a_pattern_that_ends_with_dollar(tmp_path: Path) -> None:
    """`$` ends the text, as in JSON Schema (ECMA-262): not before a final newline, as in Python's `re`."""
    sent = envelope("error/unhandled-exception")
    wrong = {**sent, "data": {**sent["data"], "exception_type": "KeyError\n"}}
    code, result = check(str(CATALOG), str(write_lines(tmp_path / "captured.jsonl", wrong)))
    assert code == 1
    assert codes(result) == [("error", "invalid-value", "error/unhandled-exception", "/data/exception_type")]


def test_app_version_expiry_is_judged_as_the_runtime_judges_it(tmp_path: Path) -> None:
    """`command/invoked` expires from app 4.0: `4` and `v4.1` are past it, `3.9` is not."""
    versions = {"4": True, "v4.1": True, "4.0.1": True, "3.9": False, "3.10.2": False}
    events = [
        envelope("command/invoked", number=n, context={**envelope()["context"], "app_version": version})
        for n, version in enumerate(versions, start=1)
    ]
    _, result = check(str(CATALOG), str(write_lines(tmp_path / "captured.jsonl", *events)))
    flagged = [f["message"] for f in result["findings"] if f["code"] == "expired-event"]
    assert flagged == [
        f"sent by app version {json.dumps(version)}; the catalog retires it from version 4.0"
        for version, expired in versions.items()
        if expired
    ]


def test_each_schemas_expiry_is_worked_out_once_not_per_event(tmp_path: Path, monkeypatch: Any) -> None:
    from telemetry_gen.collector.schemas import EventSchema

    read: list[str] = []
    expires = EventSchema.expires

    def counted(schema: EventSchema) -> str:
        read.append(schema.name)
        return str(expires.fget(schema))  # type: ignore[attr-defined]

    monkeypatch.setattr(EventSchema, "expires", property(counted))
    app_v4 = {**envelope()["context"], "app_version": "4.1"}
    events = [envelope("command/invoked", number=n, context=app_v4) for n in range(1, 6)]
    events += [envelope("wallet/receive-shown", number=n, timestamp="2027-07-01T00:00:00Z") for n in range(6, 11)]
    _, result = check(str(CATALOG), str(write_lines(tmp_path / "captured.jsonl", *events)))
    assert [(f["event"], f["count"]) for f in result["findings"] if f["code"] == "expired-event"] == [
        ("command/invoked", 5),
        ("wallet/receive-shown", 5),
    ]
    assert sorted(read) == ["command/invoked", "wallet/receive-shown"]


def test_text_output_names_the_line_the_event_and_the_field(tmp_path: Path) -> None:
    """Findings print as every diagnostic does: `file:line#/pointer: severity code: message`."""
    captured = write_lines(tmp_path / "c.jsonl", envelope(data={**envelope()["data"], "exit_reason": "boom"}))
    code, output = run_cli("live-check", str(CATALOG), str(captured))
    assert code == 1
    lines = output.splitlines()
    assert lines[0].startswith(f"{captured.as_posix()}:1#/data/exit_reason: error undeclared-enum-value: app/exited: ")
    assert lines[1] == "1 events checked, 0 valid; findings: 1 error, 0 warning, 0 info"
    assert lines[2].startswith(f"coverage: 1 of {len(example_catalog().events)} declared events seen (3%)")


def test_a_finding_points_into_the_line_where_its_event_first_came(tmp_path: Path) -> None:
    """An event of a batch body is at `/events/<n>` of its line; the pointer leads to the value with `jq`."""
    wrong = envelope(number=2, data={**envelope()["data"], "exit_reason": "boom"})
    batch = {"sent_at": "2026-03-01T10:00:00Z", "events": [envelope(number=1), wrong, {**wrong, "id": "3" * 32}]}
    captured = write_lines(tmp_path / "c.jsonl", "", batch, "{not json")
    code, output = run_cli("live-check", str(CATALOG), str(captured))
    assert code == 1
    found, unreadable = output.splitlines()[:2]
    assert found == (
        f"{captured.as_posix()}:2#/events/1/data/exit_reason: error undeclared-enum-value: app/exited: "
        '"boom" is not a declared value (declared: normal, keyboard-interrupt, signal, fatal-error) (x2)'
    )
    assert unreadable.startswith(f"{captured.as_posix()}:3: error not-json: not a JSON line (")
    _, result = check(str(CATALOG), str(captured))
    first = result["findings"][0]
    assert (first["location"], first["first_seen"], first["count"]) == (
        "/data/exit_reason",
        f"{captured.as_posix()}:2#/events/1",
        2,
    )


def test_exit_code_by_severity(tmp_path: Path) -> None:
    clean = write_lines(tmp_path / "clean.jsonl", envelope(number=1), envelope("app/started", number=2))
    assert check(str(CATALOG), str(clean))[0] == 0
    deprecated = write_lines(tmp_path / "deprecated.jsonl", envelope("command/invoked"))
    assert check(str(CATALOG), str(deprecated))[0] == 0
    assert run_cli("live-check", str(CATALOG), str(deprecated), "--fatal-warnings")[0] == 1


def test_coverage_gate_and_coverage_per_domain(tmp_path: Path) -> None:
    captured = write_lines(tmp_path / "c.jsonl", envelope(number=1), envelope("app/started", number=2))
    code, result = check(str(CATALOG), str(captured))
    coverage = result["summary"]["coverage"]
    declared = coverage["declared_events"]
    assert code == 0 and coverage["percent"] == round(200 / declared, 1)
    app = coverage["domains"]["app"]
    assert app["seen"] == 2 and app["declared_events"] >= 2
    assert app["percent"] == round(100 * 2 / app["declared_events"], 1)
    assert coverage["domains"]["wallet"]["seen"] == 0
    assert sum(d["declared_events"] for d in coverage["domains"].values()) == declared

    code, output = run_cli("live-check", str(CATALOG), str(captured), "--min-coverage", "50")
    assert code == 1 and "below --min-coverage 50%" in output
    assert run_cli("live-check", str(CATALOG), str(captured), "--min-coverage", "5")[0] == 0
    assert run_cli("live-check", str(CATALOG), str(captured), "--min-coverage", "101")[0] == 2  # out of range


def test_standard_input_and_the_default_catalog(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(CATALOG.parent)
    result = CliRunner().invoke(app, ["live-check", "-"], input=json.dumps(envelope()) + "\n\n")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("1 events checked, 1 valid")


def test_a_collectors_data_folder_is_checked_with_its_bad_rows(tmp_path: Path) -> None:
    with collector(tmp_path) as running:
        post_events(
            running.url, [envelope(number=1), envelope(number=2, data={**envelope()["data"], "exit_reason": "x"})]
        )
    code, result = check(str(CATALOG), str(tmp_path))
    assert code == 1
    assert codes(result) == [("error", "undeclared-enum-value", "app/exited", "/data/exit_reason")]
    assert result["summary"]["events_checked"] == 2
    (bad,) = (tmp_path / "bad").rglob("*.jsonl")
    assert result["findings"][0]["first_seen"] == f"{bad.as_posix()}:1#/payload"
    code, output = run_cli("live-check", str(CATALOG), str(tmp_path))
    assert output.startswith(f"{bad.as_posix()}:1#/payload/data/exit_reason: error undeclared-enum-value: ")


def test_earlier_versions_are_information_with_their_build(tmp_path: Path) -> None:
    newer = tmp_path / "events.yaml"
    newer.write_text(
        MINIMAL_CATALOG.replace('version: "1.0"', 'version: "2.0"').replace(
            '    since: "1.0"\n', '    since: "1.0"\n    version: 2\n'
        )
    )
    write_tree(schema_target.render(catalog_from_text(MINIMAL_CATALOG)), tmp_path / "v1")
    old = {
        "event": "app/started",
        "schema": "https://telemetry.invalid/demo-app/events/app/started/v1.schema.json",
        "id": "1" * 32,
        "timestamp": "2026-03-01T10:00:00Z",
        "context": {},
        "data": {"mode": "cli"},
    }
    captured = write_lines(tmp_path / "c.jsonl", old)
    assert codes(check(str(newer), str(captured))[1]) == [("error", "unknown-schema", "app/started", "/schema")]
    code, result = check(str(newer), str(captured), "--schemas", str(tmp_path / "v1"))
    assert code == 0
    assert codes(result) == [("info", "earlier-version", "app/started", "/schema")]
    assert result["findings"][0]["message"] == "sent with v1; the catalog has v2"


def test_unreadable_input_is_a_usage_error_without_a_traceback(tmp_path: Path) -> None:
    code, output = run_cli("live-check", str(CATALOG), str(tmp_path / "missing.jsonl"))
    assert code == 2 and "no such file or folder" in output and "Traceback" not in output
    code, output = run_cli("live-check", str(CATALOG), str(tmp_path))
    assert code == 2 and "no .jsonl files" in output
    code, output = run_cli("live-check", "a", "b", "c")
    assert code == 2


def test_hostile_lines_are_findings_not_crashes(tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    captured = write_lines(
        tmp_path / "c.jsonl",
        deep,
        "\u00e9\x1b[31m",
        json.dumps({"event": "\x1b[2J" + "x" * 500, "data": {"\x1b": 1}}),
        "null",
        "[1, 2]",
        {"event": ["app/exited"], "schema": {"$id": 1}, "id": {}},
        {**envelope(), "data": [["exit_reason"]]},
    )
    captured.write_bytes(captured.read_bytes() + b"\xff\xfe\n")
    code, output = run_cli("live-check", str(CATALOG), str(captured))
    assert code == 1
    assert "\x1b" not in output
    assert "8 events checked, 0 valid" in output
