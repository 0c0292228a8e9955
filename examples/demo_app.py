"""A tiny stand-in for the Vigilant Trader CLI, showing the generated emitters at work.

It uses the package `telemetry-gen build` wrote to generated/python/, sends events into a local
JSONL sink (nothing leaves the machine) and prints what was sent. Run it through
`scripts/demo`, which builds the catalog first.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "generated" / "python"))

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


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="   runtime log: %(message)s", stream=sys.stdout)
    workdir = Path(tempfile.mkdtemp(prefix="telemetry-demo-"))
    sink_file = workdir / "sent.jsonl"
    data_dir = workdir / "user-data"
    telemetry.configure(
        app_version="3.2.0", commit="4f2a9c1", sinks=[telemetry.JsonlSink(sink_file)], data_dir=data_dir
    )

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
    print(f"4. The local sink {sink_file} received {len(sent)} events:")
    for event in sent:
        print(f"   {event['timestamp']}  {event['event']:<28} {json.dumps(event['data'], sort_keys=True)}")
    print(f"   context of the first: {json.dumps(sent[0]['context'], sort_keys=True)}")

    telemetry.disable()
    print(f"5. The user opts out: the instance id is deleted -> {sorted(p.name for p in data_dir.iterdir())}")
    run_command()
    still = len(sink_file.read_text("utf-8").splitlines())
    print(f"   events after opting out: {still - len(sent)}")
    return 0 if len(sent) == 3 and still == len(sent) else 1


if __name__ == "__main__":
    raise SystemExit(main())
