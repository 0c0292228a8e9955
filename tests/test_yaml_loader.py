"""The YAML loader: what odd YAML turns into, and where its problems are reported.

`load_yaml` parses with libyaml where PyYAML has it and with PyYAML's pure-Python parser
otherwise; every test runs with each parser this PyYAML has, so both give the same reports.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import MINIMAL_CATALOG
from telemetry_gen.catalog import parse_catalog, source
from telemetry_gen.catalog.source import MAX_DEPTH, load_yaml
from telemetry_gen.diagnostics import Location

PARSERS = [yaml.SafeLoader, *([yaml.CSafeLoader] if yaml.__with_libyaml__ else [])]


@pytest.fixture(autouse=True, params=PARSERS, ids=lambda parser: parser.__name__)
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(source, "PARSER", request.param)
    yield


def reported(text: str) -> list[tuple[str, int, int]]:
    """(code, line, column) of every diagnostic of the loader."""
    _, diagnostics = load_yaml(text, "events.yaml")
    return [(d.code, d.location.line, d.location.column) for d in diagnostics]


def loaded(text: str) -> object:
    result, diagnostics = load_yaml(text, "events.yaml")
    assert result is not None and not diagnostics, [d.render() for d in diagnostics]
    return result.data


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: !!python/object:os.system x\n", [("CF004", 1, 4)]),
        ("a: !custom {b: 1}\n", [("CF004", 1, 4)]),
        ("base: &b {x: 1}\nc:\n  <<: *b\n", [("CF004", 3, 3)]),
        ("a: &a [*a]\n", [("CF004", 1, 4)]),
        ("a: 1\nb: 2\na: 3\n", [("CF002", 3, 1)]),
        ("[1, 2]: x\n", [("CF003", 1, 1)]),
        ("on: x\n", [("CF003", 1, 1)]),
        ("a: !!int abc\n", [("CF004", 1, 4)]),
        ("a: !!int\n", [("CF004", 1, 4)]),
        ("a: 'unclosed\nb: 1\n", [("CF001", 1, 4)]),
        ("a:\n\t- x\n", [("CF001", 2, 1)]),
        ("a: b\n---\nc: d\n", [("CF001", 2, 1)]),
        ("a: [1, 2\n", [("CF001", 1, 4)]),
        ("a: &x 1\nb: &x 2\n", [("CF001", 2, 4)]),
        ("a: *y\nb: &y 1\n", [("CF001", 1, 4)]),
        ("a: &a {b: 1, b: 2}\nc: *a\n", [("CF002", 1, 14), ("CF002", 1, 14)]),
    ],
)
def test_what_the_catalog_cannot_hold_is_reported_where_it_stands(
    text: str, expected: list[tuple[str, int, int]]
) -> None:
    assert reported(text) == expected


def test_an_alias_reads_as_its_anchor_written_out_where_the_anchor_stands() -> None:
    result, diagnostics = load_yaml("a: &v {b: [1, x]}\nc: [*v]\n", "events.yaml")
    assert result is not None and not diagnostics
    assert result.data == {"a": {"b": [1, "x"]}, "c": [{"b": [1, "x"]}]}
    assert result.source_map.value(("c", 0, "b", 1)) == result.source_map.value(("a", "b", 1))
    assert result.source_map.value(("c", 0, "b", 1)) == Location("events.yaml", 1, 15)


def test_an_alias_bomb_is_refused_before_it_expands() -> None:
    text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, n in zip("abcdef", "bcdefg", strict=True)
    )
    result, diagnostics = load_yaml(text, "events.yaml")
    assert result is None
    assert [d.code for d in diagnostics] == ["CF004"]
    assert "more than" in diagnostics[0].message


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 600, 2000])
def test_a_document_nested_too_deeply_is_refused_on_its_line(depth: int) -> None:
    text = "a: 1\nb: " + "[" * depth + "]" * depth + "\n"
    codes = reported(text)
    assert [(code, line) for code, line, _ in codes] == [("CF004", 2)]


def test_a_tab_in_the_indentation_gets_a_hint_about_tabs() -> None:
    _, diagnostics = load_yaml("a:\n\t- x\n", "events.yaml")
    assert "tabs" in diagnostics[0].hint


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("a: 1\nb: x\x07y\n", (2, 5)),
        ("a: é日😀\nb: é\x07y\n", (2, 5)),  # columns count characters, not bytes
        ("a: \ud800\n", (1, 4)),  # a lone surrogate, which UTF-8 cannot hold
    ],
)
def test_a_character_yaml_does_not_allow_is_located(text: str, position: tuple[int, int]) -> None:
    result, diagnostics = load_yaml(text, "events.yaml")
    assert result is None
    assert [(d.code, d.location.line, d.location.column) for d in diagnostics] == [("CF001", *position)]
    assert "U+" in diagnostics[0].message


def test_positions_after_non_ascii_text_count_characters() -> None:
    result, _ = load_yaml("t: Démo 日本 😀\nu: {é: 1, 日本😀: [x, {k: v}]}\n", "events.yaml")
    assert result is not None
    assert result.source_map.value(("u", "日本😀", 1, "k")) == Location("events.yaml", 2, 24)


def test_a_byte_order_mark_is_not_a_column() -> None:
    result, _ = load_yaml("\ufeffa: 1\nb: 2\n", "events.yaml")
    assert result is not None
    assert result.source_map.key(("a",)).column == 1
    assert result.source_map.value(("a",)).column == 4


def test_crlf_line_breaks_keep_lines_and_columns() -> None:
    result, _ = load_yaml(MINIMAL_CATALOG.replace("\n", "\r\n"), "events.yaml")
    assert result is not None
    assert result.source_map.key(("events", "app/started", "fields", "mode", "values")) == Location(
        "events.yaml", 20, 9
    )


def test_dates_and_versions_stay_the_text_the_user_wrote() -> None:
    assert loaded("expires: 2027-01-31\nat: 2027-01-31 10:00:00\nv: '3.10'\n") == {
        "expires": "2027-01-31",
        "at": "2027-01-31 10:00:00",
        "v": "3.10",
    }


def test_prose_with_yaml_indicator_characters_is_plain_text() -> None:
    assert loaded("title: Why? Because 50 % of *all* runs fail & retry!\n") == {
        "title": "Why? Because 50 % of *all* runs fail & retry!"
    }


@pytest.mark.parametrize("text", ["", "# only a comment\n"])
def test_an_empty_document_is_an_empty_catalog(text: str) -> None:
    assert loaded(text) == {}


INSERTS = st.text(
    alphabet=st.sampled_from(list(":-?[]{},#&*!|>'\"%@`\\ \t\n\r\ufeff\u0085\u2028\u2029é日😀0.x")),
    min_size=1,
    max_size=4,
)


@settings(deadline=None, database=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_damaged_catalog_gives_located_diagnostics_or_a_model(data: st.DataObject) -> None:
    text = MINIMAL_CATALOG
    for _ in range(data.draw(st.integers(1, 3))):
        position = data.draw(st.integers(0, len(text)))
        text = text[:position] + data.draw(INSERTS) + text[position:]
    catalog, diagnostics = parse_catalog(text, "events.yaml")
    assert catalog is not None or diagnostics
    lines = len(text.splitlines()) + 1
    for diagnostic in diagnostics:
        assert 1 <= diagnostic.location.line <= lines, diagnostic.render()
        assert diagnostic.location.column >= 1 and diagnostic.hint, diagnostic.render()
