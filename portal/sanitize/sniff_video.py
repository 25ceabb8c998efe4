"""Recognise video containers from their bytes, so they are refused with a reason.

Threat: a phone video carries where it was filmed (GPS in the container's user
data and in every frame's metadata track), the phone's make and model and the
minute it was shot, in places no cleaner here rewrites. Refused as "a file we
do not know", a video leaves its author guessing; named as a video, the author
is told to send the text as a document or the sound as a recording instead.

The ISO base media family (MP4, MOV, 3GP, M4A, HEIC) shares one container: the
brand in its `ftyp` box usually says what it holds, but generic brands (isom,
mp42...) are used for sound-only recordings and for films alike. For those the
track handlers in `moov` decide: any video track makes it a video, sound tracks
alone make it an M4A recording. The walk reads box headers only, within the
bytes it is given and a fixed depth, and never follows an offset backwards.
"""

from __future__ import annotations

import struct

# Brands that only ever name pictures, sound, or films (ISO/IEC 14496-12 registry,
# QuickTime, 3GPP); every other brand is decided by the file's tracks.
HEIF_BRANDS = frozenset({b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis", b"hevc"})
AUDIO_BRANDS = frozenset({b"M4A ", b"M4B "})
VIDEO_BRANDS = frozenset({
    b"qt  ", b"M4V ", b"M4VH", b"M4VP", b"avc1", b"f4v ", b"XAVC", b"MSNV", b"mp4v",
    b"3gp4", b"3gp5", b"3gp6", b"3gp7", b"3gs7", b"3ge6", b"3ge7", b"3gg6", b"3g2a",
    b"3g2b", b"3g2c", b"NDAS", b"crx ",
})
# Top-level boxes an old QuickTime movie may open with, before any ftyp existed.
_QUICKTIME_FIRST = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})
# A real file has a handful of top-level boxes and tracks; the walk stops here.
MAX_TOP_BOXES = 10_000


def isobmff_brand_kind(head: bytes) -> str:
    """From an ftyp box's major brand: heic, m4a, video, or "isobmff" (the tracks decide)."""
    brand = head[8:12]
    if brand in HEIF_BRANDS:
        return "heic"
    if brand in AUDIO_BRANDS:
        return "m4a"
    if brand in VIDEO_BRANDS:
        return "video"
    return "isobmff"


def looks_like_quicktime(head: bytes) -> bool:
    """An old QuickTime movie without ftyp opens straight with one of its boxes.

    Call this only for bytes that are not text: "The free..." has "free" there too.
    """
    size = int.from_bytes(head[:4], "big")
    return head[4:8] in _QUICKTIME_FIRST and (size in (0, 1) or size >= 8)


def isobmff_kind(data: bytes) -> str:
    """A whole ISO base media file: "video" if any track shows pictures, "m4a" if all
    tracks are sound (and the file says what it is with an ftyp), else "isobmff"."""
    handlers = set(_track_handlers(data))
    if handlers & {b"vide", b"pict"}:
        return "video"
    if data[4:8] == b"ftyp" and handlers == {b"soun"}:
        return "m4a"
    return "isobmff"


def _boxes(data: bytes, start: int, end: int, limit: int) -> list[tuple[bytes, int, int]]:
    """(type, body start, body end) of the boxes in data[start:end]; stops at damage."""
    found: list[tuple[bytes, int, int]] = []
    pos = start
    while pos + 8 <= end and len(found) < limit:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            if pos + 16 > end:
                break
            size, header = struct.unpack(">Q", data[pos + 8 : pos + 16])[0], 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            break
        found.append((kind, pos + header, pos + size))
        pos += size
    return found


def _track_handlers(data: bytes) -> list[bytes]:
    """The handler type (vide, soun, text, meta...) of every track in the movie."""
    handlers: list[bytes] = []
    for kind, start, end in _boxes(data, 0, len(data), MAX_TOP_BOXES):
        if kind != b"moov":
            continue
        for trak, t_start, t_end in _boxes(data, start, end, MAX_TOP_BOXES):
            if trak != b"trak":
                continue
            for mdia, m_start, m_end in _boxes(data, t_start, t_end, 64):
                if mdia != b"mdia":
                    continue
                for box, b_start, b_end in _boxes(data, m_start, m_end, 64):
                    # hdlr: version and flags, pre_defined, then the handler type.
                    if box == b"hdlr" and b_end - b_start >= 12:
                        handlers.append(data[b_start + 8 : b_start + 12])
    return handlers


def is_video_container(head: bytes) -> bool:
    """Matroska/WebM, AVI, FLV, ASF (WMV), MPEG program and transport streams."""
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: Matroska and WebM
        return True
    if head[:4] == b"RIFF" and head[8:12] in (b"AVI ", b"AVIX"):
        return True
    if head.startswith((b"FLV\x01", b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3")):
        return True
    if head.startswith(bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")):  # ASF: WMV, WMA
        return True
    return _looks_like_transport_stream(head)


def _looks_like_transport_stream(head: bytes) -> bool:
    """MPEG-TS: a 0x47 sync byte every 188 bytes (every 192 in M2TS, after a timestamp)."""
    for first, step in ((0, 188), (4, 192)):
        positions = range(first, first + 5 * step, step)
        if len(head) > positions[-1] and all(head[p] == 0x47 for p in positions):
            return True
    return False
