"""Targets 1 and 2: what emitting the reference event costs on the caller's thread.

Run by `benchmarks.run` as `python -m benchmarks.emit --part emit|consent-off ...`; the `emit`
part runs in `.venv-compare` because it measures segment-analytics-python, posthog, jsonschema and
fastjsonschema in the same process, on the same event.

What is measured, per call, on the calling thread (background threads are kept from running, so
that they cannot steal time from the caller and blur the comparison):
- telemetry-gen: the generated emitter with consent `all`, production mode: build the data dict,
  validate it with the event's generated check, queue it. The delivery thread is started by the first
  event, as in an app, but it sleeps through the loop (`batch_size` and `batch_interval` too
  large to wake it); it makes each envelope (id, timestamp, context) when it sends the batch.
- the floor: a function with the same keyword arguments that builds the same dict and appends
  it to a `collections.deque`.
- segment-analytics-python `Client.track()` and posthog `Client.capture()`, configured to send
  (`send=True`, `sync_mode=False`) to 127.0.0.1 on a closed port, with a queue larger than the
  loop. Their consumer threads are stopped after start-up (Segment's `Client.join()`; posthog's
  consumers `pause()` + `join()` after the first capture), so each call does all its
  caller-side work (message build, uuid, timestamps, system context, size check, queue put) and
  nothing is sent. Neither validates the properties.
- validators alone, on the event's data: telemetry-gen's generated check, jsonschema's
  pre-built `Draft202012Validator(...).is_valid`, and `fastjsonschema.compile(...)`.
- a rejected event (one field out of bounds): validation fails, the event is counted and dropped.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
import tempfile
import threading
from collections import deque
from pathlib import Path
from typing import Any

from .catalogs import INVALID_ARGUMENTS, PACKAGE, REFERENCE_ARGUMENTS, REFERENCE_EMITTER, REFERENCE_EVENT
from .stats import Loop, emit_json, time_loops

QUEUE: deque[dict[str, Any]] = deque()
USER_ID = "4c5b3c9d2e1f4a5b8c7d6e5f4a3b2c1d"


def floor(
    *,
    command: str,
    run_mode: str,
    retry_count: int,
    duration_seconds: float,
    interactive: bool,
    is_first_start: bool,
    firmware_version: str,
    enabled_features: list[str] | None = None,
) -> None:
    """The least any emitter must do: build the event's dict and queue it."""
    data: dict[str, Any] = {
        "command": command,
        "run_mode": run_mode,
        "retry_count": retry_count,
        "duration_seconds": duration_seconds,
        "interactive": interactive,
        "is_first_start": is_first_start,
        "firmware_version": firmware_version,
    }
    if enabled_features is not None:
        data["enabled_features"] = enabled_features
    QUEUE.append(data)


def empty(
    *,
    command: str,
    run_mode: str,
    retry_count: int,
    duration_seconds: float,
    interactive: bool,
    is_first_start: bool,
    firmware_version: str,
    enabled_features: list[str] | None = None,
) -> None:
    """An empty function with the emitter's keyword arguments."""


def call(function: str, arguments: dict[str, object]) -> str:
    """A call statement with literal keyword arguments, as app code writes it."""
    return f"{function}({', '.join(f'{name}={value!r}' for name, value in arguments.items())})"


def closed_port() -> int:
    """A local port nothing listens on: anything sent there is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def quiet() -> None:
    """Keep the libraries' warnings (and our dropped-event warning) out of the results."""
    for name in ("telemetry", "segment", "posthog", "backoff", "urllib3"):
        logger = logging.getLogger(name)
        logger.addHandler(logging.NullHandler())
        logger.propagate = False


# The runtime the generated package depends on, from this checkout: the comparison venv does not
# install it.
RUNTIME = Path(__file__).resolve().parents[1] / "runtime" / "python"


def import_package(package_dir: Path) -> Any:
    sys.path[:0] = [str(package_dir), str(RUNTIME)]
    return __import__(PACKAGE)


def consent_off(package_dir: Path, repeats: int, seconds: float) -> dict[str, object]:
    telemetry = import_package(package_dir)
    telemetry.configure(app_version="1.0", consent="off", data_dir=tempfile.mkdtemp())
    namespace: dict[str, object] = {"emit": getattr(telemetry.events, REFERENCE_EMITTER), "empty": empty}
    loops = [
        Loop("emit, consent off", call("emit", REFERENCE_ARGUMENTS)),
        Loop("empty function, same arguments", call("empty", REFERENCE_ARGUMENTS)),
    ]
    figures = time_loops(loops, namespace, repeats=repeats, seconds=seconds)
    return {"figures": figures, "threads": threading.active_count()}


def emit(package_dir: Path, schema_path: Path, repeats: int, seconds: float) -> dict[str, object]:
    import fastjsonschema  # type: ignore[import-not-found]
    import jsonschema
    import posthog  # type: ignore[import-not-found]
    from segment.analytics import Client as SegmentClient  # type: ignore[import-not-found]

    quiet()
    telemetry = import_package(package_dir)
    runtime = sys.modules["telemetry_gen_runtime"]
    checks = sys.modules[f"{PACKAGE}._checks"]

    class Discard(runtime.Sink):  # type: ignore[misc,name-defined]
        """A background sink that drops what it gets (it is never reached during a loop)."""

        def write(self, events: object) -> None:
            pass

    class DiscardNow(Discard):
        background = False  # written on the caller's thread: the envelope is made there

    huge = 1 << 40
    data_dir = tempfile.mkdtemp()
    telemetry.configure(
        app_version="1.0",
        consent="all",
        sinks=[Discard()],
        data_dir=data_dir,
        queue_size=huge,
        batch_size=huge,
        batch_interval=3600.0,
    )
    client = telemetry._catalog.client
    emitter = getattr(telemetry.events, REFERENCE_EMITTER)

    def clear_ours() -> None:
        dispatcher = client._router._dispatcher if client._router is not None else None
        if dispatcher is not None:
            dispatcher._queue.clear()

    port = closed_port()
    host = f"http://127.0.0.1:{port}"
    segment = SegmentClient(write_key="bench", host=host, send=True, sync_mode=False, max_queue_size=huge)
    segment.join()  # stops its consumer thread; track() still queues
    hog = posthog.Posthog("phc_bench", host=host, send=True, sync_mode=False, max_queue_size=huge)
    hog.capture("bench/start", distinct_id=USER_ID)  # starts its consumer threads
    for consumer in hog.consumers or []:
        consumer.pause()
        consumer.join()

    def clear_theirs() -> None:
        segment.queue.queue.clear()
        hog.queue.queue.clear()
        QUEUE.clear()

    schema = json.loads(schema_path.read_text("utf-8"))["properties"]["data"]
    data = dict(REFERENCE_ARGUMENTS)
    invalid = dict(INVALID_ARGUMENTS)
    validator = jsonschema.Draft202012Validator(schema)
    fast = fastjsonschema.compile(schema)
    check = getattr(checks, f"check_{REFERENCE_EMITTER}")
    assert validator.is_valid(data) and fast(data) is not None and not check(data)
    assert not validator.is_valid(invalid) and check(invalid)

    namespace: dict[str, object] = {
        "emit": emitter,
        "floor": floor,
        "track": segment.track,
        "capture": hog.capture,
        "check": check,
        "is_valid": validator.is_valid,
        "fast": fast,
        "data": data,
        "clear_ours": clear_ours,
        "clear_theirs": clear_theirs,
    }
    properties = repr(REFERENCE_ARGUMENTS)
    loops = [
        Loop("telemetry-gen emit", call("emit", REFERENCE_ARGUMENTS), "clear_ours()"),
        Loop("floor: dict + deque.append", call("floor", REFERENCE_ARGUMENTS), "clear_theirs()"),
        Loop(
            "segment-analytics-python track()",
            f"track(user_id={USER_ID!r}, event={REFERENCE_EVENT!r}, properties={properties})",
            "clear_theirs()",
        ),
        Loop(
            "posthog capture()",
            f"capture({REFERENCE_EVENT!r}, distinct_id={USER_ID!r}, properties={properties})",
            "clear_theirs()",
        ),
        Loop("validate: telemetry-gen check", "check(data)"),
        Loop("validate: jsonschema (pre-built)", "is_valid(data)"),
        Loop("validate: fastjsonschema", "fast(data)"),
        Loop("telemetry-gen emit, rejected", call("emit", INVALID_ARGUMENTS), "clear_ours()"),
    ]
    figures = time_loops(loops, namespace, repeats=repeats, seconds=seconds)
    delivered = client.status()
    assert delivered.dropped.get("bench/reference.retry_count: invalid", 0) > 0, delivered.dropped
    assert all(reason.endswith(": invalid") for reason in delivered.dropped), delivered.dropped

    # The same emit with the envelope made on the caller's thread (what a synchronous sink costs).
    telemetry.configure(app_version="1.0", consent="all", sinks=[DiscardNow()], data_dir=data_dir)
    figures.update(
        time_loops(
            [Loop("telemetry-gen emit, envelope on the caller", call("emit", REFERENCE_ARGUMENTS))],
            namespace,
            repeats=repeats,
            seconds=seconds,
        )
    )
    versions = {
        name: _version(name) for name in ("segment-analytics-python", "posthog", "jsonschema", "fastjsonschema")
    }
    return {"figures": figures, "versions": versions}


def _version(distribution: str) -> str:
    from importlib.metadata import version

    return version(distribution)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--part", choices=["emit", "consent-off"], required=True)
    parser.add_argument("--package-dir", type=Path, required=True)
    parser.add_argument("--schema", type=Path)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--seconds", type=float, default=0.2, help="about how long one repeat of a loop takes")
    args = parser.parse_args()
    os.environ.pop("DO_NOT_TRACK", None)
    if args.part == "consent-off":
        emit_json(consent_off(args.package_dir, args.repeats, args.seconds))
    else:
        emit_json(emit(args.package_dir, args.schema, args.repeats, args.seconds))


if __name__ == "__main__":
    main()
