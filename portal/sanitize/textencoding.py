"""Which encoding a plain-text file is in, so that Chinese text is converted, not refused.

Threat and need: older Windows Notepad saves Chinese text as GBK (simplified
Windows), Big5 (traditional Windows, Big5-HKSCS in Hong Kong) or UTF-16
("Unicode"). Refusing those
pushes an author towards "send without cleaning", which passes invisible
watermark characters on. Guessing wrong is the other danger: a text read in the
wrong encoding reaches the editors as nonsense, and she would not know.

Promise: `detect()` names an encoding only when the bytes decode in it without a
single error, and only for encodings a Chinese author's computer writes: UTF-8,
UTF-16 with its byte-order mark, GB18030 (and its subsets GBK and GB2312) and
Big5. charset-normalizer (a maintained detector) judges whether the bytes read
as a coherent text at all and whether Korean, Japanese or a Western code page
fits them better, in which case nothing is guessed and the file is refused with
advice to save it as UTF-8. Between the two Chinese encodings, whose byte ranges
overlap, the shape of the bytes decides: each table keeps its commonest
characters and its punctuation in known rows, so the reading that lands more
characters there wins, and a tie (a very short file) goes to GB18030.
Runs inside the cleaner's sandbox only, like every parse of an upload.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from charset_normalizer import from_bytes

# Byte-order marks, longest first (a UTF-32 mark opens like a UTF-16 one; Notepad
# never writes UTF-32, and such a file then holds NULs and is refused as binary).
BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Python codec → the name the author is told (what her editor's menu calls it).
GB18030, GBK, BIG5, BIG5_HKSCS = "gb18030", "gbk", "cp950", "big5hkscs"
NAMES = {
    "utf-8": "UTF-8", "utf-16-le": "UTF-16", "utf-16-be": "UTF-16", GB18030: "GB18030",
    GBK: "GBK", BIG5: "Big5", BIG5_HKSCS: "Big5-HKSCS",
}
# charset-normalizer's names for the encodings we convert.
_CHINESE = frozenset({"gb18030", "gb2312", "gbk", "big5", "cp950", "big5hkscs", "hz"})
# How much worse than the best reading (charset-normalizer's "chaos", 0 to 1) a
# Chinese reading may be and still win: ties go to Chinese, this is its portal.
_CHAOS_MARGIN = 0.05
# Readings that need a byte-order mark here (detect() reads those marks itself).
_MARKED_ONLY = ("utf_16", "utf_32")
# Above this share of control characters a "text" is binary (as sniff.py says for UTF-8).
_CONTROLS_PER_MILLE = 1


@dataclass(frozen=True)
class Encoding:
    """`codec` decodes the file; `bom` bytes open it and are not text; `name` is what
    the author is told (GBK text is read as GB18030, its superset, in case a rarer
    character follows further on)."""

    codec: str
    bom: bytes = b""
    shown: str = ""

    @property
    def name(self) -> str:
        return self.shown or NAMES.get(self.codec, self.codec.upper())

    @property
    def converted(self) -> bool:
        return self.codec != "utf-8"


def detect(head: bytes, *, whole: bool = False) -> Encoding | None:
    """The encoding of a text whose first bytes are `head`, or None when it is not one
    we can read with certainty. `whole`: head is the whole file (no character cut)."""
    for bom, codec in BOMS:
        if head.startswith(bom):
            return Encoding(codec, bom) if _decodes(head[len(bom):], codec, whole) else None
    if b"\x00" in head:
        return None
    if _decodes(head, "utf-8", whole):
        return Encoding("utf-8")
    chinese = _chinese_codec(head, whole)
    if chinese == GBK:
        return Encoding(GB18030, shown=NAMES[GBK])
    return Encoding(chinese) if chinese else None


def _chinese_codec(head: bytes, whole: bool) -> str | None:
    gb = _decodes(head, GB18030, whole)
    big5 = next((c for c in (BIG5, BIG5_HKSCS) if _decodes(head, c, whole)), None)
    if not gb and not big5:
        return None
    if not _reads_as_chinese(_whole_characters(head, GB18030 if gb else big5 or BIG5)):
        return None
    if gb and (not big5 or _gb_score(head) >= _big5_score(head)):
        return GBK if _decodes(head, GBK, whole) else GB18030
    return big5 or GB18030


def _whole_characters(head: bytes, codec: str) -> bytes:
    """`head` without a character cut at its end (charset-normalizer reads none of
    a sample that does not decode to its last byte)."""
    for cut in range(4):  # GB18030's longest character has four bytes
        sample = head[:len(head) - cut]
        try:
            sample.decode(codec)
        except UnicodeDecodeError:
            continue
        return sample
    return head


def _reads_as_chinese(head: bytes) -> bool:
    """charset-normalizer finds a Chinese reading at least as coherent as any other."""
    matches = [m for m in from_bytes(head) if not m.encoding.startswith(_MARKED_ONLY)]
    if not matches:
        return False
    best = min(match.chaos for match in matches)
    return any(match.encoding in _CHINESE and match.chaos <= best + _CHAOS_MARGIN
               for match in matches)


def _gb_score(head: bytes) -> int:
    """How much the double-byte characters read like GB2312 text: its punctuation
    rows (lead A1–A3) and its 3,755 commonest characters (lead B0–D7) count for,
    the user-defined areas that GB18030 maps to private code points against."""
    score = 0
    for lead, trail in _double_bytes(head):
        if trail >= 0xA1 and (0xA1 <= lead <= 0xA3 or 0xB0 <= lead <= 0xD7):
            score += 1
        elif (0xA1 <= lead <= 0xA7 and trail < 0xA1) or 0xAA <= lead <= 0xAF or lead >= 0xF8:
            score -= 1
    return score


def _big5_score(head: bytes) -> int:
    """The same for Big5: punctuation (lead A1–A3) and its 5,401 commonest characters
    (lead A4–C6) count for, its user-defined and extension areas against."""
    score = 0
    for lead, _trail in _double_bytes(head):
        if 0xA1 <= lead <= 0xC6:
            score += 1
        elif lead < 0xA1 or 0xC7 <= lead <= 0xC8 or lead >= 0xFA:
            score -= 1
    return score


def _double_bytes(head: bytes) -> list[tuple[int, int]]:
    """(lead, trail) of each double-byte character, read as an EUC-style encoding."""
    pairs = []
    i = 0
    while i < len(head) - 1:
        if head[i] < 0x80:
            i += 1
            continue
        pairs.append((head[i], head[i + 1]))
        i += 2
    return pairs


def _decodes(data: bytes, codec: str, whole: bool) -> bool:
    """`data` decodes without error (a character cut at its end is fine unless
    `whole`) and holds no more control characters than a text does."""
    decoder = codecs.getincrementaldecoder(codec)("strict")
    try:
        text = decoder.decode(data, final=whole)
    except UnicodeDecodeError:
        return False
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f")
    return controls <= max(1, len(text) * _CONTROLS_PER_MILLE // 1000)
