"""Delivery over HTTP: batched, gzipped JSON POSTs, or one query-string GET per event.

POST body (`Content-Encoding: gzip`, `Content-Type: application/json`):
`{"sent_at": "<UTC>", "events": [<envelope>, ...]}`.
GET form (like the `.log` endpoints of some apps): `?event=...&schema=...&id=...&timestamp=...`
`&sent_at=...`, then each context field as `c_<name>` and each data field under its own name;
strings as they are, other values as JSON text (`true`, `12`, `["a","b"]`).

Network errors, 5xx, 408 and 429 are retried with capped exponential backoff and jitter; a
`Retry-After` the server sends is honoured. Any other answer is final: a refused batch is dropped
and counted. Redirects are not followed: an endpoint that moved must be configured again.
"""

from __future__ import annotations

import datetime
import functools
import gzip
import json
import random
import threading
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from .envelope import utc_timestamp
from .sinks import Session, Sink, dumps
from .spool import Spool
from .storage import SPOOL_FOLDER

if TYPE_CHECKING:
    import urllib.request

Method = Literal["POST", "GET"]
_RETRIED_STATUSES = frozenset({408, 429})
ENVELOPE_KEYS = ("event", "schema", "id", "timestamp")  # sent under their own names in the GET form
CONTEXT_PREFIX = "c_"  # before each context field's name in the GET form


@functools.cache
def _opener() -> urllib.request.OpenerDirector:
    """An opener that follows no redirect. urllib (with http.client, email and ssl) is imported on
    the delivery thread at the first send, so an app's start-up never pays for it."""
    import urllib.request

    class NoRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    return urllib.request.build_opener(NoRedirects)


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Seconds a `Retry-After` header asks to wait (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    import email.utils

    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, moment.timestamp() - now)


def query_string(event: dict[str, Any], sent_at: str) -> str:
    """The GET form of one event (see the module docstring)."""

    def text(value: object) -> str:
        return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), allow_nan=False)

    pairs = [(key, text(event[key])) for key in ENVELOPE_KEYS]
    pairs.append(("sent_at", sent_at))
    pairs += [(CONTEXT_PREFIX + name, text(value)) for name, value in event["context"].items()]
    pairs += [(name, text(value)) for name, value in event["data"].items()]
    return urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote)


class HttpSink(Sink):
    """Sends events to `endpoint` from the delivery thread.

    `spool_max_bytes` keeps batches on disk (below the app's user-data folder, created only after
    opt-in) until the endpoint has them, so an offline app loses nothing within that size.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        method: Method = "POST",
        headers: Mapping[str, str] | None = None,
        spool_max_bytes: int | None = None,
        timeout: float = 5.0,
        max_attempts: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_request_bytes: int = 512 * 1024,
    ) -> None:
        if urllib.parse.urlsplit(endpoint).scheme not in ("http", "https"):
            raise ValueError(f"endpoint must be an http or https URL, not {endpoint!r}")
        if method not in ("POST", "GET"):
            raise ValueError(f"method must be POST or GET, not {method!r}")
        self.endpoint = endpoint
        self.method = method
        self.headers = dict(headers or {})
        self.spool_max_bytes = spool_max_bytes
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_request_bytes = max_request_bytes
        self._stopped = threading.Event()
        self._session: Session | None = None
        self._spool: Spool | None = None
        self._not_before = 0.0  # a Retry-After longer than the backoff cap pauses sending until then

    def start(self, session: Session) -> None:
        self._session = session
        self._stopped.clear()
        if self.spool_max_bytes is not None:
            import hashlib

            key = hashlib.sha256(f"{self.method} {self.endpoint}".encode()).hexdigest()[:16]
            folder = session.data_dir / SPOOL_FOLDER / key
            self._spool = Spool(folder, self.spool_max_bytes, session.count_dropped)

    def stop(self, *, forget: bool) -> None:
        self._stopped.set()  # ends any backoff wait at once; the spool keeps what is unsent
        if self._spool is not None:
            self._spool.close()

    def write(self, events: Sequence[dict[str, Any]]) -> None:
        if self._session is None:
            return
        lines = [dumps(event) for event in events]
        if self._spool is None:
            for chunk in self._chunks(lines):
                if self._deliver(chunk) == "failed":
                    self._session.count_dropped("http: undeliverable, no spool", len(chunk))
            return
        self._spool.add(self._chunks(lines))
        self._drain(self._spool)

    def _chunks(self, lines: list[str]) -> list[list[str]]:
        """Consecutive runs of lines whose request body stays within `max_request_bytes`."""
        if self.method == "GET":
            return [[line] for line in lines]
        chunks: list[list[str]] = [[]]
        size = 0
        for line in lines:
            if chunks[-1] and size + len(line) > self.max_request_bytes:
                chunks.append([])
                size = 0
            chunks[-1].append(line)
            size += len(line) + 1
        return [chunk for chunk in chunks if chunk]

    def _drain(self, spool: Spool) -> None:
        """Send the waiting batches, oldest first, until one fails or none is left."""
        if self._paused():
            return
        for batch in spool.waiting():
            claimed = None if self._paused() else spool.claim(batch)
            if claimed is None:
                continue  # another process took it first, or sending stopped
            if self._deliver(spool.read(claimed)) == "failed":
                spool.release(claimed)
                return
            spool.remove(claimed)

    def _paused(self) -> bool:
        """Stopped, or asked by the endpoint to wait (a Retry-After past the backoff cap)."""
        return self._stopped.is_set() or time.time() < self._not_before

    def _deliver(self, lines: list[str]) -> Literal["sent", "refused", "failed"]:
        """Send one batch, retrying what may succeed later; count what is refused."""
        assert self._session is not None
        event = json.loads(lines[0]) if self.method == "GET" else None  # the GET form sends one event
        for attempt in range(self.max_attempts):
            if self._stopped.is_set():  # opted out or exiting: start no new request
                break
            status, retry_after = self._attempt(lines, event)
            if 200 <= status < 300:
                return "sent"
            if status and status not in _RETRIED_STATUSES and status < 500:
                self._session.count_dropped(f"http {status}: refused", len(lines))
                return "refused"
            delay = min(self.max_backoff, self.backoff * 2**attempt) * random.uniform(0.5, 1.0)
            if retry_after is not None:
                if retry_after > self.max_backoff:
                    self._not_before = time.time() + retry_after
                    return "failed"
                delay = max(delay, retry_after)
            if attempt + 1 == self.max_attempts or self._stopped.wait(delay):
                break
        return "failed"

    def _attempt(self, lines: list[str], event: dict[str, Any] | None) -> tuple[int, float | None]:
        """One request, of `event` in the GET form, else of `lines`: the HTTP status (0 for a
        network error) and any Retry-After in seconds."""
        import urllib.error
        import urllib.request

        sent_at = utc_timestamp(time.time())
        if event is not None:
            url = f"{self.endpoint}{'&' if '?' in self.endpoint else '?'}{query_string(event, sent_at)}"
            request = urllib.request.Request(url, headers=self.headers, method="GET")
        else:
            body = f'{{"sent_at":"{sent_at}","events":[{",".join(lines)}]}}'.encode()
            headers = {**self.headers, "Content-Type": "application/json", "Content-Encoding": "gzip"}
            request = urllib.request.Request(self.endpoint, gzip.compress(body, 6), headers, method="POST")
        try:
            with _opener().open(request, timeout=self.timeout) as response:
                response.read()
                return response.status, None
        except urllib.error.HTTPError as error:
            with error:
                return error.code, retry_after_seconds(error.headers.get("Retry-After"), time.time())
        except (OSError, ValueError):  # refused, reset, timed out, unreachable, a broken answer
            return 0, None
