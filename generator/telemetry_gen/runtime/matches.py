"""Values already found to match a pattern, so that emitting one again costs a set lookup.

A patterned field (a version, a country code, a model number) takes few distinct values in one
process, and a regex search costs the emitter's quick test several times what a set lookup does.
Only exact `str` values are asked about (the quick test checks the type first), and a `str` cannot
change, so one that matched once matches for good. What is remembered is bounded: at most
`LIMIT` values of at most `LONGEST` characters per pattern; others are searched every time.
"""

from __future__ import annotations

import re


class KnownMatches:
    LIMIT = 1024
    LONGEST = 256

    __slots__ = ("_search", "known")

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.known: set[str] = set()  # read directly by the quick tests: `value in m.known or m.matches(value)`
        self._search = pattern.search

    def matches(self, value: str) -> bool:
        if self._search(value) is None:
            return False
        # Concurrent emitters may each add one value past the limit: harmless, and no lock on this path.
        if len(self.known) < self.LIMIT and len(value) <= self.LONGEST:
            self.known.add(value)
        return True
