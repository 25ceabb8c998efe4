"""Images embedded in a PDF: lossless metadata removal, and their size before anyone decodes them.

Threat: a photograph pasted into a document keeps its camera data (EXIF with GPS
position, make and model, serial numbers), XMP, IPTC captions and comments inside
the image bytes, where no PDF-level cleaning reaches. Re-encoding would lose
quality, so these functions work at the marker (JPEG) or box (JPEG 2000) level:
every segment needed to decode the picture is copied byte for byte, everything
else is dropped and named. A structure we cannot follow is refused, never passed.

Threat: an image whose few compressed bytes decode to gigabytes, for the
safe-copy renderer and for every editor's PDF reader. The cleaner never decodes
a PDF's images, so each one's declared size (the dictionary's width, height,
bits and colour components, and for JPEG and JPEG 2000 the size in the image's
own header, which is what a decoder believes) is held to the picture budget
(budget.py) instead.
"""

from __future__ import annotations

from typing import Any

from pikepdf import Array, Dictionary, Name, Stream

from ...budget import check_declared_picture
from ...errors import CleaningRefused
from ...limits import Limits

# JPEG markers that stand alone, without a length field.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_SOS, _EOI, _COM, _APP0, _APP14 = 0xDA, 0xD9, 0xFE, 0xE0, 0xEE


def strip_jpeg_metadata(data: bytes) -> tuple[bytes, list[str]]:
    """Return the JPEG without APPn/COM segments, and the report codes of what was there.

    APP0 JFIF (pixel density, thumbnail removed) and APP14 Adobe (it says how to
    convert the colours back) are kept: decoders need them to show the same picture.
    """
    if not data.startswith(b"\xff\xd8"):
        raise CleaningRefused("malformed", "embedded JPEG without a start marker")
    out = bytearray(b"\xff\xd8")
    found: list[str] = []
    pos = 2
    size = len(data)
    while pos < size:
        if data[pos] != 0xFF:
            raise CleaningRefused("malformed", "embedded JPEG marker expected")
        while pos < size and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= size:
            break
        marker = data[pos]
        pos += 1
        if marker == _EOI:
            out += b"\xff\xd9"
            if pos < size:
                found.append("unknown-part")  # bytes hidden after the end of the image
            return bytes(out), found
        if marker in _STANDALONE:
            out += bytes((0xFF, marker))
            continue
        if pos + 2 > size:
            raise CleaningRefused("malformed", "embedded JPEG cut short")
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2 or pos + length > size:
            raise CleaningRefused("malformed", "embedded JPEG segment length")
        body = data[pos + 2 : pos + length]
        pos += length
        kept = _kept_segment(marker, body, found)
        if kept is not None:
            out += bytes((0xFF, marker)) + (len(kept) + 2).to_bytes(2, "big") + kept
        if marker == _SOS:
            end = _entropy_end(data, pos)
            out += data[pos:end]
            pos = end
    return bytes(out), found  # no end marker: decoders cope, nothing is hidden after


def _kept_segment(marker: int, body: bytes, found: list[str]) -> bytes | None:
    if marker == _APP0 and body.startswith(b"JFIF\x00") and len(body) >= 14:
        if len(body) > 14:
            found.append("thumbnail")
        return body[:12] + b"\x00\x00"  # version, units, density; no thumbnail
    if marker == _APP14 and body.startswith(b"Adobe") and len(body) >= 12:
        return body[:12]
    if 0xE0 <= marker <= 0xEF:
        found.append(_app_code(marker, body))
        return None
    if marker == _COM:
        found.append("image-comment")
        return None
    return body


def _app_code(marker: int, body: bytes) -> str:
    if marker == 0xE1 and body.startswith(b"Exif"):
        return "exif"
    if marker == 0xE1 and b"ns.adobe.com/xap" in body[:64]:
        return "xmp"
    if marker == 0xE2 and body.startswith(b"ICC_PROFILE"):
        return "icc-profile"
    if marker == 0xED:
        return "iptc"
    return "unknown-part"


def _entropy_end(data: bytes, pos: int) -> int:
    """Position of the first real marker after entropy-coded data starting at pos."""
    size = len(data)
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= size:
            return size
        following = data[pos + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            pos += 1 if following == 0xFF else 2
            continue
        return pos


# JPEG 2000 boxes a decoder needs; XML, UUID (XMP, GeoJP2), IPR and URL boxes are not.
_JP2_KEEP = frozenset({b"jP  ", b"ftyp", b"rreq", b"jp2h", b"jp2c"})
_J2K_SOC, _J2K_SOT, _J2K_COM = 0x4F, 0x90, 0x64


def strip_jpx_metadata(data: bytes) -> tuple[bytes, list[str]]:
    """Return the JPEG 2000 image with only its decoding boxes and no header comments."""
    if data.startswith(b"\xff\x4f\xff\x51"):  # a bare codestream
        return _strip_codestream(data)
    out = bytearray()
    found: list[str] = []
    pos = 0
    while pos < len(data):
        if pos + 8 > len(data):
            raise CleaningRefused("malformed", "embedded JPEG 2000 box cut short")
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        header = 8
        if length == 1:
            if pos + 16 > len(data):
                raise CleaningRefused("malformed", "embedded JPEG 2000 box cut short")
            length, header = int.from_bytes(data[pos + 8 : pos + 16], "big"), 16
        elif length == 0:
            length = len(data) - pos
        if length < header or pos + length > len(data):
            raise CleaningRefused("malformed", "embedded JPEG 2000 box length")
        if kind == b"jp2c":
            stream, inner = _strip_codestream(data[pos + header : pos + length])
            found += inner
            out += (len(stream) + 8).to_bytes(4, "big") + b"jp2c" + stream
        elif kind in _JP2_KEEP:
            out += data[pos : pos + length]
        else:
            found.append("xmp" if kind in (b"xml ", b"uuid") else "unknown-part")
        pos += length
    if not out.startswith(b"\x00\x00\x00\x0cjP  "):
        raise CleaningRefused("malformed", "embedded JPEG 2000 signature")
    return bytes(out), found


def _strip_codestream(data: bytes) -> tuple[bytes, list[str]]:
    """Drop COM segments from the codestream's main header (up to the first tile)."""
    if not data.startswith(b"\xff\x4f"):
        raise CleaningRefused("malformed", "embedded JPEG 2000 codestream")
    out = bytearray(b"\xff\x4f")
    found: list[str] = []
    pos = 2
    while True:
        if pos + 4 > len(data) or data[pos] != 0xFF:
            raise CleaningRefused("malformed", "embedded JPEG 2000 header")
        marker = data[pos + 1]
        if marker == _J2K_SOT:
            return bytes(out + data[pos:]), found
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2 or pos + 2 + length > len(data):
            raise CleaningRefused("malformed", "embedded JPEG 2000 segment length")
        if marker == _J2K_COM:
            found.append("image-comment")
        else:
            out += data[pos : pos + 2 + length]
        pos += 2 + length


# Colour components of each colour space family (ISO 32000-1, 8.6); an unknown one
# counts as the widest.
_COMPONENTS = {"/DeviceGray": 1, "/CalGray": 1, "/G": 1, "/Indexed": 1, "/I": 1,
               "/Separation": 1, "/Pattern": 1, "/DeviceRGB": 3, "/CalRGB": 3, "/RGB": 3,
               "/Lab": 3, "/DeviceCMYK": 4, "/CMYK": 4}


def check_image_size(image: Stream, limits: Limits) -> None:
    """Refuse ("limit") an image XObject whose dictionary declares more than the budget."""
    width, height = _number(image.get("/Width")), _number(image.get("/Height"))
    if image.get("/ImageMask") is True:
        bits = 1
    else:
        bits = (_number(image.get("/BitsPerComponent")) or 8) * _components(image.get("/ColorSpace"))
    check_declared_picture(width, height, bits, limits)


def strip_image_metadata(encoded: bytes, jpeg: bool, limits: Limits) -> tuple[bytes, list[str]]:
    """A JPEG or JPEG 2000 image without its metadata, and what was there; refused
    ("limit") first if its own header declares more than the picture budget."""
    width, height, bits = _jpeg_size(encoded) if jpeg else _jpx_size(encoded)
    check_declared_picture(width, height, bits, limits)
    return strip_jpeg_metadata(encoded) if jpeg else strip_jpx_metadata(encoded)


def _number(value: Any) -> int:
    try:
        return max(int(value), 0)
    except (TypeError, ValueError):
        return 0


def _name(name: Name) -> str:
    """A name's text; "" for one whose bytes are not UTF-8 (pikepdf cannot str() it)."""
    try:
        return str(name)
    except UnicodeDecodeError:
        return ""


def _components(space: Any) -> int:
    # An unknown colour space counts as the widest (4), so the size limit holds.
    if isinstance(space, Name):
        return _COMPONENTS.get(_name(space), 4)
    if isinstance(space, Array) and len(space) and isinstance(space[0], Name):
        family = _name(space[0])
        if family == "/ICCBased" and len(space) > 1 and isinstance(space[1], (Stream, Dictionary)):
            return min(_number(space[1].get("/N")) or 4, 4)
        if family == "/DeviceN" and len(space) > 1 and isinstance(space[1], Array):
            return max(len(space[1]), 1)
        return _COMPONENTS.get(family, 4)
    return 4


def _jpeg_size(data: bytes) -> tuple[int, int, int]:
    """Width, height and bits per pixel from the first frame header (SOFn); zeros if none."""
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF or marker in _STANDALONE:
            pos += 1 if marker == 0xFF else 2
            continue
        if marker in (_SOS, _EOI):
            break
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) and pos + 10 <= len(data):
            height = int.from_bytes(data[pos + 5 : pos + 7], "big")
            width = int.from_bytes(data[pos + 7 : pos + 9], "big")
            return width, height, data[pos + 4] * data[pos + 9]
        pos += 2 + length
    return 0, 0, 0


def _jpx_size(data: bytes) -> tuple[int, int, int]:
    """Width, height and bits per pixel from the codestream's SIZ segment; zeros if none."""
    pos = data.find(b"\xff\x4f\xff\x51")
    if pos < 0 or pos + 42 > len(data):
        return 0, 0, 0
    siz = data[pos + 4 :]
    width = int.from_bytes(siz[4:8], "big") - int.from_bytes(siz[12:16], "big")
    height = int.from_bytes(siz[8:12], "big") - int.from_bytes(siz[16:20], "big")
    count = int.from_bytes(siz[36:38], "big")
    depths = siz[38 : 38 + 3 * count : 3]
    return width, height, sum((depth & 0x7F) + 1 for depth in depths)
