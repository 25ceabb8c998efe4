"""Verify a cleaned image or recording by walking its structure independently.

The promise: an image passes only if every marker, chunk, block or tag in it is
on this module's short list of what it takes to draw the picture; everything
else (Exif, XMP, IPTC, ICC profiles, comments, text chunks, timestamps, maker
notes, thumbnails, trailing data) is a refusal. The walk is written here from
the format specifications, not borrowed from a cleaner or an image library, and
every file must also end exactly where its structure says it ends.

Allowed, per format (anything else fails):

* JPEG: SOI, SOFn, DHT, DAC, DQT, DRI, DNL, SOS with its scan data, RSTn, EOI;
  APP0 only as a bare 14-byte JFIF header with no thumbnail; APP14 only as the
  12-byte Adobe colour-transform header. No APP1-13/15, no COM, nothing after EOI
  (so no multi-picture index and no second picture: gain map, depth map, clip).
* PNG: IHDR, PLTE, IDAT, IEND, tRNS, and for animation acTL, fcTL, fdAT. So no
  tEXt, zTXt, iTXt, eXIf, iCCP, tIME, pHYs, sRGB, gAMA, cHRM, bKGD, sBIT, ...
* GIF: image descriptors and their data, graphic control extensions, and the
  NETSCAPE2.0 / ANIMEXTS1.0 looping extension; no comment, plain-text or other
  application extension (XMP, ICC); nothing after the trailer.
* WebP: VP8, VP8L, VP8X (without its ICC/EXIF/XMP flags), ALPH, ANIM, ANMF
  (holding only ALPH/VP8/VP8L); no EXIF, XMP or ICCP chunk.
* TIFF: the baseline and layout tags in `_TIFF_ALLOWED` only; Artist,
  Copyright, Make, Model, Software, DateTime, HostComputer, ImageDescription,
  DocumentName, PageName, XMP, IPTC, Photoshop, Exif and GPS IFDs, ICC
  profiles, SubIFDs and every unknown tag fail. Classic TIFF only (no BigTIFF).
* BMP: any standard header, but a V4/V5 header naming an embedded or linked
  colour profile fails, as does data after the declared file size.
* HEIC: checked as what it really is: JPEG, PNG, or HEIF (see verify/isobmff.py).
* Every image: no Exif header, XMP packet, IPTC resource or local user path
  anywhere in its bytes, even where the walk did not look.

Audio kinds are checked by verify_sound.
"""

from __future__ import annotations

import io
import struct
import zlib

from .. import kinds
from ..errors import LimitExceeded
from ..limits import Limits
from .common import (
    EmbeddedCheck,
    check_local_paths_bytes,
    check_metadata_markers,
    embedded_kind,
    fail,
)

AUDIO_KINDS = kinds.AUDIO  # the whole-file ones; WAV is checked as it is written


def verify_media(kind: str, data: bytes, limits: Limits, embedded: EmbeddedCheck) -> None:
    """Raise VerificationFailed if this image or recording still carries metadata
    (`embedded`, the verifiers' common argument, is unused: it holds no file)."""
    if kind in AUDIO_KINDS:
        from .sound import verify_sound

        verify_sound(kind, data, limits)
        return
    if kind == "heic":
        kind = embedded_kind(data) or "unknown"
        if kind not in ("heic", "jpeg", "png"):
            fail("HEIC output is not HEIF, JPEG or PNG")
    checks = {
        "jpeg": check_jpeg, "png": check_png, "gif": check_gif, "webp": check_webp,
        "tiff": check_tiff, "bmp": check_bmp,
    }
    if kind == "heic":
        from .isobmff import check_heif

        check_heif(data, limits)
    elif kind in checks:
        checks[kind](data, limits)
    else:
        fail(f"no verifier for {kind}")
    check_metadata_markers(data, kind.upper())
    check_local_paths_bytes(data, kind.upper())


def _check_pixels(width: int, height: int, limits: Limits, per_pixel: int = 1) -> None:
    """One frame against the picture budget, at the bytes per pixel a decoder keeps
    (never more than the cleaner charged for the frame it wrote)."""
    if width * height * per_pixel > limits.max_image_bytes:
        raise LimitExceeded("image too large once decoded")


_JPEG_NAMES = {0xE1: "Exif or XMP", 0xE2: "ICC profile", 0xED: "IPTC or Photoshop data",
               0xFE: "JPEG comment"}
_JPEG_STRUCTURE = frozenset({*range(0xC0, 0xD0), 0xDB, 0xDD, 0xDC})


def check_jpeg(data: bytes, limits: Limits) -> None:
    """Walk a JPEG's markers; refuse any application segment but JFIF and Adobe."""
    if not data.startswith(b"\xff\xd8"):
        fail("not a JPEG image")
    pos, end = 2, len(data)
    while True:
        if pos >= end or data[pos] != 0xFF:
            fail("damaged JPEG structure")
        while pos < end and data[pos] == 0xFF:
            pos += 1
        if pos >= end:
            fail("truncated JPEG")
        marker = data[pos]
        pos += 1
        if marker == 0xD9:
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue
        if pos + 2 > end:
            fail("truncated JPEG")
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2 or pos + length > end:
            fail("damaged JPEG segment")
        _check_jpeg_segment(marker, data[pos + 2 : pos + length], limits)
        pos += length
        if marker == 0xDA:
            pos = _skip_scan(data, pos)
    if pos != end:
        if data[pos : pos + 3] == b"\xff\xd8\xff" or b"\xff\xd8\xff" in data[pos:]:
            fail("a second picture after the JPEG image (multi-picture file)")
        fail("data after the end of the JPEG image")


def _check_jpeg_segment(marker: int, body: bytes, limits: Limits) -> None:
    if marker == 0xE0:
        # JFIF: identifier, version, units, densities, then thumbnail size 0 × 0.
        if not (body.startswith(b"JFIF\x00") and len(body) == 14 and body[12:14] == b"\0\0"):
            fail("JPEG APP0 thumbnail or extension")
    elif marker == 0xEE:
        if not (body.startswith(b"Adobe") and len(body) == 12):
            fail("JPEG APP14 data")
    elif marker == 0xE2 and body.startswith(b"MPF\x00"):
        fail("multi-picture index (MPF) in JPEG")
    elif 0xE1 <= marker <= 0xEF or marker == 0xFE:
        fail(_JPEG_NAMES.get(marker, f"JPEG APP{marker - 0xE0} segment"))
    elif marker in (0xC4, 0xDA, 0xCC) or marker in _JPEG_STRUCTURE:
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) and len(body) >= 5:
            height, width = struct.unpack(">HH", body[1:5])
            _check_pixels(width, height, limits, 1 if body[5:6] == b"\x01" else 4)
    else:
        fail(f"unknown JPEG marker {marker:02X}")


def _skip_scan(data: bytes, pos: int) -> int:
    """Entropy-coded data runs until a 0xFF that is not stuffing or a restart marker."""
    while True:
        found = data.find(b"\xff", pos)
        if found < 0 or found + 1 >= len(data):
            fail("truncated JPEG scan")
        following = data[found + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            pos = found + 2
        elif following == 0xFF:
            pos = found + 1
        else:
            return found


_PNG_ALLOWED = frozenset({b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"acTL", b"fcTL",
                          b"fdAT"})
_PNG_NAMES = {b"tEXt": "PNG text", b"zTXt": "PNG text", b"iTXt": "PNG text",
              b"eXIf": "Exif", b"iCCP": "ICC profile", b"tIME": "PNG timestamp"}


def check_png(data: bytes, limits: Limits) -> None:
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        fail("not a PNG image")
    pos, first = 8, True
    while True:
        if pos + 12 > len(data):
            fail("truncated PNG")
        length = int.from_bytes(data[pos : pos + 4], "big")
        ctype = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if length > 0x7FFFFFFF or len(body) != length or pos + 12 + length > len(data):
            fail("truncated PNG chunk")
        crc = int.from_bytes(data[pos + 8 + length : pos + 12 + length], "big")
        if zlib.crc32(ctype + body) != crc:
            fail("PNG chunk fails its checksum")
        if first != (ctype == b"IHDR"):
            fail("PNG does not start with its header")
        first = False
        if ctype not in _PNG_ALLOWED:
            name = ctype.decode("latin-1") if ctype.isalpha() else "unknown"
            fail(_PNG_NAMES.get(ctype, f"PNG {name} chunk"))
        if ctype == b"IHDR":
            if length != 13:
                fail("damaged PNG header")
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            # grey and palette: a byte a pixel (two at 16 bits); the rest: four
            _check_pixels(width, height, limits, (depth // 8 or 1) if colour in (0, 3) else 4)
        pos += 12 + length
        if ctype == b"IEND":
            break
    if pos != len(data):
        fail("data after the end of the PNG image")


def check_gif(data: bytes, limits: Limits) -> None:
    if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 13:
        fail("not a GIF image")
    width, height, packed = struct.unpack("<HHB", data[6:11])
    _check_pixels(width, height, limits)
    pos = 13 + (3 << ((packed & 7) + 1) if packed & 0x80 else 0)
    while True:
        if pos >= len(data):
            fail("truncated GIF")
        block = data[pos]
        if block == 0x3B:
            pos += 1
            break
        if block == 0x2C:
            if pos + 10 > len(data):
                fail("truncated GIF")
            local = data[pos + 9]
            pos += 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0) + 1  # + LZW size
            pos = _gif_sub_blocks(data, pos)[0]
        elif block == 0x21 and pos + 1 < len(data):
            pos = _gif_extension(data, data[pos + 1], pos + 2)
        else:
            fail("unknown GIF block")
    if pos != len(data):
        fail("data after the end of the GIF image")


def _gif_extension(data: bytes, label: int, pos: int) -> int:
    end, blocks = _gif_sub_blocks(data, pos)
    if label == 0xF9:
        return end
    if label == 0xFE:
        fail("GIF comment")
    if label == 0xFF and blocks and blocks[0] in (b"NETSCAPE2.0", b"ANIMEXTS1.0"):
        if all(len(b) <= 5 and b[:1] in (b"\x01", b"\x02") for b in blocks[1:]):
            return end
        fail("GIF looping extension with extra data")
    if label == 0xFF and blocks and blocks[0] == b"XMP DataXMP":
        fail("XMP in GIF")
    if label == 0xFF and blocks and blocks[0].startswith(b"ICCRGBG1"):
        fail("ICC profile in GIF")
    fail("GIF application or text extension")


def _gif_sub_blocks(data: bytes, pos: int) -> tuple[int, list[bytes]]:
    blocks: list[bytes] = []
    while True:
        if pos >= len(data):
            fail("truncated GIF")
        size = data[pos]
        if size == 0:
            return pos + 1, blocks
        if pos + 1 + size > len(data):
            fail("truncated GIF")
        if len(blocks) < 4:
            blocks.append(data[pos + 1 : pos + 1 + size])
        pos += 1 + size


_WEBP_NAMES = {b"EXIF": "Exif", b"XMP ": "XMP", b"ICCP": "ICC profile"}


def check_webp(data: bytes, limits: Limits) -> None:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        fail("not a WebP image")
    if int.from_bytes(data[4:8], "little") + 8 != len(data):
        fail("data after the end of the WebP image")
    _webp_chunks(data, 12, len(data), {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF"},
                 limits)


def _webp_chunks(data: bytes, pos: int, end: int, allowed: set[bytes], limits: Limits) -> None:
    while pos < end:
        if pos + 8 > end:
            fail("truncated WebP chunk")
        fourcc, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        body_end = pos + 8 + size
        if body_end > end:
            fail("truncated WebP chunk")
        if fourcc not in allowed:
            fail(_WEBP_NAMES.get(fourcc, "unknown WebP chunk"))
        if fourcc == b"VP8X":
            if size < 10 or data[pos + 8] & 0x2C:
                fail("WebP header announces metadata")
            width = int.from_bytes(data[pos + 12 : pos + 15], "little") + 1
            height = int.from_bytes(data[pos + 15 : pos + 18], "little") + 1
            _check_pixels(width, height, limits, 4)
        elif fourcc in (b"VP8 ", b"VP8L"):
            _check_pixels(*_vp8_size(fourcc, data[pos + 8 : body_end]), limits, 4)
        elif fourcc == b"ANMF":
            if size < 16:
                fail("truncated WebP frame")
            _webp_chunks(data, pos + 24, body_end, {b"ALPH", b"VP8 ", b"VP8L"}, limits)
        pos = body_end + (size & 1)
    if pos != end:
        fail("truncated WebP chunk")


def _vp8_size(fourcc: bytes, body: bytes) -> tuple[int, int]:
    """Picture size from a lossy (key frame header) or lossless (signature) bitstream."""
    if fourcc == b"VP8 ":
        if len(body) < 10 or body[3:6] != b"\x9d\x01\x2a":
            fail("damaged WebP image")
        width, height = struct.unpack("<HH", body[6:10])
        return width & 0x3FFF, height & 0x3FFF
    if len(body) < 5 or body[0] != 0x2F:
        fail("damaged WebP image")
    bits = int.from_bytes(body[1:5], "little")
    return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1


_TIFF_ALLOWED = frozenset({
    254, 255, 256, 257, 258, 259, 262, 263, 264, 265, 266, 273, 274, 277, 278, 279, 280, 281,
    282, 283, 284, 286, 287, 290, 291, 292, 293, 296, 297, 301, 317, 318, 319, 320, 322, 323,
    324, 325, 332, 334, 338, 339, 340, 341, 347, 529, 530, 531, 532,
})
_TIFF_NAMES = {
    269: "document name", 270: "image description", 271: "camera make", 272: "camera model",
    285: "page name", 305: "software", 306: "date", 315: "artist", 316: "host computer",
    330: "sub-images", 700: "XMP", 33432: "copyright", 33723: "IPTC", 34377: "Photoshop data",
    34665: "Exif", 34675: "ICC profile", 34853: "GPS position", 37724: "Photoshop layers",
    40965: "Exif interoperability data", 50341: "printer data",
}
_TIFF_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8,
                    13: 4}
# A multi-page scan has one directory per page; more than this is not a document.
MAX_TIFF_DIRECTORIES = 4096


def check_tiff(data: bytes, limits: Limits) -> None:
    if data[:4] not in (b"II*\x00", b"MM\x00*"):
        fail("not a classic TIFF image")
    order = "<" if data[:2] == b"II" else ">"
    offset = struct.unpack(order + "I", data[4:8])[0]
    seen: set[int] = set()
    while offset:
        if offset in seen:
            fail("TIFF directories form a loop")
        seen.add(offset)
        if len(seen) > min(MAX_TIFF_DIRECTORIES, limits.max_image_frames):
            raise LimitExceeded("too many TIFF pages")
        offset = _check_tiff_directory(data, offset, order, limits)


def _check_tiff_directory(data: bytes, offset: int, order: str, limits: Limits) -> int:
    if offset + 2 > len(data):
        fail("TIFF directory outside the file")
    count = struct.unpack(order + "H", data[offset : offset + 2])[0]
    end = offset + 2 + 12 * count
    if count == 0 or end + 4 > len(data):
        fail("damaged TIFF directory")
    size: dict[int, int] = {}
    for entry in range(offset + 2, end, 12):
        tag, kind, n, value = struct.unpack(order + "HHII", data[entry : entry + 12])
        if tag not in _TIFF_ALLOWED:
            fail(_TIFF_NAMES.get(tag, f"TIFF tag {tag}"))
        if kind not in _TIFF_TYPE_SIZES:
            fail("unknown TIFF value type")
        length = _TIFF_TYPE_SIZES[kind] * n
        if length > 4 and value + length > len(data):
            fail("TIFF value outside the file")
        if tag in (256, 257) and n == 1:
            short = struct.unpack(order + "H", data[entry + 8 : entry + 10])[0]
            size[tag] = short if kind == 3 else value
    _check_pixels(size.get(256, 0), size.get(257, 0), limits)
    return int(struct.unpack(order + "I", data[end : end + 4])[0])


_BMP_HEADERS = frozenset({12, 40, 52, 56, 64, 108, 124})


def check_bmp(data: bytes, limits: Limits) -> None:
    if len(data) < 26 or data[:2] != b"BM":
        fail("not a BMP image")
    declared, reserved, _pixels, header = struct.unpack("<IIII", data[2:18])
    if declared != len(data):
        fail("data after the end of the BMP image")
    if reserved:
        fail("data in reserved BMP fields")
    if header not in _BMP_HEADERS:
        fail("unknown BMP header")
    if header >= 108 and len(data) >= 14 + header:
        colour_space = data[14 + 56 : 14 + 60]
        if colour_space in (b"DEBM", b"KNIL", b"MBED", b"LINK"):
            fail("colour profile in BMP")
        if header == 124 and struct.unpack("<I", data[14 + 116 : 14 + 120])[0]:
            fail("colour profile in BMP")
    if header == 12:
        width, height = struct.unpack("<HH", data[18:22])
    else:
        width, height = struct.unpack("<ii", data[18:26])
    _check_pixels(abs(width), abs(height), limits)
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data), formats=["BMP"]) as image:
            _check_pixels(image.width, image.height, limits)
    except Image.DecompressionBombError as exc:
        raise LimitExceeded("image has too many pixels") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        fail("unreadable BMP image")
