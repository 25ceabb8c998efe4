"""Safe copies: every document and picture, also as a PDF of page images.

Threat: a document can carry an exploit in its structure for the editor's
Word, WPS or PDF reader, which cleaning (removing metadata) does not remove.
An editor who opens only pictures of the pages cannot be reached by it.

Promise: `make_safe_copy` renders the file in the renderer's sandbox
(`safecopy/render.py` under `sandbox.launch(renderer=True)`: no network, no view of
the data, a deny-list seccomp filter, its own limits and a wall-clock
deadline), reads back only page sizes, raw RGB pixels and words, checks every
number against the bounds below, and builds a new PDF from them in this
process (`safecopy/pagepdf.py`), as Dangerzone does. Nothing the author sent is parsed
outside the sandbox, and no byte of it reaches the copy. The copy's pages are
images only, with an invisible text layer for search and copy: the
document's own text where it has real text (exact characters, measured more
faithful than OCR for Chinese, see README), else Tesseract's reading, for at
most `ocr_pages` pages.

A file that cannot be copied within the bounds gets no safe copy and a
problem code (PROBLEMS); the submission goes ahead without it.
"""

from __future__ import annotations

import json
import math
import os
import select
import subprocess
import threading
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import IO, Any, BinaryIO

from ..sandbox import confine as sandbox
from ..sandbox.command import python_command
from .pagepdf import PageImagePdf
from .render import PAGE_POINTS_MAX, RENDERABLE

RENDER_COMMAND = python_command("portal.sanitize.safecopy.render")
MiB = 1024 * 1024
# Why a file has no safe copy; the editors' report has a sentence for each.
PROBLEMS = ("pages", "time", "pixels", "unavailable", "failed", "kind")
MAX_HEADER_BYTES = 4 * MiB
MAX_WORDS_PER_PAGE = 20_000
MAX_WORD_CHARACTERS = 2_000


class SafeCopyFailed(Exception):
    """No safe copy could be made; `code` is one of PROBLEMS."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code if code in PROBLEMS else "failed"


@dataclass(frozen=True)
class SafeCopyLimits:
    max_pages: int = 200
    # Longest side of a page image: 1,700 pixels is about 145 dpi on A4.
    max_side: int = 1700
    # Pages without text of their own read by OCR (about 6 s each on one core).
    ocr_pages: int = 20
    seconds: int = 300
    max_input_bytes: int = 200 * MiB
    # LibreOffice maps much more than it uses; this bounds each process of the sandbox.
    memory_bytes: int = 4096 * MiB
    file_bytes: int = 1024 * MiB
    # The scratch /tmp is memory too: all its files together.
    scratch_bytes: int = 1024 * MiB


@dataclass(frozen=True)
class SafeCopy:
    pages: int
    # How the text layer was made: "document" (its own text), "ocr", "mixed" or "none".
    text: str


def renderable(kind: str) -> bool:
    return kind in RENDERABLE


def make_safe_copy(source: BinaryIO, sink: BinaryIO, *, kind: str,
                   limits: SafeCopyLimits = SafeCopyLimits(),
                   must_not_see: Sequence[str] = ()) -> SafeCopy:
    """Render `source` (a file of `kind`) into `sink` as a page-image PDF, or raise
    SafeCopyFailed (and then whatever reached `sink` must be discarded)."""
    if not renderable(kind):
        raise SafeCopyFailed("kind")
    try:
        sandbox.require(must_not_see)
    except sandbox.SandboxUnavailable:
        raise SafeCopyFailed("unavailable") from None
    arguments = {"kind": kind, "max_pages": limits.max_pages, "max_side": limits.max_side,
                 "ocr_pages": limits.ocr_pages, "seconds": limits.seconds,
                 "max_input_bytes": limits.max_input_bytes, "memory_bytes": limits.memory_bytes,
                 "file_bytes": limits.file_bytes}
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
           "PORTAL_RENDER_ARGS": json.dumps(arguments)}
    try:
        child = sandbox.launch(RENDER_COMMAND, env=env, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, renderer=True,
                               scratch_bytes=limits.scratch_bytes)
    except sandbox.SandboxUnavailable:
        raise SafeCopyFailed("unavailable") from None
    feeder = threading.Thread(target=_feed, args=(source, child.stdin), daemon=True)
    feeder.start()
    try:
        assert child.stdout is not None  # noqa: S101 - stdout=PIPE above
        reader = _Reader(child.stdout, time.monotonic() + limits.seconds + 15)
        copy = _rebuild(reader, limits)
        copy[0].save(sink)
        return copy[1]
    finally:
        # After its last word the renderer ends by itself; otherwise it is stopped.
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with suppress(OSError):
                child.kill()
            child.wait()
        feeder.join(timeout=5)
        if child.stdout is not None:
            child.stdout.close()


def _feed(source: BinaryIO, stdin: IO[bytes] | None) -> None:
    if stdin is None:
        return
    with suppress(OSError):  # the renderer stopped reading: it will say why
        while chunk := source.read(256 * 1024):
            stdin.write(chunk)
    with suppress(OSError):
        stdin.close()


class _Reader:
    """Exact reads from the renderer's stdout, never past the deadline."""

    def __init__(self, stream: IO[bytes], deadline: float) -> None:
        self.fd = stream.fileno()
        self.deadline = deadline
        self.buffer = bytearray()

    def _more(self) -> None:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0 or not select.select([self.fd], [], [], remaining)[0]:
            raise SafeCopyFailed("time")
        chunk = os.read(self.fd, 1024 * 1024)
        if not chunk:
            raise SafeCopyFailed("failed")  # the renderer died without a word
        self.buffer += chunk

    def line(self) -> bytes:
        while b"\n" not in self.buffer:
            if len(self.buffer) > MAX_HEADER_BYTES:
                raise SafeCopyFailed("failed")
            self._more()
        line, _, rest = bytes(self.buffer).partition(b"\n")
        self.buffer = bytearray(rest)
        return line

    def exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._more()
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data


def _rebuild(reader: _Reader, limits: SafeCopyLimits) -> tuple[PageImagePdf, SafeCopy]:
    built = PageImagePdf()
    pages = 0
    sources: set[str] = set()
    while True:
        header = _header(reader.line())
        if "problem" in header:
            raise SafeCopyFailed(str(header["problem"]))
        if header.get("done") is True:
            break
        pages += 1
        if pages > limits.max_pages:
            raise SafeCopyFailed("pages")
        width, height = _side(header, "width", limits), _side(header, "height", limits)
        page_width, page_height = _points(header, "page_width"), _points(header, "page_height")
        words = _words(header.get("words"), page_width, page_height)
        text = header.get("text")
        if text not in ("document", "ocr", "none"):
            raise SafeCopyFailed("failed")
        sources.add(text if words else "none")
        built.add_page(width, height, reader.exactly(width * height * 3),
                       page_width, page_height, words)
    if pages == 0:
        raise SafeCopyFailed("failed")
    found = sources - {"none"}
    text = found.pop() if len(found) == 1 else ("mixed" if found else "none")
    return built, SafeCopy(pages, text)


def _header(line: bytes) -> dict[str, Any]:
    try:
        header = json.loads(line)
    except ValueError:
        raise SafeCopyFailed("failed") from None
    if not isinstance(header, dict):
        raise SafeCopyFailed("failed")
    return header


def _side(header: dict[str, Any], key: str, limits: SafeCopyLimits) -> int:
    value = header.get(key)
    if type(value) is not int or not 1 <= value <= limits.max_side:
        raise SafeCopyFailed("pixels")
    return value


def _points(header: dict[str, Any], key: str) -> float:
    value = header.get(key)
    if not isinstance(value, (int, float)) or isinstance(value, bool) \
            or not 1 <= value <= PAGE_POINTS_MAX:
        raise SafeCopyFailed("failed")
    return float(value)


def _words(words: Any, page_width: float, page_height: float) -> list[list[Any]]:
    """The words of a page, each [x0, y0, x1, y1, text] inside the page, or an error."""
    if not isinstance(words, list) or len(words) > MAX_WORDS_PER_PAGE:
        raise SafeCopyFailed("failed")
    checked = []
    for word in words:
        if (not isinstance(word, list) or len(word) != 5 or not isinstance(word[4], str)
                or len(word[4]) > MAX_WORD_CHARACTERS
                or not all(type(v) in (int, float) and math.isfinite(v) for v in word[:4])):
            raise SafeCopyFailed("failed")
        x0, y0 = max(0.0, float(word[0])), max(0.0, float(word[1]))
        x1, y1 = min(page_width, float(word[2])), min(page_height, float(word[3]))
        if x1 > x0 and y1 > y0:
            checked.append([x0, y0, x1, y1, word[4]])
    return checked
