"""The build's progress line on stderr."""

from __future__ import annotations

import sys
import time


class Progress:
    """``rendered N/M posts`` on one stderr line, only when the build is slow enough to need it."""

    def __init__(self, enabled: bool, start: float):
        self.enabled, self.start, self.shown = enabled, start, False

    def __call__(self, done: int, total: int) -> None:
        if self.enabled and time.monotonic() - self.start > 1.0:
            sys.stderr.write(f"\rrendered {done}/{total} posts")
            sys.stderr.flush()
            self.shown = True

    def finish(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()
