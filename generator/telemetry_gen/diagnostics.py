"""Errors are data: every problem telemetry-gen reports is a `Diagnostic`.

The catalog's format and model errors, the lints, `diff`'s changes and version rules, the schema
files the collector loads, the reasons of its bad rows and live-check's findings all take this one
shape, and print the same way: `location: severity CODE: message`, then a hint saying what to do.
Stages collect diagnostics instead of raising, so a user sees every problem of a run at once.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, order=True)
class Location:
    """Where a diagnostic points, as editors and `jq` read it; each part is left out when unknown.

    A position in a source file is 1-based (`events.yaml:12:5`); a line of an input, alone
    (`capture.jsonl:3`); a place inside the JSON value there is a JSON pointer
    (`capture.jsonl:3#/data/tags/2`), and inside one event with no file behind it, the pointer
    alone (`#/data/tags/2`). A file named alone is the file as a whole.
    """

    file: str = ""
    line: int = 0  # 0: no line (the whole file)
    column: int = 0  # 0: no column (the whole line)
    pointer: str = ""  # a JSON pointer (RFC 6901) into the value; "" is the whole value

    def __str__(self) -> str:
        text = self.file
        if self.line:
            text += f":{self.line}"
            if self.column:
                text += f":{self.column}"
        if self.pointer:
            text += f"#{self.pointer}"
        return text


@dataclass(frozen=True)
class Diagnostic:
    code: str
    severity: Severity
    location: Location
    message: str
    hint: str = ""

    def render(self) -> str:
        where = str(self.location)
        text = f"{where + ': ' if where else ''}{self.severity.value} {self.code}: {self.message}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text

    def as_json(self) -> dict[str, object]:
        """The diagnostic as `--format json` prints it; `location` as `render` writes it."""
        return {
            "code": self.code,
            "severity": self.severity.value,
            "location": str(self.location),
            "message": self.message,
            "hint": self.hint,
        }

    def sort_key(self) -> tuple[Location, str, str]:
        return (self.location, self.code, self.message)


def sorted_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return sorted(diagnostics, key=Diagnostic.sort_key)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)


def fails(diagnostics: Iterable[Diagnostic], *, fatal_warnings: bool) -> bool:
    """Whether these diagnostics fail a command: an error, or a warning with `--fatal-warnings`."""
    stopping = (Severity.ERROR, Severity.WARNING) if fatal_warnings else (Severity.ERROR,)
    return any(d.severity in stopping for d in diagnostics)
