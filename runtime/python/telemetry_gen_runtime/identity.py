"""The anonymous instance id: a random UUID4 (32 hex digits) kept in the user-data folder.

It is created only once the user has opted in, never derived from the machine or the person,
made anew if deleted, and deleted when the user opts out (`storage.forget`).
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from .envelope import EVENT_ID_PATTERN
from .storage import ID_FILE, read_json, write_json

_ID = re.compile(EVENT_ID_PATTERN)  # an instance id looks like an event id: 32 hex digits


def read_id(folder: Path) -> str | None:
    value = (read_json(folder / ID_FILE) or {}).get("user_id")
    return value if isinstance(value, str) and _ID.fullmatch(value) else None


def ensure_id(folder: Path) -> str:
    """The stored id, or a new one written atomically when there is none (or it is damaged)."""
    existing = read_id(folder)
    if existing is not None:
        return existing
    new_id = uuid.uuid4().hex
    write_json(folder / ID_FILE, {"user_id": new_id})
    return new_id
