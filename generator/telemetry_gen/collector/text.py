"""How `report` and `live-check` print coverage in a terminal: wrapped lists and shares."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

WIDTH = 100


def wrapped(text: str) -> list[str]:
    """`text` as indented lines of at most `WIDTH` characters; event names are never split at a hyphen."""
    return textwrap.wrap(text, width=WIDTH, initial_indent="  ", subsequent_indent="    ", break_on_hyphens=False)


def share(part: int, whole: int) -> str:
    """` (42%)`, or nothing when there is no whole."""
    return f" ({100 * part / whole:.0f}%)" if whole else ""


def coverage_lines(never_seen: list[str], unknown: Mapping[str, int], unknown_label: str) -> list[str]:
    """The declared events never seen (if any), then the unknown ones that arrived, with counts."""
    lines = wrapped(f"never seen ({len(never_seen)}): " + ", ".join(never_seen)) if never_seen else []
    listed = ", ".join(f"{name} ({count})" for name, count in sorted(unknown.items())) or "none"
    return lines + wrapped(f"{unknown_label}: {listed}")
