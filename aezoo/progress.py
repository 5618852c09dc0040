"""A one-line progress bar on stderr for long work (IS-NLL, encoding folders, evaluation).

Shown only when stderr is a terminal (so logs, pipes and tests stay clean) unless
``AEZOO_PROGRESS=1`` forces it on or ``AEZOO_PROGRESS=0`` off. Written to stderr so a
command's stdout (``aezoo eval``'s JSON) is never mixed with it.
"""

import os
import sys
import time


def enabled():
    forced = os.environ.get("AEZOO_PROGRESS")
    if forced in ("0", "1"):
        return forced == "1"
    return sys.stderr.isatty()


class Progress:
    """``with Progress(total, "IS-NLL") as bar: ... bar.update(n)``; silent when disabled."""

    def __init__(self, total, label, unit="examples"):
        self.total, self.label, self.unit = int(total), label, unit
        self.done, self.start, self.on = 0, time.monotonic(), enabled() and total > 0
        self._last = 0.0

    def update(self, n=1):
        self.done += n
        now = time.monotonic()
        if self.on and (now - self._last > 0.2 or self.done >= self.total):
            self._last = now
            elapsed = now - self.start
            rate = self.done / elapsed if elapsed > 0 else 0.0
            eta = (self.total - self.done) / rate if rate > 0 else 0.0
            width = 24
            filled = int(width * min(self.done, self.total) / self.total)
            sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {self.done:,}/{self.total:,} "
                             f"{self.unit}, {elapsed:.0f}s elapsed, ~{eta:.0f}s left ")
            sys.stderr.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.on:
            sys.stderr.write("\n")
            sys.stderr.flush()
        return False
