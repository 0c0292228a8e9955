"""A tiny stand-in for the Vigilant Trader CLI, showing the generated emitters at work.

It uses the package `telemetry-gen build` wrote to generated/python/, installed as an app
installs it (`pip install ./runtime/python ./generated/python`), writes what it sends to a local
JSONL sink and, with `--endpoint`, also sends it over HTTP to a collector on this machine
(`telemetry-gen collect`); then it prints what was sent. Run it through `scripts/demo`, which
builds the catalog, installs the package into a venv of the app's own and starts the collector first.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import sys
import tempfile
import urllib.request
from pathlib import Path

import vigilant_trader_telemetry as telemetry
from vigilant_trader_telemetry import events


def run_command() -> None:
    """What the real CLI does when `vigilant-trader watch` starts."""
    events.app_started(command="watch", interactive=False, enabled_features=["tor"])
    events.command_watch_session_started(
        watch_session_id="7f3c9a0e5b2d4c18a6e1f0d2b3c4a5e6",
        exchange="kraken",
        dry_run=True,
        trigger_kinds=["drop", "time-interval"],
        polling_interval_seconds=60,
    )


def post_undeclared_event(endpoint: str) -> int:
    """What a client that bypasses the runtime might send: an event the catalog does not declare."""
    batch = {"sent_at": "2026-01-01T00:00:00Z", "events": [{"event": "app/crashed", "data": {"where": "main"}}]}
    request = urllib.request.Request(
        endpoint,
        gzip.compress(json.dumps(batch).encode()),
        {"Content-Type": "application/json", "Content-Encoding": "gzip"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        answer: dict[str, int] = json.load(response)
    print(f"   the collector answered {response.status}: {json.dumps(answer, sort_keys=True)}")
    return answer["bad"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", help="a collector's URL (telemetry-gen collect) to send the events to")
    parser.add_argument("--workdir", type=Path, help="a new folder for the local sink and the user data")
    options = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="   runtime log: %(message)s", stream=sys.stdout)
    workdir: Path = options.workdir or Path(tempfile.mkdtemp(prefix="telemetry-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    sink_file = workdir / "sent.jsonl"
    data_dir = workdir / "user-data"
    sinks: list[telemetry.Sink] = [telemetry.JsonlSink(sink_file)]
    if options.endpoint:
        sinks.append(telemetry.HttpSink(options.endpoint))
    telemetry.configure(app_version="3.2.0", commit="4f2a9c1", sinks=sinks, data_dir=data_dir)

    print("1. Before the user opts in: emitters run, nothing is sent or stored.")
    run_command()
    print(f"   {telemetry.status().describe().splitlines()[0]}; files: {sorted(p.name for p in workdir.iterdir())}")

    print("2. The user runs `vigilant-trader telemetry enable`:")
    telemetry.enable()
    run_command()
    events.perf_command_timing(
        command="watch", total_ms=812.5, phases={"import_ms": 95.0, "exchange_connect_ms": 640.2}
    )
    print("3. A buggy call (value outside the catalog) is dropped and counted, never sent:")
    events.app_started(command="rm -rf /", interactive=False)  # type: ignore[arg-type]
    print("   " + "\n   ".join(telemetry.status().describe().splitlines()))

    telemetry.flush()  # delivery runs on a background thread; wait for it before reading the file
    sent = [json.loads(line) for line in sink_file.read_text("utf-8").splitlines()]
    where = f"the collector at {options.endpoint} (a copy in {sink_file})" if options.endpoint else str(sink_file)
    print(f"4. Sent {len(sent)} events to {where}:")
    undelivered = {reason: count for reason, count in telemetry.status().dropped.items() if reason.startswith("http")}
    for event in sent:
        print(f"   {event['timestamp']}  {event['event']:<28} {json.dumps(event['data'], sort_keys=True)}")
    print(f"   context of the first: {json.dumps(sent[0]['context'], sort_keys=True)}")

    telemetry.disable()
    print(f"5. The user opts out: the instance id is deleted -> {sorted(p.name for p in data_dir.iterdir())}")
    run_command()
    still = len(sink_file.read_text("utf-8").splitlines())
    print(f"   events after opting out: {still - len(sent)}")
    if undelivered:
        print(f"   not delivered: {undelivered}")
    bad = 0
    if options.endpoint:
        print("6. A client that bypasses the runtime posts an event the catalog does not declare:")
        bad = post_undeclared_event(options.endpoint)
    return 0 if len(sent) == 3 and still == len(sent) and not undelivered and bad == bool(options.endpoint) else 1


if __name__ == "__main__":
    raise SystemExit(main())
