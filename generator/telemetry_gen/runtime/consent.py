"""Consent levels and where a decision comes from.

Off by default. Precedence: an explicit call (`configure(consent=...)`, `enable()`,
`disable()`), then the environment (`DO_NOT_TRACK=1`, `<PREFIX>_TELEMETRY`), then nothing: off.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

Level = Literal["off", "errors", "all"]
LEVELS: tuple[Level, ...] = ("off", "errors", "all")
_ENV_WORDS: dict[str, Level] = {
    "0": "off",
    "false": "off",
    "no": "off",
    "off": "off",
    "1": "all",
    "true": "all",
    "yes": "all",
    "on": "all",
    "all": "all",
    "errors": "errors",
}


class Gate:
    """What may be emitted right now; read by every emitter before it does any work."""

    __slots__ = ("errors", "usage")

    def __init__(self) -> None:
        self.usage = False
        self.errors = False

    def set(self, level: Level) -> None:
        self.usage = level == "all"
        self.errors = level in ("errors", "all")


def parse_level(value: str) -> Level | None:
    """A consent level from user-facing text (`all`, `errors`, `off`, `1`, `0`, ...), or None."""
    return _ENV_WORDS.get(value.strip().lower())


def level_from_environment(environ: Mapping[str, str], env_prefix: str) -> tuple[Level, str] | None:
    """The decision the environment makes, with its source, or None when it makes none."""
    if environ.get("DO_NOT_TRACK", "").strip().lower() not in ("", "0", "false", "no"):
        return "off", "DO_NOT_TRACK"
    variable = f"{env_prefix}_TELEMETRY"
    raw = environ.get(variable)
    if raw is not None and (level := parse_level(raw)) is not None:
        return level, variable
    return None
