"""Browsers may send to the collector from web pages (the TypeScript runtime): CORS preflights are
answered, every answer of the events endpoint says which origins may read it, and `--cors-origin`
narrows that to the app's own pages (`tests/test_typescript_browser.py` sends from Chromium)."""

from __future__ import annotations

from pathlib import Path

from local_collector import collector, envelope, post_events, request, start_command, stored

from telemetry_gen.collector.app import Cors

PREFLIGHT = {
    "Origin": "https://app.example",
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-encoding,content-type",
}


def test_a_preflight_is_answered_and_any_page_may_send_by_default(tmp_path: Path) -> None:
    with collector(tmp_path) as running:
        status, _, headers = request(running.url, method="OPTIONS", headers=PREFLIGHT)
        assert status == 200
        assert headers["access-control-allow-origin"] == "*"
        assert headers["access-control-allow-methods"] == "GET, POST"
        allowed = {name.strip().lower() for name in headers["access-control-allow-headers"].split(",")}
        assert {"content-type", "content-encoding", "authorization"} <= allowed
        status, _ = post_events(running.url, [envelope()], {"Origin": "https://app.example"})
        assert status == 200
        # A refusal carries the header too, so the page's runtime can read why and not retry.
        status, _, headers = request(running.url, b"{}", {"Content-Type": "text/plain", "Origin": "https://x.example"})
        assert status == 415 and headers["access-control-allow-origin"] == "*"
    assert len(stored(tmp_path)) == 1


def test_only_the_named_origins_may_read_answers(tmp_path: Path) -> None:
    with collector(tmp_path, cors=Cors(("https://app.example",))) as running:
        _, _, headers = request(running.url, method="OPTIONS", headers=PREFLIGHT)
        assert headers["access-control-allow-origin"] == "https://app.example"
        assert headers["vary"] == "Origin"
        _, _, headers = request(running.url, method="OPTIONS", headers={**PREFLIGHT, "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in headers


def test_without_cors_a_preflight_is_refused(tmp_path: Path) -> None:
    with collector(tmp_path, cors=Cors(())) as running:
        status, _, headers = request(running.url, method="OPTIONS", headers=PREFLIGHT)
        assert status == 405
        assert not any(name.startswith("access-control-") for name in headers)


def test_the_command_takes_cors_origins(tmp_path: Path) -> None:
    process, url = start_command(tmp_path, 0, "--cors-origin", "https://app.example", "--cors-origin", "http://x:1")
    try:
        _, _, headers = request(url, method="OPTIONS", headers={**PREFLIGHT, "Origin": "http://x:1"})
        assert headers["access-control-allow-origin"] == "http://x:1"
    finally:
        process.terminate()
        process.wait(30)
    process, url = start_command(tmp_path, 0, "--cors-origin", "none")
    try:
        status, _, _ = request(url, method="OPTIONS", headers=PREFLIGHT)
        assert status == 405
    finally:
        process.terminate()
        process.wait(30)
