"""What the generated code tells the runtime about the app and its events."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import Violation

# A generated check: the violations of one event's data (or the context); empty when it is valid.
Check = Callable[[dict[str, Any]], list[Violation]]


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
    events: tuple[EventSpec, ...] = ()  # every event of the catalog (expiry is worked out from them)
    # The check of the context the app gives to `configure(context=...)` (its fields of source `app`).
    check_app_context: Check | None = None
    # The context's check for a report the user sends (a feedback event): the ids may be absent.
    check_report_context: Check | None = None


@dataclass(frozen=True)
class EventSpec:
    name: str
    schema_id: str
    # "usage", "errors", "opt-out" (the record the runtime sends when the user opts out) or
    # "feedback" (a report the user chooses to send)
    category: str
    check_data: Check
    expires_date: str | None = None  # YYYY-MM-DD: the last day the event is sent
    expires_app_version: str | None = None  # the first app version that no longer sends it
    fixed_data: Mapping[str, str] | None = None  # the opt-out record's data, which the catalog fixes
