"""Expiry: an event past its expiry date or app version is no longer sent.

`expires: 2027-06-30` in the catalog means the event is sent up to and including that day;
`expires: app:4.0` means app versions from 4.0 on (pre-releases of 4.0 included) do not send it.
The client works out once, in `configure()`, which events have expired; their emitters then do
nothing but count the call as dropped (`"<event>: expired"` in `status().dropped`).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable

from .spec import EventSpec

_LEADING_NUMBER = re.compile(r"[0-9]+")


def version_key(version: str) -> tuple[int, ...]:
    """The numeric parts of a version, compared part by part: `3.10` > `3.9`, `4` == `4.0`.

    Reading stops at the first part that is not a plain number, so `4.0rc1` counts as `4.0`.
    """
    parts: list[int] = []
    for part in version.strip().lstrip("vV").split("."):
        match = _LEADING_NUMBER.match(part)
        if match is None:
            break
        parts.append(int(match.group()))
        if match.end() != len(part):
            break
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def is_expired(spec: EventSpec, today: datetime.date, app_version: str) -> bool:
    """Whether the event must no longer be sent by this app version on this day."""
    if spec.expires_date is not None and today > datetime.date.fromisoformat(spec.expires_date):
        return True
    return spec.expires_app_version is not None and version_key(app_version) >= version_key(spec.expires_app_version)


def expired_events(specs: Iterable[EventSpec], today: datetime.date, app_version: str) -> frozenset[str]:
    """The names of the events that have expired."""
    return frozenset(spec.name for spec in specs if is_expired(spec, today, app_version))
