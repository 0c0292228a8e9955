"""`telemetry-gen report`: what a collector stored, per event, version and day; why rows were bad;
and how much of the catalog the traffic covers (declared events never seen, unknown ones that
arrived).

It reads the data folder only (the catalog comes from the `catalog.json` the collector keeps
there), so it runs wherever the folder is, while the collector runs or after it stopped.
Complete lines are counted; a line a crash cut short is not.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telemetry_gen_runtime import read_json

from .schemas import UNKNOWN_EVENT, shown
from .store import BAD, EVENTS, MANIFEST, event_name
from .text import coverage_lines, share


@dataclass(frozen=True)
class Report:
    data_dir: str
    manifest: dict[str, Any] | None  # the collector's catalog.json; None if it never ran here
    stored: dict[tuple[str, int, str], int]  # (event, version, day) -> events
    bad_rows: int
    bad_reasons: dict[str, int]  # problem code -> bad rows with it
    unknown: dict[str, int]  # unknown event name (shown safely) -> bad rows

    @property
    def declared(self) -> list[str]:
        events = (self.manifest or {}).get("events", {})
        return sorted(events) if isinstance(events, dict) else []

    @property
    def seen(self) -> list[str]:
        return sorted({event for event, _, _ in self.stored})

    @property
    def never_seen(self) -> list[str]:
        seen = set(self.seen)
        return [name for name in self.declared if name not in seen]

    def as_json(self) -> dict[str, Any]:
        manifest = self.manifest or {}
        return {
            "data_dir": self.data_dir,
            "app": manifest.get("app"),
            "catalog_version": manifest.get("catalog_version"),
            "events": [
                {"event": event, "version": version, "day": day, "count": count}
                for (event, version, day), count in sorted(self.stored.items())
            ],
            "stored": sum(self.stored.values()),
            "bad_rows": self.bad_rows,
            "bad_reasons": dict(sorted(self.bad_reasons.items())),
            "coverage": {
                "declared": len(self.declared) if self.manifest else None,
                "seen": self.seen,
                "never_seen": self.never_seen if self.manifest else None,
                "unknown_events": dict(sorted(self.unknown.items())),
            },
        }

    def text(self) -> str:
        manifest = self.manifest or {}
        title = f"Collected in {self.data_dir}"
        if self.manifest:
            title += f" ({manifest.get('app')}, catalog {manifest.get('catalog_version')})"
        lines = [title, f"Stored events: {sum(self.stored.values())}"]
        if self.stored:
            width = max(len("event"), *(len(event) for event, _, _ in self.stored))
            lines.append(f"  {'event':<{width}}  version  day         events")
            for (event, version, day), count in sorted(self.stored.items()):
                lines.append(f"  {event:<{width}}  {'v' + str(version):<7}  {day:<10}  {count:>6}")
        lines.append(f"Bad rows: {self.bad_rows}")
        for code, count in sorted(self.bad_reasons.items()):
            lines.append(f"  {code:<24} {count:>6}")
        never_seen: list[str] = []
        if not self.manifest:
            lines.append(
                f"Coverage: unknown ({MANIFEST} is missing: this folder was not written by `telemetry-gen collect`)"
            )
        else:
            declared, never_seen = len(self.declared), self.never_seen
            seen = declared - len(never_seen)
            lines.append(f"Coverage: {seen} of {declared} declared events seen{share(seen, declared)}")
        lines += coverage_lines(never_seen, self.unknown, "unknown events received")
        return "\n".join(lines) + "\n"


def _complete_lines(path: Path) -> int:
    with path.open("rb") as stream:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b""))


def build_report(root: Path) -> Report:
    stored: Counter[tuple[str, int, str]] = Counter()
    for path in sorted((root / EVENTS).glob("*/v*/date=*/part-*.jsonl")):
        folder, version, day = path.parts[-4:-1]
        if version[1:].isdigit():
            stored[(event_name(folder), int(version[1:]), day.removeprefix("date="))] += _complete_lines(path)
    bad_rows = 0
    reasons: Counter[str] = Counter()
    unknown: Counter[str] = Counter()
    for path in sorted((root / BAD).glob("date=*/part-*.jsonl")):
        with path.open("rb") as lines:
            for line in lines:
                try:
                    row = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(row, dict):
                    continue
                bad_rows += 1
                codes = {str(e.get("code")) for e in row.get("errors", []) if isinstance(e, dict)}
                reasons.update(codes)
                payload = row.get("payload")
                if UNKNOWN_EVENT in codes and isinstance(payload, dict):
                    unknown[shown(payload.get("event"))] += 1
    return Report(root.as_posix(), read_json(root / MANIFEST), dict(stored), bad_rows, dict(reasons), dict(unknown))
