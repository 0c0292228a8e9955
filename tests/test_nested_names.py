"""Event names of 2 to 4 segments (`settings/general/change-language`): the catalog accepts them,
every Python name of an event is its segments joined with `_`, schemas sit in nested folders,
and the lints, `diff`, the collector and the docs handle them."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path
from types import ModuleType

import pytest
from local_collector import collector
from local_endpoint import FAST

from conftest import HARDWARE_WALLET, MINIMAL_CATALOG, import_generated, run_cli
from telemetry_gen.catalog import parse_catalog
from telemetry_gen.catalog.model import Catalog, emitter_name
from telemetry_gen.collector.schemas import load_earlier, registry

PACKAGE = "hardware_wallet_telemetry"
NAME = "settings/general/change-language"
BASE_URL = "https://telemetry.hardware-wallet.example/schemas/"


@pytest.fixture(scope="module")
def catalog(hardware_wallet: Catalog) -> Catalog:
    return hardware_wallet


@pytest.fixture(scope="module")
def built(hardware_wallet_build: Path) -> Path:
    return hardware_wallet_build


@pytest.fixture
def package(built: Path) -> ModuleType:
    return import_generated(built, PACKAGE)


def with_event(name: str, catalog: str = MINIMAL_CATALOG) -> str:
    """The minimal catalog (domain `app`) with one more field-less event called `name`."""
    return catalog + textwrap.indent(
        textwrap.dedent(
            f"""\
            {name}:
              description: An event named with several segments.
              trigger: When the test needs it to be sent.
              category: usage
              owner: core-team
              since: "1.0"
            """
        ),
        "  ",
    )


def diagnostics_of(text: str) -> list[tuple[str, int | None, str]]:
    _, diagnostics = parse_catalog(text, "events.yaml")
    return [(d.code, d.location.line, d.message) for d in diagnostics]


def test_every_python_name_of_an_event_is_its_emitter_name(built: Path, package: ModuleType) -> None:
    assert emitter_name(NAME) == "settings_general_change_language"
    assert callable(package.events.settings_general_change_language)
    checks = (built / "python" / PACKAGE / "_checks.py").read_text("utf-8")
    assert "def check_settings_general_change_language(" in checks
    assert "SETTINGS_GENERAL_CHANGE_LANGUAGE__PREVIOUS_LANGUAGE_VALUES = " in checks
    assert "SETTINGS_GENERAL_CHANGE_LANGUAGE = EventSpec('settings/general/change-language'" in (
        built / "python" / PACKAGE / "_catalog.py"
    ).read_text("utf-8")
    assert "class SettingsGeneralChangeLanguage(BaseModel):" in (built / "models" / f"{PACKAGE}_models.py").read_text(
        "utf-8"
    )
    page = (built / "docs" / "events" / "settings.md").read_text("utf-8")
    assert page.count('<a id="settings-general-change-language"></a>') == 1
    index = (built / "docs" / "index.md").read_text("utf-8")
    assert "](events/settings.md#settings-general-change-language)" in index


def test_schemas_sit_in_a_folder_per_segment(catalog: Catalog, built: Path) -> None:
    schema = json.loads((built / "schemas/settings/general/change-language.v1.schema.json").read_text("utf-8"))
    assert schema["$id"] == f"{BASE_URL}events/settings/general/change-language/v1.schema.json"
    assert schema["title"] == NAME and schema["properties"]["event"] == {"const": NAME}
    # A name that is a prefix of another (settings/tor, settings/tor/onion-links) keeps both files.
    assert (built / "schemas/settings/tor.v1.schema.json").is_file()
    assert (built / "schemas/settings/tor/onion-links.v1.schema.json").is_file()
    written = sorted(p.relative_to(built / "schemas").as_posix() for p in (built / "schemas").rglob("*.v1.schema.json"))
    assert written == sorted(f"{e.name}.v1.schema.json" for e in catalog.events)
    bundle = json.loads((built / "schemas/bundle.schema.json").read_text("utf-8"))
    assert {"$ref": schema["$id"]} in bundle["oneOf"]


@pytest.mark.parametrize("name", ["app/general/change-language", "app/a/b/c", "app/b"])
def test_two_to_four_segments_are_accepted(name: str) -> None:
    assert diagnostics_of(with_event(name)) == []


@pytest.mark.parametrize("name", ["app/a/b/c/d", "app", "app//b", "app/b/", "app/General/b", "app/b_c/d"])
def test_other_names_are_a_located_error(name: str) -> None:
    text = with_event(name)
    line = text.splitlines().index(f"  {name}:") + 1
    assert [(code, at) for code, at, _ in diagnostics_of(text)] == [("CF020", line)]


def test_events_with_one_emitter_name_are_a_located_error() -> None:
    text = with_event("app/b/c", with_event("app/b-c"))
    line = text.splitlines().index("  app/b/c:") + 1
    assert diagnostics_of(text) == [
        ("CF021", line, "events 'app/b-c' and 'app/b/c' both become the Python function app_b_c()")
    ]


def test_the_domain_is_the_first_segment(tmp_path: Path) -> None:
    catalog = tmp_path / "events.yaml"
    catalog.write_text(with_event("shop/general/opened"), "utf-8")
    code, output = run_cli("lint", str(catalog))
    assert code == 1
    assert "error LN001: event 'shop/general/opened' is in domain 'shop', which is not in app.domains" in output


def test_diff_follows_nested_names(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text(HARDWARE_WALLET.read_text("utf-8"), "utf-8")
    new = tmp_path / "events.yaml"
    new.write_text(
        HARDWARE_WALLET.read_text("utf-8")
        .replace('  version: "1.0"\n', '  version: "2.0"\n', 1)
        .replace(
            "  settings/general/change-fiat:\n",
            "  settings/general/change-currency:\n    renamed_from: settings/general/change-fiat\n",
        ),
        "utf-8",
    )
    code, output = run_cli("diff", str(new), "--base-file", str(base), "--format", "json")
    assert code == 0, output
    changes = [(c["kind"], c["event"], c["message"]) for c in json.loads(output)["changes"]]
    assert changes == [
        (
            "event-renamed",
            "settings/general/change-currency",
            "event 'settings/general/change-currency': renamed from 'settings/general/change-fiat'",
        )
    ]


def test_the_collector_stores_nested_names_in_readable_folders(
    catalog: Catalog, built: Path, package: ModuleType, tmp_path: Path
) -> None:
    earlier, problems = load_earlier(built / "schemas")  # `collect --schemas OLD_BUILD` reads them back
    assert problems == [] and len(earlier) == len(catalog.events)
    data_dir = tmp_path / "collected"
    with collector(data_dir, schemas=registry(catalog)[0]) as running:
        package.configure(
            app_version="24.4.1",
            sinks=[package.HttpSink(running.url, **FAST)],
            data_dir=tmp_path / "app",
            consent="all",
            context={"platform": "desktop"},
        )
        package.events.settings_tor_onion_links(value=True)
        package.events.settings_general_change_fiat(fiat="eur")
        assert package.flush(10.0)
        assert running.app.counts.accepted == 2
    folders = sorted(p.name for p in (data_dir / "events").iterdir())
    assert folders == ["settings.general.change-fiat", "settings.tor.onion-links"]
    code, output = run_cli("report", "--data-dir", str(data_dir), "--format", "json")
    assert code == 0, output
    assert {"settings/general/change-fiat", "settings/tor/onion-links"} <= set(
        re.findall(r'"([a-z/-]+/[a-z-]+)"', output)
    )


# ------------------------------------------------------------------------------------------ docs


def in_page_order(catalog: Catalog, domain: str) -> list[str]:
    """The domain's events as its docs list them: those named directly in the domain, then by sub-domain."""
    names = [e.name for e in catalog.events if e.domain == domain]
    return [n for n in names if n.count("/") == 1] + [n for n in names if n.count("/") > 1]


def test_a_domain_page_has_contents_and_a_section_per_sub_domain(catalog: Catalog, built: Path) -> None:
    page = (built / "docs/events/settings.md").read_text("utf-8")
    contents, _, body = page.partition("\n## ")
    by_section = {
        heading: re.findall(r"^### `([^`]+)`$", text, re.M)
        for heading, text in re.findall(r"^## (\S+)\n(.*?)(?=^## |\Z)", "## " + body, re.M | re.S)
    }
    assert by_section == {
        "settings": ["settings/tor"],
        "settings/analytics": ["settings/analytics/disabled"],
        "settings/coins": ["settings/coins/backend"],
        "settings/device": [e.name for e in catalog.events if e.name.startswith("settings/device/")],
        "settings/general": [e.name for e in catalog.events if e.name.startswith("settings/general/")],
        "settings/tor": ["settings/tor/onion-links"],
    }
    assert "- [settings/general](#settings--general): [`settings/general/change-bitcoin-unit`]" in contents
    for event in (e for e in catalog.events if e.domain == "settings"):
        anchor = event.identifier.replace("_", "-")
        assert f"[`{event.name}`](#{anchor})" in contents
        assert page.count(f'<a id="{anchor}"></a>') == 1
    for section in ("settings--", "settings--coins", "settings--device", "settings--general", "settings--tor"):
        assert page.count(f'<a id="{section}"></a>') == 1
    # A domain without sub-domains keeps one level: its events are the page's sections.
    trade = (built / "docs/events/trade.md").read_text("utf-8")
    assert re.findall(r"^##+ .*$", trade, re.M) == ["## `trade/compare-offers`", "## `trade/confirm-trade`"]


def test_the_index_lists_events_by_domain(catalog: Catalog, built: Path) -> None:
    index = (built / "docs/index.md").read_text("utf-8")
    domains = sorted({e.domain for e in catalog.events})
    assert " · \n".join(f"[{d}](#{d}--)" for d in domains) in index
    for domain in domains:
        heading = f'<a id="{domain}--"></a>\n\n### [{domain}](events/{domain}.md)\n\n'
        table = index.split(heading, 1)[1].split("\n\n", 1)[0]
        assert re.findall(r"^\| \[`([^`]+)`\]", table, re.M) == in_page_order(catalog, domain)


def test_the_html_page_groups_events_and_hides_emptied_groups(catalog: Catalog, built: Path, tmp_path: Path) -> None:
    from browser import chromium, open_page, type_search

    with chromium(tmp_path / "profile") as browser:
        open_page(browser, built / "docs/one-page.html")
        shown = browser.execute_script(
            "return Array.from(document.querySelectorAll('section.domain')).map(function (s) {"
            "  return [s.id, s.querySelector('h2').innerText,"
            "    Array.from(s.querySelectorAll('h3.sub-domain-title')).map(function (h) { return h.innerText; }),"
            "    Array.from(s.querySelectorAll('article.event')).map(function (a) { return a.dataset.name; })]; })"
        )
        assert [domain for _, domain, _, _ in shown] == sorted({e.domain for e in catalog.events})
        settings = next(s for s in shown if s[1] == "settings")
        assert settings[0] == "settings--"
        assert settings[2] == [
            "settings/analytics",
            "settings/coins",
            "settings/device",
            "settings/general",
            "settings/tor",
        ]
        assert settings[3] == in_page_order(catalog, "settings")
        assert browser.execute_script("return document.querySelectorAll('#contents a').length") == len(shown)

        type_search(browser, "change-language")
        visible = browser.execute_script(
            "return Array.from(document.querySelectorAll('section.domain, section.sub-domain, article.event'))"
            "  .filter(function (e) { return e.offsetParent !== null; })"
            "  .map(function (e) { return e.id || e.dataset.name; })"
        )
        assert visible == ["settings--", "settings--general", "settings-general-change-language"]
