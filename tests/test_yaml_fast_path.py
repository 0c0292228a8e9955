"""Loading through libyaml gives exactly what PyYAML's pure-Python path gives, or steps aside.

`load_yaml` composes with libyaml when it can and falls back to the pure path on any problem,
so that every diagnostic comes from the pure path. What the fast path does return (the data and
the line and column of every key and value, which later stages report) must be the pure path's:
checked on every catalog file of the suite, on non-ASCII text, and on text with random YAML
punctuation and odd characters inserted.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, MINIMAL_CATALOG, REPO
from telemetry_gen.catalog.source import (
    _LIBYAML_DIFFERS,
    LIBYAML_MAX_DEPTH,
    SourceMap,
    _libyaml_may_differ,
    _load_pure,
    _load_with_libyaml,
    load_yaml,
)

pytestmark = pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML is built without libyaml")

CATALOG_FILES = [*sorted(FIXTURES.rglob("*.yaml")), REPO / "events.yaml"]

# Non-ASCII text before later keys and values on the same line, in block and flow style.
NON_ASCII = [
    MINIMAL_CATALOG.replace("title: Demo App", "title: Démo 日本 😀 App"),
    MINIMAL_CATALOG.replace("values: [cli, gui]", "values: [é, 日本, 😀x, gui]"),
    MINIMAL_CATALOG.replace("domains: [app]", "domains: [app]\n  extra: {a: é, b: 1, c: 日本😀, d: [é, 2]}"),
    MINIMAL_CATALOG.replace("  - Passwords", '  - "Pässwörds 😀"\n  - {x: "日本", y: 1}'),
    MINIMAL_CATALOG.replace("\n", "\r\n"),
    "\ufeff" + MINIMAL_CATALOG,
    "{é: 1, 日本: [😀, {k: v}], z: 2027-01-31}\n",
]


def assert_same_as_pure(text: str) -> None:
    fast = load_yaml(text, "events.yaml")
    pure = _load_pure(text, "events.yaml")
    assert fast[1] == pure[1]
    assert (fast[0] is None) == (pure[0] is None)
    if fast[0] is not None and pure[0] is not None:
        assert repr(fast[0].data) == repr(pure[0].data)  # repr: NaN is not equal to itself
        assert _places(fast[0].source_map) == _places(pure[0].source_map)


def _places(source_map: SourceMap) -> tuple[object, object, object]:
    """The line and column of every value and key: the marks of PyYAML and of libyaml differ in type."""
    values = {path: (mark.line, mark.column) for path, mark in source_map.values.items()}
    keys = {path: (mark.line, mark.column) for path, mark in source_map.keys.items()}
    return source_map.file, values, keys


@pytest.mark.parametrize("path", CATALOG_FILES, ids=lambda path: path.relative_to(REPO).as_posix())
def test_every_catalog_file_loads_as_on_the_pure_path(path: Path) -> None:
    assert_same_as_pure(path.read_bytes().decode("utf-8", "replace"))


@pytest.mark.parametrize("text", NON_ASCII)
def test_positions_after_non_ascii_text_are_the_pure_paths(text: str) -> None:
    assert _load_with_libyaml(text, "events.yaml") is not None, "the fast path should take this text"
    assert_same_as_pure(text)


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/object:os.system x\n",  # a tag
        "a: !custom {b: 1}\n",
        "base: &b {x: 1}\nc:\n  <<: *b\n",  # a merge key
        "a: &a [*a]\n",  # a recursive alias
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{n}: &{n} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
            for p, n in zip("abcdef", "bcdefg", strict=True)
        ),
        "a: 1\na: 2\n",  # a duplicate key
        "[1, 2]: x\n",  # a key that is not a string
        "a: !!int abc\n",
        "a: 1\t# a tab PyYAML refuses\n",
        "a: [1,\t2]\n",
        "a: x\ufeffy\nb: [\ufeff1, 2]\n",  # an inner byte order mark
        "a: [b?c]\n",  # PyYAML ends a plain value in brackets at `?`
        "a: {k: b?c}\n",
        "a: [x,\n  b?c]\n",
        "a: [cli:\r\n, gui]\r\n",  # libyaml puts the empty value on the next line
        "\ufeffa: [x?]\n",  # after a byte order mark, where marks count from
        "a: >#x\nb: |#y\n  z\n",  # PyYAML refuses a comment without a space before it here
        "a: [x, y:\u2029]\n",
        MINIMAL_CATALOG.replace("title: Demo App", "title: 'Demo\u2028App'\n  note: 'é\u2029x'\n  more: é\u2028    x"),
        "a: é\u0085b: 1\n",
        "a: " + "[" * (LIBYAML_MAX_DEPTH + 1) + "]" * (LIBYAML_MAX_DEPTH + 1) + "\n",
        "a: 'unclosed\n",
        "%YAML 1.3\n---\na: 1\n",  # libyaml refuses, PyYAML reads it
        "a: 1\n---\nb: 2\n",
        "x:\n  ? a",  # libyaml places an empty value at the very end on a line after the last
        "---\n ",
        "x: {a: }\n",  # libyaml places an empty value in [...] or {...} at the next token
        "[a: , b]\n",
    ],
)
def test_the_fast_path_steps_aside_for_whatever_the_pure_path_must_judge(text: str) -> None:
    assert _load_with_libyaml(text, "events.yaml") is None
    assert_same_as_pure(text)


# Prose with YAML's indicator characters where no token starts: the fast path keeps it.
PROSE = [
    MINIMAL_CATALOG.replace("title: Demo App", "title: Why? Because 50 % of *all* runs fail & retry!"),
    MINIMAL_CATALOG.replace(
        "title: Demo App", "title: >\n    Is it on? 100 % * 2 & more!\n    % at a line start, in a block"
    ),
    MINIMAL_CATALOG.replace("values: [cli, gui]", "values: [cli, gui]\n        note: what? [yes, no]"),
]


@pytest.mark.parametrize("text", PROSE)
def test_prose_with_indicator_characters_keeps_the_fast_path(text: str) -> None:
    assert _load_with_libyaml(text, "events.yaml") is not None
    assert_same_as_pure(text)


def test_dates_stay_text_on_the_fast_path() -> None:
    loaded = _load_with_libyaml("expires: 2027-01-31\nat: 2027-01-31 10:00:00\n", "events.yaml")
    assert loaded is not None
    assert loaded.data == {"expires": "2027-01-31", "at": "2027-01-31 10:00:00"}


def test_an_empty_document_loads_as_on_the_pure_path() -> None:
    for text in ("", "# only a comment\n", "---\n"):
        assert _load_with_libyaml(text, "events.yaml") is not None
        assert_same_as_pure(text)


INSERTS = st.text(
    alphabet=st.sampled_from(list(":-?[]{},#&*!|>'\"%@`\\ \t\n\r\ufeff\u0085\u2028\u2029é日😀0.x")),
    min_size=1,
    max_size=4,
)


@settings(deadline=None, database=None, max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_text_with_inserted_characters_loads_as_on_the_pure_path(data: st.DataObject) -> None:
    text = MINIMAL_CATALOG
    for _ in range(data.draw(st.integers(1, 3))):
        position = data.draw(st.integers(0, len(text)))
        text = text[:position] + data.draw(INSERTS) + text[position:]
    assert_same_as_pure(text)


@settings(deadline=None, database=None, max_examples=400)
@given(st.text(alphabet=st.sampled_from(list(":-?[]{},#&*!|>%+0 \t\n\r\ufeff\u0085\u2028\u2029x")), max_size=30))
def test_the_search_by_lines_agrees_with_the_search_of_the_whole_text(text: str) -> None:
    for start in (0, 1):
        assert _libyaml_may_differ(text, start) == bool(_LIBYAML_DIFFERS.search(text, start))


# Short texts of YAML's punctuation, in flow and block style, with and without a final line break.
PIECES = st.sampled_from(
    ["a", "1", "é", ":", ": ", "- ", "? ", "\n", "\n  ", "[", "]", "{", "}", ", ", " ", "#c\n", "'q'"]
)


@settings(deadline=None, database=None, max_examples=1000)
@given(st.lists(PIECES, min_size=1, max_size=14).map("".join))
def test_short_texts_of_punctuation_load_as_on_the_pure_path(text: str) -> None:
    assert_same_as_pure(text)
