"""Malformed catalogs: every problem is reported with file, line, column and a hint; nothing is written.

The corpus lives in `tests/fixtures/malformed/`, one catalog per file. Each file opens with
comment lines that say what it must produce:

    # expect: CF010 line 14            an error with this code on this line (repeat for several)
    # expect: CF010 line 14 column 9   the same, at this column
    # expect: LN018 line 14 warning    the same, for a warning (only useful with --fatal-warnings)
    # exact                            no error other than the expected ones may be reported
    # args: --fatal-warnings           extra arguments for `telemetry-gen build`
    # xfail: <reason>                  a known toolkit bug: the case is a strict xfail
"""

from __future__ import annotations

import copy
import random
import re
import shutil
import subprocess
import sys
import textwrap
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import pydantic
import pytest
import yaml
from browser import chromium
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from selenium.webdriver.remote.webdriver import WebDriver

from conftest import FIXTURES, MINIMAL_CATALOG, REPO, run_cli
from telemetry_gen.catalog import parse_catalog
from telemetry_gen.catalog.patterns import portability_problems, python_pattern

MALFORMED = FIXTURES / "malformed"

DIRECTIVE = re.compile(r"^# (?P<name>expect|exact|args|xfail)(?::\s*(?P<value>.*))?$")
EXPECTATION = re.compile(
    r"^(?P<code>[A-Z]{2}[0-9]{3}) line (?P<line>[0-9]+)(?: column (?P<column>[0-9]+))?"
    r"(?: (?P<severity>error|warning))?$"
)
DIAGNOSTIC = re.compile(
    r"^(?P<file>\S.*?):(?P<line>[0-9]+):(?P<column>[0-9]+): (?P<severity>error|warning) "
    r"(?P<code>[A-Z]{2}[0-9]{3}): (?P<message>.*)$"
)
HINT = re.compile(r"^    hint: \S")


@dataclass(frozen=True)
class Expected:
    code: str
    line: int
    column: int | None  # None: any column
    severity: str

    def __str__(self) -> str:
        column = "<col>" if self.column is None else self.column
        return f":{self.line}:{column}: {self.severity} {self.code}:"

    def matches(self, reported: Reported) -> bool:
        return (reported.code, reported.line, reported.severity) == (self.code, self.line, self.severity) and (
            self.column is None or reported.column == self.column
        )


@dataclass(frozen=True)
class Case:
    path: Path
    expected: tuple[Expected, ...]
    exact: bool
    args: tuple[str, ...]
    xfail: str | None


def _parse_case(path: Path) -> Case:
    # Bytes decoded leniently: one fixture is deliberately not UTF-8 (its header is ASCII).
    lines = path.read_bytes().decode("utf-8", errors="replace").splitlines()
    expected: list[Expected] = []
    exact, args, xfail = False, (), None
    for line in lines:
        match = DIRECTIVE.match(line)
        if match is None:
            break
        value = match["value"] or ""
        if match["name"] == "expect":
            found = EXPECTATION.match(value)
            assert found, f"{path.name}: malformed expectation {line!r}"
            column = int(found["column"]) if found["column"] else None
            expected.append(Expected(found["code"], int(found["line"]), column, found["severity"] or "error"))
        elif match["name"] == "exact":
            exact = True
        elif match["name"] == "args":
            args = tuple(value.split())
        else:
            xfail = value
    assert expected, f"{path.name}: the first line must be `# expect: CODE line N`"
    return Case(path, tuple(expected), exact, args, xfail)


CASES = [_parse_case(path) for path in sorted(MALFORMED.glob("*.yaml"))]


def _params() -> list[object]:
    return [
        pytest.param(
            case,
            id=case.path.stem,
            marks=[pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else [],
        )
        for case in CASES
    ]


@dataclass(frozen=True)
class Reported:
    file: str
    line: int
    column: int
    severity: str
    code: str
    message: str
    hint: str | None


def parse_output(output: str) -> list[Reported]:
    """Every diagnostic in the CLI's output, with the hint line that follows it (if any)."""
    lines = output.splitlines()
    reported = []
    for index, line in enumerate(lines):
        match = DIAGNOSTIC.match(line)
        if match is None:
            continue
        following = lines[index + 1] if index + 1 < len(lines) else ""
        hint = following.removeprefix("    hint: ") if HINT.match(following) else None
        reported.append(
            Reported(
                match["file"],
                int(match["line"]),
                int(match["column"]),
                match["severity"],
                match["code"],
                match["message"],
                hint,
            )
        )
    return reported


def _files(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `root` with its content and modification time."""
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def build(catalog: Path, out: Path, *args: str) -> tuple[int, str, list[Reported]]:
    """`telemetry-gen build CATALOG --out OUT ARGS` in-process; a crash fails the test in one line."""
    crash = None
    try:
        code, output = run_cli("build", str(catalog), "--out", str(out), *args)
    except Exception as exc:  # a bug in telemetry-gen: the user would get "internal error", exit 3
        crash = f"telemetry-gen crashed on {catalog.name}: {exc!r}"[:500]
    if crash is not None:
        pytest.fail(crash, pytrace=False)  # outside `except`: no 1000-frame RecursionError report
    return code, output, parse_output(output)


# --------------------------------------------------------------------------- the corpus


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 35
    assert sum(len(case.expected) for case in CASES) >= 60


@pytest.mark.parametrize("case", _params())
def test_malformed_catalog_fails_with_located_diagnostics(case: Case, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, output, reported = build(case.path, out, *case.args)

    assert "Traceback" not in output
    assert code == 1, output
    assert reported, output
    for diagnostic in reported:
        assert diagnostic.file.endswith(case.path.name), output
        assert diagnostic.line >= 1 and diagnostic.column >= 1, output
    for expected in case.expected:
        assert any(expected.matches(d) for d in reported), f"expected `{expected}` in:\n{output}"
    for diagnostic in reported:
        assert diagnostic.hint, f"no hint after {diagnostic.code} at line {diagnostic.line}:\n{output}"
    if case.exact:
        errors = Counter((d.code, d.line) for d in reported if d.severity == "error")
        wanted_errors = Counter((e.code, e.line) for e in case.expected if e.severity == "error")
        assert errors == wanted_errors, output
    assert not out.exists(), "a failed build wrote its output folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "a failed build left files beside --out"


def test_diagnostics_are_sorted_by_position_in_every_fixture(tmp_path: Path) -> None:
    for case in CASES:
        if case.xfail:
            continue
        _, output, reported = build(case.path, tmp_path / "out", *case.args)
        positions = [(d.line, d.column) for d in reported]
        assert positions == sorted(positions), f"{case.path.name}:\n{output}"


# --------------------------------------------------------------------------- the real command


def test_console_script_reports_location_without_traceback(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "telemetry-gen"
    shutil.copy(MALFORMED / "unknown-key-field-maxlength.yaml", tmp_path / "events.yaml")
    result = subprocess.run(
        [str(script), "build", "events.yaml", "--out", "out"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert re.search(r"^events\.yaml:25:9: error CF010: unknown key 'maxlength'", result.stderr, re.MULTILINE)
    assert re.search(r"^events\.yaml:22:9: error CF011: ", result.stderr, re.MULTILINE)
    assert "    hint: did you mean 'max_length'?" in result.stderr
    assert result.stderr.rstrip().endswith("2 error(s), 0 warning(s)")
    assert not (tmp_path / "out").exists()


def test_a_toolkit_crash_is_reported_without_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The safety net in `main()`: even a bug in telemetry-gen shows no traceback (exit 3)."""
    from telemetry_gen import build, cli

    def explode(*args: object, **kwargs: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(build, "check_catalog", explode)
    monkeypatch.setattr(sys, "argv", ["telemetry-gen", "build", str(MALFORMED / "bad-category.yaml")])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 3
    captured = capsys.readouterr()
    assert "internal error" in captured.err and "RuntimeError" in captured.err
    assert "Traceback" not in captured.err + captured.out


# --------------------------------------------------------------------------- all errors at once


def _write(tmp_path: Path, text: str, name: str = "events.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


_EVENT = """\
    description: The app started; counts active installations.
    trigger: Once per process, after start-up.
    category: usage
    owner: core-team
    since: "1.0"
"""

# Independent problems in each stage: (catalog, [(code, line)]) — all must come out in one run.
MANY_FORMAT_ERRORS = (
    """\
catalog_format: 1
app:
  name: demo-app
  title: Demo App
  package: demo_app_telemetry
  version: 1.10
  domains: [app]
  homepage: https://demo.example
never_collected:
  - Passwords
events:
  app/started:
    description: The app started; counts active installations.
    trigger: Once per process, after start-up.
    category: usage-data
    owner: core-team
    since: "1.0"
    fields:
      mode:
        type: enum
        values: [on, cli]
        description: How the app was started.
        privacy: secret
      locale:
        type: string
        description: The UI language.
        privacy: technical
        maxlength: 5
        pattern: ^[a-z]{2}$
""",
    [
        ("CF012", 6),
        ("CF010", 8),
        ("CF013", 15),
        ("CF012", 21),
        ("CF013", 23),
        ("CF011", 25),
        ("CF010", 28),
    ],
)

MANY_MODEL_ERRORS = (
    """\
catalog_format: 1
app:
  name: demo-app
  title: Demo App
  package: demo_app_telemetry
  version: "1.0"
  domains: [app]
never_collected:
  - Passwords
events:
  app/started:
    description: The app started; counts active installations.
    trigger: Once per process, after start-up.
    category: usage
    owner: core-team
    since: "1.2"
    expires: 2027-02-30
    fields:
      email:
        type: string
        description: The address the user signed up with.
        privacy: sensitive
        max_length: 254
        pattern: ^[^@]+@[^@]+$
      error_kind:
        type: string
        description: The kind of error that stopped the start-up.
        privacy: technical
        max_length: 40
      retries:
        type: integer
        description: Connection retries before giving up.
        privacy: technical
        minimum: 10
        maximum: 1
  Bad Name:
    description: An event with a name that is not domain/action.
    trigger: Never, it is only here to be rejected.
    category: usage
    owner: core-team
    since: "1.0"
""",
    [
        ("CF027", 16),
        ("CF029", 17),
        ("LN008", 19),
        ("CF022", 22),
        ("CF023", 25),
        ("CF025", 34),
        ("CF020", 36),
    ],
)

MANY_LINT_ERRORS = (
    """\
catalog_format: 1
app:
  name: demo-app
  title: Demo App
  package: demo_app_telemetry
  version: "1.0"
  domains: [app]
never_collected:
  - Passwords
events:
  app/started:
    description: Short.
    trigger: Once per process, after start-up.
    category: usage
    owner: core-team
    since: "1.0"
    fields:
      wallet_address:
        type: string
        description: The wallet the user connected.
        privacy: interaction
        max_length: 64
        pattern: ^[0-9a-zA-Z]{26,64}$
  wallet/opened:
    description: The user opened the wallet view.
    trigger: When the wallet view is shown.
    category: usage
    owner: core-team
    since: "1.0"
""",
    [
        ("LN002", 12),
        ("LN008", 18),
        ("LN001", 24),
    ],
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [MANY_FORMAT_ERRORS, MANY_MODEL_ERRORS, MANY_LINT_ERRORS],
    ids=["format", "model", "lint"],
)
def test_every_independent_error_is_reported_in_one_run_sorted_by_line(
    tmp_path: Path, text: str, expected: list[tuple[str, int]]
) -> None:
    catalog = _write(tmp_path, text)
    code, output, reported = build(catalog, tmp_path / "out")
    assert code == 1
    errors = [(d.code, d.line) for d in reported if d.severity == "error"]
    assert errors == expected, output
    assert [d.line for d in reported] == sorted(d.line for d in reported)
    assert f"{len(expected)} error(s)" in output
    assert not (tmp_path / "out").exists()


def test_duplicate_keys_are_all_reported_not_just_the_first(tmp_path: Path) -> None:
    code, _, reported = build(MALFORMED / "duplicate-keys-everywhere.yaml", tmp_path / "out")
    assert code == 1
    assert [(d.code, d.line) for d in reported] == [("CF002", 8), ("CF002", 19), ("CF002", 22)]
    assert "first defined at line 6" in reported[0].message


# Valid catalogs, damaged at random places: values replaced, keys deleted or added, list items added.
VALID_DATA = [yaml.safe_load(MINIMAL_CATALOG), yaml.safe_load((REPO / "events.yaml").read_text("utf-8"))]
SCALARS = st.one_of(
    st.sampled_from([True, 0, -1, 1.5, "", "x", None, "string", "enum", "object", "array", "usage", "1.0", "app/x"]),
    st.text(max_size=5),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["type", "a", "max_length", "values", "fields", "items", "privacy"]), inner)
    ),
    max_leaves=6,
)


def _places(data: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    places = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            places += _places(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            places += _places(value, (*path, index))
    return places


def _at(data: Any, path: tuple[object, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


@st.composite
def damaged_catalogs(draw: st.DrawFn) -> str:
    data = copy.deepcopy(draw(st.sampled_from(VALID_DATA)))
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(_places(data)))
        target = _at(data, path)
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace" and path:
            _at(data, path[:-1])[path[-1]] = draw(VALUES)
        elif action == "delete" and path:
            del _at(data, path[:-1])[path[-1]]
        elif action == "add" and isinstance(target, dict):
            target[draw(st.sampled_from(["type", "fields", "since", "values", "package"]) | st.text(max_size=4))] = (
                draw(VALUES)
            )
        elif action == "add" and isinstance(target, list):
            target.append(draw(VALUES))
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@settings(deadline=None, database=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_catalogs())
def test_a_catalog_damaged_anywhere_is_checked_as_far_as_it_can_be_read(text: str) -> None:
    """Later stages run on what earlier problems leave readable: they must not trip over the rest."""
    catalog, diagnostics = parse_catalog(text, "events.yaml")
    assert catalog is not None or any(d.severity.value == "error" for d in diagnostics)
    assert all(d.location.line >= 1 and d.hint for d in diagnostics)


# --------------------------------------------------------------------------- output left alone


BROKEN_VARIANTS = {
    "yaml-syntax": ('  version: "1.0"\n', '  version: "1.0\n'),
    "unknown-key": ("    owner: core-team\n", "    owner: core-team\n    owners: [core-team]\n"),
    "sensitive-field": ("        privacy: interaction\n", "        privacy: sensitive\n"),
    "unknown-domain": ("  app/started:\n", "  wallet/started:\n"),
}


@pytest.mark.parametrize("variant", sorted(BROKEN_VARIANTS))
def test_failed_build_leaves_previous_output_byte_for_byte(tmp_path: Path, variant: str) -> None:
    catalog = _write(tmp_path, MINIMAL_CATALOG)
    out = tmp_path / "generated"
    code, output = run_cli("build", str(catalog), "--out", str(out))
    assert code == 0, output
    before = _files(out)
    assert len(before) > 3

    old, new = BROKEN_VARIANTS[variant]
    assert old in MINIMAL_CATALOG
    catalog.write_text(MINIMAL_CATALOG.replace(old, new, 1), encoding="utf-8")
    code, output, reported = build(catalog, out)
    assert code == 1, output
    assert any(d.severity == "error" for d in reported), output
    assert _files(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.yaml", "generated"]

    code, output = run_cli("build", str(catalog), "--out", str(out), "--check")
    assert code == 1, output
    assert _files(out) == before


def test_missing_catalog_file_is_a_located_error(tmp_path: Path) -> None:
    code, output, reported = build(tmp_path / "nope.yaml", tmp_path / "out")
    assert code == 2  # a usage error, in every command
    assert [(d.code, d.line, d.column) for d in reported] == [("CF000", 1, 1)]
    assert reported[0].hint
    assert "Traceback" not in output


# --------------------------------------------------------------------------- what the messages say


def _only(case: str, code: str, tmp_path: Path) -> Reported:
    _, output, reported = build(MALFORMED / case, tmp_path / "out")
    matching = [d for d in reported if d.code == code]
    assert matching, output
    return matching[0]


def test_typo_of_a_key_suggests_the_right_one(tmp_path: Path) -> None:
    diagnostic = _only("unknown-key-field-maxlength.yaml", "CF010", tmp_path)
    assert "unknown key 'maxlength'" in diagnostic.message
    assert "field 'locale' of event 'app/started'" in diagnostic.message
    assert diagnostic.hint is not None and diagnostic.hint.startswith("did you mean 'max_length'?")


def test_typo_at_top_level_and_in_context_suggests_the_right_key(tmp_path: Path) -> None:
    top = _only("unknown-key-top-level.yaml", "CF010", tmp_path)
    assert top.hint is not None and "did you mean 'events'?" in top.hint
    context = _only("unknown-key-context.yaml", "CF010", tmp_path)
    assert context.hint is not None and "did you mean 'source'?" in context.hint


def test_unquoted_version_hint_says_to_quote_it(tmp_path: Path) -> None:
    diagnostic = _only("version-unquoted-float.yaml", "CF012", tmp_path)
    assert "`app.version` must be a string" in diagnostic.message
    assert diagnostic.hint is not None and diagnostic.hint.startswith("quote it")
    assert '"3.10"' in diagnostic.hint


def test_on_off_enum_values_hint_says_yaml_reads_booleans(tmp_path: Path) -> None:
    diagnostic = _only("enum-values-on-off.yaml", "CF012", tmp_path)
    assert diagnostic.hint is not None and "quote it" in diagnostic.hint and "booleans" in diagnostic.hint


def test_sensitive_class_hint_points_to_never_collected(tmp_path: Path) -> None:
    diagnostic = _only("sensitive-privacy-class.yaml", "CF022", tmp_path)
    assert "field 'email'" in diagnostic.message and "sensitive" in diagnostic.message
    assert diagnostic.hint is not None and "never_collected" in diagnostic.hint


def test_free_text_hint_offers_pattern_or_justification(tmp_path: Path) -> None:
    diagnostic = _only("free-text-without-justification.yaml", "CF023", tmp_path)
    assert diagnostic.hint is not None and "pattern:" in diagnostic.hint and "justification:" in diagnostic.hint


def test_bad_category_suggests_the_closest_value(tmp_path: Path) -> None:
    diagnostic = _only("bad-category.yaml", "CF013", tmp_path)
    assert "'usage-data'" in diagnostic.message
    assert diagnostic.hint is not None and "did you mean 'usage'?" in diagnostic.hint


def test_name_collision_names_both_events_and_the_function(tmp_path: Path) -> None:
    diagnostic = _only("function-name-collision.yaml", "CF021", tmp_path)
    assert "'app/b-c'" in diagnostic.message and "'app-b/c'" in diagnostic.message
    assert "app_b_c()" in diagnostic.message


def test_unknown_domain_hint_lists_the_allowed_domains(tmp_path: Path) -> None:
    diagnostic = _only("unknown-domain.yaml", "LN001", tmp_path)
    assert "'wallet'" in diagnostic.message
    assert diagnostic.hint is not None and "app.domains" in diagnostic.hint


def test_duplicate_key_names_the_first_definition(tmp_path: Path) -> None:
    diagnostic = _only("duplicate-key-in-event.yaml", "CF002", tmp_path)
    assert "duplicate key 'owner' (first defined at line 16)" in diagnostic.message


def test_integer_version_hint_says_to_quote_it(tmp_path: Path) -> None:
    _, output, reported = build(MALFORMED / "since-unquoted.yaml", tmp_path / "out")
    integer = [d for d in reported if d.line == 25]
    assert integer, output
    assert integer[0].hint is not None and "quote" in integer[0].hint


def test_non_scalar_key_message_shows_the_key_as_written(tmp_path: Path) -> None:
    catalog = _write(tmp_path, MINIMAL_CATALOG + "? [a, b]\n: 1\n")
    code, _, reported = build(catalog, tmp_path / "out")
    assert code == 1
    assert [d.code for d in reported] == ["CF003"]
    assert "ScalarNode" not in reported[0].message


def test_yaml_syntax_message_reads_in_order(tmp_path: Path) -> None:
    diagnostic = _only("yaml-unclosed-quote.yaml", "CF001", tmp_path)
    assert "while parsing a block mapping, did not find expected key" in diagnostic.message


def test_a_second_document_is_named_as_such(tmp_path: Path) -> None:
    diagnostic = _only("yaml-two-documents.yaml", "CF001", tmp_path)
    assert "second YAML document" in diagnostic.message
    assert diagnostic.hint is not None and "---" in diagnostic.hint


def test_quoted_catalog_format_hint_says_to_unquote(tmp_path: Path) -> None:
    catalog = _write(tmp_path, MINIMAL_CATALOG.replace("catalog_format: 1", 'catalog_format: "1"'))
    code, _, reported = build(catalog, tmp_path / "out")
    assert code == 1
    assert [d.code for d in reported] == ["CF013"]
    assert reported[0].hint is not None and "did you mean '1'" not in reported[0].hint


@pytest.mark.parametrize(
    ("written", "line", "column"),
    [('version: "1.0"', 6, 12), ('since: "1.0"', 16, 12)],
)
def test_a_version_with_a_trailing_newline_is_refused(tmp_path: Path, written: str, line: int, column: int) -> None:
    """The format's patterns are ECMA-262, as in the schemas: `$` is the very end of the text."""
    catalog = _write(tmp_path, MINIMAL_CATALOG.replace(written, written.replace('"1.0"', '"1.0\\n"')))
    code, output, reported = build(catalog, tmp_path / "out")
    assert code == 1, output
    assert [(d.code, d.line, d.column) for d in reported] == [("CF013", line, column)], output
    assert "'1.0\\n' is not valid as" in reported[0].message, output
    assert reported[0].hint is not None and 'e.g. "3.1"' in reported[0].hint, output


def test_a_too_long_value_says_how_long_it_may_be(tmp_path: Path) -> None:
    catalog = _write(tmp_path, MINIMAL_CATALOG.replace("title: Demo App", f"title: {'Demo App ' * 13}"))
    code, output, reported = build(catalog, tmp_path / "out")
    assert code == 1, output
    assert [(d.code, d.line, d.column) for d in reported] == [("CF013", 4, 10)], output
    assert reported[0].message == "`app.title` is longer than 100 characters", output
    assert reported[0].hint == "shorten it to at most 100 characters", output


def test_a_too_long_field_name_is_an_error_at_the_name(tmp_path: Path) -> None:
    name = "mode" + "x" * 61
    catalog = _write(tmp_path, MINIMAL_CATALOG.replace("      mode:", f"      {name}:"))
    code, output, reported = build(catalog, tmp_path / "out")
    assert code == 1, output
    assert [(d.code, d.line, d.column) for d in reported] == [("CF013", 18, 7)], output
    assert reported[0].message == f"{name!r} is not a valid name in fields of event 'app/started'", output
    assert reported[0].hint == "shorten it to at most 64 characters", output


# --------------------------------------------------------------------------- patterns: one meaning everywhere

PATTERN_FIELD = """\
    fields:
      code:
        type: string
        description: A code the app picks from its own list.
        privacy: technical
        max_length: 12
        pattern: {pattern}
"""


def _pattern_diagnostics(pattern: str) -> list[Any]:
    """The errors of the minimal catalog with one string field of `pattern`, written in single quotes."""
    text = MINIMAL_CATALOG.replace(
        "    fields:\n", PATTERN_FIELD.format(pattern=yaml.safe_dump(pattern).split("\n")[0])
    )
    assert text.count("pattern:") == 1
    _, diagnostics = parse_catalog(text, "events.yaml")
    return [d for d in diagnostics if d.severity.value == "error"]


# Each construct whose meaning differs, in a pattern that is otherwise fine.
UNPORTABLE = {
    "\\d": "^\\d{3}$",
    "\\D": "^\\D$",
    "\\w": "^\\w+$",
    "\\W": "^\\W$",
    "\\s": "^a\\sb$",
    "\\S": "^\\S+$",
    "\\b": "^\\ba$",
    "\\B": "^a\\B$",
    "\\A": "\\Aa$",
    "\\Z": "^a\\Z",
    "\\z": "^a\\z",
    "(?P": "^(?P<name>a)$",
    "(?i": "^(?i:a)$",
    "(?s)": "(?s)^a$",
    "*+": "^a*+$",
    "++": "^a++$",
    "(?>": "^(?>a)$",
    "(?=": "^(?=a)a$",
    "(?!": "^(?!b)a$",
    "(?<=": "^a(?<=a)$",
    "(?<": "^(?<name>a)$",
    "(?#": "^a(?#note)$",
    ".": "^a.$",
    "\\1": "^(a)\\1$",
    "\\0": "^\\0$",
    "\\p": "^\\p{L}$",
    "\\u{": "^\\u{61}$",
    "\\uD83D": "^\\uD83D$",
    "😀": "^😀+$",
    "\\-": "^a\\-b$",
    "\\<": "^\\<a$",
    "{": "^a{$",
    "{,2}": "^a{,2}$",
    "}": "^a}$",
    "]": "^a]$",
    "[]": "^[]a]$",
    "&&": "^[a&&b]$",
    "[[": "^[[a]$",
}


@pytest.mark.parametrize("pattern", UNPORTABLE.values(), ids=UNPORTABLE.keys())
def test_a_pattern_read_differently_by_the_engines_is_an_error_at_its_value(pattern: str) -> None:
    errors = _pattern_diagnostics(pattern)
    assert [d.code for d in errors] == ["CF033"], errors
    # The pattern's value: on the sixth line after `fields:`, after `        pattern: `.
    fields_line = MINIMAL_CATALOG.splitlines().index("    fields:") + 1
    assert (errors[0].location.line, errors[0].location.column) == (fields_line + 6, 18)
    assert errors[0].hint


def test_an_unportable_pattern_hint_says_what_to_write_instead(tmp_path: Path) -> None:
    _, output, reported = build(MALFORMED / "unportable-patterns.yaml", tmp_path / "out")
    hints = {d.message.split("the pattern's ")[1].split(" ")[0]: d.hint for d in reported if d.code == "CF033"}
    assert hints["\\d"] == "write [0-9] for \\d", output
    assert hints["\\w"] == "write [A-Za-z0-9_] for \\w", output
    assert hints["\\Z"] is not None and hints["\\Z"].startswith("write $ for \\Z"), output


def test_a_repetition_python_cannot_count_is_an_error_not_a_crash() -> None:
    errors = _pattern_diagnostics("^[0-9]{99999999999}$")
    assert [d.code for d in errors] == ["CF024"], errors
    assert "repetition number is too large" in errors[0].message


# Where the engines part for each construct the checker refuses: (construct, pattern, subject).
WITNESSES = [
    ("\\d", "^\\d$", "٣"),
    ("\\D", "^\\D$", "٣"),
    ("\\w", "^\\w$", "é"),
    ("\\W", "^\\W$", "é"),
    ("\\s", "^\\s$", "\ufeff"),
    ("\\S", "^\\S$", "\x1c"),
    ("\\b", "é\\b", "é"),
    ("\\B", "é\\B", "é"),
    ("\\A", "\\Aa", "a"),
    ("\\Z", "a\\Z", "a"),
    ("\\z", "a\\z", "az"),
    ("(?P", "^(?P<name>a)$", "a"),
    ("(?i", "(?i)^a$", "A"),
    ("😀", "^😀?$", ""),
    ("*+", "^a*+$", "a"),
    ("(?>", "^(?>a)$", "a"),
    ("(?=", "^(?=a)a$", "a"),
    ("(?<=", "^a(?<=a)$", "a"),
    ("(?<", "^(?<name>a)$", "a"),
    ("(?#", "^a(?#note)$", "a"),
    (".", "^a.$", "a\r"),
    ("\\1", "^(a)?b\\1$", "b"),
    ("\\0", "^\\01$", "\x01"),
    ("\\p{L}", "^\\p{L}$", "a"),
    ("\\u{61}", "^\\u{61}$", "a"),
    ("\\uD83D", "^\\uD83D\\uDE00$", "😀"),
    ("\\-", "^\\-$", "-"),
    ("{", "^a{$", "a{"),
    ("{,2}", "^a{,2}$", "a"),
    ("]", "^a]$", "a]"),
    ("]", "^[]a]$", "a"),
    ("&&", "^[a&&b]$", "&"),
    ("[", "^[[a]$", "["),
    ("\\b", "^[\\b]$", "\x08"),
]

# Pieces the generated patterns are made of: literals (ASCII, accented, astral, line breaks), every
# construct the checker accepts, and refused or broken ones (which the checker or Python refuses).
PATTERN_PIECES = [
    *["a", "b", "z", "0", "9", "-", "_", " ", "/", "é", "٣", "😀", "\t", "\u2028", "\ufeff"],
    *["^", "$", "|", "(", ")", "(?:", "*", "+", "?", "*?", "{2}", "{1,3}", "{0,}", "[", "]", "[^", "{", "}", "\\"],
    *["[a-z]", "[^a]", "[0-9_]", "[\\-a]", "[a-]", "[^\\]]", "[$^]", "[\\u00e0-\\u00ff]", "[\\x00-\\x1f]"],
    *["\\x41", "\\u00e9", "\\-", "\\.", "\\/", "\\$", "\\^", "\\[", "\\]", "\\{", "\\|", "\\n", "\\t", "\\v", "\\f"],
    *["\\d", "\\w", "\\s", "\\b", "\\Z", "\\A", ".", "{,2}", "(?=", "(?i)", "[]", "\\u{41}", "\\1", "\\0"],
]
PATTERN_SUBJECTS = [
    *["", "a", "b", "ab", "aa", "aaa", "z0", "-", "_", " ", "/", "$", "^", "\\", "A", "é", "à", "٣", "😀", "😀😀"],
    *["a\n", "\na", "ab\n", "a\r\n", "\r", "\t", "\u2028", "\ufeff", "\x1c", "\x08", "{", "}", "[]", "a b", "a-b"],
]
NARROW_SUBJECTS = [i for i, subject in enumerate(PATTERN_SUBJECTS) if all(ord(c) <= 0xFFFF for c in subject)]


def _generated_patterns() -> list[str]:
    """A fixed set of patterns made of `PATTERN_PIECES`: those the checker accepts and Python compiles."""
    pieces = random.Random(15)
    accepted: list[str] = []
    while len(accepted) < 1500:
        pattern = "".join(pieces.choice(PATTERN_PIECES) for _ in range(pieces.randint(1, 6)))
        if portability_problems(pattern):
            continue
        try:
            re.compile(pattern)
        except re.error:
            continue
        accepted.append(pattern)
    return accepted


Verdicts = list[bool] | None  # per subject; None: the engine refuses the pattern


def _ecma_verdicts(driver: WebDriver, patterns: list[str], subjects: list[str]) -> list[tuple[Verdicts, Verdicts]]:
    """Chromium's RegExp on every subject: with the `u` flag (as JSON Schema reads patterns), and without flags."""
    result = driver.execute_script(
        "var subjects = arguments[1];"
        "function verdicts(pattern, flags) {"
        "  try { var regex = new RegExp(pattern, flags); } catch (error) { return null; }"
        "  return subjects.map(function (subject) { return regex.test(subject); });"
        "}"
        "return arguments[0].map(function (pattern) { return [verdicts(pattern, 'u'), verdicts(pattern, '')]; });",
        patterns,
        subjects,
    )
    assert isinstance(result, list) and len(result) == len(patterns)
    return [(unicode, plain) for unicode, plain in result]


def _python_verdicts(pattern: str, subjects: list[str]) -> Verdicts:
    """Python's `re` as the generated checks use it (`$` read as the very end)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # "possible nested set": the witness for [[
            regex = re.compile(python_pattern(pattern))
    except re.error:
        return None
    return [regex.search(subject) is not None for subject in subjects]


def _pydantic_verdicts(pattern: str, subjects: list[str]) -> Verdicts:
    """pydantic's `pattern` constraint, as the consumer models check it."""
    try:
        model = pydantic.TypeAdapter(Annotated[str, pydantic.Field(pattern=pattern)])
    except pydantic.PydanticSchemaGenerationError:
        return None
    except Exception as exc:  # pydantic-core's SchemaError for a pattern its engine cannot compile
        assert type(exc).__name__ == "SchemaError", exc
        return None
    verdicts = []
    for subject in subjects:
        try:
            model.validate_python(subject)
        except pydantic.ValidationError:
            verdicts.append(False)
        else:
            verdicts.append(True)
    return verdicts


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        yield driver


def test_every_accepted_pattern_means_the_same_in_ecma_262_python_and_pydantic(browser: WebDriver) -> None:
    """Chromium's RegExp with the `u` flag (and without flags, on subjects up to U+FFFF), Python's `re`
    as the generated checks use it, and pydantic's engine give every subject the same verdict."""
    patterns = _generated_patterns()
    for pattern, (unicode, plain) in zip(patterns, _ecma_verdicts(browser, patterns, PATTERN_SUBJECTS), strict=True):
        python = _python_verdicts(pattern, PATTERN_SUBJECTS)
        assert unicode == python, f"{pattern!r}: ECMA-262 {unicode}, Python {python}"
        assert python is not None and plain is not None
        assert [plain[i] for i in NARROW_SUBJECTS] == [python[i] for i in NARROW_SUBJECTS]
        assert _pydantic_verdicts(pattern, PATTERN_SUBJECTS) == python, pattern


def test_every_refused_construct_has_a_subject_the_engines_disagree_on(browser: WebDriver) -> None:
    """The refusals are not caution: for each, an engine refuses the pattern or reads the subject otherwise."""
    patterns = [pattern for _, pattern, _ in WITNESSES]
    subjects = [subject for _, _, subject in WITNESSES]
    ecma = _ecma_verdicts(browser, patterns, subjects)
    for index, (construct, pattern, subject) in enumerate(WITNESSES):
        assert construct in [p.construct for p in portability_problems(pattern)], pattern
        unicode, plain = ecma[index]
        python, model = _python_verdicts(pattern, [subject]), _pydantic_verdicts(pattern, [subject])
        verdicts = {
            "ECMA-262": None if unicode is None else unicode[index],
            "ECMA-262 without flags": None if plain is None else plain[index],
            "Python": None if python is None else python[0],
            "pydantic": None if model is None else model[0],
        }
        assert len(set(verdicts.values())) > 1, f"{pattern!r} on {subject!r}: {verdicts}"


def test_an_example_with_a_newline_after_a_dollar_anchored_pattern_is_refused() -> None:
    """Examples are read as the schemas read patterns (ECMA-262): `$` is the very end of the text."""
    from telemetry_gen.catalog.model import StringType, example_problem

    value_type = StringType(max_length=10, min_length=None, pattern="^abc$")
    assert example_problem(value_type, "abc") is None
    assert example_problem(value_type, "abc\n") == "does not match ^abc$"


def test_a_dotted_package_names_a_subpackage_of_the_app(tmp_path: Path) -> None:
    catalog = _write(tmp_path, MINIMAL_CATALOG.replace("package: demo_app_telemetry", "package: ledgerline.telemetry"))
    code, output, reported = build(catalog, tmp_path / "out")
    assert code == 0 and reported == [], output


@pytest.mark.parametrize(
    ("package", "wrong", "fix"),
    [
        ("ledgerline.class", "'class' is a Python keyword", "ledgerline.class_telemetry"),
        ("ledgerline..telemetry", "snake_case", "ledgerline.telemetry"),
        ("Ledgerline.telemetry", "snake_case", "ledgerline.telemetry"),
        ("ledgerline.2fa", "snake_case", "ledgerline.telemetry"),
    ],
)
def test_a_bad_part_of_a_dotted_package_is_a_located_error_with_a_fix(
    tmp_path: Path, package: str, wrong: str, fix: str
) -> None:
    catalog = _write(tmp_path, MINIMAL_CATALOG.replace("package: demo_app_telemetry", f"package: {package}"))
    code, output, reported = build(catalog, tmp_path / "out")
    assert code == 1, output
    assert [(d.code, d.line, d.column) for d in reported] == [("CF013", 5, 12)], output
    assert wrong in reported[0].message + (reported[0].hint or ""), output
    assert reported[0].hint is not None and fix in reported[0].hint, output
