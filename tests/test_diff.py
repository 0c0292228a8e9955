"""`telemetry-gen diff`: every kind of change between two catalogs, classified, and the version
rules that follow from them. The table below is the specification in examples."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field

import pytest

from conftest import REPO, catalog_from_text
from telemetry_gen.evolution.diff import KINDS, compare
from telemetry_gen.evolution.versions import check_versions

BASE = textwrap.dedent(
    """\
    catalog_format: 1
    app:
      name: demo-app
      title: Demo App
      package: demo_app_telemetry
      version: "1.0"
      domains: [app, cmd]
    context:
      app_version:
        source: app_version
    never_collected:
      - Passwords
    events:
      app/started:
        description: The app started; counts active installations.
        trigger: Once per process, after start-up.
        category: usage
        owner: core-team
        since: "1.0"
        fields:
          mode:
            type: enum
            values: [cli, gui]
            description: How the app was started.
            privacy: interaction
            required: true
          command:
            type: string
            max_length: 32
            pattern: ^[a-z-]+$
            description: The command the app was started with.
            privacy: interaction
          duration_ms:
            type: integer
            minimum: 0
            maximum: 60000
            unit: milliseconds
            description: Time from start to ready.
            privacy: technical
          tags:
            type: array
            items:
              type: enum
              values: [a, b]
            max_items: 3
            description: Feature tags switched on.
            privacy: interaction
          platform:
            type: object
            description: Where the app runs.
            privacy: technical
            fields:
              arch:
                type: enum
                values: [x86_64, arm64]
                description: CPU architecture.
                privacy: technical
      cmd/ran:
        description: A command ran; counts which commands are used.
        trigger: After each command finishes.
        category: usage
        owner: core-team
        since: "1.0"
        fields:
          ok:
            type: boolean
            description: Whether the command succeeded.
            privacy: technical
            required: true
    """
)

NEW_EVENT = """
  cmd/failed:
    description: A command failed; shows which commands break.
    trigger: After a command ends with an error.
    category: errors
    owner: core-team
    since: "1.0"
"""
CMD_RAN = BASE[BASE.index("  cmd/ran:") :]


def edit(text: str, edits: list[tuple[str, str]]) -> str:
    for old, new in edits:
        assert text.count(old) == 1, f"{old!r} must occur once"
        text = text.replace(old, new)
    return text


@dataclass(frozen=True)
class Case:
    name: str
    edits: list[tuple[str, str]]
    expected: set[tuple[str, str | None, str | None]]  # (kind, event, field)
    base_edits: list[tuple[str, str]] = field(default_factory=list)  # the base is BASE with these


def after(anchor: str, old: str, new: str) -> tuple[str, str]:
    """An edit of the first `old` after the line `anchor` (a field or event key)."""
    start = BASE.index(anchor)
    position = BASE.index(old, start)
    return BASE[start : position + len(old)], BASE[start:position] + new


def in_field(name: str, old: str, new: str) -> tuple[str, str]:
    return after(f"      {name}:\n", old, new)


def in_cmd_ran(old: str, new: str) -> tuple[str, str]:
    return after("  cmd/ran:\n", old, new)


def block(start: str, end: str) -> str:
    """BASE from the line `start` up to (not including) the line `end`."""
    return BASE[BASE.index(start) : BASE.index(end)]


def new_field(name: str, indent: int, *lines: str) -> str:
    pad = " " * indent
    return f"{pad}{name}:\n" + "".join(f"{pad}  {line}\n" for line in lines)


RENAME = ("  cmd/ran:\n", "  cmd/finished:\n    renamed_from: cmd/ran\n")
CODE_OPTIONAL = new_field("code", 6, "type: integer", "description: Exit code.", "privacy: technical")
CODE_REQUIRED = new_field(
    "code", 6, "type: boolean", "description: Exit code zero.", "privacy: technical", "required: true"
)
OS_FIELD = new_field("os", 10, "type: boolean", "description: Whether it is Linux.", "privacy: technical")
PLATFORM_STRING = new_field(
    "platform", 6, "type: string", "max_length: 10", "pattern: ^[a-z]+$", "description: Where.", "privacy: technical"
)
SESSION_CONTEXT = ("context:\n", "context:\n  session_id:\n    source: session_id\n")
APP_CONTEXT = (
    "context:\n",
    "context:\n"
    + new_field(
        "platform",
        2,
        "source: app",
        "type: enum",
        "values: [desktop, web]",
        "privacy: technical",
        "description: Where.",
    ),
)
REQUIRED_APP_CONTEXT = (APP_CONTEXT[0], APP_CONTEXT[1] + "    required: true\n")

S = "app/started"
CASES = [
    Case("event added", [(CMD_RAN, CMD_RAN + NEW_EVENT)], {("event-added", "cmd/failed", None)}),
    Case("event removed", [(CMD_RAN, "")], {("event-removed", "cmd/ran", None)}),
    Case("event renamed", [RENAME], {("event-renamed", "cmd/finished", None)}),
    Case(
        "event renamed and changed",
        [in_cmd_ran("        required: true\n", ""), RENAME],
        {("event-renamed", "cmd/finished", None), ("field-made-optional", "cmd/finished", "ok")},
    ),
    Case(
        "renamed from an event the base never had",
        [(CMD_RAN, CMD_RAN + NEW_EVENT.replace("    since:", "    renamed_from: cmd/crashed\n    since:"))],
        {("event-added", "cmd/failed", None)},
    ),
    Case(
        "event deprecated",
        [in_cmd_ran("    since:", "    deprecated: Use cmd/finished.\n    since:")],
        {("event-deprecated", "cmd/ran", None)},
    ),
    Case(
        "consent lowered: usage to errors",
        [in_cmd_ran("category: usage", "category: errors")],
        {("event-consent-lowered", "cmd/ran", None)},
    ),
    Case(
        "consent raised: errors to usage",
        [],
        {("event-consent-raised", "cmd/ran", None)},
        base_edits=[in_cmd_ran("category: usage", "category: errors")],
    ),
    Case(
        "expiry set",
        [in_cmd_ran("    since:", '    expires: "2030-01-31"\n    since:')],
        {("event-expiry-changed", "cmd/ran", None)},
    ),
    Case(
        "event schema version raised",
        [in_cmd_ran("    since:", "    version: 2\n    since:")],
        {("event-version-changed", "cmd/ran", None)},
    ),
    Case(
        "optional field added",
        [("      ok:\n", CODE_OPTIONAL + "      ok:\n")],
        {("field-added-optional", "cmd/ran", "code")},
    ),
    Case(
        "required field added",
        [("      ok:\n", CODE_REQUIRED + "      ok:\n")],
        {("field-added-required", "cmd/ran", "code")},
    ),
    Case("field removed", [(block("      duration_ms:", "      tags:"), "")], {("field-removed", S, "duration_ms")}),
    Case(
        "field type changed", [in_cmd_ran("type: boolean", "type: integer")], {("field-type-changed", "cmd/ran", "ok")}
    ),
    Case(
        "max_length lowered",
        [in_field("command", "max_length: 32", "max_length: 16")],
        {("field-bound-tightened", S, "command")},
    ),
    Case(
        "max_length raised",
        [in_field("command", "max_length: 32", "max_length: 64")],
        {("field-bound-loosened", S, "command")},
    ),
    Case(
        "min_length added",
        [in_field("command", "max_length: 32", "max_length: 32\n        min_length: 2")],
        {("field-bound-tightened", S, "command")},
    ),
    Case(
        "pattern changed",
        [in_field("command", "pattern: ^[a-z-]+$", "pattern: ^[a-z]+$")],
        {("field-bound-tightened", S, "command")},
    ),
    Case(
        "pattern removed",
        [in_field("command", "pattern: ^[a-z-]+$", "justification: Command names are our own words.")],
        {("field-bound-loosened", S, "command")},
    ),
    Case(
        "minimum raised",
        [in_field("duration_ms", "minimum: 0", "minimum: 10")],
        {("field-bound-tightened", S, "duration_ms")},
    ),
    Case(
        "minimum dropped",
        [in_field("duration_ms", "        minimum: 0\n", "")],
        {("field-bound-loosened", S, "duration_ms")},
    ),
    Case(
        "maximum raised",
        [in_field("duration_ms", "maximum: 60000", "maximum: 90000")],
        {("field-bound-loosened", S, "duration_ms")},
    ),
    Case(
        "integer widened to number",
        [in_field("duration_ms", "type: integer", "type: number")],
        {("field-bound-loosened", S, "duration_ms")},
    ),
    Case(
        "number narrowed to integer",
        [],
        {("field-bound-tightened", S, "duration_ms")},
        base_edits=[in_field("duration_ms", "type: integer", "type: number")],
    ),
    Case(
        "unit changed",
        [in_field("duration_ms", "unit: milliseconds", "unit: seconds")],
        {("field-unit-changed", S, "duration_ms")},
    ),
    Case(
        "enum value added", [("values: [cli, gui]", "values: [cli, gui, tui]")], {("field-enum-value-added", S, "mode")}
    ),
    Case("enum value removed", [("values: [cli, gui]", "values: [cli]")], {("field-enum-value-removed", S, "mode")}),
    Case(
        "enum values swapped",
        [("values: [cli, gui]", "values: [cli, tui]")],
        {("field-enum-value-removed", S, "mode"), ("field-enum-value-added", S, "mode")},
    ),
    Case(
        "optional made required",
        [in_field("command", "privacy: interaction", "privacy: interaction\n        required: true")],
        {("field-made-required", S, "command")},
    ),
    Case(
        "required made optional",
        [in_field("mode", "        required: true\n", "")],
        {("field-made-optional", S, "mode")},
    ),
    Case(
        "privacy raised",
        [in_field("duration_ms", "privacy: technical", "privacy: interaction")],
        {("field-privacy-raised", S, "duration_ms")},
    ),
    Case(
        "privacy lowered",
        [in_field("mode", "privacy: interaction", "privacy: technical")],
        {("field-privacy-lowered", S, "mode")},
    ),
    Case("array max_items lowered", [("max_items: 3", "max_items: 2")], {("field-bound-tightened", S, "tags")}),
    Case(
        "array made unique",
        [("max_items: 3", "max_items: 3\n        unique: true")],
        {("field-bound-tightened", S, "tags")},
    ),
    Case("array item value added", [("values: [a, b]", "values: [a, b, c]")], {("field-enum-value-added", S, "tags")}),
    Case(
        "array item type changed",
        [("          type: enum\n          values: [a, b]\n", "          type: boolean\n")],
        {("field-type-changed", S, "tags")},
    ),
    Case(
        "nested field added",
        [("            privacy: technical\n  cmd/ran:", "            privacy: technical\n" + OS_FIELD + "  cmd/ran:")],
        {("field-added-optional", S, "platform.os")},
    ),
    Case(
        "nested enum value removed",
        [("values: [x86_64, arm64]", "values: [x86_64]")],
        {("field-enum-value-removed", S, "platform.arch")},
    ),
    Case(
        "object became a string",
        [(block("      platform:", "  cmd/ran:"), PLATFORM_STRING)],
        {("field-type-changed", S, "platform")},
    ),
    Case(
        "field renamed without a trace",
        [("      ok:\n", "      succeeded:\n")],
        {("field-removed", "cmd/ran", "ok"), ("field-added-required", "cmd/ran", "succeeded")},
    ),
    Case("context field added", [SESSION_CONTEXT], {("context-field-added", None, "session_id")}),
    Case(
        "context field removed",
        [("context:\n  app_version:\n    source: app_version\n", "")],
        {("context-field-removed", None, "app_version")},
    ),
    Case(
        "context source changed",
        [("    source: app_version\n", "    source: python_version\n")],
        {("context-field-changed", None, "app_version")},
    ),
    Case("optional app context field added", [APP_CONTEXT], {("context-field-added-optional", None, "platform")}),
    Case("required app context field added", [REQUIRED_APP_CONTEXT], {("context-field-added", None, "platform")}),
    Case(
        "app context field loosened",
        [APP_CONTEXT, ("values: [desktop, web]", "values: [desktop, web, tablet]")],
        {("context-field-loosened", None, "platform")},
        [APP_CONTEXT],
    ),
    Case(
        "app context field tightened",
        [REQUIRED_APP_CONTEXT, ("values: [desktop, web]", "values: [desktop]")],
        {("context-field-changed", None, "platform")},
        [APP_CONTEXT],
    ),
    Case(
        "wording only: descriptions, trigger, owner",
        [
            ("The app started; counts active installations.", "The app started; counts installs."),
            in_cmd_ran("trigger: After each command finishes.", "trigger: Right after each command finishes."),
            (
                '    owner: core-team\n    since: "1.0"\n    fields:\n      ok:',
                '    owner: cli-team\n    since: "1.0"\n    fields:\n      ok:',
            ),
        ],
        set(),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_every_change_is_classified(case: Case) -> None:
    base = catalog_from_text(edit(BASE, case.base_edits), "base.yaml")
    new = catalog_from_text(edit(BASE, case.edits))
    changes = compare(base, new)
    assert {(c.kind, c.event, c.field) for c in changes} == case.expected
    for change in changes:  # located in the catalog that has the thing: the base one for removals
        removed = change.kind.endswith("-removed") and change.kind != "field-enum-value-removed"
        assert change.location.file == ("base.yaml" if removed else "events.yaml"), change
        assert change.location.line > 1


def test_the_table_covers_every_kind_of_change() -> None:
    covered = {kind for case in CASES for kind, _, _ in case.expected}
    assert covered == set(KINDS)
    assert len(CASES) >= 30


def test_changes_say_what_moved_and_are_sorted_breaking_first() -> None:
    new = catalog_from_text(
        edit(
            BASE,
            [
                ("max_length: 32", "max_length: 16"),
                ("maximum: 60000", "maximum: 90000"),
                ("values: [a, b]", "values: [a]"),
            ],
        )
    )
    changes = compare(catalog_from_text(BASE), new)
    assert [c.diagnostic().render().split(": ", 1)[1] for c in changes] == [
        "warning CD014: breaking field-bound-tightened: event 'app/started', field 'command': max_length 32 → 16",
        "warning CD017: breaking field-enum-value-removed: event 'app/started', field 'tags': items: value 'b' removed",
        "info CD015: additive field-bound-loosened: event 'app/started', field 'duration_ms': maximum 60000 → 90000",
    ]


def test_identical_catalogs_have_no_changes() -> None:
    assert compare(catalog_from_text(BASE), catalog_from_text(BASE)) == []


def test_the_docs_state_every_kind_with_its_code_and_impact() -> None:
    """docs/evolution.md is where users read the rule; it must match what diff does."""
    text = (REPO / "docs" / "evolution.md").read_text("utf-8")
    rows = re.findall(r"^\| (CD[0-9]{3}) \| `([a-z-]+)` \| (breaking|additive) \|", text, re.M)
    assert {name: (code, impact) for code, name, impact in rows} == {
        name: (kind.code, kind.impact.value) for name, kind in KINDS.items()
    }
    codes = [kind.code for kind in KINDS.values()]
    assert len(set(codes)) == len(codes) and all(re.fullmatch(r"CD[0-9]{3}", code) for code in codes)


def test_the_docs_state_every_version_rule_with_its_code() -> None:
    from telemetry_gen.evolution import versions

    text = (REPO / "docs" / "evolution.md").read_text("utf-8")
    documented = set(re.findall(r"^\| (CV[0-9]{3}) \|", text, re.M))
    rules = {versions.CATALOG_VERSION_DOWN, versions.MISSING_MAJOR, versions.MISSING_MINOR}
    assert documented == rules | {versions.EVENT_VERSION_DOWN, versions.EVENT_VERSION_KEPT}


def test_history_kinds_in_the_format_schema_match_the_diff() -> None:
    from telemetry_gen.catalog.validate import catalog_meta_schema

    listed = catalog_meta_schema()["$defs"]["history_entry"]["properties"]["change"]["enum"]
    assert sorted(listed) == sorted(KINDS)


# --------------------------------------------------------------------------- version rules


def problems(base_edits: list[tuple[str, str]], edits: list[tuple[str, str]]) -> list[str]:
    base = catalog_from_text(edit(BASE, base_edits))
    new = catalog_from_text(edit(BASE, edits))
    return [p.message for p in check_versions(base, new, compare(base, new))]


REMOVE_VALUE = ("values: [cli, gui]", "values: [cli]")
ADD_VALUE = ("values: [cli, gui]", "values: [cli, gui, tui]")
STARTED_V2 = (
    '    since: "1.0"\n    fields:\n      mode:',
    '    since: "1.0"\n    version: 2\n    fields:\n      mode:',
)


def catalog_version(version: str) -> tuple[str, str]:
    return ('version: "1.0"', f'version: "{version}"')


@pytest.mark.parametrize(
    ("edits", "expected"),
    [
        ([], []),
        ([catalog_version("1.1")], []),  # a bump without changes is allowed
        ([ADD_VALUE], ["1 additive change(s) need a minor version bump, but the version is 1.0 → 1.0"]),
        ([ADD_VALUE, catalog_version("1.1")], []),
        ([ADD_VALUE, catalog_version("2.0")], []),
        (
            [REMOVE_VALUE, catalog_version("1.1"), STARTED_V2],
            ["1 breaking change(s) need a major version bump, but the version is 1.0 → 1.1"],
        ),
        (
            [REMOVE_VALUE, catalog_version("2.0")],
            ["event 'app/started': a breaking change to its schema keeps schema version 1"],
        ),
        ([REMOVE_VALUE, catalog_version("2.0"), STARTED_V2], []),
        (
            [SESSION_CONTEXT, catalog_version("2.0"), STARTED_V2],
            ["event 'cmd/ran': a breaking change to the context every event carries keeps schema version 1"],
        ),
        (
            [RENAME, catalog_version("2.0")],
            [],  # a renamed event's schema has a new `$id` anyway
        ),
        (
            [RENAME],
            ["1 breaking change(s) need a major version bump, but the version is 1.0 → 1.0"],
        ),
    ],
)
def test_version_rules(edits: list[tuple[str, str]], expected: list[str]) -> None:
    assert problems([], edits) == expected


def test_versions_never_go_down() -> None:
    assert problems([catalog_version("1.3"), STARTED_V2], [catalog_version("1.2")]) == [
        "the catalog version went down (1.3 → 1.2)",
        "event 'app/started': its version went down (2 → 1)",
    ]


def test_version_problems_are_diagnostics_with_a_code_per_rule() -> None:
    from telemetry_gen.diagnostics import Severity
    from telemetry_gen.evolution import versions

    def found(base_edits: list[tuple[str, str]], edits: list[tuple[str, str]]) -> list[tuple[str, Severity]]:
        base = catalog_from_text(edit(BASE, base_edits))
        new = catalog_from_text(edit(BASE, edits))
        return [(d.code, d.severity) for d in check_versions(base, new, compare(base, new))]

    warning, error = Severity.WARNING, Severity.ERROR
    assert found([catalog_version("1.3"), STARTED_V2], [catalog_version("1.2")]) == [
        (versions.CATALOG_VERSION_DOWN, warning),
        (versions.EVENT_VERSION_DOWN, warning),
    ]
    # Only a breaking change without a major bump fails `diff` without --check-version.
    assert found([], [RENAME]) == [(versions.MISSING_MAJOR, error)]
    assert found([], [ADD_VALUE]) == [(versions.MISSING_MINOR, warning)]
    assert found([], [REMOVE_VALUE, catalog_version("2.0")]) == [(versions.EVENT_VERSION_KEPT, warning)]
    codes = [versions.CATALOG_VERSION_DOWN, versions.MISSING_MAJOR, versions.MISSING_MINOR]
    codes += [versions.EVENT_VERSION_DOWN, versions.EVENT_VERSION_KEPT]
    assert len(set(codes)) == len(codes)
