"""The hardware-wallet app's catalog (examples/hardware-wallet) end to end: what its seed page promises
about the context the app gives, reports the user sends, and the record of opting out, through a real
collector on 127.0.0.1 that serves the catalog."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
from local_collector import collector, stored
from local_endpoint import FAST

from conftest import import_generated
from telemetry_gen.catalog.model import Catalog
from telemetry_gen.collector.schemas import registry


@pytest.fixture
def package(hardware_wallet_build: Path) -> ModuleType:
    return import_generated(hardware_wallet_build, "hardware_wallet_telemetry")


def test_only_the_users_report_then_usage_then_the_decision_to_stop_are_recorded(
    hardware_wallet: Catalog, package: ModuleType, tmp_path: Path
) -> None:
    schemas, problems = registry(hardware_wallet)
    assert problems == []
    with collector(tmp_path / "collected", schemas=schemas) as running:
        package.configure(
            app_version="24.4.1",
            sinks=[package.HttpSink(running.url, **FAST)],
            data_dir=tmp_path / "app",
            context={"platform": "desktop", "isEarlyAccess": False},
        )
        # Usage data is off: the guide's feedback form goes only because the user sends it, without ids.
        report = package.feedback.guide_feedback_submit(type="rating", rating=5)
        assert report.envelope["data"] == {"type": "rating", "rating": 5}
        assert not {"instanceId", "sessionId"} & set(report.envelope["context"])
        package.events.settings_tor_onion_links(value=True)  # not sent: the user has not opted in
        assert report.send()
        assert not (tmp_path / "app").exists()  # nothing stored for the report

        package.enable()
        package.events.settings_tor_onion_links(value=True)
        assert package.flush(10.0)
        package.disable()  # the opt-out record goes first, then the id is deleted
        package.events.settings_tor_onion_links(value=False)
        assert package.flush(10.0)
        assert running.app.counts.bad == 0
    events = stored(tmp_path / "collected")
    by_name = {e["event"]: e for e in events}
    assert sorted(by_name) == ["guide/feedback/submit", "settings/analytics/disabled", "settings/tor/onion-links"]
    assert len(events) == 3
    usage, record = by_name["settings/tor/onion-links"], by_name["settings/analytics/disabled"]
    assert record["data"] == {"decision": "disabled"}
    assert record["context"]["instanceId"] == usage["context"]["instanceId"]
    for event in events:  # the app's own context goes with every event
        assert (event["context"]["platform"], event["context"]["isEarlyAccess"]) == ("desktop", False)
    assert not (tmp_path / "app" / "user_id.json").exists()
