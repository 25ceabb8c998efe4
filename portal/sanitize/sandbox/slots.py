"""At most N cleaning processes at once on this server, whichever worker starts them.

Threat: every cleaning process may take its whole memory and CPU allowance
(`limits.py`), and a burst of hostile uploads arriving through every worker
and thread at once would otherwise start as many as there are threads: the
sum, not one child, would exhaust the machine.

Promise: `CleanerSlots.hold()` lets at most `count` holders in at once across
every process that uses the same directory: each slot is a lock file held with
flock(), which the kernel releases when its holder ends, however it ends, so a
killed worker never keeps a slot. The next caller waits up to `wait_seconds`
for a slot, then is refused with `CleanersBusy` (code "busy"), never queued
without bound. Only this module raises it: a cleaning child that answers
"busy" is just a refusal, and cannot make the server turn an author away.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import CleaningRefused

POLL_SECONDS = 0.05


class CleanersBusy(CleaningRefused):
    """Every slot stayed taken for the whole wait."""

    def __init__(self) -> None:
        super().__init__("busy")


class CleanerSlots:
    def __init__(self, directory: Path, count: int, wait_seconds: float) -> None:
        if count < 1:
            raise ValueError("at least one cleaner must be allowed")
        self.directory = directory
        self.count = count
        self.wait_seconds = wait_seconds

    @contextmanager
    def hold(self) -> Iterator[int]:
        """Hold one slot for the duration of the block; raise CleanersBusy."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        deadline = time.monotonic() + self.wait_seconds
        while True:
            for index in range(self.count):
                fd = os.open(self.directory / f"slot-{index}", os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                try:
                    yield index
                finally:
                    os.close(fd)  # releases the lock
                return
            if time.monotonic() >= deadline:
                raise CleanersBusy
            time.sleep(POLL_SECONDS)
