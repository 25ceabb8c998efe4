"""Plain text and Markdown: written as UTF-8, no byte-order mark, no invisible characters.

Text in another encoding a Chinese author's computer writes (GB18030/GBK, Big5,
UTF-16 with its mark; `textencoding.py` decides, with certainty or not at all)
is converted to UTF-8 and the conversion reported, so that editors get the
same text whichever Notepad saved it.

Invisible characters (zero-width spaces and joiners, Unicode tag characters,
direction controls) are a known way to watermark each copy of a text so that a
leak can be traced to one recipient. Every format character (Unicode category
Cf) and the invisible "filler" letters are removed and counted. The text is read
and written in one pass, so its size is bounded only by the upload limit.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from functools import cache
from typing import BinaryIO

from ..core import Context
from ..errors import CleaningRefused
from ..report import Report
from ..textencoding import detect

CHUNK = 64 * 1024
# Letters that render as nothing and are used to hide marks in plain sight.
INVISIBLE_FILLERS = frozenset({
    0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180F, 0x2800, 0x3164,
    0xFFA0,
})


# Format characters live in the Basic and Supplementary Multilingual Planes and
# in plane 14 (tags); scanning only those keeps start-up of each cleaning child
# fast. The verifier's own table covers the rest and fails closed.
_PLANES_WITH_FORMAT_CHARACTERS = (range(0x0000, 0x20000), range(0xE0000, 0xE1000))


@cache
def _removed_code_points() -> frozenset[int]:
    found = set(INVISIBLE_FILLERS)
    for plane in _PLANES_WITH_FORMAT_CHARACTERS:
        for cp in plane:
            if unicodedata.category(chr(cp)) == "Cf":
                found.add(cp)
    return frozenset(found)


def _character_class(code_points: frozenset[int]) -> re.Pattern[str]:
    """A regex class of contiguous ranges (far faster to match than single characters)."""
    ranges: list[list[int]] = []
    for cp in sorted(code_points):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    body = "".join(f"\\U{low:08x}-\\U{high:08x}" for low, high in ranges)
    return re.compile(f"[{body}]")


@cache
def _removal_pattern() -> re.Pattern[str]:
    return _character_class(_removed_code_points())


@cache
def _bidi_pattern() -> re.Pattern[str]:
    kinds = {"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI", "LRM", "RLM", "ALM"}
    return _character_class(frozenset(
        cp for cp in _removed_code_points() if unicodedata.bidirectional(chr(cp)) in kinds
    ))


def clean_text(src: BinaryIO, dst: BinaryIO, report: Report, ctx: Context) -> None:
    """Copy text from src to dst as UTF-8, without a BOM or invisible characters."""
    head = src.read(CHUNK)
    if not head:
        raise CleaningRefused("empty")
    encoding = detect(head)
    if encoding is None:
        raise CleaningRefused("not-utf8")
    if encoding.converted:
        head = head[len(encoding.bom):]  # the mark belongs to the encoding, not to the text
        report.note("text-converted", encoding.name)
    utf8 = not encoding.converted
    decoder = codecs.getincrementaldecoder(encoding.codec)("strict")
    removal = _removal_pattern()
    bidi = _bidi_pattern()
    invisible = bidi_count = 0
    first = True
    while True:
        raw, head = (head, b"") if head else (src.read(CHUNK), b"")
        final = not raw
        if utf8 and raw and not first and raw.isascii() and b"\x00" not in raw and not decoder.getstate()[0]:
            dst.write(raw)  # fast path: ASCII cannot hold a format character
            continue
        try:
            text = decoder.decode(raw, final=final)
        except UnicodeDecodeError as exc:
            raise CleaningRefused("not-utf8") from exc
        if first and text:
            first = False
            if text.startswith("\ufeff"):
                text = text[1:]
                report.remove("byte-order-mark")
        if "\x00" in text:
            raise CleaningRefused("unknown-type", "binary data in a text file")
        cleaned, removed = removal.subn("", text)
        if removed:
            in_bidi = len(bidi.findall(text))
            bidi_count += in_bidi
            invisible += removed - in_bidi
        dst.write(cleaned.encode("utf-8"))
        if final:
            break
    if first:
        raise CleaningRefused("empty")
    if invisible:
        report.remove("invisible-characters", count=invisible)
    if bidi_count:
        report.remove("bidi-controls", count=bidi_count)
