"""Files the runtime keeps in the app's user-data folder, written only after the user has decided.

- `user_id.json`: the anonymous instance id (only while telemetry is on);
- `consent.json`: the user's saved decision (`all`, `errors` or `off`), so they are asked once;
- `spool/`: events waiting for delivery, when a sink keeps a spool.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

ID_FILE = "user_id.json"
DECISION_FILE = "consent.json"
SPOOL_FOLDER = "spool"


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


def read_json(path: Path) -> dict[str, Any] | None:
    """The object stored in `path`, or None when it is missing, unreadable or damaged."""
    try:
        value = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def write_json(path: Path, value: dict[str, Any], indent: int | None = None) -> None:
    """Write atomically: a reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        temporary.write_text(json.dumps(value, indent=indent) + "\n", "utf-8")
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def forget(folder: Path) -> None:
    """Delete what telemetry stored about this installation: the instance id and the spool.

    The saved decision stays: it records that the user said no, and nothing else.
    """
    with contextlib.suppress(FileNotFoundError):
        (folder / ID_FILE).unlink()
    import shutil  # needed only when the user opts out

    shutil.rmtree(folder / SPOOL_FOLDER, ignore_errors=True)
