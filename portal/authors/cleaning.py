"""Cleaning an upload within the server's bounds: how many at once, and how much memory.

Threat: every cleaner may spend its whole memory and CPU allowance on a hostile
file, and uploads arrive through every worker and thread at once; safe-copy
renderers (LibreOffice) run after them. Unbounded, their sum exhausts the
machine: the service's memory cap then kills processes at random.

Promise: at most PORTAL_CLEANERS cleaners and renderers run at once across the
server (`cleaner_slots`, lock files shared by every worker); each holds one
slot's share of PORTAL_CLEANING_MEMORY_MB (settings.PORTAL_CLEANER_MEMORY_BYTES)
as its limit, so together they never pass that total, which the service's
MemoryMax= holds with the workers. One more waits PORTAL_CLEANER_WAIT_SECONDS
for a slot, then CleanersBusy: the author is asked to come back, nothing kept.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from django.conf import settings

from portal.sanitize import DEFAULT_LIMITS, Limits
from portal.sanitize.safecopy import SafeCopyLimits
from portal.sanitize.sandbox.slots import CleanersBusy, CleanerSlots

__all__ = ["CleanersBusy", "cleaner_slots", "cleaning_limits", "safe_copy_limits"]

# The renderer's own Python beside the program it runs (it holds one page's pixels
# at a time); measured under 40 MiB.
RENDERER_PYTHON_BYTES = 64 * 1024 * 1024


def cleaner_slots() -> CleanerSlots:
    """At most PORTAL_CLEANERS cleaning processes at once on this server (every worker).

    The slots are empty lock files beside the spool, not in it: the spool
    holds only uploads on their way.
    """
    return CleanerSlots(Path(settings.DATA_DIR) / "cleaner-slots", settings.PORTAL_CLEANERS,
                        settings.PORTAL_CLEANER_WAIT_SECONDS)


def cleaning_limits() -> Limits:
    """The cleaner's limits, with file sizes following the portal's upload limit and
    memory its slot's share of PORTAL_CLEANING_MEMORY_MB."""
    return replace(
        DEFAULT_LIMITS,
        max_input_bytes=settings.PORTAL_MAX_FILE_BYTES,
        max_output_bytes=2 * settings.PORTAL_MAX_FILE_BYTES + 64 * 1024 * 1024,
        memory_bytes=settings.PORTAL_CLEANER_MEMORY_BYTES,
    )


def safe_copy_limits(seconds: int) -> SafeCopyLimits:
    """A renderer runs in a cleaner's slot, within its share of memory: its scratch
    folder (memory too) takes a third; each of its processes at most the rest, but
    for the renderer's own Python beside them (LibreOffice, poppler and Tesseract
    run one at a time)."""
    share = settings.PORTAL_CLEANER_MEMORY_BYTES
    scratch = share // 3
    return SafeCopyLimits(max_pages=settings.PORTAL_SAFE_COPY_MAX_PAGES, seconds=seconds,
                          max_input_bytes=settings.PORTAL_MAX_FILE_BYTES,
                          memory_bytes=share - scratch - RENDERER_PYTHON_BYTES,
                          scratch_bytes=scratch, file_bytes=scratch)
