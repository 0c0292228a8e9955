"""How far a slow build step is, on one terminal line rewritten in place.

Only a step that has run for a second says anything, so quick builds print nothing; the line is
cleared when the step ends. The command writes it to standard error only when that is a terminal,
never in `--format json` output or to a pipe.
"""

from __future__ import annotations

import time
from typing import TextIO

# How long a step runs before it shows progress, and how often the line is rewritten after that.
DELAY = 1.0
INTERVAL = 0.1


class ProgressLine:
    """`step: done/total`, on `stream`, once the step has run for DELAY seconds."""

    def __init__(self, stream: TextIO, step: str) -> None:
        self.stream = stream
        self.step = step
        self.started = time.monotonic()
        self.shown = ""  # the text on the line, if any
        self.written_at = 0.0

    def update(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.started < DELAY or (now - self.written_at < INTERVAL and done < total):
            return
        text = f"{self.step}: {done}/{total}"
        self.stream.write("\r" + text.ljust(len(self.shown)))
        self.stream.flush()
        self.shown, self.written_at = text, now

    def close(self) -> None:
        """Clear the line, so what the command prints next starts on an empty one."""
        if self.shown:
            self.stream.write("\r" + " " * len(self.shown) + "\r")
            self.stream.flush()
            self.shown = ""
