"""An on-disk spool: batches waiting for delivery, one file each, oldest first.

A batch is written here before its first delivery attempt and removed once the endpoint has
taken it (or refused it for good), so neither an offline period, nor a restart, nor a killed
process loses it. Past the size cap the oldest batches are dropped and counted. A process claims
a batch by renaming it while it sends it, so two processes of the same app never send one twice;
the claim of a process that died is taken back.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from .forks import reset_after_fork
from .sinks import DropCounter

_BATCH = ".jsonl"
_CLAIM = ".claim"
_STALE_CLAIM_SECONDS = 600  # where a claim's owner cannot be asked whether it still runs


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if sys.platform == "win32":
        return True  # os.kill would end the process; stale claims are told by age there
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists but belongs to someone else
    return True


def _unclaimed(claimed: Path) -> tuple[Path, str]:
    """The batch a claim named `<stem>.<pid>.claim` was made from, and the claiming process's id."""
    stem, _, rest = claimed.name.partition(".")
    return claimed.with_name(stem + _BATCH), rest.removesuffix(_CLAIM)


def waiting_below(folder: Path) -> tuple[int, int, int]:
    """The batches, events and bytes waiting in every spool below `folder` (a sink keeps one per
    endpoint), those being sent included, counted without claiming or changing anything."""
    batches = events = size = 0
    for path in folder.rglob("*"):
        if path.name.endswith((_BATCH, _CLAIM)):
            with contextlib.suppress(OSError):  # sent and removed meanwhile
                data = path.read_bytes()
                batches, events, size = batches + 1, events + data.count(b"\n"), size + len(data)
    return batches, events, size


class Spool:
    def __init__(self, folder: Path, max_bytes: int, count_dropped: DropCounter) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self._count_dropped = count_dropped
        self._lock = threading.Lock()
        self._closed = False
        reset_after_fork(self)

    def after_fork_in_child(self) -> None:
        # A lock another thread held at the fork stays held in the child, where no thread releases it.
        self._lock = threading.Lock()

    def add(self, batches: Sequence[list[str]]) -> None:
        """Keep batches (each one JSON document per line), then drop the oldest batches past the cap."""
        contents = ["".join(line + "\n" for line in lines).encode("utf-8") for lines in batches]
        with self._lock:
            if self._closed:
                return
            self.folder.mkdir(parents=True, exist_ok=True)
            for data in contents:
                name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:12]}"
                temporary = self.folder / f".{name}.tmp"
                with temporary.open("wb") as file:
                    file.write(data)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temporary, self.folder / (name + _BATCH))
            self._enforce_cap()

    def _enforce_cap(self) -> None:
        batches = []
        for path in self._batches():
            with contextlib.suppress(FileNotFoundError):  # sent and removed by another process
                batches.append((path, path.stat().st_size))
        total = sum(size for _, size in batches)
        for path, size in batches:
            if total <= self.max_bytes:
                break
            with contextlib.suppress(OSError):
                events = path.read_bytes().count(b"\n")
                path.unlink()
                total -= size
                self._count_dropped("spool full: oldest dropped", events)

    def _names(self) -> list[str]:
        try:
            return sorted(os.listdir(self.folder))
        except FileNotFoundError:
            return []

    def _batches(self) -> list[Path]:
        return [self.folder / name for name in self._names() if name.endswith(_BATCH)]

    def waiting(self) -> list[Path]:
        """The batches waiting to be sent, oldest first, once the claims of processes that died
        (or, where that cannot be asked, that are too old) are taken back."""
        with self._lock:
            if self._closed:
                return []
            batches = []
            for name in self._names():
                if name.endswith(_CLAIM):
                    batch = self._take_back_if_stale(self.folder / name)
                    if batch is not None:
                        batches.append(batch)
                elif name.endswith(_BATCH):
                    batches.append(self.folder / name)
            return sorted(batches, key=lambda path: path.name)

    @staticmethod
    def _take_back_if_stale(claimed: Path) -> Path | None:
        """The batch again, if its claim's owner is gone; None while the owner still sends it."""
        batch, pid = _unclaimed(claimed)
        with contextlib.suppress(OSError, ValueError):
            if not _running(int(pid)) or time.time() - claimed.stat().st_mtime > _STALE_CLAIM_SECONDS:
                os.replace(claimed, batch)
                return batch
        return None

    def claim(self, batch: Path) -> Path | None:
        """Take a waiting batch for sending; None when another process took it first, or the spool
        is closed."""
        with self._lock:
            if self._closed:
                return None
            claimed = batch.with_name(f"{batch.stem}.{os.getpid()}{_CLAIM}")
            try:
                os.replace(batch, claimed)
            except FileNotFoundError:
                return None
            return claimed

    @staticmethod
    def read(claimed: Path) -> list[str]:
        return claimed.read_text("utf-8").splitlines()

    def release(self, claimed: Path) -> None:
        """Sending failed: put the batch back to be tried again later."""
        with contextlib.suppress(FileNotFoundError):  # gone if the user opted out meanwhile
            os.replace(claimed, _unclaimed(claimed)[0])

    @staticmethod
    def remove(claimed: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            claimed.unlink()

    def close(self) -> None:
        """No more batches are kept or handed out: the user opted out, and the folder goes next."""
        with self._lock:
            self._closed = True
