"""The collector under abuse, through real sockets on 127.0.0.1: requests that are cheap to send and
costly to check are answered within a second."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path
from typing import Any

import pytest
from local_collector import (
    JSON_GZIP,
    bad_rows,
    collector,
    envelope,
    example_registry,
    request,
)

from telemetry_gen.collector import schemas

ANSWERED_WITHIN = 1.0  # seconds, for a request that abuses the collector


def mixed_features(count: int) -> list[object]:
    """`count` items, all different, half numbers and half strings: jsonschema cannot sort them to
    test uniqueness, so it compares every pair."""
    return [f"feature-{n}" if n % 2 else n for n in range(count)]


def started_with_features(features: list[object], number: int = 0) -> dict[str, Any]:
    """An `app/started` event whose `enabled_features` (at most 5, unique) is `features`."""
    return envelope(
        "app/started", number=number, data={"command": "watch", "interactive": True, "enabled_features": features}
    )


def timed_post(url: str, events: list[object], timeout: float = 5.0) -> tuple[int, dict[str, Any], float]:
    body = gzip.compress(json.dumps({"sent_at": "2026-01-01T00:00:00.000000Z", "events": events}).encode())
    started = time.monotonic()
    status, answer, _ = request(url, body, JSON_GZIP, timeout=timeout)
    return status, answer, time.monotonic() - started


# --------------------------------------------------------------------------- costly to check


@pytest.mark.parametrize("count", [20_000, 100_000])
def test_an_array_far_past_its_max_items_is_a_bad_row_answered_within_a_second(tmp_path: Path, count: int) -> None:
    event = started_with_features(mixed_features(count))
    body = gzip.compress(json.dumps({"events": [event]}).encode())
    assert len(body) < 1024 * 1024  # within the body limit: the collector reads it
    with collector(tmp_path) as running:
        status, answer, elapsed = timed_post(running.url, [event])
        assert (status, answer) == (200, {"accepted": 0, "duplicates": 0, "bad": 1})
        assert elapsed < ANSWERED_WITHIN, f"answered after {elapsed:.1f}s"
    (row,) = bad_rows(tmp_path)
    assert row["errors"] == [
        {
            "code": "invalid-value",
            "location": "/data/enabled_features",
            "message": f"{count} items, more than the 5 allowed",
        }
    ]


@pytest.mark.parametrize("where", ["data", "context"])
def test_an_event_with_100_000_undeclared_fields_is_a_bad_row_answered_within_a_second(
    tmp_path: Path, where: str
) -> None:
    event = envelope(number=1)
    event[where] = {**event[where], **{f"f{n:06d}": 0 for n in range(100_000)}}
    with collector(tmp_path) as running:
        status, answer, elapsed = timed_post(running.url, [event])
        assert (status, answer) == (200, {"accepted": 0, "duplicates": 0, "bad": 1})
        assert elapsed < ANSWERED_WITHIN, f"answered after {elapsed:.1f}s"
    (row,) = bad_rows(tmp_path)
    assert [(error["code"], error["location"]) for error in row["errors"]][:3] == [
        ("unknown-field", f"/{where}"),
        ("unknown-field", f"/{where}/f000000"),
        ("unknown-field", f"/{where}/f000001"),
    ]
    assert row["errors"][0]["message"] == "99980 more fields not declared in the catalog"
    assert len(row["payload"][where]) > 100_000


def _too_long(value: object) -> object:
    """`value` made one longer than its bound allows, if it is a string or an array."""
    if isinstance(value, str):
        return value + "x" * 5000
    if isinstance(value, list):
        return (value or ["x"]) * 10
    return value


def test_length_bounds_are_found_before_jsonschema_exactly_as_jsonschema_finds_them() -> None:
    """The reference: for an event with every string and array too long, the walk reports what
    jsonschema's `maxLength` and `maxItems` report, through `$ref` (the context) too."""
    checked = 0
    for schema in example_registry().current.values():
        event = envelope(schema.name)
        event["timestamp"] += "0" * 40
        event["context"] = {name: _too_long(value) for name, value in event["context"].items()}
        event["data"] = {name: _too_long(value) for name, value in event["data"].items()}
        reference = {
            problem
            for error in schema.validator.iter_errors(event)
            if error.validator in ("maxLength", "maxItems")
            for problem in schemas._problems(error)
        }
        found = set(schemas._past_bounds(event, schema.document, schema.document, []))
        assert found == reference, schema.name
        checked += len(found)
    assert checked > 100
