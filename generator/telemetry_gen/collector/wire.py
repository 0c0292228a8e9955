"""Reading what the runtime sends, within limits: a gzipped JSON batch (POST) or one event in a
query string (GET). The wire format is the runtime's: see `runtime/http.py`.

Every request is treated as hostile: sizes are checked before work is done, gzip is inflated only
up to a bound, nesting depth is bounded, text must be UTF-8. A request that cannot be read at all
is `Rejected` with a 4xx status and a code. Events that can be read but are wrong are not a reason
to refuse the batch: they become bad rows (the runtime would otherwise retry or drop good events
along with them).
"""

from __future__ import annotations

import json
import math
import re
import urllib.parse
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from telemetry_gen_runtime import CONTEXT_PREFIX, GET_FORM_KEYS

from ..diagnostics import Diagnostic, sorted_diagnostics
from .schemas import MAX_PROBLEMS, Registry, pointer, problem, shown

FIELD_TOO_LARGE = "field-too-large"
INVALID_TEXT = "invalid-text"
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Limits:
    """Bounds on one request. The defaults leave room for the runtime's 512 KiB batches, sent over a
    slow link."""

    max_body_bytes: int = 1024 * 1024  # as sent (gzipped)
    max_json_bytes: int = 4 * 1024 * 1024  # once inflated
    max_events: int = 1000  # per batch
    max_field_chars: int = 4096  # per string or key; raised to the catalog's longest `maxLength` if below
    max_depth: int = 32  # nesting of objects and arrays in the body
    max_query_bytes: int = 8192  # the GET form's query string
    max_header_seconds: float = 10.0  # to receive the request line and headers
    max_body_seconds: float = 30.0  # to receive the body, once the headers are in


class Rejected(Exception):
    """A request refused as a whole: an HTTP status, a stable code and a message for the sender."""

    def __init__(self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def inflate(body: bytes, encoding: str, limit: int) -> bytes:
    """The body without its `Content-Encoding`, refused past `limit` bytes. `encoding` is gzip, identity
    or none: the collector refuses any other (415) before it reads the body."""
    raw = body
    if encoding == "gzip":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            raw = inflater.decompress(body, limit + 1)
        except zlib.error as exc:
            raise Rejected(400, "bad-gzip", f"the body is not valid gzip ({exc})") from None
        if len(raw) <= limit and not inflater.eof:
            raise Rejected(400, "bad-gzip", "the gzip stream is truncated")
        if inflater.unused_data:
            raise Rejected(400, "bad-gzip", "data follows the gzip stream")
    if len(raw) > limit:
        raise Rejected(413, "body-too-large", f"the body inflates to more than {limit} bytes")
    return raw


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    """A JSON number as a float; one too large for a float (1e999) is refused rather than made infinite."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


def strict_loads(text: str) -> object:
    """Strict JSON: no NaN or infinities, whether written as words or as numbers out of range."""
    value: object = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    return value


def _fit(strings: list[str], max_chars: int) -> bool:
    """Whether every string (value or key) is within the field-size limit and Unicode text; checked
    with builtins over the whole list, as a batch holds thousands of them."""
    if max(map(len, strings), default=0) > max_chars:
        return False
    return all(map(str.isascii, strings)) or not any(_SURROGATE.search(text) for text in strings)


def scan(value: object, max_chars: int) -> tuple[int, bool]:
    """How deeply objects and arrays nest in `value` (0 for a scalar), and whether every string and
    key in it `_fit`s; one walk, level by level (never recursion-bound), that keeps no paths."""
    if not isinstance(value, (dict, list)):
        return 0, _fit([value] if isinstance(value, str) else [], max_chars)
    strings: list[str] = []
    depth = 0
    level: list[dict[Any, Any] | list[Any]] = [value]
    while level:
        depth += 1
        below: list[dict[Any, Any] | list[Any]] = []
        for node in level:
            children: Iterable[object] = node
            if isinstance(node, dict):
                strings.extend(node)
                children = node.values()
            for child in children:
                if isinstance(child, str):
                    strings.append(child)
                elif isinstance(child, (dict, list)):
                    below.append(child)
        level = below
    return depth, _fit(strings, max_chars)


def check_depth(value: object, limits: Limits) -> bool:
    """Refuse `value` if objects and arrays nest in it more than `limits.max_depth` deep. In the same
    walk: whether every string and key in it is within `limits.max_field_chars` and Unicode text
    (when not, `text_problems` says which, event by event)."""
    deepest, clean = scan(value, limits.max_field_chars)
    if deepest > limits.max_depth:
        raise Rejected(400, "too-deep", f"objects and arrays nest more than {limits.max_depth} levels deep")
    return clean


def parse_json(raw: bytes, limits: Limits) -> tuple[object, bool]:
    """The JSON document in `raw` (UTF-8, no NaN or infinities, nested at most `max_depth` deep), and
    whether all of its text is clean (see `check_depth`)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected(400, "bad-json", f"the body is not UTF-8 (byte {exc.start})") from None
    try:
        document = strict_loads(text)
    except RecursionError:
        raise Rejected(400, "too-deep", f"objects and arrays nest more than {limits.max_depth} levels deep") from None
    except ValueError as exc:
        raise Rejected(400, "bad-json", f"the body is not JSON ({shown(str(exc))})") from None
    return document, check_depth(document, limits)


def batch_events(document: object, max_events: int) -> list[object]:
    """The events of a POST body `{"sent_at": ..., "events": [...]}`; other top-level keys are ignored."""
    if not isinstance(document, dict) or not isinstance(document.get("events"), list):
        raise Rejected(400, "not-a-batch", 'the body must be a JSON object {"sent_at": ..., "events": [...]}')
    events: list[object] = document["events"]
    if len(events) > max_events:
        raise Rejected(413, "too-many-events", f"{len(events)} events in one batch; at most {max_events}")
    return events


def _typed(text: str, field: object) -> object:
    """A GET parameter back as its value: strings as they are, anything else was sent as JSON text."""
    if not isinstance(field, Mapping) or field.get("type") == "string":
        return text
    try:
        return strict_loads(text)
    except (ValueError, RecursionError):
        return text  # the schema check reports the mismatch


def query_event(query: bytes, registry: Registry, limits: Limits) -> tuple[dict[str, Any], bool]:
    """The envelope of a GET request, typed by the schema it names (see `runtime/http.py::query_string`),
    and whether all of its text is clean (see `check_depth`)."""
    if len(query) > limits.max_query_bytes:
        raise Rejected(414, "query-too-long", f"the query string is longer than {limits.max_query_bytes} bytes")
    if not query:
        raise Rejected(400, "bad-query", "no event in the query string; send ?event=...&schema=...")
    try:
        pairs = urllib.parse.parse_qsl(
            query.decode("ascii"), keep_blank_values=True, strict_parsing=True, errors="strict"
        )
    except ValueError as exc:  # includes text that is not UTF-8 once unquoted
        raise Rejected(400, "bad-query", f"the query string cannot be read ({shown(str(exc))})") from None
    fields: dict[str, str] = {}
    for key, value in pairs:
        if key in fields:
            raise Rejected(400, "bad-query", f"parameter {shown(key)} appears more than once")
        fields[key] = value
    fields.pop("sent_at", None)
    envelope: dict[str, Any] = {key: fields.pop(key) for key in GET_FORM_KEYS if key in fields}
    schema, _ = registry.lookup(envelope)
    context = schema.declared("context") if schema else {}
    data = schema.declared("data") if schema else {}
    envelope["context"] = {
        key[len(CONTEXT_PREFIX) :]: _typed(value, context.get(key[len(CONTEXT_PREFIX) :]))
        for key, value in fields.items()
        if key.startswith(CONTEXT_PREFIX)
    }
    envelope["data"] = {
        key: _typed(value, data.get(key)) for key, value in fields.items() if not key.startswith(CONTEXT_PREFIX)
    }
    return envelope, check_depth(envelope, limits)


def _strings(event: object) -> list[tuple[list[object], str]]:
    """Every string in `event`, keys included, with where it is; iterative."""
    found: list[tuple[list[object], str]] = []
    stack: list[tuple[list[object], object]] = [([], event)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            found.append((path, node))
        elif isinstance(node, dict):
            for key, value in node.items():
                found.append(([*path, key], key))
                stack.append(([*path, key], value))
        elif isinstance(node, list):
            stack.extend(([*path, index], item) for index, item in enumerate(node))
    return found


def text_problems(event: object, max_chars: int) -> list[Diagnostic]:
    """Strings (values or keys) past the field-size limit, and text that is not Unicode (lone surrogates).

    The strings are found with their paths only when one of them does not fit."""
    if scan(event, max_chars)[1]:
        return []
    problems: set[Diagnostic] = set()
    for path, text in _strings(event):
        if len(text) > max_chars:
            problems.add(problem(pointer(path), FIELD_TOO_LARGE, f"{len(text)} characters; the limit is {max_chars}"))
        elif _SURROGATE.search(text):
            problems.add(problem(pointer(path), INVALID_TEXT, "contains a lone surrogate, which is not Unicode text"))
    return sorted_diagnostics(problems)[:MAX_PROBLEMS]


def clip(value: object, max_chars: int) -> object:
    """`value` with every string and key cut to `max_chars` and made valid Unicode, to keep in a bad row.

    Only called on values whose depth was checked, so the recursion is bounded.
    """
    if isinstance(value, str):
        text = value if len(value) <= max_chars else value[:max_chars] + "...[cut]"
        return text.encode("utf-8", "replace").decode("utf-8") if _SURROGATE.search(text) else text
    if isinstance(value, dict):
        return {str(clip(str(key), max_chars)): clip(item, max_chars) for key, item in value.items()}
    if isinstance(value, list):
        return [clip(item, max_chars) for item in value]
    return value
