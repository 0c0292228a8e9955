"""The build cache: what a build or check came to, kept beside the catalog so an unchanged rebuild check is quick.

A record holds the diagnostics a run printed, the number of events and the manifest (each file's
size and sha256) of the output the catalog builds. It is keyed by everything that outcome depends
on: the catalog's bytes and where it is seen from (diagnostics name it relative to the working
folder), the output folder, the options, the date the lints use, telemetry-gen's version and its
own files (so an edited toolkit never gives a stale answer) and the versions of the libraries that
shape the output. A record with another key, or one that cannot be read, is ignored. Records are
written whole (a temporary file, then a rename), so concurrent runs never see half of one.

This module imports only the standard library and the light parts of telemetry-gen: a cached
check must not pay for loading YAML, JSON Schema, Jinja or the catalog model.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__
from .diagnostics import Diagnostic, Location, Severity
from .write import FileDigest, Manifest

CACHE_DIR = ".telemetry-gen-cache"
# Raised whenever the record's layout changes, so records of another layout are ignored.
RECORD_FORMAT = 1
# The installed libraries whose versions can change the output (Jinja, datamodel-code-generator)
# or the diagnostics (PyYAML, jsonschema).
OUTPUT_LIBRARIES = ("PyYAML", "Jinja2", "jsonschema", "datamodel-code-generator")


def today() -> datetime.date:
    """Today, or the day SOURCE_DATE_EPOCH names, so builds and lints are reproducible."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).date()
    return datetime.date.today()


@functools.cache  # the key is worked out before a build and again after it, in one process
def toolkit_fingerprint() -> str:
    """A hash of telemetry-gen's version, every file of the package (templates included) and the libraries' versions."""
    from importlib import metadata  # slow to import, and a build that keeps no cache never needs it

    package = Path(__file__).parent
    digest = hashlib.sha256(__version__.encode("utf-8"))
    for folder, subfolders, names in os.walk(package, followlinks=True):  # templates/ is a symlink in a checkout
        subfolders[:] = sorted(name for name in subfolders if name != "__pycache__")
        for name in sorted(names):
            path = Path(folder, name)
            digest.update(f"\0{path.relative_to(package).as_posix()}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    for library in OUTPUT_LIBRARIES:
        digest.update(f"\0{library}=={metadata.version(library)}".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class BuildRequest:
    """One `telemetry-gen build` invocation: what it reads, where it writes and the options that change its outcome."""

    catalog: Path
    out: Path
    fatal_warnings: bool
    app_version: str | None

    def key(self) -> str:
        """The hash of every input of the outcome; raises OSError (or PackageNotFoundError) when one cannot be read."""
        inputs = {
            "catalog": hashlib.sha256(self.catalog.read_bytes()).hexdigest(),
            "catalog_path": [self.catalog.as_posix(), str(self.catalog.resolve()), str(Path.cwd().resolve())],
            "out": [self.out.as_posix(), str(self.out.resolve())],
            "fatal_warnings": self.fatal_warnings,
            "app_version": self.app_version,
            "date": today().isoformat(),
            "toolkit": toolkit_fingerprint(),
        }
        return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Outcome:
    """What a build comes to: its diagnostics and, unless they stop the build, the output's manifest."""

    diagnostics: list[Diagnostic]
    events: int
    manifest: Manifest | None


def _encode(key: str, outcome: Outcome) -> str:
    diagnostics = [
        [d.code, d.severity.value, d.location.file, d.location.line, d.location.column, d.message, d.hint]
        for d in outcome.diagnostics
    ]
    files = None if outcome.manifest is None else {p: [f.size, f.sha256] for p, f in outcome.manifest.items()}
    record = {"format": RECORD_FORMAT, "key": key, "diagnostics": diagnostics, "events": outcome.events, "files": files}
    return json.dumps(record, sort_keys=True, ensure_ascii=False)


def _decode(text: str, key: str) -> Outcome | None:
    """The outcome a record holds for `key`; None for a record of another key or layout, or a damaged one."""
    try:
        record: Any = json.loads(text)
        if record["format"] != RECORD_FORMAT or record["key"] != key:
            return None
        diagnostics = [
            Diagnostic(code, Severity(severity), Location(file, line, column), message, hint)
            for code, severity, file, line, column, message, hint in record["diagnostics"]
        ]
        files = record["files"]
        manifest = None if files is None else {path: FileDigest(size, sha256) for path, (size, sha256) in files.items()}
        return Outcome(diagnostics, record["events"], manifest)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


@dataclass(frozen=True)
class BuildCache:
    """The record of one catalog built into one output folder, and the key it must carry to be used."""

    request: BuildRequest
    record: Path
    key: str

    @classmethod
    def open(cls, request: BuildRequest) -> BuildCache | None:
        """The cache for `request`; None when it cannot be used (unreadable catalog, cache folder in the output)."""
        folder = request.catalog.parent / CACHE_DIR
        try:
            cache, out = folder.resolve(), request.out.resolve()
            if cache.is_relative_to(out) or out.is_relative_to(cache):
                return None  # the cache must never become part of the output
            place = hashlib.sha256(f"{request.catalog.resolve()}\0{out}".encode()).hexdigest()[:16]
            return cls(request, folder / f"build-{place}.json", request.key())
        except (OSError, ImportError):  # importlib.metadata.PackageNotFoundError is an ImportError
            return None

    def load(self) -> Outcome | None:
        try:
            text = self.record.read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        return _decode(text, self.key)

    def store(self, outcome: Outcome) -> None:
        """Record `outcome`, unless an input changed while it was built (then its key is unknown)."""
        with contextlib.suppress(OSError, ImportError):  # as in `open`
            if self.request.key() != self.key:
                return
            self.record.parent.mkdir(exist_ok=True)
            ignore = self.record.parent / ".gitignore"
            if not ignore.exists():  # keeps the cache out of version control wherever it is made
                ignore.write_text("*\n", "utf-8")
            handle, temporary = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=self.record.parent)
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as file:
                    file.write(_encode(self.key, outcome))
                os.replace(temporary, self.record)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temporary)
