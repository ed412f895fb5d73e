"""A progress line on stderr for long evaluations: `govdsl: [#####-----] 2/4 reduction ...`.

It draws nothing for the first `delay` seconds, so a quick run prints no progress
at all, and the CLI creates it only when stderr is a terminal. It redraws on each
update (one per reduction), so a single long reduction shows no motion.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from typing import TextIO

BAR_WIDTH = 20


class ProgressLine:
    """A callable `(done, total, label)` that redraws one terminal line, and `close()` that erases it."""

    def __init__(self, stream: TextIO, delay: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.delay = delay
        self.clock = clock
        self.started = clock()
        self.drawn = False

    def __call__(self, done: int, total: int, label: str) -> None:
        if self.clock() - self.started < self.delay:
            return
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        line = f"govdsl: [{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {done}/{total} {label}"
        width = shutil.get_terminal_size((80, 24)).columns - 1
        self.stream.write("\r" + line[:width].ljust(width))
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            width = shutil.get_terminal_size((80, 24)).columns - 1
            self.stream.write("\r" + " " * width + "\r")
            self.stream.flush()
            self.drawn = False
