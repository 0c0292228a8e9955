"""Delivery over HTTP: batched, gzipped JSON POSTs, or one query-string GET per event.

POST body (`Content-Encoding: gzip`, `Content-Type: application/json`):
`{"sent_at": "<UTC>", "events": [<envelope>, ...]}`.
GET form (like the `.log` endpoints of some apps): `?event=...&schema=...&id=...&timestamp=...`
`&sent_at=...`, then each context field as `c_<name>` and each data field under its own name;
strings as they are, other values as JSON text (`true`, `12`, `["a","b"]`).

Network errors, 5xx, 408 and 429 are retried with capped exponential backoff and jitter; a
`Retry-After` the server sends is honoured, and one past the backoff cap pauses sending until then.
Any other answer is final: a refused batch is dropped and counted. Redirects are not followed: an
endpoint that moved must be configured again.
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
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from .envelope import ENVELOPE_KEYS, utc_timestamp
from .forks import reset_after_fork
from .sinks import DropCounter, Session, Sink, dumps
from .spool import Spool
from .storage import SPOOL_FOLDER

if TYPE_CHECKING:
    import urllib.request

Method = Literal["POST", "GET"]
_RETRIED_STATUSES = frozenset({408, 429})
GET_FORM_KEYS = ENVELOPE_KEYS[:4]  # sent under their own names in the GET form; context and data follow
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

    pairs = [(key, text(event[key])) for key in GET_FORM_KEYS]
    pairs.append(("sent_at", sent_at))
    pairs += [(CONTEXT_PREFIX + name, text(value)) for name, value in event["context"].items()]
    pairs += [(name, text(value)) for name, value in event["data"].items()]
    return urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote)


class SpoolSender:
    """A thread that sends a spool's batches, started with the sink: what earlier runs left goes at
    once, and each batch the delivery thread keeps wakes it. Keeping a batch thus never waits for
    the network, so the delivery thread empties the queue into the spool even while the endpoint
    is down or silent. A batch that fails is tried again when the next one is kept, or at the
    next start."""

    def __init__(self, drain: Callable[[threading.Event], None], stopped: threading.Event) -> None:
        self._drain = drain
        self._stopped = stopped
        self._reset()
        reset_after_fork(self)

    def _reset(self) -> None:
        """No thread and nothing to do; also what a forked child starts from (its parent sends
        what was spooled before the fork)."""
        self._changed = threading.Condition()
        self._pending = False  # batches may be waiting that the thread has not tried since
        self._sending = False
        self._thread: threading.Thread | None = None

    def after_fork_in_child(self) -> None:
        self._reset()

    def notify(self) -> None:
        """There may be batches to send: wake the thread, starting it if need be."""
        with self._changed:
            if self._stopped.is_set():
                return  # what is spooled waits for the next start
            self._pending = True
            if self._thread is None:
                thread = threading.Thread(target=self._run, name="telemetry-spool", daemon=True)
                try:
                    thread.start()
                except RuntimeError:  # no thread can start (the interpreter is exiting): kept for the next run
                    self._pending = False
                    return
                self._thread = thread
            self._changed.notify_all()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._pending and not self._stopped.is_set():
                    self._changed.wait()
                if self._stopped.is_set():
                    return
                self._pending = False
                self._sending = True
            try:
                self._drain(self._stopped)
            except Exception:  # the spool deleted meanwhile (the user opted out); what is left stays spooled
                pass
            finally:
                with self._changed:
                    self._sending = False
                    self._changed.notify_all()

    def flush(self, timeout: float) -> bool:
        """Wait until the thread has tried every batch kept so far, at most `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._pending or self._sending:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stopped.is_set():
                    return False
                self._changed.wait(remaining)
        return True

    def stop(self) -> None:
        """Start no new request; the thread ends once the one under way (if any) is over."""
        self._stopped.set()
        with self._changed:
            self._changed.notify_all()


class HttpSink(Sink):
    """Sends events to `endpoint`.

    Without a spool, the delivery thread sends each batch. With `spool_max_bytes`, it only keeps
    batches on disk (below the app's user-data folder, created only after opt-in) and a
    `SpoolSender` sends them until the endpoint has them, so an offline app, or one that exits
    right after emitting, loses nothing within that size.
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
        # Set when the sink stops; each start has its own, so a request still under way from an
        # earlier start ends as that start asked.
        self._stopped = threading.Event()
        self._session: Session | None = None
        self._spool: Spool | None = None
        self._sender: SpoolSender | None = None
        self._not_before = 0.0  # a Retry-After longer than the backoff cap pauses sending until then

    def start(self, session: Session) -> None:
        self._session = session
        self._stopped = stopped = threading.Event()
        if self.spool_max_bytes is not None:
            import hashlib

            key = hashlib.sha256(f"{self.method} {self.endpoint}".encode()).hexdigest()[:16]
            folder = session.data_dir / SPOOL_FOLDER / key
            spool = self._spool = Spool(folder, self.spool_max_bytes, session.count_dropped)
            self._sender = SpoolSender(lambda stopped: self._drain(spool, stopped, session.count_dropped), stopped)
            self._sender.notify()  # what earlier runs left

    def stop(self, *, forget: bool) -> None:
        self._stopped.set()  # ends any backoff wait at once; the spool keeps what is unsent
        if self._sender is not None:
            self._sender.stop()
        if forget and self._spool is not None:
            self._spool.close()  # its folder is deleted next: a batch kept late must not bring it back

    def flush(self, timeout: float) -> bool:
        sender = self._sender
        return sender is None or sender.flush(timeout)

    def write(self, events: Sequence[dict[str, Any]]) -> None:
        session, stopped = self._session, self._stopped
        if session is None:
            return
        chunks = self._chunks([dumps(event) for event in events])
        if self._spool is not None and self._sender is not None:
            self._spool.add(chunks)
            self._sender.notify()
            return
        for chunk in chunks:
            if time.time() < self._not_before:
                session.count_dropped("http: paused by Retry-After, no spool", len(chunk))
            elif self._deliver(chunk, stopped, session.count_dropped) == "failed":
                session.count_dropped("http: undeliverable, no spool", len(chunk))

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

    def send_report(self, envelope: dict[str, Any], timeout: float) -> bool:
        """Send it as a batch of one, retried as any batch, on a thread of its own so the caller
        waits `timeout` seconds at most; never spooled."""
        outcome: list[str] = []
        stopped = threading.Event()

        def deliver() -> None:
            outcome.append(self._deliver([dumps(envelope)], stopped, _count_nothing))

        thread = threading.Thread(target=deliver, name="telemetry-report", daemon=True)
        thread.start()
        thread.join(timeout)
        stopped.set()  # no new attempt once the caller stopped waiting
        return outcome == ["sent"]

    def _drain(self, spool: Spool, stopped: threading.Event, count_dropped: DropCounter) -> None:
        """Send the waiting batches, oldest first, until one fails, sending pauses or none is left."""
        for batch in spool.waiting():
            if stopped.is_set() or time.time() < self._not_before:
                return
            claimed = spool.claim(batch)
            if claimed is None:
                continue  # another process took it first
            if self._deliver(spool.read(claimed), stopped, count_dropped) == "failed":
                spool.release(claimed)
                return
            spool.remove(claimed)

    def _deliver(
        self, lines: list[str], stopped: threading.Event, count_dropped: DropCounter
    ) -> Literal["sent", "refused", "failed"]:
        """Send one batch, retrying what may succeed later; count what is refused."""
        event = json.loads(lines[0]) if self.method == "GET" else None  # the GET form sends one event
        for attempt in range(self.max_attempts):
            if stopped.is_set():  # opted out or exiting: start no new request
                break
            status, retry_after = self._attempt(lines, event)
            if 200 <= status < 300:
                return "sent"
            if status and status not in _RETRIED_STATUSES and status < 500:
                count_dropped(f"http {status}: refused", len(lines))
                return "refused"
            delay = min(self.max_backoff, self.backoff * 2**attempt) * random.uniform(0.5, 1.0)
            if retry_after is not None:
                if retry_after > self.max_backoff:
                    self._not_before = time.time() + retry_after
                    return "failed"
                delay = max(delay, retry_after)
            if attempt + 1 == self.max_attempts or stopped.wait(delay):
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


def _count_nothing(reason: str, events: int) -> None:
    """A report the user sends is not counted: `send()` says whether it went."""
