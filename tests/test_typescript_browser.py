"""The TypeScript runtime in a real browser: a page in headless Chromium (Debian's) loads the
generated package and the runtime as browser ES modules (an import map, no bundler) from one
origin, and sends to the collector on another, through CORS, gzipped with CompressionStream."""

from __future__ import annotations

import functools
import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import chromium
from local_collector import bad_rows, collector, stored
from node import compile_package, runtime
from selenium.webdriver.remote.webdriver import WebDriver

from conftest import FIXTURES, build_text

EXAMPLE = FIXTURES.parent.parent / "events.yaml"

PAGE = """<!doctype html>
<meta charset="utf-8">
<title>telemetry page</title>
<script type="importmap">{imports}</script>
<pre id="result"></pre>
<script type="module">
import {{ configure, enable, events, flush, HttpSink, status }} from "vigilant-trader-telemetry";
configure({{ appVersion: "3.2.0", sinks: [new HttpSink({endpoint})] }});
enable();
events.appStarted({{ command: "watch", interactive: false }});
events.commandInvoked({{ command: "test-drive" }});
const delivered = await flush(20000);
const stored = Object.keys(localStorage).sort();
document.getElementById("result").textContent = JSON.stringify({{ delivered, dropped: status().dropped, stored }});
</script>
"""


HIDDEN_PAGE = """<!doctype html>
<meta charset="utf-8">
<title>telemetry page</title>
<script type="importmap">{imports}</script>
<pre id="result"></pre>
<script type="module">
import {{ configure, enable, events, HttpSink }} from "vigilant-trader-telemetry";
configure({{ appVersion: "3.2.0", sinks: [new HttpSink({endpoint}, {{ batchIntervalMs: 600000 }})] }});
enable();
events.commandInvoked({{ command: "watch" }});
document.getElementById("result").textContent = "queued";
</script>
"""


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder served over HTTP on a loopback port of its own: the page's origin."""
    root = tmp_path / "site"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _serve_packages(root: Path, tmp_path: Path) -> str:
    """Put the compiled example package and the runtime on the site; the page's import map."""
    out = tmp_path / "generated"
    build_text(EXAMPLE.read_text("utf-8"), out)
    (root / "package").symlink_to(compile_package(out / "typescript"), target_is_directory=True)
    (root / "runtime").symlink_to(runtime(), target_is_directory=True)
    imports = {
        "vigilant-trader-telemetry": "/package/dist/index.js",
        "telemetry-gen-runtime": "/runtime/dist/index.js",
        "telemetry-gen-runtime/testing": "/runtime/dist/testing.js",
        "#platform": "/runtime/dist/platform-browser.js",
    }
    return json.dumps({"imports": imports})


def _result(driver: WebDriver) -> str:
    deadline = time.monotonic() + 60
    while not (text := driver.execute_script("return document.getElementById('result').textContent")):
        # Chromium's driver has get_log; the stubs do not.
        assert time.monotonic() < deadline, f"the page reported nothing: {driver.get_log('browser')}"  # type: ignore[attr-defined]
        time.sleep(0.2)
    return str(text)


def test_a_page_in_chromium_sends_to_the_collector_of_another_origin(site: tuple[Path, str], tmp_path: Path) -> None:
    root, origin = site
    imports = _serve_packages(root, tmp_path)
    with collector(tmp_path / "collected") as running:
        page = PAGE.format(imports=imports, endpoint=json.dumps(running.url))
        (root / "index.html").write_text(page, "utf-8")
        with chromium(tmp_path / "profile") as driver:
            driver.get(f"{origin}/index.html")
            text = _result(driver)
    result = json.loads(text)
    assert result["delivered"] is True and result["dropped"] == {}
    assert result["stored"] == ["vigilant-trader/telemetry/consent.json", "vigilant-trader/telemetry/user_id.json"]
    rows = stored(tmp_path / "collected")
    assert sorted(row["event"] for row in rows) == ["app/started", "command/invoked"]
    assert bad_rows(tmp_path / "collected") == []


def test_what_is_queued_leaves_when_the_page_is_left(site: tuple[Path, str], tmp_path: Path) -> None:
    """The batch would wait ten minutes; leaving the page hands it to the browser (keepalive)."""
    root, origin = site
    imports = _serve_packages(root, tmp_path)
    with collector(tmp_path / "collected") as running:
        page = HIDDEN_PAGE.format(imports=imports, endpoint=json.dumps(running.url))
        (root / "index.html").write_text(page, "utf-8")
        with chromium(tmp_path / "profile") as driver:
            driver.get(f"{origin}/index.html")
            assert _result(driver) == "queued"
            assert stored(tmp_path / "collected") == []
            driver.get("about:blank")
            deadline = time.monotonic() + 30
            while not stored(tmp_path / "collected"):
                assert time.monotonic() < deadline, "nothing arrived after the page was left"
                time.sleep(0.2)
    assert [row["event"] for row in stored(tmp_path / "collected")] == ["command/invoked"]
