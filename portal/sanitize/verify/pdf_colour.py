"""Verify colour profiles and output intents: colours only, no words about anyone.

Part of the independent verifier (see verify_pdf), with its own reading of the
ICC format (ICC.1:2010, section 7). A colour profile found anywhere in a PDF
is refused if:

* its header still has a preferred CMM, a creation date, a platform, a device
  manufacturer, model or attributes, a creator or a profile ID;
* it has any tag outside the colour tags below and desc/cprt (so no device
  maker or model names, metadata, viewing conditions, calibration date,
  profile sequence, characterisation target or private tag);
* its description or copyright says anything but "ICC profile" or nothing;
* its tag table is damaged.

An output intent is refused if it has any text besides the identifier, or an
identifier other than "Custom" (the name of a print shop's press or a person
is as much a trace as an author's name).
"""

from __future__ import annotations

import struct

from .common import fail

_COLOUR_TAGS = frozenset({
    b"A2B0", b"A2B1", b"A2B2", b"B2A0", b"B2A1", b"B2A2", b"D2B0", b"D2B1", b"D2B2", b"D2B3",
    b"B2D0", b"B2D1", b"B2D2", b"B2D3", b"rXYZ", b"gXYZ", b"bXYZ", b"rTRC", b"gTRC", b"bTRC",
    b"kTRC", b"wtpt", b"bkpt", b"chad", b"chrm", b"clro", b"clrt", b"clot", b"gamt", b"lumi",
    b"meas", b"pre0", b"pre1", b"pre2", b"ciis", b"cicp", b"rig0", b"rig2", b"resp", b"ncl2",
})
_WORDS_ALLOWED = frozenset({"", "ICC profile"})
# (offset, length, what) of the header fields that identify a profile's origin.
_HEADER_FIELDS = ((4, 4, "CMM"), (24, 12, "creation date"), (40, 4, "platform"),
                  (48, 4, "device maker"), (52, 4, "device model"), (56, 8, "device attributes"),
                  (80, 4, "creator"), (84, 16, "profile ID"))
_INTENT_KEYS = frozenset({"/Type", "/S", "/DestOutputProfile", "/OutputConditionIdentifier"})


def is_icc_profile(data: bytes) -> bool:
    return len(data) >= 132 and data[36:40] == b"acsp"


def check_icc_profile(data: bytes, where: str) -> None:
    for start, length, what in _HEADER_FIELDS:
        if data[start : start + length].strip(b"\x00"):
            fail(f"colour profile {what} in {where}")
    size = int.from_bytes(data[:4], "big")
    count = int.from_bytes(data[128:132], "big")
    if size > len(data) or count > 200 or 132 + 12 * count > size:
        fail(f"damaged colour profile in {where}")
    for index in range(count):
        sig, offset, length = struct.unpack_from(">4sII", data, 132 + 12 * index)
        if offset + length > size:
            fail(f"damaged colour profile in {where}")
        body = data[offset : offset + length]
        if sig in (b"desc", b"cprt"):
            if _words(body) not in _WORDS_ALLOWED:
                fail(f"colour profile description in {where}")
        elif sig not in _COLOUR_TAGS:
            fail(f"colour profile tag {_printable(sig)} in {where}")


def check_output_intent(keys: set[str], identifier: str) -> None:
    if keys - _INTENT_KEYS:
        fail("printing conditions (output intent) text in PDF")
    if identifier not in ("", "Custom"):
        fail("printing conditions (output intent) identifier in PDF")


def _words(body: bytes) -> str:
    kind = body[:4]
    if kind == b"text":
        return body[8:].rstrip(b"\x00").decode("latin-1")
    if kind == b"desc":
        length = int.from_bytes(body[8:12], "big")
        ascii_part = body[12 : 12 + length].rstrip(b"\x00").decode("latin-1")
        rest = body[12 + length :]
        if rest.strip(b"\x00"):  # Unicode or ScriptCode descriptions with content
            return "\x00other"
        return ascii_part
    if kind == b"mluc" and len(body) >= 16:
        records, record_size = struct.unpack_from(">II", body, 8)
        texts = set()
        for index in range(min(records, 100)):
            at = 16 + index * record_size
            if at + 12 > len(body):
                return "\x00damaged"
            length, offset = struct.unpack_from(">II", body, at + 4)
            texts.add(body[offset : offset + length].decode("utf-16-be", "replace"))
        return texts.pop() if len(texts) == 1 else ("" if not texts else "\x00several")
    return "\x00unknown"


def _printable(sig: bytes) -> str:
    text = sig.decode("latin-1")
    return text if text.isascii() and text.isprintable() else "unknown"
