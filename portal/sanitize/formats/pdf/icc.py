"""ICC colour profiles: keep the colour transform, drop every word about who made it.

Threat: a colour profile is a small file inside a PDF (a page's or a picture's
ICCBased colour space, the document's output intent) or a picture. Besides the
numbers that map colours, it carries free text and identifiers: a description
("Chen's MacBook display, calibrated 2025-02-14"), a copyright line, the device
maker's and model's names (dmnd, dmdd), metadata dictionaries (meta), viewing
conditions, a calibration date, a profile sequence that names every device in
a chain, the maker's and the creating software's signatures, the date it was
made, and a profile ID (an MD5 that matches it to the file on the author's disk).

The promise: `neutral_profile` returns a profile holding only the colour tags on
the allow-list below, copied byte for byte (so colours are unchanged), plus a
description and a copyright that say nothing ("ICC profile", ""), with a header
whose creation date, platform, CMM, device and creator fields and profile ID
are zero. A profile that cannot be read is refused, never copied.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ...errors import CleaningRefused

# Tags that describe how colours are transformed (ICC.1:2010 and ICC.1:2004 tables),
# nothing else: every text, date, device and private tag is left out.
COLOUR_TAGS = frozenset({
    b"A2B0", b"A2B1", b"A2B2", b"B2A0", b"B2A1", b"B2A2", b"D2B0", b"D2B1", b"D2B2", b"D2B3",
    b"B2D0", b"B2D1", b"B2D2", b"B2D3", b"rXYZ", b"gXYZ", b"bXYZ", b"rTRC", b"gTRC", b"bTRC",
    b"kTRC", b"wtpt", b"bkpt", b"chad", b"chrm", b"clro", b"clrt", b"clot", b"gamt", b"lumi",
    b"meas", b"pre0", b"pre1", b"pre2", b"ciis", b"cicp", b"rig0", b"rig2", b"resp", b"ncl2",
})
NEUTRAL_DESCRIPTION = "ICC profile"
_HEADER = 128
# Header fields that name or date the profile: CMM, date, platform, device maker,
# model and attributes, creator and profile ID (offset, length).
_HEADER_IDENTITY = ((4, 4), (24, 12), (40, 4), (48, 16), (80, 20), (100, 28))
# A profile with more tags than this is not one a real device made.
MAX_TAGS = 200


@dataclass(frozen=True)
class ProfileFindings:
    """What a profile said about itself: its description and whether it named anyone."""

    description: str
    identifying: bool


def looks_like_icc(data: bytes) -> bool:
    return len(data) >= _HEADER + 4 and data[36:40] == b"acsp"


def neutral_profile(data: bytes) -> tuple[bytes, ProfileFindings]:
    """The profile rebuilt from its colour tags, and what was taken out of it."""
    tags = _read_tags(data)
    version = data[8]
    kept: list[tuple[bytes, bytes]] = [(sig, body) for sig, body in tags if sig in COLOUR_TAGS]
    description = next((_text_of(body) for sig, body in tags if sig == b"desc"), "")
    dropped = {sig for sig, _ in tags} - COLOUR_TAGS
    identifying = bool(dropped - {b"desc", b"cprt"}) or any(
        data[start : start + length].strip(b"\x00") for start, length in _HEADER_IDENTITY
    ) or description.strip() != NEUTRAL_DESCRIPTION or any(
        _text_of(body).strip() for sig, body in tags if sig == b"cprt")
    kept.append((b"desc", _text_tag(NEUTRAL_DESCRIPTION, version, description=True)))
    kept.append((b"cprt", _text_tag("", version, description=False)))
    header = bytearray(data[:_HEADER])
    for start, length in _HEADER_IDENTITY:
        header[start : start + length] = bytes(length)
    rebuilt = _assemble(bytes(header), kept)
    return rebuilt, ProfileFindings(description.strip(), identifying)


def _read_tags(data: bytes) -> list[tuple[bytes, bytes]]:
    if not looks_like_icc(data):
        raise CleaningRefused("malformed", "colour profile")
    declared = int.from_bytes(data[:4], "big")
    count = int.from_bytes(data[_HEADER : _HEADER + 4], "big")
    if declared > len(data) or declared < _HEADER + 4 or count > MAX_TAGS or (
        _HEADER + 4 + 12 * count > declared
    ):
        raise CleaningRefused("malformed", "colour profile")
    tags = []
    for index in range(count):
        sig, offset, size = struct.unpack_from(">4sII", data, _HEADER + 4 + 12 * index)
        if offset < _HEADER or offset + size > declared:
            raise CleaningRefused("malformed", "colour profile tag outside the profile")
        tags.append((sig, data[offset : offset + size]))
    return tags


def _assemble(header: bytes, tags: list[tuple[bytes, bytes]]) -> bytes:
    """Header, tag table, then each tag's data on a 4-byte boundary (shared data once)."""
    table_end = _HEADER + 4 + 12 * len(tags)
    body = bytearray()
    placed: dict[bytes, int] = {}
    entries = []
    for sig, data in tags:
        if data not in placed:
            while (table_end + len(body)) % 4:
                body += b"\x00"
            placed[data] = table_end + len(body)
            body += data
        entries.append(struct.pack(">4sII", sig, placed[data], len(data)))
    while (table_end + len(body)) % 4:
        body += b"\x00"
    size = table_end + len(body)
    return (struct.pack(">I", size) + header[4:] + struct.pack(">I", len(tags))
            + b"".join(entries) + bytes(body))


def _text_tag(text: str, version: int, *, description: bool) -> bytes:
    """A description or copyright tag in the type the profile's version expects."""
    if version >= 4:  # multiLocalizedUnicodeType, one record in English
        encoded = text.encode("utf-16-be")
        return (b"mluc" + bytes(4) + struct.pack(">II", 1, 12) + b"enUS"
                + struct.pack(">II", len(encoded), 28) + encoded)
    ascii_text = text.encode("ascii") + b"\x00"
    if not description:  # textType
        return b"text" + bytes(4) + ascii_text
    # textDescriptionType: ASCII, then empty Unicode and ScriptCode descriptions.
    return (b"desc" + bytes(4) + struct.pack(">I", len(ascii_text)) + ascii_text
            + bytes(8) + bytes(3) + bytes(67))


def _text_of(body: bytes) -> str:
    """The words in a text, textDescription or multiLocalizedUnicode tag ("" if none)."""
    kind = body[:4]
    try:
        if kind == b"text":
            return body[8:].split(b"\x00", 1)[0].decode("latin-1")
        if kind == b"desc" and len(body) >= 12:
            length = int.from_bytes(body[8:12], "big")
            return body[12 : 12 + length].split(b"\x00", 1)[0].decode("latin-1")
        if kind == b"mluc" and len(body) >= 28:
            length, offset = struct.unpack_from(">II", body, 20)
            return body[offset : offset + length].decode("utf-16-be", "replace")
    except (ValueError, struct.error):
        return ""
    return ""
