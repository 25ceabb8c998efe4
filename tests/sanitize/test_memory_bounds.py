"""The decompression-bomb family, through the real sandbox, with the memory measured.

The threat (issue "An open submission form…"): a 379 KiB PNG made the cleaner
use 1.17 GiB, and many such uploads at once could take the whole machine. Here
each bomb (bombs.py) is cleaned by the server's own cleaner, under the server's
own limits (portal.authors.cleaning.cleaning_limits), while a sampler reads
/proc every few milliseconds for every process of the sandbox (bubblewrap, the
zygote, each cleaning child): each bomb must be refused as "limit", within
seconds, having cost little; PORTAL_CLEANERS of them at once must stay under
PORTAL_CLEANING_MEMORY_MB together; and the same bombs with the picture budget
raised must be seen to take far more, so these tests can fail.
"""

from __future__ import annotations

import errno
import io
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from django.conf import settings

from portal.authors.cleaning import cleaning_limits
from portal.sanitize import CleaningRefused, Limits, clean_isolated
from portal.sanitize.budget import frame_charge
from portal.sanitize.sandbox import confine as sandbox
from portal.sanitize.sandbox.slots import CleanerSlots
from tests.sanitize import bombs

MiB = 1024 * 1024
# A refused bomb costs the cleaning child what starting costs: well under this.
CHEAP_BYTES = 200 * MiB

BOMBS: dict[str, tuple[Callable[[], bytes], str, float]] = {
    # name: (builder, file name, seconds allowed, sandbox start included)
    "30000 x 30000 one-bit PNG": (bombs.black_and_white_giant, "scan.png", 15),
    "16-bit RGBA PNG": (bombs.deep_rgba, "deep.png", 15),
    "APNG of 1,100 frames": (lambda: bombs.many_frames("apng"), "moving.png", 15),
    "GIF of 1,100 frames": (lambda: bombs.many_frames("gif"), "moving.gif", 15),
    "TIFF of 1,100 pages": (lambda: bombs.many_frames("tiff"), "scan.tif", 15),
    "PDF with a 100000 x 100000 image": (lambda: bombs.pdf_with_image(100_000, 100_000),
                                         "huge.pdf", 15),
    "DOCX with 50 medium pictures": (bombs.many_medium_pictures_docx, "report.docx", 90),
}


@dataclass
class Memory:
    """What the sandbox's processes held: each one's peak, and all of them at once."""

    peaks: dict[tuple[int, str], int] = field(default_factory=dict)  # (pid, start) -> VmHWM
    together: int = 0  # the largest sum of VmRSS seen in one sample

    @property
    def largest(self) -> int:
        return max(self.peaks.values(), default=0)

    @property
    def total_of_peaks(self) -> int:
        """Every process's own peak, added up: never less than what they held at once."""
        return sum(self.peaks.values())


_OURS = Path("/proc/self/cmdline").read_bytes()


def _status(pid: int) -> tuple[str, dict[str, int]]:
    """A process's start time (with its pid, a name no other process will have) and its
    memory; nothing for a child not yet started (a fork of this process before its
    exec shows this process's memory, which it shares)."""
    try:
        if Path(f"/proc/{pid}/cmdline").read_bytes() == _OURS:
            return "", {}
        start = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
        text = Path(f"/proc/{pid}/status").read_text()
    except (OSError, IndexError):
        return "", {}
    sizes = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            sizes[key] = int(value.split()[0]) * 1024
    return start, sizes


@contextmanager
def measured() -> Iterator[Memory]:
    """Sample every descendant of this process (the sandboxes) every 5 ms until the end."""
    memory = Memory()
    stop = threading.Event()

    def sample() -> None:
        while True:
            together = 0
            for pid in sandbox.descendants(os.getpid()):
                start, sizes = _status(pid)
                if sizes:
                    key = (pid, start)
                    memory.peaks[key] = max(memory.peaks.get(key, 0), sizes["VmHWM"])
                    together += sizes["VmRSS"]
            memory.together = max(memory.together, together)
            if stop.is_set():
                return
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield memory
    finally:
        stop.set()
        sampler.join()


@dataclass
class Outcome:
    code: str
    detail: str
    seconds: float


def clean(data: bytes, name: str, limits: Limits, slots: CleanerSlots | None = None) -> Outcome:
    started = time.monotonic()
    try:
        clean_isolated(io.BytesIO(data), io.BytesIO(), name_hint=name, limits=limits,
                       slots=slots)
        code, detail = "cleaned", ""
    except CleaningRefused as refused:
        code, detail = refused.code, refused.detail
    return Outcome(code, detail, time.monotonic() - started)


@pytest.fixture(scope="module")
def built() -> dict[str, bytes]:
    return {name: build() for name, (build, _, _) in BOMBS.items()}


@pytest.mark.parametrize("bomb", list(BOMBS))
def test_each_bomb_is_refused_quickly_and_cheaply(bomb, built):
    _, name, seconds = BOMBS[bomb]
    with measured() as memory:
        outcome = clean(built[bomb], name, cleaning_limits())
    print(f"\n{bomb}: {len(built[bomb]) // 1024} KiB, refused {outcome.code} "
          f"({outcome.detail}) in {outcome.seconds:.1f} s, largest process "
          f"{memory.largest / MiB:.0f} MiB")
    assert outcome.code == "limit", outcome
    assert outcome.seconds < seconds
    assert 0 < memory.largest < CHEAP_BYTES


def test_the_servers_cleaners_at_once_stay_under_its_cleaning_memory(built, tmp_path):
    """Every bomb at once through PORTAL_CLEANERS slots: together, every sandboxed
    process's own peak added up stays under PORTAL_CLEANING_MEMORY_MB."""
    slots = CleanerSlots(tmp_path / "slots", settings.PORTAL_CLEANERS, wait_seconds=600)
    ceiling = settings.PORTAL_CLEANING_MEMORY_MB * MiB
    with measured() as memory, ThreadPoolExecutor(len(BOMBS)) as pool:
        outcomes = list(pool.map(lambda bomb: clean(built[bomb], BOMBS[bomb][1],
                                                    cleaning_limits(), slots), BOMBS))
    print(f"\n{len(BOMBS)} bombs, {settings.PORTAL_CLEANERS} at a time: at once "
          f"{memory.together / MiB:.0f} MiB, peaks added up {memory.total_of_peaks / MiB:.0f} "
          f"MiB, ceiling {ceiling / MiB:.0f} MiB")
    assert {o.code for o in outcomes} == {"limit"}
    assert memory.together <= memory.total_of_peaks <= ceiling


def test_the_same_bombs_without_the_budget_take_far_more(built):
    """The budget is what keeps them cheap: raised out of the way, the same 16-bit PNGs,
    PORTAL_CLEANERS at once, are decoded (stopped after a few seconds)."""
    bomb = built["16-bit RGBA PNG"]
    budgeted = cleaning_limits()
    unbudgeted = replace(budgeted, max_image_bytes=1 << 40, wall_seconds=12)
    runs = {}
    for label, limits in (("with", budgeted), ("without", unbudgeted)):
        with measured() as memory, ThreadPoolExecutor(settings.PORTAL_CLEANERS) as pool:
            list(pool.map(lambda these: clean(bomb, "deep.png", these),
                          [limits] * settings.PORTAL_CLEANERS))
        runs[label] = memory.together
    print(f"\n{settings.PORTAL_CLEANERS} x 16-bit RGBA PNG at once: "
          f"{runs['with'] / MiB:.0f} MiB with the budget, {runs['without'] / MiB:.0f} MiB "
          "without")
    assert runs["without"] > 4 * runs["with"]


@pytest.mark.slow
def test_a_picture_at_the_servers_budget_is_cleaned_within_a_cleaners_share():
    """12,288 × 8,192 RGBA costs exactly the picture budget: cleaned by a cleaner held to
    its share of PORTAL_CLEANING_MEMORY_MB; one column more is refused."""
    limits = cleaning_limits()
    assert frame_charge(12_288, 8_192, "RGBA", "PNG") == limits.max_image_bytes
    assert limits.memory_bytes == settings.PORTAL_CLEANER_MEMORY_BYTES
    with measured() as memory:
        outcome = clean(bombs.zero_png(12_288, 8_192, colour=6, level=1), "at.png", limits)
    print(f"\nat the budget: {outcome.code} in {outcome.seconds:.1f} s, largest process "
          f"{memory.largest / MiB:.0f} MiB of a {limits.memory_bytes / MiB:.0f} MiB share")
    assert outcome.code == "cleaned", outcome
    assert memory.largest <= limits.memory_bytes
    beyond = clean(bombs.zero_png(12_289, 8_192, colour=6, level=1), "beyond.png", limits)
    assert beyond.code == "limit" and beyond.seconds < 15


def test_the_renderers_scratch_folder_holds_no_more_than_its_share():
    """The renderer's /tmp is memory: bubblewrap caps it (--size), so a document cannot
    fill it past its share. Without the cap the same write succeeds."""
    write = ("import os\ntry:\n    with open('/tmp/filler', 'wb') as f:\n"
             "        f.write(bytes(24 << 20))\n    print('written')\n"
             "except OSError as e:\n    print('refused', e.errno)\n")
    answers = {}
    for cap in (16 * MiB, 0):
        child = sandbox.launch([sys.executable, "-I", "-B", "-c", write],
                               env={"PATH": "/usr/bin:/bin"}, stdout=subprocess.PIPE,
                               renderer=True, scratch_bytes=cap)
        out, _ = child.communicate(timeout=60)
        answers[cap] = out.decode().strip()
    assert answers == {16 * MiB: f"refused {errno.ENOSPC}", 0: "written"}
