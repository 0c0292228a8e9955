"""Lints: every lint fires where it should (code, severity, line), is silent on a clean catalog,
and can be suppressed per event with `lint_ignore`."""

from __future__ import annotations

import datetime
import re
import textwrap
from dataclasses import dataclass

import pytest

from conftest import REPO
from telemetry_gen.catalog import load_catalog, parse_catalog
from telemetry_gen.catalog.lint import LINTS, levenshtein, run_lints
from telemetry_gen.catalog.model import Catalog
from telemetry_gen.diagnostics import Diagnostic, Severity

TODAY = datetime.date(2026, 3, 1)
FILE = "events.yaml"

CLEAN_DESCRIPTION = "What the value tells the developers."
MODE_FIELD = """
mode:
  type: enum
  values: [cli, gui]
  description: How the app was started.
  privacy: interaction
  required: true
"""


def field(name: str, **keys: str) -> str:
    """One field's YAML: a clean technical boolean unless keys say otherwise (values are raw YAML)."""
    spec = {"type": "boolean", "description": CLEAN_DESCRIPTION, "privacy": "technical", **keys}
    return "\n".join([f"{name}:", *(f"  {key}: {value}" for key, value in spec.items())])


def obj(name: str, *fields: str, **keys: str) -> str:
    """An object field holding `fields`."""
    spec = {"type": "object", "description": CLEAN_DESCRIPTION, "privacy": "technical", **keys}
    lines = [f"{name}:", *(f"  {key}: {value}" for key, value in spec.items()), "  fields:"]
    return "\n".join(lines + [textwrap.indent(f.strip("\n"), "    ") for f in fields])


def event(name: str, *fields: str, **keys: str) -> str:
    """One event's YAML: clean unless keys (raw YAML values) or fields say otherwise."""
    spec = {
        "description": "The app started; counts active installations.",
        "trigger": "Once per process, after start-up.",
        "category": "usage",
        "owner": "core-team",
        "since": '"1.0"',
        **keys,
    }
    lines = [f"{name}:", *(f"  {key}: {value}" for key, value in spec.items())]
    chosen = fields or (MODE_FIELD,)
    lines += ["  fields:", *(textwrap.indent(f.strip("\n"), "    ") for f in chosen)]
    return "\n".join(lines)


def catalog_text(*events: str, domains: str = "[app, wallet, misc]") -> str:
    header = textwrap.dedent(
        f"""\
        catalog_format: 1
        app:
          name: demo-app
          title: Demo App
          package: demo_app_telemetry
          version: "2.0"
          domains: {domains}
        never_collected:
          - Passwords
        events:
        """
    )
    return header + "\n".join(textwrap.indent(e, "  ") for e in events) + "\n"


def parse(text: str) -> Catalog:
    catalog, diagnostics = parse_catalog(text, FILE)
    assert catalog is not None, "\n".join(d.render() for d in diagnostics)
    assert diagnostics == [], "\n".join(d.render() for d in diagnostics)
    return catalog


def lint(*events: str, today: datetime.date = TODAY, domains: str = "[app, wallet, misc]") -> list[Diagnostic]:
    return run_lints(parse(catalog_text(*events, domains=domains)), today)


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the first line containing `needle`."""
    return next(number for number, line in enumerate(text.splitlines(), 1) if needle in line)


def days(n: int) -> str:
    return f'"{(TODAY + datetime.timedelta(days=n)).isoformat()}"'


BOUNDED_INT = {"type": "integer", "minimum": "0", "maximum": "100"}
HEX_ID = {"type": "string", "max_length": "32", "pattern": "'^[0-9a-f]{32}$'"}

# A catalog exercising every kind of field, written the way the lints want it.
CLEAN_EVENTS = (
    event(
        "app/started",
        MODE_FIELD,
        field("session_key_count", **BOUNDED_INT, justification="Counts keys in the app's own keyring; no values."),
        field("duration_ms", type="number", minimum="0", maximum="60000", unit="milliseconds"),
        field("peak_memory_bytes", type="integer", minimum="0", maximum="1000000000000", unit="bytes"),
        field("run_id", privacy="pseudonymous", **HEX_ID),
        field("retry_total", **BOUNDED_INT, unit="count"),
        field("exchange_error_code", type="string", max_length="64", justification="Codes from the exchange API."),
        field("os_family", type="enum", values="[linux, macos, windows]"),
        field(
            "latency_samples",
            type="array",
            max_items="10",
            items="{type: integer, minimum: 0, maximum: 1000, unit: ms}",
        ),
        field("version_text", type="string", max_length="16", pattern="'^[0-9]+(\\.[0-9]+)*$|^unknown$'"),
        obj(
            "phases",
            field("import_ms", **BOUNDED_INT, unit="ms"),
            field("config_ms", **BOUNDED_INT, unit="ms", since='"2.0"'),
        ),
        since='"1.0"',
        expires="never",
    ),
    event("app/exited", MODE_FIELD, expires=days(365)),
    event("app/old-thing", MODE_FIELD, deprecated="Replaced by app/started.", expires="app:4.0"),
    event("app/paused", MODE_FIELD),
    event("app/resumed", MODE_FIELD),
    event("wallet/opened", field("wallet_kind", type="enum", values="[hot, cold]")),
)


def test_clean_catalog_has_no_findings() -> None:
    assert lint(*CLEAN_EVENTS) == []


@dataclass(frozen=True)
class Case:
    code: str
    events: tuple[str, ...]
    needle: str  # text on the line the finding must point at
    today: datetime.date = TODAY

    def __str__(self) -> str:
        return f"{self.code}:{self.needle}"


def case(code: str, needle: str, *events: str, today: datetime.date = TODAY) -> Case:
    return Case(code, events, needle, today)


CASES = [
    case("LN001", "shop/opened:", event("shop/opened")),
    case("LN002", 'description: "Started."', event("app/started", description='"Started."')),
    case("LN002", 'description: "   "', event("app/started", description='"   "')),
    case("LN002", "description: Mode.", event("app/started", field("mode", description="Mode."))),
    case(
        "LN002", 'description: "Nested."', event("app/started", obj("outer", field("inner", description='"Nested."')))
    ),
    case("LN003", "app/started:", event("app/started", trigger='"On start"')),
    case("LN004", "app/started:", event("app/started", expires='"2026-02-28"')),
    case("LN005", "app/started:", event("app/started", expires=days(0))),
    case("LN005", "app/started:", event("app/started", expires=days(30))),
    case("LN006", "app/started:", event("app/started", expires=days(731))),
    case("LN007", "app/watch-started:", event("app/watch-start"), event("app/watch-started")),
    case("LN007", "app/opnd:", event("app/opened"), event("app/opnd")),
    case("LN007", "retry_counts:", event("app/started", field("retry_count"), field("retry_counts"))),
    case("LN007", "size_kbs:", event("app/started", obj("sizes", field("size_kb"), field("size_kbs")))),
    case(
        "LN007",
        "app/general/change-languages:",
        event("app/general/change-language"),
        event("app/general/change-languages"),
    ),
    case("LN007", "retryCounts:", event("app/started", field("retryCount"), field("retryCounts"))),
    case("LN008", "wallet_key:", event("wallet/created", field("wallet_key", type="enum", values="[a, b]"))),
    case("LN008", "home_dir:", event("app/started", obj("paths_seen", field("home_dir")), MODE_FIELD)),
    case("LN008", "wallet_address:", event("wallet/shown", field("wallet_address"))),
    case("LN008", "first_name:", event("app/started", field("first_name"))),
    case("LN008", "walletAddress:", event("wallet/shown", field("walletAddress"))),
    case(
        "LN009",
        "values: [linux, macos, linux]",
        event("app/started", field("os_family", type="enum", values="[linux, macos, linux]")),
    ),
    case(
        "LN009",
        "values: [a, b, b]",
        event("app/started", field("oses", type="array", max_items="3", items="{type: enum, values: [a, b, b]}")),
    ),
    case("LN010", "retries:", event("app/started", field("retries", type="integer", minimum="0"))),
    case("LN010", "ratio:", event("app/started", field("ratio", type="number"))),
    case(
        "LN010",
        "samples:",
        event("app/started", field("samples", type="array", max_items="3", items="{type: integer, maximum: 9}")),
    ),
    case("LN011", "build:", event("app/started", field("build", type="string", max_length="9", pattern="'[0-9]+'"))),
    case("LN011", "build:", event("app/started", field("build", type="string", max_length="9", pattern="'^[0-9]+'"))),
    case("LN011", "build:", event("app/started", field("build", type="string", max_length="9", pattern="'^a|b$'"))),
    case("LN011", "build:", event("app/started", field("build", type="string", max_length="9", pattern="'^a\\$'"))),
    case(
        "LN012",
        "note:",
        event("app/started", field("note", type="string", max_length="500", justification="Chosen from a list.")),
    ),
    case(
        "LN012",
        "notes:",
        event(
            "app/started",
            field(
                "notes",
                type="array",
                max_items="2",
                items="{type: string, max_length: 201}",
                justification="Chosen from a list.",
            ),
        ),
    ),
    case("LN013", "wait_ms:", event("app/started", field("wait_ms", **BOUNDED_INT))),
    case("LN013", "wait_ms:", event("app/started", field("wait_ms", **BOUNDED_INT, unit="seconds"))),
    case("LN013", "image_mb:", event("app/started", field("image_mb", **BOUNDED_INT, unit="bytes"))),
    case("LN013", "waitMs:", event("app/started", field("waitMs", **BOUNDED_INT))),
    case("LN014", "app/started:", event("app/started", field("tx_size"), field("tx_kind"))),
    case("LN014", "options:", event("app/started", obj("options", field("opt_a"), field("opt_b")), MODE_FIELD)),
    case("LN014", "app/started:", event("app/started", field("txSize"), field("txKind"))),
    case("LN015", "app/started:", event("app/started", deprecated="Use app/launched.")),
    case("LN015", "app/started:", event("app/started", deprecated="Use app/launched.", expires="never")),
    case("LN016", "run_id:", event("app/started", field("run_id", privacy="pseudonymous", type="enum", values="[a]"))),
    case(
        "LN016",
        "run_id:",
        event(
            "app/started", field("run_id", privacy="pseudonymous", type="string", max_length="32", justification="x")
        ),
    ),
    case("LN017", "session_id:", event("app/started", field("session_id", **HEX_ID))),
    case("LN017", "sessionId:", event("app/started", field("sessionId", **HEX_ID))),
    case(
        "LN017",
        "flow_id:",
        event(
            "app/started",
            field("flow_id", type="string", max_length="36", pattern="'^[0-9a-f-]{36}$'", privacy="interaction"),
        ),
    ),
    case("LN018", "app/started:", event("app/started", lint_ignore="[LN999]")),
    case("LN018", "app/started:", event("app/started", lint_ignore="[CF022]")),
    case("LN019", "mode:", event("app/started", field("mode", since='"1.0"'), since='"2.0"')),
    case(
        "LN019",
        "inner:",
        event("app/started", obj("outer", field("inner", since='"1.0"'), since='"2.0"'), since='"1.0"'),
    ),
    case("LN020", "misc/thing:", event("misc/thing")),
    case("LN021", "os_family:", event("app/started", field("os_family", type="enum", values="[Linux, linux]"))),
    case("LN022", "app/started:", event("app/started", lint_ignore="[LN010]")),
    case("LN023", "isEnabled:", event("app/started", field("exit_code"), field("isEnabled"), field("retry_total"))),
    case("LN023", "inner_flag:", event("app/started", field("isEnabled"), obj("options", field("inner_flag")))),
]


@pytest.mark.parametrize("c", CASES, ids=str)
def test_lint_fires(c: Case) -> None:
    text = catalog_text(*c.events)
    diagnostics = run_lints(parse(text), c.today)
    lint = next(lint for lint in LINTS if lint.code == c.code)
    found = [d for d in diagnostics if d.code == c.code]
    assert found, f"{c.code} did not fire; got {[d.render() for d in diagnostics]}"
    assert {d.severity for d in found} == {lint.severity}
    assert line_of(text, c.needle) in {d.location.line for d in found}
    assert all(d.location.file == FILE and d.message and d.hint for d in found)


@pytest.mark.parametrize("c", CASES, ids=str)
def test_lint_ignore_suppresses_exactly_that_code(c: Case) -> None:
    """Adding the code to every event's lint_ignore removes it, and nothing else appears or goes."""
    before = run_lints(parse(catalog_text(*c.events)), c.today)
    ignoring = [_with_ignore(e, c.code) for e in c.events]
    after = run_lints(parse(catalog_text(*ignoring)), c.today)
    assert c.code not in {d.code for d in after}
    expected = {(d.code, d.message) for d in before if d.code != c.code}
    # an event that ignored a code it had no finding for is told so (LN022); LN018/LN022 cases change codes
    got = {(d.code, d.message) for d in after if d.code not in ("LN018", "LN022")}
    assert got == {x for x in expected if x[0] not in ("LN018", "LN022")}


def _with_ignore(event_text: str, code: str) -> str:
    lines = event_text.splitlines()
    existing = next((i for i, line in enumerate(lines) if line.startswith("  lint_ignore:")), None)
    if existing is not None:
        codes = lines[existing].split("[", 1)[1].rstrip("]")
        lines[existing] = f"  lint_ignore: [{codes}, {code}]"
    else:
        lines.insert(1, f"  lint_ignore: [{code}]")
    return "\n".join(lines)


def test_every_lint_has_a_firing_case() -> None:
    assert {c.code for c in CASES} == {lint.code for lint in LINTS}


def test_lint_ignore_is_per_event() -> None:
    unbounded = field("retries", type="integer", minimum="0")
    diagnostics = lint(
        event("app/started", unbounded, field("user_agent"), lint_ignore="[LN010]"),
        event("app/exited", unbounded, field("user_agent")),
    )
    assert sorted((d.code, d.message) for d in diagnostics) == [
        ("LN008", "the name of field 'user_agent' of event 'app/exited' suggests sensitive data ('user')"),
        ("LN008", "the name of field 'user_agent' of event 'app/started' suggests sensitive data ('user')"),
        ("LN010", "field 'retries' of event 'app/exited': no maximum"),
    ]


def test_registry_codes_are_unique_sorted_and_well_formed() -> None:
    codes = [lint.code for lint in LINTS]
    assert codes == sorted(set(codes))
    assert all(re.fullmatch(r"LN[0-9]{3}", code) for code in codes)
    names = [lint.name for lint in LINTS]
    assert len(set(names)) == len(names)
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", name) for name in names)
    assert all(lint.summary and "\n" not in lint.summary for lint in LINTS)


def test_codes_are_stable() -> None:
    """Codes are published and used in lint_ignore: never renumber (append new lints instead)."""
    assert [(lint.code, lint.name, lint.severity) for lint in LINTS][:23] == [
        ("LN001", "unknown-domain", Severity.ERROR),
        ("LN002", "missing-description", Severity.ERROR),
        ("LN003", "missing-trigger", Severity.ERROR),
        ("LN004", "expired", Severity.ERROR),
        ("LN005", "expires-soon", Severity.WARNING),
        ("LN006", "expiry-too-far", Severity.WARNING),
        ("LN007", "names-too-similar", Severity.WARNING),
        ("LN008", "sensitive-looking-name", Severity.ERROR),
        ("LN009", "duplicate-enum-value", Severity.ERROR),
        ("LN010", "unbounded-number", Severity.WARNING),
        ("LN011", "unanchored-pattern", Severity.WARNING),
        ("LN012", "long-free-text", Severity.WARNING),
        ("LN013", "unit-in-name", Severity.WARNING),
        ("LN014", "common-prefix", Severity.WARNING),
        ("LN015", "deprecated-without-expiry", Severity.WARNING),
        ("LN016", "pseudonymous-not-random", Severity.WARNING),
        ("LN017", "id-not-pseudonymous", Severity.WARNING),
        ("LN018", "unknown-lint-code", Severity.WARNING),
        ("LN019", "field-since-before-event", Severity.ERROR),
        ("LN020", "generic-domain", Severity.WARNING),
        ("LN021", "enum-values-differ-by-case", Severity.WARNING),
        ("LN022", "unused-lint-ignore", Severity.WARNING),
        ("LN023", "mixed-name-styles", Severity.WARNING),
    ]


def test_unknown_lint_code_is_reported_and_known_one_is_not() -> None:
    diagnostics = lint(event("app/started", field("n", type="integer"), lint_ignore="[LN010, LN100, XY123]"))
    unknown = sorted(d.message for d in diagnostics if d.code == "LN018")
    assert unknown == [
        "event 'app/started' ignores 'LN100', which is not a lint",
        "event 'app/started' ignores 'XY123', which is not a lint",
    ]
    assert not [d for d in diagnostics if d.code in ("LN010", "LN022")]


@pytest.mark.parametrize(
    ("offset", "codes"),
    [
        (-1, {"LN004"}),
        (0, {"LN005"}),
        (30, {"LN005"}),
        (31, set()),
        (730, set()),
        (731, {"LN006"}),
    ],
)
def test_expiry_lints_follow_today(offset: int, codes: set[str]) -> None:
    assert {d.code for d in lint(event("app/started", expires=days(offset)))} == codes


def test_expiry_lints_use_the_given_day_only() -> None:
    catalog = parse(catalog_text(event("app/started", expires='"2026-06-30"')))
    assert [d.code for d in run_lints(catalog, datetime.date(2026, 7, 1))] == ["LN004"]
    assert [d.code for d in run_lints(catalog, datetime.date(2026, 6, 15))] == ["LN005"]
    assert run_lints(catalog, datetime.date(2025, 6, 15)) == []
    assert [d.code for d in run_lints(catalog, datetime.date(2024, 6, 1))] == ["LN006"]


def test_app_version_expiry_is_not_a_date() -> None:
    assert lint(event("app/started", expires="app:9.0", deprecated="Use app/launched.")) == []


@pytest.mark.parametrize(
    "spec",
    [
        {"justification": "Counts the user's own saved searches; no values."},
        {"type": "enum", "values": "[a, b]", "justification": "Kinds of login screens, not credentials."},
    ],
)
def test_sensitive_looking_name_is_silent_with_a_justification(spec: dict[str, str]) -> None:
    assert lint(event("app/started", field("login_screen", **spec))) == []


@pytest.mark.parametrize("name", ["keyboard_layout", "pathway", "hosted", "ipsum", "userland", "wallet_kind"])
def test_sensitive_words_match_whole_words_only(name: str) -> None:
    assert lint(event("app/started", field(name))) == []


def test_names_too_similar_reports_the_later_name_once() -> None:
    diagnostics = lint(event("app/watch-start"), event("app/watch-started"), event("wallet/watch-starts"))
    assert [d.message for d in diagnostics] == [
        "event 'app/watch-started' has a name very close to event 'app/watch-start'"
    ]


def test_short_field_names_are_not_too_similar() -> None:
    assert lint(event("app/started", field("os"), field("osx"), field("ram"), field("rams"))) == []


def test_substituted_letters_are_deliberate_contrasts() -> None:
    fields = (field("min_wait"), field("max_wait"), field("step1_done"), field("step2_done"))
    events = (event("app/get", *fields), event("app/set"), event("app/imported"), event("app/exported"))
    assert lint(*events) == []


def test_unit_in_name_accepts_spellings_of_the_same_unit() -> None:
    fields = [
        field("wait_ms", **BOUNDED_INT, unit="milliseconds"),
        field("wait_seconds", **BOUNDED_INT, unit="s"),
        field("size_kib", **BOUNDED_INT, unit="KiB"),
        field("wait_min", **BOUNDED_INT),  # `min` is ambiguous (minimum), not taken for minutes
    ]
    assert lint(event("app/started", *fields)) == []


def test_common_prefix_needs_two_words_in_every_name() -> None:
    assert lint(event("app/started", field("tx"), field("tx_kind"))) == []


def test_field_since_after_event_is_fine() -> None:
    assert lint(event("app/started", field("mode", since='"2.0"'), since='"1.0"')) == []


def test_levenshtein() -> None:
    assert levenshtein("watch-start", "watch-started") == 2
    assert levenshtein("", "abc") == 3
    assert levenshtein("kitten", "sitting") == 3
    assert levenshtein("same", "same") == 0


def test_findings_are_sorted_and_deterministic() -> None:
    events = (
        event("misc/thing", field("retries", type="integer"), field("user_id", **HEX_ID)),
        event("app/started", field("wait_ms", type="integer"), expires=days(5)),
    )
    first = lint(*events)
    assert first == lint(*events)
    keys = [d.sort_key() for d in first]
    assert keys == sorted(keys)
    assert len(first) >= 5


def test_the_example_catalog_has_no_lint_errors() -> None:
    """events.yaml is built in CI; it must not fail on a lint error."""
    catalog, diagnostics = load_catalog(REPO / "events.yaml")
    assert catalog is not None, "\n".join(d.render() for d in diagnostics)
    errors = [d for d in run_lints(catalog, TODAY) if d.severity is Severity.ERROR]
    assert errors == [], "\n".join(d.render() for d in errors)
