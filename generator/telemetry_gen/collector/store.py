"""Where the collector puts what it receives, behind one small interface (`Store`), chosen by the
`--store` URL: `file:DIR` (this module) or `clickhouse://HOST:PORT/DATABASE` (`clickhouse.py`).

The file store: append-only JSON Lines files, partitioned for analysis.

    DIR/events/<event>/v<version>/date=YYYY-MM-DD/part-<run>-<n>.jsonl   valid events, as sent
    DIR/bad/date=YYYY-MM-DD/part-<run>-<n>.jsonl                          bad rows, with their reasons
    DIR/catalog.json                                                      the events the collector accepts

`<event>` is a catalog event name, escaped (`app/started` -> `app.started`, see `folder_name`);
a name from the wire never becomes a path. A valid event's date is its own timestamp's (UTC); a
bad row's, the day it arrived. Each collector run appends to files of its own (`<run>` is its
start time and a random tag) and starts a new part past `PART_BYTES`: files are never rewritten,
and every line is a whole event, so DuckDB (`read_json_auto('DIR/events/*/*/*/*.jsonl',
hive_partitioning = true)`) or pandas (`read_json(path, lines=True)`) read them as they are.

The rows of one request go to each file in one `write`, then `fsync` (and the folder's, for a
new file), before the collector answers: an acknowledged event is on disk. Event ids are kept in
a window of the last N stored, rebuilt from the newest files at start-up, so a batch the runtime
sends again (its acknowledgement lost, or the collector restarted meanwhile) is stored once.
The window is the process's own: several processes writing one folder each keep their own files
and their own window, so a batch retried through another process may be stored twice.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import secrets
import threading
import urllib.parse
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from telemetry_gen_runtime import read_json, write_json

EVENTS = "events"
BAD = "bad"
MANIFEST = "catalog.json"
PART_BYTES = 64 * 1024 * 1024
DEDUP_WINDOW = 100_000  # event ids remembered; about 100 bytes each
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _quote(text: str) -> str:
    return "".join(c if c in _SAFE else "".join(f"%{b:02X}" for b in c.encode("utf-8", "surrogatepass")) for c in text)


def folder_name(event: str) -> str:
    """The folder of an event: `domain/action` -> `domain.action`, `a/b/c` -> `a.b.c`; every other character
    percent-encoded.

    Reversible (`event_name`), and never empty, `.`, `..` or holding a path separator, whatever the name.
    """
    if not event:
        raise ValueError("an event name is never empty")
    parts = event.split("/")
    if len(parts) >= 2 and all(parts):
        return ".".join(map(_quote, parts))
    return _quote(event)


def event_name(folder: str) -> str:
    """The event name a folder stands for (the inverse of `folder_name`)."""
    return urllib.parse.unquote(folder.replace(".", "/"), errors="surrogatepass")


# Made once: `json.dumps` with options builds an encoder on every call.
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_COMPACT_SORTED = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False, sort_keys=True)


def dumps(row: object, *, sort_keys: bool = False) -> str:
    """`row` as compact JSON text."""
    return (_COMPACT_SORTED if sort_keys else _COMPACT).encode(row)


class Accepted(NamedTuple):
    """A valid event, with the catalog name and version of the schema that accepted it."""

    name: str
    version: int
    event: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    accepted: int
    duplicates: int
    bad: int


class Window:
    """The ids of the last `size` events stored, oldest first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, event_id: str) -> None:
        self._ids[event_id] = None
        while len(self._ids) > self.size:
            self._ids.popitem(last=False)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def recent_ids(root: Path, count: int) -> list[str]:
    """The ids of up to `count` events stored most recently (by file), oldest first."""
    if count <= 0:
        return []
    files = sorted((root / EVENTS).glob("*/*/*/part-*.jsonl"), key=lambda p: (p.stat().st_mtime_ns, p.name))
    found: list[str] = []
    for path in reversed(files):
        found = [event["id"] for event in _objects(path) if isinstance(event.get("id"), str)] + found
        if len(found) >= count:
            break
    return found[-count:]


Partition = tuple[str, int, str]  # event name, schema version, the event's day (YYYY-MM-DD)


def unexpected() -> None:
    """The `arrived` of a request no store was told of (see `Store.expect`)."""


class Store(Protocol):
    """What the collector writes to, and `report` and `live-check` read from."""

    url: str  # the store as the user names it (without a password)

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Record what this collector accepts, for `report` to compute coverage."""

    def expect(self) -> Callable[[], None]:
        """Count a request as on its way to `save` (being read or validated), for a store that writes
        several requests at once to wait for; the function returned ends that: `save` calls it, and
        the collector too, for a request that never gets there (calls after the first do nothing)."""
        ...

    def save(
        self,
        accepted: list[Accepted],
        bad: list[dict[str, Any]],
        received: datetime.datetime,
        arrived: Callable[[], None] = unexpected,
    ) -> Outcome:
        """Store valid events (each event id once) and bad rows; stored when this returns. `arrived`:
        what `expect` returned for this request."""
        ...

    def manifest(self) -> dict[str, Any] | None:
        """The catalog the collector last recorded, or None."""

    def stored_counts(self) -> dict[Partition, int]:
        """How many events are stored, per event, version and day."""
        ...

    def bad_rows(self) -> Iterator[dict[str, Any]]:
        """Every bad row `{"received_at", "errors", "payload"}`, by arrival then payload."""
        ...

    def events(self) -> Iterator[dict[str, Any]]:
        """Every stored event, ordered by event name, version, day and id."""
        ...


class FileStore:
    """Appends accepted events and bad rows under `root`; thread-safe, one request at a time."""

    def __init__(self, root: Path, window: int = DEDUP_WINDOW) -> None:
        self.root = root
        self.url = f"file:{root.as_posix()}"
        root.mkdir(parents=True, exist_ok=True)
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        self._run = f"{stamp}-{secrets.token_hex(3)}"
        self._parts: dict[Path, tuple[int, int]] = {}  # folder -> (part number, bytes written)
        self._window = Window(window)
        for event_id in recent_ids(root, window):
            self._window.add(event_id)
        self._lock = threading.Lock()

    @property
    def remembered(self) -> int:
        """How many event ids the duplicate window holds."""
        return len(self._window)

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """`catalog.json`: what this collector accepts, for `report` to compute coverage (replaced whole)."""
        write_json(self.root / MANIFEST, manifest, indent=2)

    def _folder(self, name: str, version: int, day: str) -> Path:
        if not _DATE.match(day) or isinstance(version, bool) or not isinstance(version, int):
            raise ValueError(f"unchecked event reached the store: {name!r} v{version!r} {day!r}")
        return self.root / EVENTS / folder_name(name) / f"v{version}" / f"date={day}"

    def _append(self, folder: Path, lines: list[str]) -> None:
        data = "".join(line + "\n" for line in lines).encode("utf-8")
        number, written = self._parts.get(folder, (0, 0))
        if written and written + len(data) > PART_BYTES:
            number, written = number + 1, 0
        path = folder / f"part-{self._run}-{number:04d}.jsonl"
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if not written:  # a new file: make its folder entries durable too
            for parent in [folder, *folder.parents]:
                _fsync(parent)
                if parent == self.root:
                    break
        self._parts[folder] = (number, written + len(data))

    def expect(self) -> Callable[[], None]:
        return unexpected  # each request is written on its own: none is waited for

    def save(
        self,
        accepted: list[Accepted],
        bad: list[dict[str, Any]],
        received: datetime.datetime,
        arrived: Callable[[], None] = unexpected,
    ) -> Outcome:
        """Store valid events not seen within the window, and bad rows; on disk when this returns."""
        arrived()
        with self._lock:
            fresh: list[Accepted] = []
            in_batch: set[str] = set()
            for item in accepted:
                event_id = item.event["id"]
                if event_id not in self._window and event_id not in in_batch:
                    in_batch.add(event_id)
                    fresh.append(item)
            by_partition: dict[Partition, list[Accepted]] = {}
            for item in fresh:
                partition = (item.name, item.version, str(item.event["timestamp"])[:10])
                by_partition.setdefault(partition, []).append(item)
            for partition, items in by_partition.items():
                self._append(self._folder(*partition), [dumps(item.event) for item in items])
                for item in items:  # only once written: a failed write is retried, not skipped
                    self._window.add(item.event["id"])
            if bad:
                day = received.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d")
                self._append(self.root / BAD / f"date={day}", [dumps(row, sort_keys=True) for row in bad])
            return Outcome(len(fresh), len(accepted) - len(fresh), len(bad))

    def manifest(self) -> dict[str, Any] | None:
        return read_json(self.root / MANIFEST)

    def _partitions(self) -> Iterator[tuple[Partition, Path]]:
        """Each event folder (by event, version, day) and its part files."""
        found: dict[Partition, list[Path]] = {}
        for path in (self.root / EVENTS).glob("*/v*/date=*/part-*.jsonl"):
            folder, version, day = path.parts[-4:-1]
            if version[1:].isdigit():
                found.setdefault((event_name(folder), int(version[1:]), day.removeprefix("date=")), []).append(path)
        for partition in sorted(found):
            for path in sorted(found[partition]):
                yield partition, path

    def stored_counts(self) -> dict[Partition, int]:
        """Complete lines count; a line a crash cut short does not."""
        counts: Counter[Partition] = Counter()
        for partition, path in self._partitions():
            with path.open("rb") as stream:
                counts[partition] += sum(chunk.count(b"\n") for chunk in iter(lambda: stream.read(1 << 20), b""))
        return dict(counts)

    def bad_rows(self) -> Iterator[dict[str, Any]]:
        for folder in sorted((self.root / BAD).glob("date=*")):
            rows = [row for path in sorted(folder.glob("part-*.jsonl")) for row in _objects(path)]
            yield from sorted(rows, key=_arrival)

    def events(self) -> Iterator[dict[str, Any]]:
        partition: Partition | None = None
        events: list[dict[str, Any]] = []
        for found, path in self._partitions():
            if found != partition:
                yield from sorted(events, key=lambda event: str(event.get("id")))
                partition, events = found, []
            events += _objects(path)
        yield from sorted(events, key=lambda event: str(event.get("id")))


def _arrival(row: dict[str, Any]) -> tuple[str, str]:
    """The order bad rows are read in, from either store: by arrival, then payload."""
    return str(row.get("received_at")), dumps(row.get("payload"), sort_keys=True)


def _objects(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a file's complete lines (a line a crash cut short is left out)."""
    found = []
    with path.open("rb") as lines:
        for line in lines:
            try:
                value = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if isinstance(value, dict):
                found.append(value)
    return found
