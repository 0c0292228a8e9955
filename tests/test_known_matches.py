"""The emitters' memory of values that matched a pattern (runtime/matches.py)."""

from __future__ import annotations

import re

from telemetry_gen.runtime.matches import KnownMatches

VERSION = re.compile(r"^[0-9]+\.[0-9]+$")


def test_a_match_is_remembered_and_a_miss_is_not() -> None:
    seen = KnownMatches(VERSION)
    assert seen.matches("2.8") and "2.8" in seen.known
    assert not seen.matches("2.8.x") and "2.8.x" not in seen.known
    assert seen.matches("2.8") and seen.known == {"2.8"}


def test_what_is_remembered_is_bounded() -> None:
    seen = KnownMatches(re.compile(r"^[0-9]+$"))
    for number in range(KnownMatches.LIMIT + 100):
        assert seen.matches(str(number))
    assert len(seen.known) == KnownMatches.LIMIT
    fresh = KnownMatches(re.compile(r"^[0-9]+$"))
    longest = "7" * (KnownMatches.LONGEST + 1)
    assert fresh.matches(longest) and longest not in fresh.known  # still searched, every time
