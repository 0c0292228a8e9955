"""Reports the user chooses to send: a feedback event, made on the user's explicit action.

A report is made whatever the consent level, because the user asked for it; below `all` it
carries neither the instance id nor the session id, and making or sending it stores nothing.
It is made first and sent on request, so the app can show the user exactly what would be sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Report:
    """One report, ready to send. Show `envelope` to the user, then call `send()` if they agree."""

    event: str
    # Exactly what `send()` sends; None when there is nothing to send (the data was invalid, the
    # event expired, or telemetry is not configured: see `status().dropped`).
    envelope: dict[str, Any] | None
    _deliver: Callable[[dict[str, Any]], bool] = field(repr=False, compare=False)

    def send(self) -> bool:
        """Send the report now, waiting at most `flush_timeout`; True when a sink took it."""
        return self.envelope is not None and self._deliver(self.envelope)
