"""Walk ISO base media files (HEIF images, M4A recordings, JPEG 2000) box by box.

Part of the independent verifier. Both formats are trees of typed boxes; a
clean file holds only the boxes needed to decode the picture or the sound, so
the walk accepts a fixed set of box types in each container and refuses the
rest. What it refuses and why:

* HEIF: items of type Exif, mime (XMP) or uri; thumbnail ("thmb") and
  description ("cdsc") references; colour profiles (colr of type prof/rICC;
  nclx is allowed); user descriptions (udes); item names; encrypted items;
  external data references; uuid, XML and any box not listed below.
* M4A: creation and modification times in mvhd, tkhd and mdhd (must be zero,
  they record when the recording was made); an mdhd language other than "und";
  any udta content except an empty meta; a meta with keys, XML or a non-empty
  ilst (iTunes tags and cover art); uuid boxes (XMP); external data references.
* JPEG 2000 (inside PDFs): only the signature, file type, image header
  boxes (colour by enumerated space, not ICC) and one codestream whose main
  and tile-part headers hold no COM segment.
* All: free/skip padding must be zeros (old metadata is often left there),
  every box must fit its parent, and the file must end where its last box ends.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from ..limits import Limits
from .common import fail

# Deeper than this is not a real file: the formats nest a handful of levels.
MAX_BOX_DEPTH = 16


def iter_boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """Yield (type, body_start, body_end) for the boxes tiling data[start:end]."""
    pos = start
    while pos < end:
        if pos + 8 > end:
            fail("truncated media box")
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            if pos + 16 > end:
                fail("truncated media box")
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            fail("media box outside its parent")
        yield kind, pos + header, pos + size
        pos += size


def _zeros(data: bytes, start: int, end: int, what: str) -> None:
    if data[start:end].strip(b"\x00"):
        fail(f"leftover data in {what} padding")


def _c_string(data: bytes, pos: int, end: int) -> tuple[bytes, int]:
    stop = data.find(b"\x00", pos, end)
    if stop < 0:
        fail("damaged media box")
    return data[pos:stop], stop + 1


# ---- HEIF -------------------------------------------------------------------

_HEIF_META = {b"hdlr", b"pitm", b"iloc", b"iinf", b"iref", b"iprp", b"idat", b"dinf", b"grpl"}
_HEIF_PROPERTIES = {b"hvcC", b"av1C", b"ispe", b"pixi", b"colr", b"irot", b"imir", b"clap",
                    b"pasp", b"auxC", b"rloc", b"lsel", b"a1op", b"a1lx"}
_HEIF_ITEM_NAMES = {b"Exif": "Exif", b"mime": "XMP or attached data", b"uri ": "linked data"}


def check_heif(data: bytes, limits: Limits) -> None:
    seen_meta = False
    for kind, start, end in iter_boxes(data, 0, len(data)):
        if kind == b"ftyp" or kind == b"mdat":
            continue
        if kind in (b"free", b"skip"):
            _zeros(data, start, end, "HEIF")
        elif kind == b"meta" and not seen_meta:
            seen_meta = True
            for child, cstart, cend in iter_boxes(data, start + 4, end):
                _check_heif_meta_child(data, child, cstart, cend)
        else:
            fail("unexpected box in HEIF image")
    if not seen_meta:
        fail("HEIF image without item information")


def _check_heif_meta_child(data: bytes, kind: bytes, start: int, end: int) -> None:
    if kind not in _HEIF_META:
        fail("XMP, uuid or unknown box in HEIF image")
    if kind == b"iinf":
        version = data[start]
        first = start + (6 if version == 0 else 8)
        for entry, estart, eend in iter_boxes(data, first, end):
            if entry != b"infe":
                fail("damaged HEIF item list")
            _check_heif_item(data, estart, eend)
    elif kind == b"iref":
        for ref, _rstart, _rend in iter_boxes(data, start + 4, end):
            if ref == b"thmb":
                fail("thumbnail in HEIF image")
            if ref == b"cdsc":
                fail("metadata item in HEIF image")
    elif kind == b"iprp":
        for child, pstart, pend in iter_boxes(data, start, end):
            if child == b"ipco":
                for prop, qstart, qend in iter_boxes(data, pstart, pend):
                    _check_heif_property(data, prop, qstart, qend)
            elif child != b"ipma":
                fail("unknown box in HEIF properties")
    elif kind == b"dinf":
        check_data_references(data, start, end)


def _check_heif_item(data: bytes, start: int, end: int) -> None:
    version = data[start]
    if version < 2:
        fail("old HEIF item entry")
    pos = start + 4 + (2 if version == 2 else 4)
    protection, item_type = struct.unpack(">H4s", data[pos : pos + 6])
    if protection:
        fail("encrypted item in HEIF image")
    if item_type in _HEIF_ITEM_NAMES:
        fail(f"{_HEIF_ITEM_NAMES[item_type]} in HEIF image")
    name, _ = _c_string(data, pos + 6, end)
    if name:
        fail("item name in HEIF image")


def _check_heif_property(data: bytes, kind: bytes, start: int, end: int) -> None:
    if kind == b"colr":
        if data[start : start + 4] != b"nclx":
            fail("ICC profile in HEIF image")
    elif kind == b"udes":
        fail("user description in HEIF image")
    elif kind not in _HEIF_PROPERTIES:
        fail("unknown property in HEIF image")


def check_data_references(data: bytes, start: int, end: int) -> None:
    """dinf/dref entries must say "in this file" (flag 1), never name a location."""
    for child, cstart, cend in iter_boxes(data, start, end):
        if child != b"dref":
            fail("damaged data information box")
        for entry, estart, eend in iter_boxes(data, cstart + 8, cend):
            flags = int.from_bytes(data[estart + 1 : estart + 4], "big")
            if entry not in (b"url ", b"urn ") or not flags & 1 or eend > estart + 4:
                fail("external data reference in media file")


# ---- M4A --------------------------------------------------------------------

_M4A_CONTAINERS: dict[bytes, frozenset[bytes]] = {
    b"moov": frozenset({b"mvhd", b"trak", b"udta", b"meta", b"iods", b"free", b"skip"}),
    b"trak": frozenset({b"tkhd", b"edts", b"mdia", b"udta", b"meta", b"tref", b"free"}),
    b"mdia": frozenset({b"mdhd", b"hdlr", b"minf"}),
    b"minf": frozenset({b"smhd", b"nmhd", b"dinf", b"stbl", b"hdlr"}),
    b"edts": frozenset({b"elst"}),
}
_UND = 0x55C4  # ISO-639-2 "und" packed in three 5-bit letters


def check_m4a_boxes(data: bytes) -> None:
    have_moov = False
    for kind, start, end in iter_boxes(data, 0, len(data)):
        if kind in (b"ftyp", b"mdat"):
            continue
        if kind in (b"free", b"skip", b"wide"):
            _zeros(data, start, end, "M4A")
        elif kind == b"moov" and not have_moov:
            have_moov = True
            _walk_m4a(data, kind, start, end, 1)
        else:
            fail("uuid, XMP or unknown box in M4A recording")
    if not have_moov:
        fail("M4A recording without a movie header")


def _walk_m4a(data: bytes, parent: bytes, start: int, end: int, depth: int) -> None:
    if depth > MAX_BOX_DEPTH:
        fail("media boxes nested too deeply")
    allowed = _M4A_CONTAINERS[parent]
    for kind, cstart, cend in iter_boxes(data, start, end):
        if kind not in allowed:
            fail("uuid, user data or unknown box in M4A recording")
        if kind in _M4A_CONTAINERS:
            _walk_m4a(data, kind, cstart, cend, depth + 1)
        elif kind in (b"mvhd", b"tkhd", b"mdhd"):
            _check_times(data, kind, cstart, cend)
        elif kind == b"udta":
            for child, ustart, uend in iter_boxes(data, cstart, cend):
                if child == b"meta":
                    _check_m4a_meta(data, ustart, uend)
                elif child in (b"free", b"skip"):
                    _zeros(data, ustart, uend, "M4A")
                else:
                    fail("user data (udta) in M4A recording")
        elif kind == b"meta":
            _check_m4a_meta(data, cstart, cend)
        elif kind in (b"free", b"skip"):
            _zeros(data, cstart, cend, "M4A")
        elif kind == b"dinf":
            check_data_references(data, cstart, cend)


def _check_times(data: bytes, kind: bytes, start: int, end: int) -> None:
    version = data[start] if start < end else 0
    width = 8 if version == 1 else 4
    if end < start + 4 + 2 * width + 4:
        fail("damaged M4A header")
    if data[start + 4 : start + 4 + 2 * width].strip(b"\x00"):
        fail("recording date in M4A header")
    if kind == b"mdhd":
        at = start + 4 + 2 * width + 4 + width
        if end < at + 2:
            fail("damaged M4A header")
        if int.from_bytes(data[at : at + 2], "big") != _UND:
            fail("language tag in M4A recording")


def _check_m4a_meta(data: bytes, start: int, end: int) -> None:
    # iTunes writes meta as a full box (4 bytes of version and flags first).
    first = start + 4 if data[start : start + 4] == b"\x00\x00\x00\x00" else start
    for kind, cstart, cend in iter_boxes(data, first, end):
        if kind == b"hdlr":
            continue
        if kind == b"ilst":
            if cend > cstart:
                fail("tags or cover art in M4A recording")
        elif kind in (b"free", b"skip"):
            _zeros(data, cstart, cend, "M4A")
        else:
            fail("metadata keys or XML in M4A recording")


# ---- JPEG 2000 (images inside PDFs) -------------------------------------------

_JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
_JP2_HEADER = {b"ihdr", b"colr", b"bpcc", b"pclr", b"cmap", b"cdef", b"res "}


def check_jpx(data: bytes) -> None:
    """A JPEG 2000 image: no XML, uuid or ICC boxes, no comment in the codestream."""
    if data.startswith(b"\xff\x4f\xff\x51"):
        _check_codestream(data)
        return
    if not data.startswith(_JP2_SIGNATURE):
        fail("unreadable JPEG 2000 image")
    codestreams = 0
    for kind, start, end in iter_boxes(data, 0, len(data)):
        if kind in (b"jP  ", b"ftyp"):
            continue
        if kind == b"jp2h":
            for child, cstart, _cend in iter_boxes(data, start, end):
                if child not in _JP2_HEADER:
                    fail("metadata in JPEG 2000 image")
                if child == b"colr" and data[cstart] != 1:
                    fail("ICC profile in JPEG 2000 image")
        elif kind == b"jp2c":
            codestreams += 1
            _check_codestream(data[start:end])
        else:
            fail("XML, uuid or other metadata in JPEG 2000 image")
    if codestreams != 1:
        fail("unreadable JPEG 2000 image")


def _check_codestream(data: bytes) -> None:
    """Walk the main and tile-part headers; COM segments carry free text."""
    pos, tile_end = 2, 0
    while pos + 2 <= len(data):
        marker = int.from_bytes(data[pos : pos + 2], "big")
        if marker == 0xFFD9:
            return
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker == 0xFF64:
            fail("comment in JPEG 2000 image")
        if marker == 0xFF90:  # start of tile-part: Psot gives its whole length
            psot = int.from_bytes(data[pos + 6 : pos + 10], "big")
            tile_end = pos + psot if psot else len(data) - 2
        elif marker == 0xFF93:  # start of data: skip the tile-part's coded data
            if tile_end <= pos:
                fail("damaged JPEG 2000 codestream")
            pos = tile_end
            continue
        if marker >> 8 != 0xFF or length < 2:
            fail("damaged JPEG 2000 codestream")
        pos += 2 + length
    fail("truncated JPEG 2000 codestream")
