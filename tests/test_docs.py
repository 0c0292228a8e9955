"""The published docs: the self-contained HTML page in real headless Chromium, the Markdown pages
read as a docs site would read them, hostile catalog text rendered inert, and the docs' place in the
deterministic build and in `build --check`.

Golden copies of whole Markdown trees are in tests/test_golden.py; this module checks what the pages
promise their readers. Screenshots go to test-artifacts/ (gitignored).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import jinja2
import pytest
from browser import (
    checked_boxes,
    chromium,
    chromium_missing,
    open_page,
    page_state,
    screenshot,
    set_checkbox,
    text_of,
    type_search,
)
from markdown_it import MarkdownIt
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from conftest import FIXTURES, MINIMAL_CATALOG, REPO, build_text, catalog_from_text, run_cli
from telemetry_gen.build import check_catalog
from telemetry_gen.catalog import parse_catalog
from telemetry_gen.catalog.model import Catalog, Event, Field, ObjectType
from telemetry_gen.targets import docs
from telemetry_gen.targets.docs import event_doc, md, recorded_changes
from telemetry_gen.write import write_tree

EXAMPLE = REPO / "events.yaml"
HOSTILE = FIXTURES / "docs" / "hostile.yaml"
CATEGORIES = ("usage", "errors")
PRIVACY = ("technical", "interaction", "pseudonymous")


# ---------------------------------------------------------------------------------------- fixtures


def load(path: Path) -> Catalog:
    """The catalog exactly as `telemetry-gen build` sees it (lints included)."""
    catalog, diagnostics = check_catalog(path)
    assert catalog is not None, "\n".join(d.render() for d in diagnostics)
    return catalog


def write_docs(catalog: Catalog, out: Path) -> Path:
    write_tree(docs.render(catalog), out)
    return out / "docs"


@pytest.fixture(scope="module")
def example() -> Catalog:
    return load(EXAMPLE)


@pytest.fixture(scope="module")
def example_docs(example: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_docs(example, tmp_path_factory.mktemp("example") / "generated")


@pytest.fixture(scope="module")
def hostile() -> Catalog:
    return load(HOSTILE)


@pytest.fixture(scope="module")
def hostile_docs(hostile: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_docs(hostile, tmp_path_factory.mktemp("hostile") / "generated")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        yield driver


# ----------------------------------------------------------------------------------------- helpers


def flat(text: str) -> str:
    return " ".join(text.split())


def all_fields(fields: tuple[Field, ...], prefix: str = "") -> Iterator[tuple[str, Field]]:
    """Every field with its dotted name, nested object fields included."""
    for field in fields:
        yield prefix + field.name, field
        if isinstance(field.type, ObjectType):
            yield from all_fields(field.type.fields, f"{prefix}{field.name}.")


def privacy_classes(event: Event) -> set[str]:
    """The classes an event's card is filed under: those of its fields, `technical` without any."""
    return {field.privacy.value for _, field in all_fields(event.fields)} or {"technical"}


def expected_visible(
    catalog: Catalog,
    query: str = "",
    categories: tuple[str, ...] = CATEGORIES,
    classes: tuple[str, ...] = PRIVACY,
) -> list[str]:
    """What the page must show: every search word (AND) in the event's text, a checked category and class."""
    words = query.lower().split()
    recorded = recorded_changes(catalog)
    return [
        event.name
        for event in catalog.events
        if all(word in event_doc(event, catalog, recorded.get(event.name, [])).search_text for word in words)
        and event.category.value in categories
        and privacy_classes(event) & set(classes)
    ]


def assert_page_shows(driver: WebDriver, catalog: Catalog, expected: list[str]) -> None:
    """The page shows exactly `expected`: visibly, by the `hidden` attribute, in the counter and `#no-match`."""
    state = page_state(driver)
    assert state["visible"] == expected
    assert state["unhidden"] == expected
    assert state["count"] == f"{len(expected)} of {len(catalog.events)} events"
    assert state["noMatch"] == (not expected)


def markdown_pages(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text("utf-8") for p in sorted(folder.rglob("*.md"))}


def section(page: str, heading: str) -> str:
    """The text under a `## heading`, up to the next heading of level 1 or 2."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^#{{1,2}} |\Z)", page, re.MULTILINE | re.DOTALL)
    assert match, f"no '## {heading}' section"
    return match.group(1)


def cells(row: str) -> list[str]:
    """A Markdown table row split on its unescaped `|` (a backslash escapes the next character)."""
    parts, current, escaped = [], "", False
    for char in row.strip():
        if escaped:
            current, escaped = current + char, False
        elif char == "\\":
            current, escaped = current + char, True
        elif char == "|":
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    assert parts[0] == "" and parts[-1] == "", f"row does not start and end with |: {row!r}"
    return parts[1:-1]


def render_markdown(text: str) -> str:
    """HTML as a CommonMark + GFM-tables site generator makes it (raw HTML passes through)."""
    html: str = MarkdownIt("commonmark").enable("table").render(text)
    return html


class _Reader(HTMLParser):
    """What a reader of rendered HTML sees: text (no comments) and the elements and links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.attributes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [name for name, _ in attrs]
        self.hrefs += [value or "" for name, value in attrs if name in ("href", "src")]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def read_html(markup: str) -> _Reader:
    reader = _Reader()
    reader.feed(markup)
    reader.close()
    return reader


def hostile_texts(catalog: Catalog) -> list[str]:
    """Every piece of catalog text the docs print, as written in the catalog."""
    texts = [catalog.app.title, *catalog.never_collected]
    texts += [c.description for c in catalog.context]
    for event in catalog.events:
        texts += [event.description, event.trigger, event.owner, event.deprecated or ""]
        for _, field in all_fields(event.fields):
            texts.append(field.description)
    return [flat(t) for t in texts if t]


# A known bug (see test_markdown_escapes_ordered_list_markers_readably): its readable form is checked there.
ORDERED_LIST_ITEM = "1. first, not an ordered list"


# ------------------------------------------------------------------------------- the HTML page


def test_chromium_is_installed() -> None:
    assert chromium_missing() is None, chromium_missing()


def test_page_is_self_contained_and_makes_no_requests(example: Catalog, example_docs: Path, browser: WebDriver) -> None:
    page = example_docs / "one-page.html"
    text = page.read_text("utf-8")
    links = re.findall(r"""\b(?:src|href|action|srcset|poster|data)\s*=\s*["']?([^"'\s>]*)""", text, re.IGNORECASE)
    # The privacy policy, and in-page links to each domain's events.
    domains = sorted({e.domain for e in example.events})
    assert links == [example.app.privacy_policy_url, *(f"#{d}--" for d in domains)]
    assert not re.search(r"<link\b|@import|url\(|<iframe|<object|<embed|<img|<base\b", text, re.IGNORECASE)
    assert len(re.findall(r"<script\b", text)) == 1 and "<script>" in text  # one inline script, no src

    requests = open_page(browser, page)
    assert requests == [page.resolve().as_uri()]
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    assert browser.title == f"Telemetry in {example.app.title}"


def test_search_as_you_type(example: Catalog, example_docs: Path, browser: WebDriver) -> None:
    open_page(browser, example_docs / "one-page.html")
    everything = [e.name for e in example.events]
    assert len(everything) == 30
    assert_page_shows(browser, example, everything)

    box = browser.find_element(By.ID, "search")
    box.send_keys("wat")  # results follow every key press, without Enter
    assert_page_shows(browser, example, expected_visible(example, "wat"))
    box.send_keys("ch")
    watch = expected_visible(example, "watch")
    assert 0 < len(watch) < len(everything)
    assert "command/watch-session-started" in watch and "app/exited" not in watch
    assert_page_shows(browser, example, watch)
    assert text_of(browser, "count") == f"{len(watch)} of 30 events"
    screenshot(browser, "docs-search.png")

    type_search(browser, "WATCH")  # case does not matter
    assert_page_shows(browser, example, watch)

    type_search(browser, "  watch   exchange ")  # several words: every one must occur (AND)
    both = expected_visible(example, "watch exchange")
    exchange = expected_visible(example, "exchange")
    assert both == [name for name in watch if name in exchange]
    assert both and both not in (watch, exchange)
    assert_page_shows(browser, example, both)

    type_search(browser, "exchange_id")  # field names are searched too
    assert_page_shows(browser, example, expected_visible(example, "exchange_id"))

    type_search(browser, "")
    assert_page_shows(browser, example, everything)

    type_search(browser, "no-such-event-anywhere")
    assert_page_shows(browser, example, [])
    assert browser.find_element(By.ID, "no-match").text == "No event matches."
    screenshot(browser, "docs-no-match.png")


def test_category_filter(example: Catalog, example_docs: Path, browser: WebDriver) -> None:
    open_page(browser, example_docs / "one-page.html")
    set_checkbox(browser, "category", "usage", False)
    errors = expected_visible(example, categories=("errors",))
    assert errors and errors == [e.name for e in example.events if e.category.value == "errors"]
    assert_page_shows(browser, example, errors)
    screenshot(browser, "docs-filter-errors.png")

    type_search(browser, "exchange")  # filters and search combine
    assert_page_shows(browser, example, expected_visible(example, "exchange", categories=("errors",)))
    type_search(browser, "")

    set_checkbox(browser, "category", "errors", False)
    assert_page_shows(browser, example, [])
    set_checkbox(browser, "category", "usage", True)
    usage = expected_visible(example, categories=("usage",))
    assert usage and set(usage).isdisjoint(errors)
    assert_page_shows(browser, example, usage)
    set_checkbox(browser, "category", "errors", True)
    assert_page_shows(browser, example, [e.name for e in example.events])


def test_privacy_filter(example: Catalog, example_docs: Path, browser: WebDriver) -> None:
    """An event stays visible while any class of its fields is checked (no fields: technical)."""
    open_page(browser, example_docs / "one-page.html")
    outcomes = set()
    for step in range(2 ** len(PRIVACY)):  # Gray code: one click per step through all 8 combinations
        gray = step ^ (step >> 1)
        checked = tuple(value for bit, value in enumerate(PRIVACY) if not gray & (1 << bit))
        for value in PRIVACY:
            set_checkbox(browser, "privacy", value, value in checked)
        assert checked_boxes(browser, "privacy") == list(checked)
        expected = expected_visible(example, classes=checked)
        assert_page_shows(browser, example, expected)
        outcomes.add(tuple(expected))
    assert len(outcomes) >= 6, "the example catalog should tell most combinations of classes apart"

    for value in PRIVACY:
        set_checkbox(browser, "privacy", value, value != "technical")
    set_checkbox(browser, "category", "errors", False)
    type_search(browser, "session")
    expected = expected_visible(example, "session", categories=("usage",), classes=("interaction", "pseudonymous"))
    assert expected
    assert_page_shows(browser, example, expected)
    screenshot(browser, "docs-filter-privacy.png")


CARDS_SCRIPT = """
return Array.from(document.querySelectorAll('article.event')).map(function (card) {
  return {
    name: card.getAttribute('data-name'),
    heading: card.querySelector('h3').innerText,
    text: card.innerText,
    badges: Array.from(card.querySelectorAll(':scope > div > .badge')).map(function (b) { return b.innerText; }),
    rows: Array.from(card.querySelectorAll('tbody tr')).map(function (row) {
      return Array.from(row.cells).map(function (cell) { return cell.innerText; });
    })
  };
});
"""


def test_cards_show_why_when_fields_and_version_badges(
    example: Catalog, example_docs: Path, browser: WebDriver
) -> None:
    open_page(browser, example_docs / "one-page.html")
    cards = {card["name"]: card for card in browser.execute_script(CARDS_SCRIPT)}
    assert list(cards) == [e.name for e in example.events]
    version = example.app.version
    # The example records one change of the current version, to a field (see `history:` in events.yaml).
    changed_fields = {(h.event, h.field) for h in example.history if h.version == version and h.field}
    assert changed_fields == {("perf/price-fetch-latency", "latency_samples_ms")}
    for event in example.events:
        card = cards[event.name]
        assert card["heading"] == event.name
        assert flat(event.description) in flat(card["text"]) and flat(event.trigger) in flat(card["text"])
        rows = {row[0].split()[0]: row for row in card["rows"]}
        assert list(rows) == [name for name, _ in all_fields(event.fields)], event.name
        for name, field in all_fields(event.fields):
            assert rows[name][2:] == [field.privacy.value, "yes" if field.required else "no", flat(field.description)]
            assert rows[name][0].split()[1:] == (["changed"] if (event.name, name) in changed_fields else [])
        expected = [f"since {event.since}", f"v{event.version}", event.category.value]
        expected += [f"changed in {version}"] if event.name in {e for e, _ in changed_fields} else []
        expected += ["deprecated"] if event.deprecated else []
        expected += [f"expires {event.expires}"] if str(event.expires) != "never" else []
        assert card["badges"] == expected, event.name
    assert any(e.deprecated for e in example.events) and any(e.version > 1 for e in example.events)
    opt_out = text_of(browser, "opt-out")
    assert "DO_NOT_TRACK=1" in opt_out and f"{example.app.env_prefix}_TELEMETRY=0" in opt_out
    never = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#never-collected li")]
    assert never == [flat(item) for item in example.never_collected]
    changelog = text_of(browser, "changelog")
    for event in example.events:
        assert f"added event {event.name}\n" in changelog + "\n"
    assert "removed event wallet/balance-shown: " in changelog


def test_page_fits_the_window(example_docs: Path, browser: WebDriver) -> None:
    open_page(browser, example_docs / "one-page.html")
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")


# ---------------------------------------------------------------------- hostile text in the page


def test_hostile_text_is_inert_in_the_page(hostile: Catalog, hostile_docs: Path, browser: WebDriver) -> None:
    page = hostile_docs / "one-page.html"
    requests = open_page(browser, page)
    assert requests == [page.resolve().as_uri()]  # `<img src=x>` would have asked for file:///.../x
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert  # noqa: B018 - reading it is the check
    counts = browser.execute_script(
        "return [document.querySelectorAll('script').length,"
        " document.querySelectorAll('img, b, i, iframe, object, embed, svg, math, link, base').length,"
        " document.querySelectorAll('style').length,"
        " document.querySelectorAll('a:not(#contents a)').length,"
        " Array.from(document.querySelectorAll('*')).filter(function (e) {"
        "   return Array.from(e.attributes).some(function (a) { return /^on/i.test(a.name); }); }).length];"
    )
    assert counts == [1, 0, 1, 1, 0]
    link = browser.find_element(By.CSS_SELECTOR, "a")
    assert link.text == hostile.app.privacy_policy_url
    assert link.get_attribute("href") == (hostile.app.privacy_policy_url or "").replace('"', "%22")

    assert browser.title == f"Telemetry in {hostile.app.title}"
    assert text_of(browser, "never-collected").splitlines()[1:] == [flat(i) for i in hostile.never_collected]
    started = browser.find_element(By.CSS_SELECTOR, 'article.event[data-name="app/started"]').text
    assert "<script>alert(1)</script> The app started. # heading on a new line" in started
    event = hostile.events[0]
    for text in [event.description, event.trigger, *(f.description for _, f in all_fields(event.fields))]:
        assert flat(text) in started
    assert 'one of: <script>alert(1)</script>, "><b>, a|b, `tick`, it\'s "quoted" \\ backslash, plain' in started
    submitted = browser.find_element(By.CSS_SELECTOR, 'article.event[data-name="form/submitted"]').text
    long_description = hostile.events[1].description
    assert len(long_description) == 5000 and long_description in submitted
    assert submitted.count("END-OF-LONG-DESCRIPTION") == 1
    assert flat(hostile.events[1].deprecated or "") in submitted
    assert "{{ 7 * 7 }}" in text_of(browser, "never-collected")

    for query in ("<script>", '"><b>', "javascript:alert(1)", "| pipe |", "end-of-long-description"):
        type_search(browser, query)
        expected = expected_visible(hostile, query)
        assert expected, query
        assert_page_shows(browser, hostile, expected)
    type_search(browser, "<script>")
    screenshot(browser, "docs-hostile.png")
    assert browser.execute_script("return document.querySelectorAll('script').length") == 1


def test_long_unbroken_words_stay_within_the_window(hostile_docs: Path, browser: WebDriver) -> None:
    open_page(browser, hostile_docs / "one-page.html")
    widths = browser.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page is {widths[0]}px wide in a {widths[1]}px window"


# ------------------------------------------------------------------------------- Markdown pages


def test_index_links_every_domain_page_and_event_anchor(example: Catalog, example_docs: Path) -> None:
    pages = markdown_pages(example_docs)
    index = pages["index.md"]
    domains = sorted({e.domain for e in example.events})
    linked = re.findall(r"\]\((events/[a-z0-9-]+\.md)\)", index)
    assert sorted(linked) == [f"events/{d}.md" for d in domains]
    assert sorted(p for p in pages if p.startswith("events/")) == [f"events/{d}.md" for d in domains]
    for event in example.events:
        anchor = event.identifier.replace("_", "-")
        assert f"](events/{event.domain}.md#{anchor})" in index, event.name
        page = pages[f"events/{event.domain}.md"]
        assert page.count(f'<a id="{anchor}"></a>') == 1, event.name
    for link in re.findall(r"\]\(([^)#]+\.md)", "\n".join(pages.values())):
        assert link in ("privacy.md", "changelog.md", "../index.md", "../privacy.md") or link in linked
    assert "](privacy.md)" in index and "](changelog.md)" in index and "](one-page.html)" in index


def test_domain_pages_say_what_why_and_when(example: Catalog, example_docs: Path) -> None:
    pages = markdown_pages(example_docs)
    for event in example.events:
        page = pages[f"events/{event.domain}.md"]
        assert f"## `{event.name}`" in page
        assert md(event.description) in page
        assert f"- **Sent when:** {md(event.trigger)}" in page
        assert f"- **Owner:** {md(event.owner)}" in page
        for name, field in all_fields(event.fields):
            row = rf"^\| `{re.escape(name)}`( \*(added|changed)\*)? \| .* \| {field.privacy.value} \| (yes|no) \| "
            assert re.search(row, page, re.M)
        if event.deprecated:
            assert f"- **Deprecated:** {md(event.deprecated)}" in page


def test_privacy_page_lists_every_field_under_its_class(example: Catalog, example_docs: Path) -> None:
    privacy = (example_docs / "privacy.md").read_text("utf-8")
    listed = {
        value: set(re.findall(r"^\| `([^`]+)` \| `([^`]+)` \|", section(privacy, value), re.M)) for value in PRIVACY
    }
    expected: dict[str, set[tuple[str, str]]] = {value: set() for value in PRIVACY}
    for event in example.events:
        for name, field in all_fields(event.fields):
            expected[field.privacy.value].add((event.name, name))
    assert listed == expected
    assert ("error/unhandled-exception", "raised_at.function") in expected["technical"]  # nested, dotted
    context = section(privacy, "Sent with every event")
    for context_field in example.context:
        description = md(context_field.description)
        assert f"| `{context_field.name}` | {description} | {context_field.privacy.value} |" in context


def test_never_collected_is_listed(example: Catalog, example_docs: Path) -> None:
    for page in ("index.md", "privacy.md"):
        text = section((example_docs / page).read_text("utf-8"), "What is never collected")
        items = re.findall(r"^- (.*)$", text, re.M)
        assert items == [md(item) for item in example.never_collected], page


def test_opt_out_section_names_the_switches(example: Catalog, example_docs: Path) -> None:
    opt_out = section((example_docs / "index.md").read_text("utf-8"), "How to opt in or out")
    assert "`DO_NOT_TRACK=1`" in opt_out
    assert f"`{example.app.env_prefix}_TELEMETRY=0`" in opt_out and "VIGILANT_TRADER_TELEMETRY" in opt_out
    assert f"`{example.app.name}/user_id.json`" in opt_out
    assert f"<{example.app.privacy_policy_url}>" in opt_out


def opt_out_texts(catalog: Catalog) -> tuple[str, str]:
    """The opt-out section as a reader sees it: of the Markdown index (rendered), and of the HTML page."""
    files = {f.path: f.content for f in docs.render(catalog)}
    markdown = read_html(render_markdown(section(files["docs/index.md"], "How to opt in or out"))).text
    page = re.search(r'<section class="panel" id="opt-out">.*?</section>', files["docs/one-page.html"], re.S)
    assert page
    return flat("".join(markdown)), flat("".join(read_html(page.group()).text))


def with_opt_out(opt_out: str) -> Catalog:
    """The minimal catalog (app `demo-app`) with `opt_out` (YAML lines) under `app:`."""
    text = MINIMAL_CATALOG.replace("  domains: [app]\n", "  domains: [app]\n  opt_out:\n" + opt_out, 1)
    return catalog_from_text(text)


OFFERED_ONLY_BY_THE_APP = ("telemetry enable", "telemetry disable", "configuration file", "may ask", "settings")


def test_opt_out_of_an_app_that_declares_nothing_names_only_what_the_runtime_honours() -> None:
    for text in opt_out_texts(catalog_from_text(MINIMAL_CATALOG)):
        assert "Telemetry is off until you opt in." in text
        assert "DO_NOT_TRACK=1" in text and "DEMO_APP_TELEMETRY=0 (off), =errors (error reports only), =1 (all)" in text
        assert "demo-app/user_id.json" in text
        assert not [offer for offer in OFFERED_ONLY_BY_THE_APP if offer in text], text
        assert "deletes nothing" in text  # a variable switches sending off; only the command forgets


def test_opt_out_names_the_apps_own_command_and_its_configuration_file() -> None:
    catalog = with_opt_out(
        "    command: demo-app telemetry\n"
        "    config_file: ~/.config/demo-app/settings.toml\n"
        "    asks_consent: true\n"
        "    asks_error_report: true\n"
    )
    for text in opt_out_texts(catalog):
        for action in ("enable", "enable --errors-only", "disable", "status"):
            assert f"demo-app telemetry {action}" in text
        assert text.count("telemetry disable") == text.count("demo-app telemetry disable") == 2
        assert "configuration file, ~/.config/demo-app/settings.toml: set collect under telemetry to false" in text
        assert "demo-app telemetry disable deletes that id and any events still waiting to be sent" in text
        assert "The app may ask once, at a terminal" in text
        assert "After an unexpected error the app may ask whether to send a report" in text


def test_opt_out_lists_each_offer_only_when_declared() -> None:
    for text in opt_out_texts(with_opt_out("    config_file: '%APPDATA%\\demo-app\\config.json'\n")):
        assert "configuration file, %APPDATA%\\demo-app\\config.json: set collect" in text
        assert "telemetry enable" not in text and "may ask" not in text
    for text in opt_out_texts(with_opt_out("    asks_error_report: true\n")):
        assert "After an unexpected error the app may ask" in text
        assert "may ask once" not in text and "configuration file" not in text


def test_example_opt_out_names_vigilant_trader_commands(example: Catalog, example_docs: Path) -> None:
    opt_out = section((example_docs / "index.md").read_text("utf-8"), "How to opt in or out")
    assert "`vigilant-trader telemetry disable`" in opt_out
    assert not re.search(r"`telemetry (enable|disable|status)", opt_out)


def test_changelog_lists_every_since_version(example: Catalog, example_docs: Path) -> None:
    changelog = (example_docs / "changelog.md").read_text("utf-8")
    versions = re.findall(r"^## (\S+)$", changelog, re.M)
    since = {str(e.since) for e in example.events}
    since |= {str(f.since) for e in example.events for _, f in all_fields(e.fields) if f.since}
    assert set(versions) >= since and len(versions) == len(set(versions))
    assert versions == sorted(versions, key=lambda v: tuple(map(int, v.split("."))), reverse=True)
    for event in example.events:
        assert f"- **added** event {md(event.name)}\n" in section(changelog, str(event.since)), event.name
        for name, field in all_fields(event.fields):
            if field.since and field.since != event.since:
                added = f"- **added** event {md(event.name)} field {md(name)}"
                assert added in section(changelog, str(field.since))
        if event.deprecated:
            assert f"- **deprecated** event {md(event.name)}: " in section(changelog, str(example.app.version))


def test_changelog_and_event_pages_show_recorded_removals_and_changes(tmp_path: Path) -> None:
    """What the catalog no longer has comes from `history`: in the changelog, and on the event's page."""
    text = MINIMAL_CATALOG.replace('version: "1.0"', 'version: "2.0"', 1) + textwrap.dedent(
        """\
        history:
          "2.0":
            - change: field-removed
              event: app/started
              field: legacy_mode
              note: removed; nobody read it
            - change: field-enum-value-added
              event: app/started
              field: mode
              note: value 'gui' added
            - change: event-removed
              event: app/crashed
          "1.5":
            - change: field-bound-tightened
              event: app/started
              field: mode
        """
    )
    build_text(text, tmp_path)
    changelog = (tmp_path / "docs" / "changelog.md").read_text("utf-8")
    latest = section(changelog, "2.0")
    assert latest.index("- **removed** event app/crashed: event-removed") < latest.index(
        "- **changed** event app/started"
    )
    assert "- **removed** event app/started field legacy\\_mode: removed; nobody read it" in latest
    assert "- **changed** event app/started field mode: value 'gui' added" in latest
    assert "- **changed** event app/started field mode: field-bound-tightened" in section(changelog, "1.5")
    page = (tmp_path / "docs" / "events" / "app.md").read_text("utf-8")
    assert "*since 1.0 · v1 · usage · changed in 2.0*" in page
    assert "- **Fields removed in 2.0:** `legacy_mode`" in page
    assert "| `mode` *changed* | one of: cli, gui |" in page


def test_docs_explain_how_to_check_what_is_sent(example_docs: Path) -> None:
    heading = re.compile(r"^#{1,3} .*\b(check|see|inspect|verify)\b.*\bsent\b", re.I | re.M)
    assert heading.search((example_docs / "index.md").read_text("utf-8"))
    page = (example_docs / "one-page.html").read_text("utf-8")
    assert re.search(r"<h2>[^<]*\b(check|see|inspect|verify)\b[^<]*\bsent\b", page)


# ------------------------------------------------------------------------ publishing with mkdocs

# Stricter than the defaults: a link to a missing page or anchor, or a file left out, is a warning.
LINK_VALIDATION = """\
validation:
  omitted_files: warn
  absolute_links: warn
  unrecognized_links: warn
  anchors: warn
"""


def mkdocs_build(docs_dir: Path, out: Path, extra_config: str = "") -> Path:
    """`mkdocs build --strict` with a configuration of the site name and the docs folder (and
    `extra_config`); the built site. The build must succeed with no warning."""
    config = out / "mkdocs.yml"
    config.write_text(f"site_name: Telemetry\ndocs_dir: {json.dumps(str(docs_dir))}\n{extra_config}", "utf-8")
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config)]
    result = subprocess.run(
        [*command, "--site-dir", str(out / "site")], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0 and "WARNING" not in result.stderr, result.stderr
    return out / "site"


def test_example_docs_build_with_mkdocs_strict(example: Catalog, example_docs: Path, tmp_path: Path) -> None:
    site = mkdocs_build(example_docs, tmp_path)
    home = read_html((site / "index.html").read_text("utf-8"))
    assert f"Telemetry in {example.app.title}" in "".join(home.text)
    for page in ("privacy", "changelog", *(f"events/{e.domain}" for e in example.events)):
        assert (site / page / "index.html").is_file(), page
    assert (site / "one-page.html").read_bytes() == (example_docs / "one-page.html").read_bytes()


def test_links_between_pages_resolve_in_mkdocs(example_docs: Path, hostile_docs: Path, tmp_path: Path) -> None:
    for name, folder in (("example", example_docs), ("hostile", hostile_docs)):
        (tmp_path / name).mkdir()
        mkdocs_build(folder, tmp_path / name, LINK_VALIDATION)


# -------------------------------------------------------------------------- hostile Markdown


ALLOWED_RAW_HTML = re.compile(r'^<!-- [^\n]*? -->$|<a id="[a-z0-9-]+"></a>|<https?://[^<>\s]*>', re.M)


def test_hostile_markdown_holds_no_raw_html(hostile_docs: Path) -> None:
    for name, text in markdown_pages(hostile_docs).items():
        rest = ALLOWED_RAW_HTML.sub("", text)
        assert not re.search(r"<[A-Za-z!/?]", rest), f"{name}: raw HTML {re.search(r'<[^ ]{0,30}', rest)}"
        assert "<script" not in text and "<img" not in text.lower()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text or name == "changelog.md"


def test_hostile_markdown_tables_keep_their_columns(hostile_docs: Path) -> None:
    tables = 0
    for name, text in markdown_pages(hostile_docs).items():
        columns = None
        for line in text.splitlines():
            if not line.startswith("|"):
                columns = None
                continue
            if columns is None:
                columns, tables = len(cells(line)), tables + 1
            assert len(cells(line)) == columns, f"{name}: {line[:120]}"
    assert tables >= 4


def test_hostile_markdown_renders_inert_and_readable(hostile: Catalog, hostile_docs: Path) -> None:
    pages = markdown_pages(hostile_docs)
    rendered = {name: render_markdown(text) for name, text in pages.items()}
    for name, markup in rendered.items():
        reader = read_html(markup)
        assert not {"script", "img", "b", "i", "iframe", "style"} & set(reader.tags), name
        assert not [a for a in reader.attributes if a.startswith("on")], name
        for href in reader.hrefs:
            policy = (hostile.app.privacy_policy_url or "").replace('"', "%22")
            local = re.fullmatch(r"((\.\./)?[a-z/.-]+\.md)?(#[a-z0-9-]+)?", href)
            assert local or href in (policy, "one-page.html"), f"{name}: unexpected link {href}"
        assert "javascript:" not in " ".join(reader.hrefs)
    text = {name: flat("".join(read_html(markup).text)) for name, markup in rendered.items()}
    everything = " ".join(text.values())
    for item in hostile_texts(hostile):
        if item != ORDERED_LIST_ITEM:
            assert item in everything, item
    for item in hostile.never_collected:
        if item != ORDERED_LIST_ITEM:
            assert flat(item) in text["index.md"] and flat(item) in text["privacy.md"], item
    assert hostile.events[1].description in text["events/form.md"]
    assert f"Telemetry in {hostile.app.title}" in text["index.md"]
    assert '<script>alert(1)</script>, "><b>, a|b, `tick`' in text["events/app.md"]  # enum values, verbatim
    assert "^(<b>|a\\|b|[a-z]+)$" in text["events/app.md"]  # the pattern, verbatim


def test_markdown_escapes_ordered_list_markers_readably(hostile_docs: Path) -> None:
    rendered = read_html(render_markdown((hostile_docs / "privacy.md").read_text("utf-8")))
    items = [flat(line) for line in "".join(rendered.text).splitlines()]
    assert ORDERED_LIST_ITEM in items, [item for item in items if "first" in item]


# What opens a tag in Jinja (mkdocs-macros) and in Liquid (Jekyll).
TEMPLATE_TAG = re.compile(r"\{[{%#]")


def test_template_tags_in_catalog_text_stay_text_for_site_generators(
    hostile: Catalog, hostile_docs: Path, tmp_path: Path
) -> None:
    """mkdocs-macros and Jekyll run each page through a template engine before Markdown: the catalog's
    `{{ user }}` and `{% if %}` must not be evaluated there, and must still read as written."""
    texts = " ".join(hostile_texts(hostile))
    assert "{{ user }}" in texts and "{% if %}" in texts and "{% endraw %}" in texts
    jinja = jinja2.Environment(keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    file_name = catalog_from_text(MINIMAL_CATALOG, file="{{ user }}{% if %}.yaml")
    pages = {**markdown_pages(hostile_docs), **{f.path: f.content for f in docs.render(file_name)}}
    for name, text in pages.items():
        if name.endswith(".md"):
            assert not TEMPLATE_TAG.search(text), f"{name}: {TEMPLATE_TAG.search(text)}"
            assert jinja.from_string(text).render() == text, name
    site = mkdocs_build(hostile_docs, tmp_path)
    shown = flat("".join(read_html((site / "events" / "app" / "index.html").read_text("utf-8")).text))
    assert "{{ user }} and {% if %} and {# note #} and {% endraw %}" in shown
    assert "for {{ user }} {% if %}." in shown
    assert md("[0-9a-f]{32}") == "\\[0-9a-f\\]{32}"  # a quantifier opens no tag and stays as it is


def _policy_url_catalog(url: str) -> Catalog:
    text = re.sub(r"(?m)^  privacy_policy_url: .*$", f"  privacy_policy_url: {url}", HOSTILE.read_text("utf-8"))
    catalog, diagnostics = parse_catalog(text, "hostile.yaml")
    assert catalog is not None, "\n".join(d.render() for d in diagnostics)
    return catalog


def test_policy_url_is_inert_in_markdown() -> None:
    url = "https://hostile.example/p?<script>alert(1)</script>"
    files = {f.path: f.content for f in docs.render(_policy_url_catalog(url))}
    assert files["docs/one-page.html"].count("<script") == 1  # its own
    assert "p?&lt;script&gt;alert(1)&lt;/script&gt;" in files["docs/one-page.html"]
    reader = read_html(render_markdown(files["docs/index.md"]))
    assert "script" not in reader.tags
    assert url in flat("".join(reader.text))


def test_header_comment_survives_any_catalog_file_name() -> None:
    catalog = catalog_from_text(MINIMAL_CATALOG, file="events--->.yaml")
    for file in docs.render(catalog):
        if file.path.endswith(".md"):
            first = file.content.splitlines()[0]
            assert first.startswith("<!-- ") and first.endswith(" -->")
            assert "-->" not in first[4:-3], file.path
            assert "Do not edit" not in "".join(read_html(render_markdown(file.content)).text)


# --------------------------------------------------------------------- determinism and --check


def test_docs_render_from_the_catalog_alone(example: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the docs tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    first = docs.render(example)
    domains = {e.domain for e in example.events}
    expected = {"docs/index.md", "docs/privacy.md", "docs/changelog.md", "docs/one-page.html"}
    assert {f.path for f in first} == expected | {f"docs/events/{d}.md" for d in domains}
    assert docs.render(example) == first


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The example built by two `telemetry-gen build` processes at once, with different hash seeds (so
    unsorted sets would show), into two folders; the committed models file is reused, not regenerated."""
    root = tmp_path_factory.mktemp("builds")
    outs = root / "first" / "generated", root / "second" / "out"
    processes = []
    for seed, out in enumerate(outs, start=1):
        if (REPO / "generated" / "models").is_dir():
            shutil.copytree(REPO / "generated" / "models", out / "models")
        command = [sys.executable, "-c", "from telemetry_gen.cli import main; main()", "build", str(EXAMPLE)]
        environment = {**os.environ, "PYTHONHASHSEED": str(seed)}
        processes.append(
            subprocess.Popen([*command, "--out", str(out)], env=environment, stderr=subprocess.PIPE, text=True)
        )
    for process in processes:
        _, errors = process.communicate(timeout=120)
        assert process.returncode == 0, errors
    return outs


def test_docs_are_identical_across_builds(built: tuple[Path, Path]) -> None:
    first, second = built
    one, two = markdown_pages(first / "docs"), markdown_pages(second / "docs")
    assert one == two and len(one) >= 4
    assert (first / "docs" / "one-page.html").read_bytes() == (second / "docs" / "one-page.html").read_bytes()
    for text in [*one.values(), (first / "docs" / "one-page.html").read_text("utf-8")]:
        assert str(first.parent) not in text and str(second.parent) not in text


def test_check_detects_edited_docs(built: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "generated"
    shutil.copytree(built[0], out)
    code, output = run_cli("build", str(EXAMPLE), "--out", str(out), "--check")
    assert code == 0, output

    page = out / "docs" / "one-page.html"
    page.write_text(page.read_text("utf-8").replace("30 of 30 events", "29 of 30 events"), "utf-8")
    (out / "docs" / "privacy.md").unlink()
    (out / "docs" / "events" / "app.md").write_text("edited\n", "utf-8")
    code, output = run_cli("build", str(EXAMPLE), "--out", str(out), "--check")
    assert code == 1 and "stale" in output, output
    for line in ("changed: docs/one-page.html", "missing: docs/privacy.md", "changed: docs/events/app.md"):
        assert line in output, output
    assert "docs/changelog.md" not in output


def test_markdown_shows_control_characters_as_their_codes() -> None:
    from telemetry_gen.targets.docs import md, md_code

    assert md("null\x00 escape\x1b[31m") == "nullU+0000 escapeU+001B\\[31m"
    assert md_code("bell\x07") == "`bellU+0007`"
