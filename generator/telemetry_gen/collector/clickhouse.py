"""The ClickHouse store: `clickhouse://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE`, over ClickHouse's HTTP
interface (port 8123 by default), with the standard library only.

User and password come from the URL, else from `TELEMETRY_GEN_CLICKHOUSE_USER` and
`TELEMETRY_GEN_CLICKHOUSE_PASSWORD` (else ClickHouse's `default` user); they are sent with HTTP
basic authentication and never printed. Rows go in as `INSERT ... FORMAT TabSeparated`, the text
cheapest to write (each value escaped, no JSON object per row), and the SQL below runs on old
servers (Debian's 18.16) and current ones alike: no DateTime64, LowCardinality, JSON type or TTL.
The collector creates the database and the tables when missing (`ddl`), and adds a column for a
context field the table lacks; several collectors starting at once do the same without failing.

Tables:
    events     one row per event: its name, schema version and `$id`, id, timestamp (as sent, and
               as a DateTime to the second, UTC), its day (UTC, the file store's `date=`), the day it
               arrived, one `context_<name>` column per context field (`String` when every
               schema requires the field, else `Nullable(String)`, NULL where it was not sent), and
               `data` as compact JSON text, which `visitParamExtract*` functions read. A
               ReplacingMergeTree ordered by event, day and id: rows with the same id collapse, so
               a batch sent again, through any collector process, is stored once. Collapsing
               happens when ClickHouse merges parts, so queries that count read with `FINAL` (as
               `report` does) or `count(DISTINCT id)`.
    bad_rows   one row per bad event: when it arrived, its reasons (`errors`, a JSON array of
               `{code, location, message}`) and the payload as JSON text, as the file store keeps them.
    catalog    what each collector accepts (the file store's `catalog.json`), newest last.

Views, one per event version the collector accepts (`event_view`), named after the event's Python
emitter and its version (`app_started_v2`): the event's rows, without repeats (`FINAL`), with its
envelope and context columns and a typed column per field of its `data`, NULL where an optional
field was not sent. The collector replaces a view whose columns the catalog changed, and leaves
views of versions no longer declared, whose rows are still in the table.

A write that fails (ClickHouse down, refusing, or slow past `TIMEOUT_SECONDS`) raises
`StoreUnavailable`, an `OSError`: the collector then answers 503 with `Retry-After` and the runtime
sends the batch again. Requests that arrive while an insert is in flight are inserted together
once it finishes, and an insert first waits, up to `GATHER_SECONDS`, for requests already being
read or validated (`GroupInsert`): under load, one insert carries many requests' events, so
ClickHouse makes few parts and merges less, and each request is answered once its own rows are in.
"""

from __future__ import annotations

import base64
import datetime
import http.client
import json
import logging
import os
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from telemetry_gen_runtime import utc_timestamp

from ..catalog.model import emitter_name
from .schemas import EventSchema
from .store import Accepted, Outcome, Partition, dumps, unexpected

DEFAULT_PORT = 8123
TIMEOUT_SECONDS = 30.0
GATHER_SECONDS = 0.015  # the longest an insert waits for requests on their way, to carry them too
USER_VARIABLE = "TELEMETRY_GEN_CLICKHOUSE_USER"
PASSWORD_VARIABLE = "TELEMETRY_GEN_CLICKHOUSE_PASSWORD"
CONTEXT_PREFIX = "context_"
_DUPLICATE_COLUMN = "Code: 44,"  # ClickHouse's error when another collector added the column first

log = logging.getLogger("telemetry_gen.collector")


# The columns of the tables, in the order the rows are inserted (context columns follow the events').
EVENT_COLUMNS = {
    "event": "String",
    "version": "UInt32",
    "schema": "String",
    "id": "String",
    "timestamp": "String",
    "time": "DateTime('UTC')",
    "day": "Date",
    "received_day": "Date",
    "data": "String",
}
NULLABLE_CONTEXT = "Nullable(String)"
BAD_ROW_COLUMNS = {"received_at": "String", "day": "Date", "errors": "String", "payload": "String"}
CATALOG_COLUMNS = {"written": "DateTime('UTC')", "manifest": "String"}


def context_type(required: bool) -> str:
    """The column of a context field: `String` when every schema requires the field, so every event
    has it (a Nullable column costs ClickHouse a second file per part); else Nullable, NULL where the
    field was not sent."""
    return "String" if required else NULLABLE_CONTEXT


def _declared(columns: dict[str, str]) -> str:
    return "".join(f"\n    {name} {kind}," for name, kind in columns.items()).rstrip(",")


def ddl(database: str) -> list[str]:
    """The statements that create the store's database and tables (context columns are added apart)."""
    db = quoted(database)
    return [
        f"CREATE DATABASE IF NOT EXISTS {db}",
        f"""CREATE TABLE IF NOT EXISTS {db}.events ({_declared(EVENT_COLUMNS)}
) ENGINE = ReplacingMergeTree PARTITION BY toYYYYMM(day) ORDER BY (event, day, id)""",
        f"""CREATE TABLE IF NOT EXISTS {db}.bad_rows ({_declared(BAD_ROW_COLUMNS)}
) ENGINE = MergeTree PARTITION BY toYYYYMM(day) ORDER BY (day, received_at)""",
        f"""CREATE TABLE IF NOT EXISTS {db}.catalog ({_declared(CATALOG_COLUMNS)}
) ENGINE = MergeTree ORDER BY written""",
    ]


# What a view reads of each JSON type in `data`, with `visitParamExtract*` (compact JSON, as the
# collector writes it): the function and the column's type. Arrays and objects stay JSON text.
_EXTRACTS = {
    "string": ("visitParamExtractString", "String"),
    "integer": ("visitParamExtractInt", "Int64"),
    "number": ("visitParamExtractFloat", "Float64"),
    "boolean": ("visitParamExtractBool", "UInt8"),
}
_RAW = ("visitParamExtractRaw", "String")
VIEW_ENVELOPE_COLUMNS = ("id", "timestamp", "time", "day", "received_day")


@dataclass(frozen=True)
class EventView:
    """The view of one event version: its name, and its columns as (name, type, expression)."""

    name: str
    event: str
    version: int
    columns: tuple[tuple[str, str, str], ...]
    unread: tuple[str, ...]  # fields of `data` that the view cannot read right, so has no column for

    def statement(self, database: str) -> str:
        db = quoted(database)
        selected = ",\n    ".join(
            quoted(name) if expression == name else f"{expression} AS {quoted(name)}"
            for name, _, expression in self.columns
        )
        return (
            f"CREATE VIEW IF NOT EXISTS {db}.{quoted(self.name)} AS SELECT\n    {selected}\n"
            f"FROM {db}.events FINAL WHERE event = '{_text(self.event)}' AND version = {self.version}"
        )


def event_view(schema: EventSchema, table_columns: Mapping[str, str]) -> EventView:
    """The view of `schema`'s events, over the events table whose columns are `table_columns`.

    `visitParamExtract*` finds a key at any depth, first in the text: a field that shares its name
    with a key nested anywhere in the event's `data` is left out (`unread`) rather than read wrong.
    A field whose name is taken by an envelope or context column is named `data_<field>`."""
    columns = [(name, table_columns[name], name) for name in VIEW_ENVELOPE_COLUMNS]
    columns += [
        (column, table_columns[column], column)
        for column in sorted(CONTEXT_PREFIX + name for name in schema.declared("context"))
        if column in table_columns
    ]
    nested = {key for field in schema.declared("data").values() for key in _nested_keys(field)}
    required = schema.required("data")
    taken = {name for name, _, _ in columns}
    unread = []
    for field, spec in sorted(schema.declared("data").items()):
        name = f"data_{field}" if field in taken else field
        if field in nested or name in taken:
            unread.append(field)
            continue
        taken.add(name)
        function, kind = _EXTRACTS.get(str(spec.get("type")), _RAW)
        expression = f"{function}(data, '{_text(field)}')"
        if field not in required:
            expression, kind = f"if(visitParamHas(data, '{_text(field)}'), {expression}, NULL)", f"Nullable({kind})"
        columns.append((name, kind, expression))
    return EventView(
        f"{emitter_name(schema.name)}_v{schema.version}", schema.name, schema.version, tuple(columns), tuple(unread)
    )


def _nested_keys(spec: Mapping[str, Any]) -> set[str]:
    """The keys that objects inside a value of schema `spec` may have, at any depth."""
    found: set[str] = set()
    properties = spec.get("properties", {})
    for key, inner in properties.items():
        found |= {key, *_nested_keys(inner)}
    items = spec.get("items")
    if isinstance(items, Mapping):
        found |= _nested_keys(items)
    return found


def quoted(name: str) -> str:
    """An identifier in backquotes, whatever it holds."""
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


class StoreUnavailable(OSError):
    """ClickHouse cannot be reached, or refused a statement."""


class ClickHouse:
    """A ClickHouse server's HTTP interface, over kept-alive connections that any thread reuses."""

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        database = parts.path.strip("/")
        if parts.scheme != "clickhouse" or not parts.hostname or not database or "/" in database:
            raise ValueError(f"{url}: write clickhouse://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE")
        self.host, self.port = parts.hostname, parts.port or DEFAULT_PORT
        self.database = urllib.parse.unquote(database)
        user = urllib.parse.unquote(parts.username) if parts.username else os.environ.get(USER_VARIABLE, "default")
        password = urllib.parse.unquote(parts.password or "") or os.environ.get(PASSWORD_VARIABLE, "")
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        self._headers = {"Authorization": f"Basic {token}"}
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"clickhouse://{host}:{self.port}/{self.database}"
        self._idle: list[http.client.HTTPConnection] = []  # kept alive, each answer read to its end
        self._idle_lock = threading.Lock()

    def _execute(
        self, sql: str, body: bytes, *, in_database: bool
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """Run `sql` (with `body` as the data of an INSERT), in the store's database unless told not
        to (it may not exist yet); the connection and its answer, status 200, to be read."""
        query = {"query": sql, "database": self.database} if in_database else {"query": sql}
        target = "/?" + urllib.parse.urlencode(query)
        with self._idle_lock:
            connection = self._idle.pop() if self._idle else None
        # A kept-alive connection the server closed meanwhile fails at once: try once more, afresh.
        for fresh in (connection is None, True):
            if fresh:
                connection = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT_SECONDS)
            assert connection is not None
            try:
                connection.request("POST", target, body=body, headers=self._headers)
                response = connection.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                if fresh or isinstance(exc, TimeoutError):
                    raise StoreUnavailable(f"ClickHouse at {self.host}:{self.port}: {exc}") from None
                continue
            if response.status != 200:
                message = response.read().decode("utf-8", "replace").strip()
                connection.close()
                raise StoreUnavailable(f"ClickHouse at {self.host}:{self.port} answered {response.status}: {message}")
            return connection, response
        raise AssertionError("unreachable")

    def _done(self, connection: http.client.HTTPConnection, response: http.client.HTTPResponse) -> None:
        """Keep `connection` for the next statement once its answer was read to the end; else close it."""
        if response.isclosed():
            with self._idle_lock:
                self._idle.append(connection)
        else:
            connection.close()

    def command(self, sql: str, body: bytes = b"", *, in_database: bool = True) -> bytes:
        """Run `sql`; its whole answer."""
        connection, response = self._execute(sql, body, in_database=in_database)
        try:
            return response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise StoreUnavailable(f"ClickHouse at {self.host}:{self.port}: {exc}") from None
        finally:
            self._done(connection, response)

    def rows(self, sql: str) -> Iterator[dict[str, Any]]:
        """The rows of a SELECT, one at a time, as JSON objects."""
        connection, response = self._execute(sql + " FORMAT JSONEachRow", b"", in_database=True)
        try:
            for line in response:
                yield json.loads(line)
        except (OSError, http.client.HTTPException) as exc:
            raise StoreUnavailable(f"ClickHouse at {self.host}:{self.port}: {exc}") from None
        finally:  # left unread (a caller that stopped early), the connection is closed
            self._done(connection, response)

    def insert(self, table: str, columns: Sequence[str], rows: str) -> None:
        """Insert `rows`, `tabseparated` text of values in the order of `columns`, into `table` in one
        statement."""
        sql = f"INSERT INTO {quoted(table)} ({', '.join(map(quoted, columns))}) FORMAT TabSeparated"
        self.command(sql, rows.encode("utf-8"))


def tabseparated(rows: Iterable[Sequence[str | None]]) -> str:
    """Rows of values (None: NULL) as TabSeparated text, a line each."""
    return "".join([_line(row) for row in rows])


def _line(row: Sequence[str | None]) -> str:
    """A row as a TabSeparated line. Its values go through `_field` only when one of them is NULL or
    holds a character to escape: three scans of the row, instead of three calls for each value."""
    strings = cast(Sequence[str], row)  # taken as strings only once no value is None
    text = "" if None in row else "".join(strings)
    plain = bool(text) and "\t" not in text and "\n" not in text and "\\" not in text
    return "\t".join(strings if plain else map(_field, row)) + "\n"


class GroupInsert:
    """Group commit: `write` runs for one group at a time. The next group is the work of every caller
    that arrived meanwhile, and of the callers on their way (`expect`), waited for at most `gather`
    seconds: ClickHouse's cost is per insert (a part of dozens of files, merged again and again
    while small) far more than per row.

    A caller returns once its own work was written, or raises what `write` raised for it."""

    def __init__(self, write: Callable[[list[Any]], None], gather: float = GATHER_SECONDS) -> None:
        self._write = write
        self._gather = gather
        self._changed = threading.Condition()
        self._waiting: list[_Ticket] = []
        self._writing = False
        self._expected = 0

    def expect(self) -> Callable[[], None]:
        """Count a caller as on its way to `submit`; the function returned ends that (once)."""
        ended = False

        def arrived() -> None:
            nonlocal ended
            with self._changed:
                if not ended:
                    ended = True
                    self._expected -= 1
                    self._changed.notify_all()

        with self._changed:
            self._expected += 1
        return arrived

    def submit(self, work: Any, arrived: Callable[[], None] = unexpected) -> None:
        """Have `work` written; `arrived`: what `expect` returned for this caller."""
        ticket = _Ticket(work)
        with self._changed:
            self._waiting.append(ticket)
            arrived()  # with the work queued, so the writer never starts between the two
            while self._writing and not ticket.done:
                self._changed.wait()
            if not ticket.done:  # nothing is being written: this caller writes the next group
                self._writing = True
                deadline = time.monotonic() + self._gather
                while self._expected and (left := deadline - time.monotonic()) > 0:
                    self._changed.wait(left)
                group, self._waiting = self._waiting, []
        if not ticket.done:
            error: BaseException | None = None
            try:
                self._write([t.work for t in group])
            except BaseException as exc:
                error = exc
            with self._changed:
                for t in group:
                    t.done, t.error = True, error
                self._writing = False
                self._changed.notify_all()
        if ticket.error is not None:
            raise ticket.error


class _Ticket:
    def __init__(self, work: Any) -> None:
        self.work = work
        self.done = False
        self.error: BaseException | None = None


class ClickHouseStore:
    """Events and bad rows in ClickHouse tables; nothing kept in the process between requests."""

    def __init__(self, url: str) -> None:
        self.server = ClickHouse(url)
        self.url = self.server.url
        # One insert at a time, for as many requests as can share it (see `GroupInsert`). Each
        # request makes its rows text before it waits, so an insert only sends.
        self._inserts = GroupInsert(self._insert)
        self._context_fields: list[str] = []  # those the events table has a column for, in name order

    def create_tables(self, context_fields: Mapping[str, bool]) -> None:
        """Create the database and tables when missing, and a column for each context field (by name:
        whether every schema requires it); a column that now may be left out is made Nullable."""
        for statement in ddl(self.server.database):
            self.server.command(statement, in_database=False)
        existing = self._columns()
        for name, required in context_fields.items():
            column = CONTEXT_PREFIX + name
            if column not in existing:
                try:
                    self.server.command(f"ALTER TABLE events ADD COLUMN {quoted(column)} {context_type(required)}")
                except StoreUnavailable as exc:
                    if _DUPLICATE_COLUMN not in str(exc):
                        raise
        existing = self._columns()
        for name, required in context_fields.items():
            column = CONTEXT_PREFIX + name
            if not required and existing[column] != NULLABLE_CONTEXT:
                self.server.command(f"ALTER TABLE events MODIFY COLUMN {quoted(column)} {NULLABLE_CONTEXT}")
        self.load_columns(existing)  # a column made Nullable keeps its name

    def load_columns(self, columns: Iterable[str] | None = None) -> None:
        """Learn which context fields the events table has a column for, as written in each row: from
        `columns`, the table's column names, else from the table itself."""
        names = self._columns() if columns is None else columns
        self._context_fields = sorted(c.removeprefix(CONTEXT_PREFIX) for c in names if c.startswith(CONTEXT_PREFIX))

    def create_views(self, schemas: Iterable[EventSchema]) -> list[str]:
        """Create the view of each schema's events (`event_view`), or replace one whose columns
        differ; the names of those created. A table of the same name that is not a view is left be,
        and a field a view cannot read is named in a warning."""
        database = _text(self.server.database)
        found: dict[str, list[tuple[str, str]]] = {}
        for row in self.server.rows(f"SELECT table, name, type FROM system.columns WHERE database = '{database}'"):
            found.setdefault(str(row["table"]), []).append((str(row["name"]), str(row["type"])))
        engines = {
            str(row["name"]): str(row["engine"])
            for row in self.server.rows(f"SELECT name, engine FROM system.tables WHERE database = '{database}'")
        }
        table_columns = dict(found["events"])
        created = []
        for view in sorted((event_view(s, table_columns) for s in schemas), key=lambda v: v.name):
            existing = found.get(view.name)
            if existing == [(name, kind) for name, kind, _ in view.columns]:
                continue
            if existing is not None:
                if engines.get(view.name) != "View":
                    log.warning("%s is a table, not a view of %s: left as it is", view.name, view.event)
                    continue
                self.server.command(f"DROP TABLE IF EXISTS {quoted(view.name)}")
            self.server.command(view.statement(self.server.database), in_database=False)
            created.append(view.name)
            if view.unread:
                unread = ", ".join(view.unread)
                log.warning(
                    "view %s has no column for %s (a key nested in the event too): read it from data", view.name, unread
                )
        return created

    def _columns(self) -> dict[str, str]:
        """The events table's columns and their types."""
        database = _text(self.server.database)
        sql = f"SELECT name, type FROM system.columns WHERE database = '{database}' AND table = 'events'"
        return {str(row["name"]): str(row["type"]) for row in self.server.rows(sql)}

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        row = [_datetime(utc_timestamp(time.time())), dumps(manifest, sort_keys=True)]
        self.server.insert("catalog", list(CATALOG_COLUMNS), tabseparated([row]))

    def _event_row(self, item: Accepted, received_day: str, context_fields: list[str]) -> list[str | None]:
        """The values of `EVENT_COLUMNS`, then of the context fields' columns (None: not sent)."""
        event = item.event
        timestamp = str(event["timestamp"])
        row: list[str | None] = [
            item.name,
            str(item.version),
            event["schema"],
            event["id"],
            timestamp,
            _datetime(timestamp),
            timestamp[:10],
            received_day,
            dumps(event["data"]),
        ]
        context = event["context"]
        for name in context_fields:
            value = context.get(name)
            row.append(value if value is None or isinstance(value, str) else dumps(value))
        return row

    def expect(self) -> Callable[[], None]:
        return self._inserts.expect()

    def save(
        self,
        accepted: list[Accepted],
        bad: list[dict[str, Any]],
        received: datetime.datetime,
        arrived: Callable[[], None] = unexpected,
    ) -> Outcome:
        day = received.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d")
        fresh: dict[str, Accepted] = {}
        for item in accepted:
            fresh.setdefault(item.event["id"], item)
        context_fields = self._context_fields
        unknown = {name for item in fresh.values() for name in item.event["context"]} - set(context_fields)
        if unknown:
            missing = ", ".join(CONTEXT_PREFIX + name for name in sorted(unknown))
            raise StoreUnavailable(f"the events table has no column {missing}: restart the collector to add it")
        events = tabseparated(self._event_row(item, day, context_fields) for item in fresh.values())
        bad_rows = tabseparated(
            [row["received_at"], day, dumps(row["errors"]), dumps(row["payload"], sort_keys=True)] for row in bad
        )
        if events or bad_rows:
            self._inserts.submit((events, bad_rows), arrived)
        else:
            arrived()
        return Outcome(len(fresh), len(accepted) - len(fresh), len(bad))

    def _insert(self, works: list[tuple[str, str]]) -> None:
        """One insert into each table for the requests in `works`: their events and bad rows, as text."""
        events = "".join(work[0] for work in works)
        if events:
            self.server.insert("events", [*EVENT_COLUMNS, *(CONTEXT_PREFIX + f for f in self._context_fields)], events)
        bad_rows = "".join(work[1] for work in works)
        if bad_rows:
            self.server.insert("bad_rows", list(BAD_ROW_COLUMNS), bad_rows)

    def manifest(self) -> dict[str, Any] | None:
        for row in self.server.rows("SELECT manifest FROM catalog ORDER BY written DESC LIMIT 1"):
            found = json.loads(row["manifest"])
            return found if isinstance(found, dict) else None
        return None

    def stored_counts(self) -> dict[Partition, int]:
        sql = "SELECT event, version, toString(day) AS day, count() AS n FROM events FINAL GROUP BY event, version, day"
        return {(row["event"], int(row["version"]), row["day"]): int(row["n"]) for row in self.server.rows(sql)}

    def bad_rows(self) -> Iterator[dict[str, Any]]:
        sql = "SELECT received_at, errors, payload FROM bad_rows ORDER BY received_at, payload"
        for row in self.server.rows(sql):
            yield {
                "received_at": row["received_at"],
                "errors": json.loads(row["errors"]),
                "payload": json.loads(row["payload"]),
            }

    def events(self) -> Iterator[dict[str, Any]]:
        context = sorted(c for c in self._columns() if c.startswith(CONTEXT_PREFIX))
        selected = ", ".join(["event", "schema", "id", "timestamp", *map(quoted, context), "data"])
        for row in self.server.rows(f"SELECT {selected} FROM events FINAL ORDER BY event, version, day, id"):
            yield {
                "event": row["event"],
                "schema": row["schema"],
                "id": row["id"],
                "timestamp": row["timestamp"],
                "context": {c.removeprefix(CONTEXT_PREFIX): row[c] for c in context if row[c] is not None},
                "data": json.loads(row["data"]),
            }


def _datetime(timestamp: str) -> str:
    """`2026-03-01T10:00:00.123456Z` as ClickHouse reads a DateTime: `2026-03-01 10:00:00`."""
    return f"{timestamp[:10]} {timestamp[11:19]}"


def _field(value: str | None) -> str:
    """A value as TabSeparated text: NULL as `\\N`, else the three characters that would end the value
    or start an escape, escaped."""
    if value is None:
        return "\\N"
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _text(value: str) -> str:
    """The inside of a single-quoted SQL string."""
    return value.replace("\\", "\\\\").replace("'", "\\'")
