"""The cache of the one slow build step: the consumer models that datamodel-code-generator writes.

It lives in `.telemetry-gen-cache/` beside the catalog, never in the output, so nothing about it
reaches a generated file. Each output folder has one entry: the key of what its models were made
from (the models' input, the generator's options and the versions of telemetry-gen and
datamodel-code-generator) and the text they came to. An entry with another key, or one that
cannot be read, is ignored; entries are written whole (a temporary file, then a rename), so
concurrent builds never see half of one.
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
    """The cached models of one catalog built into one output folder."""

    entry: Path

    @classmethod
    def beside(cls, catalog: Path, out: Path) -> ModelsCache:
        place = hashlib.sha256(f"{catalog.resolve()}\0{out.resolve()}".encode()).hexdigest()[:16]
        return cls(catalog.parent / CACHE_DIR / f"models-{place}.json")

    def load(self, key: str) -> str | None:
        """The models text cached under `key`, if any."""
        try:
            record: Any = json.loads(self.entry.read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(record, dict) or record.get("key") != key or not isinstance(record.get("text"), str):
            return None
        text: str = record["text"]
        return text

    def store(self, key: str, text: str) -> None:
        """Keep `text` under `key`; a cache that cannot be written is only a slower next build."""
        folder = self.entry.parent
        with contextlib.suppress(OSError):
            folder.mkdir(exist_ok=True)
            ignore = folder / ".gitignore"
            if not ignore.exists():  # keeps the cache out of version control wherever it is made
                ignore.write_text("*\n", "utf-8")
            handle, temporary = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=folder)
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as file:
                    json.dump({"key": key, "text": text}, file, ensure_ascii=False)
                os.replace(temporary, self.entry)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temporary)
