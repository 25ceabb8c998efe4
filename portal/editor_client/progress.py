"""A progress line on stderr: bytes done, total, and time left."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total: int, label: str = "", stream=sys.stderr) -> None:  # type: ignore[no-untyped-def]
        self.total = max(total, 1)
        self.done = 0
        self.label = label
        self.stream = stream
        self.started = time.monotonic()
        self._last = 0.0

    def __call__(self, amount: int) -> None:
        self.done += amount  # several threads may add; an approximate bar is fine
        now = time.monotonic()
        if now - self._last > 0.2 or self.done >= self.total:
            self._last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        if not self.stream.isatty():
            return
        fraction = min(self.done / self.total, 1.0)
        elapsed = now - self.started
        left = elapsed * (1 - fraction) / fraction if fraction > 0 else 0
        bar = "#" * int(fraction * 30)
        self.stream.write(f"\r{self.label[:24]:24} [{bar:30}] {fraction:4.0%} "
                          f"{self.done / 1e6:8.1f}/{self.total / 1e6:.1f} MB  "
                          f"{int(left) // 60}:{int(left) % 60:02d} left ")
        self.stream.flush()

    def finish(self) -> None:
        if self.stream.isatty():
            self._draw(time.monotonic())
            self.stream.write("\n")
