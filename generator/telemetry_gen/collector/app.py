"""The collector as a plain ASGI app: one endpoint for the runtime's POSTs and GETs, and a health check.

    POST /v1/events   a gzipped (or plain) JSON batch {"sent_at": ..., "events": [...]}, with Content-Length
    GET  /v1/events?event=...&schema=...&id=...   one event in the query string
    GET  /health      {"status": "ok"}
    OPTIONS /v1/events   a browser's CORS preflight (see `Cors`)

A readable request gets 200 `{"accepted", "duplicates", "bad"}` once everything is on disk, also
when some of its events were bad: those are kept as bad rows, and refusing the batch would make
the runtime drop (or, for 5xx, resend) its good events with them. A request that cannot be read
gets a 4xx, which the runtime does not retry (it retries network errors, 5xx, 408 and 429):
400 unreadable (gzip, UTF-8, JSON, nesting, batch shape, query string), 401 missing or wrong
bearer token, 404 other path, 405 other method, 408 body too slow to arrive, 411 POST without
Content-Length, 413 body or batch too large, 414 query string too long, 415 content type or
encoding other than JSON and gzip; the connection then closes, so the rest of the request is
never waited for. A failure to write is a 503 with `Retry-After`, so the runtime sends the batch
again, and so is a request the collector gives up on because it is stopping. A 500 only ever
means a bug in the collector.

Nothing about the connection is kept: not the client's address, not a request header. Only the
events, and only what their schema declares.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime
import hmac
import json
import logging
import threading
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from telemetry_gen_runtime import utc_timestamp

from ..catalog.model import Catalog
from ..diagnostics import Diagnostic
from .schemas import Registry, shown
from .store import Accepted, Outcome, Store, unexpected
from .wire import Limits, Rejected, batch_events, clip, inflate, parse_json, query_event, text_problems

EVENTS_PATH = "/v1/events"
HEALTH_PATH = "/health"
RETRY_AFTER_SECONDS = 5
WORKERS = 4  # requests validated and written at once; the others wait their turn

T = TypeVar("T")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = logging.getLogger("telemetry_gen.collector")


@dataclass
class Counts:
    """What a collector run did, for its closing line."""

    accepted: int = 0
    duplicates: int = 0
    bad: int = 0
    refused: int = 0  # requests answered with a 4xx


def manifest(catalog: Catalog, registry: Registry) -> dict[str, Any]:
    """What `catalog.json` in the data folder says: the events declared, for `report`'s coverage.

    Its keys are in sorted order, as the file is written."""
    return {
        "app": catalog.app.name,
        "catalog_version": str(catalog.app.version),
        "events": {name: schema.version for name, schema in sorted(registry.current.items())},
        "schemas": sorted(registry.by_id),
    }


def _headers(scope: Scope) -> dict[str, str]:
    return {bytes(name).decode("latin-1").lower(): bytes(value).decode("latin-1") for name, value in scope["headers"]}


async def _receive_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Rejected(400, "disconnected", "the client went away before the body was complete")
        chunk = bytes(message.get("body", b""))
        size += len(chunk)
        if size > limit:
            raise Rejected(413, "body-too-large", f"the body is larger than {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _read_body(receive: Receive, limits: Limits) -> bytes:
    """The request's body, refused past `limits.max_body_bytes` or `limits.max_body_seconds`."""
    try:
        return await asyncio.wait_for(_receive_body(receive, limits.max_body_bytes), limits.max_body_seconds)
    except asyncio.TimeoutError:
        raise Rejected(
            408, "request-timeout", f"the body took more than {limits.max_body_seconds:g} seconds to arrive"
        ) from None


@dataclass(frozen=True)
class Cors:
    """Which web pages may send events from a browser (`collect --cors-origin`): `*` any page, or
    only these origins (`https://app.example`); none: no CORS headers, so browsers refuse to send
    from other origins. Every answer of the events endpoint carries them, refusals too, so a page's
    runtime reads the status and retries only what it should."""

    origins: tuple[str, ...] = ("*",)

    def headers(self, origin: str | None) -> dict[str, str]:
        if "*" in self.origins:
            return {"Access-Control-Allow-Origin": "*"}
        if origin is not None and origin in self.origins:
            return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        return {"Vary": "Origin"} if self.origins else {}


# The answer to a browser's preflight: what a page's runtime sends (gzip, JSON, a bearer token).
PREFLIGHT = {
    "Access-Control-Allow-Methods": "GET, POST",
    "Access-Control-Allow-Headers": "Authorization, Content-Encoding, Content-Type",
    "Access-Control-Max-Age": "600",
}


def json_answer(answer: Mapping[str, object]) -> bytes:
    """The body of every answer."""
    return (json.dumps(answer, sort_keys=True) + "\n").encode("utf-8")


async def _respond(send: Send, status: int, answer: Mapping[str, object], headers: Mapping[str, str]) -> None:
    body = json_answer(answer)
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("ascii")),
        (b"cache-control", b"no-store"),
        *((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class Collector:
    """The ASGI app. Validation and writing run on worker threads, `WORKERS` at a time; the store
    serialises writes."""

    def __init__(
        self,
        registry: Registry,
        store: Store,
        limits: Limits | None = None,
        token: str | None = None,
        cors: Cors | None = None,
    ):
        limits = limits or Limits()
        self.cors = cors or Cors()
        self.registry = registry
        self.store = store
        # A field the catalog allows is never "too large".
        self.limits = replace(limits, max_field_chars=max(limits.max_field_chars, registry.longest_string))
        self.token = token
        self.counts = Counts()
        self._counts_lock = threading.Lock()
        self._workers = asyncio.Semaphore(WORKERS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # the server runs without lifespan or websockets
        try:
            status, answer, headers = await self._handle(scope, receive)
        except Rejected as rejected:
            self.count_refused()
            # The body may be unread, or still on its way: the connection is not kept for it.
            status, headers = rejected.status, {**rejected.headers, "Connection": "close"}
            answer = {"error": rejected.code, "message": rejected.message}
        except OSError as exc:  # the disk, not the request: the runtime will send the batch again
            log.error("cannot store events: %s", exc)
            status, headers = 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}
            answer = {"error": "storage-failed", "message": "the collector cannot write; try again later"}
        except asyncio.CancelledError:
            # The server stops and waits no longer. Answered here rather than raised: uvicorn would
            # log a traceback and answer 500. Nothing of the request was acknowledged.
            status, headers = 503, {"Retry-After": str(RETRY_AFTER_SECONDS), "Connection": "close"}
            answer = {"error": "shutting-down", "message": "the collector is stopping; try again later"}
        except Exception:
            log.exception("internal error in the collector (please report it)")
            status, answer, headers = 500, {"error": "internal", "message": "internal error in the collector"}, {}
        if scope["path"] == EVENTS_PATH:
            headers = {**headers, **self.cors.headers(_headers(scope).get("origin"))}
        await _respond(send, status, answer, headers)

    def count_refused(self) -> None:
        """One more request answered with a 4xx."""
        with self._counts_lock:
            self.counts.refused += 1

    async def _handle(self, scope: Scope, receive: Receive) -> tuple[int, dict[str, object], dict[str, str]]:
        path, method = scope["path"], scope["method"]
        if path == HEALTH_PATH:
            if method != "GET":
                raise Rejected(405, "method-not-allowed", f"{shown(method)}: use GET", {"Allow": "GET"})
            return 200, {"status": "ok"}, {}
        if path != EVENTS_PATH:
            raise Rejected(404, "not-found", f"nothing at {shown(path)}; send events to {EVENTS_PATH}")
        if method == "OPTIONS" and self.cors.origins:
            return 200, {"status": "ok"}, dict(PREFLIGHT)
        if method not in ("GET", "POST"):
            raise Rejected(405, "method-not-allowed", f"{shown(method)}: use POST or GET", {"Allow": "GET, POST"})
        headers = _headers(scope)
        self._authorize(headers)
        # On its way to the store from here, which may wait for it to share a write; unless every
        # worker is taken, when it cannot get there before that write is done.
        arrived = unexpected if self._workers.locked() else self.store.expect()
        try:
            if method == "GET":
                event, clean = query_event(bytes(scope["query_string"]), self.registry, self.limits)
                outcome = await self._off_loop(lambda: self._process([event], clean, arrived))
            else:
                encoding = self._check_post(headers)
                body = await _read_body(receive, self.limits)
                outcome = await self._off_loop(lambda: self._process_body(body, encoding, arrived))
        finally:
            arrived()
        return 200, {"accepted": outcome.accepted, "duplicates": outcome.duplicates, "bad": outcome.bad}, {}

    async def _off_loop(self, work: Callable[[], T]) -> T:
        """`work()` on a daemon thread, once one of the `WORKERS` is free. asyncio's own executor
        threads are joined when the process exits, so a stopping collector would wait for every
        request they hold; a daemon thread is not waited for, and its request, never answered 200,
        is sent again by the runtime."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return  # the request stopped waiting before the thread began
            try:
                future.set_result(work())
            except BaseException as exc:  # raised in the request, as if `work` ran there
                future.set_exception(exc)

        async with self._workers:
            threading.Thread(target=run, name="collector-worker", daemon=True).start()
            return await asyncio.wrap_future(future)

    def _authorize(self, headers: Mapping[str, str]) -> None:
        if self.token is None:
            return
        scheme, _, credentials = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(credentials.strip().encode(), self.token.encode()):
            raise Rejected(
                401, "unauthorized", "send Authorization: Bearer <token>", {"WWW-Authenticate": 'Bearer realm="events"'}
            )

    def _check_post(self, headers: Mapping[str, str]) -> str:
        """The body's encoding, once the headers say a body of an acceptable kind and size follows."""
        content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if content_type != "application/json":
            raise Rejected(415, "unsupported-media-type", f"Content-Type {shown(content_type)}: send application/json")
        encoding = headers.get("content-encoding", "").strip().lower()
        if encoding not in ("", "identity", "gzip"):
            raise Rejected(415, "unsupported-encoding", f"Content-Encoding {shown(encoding)}: send gzip or nothing")
        length = headers.get("content-length")
        if length is None:
            raise Rejected(411, "length-required", "send the body with a Content-Length")
        if not (length.isascii() and length.isdigit()):
            raise Rejected(400, "bad-length", f"Content-Length {shown(length)} is not a number")
        if int(length) > self.limits.max_body_bytes:
            raise Rejected(413, "body-too-large", f"the body is larger than {self.limits.max_body_bytes} bytes")
        return encoding

    def _process_body(self, body: bytes, encoding: str, arrived: Callable[[], None]) -> Outcome:
        raw = inflate(body, encoding, self.limits.max_json_bytes)
        document, clean = parse_json(raw, self.limits)
        return self._process(batch_events(document, self.limits.max_events), clean, arrived)

    def _process(self, events: list[object], clean: bool, arrived: Callable[[], None]) -> Outcome:
        """Validate each event; store the good ones and bad rows for the others. `clean`: the request's
        text is known to be within the limits and Unicode, so it is not checked again event by event.
        `arrived`: what the store's `expect` returned for the request."""
        received = datetime.datetime.now(datetime.timezone.utc)
        accepted: list[Accepted] = []
        bad: list[dict[str, Any]] = []
        for event in events:
            problems = [] if clean else text_problems(event, self.limits.max_field_chars)
            if problems:  # kept cut to size and made Unicode; other events are kept as they arrived
                bad.append(self._bad_row(clip(event, self.limits.max_field_chars), problems, received))
                continue
            schema, problems = self.registry.check(event)
            if schema is not None and not problems and isinstance(event, dict):
                accepted.append(Accepted(schema.name, schema.version, event))
            else:
                bad.append(self._bad_row(event, problems, received))
        outcome = self.store.save(accepted, bad, received, arrived)
        with self._counts_lock:
            self.counts.accepted += outcome.accepted
            self.counts.duplicates += outcome.duplicates
            self.counts.bad += outcome.bad
        return outcome

    def _bad_row(self, payload: object, problems: list[Diagnostic], received: datetime.datetime) -> dict[str, Any]:
        """A failed event, as Snowplow keeps them: when, why (each reason's code, its place in the event
        as a JSON pointer, and its message), and what arrived."""
        return {
            "received_at": utc_timestamp(received.timestamp()),
            "errors": [{"code": p.code, "location": p.location.pointer, "message": p.message} for p in problems],
            "payload": payload,
        }
