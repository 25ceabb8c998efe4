"""Multi-picture JPEGs: keep the photo, drop the pictures and clips stored behind it.

Threat: phones store more than the photo in one .jpg file. An "Ultra HDR" photo
holds a second JPEG (the gain map) after the first, indexed by an MPF segment
(CIPA DC-007) and described in XMP (hdrgm); portrait photos add a depth map,
multi-camera phones a second view, "motion photos" a video clip. Each of these
carries its own EXIF and XMP. An image library that reads such a file as a
multi-picture object (MPO) may fail on an index it does not expect, and a file
refused as damaged is one an author may send on uncleaned, with its GPS.

The promise: the primary picture is cut out at its own end-of-image marker, its
MPF index is left out so it decodes as the plain JPEG it is, and everything
after it is dropped and counted (a JPEG stream or any other data: a clip). The
cut picture is then cleaned like any JPEG: rebuilt from its pixels.
"""

from __future__ import annotations

# Markers that stand alone, without a length; and the ones this walk acts on.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_SOS, _EOI, _APP2 = 0xDA, 0xD9, 0xE2
_SOI = b"\xff\xd8\xff"
# Zeros or a few stray bytes after the last picture are padding, not a clip.
_PADDING = 16


def primary_picture(data: bytes) -> tuple[bytes, int, bool]:
    """(the first JPEG without its MPF segment, how many pictures or clips followed it,
    whether it had an MPF index). A walk that cannot follow the file returns it whole,
    for the decoder to judge."""
    end, kept = _walk(data, 0, drop_mpf=True)
    if end is None:
        return data, 0, False
    had_index = len(kept) != end
    return kept, _count_followers(data, end), had_index


def _walk(data: bytes, start: int, *, drop_mpf: bool) -> tuple[int | None, bytes]:
    """Follow one JPEG from its SOI to its EOI: (end offset, its bytes) or (None, b"")."""
    if data[start : start + 2] != b"\xff\xd8":
        return None, b""
    out = bytearray(b"\xff\xd8")
    pos, size = start + 2, len(data)
    while pos < size:
        if data[pos] != 0xFF:
            return None, b""
        while pos < size and data[pos] == 0xFF:
            pos += 1
        if pos >= size:
            return None, b""
        marker = data[pos]
        pos += 1
        if marker == _EOI:
            out += b"\xff\xd9"
            return pos, bytes(out)
        if marker in _STANDALONE:
            out += bytes((0xFF, marker))
            continue
        if pos + 2 > size:
            return None, b""
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2 or pos + length > size:
            return None, b""
        segment = data[pos - 2 : pos + length]
        if not (drop_mpf and marker == _APP2 and data[pos + 2 : pos + 6] == b"MPF\x00"):
            out += segment
        pos += length
        if marker == _SOS:
            end = _entropy_end(data, pos)
            out += data[pos:end]
            pos = end
    return None, b""


def _entropy_end(data: bytes, pos: int) -> int:
    """Where the entropy-coded data starting at pos ends: the next real marker."""
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(data):
            return len(data)
        following = data[pos + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            pos += 2
        elif following == 0xFF:
            pos += 1
        else:
            return pos


def _count_followers(data: bytes, pos: int) -> int:
    """Whole JPEG streams after the first, plus one for any other data (a clip)."""
    pictures = 0
    other = 0
    while pos < len(data):
        found = data.find(_SOI, pos)
        if found < 0:
            other += len(data[pos:].strip(b"\x00"))
            break
        other += len(data[pos:found].strip(b"\x00"))
        end, _ = _walk(data, found, drop_mpf=False)
        if end is None:
            other += len(data) - found
            break
        pictures += 1
        pos = end
    return pictures + (1 if other > _PADDING else 0)
