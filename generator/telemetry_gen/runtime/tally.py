"""A count that emitting threads add to without taking a lock.

`add` is `next()` on an `itertools.count`: one C call, which the GIL never interrupts, so no
addition is lost however many threads emit at once. Reading the count takes a number from the
same counter, so every read is remembered and taken off; reads must not run concurrently with
each other (callers hold a lock of their own), additions may.
"""

from __future__ import annotations

import itertools


class Tally:
    def __init__(self) -> None:
        self._counter = itertools.count()
        self._reads = 0
        self.add = self._counter.__next__  # bound once: this is on every accepted event's path

    def read(self) -> int:
        value = next(self._counter) - self._reads
        self._reads += 1
        return value
