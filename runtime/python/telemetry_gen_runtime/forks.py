"""What a forked child resets: locks and threads its parent held are not the child's.

Objects that keep a lock or a thread register here; after a fork, each gets `after_fork_in_child`
called in the child, once per fork, before the child runs anything else.
"""

from __future__ import annotations

import os
import weakref
from typing import Protocol


class ResetAfterFork(Protocol):
    def after_fork_in_child(self) -> None: ...


_REGISTERED: weakref.WeakSet[ResetAfterFork] = weakref.WeakSet()


def reset_after_fork(owner: ResetAfterFork) -> None:
    """Call `owner.after_fork_in_child()` in every forked child, as long as `owner` lives."""
    _REGISTERED.add(owner)


def _in_child() -> None:
    for owner in list(_REGISTERED):
        owner.after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_in_child)
