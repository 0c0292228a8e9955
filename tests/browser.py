"""Drive the Debian Chromium headless through selenium: a fresh profile, no network, screenshots kept.

The tests that use it fail (they never skip) when Chromium is missing: the project's test script
installs it, and a docs page nobody opened in a browser is not tested.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver

from conftest import REPO

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = REPO / "test-artifacts"
MISSING = (
    f"headless Chromium is needed for the docs page tests, but {CHROMIUM} or {CHROMEDRIVER} is missing: "
    "run `apt-get install chromium chromium-driver`"
)
ARGUMENTS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1600",
)


def chromium_missing() -> str | None:
    """Why the browser cannot start, or None."""
    return None if CHROMIUM.is_file() and CHROMEDRIVER.is_file() else MISSING


@contextmanager
def chromium(profile: Path) -> Iterator[WebDriver]:
    """A headless Chromium with its own profile folder and the performance (network) log on."""
    if (problem := chromium_missing()) is not None:
        pytest.fail(problem, pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ARGUMENTS:
        options.add_argument(argument)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def open_page(driver: WebDriver, page: Path) -> list[str]:
    """Load a local file; return the URL of every request the load made (its own included)."""
    driver.get("about:blank")
    # Chromium's driver has get_log; the stubs do not.
    driver.get_log("performance")  # type: ignore[attr-defined]  # drop what start-up and earlier pages logged
    driver.get(page.resolve().as_uri())
    return requested_urls(driver)


def requested_urls(driver: WebDriver) -> list[str]:
    """URLs of the requests logged since the last look at the performance log."""
    urls = []
    # Chromium's driver has get_log; the stubs do not.
    for entry in driver.get_log("performance"):  # type: ignore[attr-defined]
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


_STATE_SCRIPT = """
var cards = Array.from(document.querySelectorAll('article.event'));
function names(list) { return list.map(function (card) { return card.getAttribute('data-name'); }); }
var noMatch = document.getElementById('no-match');
return {
  visible: names(cards.filter(function (card) { return card.checkVisibility() && card.getClientRects().length > 0; })),
  unhidden: names(cards.filter(function (card) { return !card.hasAttribute('hidden'); })),
  count: document.getElementById('count').innerText,
  noMatch: noMatch.checkVisibility() && noMatch.getClientRects().length > 0
};
"""


def page_state(driver: WebDriver) -> dict[str, object]:
    """In one round trip: the event cards a reader sees (rendered, not hidden by CSS) and those without
    the `hidden` attribute, both in page order; the counter's text; whether `#no-match` shows."""
    result = driver.execute_script(_STATE_SCRIPT)
    assert isinstance(result, dict)
    return result


def type_search(driver: WebDriver, text: str) -> None:
    """Replace the search box's text by typing, key by key, as a reader does."""
    box = driver.find_element(By.ID, "search")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.BACKSPACE)
    if text:
        box.send_keys(text)


def set_checkbox(driver: WebDriver, name: str, value: str, checked: bool) -> None:
    """Click a filter checkbox if it is not already in the wanted state."""
    box = driver.find_element(By.CSS_SELECTOR, f"input[name={name}][value={value}]")
    if box.is_selected() != checked:
        box.click()


def checked_boxes(driver: WebDriver, name: str) -> list[str]:
    """Values of the checked boxes of a filter, in page order."""
    result = driver.execute_script(
        "return Array.from(document.querySelectorAll('input[name=' + arguments[0] + ']:checked'))"
        ".map(function (box) { return box.value; });",
        name,
    )
    assert isinstance(result, list)
    return [str(value) for value in result]


def text_of(driver: WebDriver, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def screenshot(driver: WebDriver, name: str) -> Path:
    """Save the viewport as test-artifacts/NAME (the folder is gitignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    assert driver.save_screenshot(str(path)), f"no screenshot written to {path}"
    return path
