"""`telemetry-gen report`: what a collector stored, per event, version and day; why rows were bad;
and how much of the catalog the traffic covers (declared events never seen, unknown ones that
arrived).

It reads the store only (the catalog comes from what the collector recorded there: `catalog.json`
in a data folder, the `catalog` table in ClickHouse), so it runs while the collector runs or after
it stopped, and prints the same for the same events in either store.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from .schemas import UNKNOWN_EVENT, shown
from .store import MANIFEST, Store
from .text import coverage_lines, share


@dataclass(frozen=True)
class Report:
    store: str
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
            "store": self.store,
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
        title = f"Collected in {self.store}"
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
                f"Coverage: unknown (no catalog recorded, such as {MANIFEST}: "
                "this store was not written by `telemetry-gen collect`)"
            )
        else:
            declared, never_seen = len(self.declared), self.never_seen
            seen = declared - len(never_seen)
            lines.append(f"Coverage: {seen} of {declared} declared events seen{share(seen, declared)}")
        lines += coverage_lines(never_seen, self.unknown, "unknown events received")
        return "\n".join(lines) + "\n"


def build_report(store: Store) -> Report:
    bad_rows = 0
    reasons: Counter[str] = Counter()
    unknown: Counter[str] = Counter()
    for row in store.bad_rows():
        bad_rows += 1
        codes = {str(e.get("code")) for e in row.get("errors", []) if isinstance(e, dict)}
        reasons.update(codes)
        payload = row.get("payload")
        if UNKNOWN_EVENT in codes and isinstance(payload, dict):
            unknown[shown(payload.get("event"))] += 1
    manifest = store.manifest()
    manifest = manifest if isinstance(manifest, dict) else None
    return Report(store.url, manifest, store.stored_counts(), bad_rows, dict(reasons), dict(unknown))
