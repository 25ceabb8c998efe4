"""Verify a cleaned recording (MP3, FLAC, Ogg Vorbis/Opus, M4A): no tags at all.

Part of the independent verifier. A recording's tags hold titles, artists,
comments, cover pictures, the recording software and often the phone's name;
a clean recording carries none. Each format is walked here from its own
structure, and mutagen (read-only, on an in-memory buffer, never a file)
gives a second, independent reading that must agree there are no tags.

* MP3: no ID3v2 (anywhere, including an appended one), no ID3v1 or "TAG+"
  (not even the start of one swallowed by a last frame cut short), no APEv2,
  no Lyrics3; the file starts with an MPEG frame.
* FLAC: blocks STREAMINFO, SEEKTABLE, PADDING (zeros only) and at most one
  VORBIS_COMMENT holding no comments (its vendor string, naming the encoder
  library, may stay); no APPLICATION, CUESHEET or PICTURE block; audio
  frames start right after the last block; no ID3 or APE tag.
* Ogg: one or more chained recordings, each exactly one logical stream of
  Vorbis or Opus that opens with its first page and has its own serial number,
  every page's checksum right, nothing after the last page, and a comment
  header with no comments and nothing after it (Opus padding must be empty).
* M4A: see verify/isobmff.py, plus no iTunes tags in mutagen's reading.
* Every recording: no Exif header, XMP packet or local user path anywhere in
  its bytes.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from typing import Any

from ..limits import Limits
from .common import check_local_paths_bytes, check_metadata_markers, fail

_ID3_ANYWHERE = re.compile(rb"ID3[\x02-\x04]\x00|3DI[\x02-\x04]\x00")


def verify_sound(kind: str, data: bytes, limits: Limits) -> None:
    """Raise VerificationFailed if this recording still carries tags."""
    checks = {"mp3": _check_mp3, "flac": _check_flac, "ogg": _check_ogg, "m4a": _check_m4a}
    if kind not in checks:
        fail(f"no verifier for {kind}")
    if kind != "m4a":
        _check_foreign_tags(data)
    checks[kind](data)
    check_metadata_markers(data, kind.upper())
    check_local_paths_bytes(data, kind.upper())


def _check_foreign_tags(data: bytes) -> None:
    """Tags of other formats that players accept glued to the front or the end."""
    if _ID3_ANYWHERE.search(data):
        fail("ID3 tag")
    if b"APETAGEX" in data:  # before ID3v1: the APE marker holds "TAG" too
        fail("APE tag")
    # ID3v1 is the last 128 bytes, "TAG+" the 227 before them. A last frame cut
    # short can swallow the start of such a tag, so its marker is looked for
    # anywhere in that stretch, not only where a whole tag would begin.
    if b"TAG" in data[-128:] or b"TAG+" in data[-355:]:
        fail("ID3v1 tag")
    if b"LYRICSBEGIN" in data or b"LYRICS200" in data:
        fail("Lyrics3 tag")


def _mutagen_tags(kind: str, data: bytes) -> Any:
    import mutagen
    from mutagen.flac import FLAC
    from mutagen.mp3 import MP3
    from mutagen.mp4 import MP4

    readers = {"mp3": MP3, "flac": FLAC, "m4a": MP4}
    try:
        if kind in readers:
            return readers[kind](io.BytesIO(data)).tags
        opened = mutagen.File(io.BytesIO(data))
    except (mutagen.MutagenError, struct.error, ValueError, EOFError, IndexError):
        fail(f"unreadable {kind.upper()} recording")
    if opened is None:
        fail(f"unreadable {kind.upper()} recording")
    return opened.tags


def _check_mp3(data: bytes) -> None:
    if len(data) < 4 or data[0] != 0xFF or data[1] & 0xE0 != 0xE0:
        fail("data before the first MP3 frame")
    if _mutagen_tags("mp3", data):
        fail("MP3 tags")


def _check_flac(data: bytes) -> None:
    if not data.startswith(b"fLaC"):
        fail("not a FLAC recording")
    pos, last, first, comments = 4, False, True, 0
    while not last:
        if pos + 4 > len(data):
            fail("truncated FLAC metadata")
        header = data[pos]
        last, block = bool(header & 0x80), header & 0x7F
        length = int.from_bytes(data[pos + 1 : pos + 4], "big")
        body = data[pos + 4 : pos + 4 + length]
        if len(body) != length:
            fail("truncated FLAC metadata")
        if first != (block == 0):
            fail("FLAC metadata does not start with STREAMINFO")
        first = False
        if block == 1:
            if body.strip(b"\x00"):
                fail("leftover data in FLAC padding")
        elif block == 4:
            comments += 1
            if comments > 1 or _vorbis_comment_count(body, 0, framing=False, padding=False):
                fail("FLAC Vorbis comments")
        elif block not in (0, 3):
            names = {2: "FLAC application data", 5: "FLAC cue sheet", 6: "FLAC picture"}
            fail(names.get(block, "unknown FLAC metadata block"))
        pos += 4 + length
    if data[pos : pos + 2] not in (b"\xff\xf8", b"\xff\xf9"):
        fail("data between FLAC metadata and audio")
    tags = _mutagen_tags("flac", data)
    if tags is not None and len(tags):
        fail("FLAC Vorbis comments")


def _vorbis_comment_count(packet: bytes, pos: int, *, framing: bool, padding: bool) -> int:
    """Comments in a Vorbis comment structure; anything after it is refused.

    Vorbis ends the structure with a framing byte. In Ogg the packet may then be
    padded with zeros (mutagen and Opus encoders do), which hold nothing.
    """
    if pos + 4 > len(packet):
        fail("damaged comment header")
    vendor = int.from_bytes(packet[pos : pos + 4], "little")
    pos += 4 + vendor
    if pos + 4 > len(packet):
        fail("damaged comment header")
    count = int.from_bytes(packet[pos : pos + 4], "little")
    if count:
        return count
    rest = packet[pos + 4 :]
    if framing:
        if rest[:1] != b"\x01":
            fail("damaged comment header")
        rest = rest[1:]
    if padding:
        rest = rest.strip(b"\x00")
    if rest:
        fail("data after the comment header")
    return count


def _check_ogg(data: bytes) -> None:
    links: list[tuple[int, int, list[bytes]]] = []  # (serial, start, first two packets)
    packets: list[bytes] = []
    current = b""
    serial = None
    start = 0
    carried_data = False
    pos = 0
    while pos < len(data):
        if data[pos : pos + 5] != b"OggS\x00" or pos + 27 > len(data):
            fail("damaged Ogg page")
        page_serial = int.from_bytes(data[pos + 14 : pos + 18], "little")
        begins = bool(data[pos + 5] & 0x02)
        segments = data[pos + 26]
        lacing = data[pos + 27 : pos + 27 + segments]
        end = pos + 27 + segments + sum(lacing)
        if len(lacing) != segments or end > len(data):
            fail("truncated Ogg page")
        page = bytearray(data[pos:end])
        page[22:26] = b"\0\0\0\0"
        if _ogg_crc(bytes(page)) != int.from_bytes(data[pos + 22 : pos + 26], "little"):
            fail("Ogg page fails its checksum")
        if serial is None or (begins and carried_data):  # a recording, or the next in a chain
            if serial is not None:
                links.append((serial, start, packets))
            serial, start, packets, current, carried_data = page_serial, pos, [], b"", False
            if not begins:
                fail("Ogg recording without its first page")
        elif page_serial != serial:
            fail("more than one Ogg stream")
        carried_data = carried_data or not begins
        body = pos + 27 + segments
        for lace in lacing:
            if len(packets) < 2:
                current += data[body : body + lace]
                if lace < 255:
                    packets.append(current)
                    current = b""
            body += lace
        pos = end
    if serial is None:
        fail("empty Ogg file")
    links.append((serial, start, packets))
    if len({link[0] for link in links}) != len(links):
        fail("chained Ogg recordings sharing a serial number")
    ends = [link[1] for link in links[1:]] + [len(data)]
    for (_, begin, first), end in zip(links, ends, strict=True):
        _check_ogg_headers(first)
        found = _mutagen_tags("ogg", data[begin:end])  # mutagen reads one recording only
        if found is not None and len(found):
            fail("Ogg comments")


def _check_ogg_headers(packets: list[bytes]) -> None:
    if len(packets) < 2:
        fail("Ogg stream without a comment header")
    head, tags = packets[:2]
    if head.startswith(b"\x01vorbis") and tags.startswith(b"\x03vorbis"):
        count = _vorbis_comment_count(tags, 7, framing=True, padding=True)
    elif head.startswith(b"OpusHead") and tags.startswith(b"OpusTags"):
        count = _vorbis_comment_count(tags, 8, framing=False, padding=True)
    else:
        fail("Ogg codec other than Vorbis or Opus")
    if count:
        fail("Ogg comments")


# Ogg's CRC is the unreflected CRC-32 (polynomial 0x04C11DB7, start 0, no final
# xor). zlib computes the reflected one, so bytes and result are bit-reversed around it.
_REVERSE_BITS = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def _ogg_crc(page: bytes) -> int:
    reflected = zlib.crc32(page.translate(_REVERSE_BITS), 0xFFFFFFFF) ^ 0xFFFFFFFF
    return int(f"{reflected:032b}"[::-1], 2)


def _check_m4a(data: bytes) -> None:
    from .isobmff import check_m4a_boxes

    check_m4a_boxes(data)
    tags = _mutagen_tags("m4a", data)
    if tags is not None and len(tags):
        fail("tags or cover art in M4A recording")
