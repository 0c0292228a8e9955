"""What the generated code tells the runtime about the app and its events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Appends a message per violation to the list; appends nothing for a valid value.
Check = Callable[[dict[str, Any], list[str]], None]


@dataclass(frozen=True)
class ContextSpec:
    name: str
    source: str
    package: str | None = None


@dataclass(frozen=True)
class AppInfo:
    name: str
    title: str
    env_prefix: str
    catalog_version: str
    context: tuple[ContextSpec, ...]
    check_context: Check
    privacy_url: str | None = None


@dataclass(frozen=True)
class EventSpec:
    name: str
    schema_id: str
    category: str  # "usage" or "errors"
    check_data: Check
