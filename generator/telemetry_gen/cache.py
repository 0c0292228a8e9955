"""The cache of the one slow build step: the consumer models that datamodel-code-generator writes.

It lives in `.telemetry-gen-cache/` beside the catalog, never in the output, so nothing about it
reaches a generated file. Each output folder has one entry: the model of each event it was last
built with, under the key of what that model was made from (the event's input, the generator's
options and the versions of telemetry-gen and datamodel-code-generator). A model under another
key, or an entry that cannot be read, is ignored; entries are written whole (a temporary file,
then a rename), so concurrent builds never see half of one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CACHE_DIR = ".telemetry-gen-cache"


@dataclass(frozen=True)
class ModelsCache:
    """The cached event models of one catalog built into one output folder."""

    entry: Path

    @classmethod
    def beside(cls, catalog: Path, out: Path) -> ModelsCache:
        place = hashlib.sha256(f"{catalog.resolve()}\0{out.resolve()}".encode()).hexdigest()[:16]
        return cls(catalog.parent / CACHE_DIR / f"models-{place}.json")

    def load(self) -> dict[str, dict[str, Any]]:
        """The entry's tables (cached models by key, and the texts they share); empty when there is
        no readable entry."""
        try:
            record: Any = json.loads(self.entry.read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(record, dict):
            return {}
        return {name: table for name, table in record.items() if isinstance(table, dict)}

    def store(self, record: dict[str, dict[str, Any]]) -> None:
        """Keep exactly `record`; a cache that cannot be written is only a slower next build."""
        folder = self.entry.parent
        with contextlib.suppress(OSError):
            folder.mkdir(exist_ok=True)
            ignore = folder / ".gitignore"
            if not ignore.exists():  # keeps the cache out of version control wherever it is made
                ignore.write_text("*\n", "utf-8")
            handle, temporary = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=folder)
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as file:
                    json.dump(record, file, ensure_ascii=False)
                os.replace(temporary, self.entry)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temporary)
