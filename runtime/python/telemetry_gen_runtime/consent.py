"""Consent levels and where a decision comes from.

Off by default. Precedence, first that decides wins:
1. an explicit call in this process: `configure(consent=...)`, `enable()`, `disable()`, a prompt;
2. the environment: `DO_NOT_TRACK=1` (always off), then `<PREFIX>_TELEMETRY`;
3. the app's configuration: `telemetry: collect: true|false|errors|all|off`;
4. the decision the user saved earlier (`consent.json`, written by `enable()`, `disable()` and
   the prompts);
5. nothing: off.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from .errors import ConfigurationError
from .storage import DECISION_FILE, read_json, write_json

Level = Literal["off", "errors", "all"]
LEVELS: tuple[Level, ...] = ("off", "errors", "all")
_WORDS: dict[str, Level] = {
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
# The app's configuration, already parsed, or the path of its YAML, JSON or TOML file.
AppConfig = Mapping[str, Any] | str | os.PathLike[str]


class Gate:
    """What may be emitted right now; read by every emitter before it does any work."""

    __slots__ = ("errors", "usage")

    def __init__(self) -> None:
        self.usage = False
        self.errors = False

    def set(self, level: Level) -> None:
        self.usage = level == "all"
        self.errors = level in ("errors", "all")


def parse_level(value: object) -> Level | None:
    """A consent level from user-facing text or a config value (`all`, `errors`, `1`, true, ...), or None."""
    if isinstance(value, bool):
        return "all" if value else "off"
    return _WORDS.get(value.strip().lower()) if isinstance(value, str) else None


def switched_on(environ: Mapping[str, str], name: str) -> bool:
    """Whether the on/off variable `name` (`DO_NOT_TRACK`, `<PREFIX>_TELEMETRY_DEBUG`, `CI`, ...) is
    on: set to anything but nothing or a word that means off (`0`, `false`, `no`, `off`)."""
    value = environ.get(name, "").strip()
    return bool(value) and _WORDS.get(value.lower()) != "off"


def level_from_environment(environ: Mapping[str, str], env_prefix: str) -> tuple[Level, str] | None:
    """The decision the environment makes, with its source, or None when it makes none."""
    if switched_on(environ, "DO_NOT_TRACK"):
        return "off", "DO_NOT_TRACK"
    variable = f"{env_prefix}_TELEMETRY"
    raw = environ.get(variable)
    if raw is not None and (level := parse_level(raw)) is not None:
        return level, variable
    return None


def _load_config_file(path: Path) -> object:
    text = path.read_text("utf-8")
    suffix = path.suffix.lower()
    if suffix == ".json":
        return json.loads(text)
    if suffix == ".toml":
        try:
            tomllib: Any = importlib.import_module("tomllib")
        except ImportError:
            raise ConfigurationError(
                f"cannot read {path}: reading TOML needs Python 3.11 or later (tomllib); on Python 3.10, "
                "pass the parsed configuration as `config=` instead (read with tomli, say)"
            ) from None
        return tomllib.loads(text)
    try:
        yaml: Any = importlib.import_module("yaml")
    except ImportError:
        raise ConfigurationError(
            f"cannot read {path}: reading YAML needs PyYAML; pass the parsed configuration as `config=` instead"
        ) from None
    return yaml.safe_load(text)


def level_from_config(config: AppConfig | None) -> Level | None:
    """The level the app's configuration sets with `telemetry: collect: ...`, or None.

    A missing file or a configuration without the key decides nothing; an unreadable file or
    a value that is no level raises `ConfigurationError`.
    """
    if config is None:
        return None
    if isinstance(config, Mapping):
        document: object = config
    else:
        path = Path(config)
        if not path.is_file():
            return None
        try:
            document = _load_config_file(path)
        except ConfigurationError:
            raise
        except Exception as exc:  # any parser's error: the app's file is broken, not the app
            raise ConfigurationError(f"cannot read {path}: {exc}") from None
    section = document.get("telemetry") if isinstance(document, Mapping) else None
    if not isinstance(section, Mapping) or "collect" not in section:
        return None
    level = parse_level(section["collect"])
    if level is None:
        raise ConfigurationError(f"telemetry.collect is {section['collect']!r}; use true, false, errors or all")
    return level


def saved_decision(folder: Path) -> Level | None:
    """The decision the user saved in an earlier run, if any."""
    level = (read_json(folder / DECISION_FILE) or {}).get("level")
    return level if level in LEVELS else None


def save_decision(folder: Path, level: Level) -> None:
    write_json(folder / DECISION_FILE, {"level": level})
