"""The anonymous instance id: a random UUID4 (32 hex digits) kept in the user-data folder.

It is created only once the user has opted in, never derived from the machine or the person,
made anew if deleted, and deleted when the user opts out.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import uuid
from pathlib import Path

FILE_NAME = "user_id.json"
_ID = re.compile(r"^[0-9a-f]{32}$")


def user_data_dir(app_name: str) -> Path:
    """The platform's per-user data folder for the app (computed, never created here)."""
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    return base / app_name


def read_id(folder: Path) -> str | None:
    try:
        value = json.loads((folder / FILE_NAME).read_text("utf-8")).get("user_id")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) and _ID.match(value) else None


def ensure_id(folder: Path) -> str:
    """The stored id, or a new one written atomically when there is none (or it is damaged)."""
    existing = read_id(folder)
    if existing is not None:
        return existing
    new_id = uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{FILE_NAME}.{new_id}.tmp"
    temporary.write_text(json.dumps({"user_id": new_id}) + "\n", "utf-8")
    os.replace(temporary, folder / FILE_NAME)
    return new_id


def delete_id(folder: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        (folder / FILE_NAME).unlink()
