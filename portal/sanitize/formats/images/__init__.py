"""Pictures: rebuild every image from its pixels, so nothing but the picture survives.

Threat: a photo carries where it was taken (GPS), the phone or camera that took it
(make, model, serial numbers), its owner's name, the software that edited it, an
embedded preview that can show what was cropped out, XMP and IPTC captions,
comments and, in PNG, free text chunks. Formats have too many places to hide
data for a deny-list to be trusted, so nothing is copied: the pixels (and, for
animations, frame timings) are decoded and a new file of the same format is
written from them alone, with no EXIF, XMP, IPTC, colour profile, comment or text.
The rotation EXIF asked for is applied to the pixels. Every frame's decoded
size is charged to the picture's and the file's budgets (budget.py) before it
is decoded, so a tiny file cannot claim gigabytes, in one frame or in many;
a single picture is re-encoded from the decoder's own memory, never a copy of it.
A JPEG that holds more pictures than the photo (formats/images/mpo.py) keeps the photo.
"""

from __future__ import annotations

import io
import mmap
import warnings
from typing import Any, BinaryIO

from PIL import Image, ImageCms, JpegImagePlugin, TiffImagePlugin

from ...budget import DEFAULT_COPIES, DecodeBudget, PictureBudget
from ...core import Context
from ...errors import CleaningRefused, LimitExceeded, import_refusal
from ...report import Report
from .mpo import primary_picture

_PIL_FORMAT = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "tiff": "TIFF", "gif": "GIF",
               "bmp": "BMP", "heic": "HEIF"}
# EXIF orientation value → the transposition that shows the picture upright.
_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90,
}
# TIFF tags that describe the pixels; every other tag is metadata.
_TIFF_STRUCTURE = frozenset({
    254, 255, 256, 257, 258, 259, 262, 263, 266, 273, 274, 277, 278, 279, 280, 281, 282, 283,
    284, 296, 317, 318, 319, 320, 322, 323, 324, 325, 338, 339, 340, 341, 347, 530, 531, 532,
})
_LOSSLESS_TIFF = frozenset({"raw", "tiff_lzw", "tiff_deflate", "tiff_adobe_deflate", "packbits"})
_TAG_MAKE, _TAG_MODEL, _TAG_SOFTWARE, _TAG_ARTIST, _TAG_DESCRIPTION = 271, 272, 305, 315, 270
_TAG_ORIENTATION, _TAG_EXIF_IFD, _TAG_GPS_IFD, _TAG_XP_AUTHOR = 274, 0x8769, 0x8825, 0x9C9D
_TAG_XMP, _TAG_IPTC, _TAG_PHOTOSHOP, _TAG_ICC = 700, 33723, 34377, 34675
# Lossy WebP and HEIC do not say how they were compressed; this keeps detail.
_REENCODE_QUALITY = 90


def clean_image(src: BinaryIO, dst: BinaryIO, report: Report, ctx: Context) -> None:
    """Decode the picture in src and write a new one of the same format to dst."""
    fmt = _PIL_FORMAT[ctx.kind]
    if fmt == "HEIF":
        _register_heif()
    data = src.read()
    if fmt == "JPEG":
        data, followers, indexed = primary_picture(data)
        if followers:
            report.remove("secondary-pictures", count=followers)
        elif indexed:
            report.remove("unknown-part", "MPF")
        # Each scan of a progressive JPEG is a pass over the whole picture. Outside
        # segments a marker's bytes can only be a marker (scan data stuffs 0xFF), so
        # this count is never below what the decoder will read.
        if data.count(b"\xff\xda") > ctx.limits.max_jpeg_scans:
            raise LimitExceeded(f"more than {ctx.limits.max_jpeg_scans} JPEG scans")
    picture = (ctx.budget or DecodeBudget(ctx.limits)).picture(fmt)
    # Pillow's own guard stays on as a second line: no frame has more pixels than
    # the cheapest pixel (one byte, in two copies) lets the budget pay for.
    previous_limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = ctx.limits.max_image_bytes // DEFAULT_COPIES
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            frames, timing, source = _decode(data, fmt, report, picture)
    finally:
        Image.MAX_IMAGE_PIXELS = previous_limit
    out = io.BytesIO()
    _encode(frames, timing, source, fmt, data, out)
    dst.write(out.getvalue())
    report.note("images-reencoded")


# libheif, libde265 and x265 do not all survive a failed allocation: under the
# child's address-space limit they crash, or wait forever for a thread that could
# not start. So their threads are bounded, and before each decode or encode the
# address space they need (measured with single-arena malloc: decoding ~10 MiB +
# 8 bytes a pixel, encoding ~25 MiB + 19 bytes a pixel, plus thread stacks) is
# checked to be there, with room to spare; when it is not, the refusal is "limit".
HEIF_THREADS = 2
_HEIF_DECODE_NEED = (48 * 1024 * 1024, 16)  # bytes, plus bytes per pixel
_HEIF_ENCODE_NEED = (64 * 1024 * 1024, 24)
_X265_PARAMS = {"x265:pools": str(HEIF_THREADS), "x265:frame-threads": "1"}


def _register_heif() -> None:
    try:
        import pillow_heif

        pillow_heif.options.DECODE_THREADS = HEIF_THREADS
        # pillow-heif defers its own ImportError (libheif, x265 not loadable) to here
        pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)
    except ImportError as exc:
        raise import_refusal(exc, "HEIC") from exc


def _reserve_for_heif(need: tuple[int, int], pixels: int) -> None:
    """Refuse as "limit" unless the HEIF libraries' address space is free right now."""
    fixed, per_pixel = need
    try:
        # Reserved but never touched (no access, no pages): only the limit is tested.
        probe = mmap.mmap(-1, fixed + per_pixel * pixels,
                          flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, prot=0)
    except (OSError, OverflowError) as exc:
        raise LimitExceeded("memory") from exc
    probe.close()


def _decode(
    data: bytes, fmt: str, report: Report, picture: PictureBudget
) -> tuple[list[Image.Image], dict[str, Any], dict[str, Any]]:
    """The frames rebuilt from pixels, their timing, and what the encoder may reuse.

    Frames are decoded one by one, each charged to `picture` first; the count of
    frames is never asked of the file (a TIFF would walk every page to answer).
    """
    try:
        image = Image.open(io.BytesIO(data), formats=[fmt])
        # Charged before anything else is asked: a PNG decodes its pixels to look
        # for EXIF after them.
        picture.frame(image.width, image.height, image.mode)
        # Later frames are decoded into the same memory, so only a lone frame is
        # used where it lies; each frame of an animation is copied.
        several = getattr(image, "is_animated", None)
        if several is None:  # a plugin that only counts its frames
            several = getattr(image, "n_frames", 1) > 1
        frames: list[Image.Image] = []
        durations: list[int] = []
        exif = image.getexif()
        orientation = _orientation(image, exif, report)
        found = _Found()
        _inventory_first(image, exif, found)
        source: dict[str, Any] = {"info": dict(image.info)}
        if fmt == "JPEG":
            source["qtables"] = getattr(image, "quantization", None)
            source["subsampling"] = JpegImagePlugin.get_sampling(image)
        index = 0
        while True:
            width, height = image.size
            if index:
                picture.frame(width, height, image.mode)
            _inventory_frame(image, found)
            if fmt == "TIFF" and index:
                orientation = _orientation(image, image.getexif(), report)
            if fmt == "HEIF":
                _reserve_for_heif(_HEIF_DECODE_NEED, width * height)
            image.load()
            durations.append(int(image.info.get("duration", 0) or 0))
            frames.append(_transposed(_pixels_only(image, copy=several), orientation))
            if not several:
                break
            index += 1
            try:
                image.seek(index)
            except EOFError:
                break
        image.close()  # a lone frame's memory now belongs to frames[0] alone
    except CleaningRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise picture.refusal() from exc
    except MemoryError:
        raise
    except Exception as exc:  # any decoder failure on hostile input is a refusal
        raise CleaningRefused("malformed", f"{fmt}: {type(exc).__name__}") from exc
    found.report_to(report)
    timing = {"durations": durations, "loop": source["info"].get("loop")}
    return frames, timing, source


def _orientation(image: Image.Image, exif: Image.Exif, report: Report) -> int:
    if image.format == "HEIF":  # pillow-heif rotates while decoding
        turned = image.info.get("original_orientation") not in (None, 1)
        if turned:
            report.remove("orientation-applied")
        return 1
    value = exif.get(_TAG_ORIENTATION, 1)
    if value in _ORIENTATION:
        report.remove("orientation-applied")
        return int(value)
    return 1


class _Found:
    """What one picture carried, each kind named once however many frames repeat it."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], None] = {}

    def remove(self, code: str, detail: str = "") -> None:
        self.items[(code, detail)] = None

    def report_to(self, report: Report) -> None:
        for code, detail in self.items:
            report.remove(code, detail)


def _inventory_first(image: Image.Image, exif: Image.Exif, report: _Found) -> None:
    """Name what the file carried at its start: EXIF, GPS, camera, profiles, text."""
    tiff = image.format == "TIFF"
    tags = {k for k in exif if not (tiff and k in _TIFF_STRUCTURE)}
    gps = exif.get_ifd(_TAG_GPS_IFD) if _TAG_GPS_IFD in exif else {}
    if gps or _TAG_GPS_IFD in exif:
        report.remove("gps")
    camera = " ".join(str(exif.get(t, "")).strip("\x00 ") for t in (_TAG_MAKE, _TAG_MODEL))
    if camera.strip():
        report.remove("camera", camera.strip())
    artist = exif.get(_TAG_ARTIST)
    if artist:
        report.remove("author-name", str(artist).strip("\x00 "))
    if _TAG_XP_AUTHOR in exif:
        report.remove("author-name")
    if exif.get(_TAG_SOFTWARE):
        report.remove("software", str(exif.get(_TAG_SOFTWARE)).strip("\x00 "))
    if exif.get(_TAG_DESCRIPTION):
        report.remove("image-comment")
    if tags - {_TAG_XMP, _TAG_IPTC, _TAG_PHOTOSHOP, _TAG_ICC} or image.info.get("exif"):
        report.remove("exif")
    if tiff and (_TAG_IPTC in exif or _TAG_PHOTOSHOP in exif):
        report.remove("iptc")
    if tiff and _TAG_XMP in exif:
        report.remove("xmp")
    for name, body in getattr(image, "applist", []):
        if name == "APP13":
            report.remove("iptc")
        elif name == "APP2" and body.startswith(b"MPF"):
            report.remove("thumbnail")
        elif name not in ("APP0", "APP1", "APP2", "APP14", "COM"):
            report.remove("unknown-part", name)
    if image.info.get("thumbnails") or image.info.get("depth_images"):
        report.remove("thumbnail")


def _inventory_frame(image: Image.Image, report: _Found) -> None:
    """Name what this frame's own header carried (comments, profiles, PNG text)."""
    info = image.info
    if info.get("xmp") or info.get("XML:com.adobe.xmp"):
        report.remove("xmp")
    if info.get("photoshop"):
        report.remove("iptc")
    if info.get("icc_profile"):
        report.remove("icc-profile")
    if info.get("comment"):
        report.remove("image-comment")
    text = getattr(image, "text", None) if image.format == "PNG" else None
    names = sorted(k for k in (text or {}) if k not in ("XML:com.adobe.xmp",))
    if names:
        report.remove("text-chunks", ", ".join(names))
    if image.format == "TIFF":
        tags = getattr(image, "tag_v2", {})
        extra = {k for k in tags if k not in _TIFF_STRUCTURE}
        if extra - {_TAG_ICC, _TAG_XMP, _TAG_IPTC, _TAG_PHOTOSHOP}:
            report.remove("exif")
        if tags.get(_TAG_ARTIST):
            report.remove("author-name", str(tags.get(_TAG_ARTIST)).strip("\x00 "))


def _pixels_only(frame: Image.Image, copy: bool) -> Image.Image:
    """A plain image of this frame's pixels (and palette) with an empty info: the
    decoder's own memory, or with `copy` a copy of it."""
    clean = frame._new(frame.im.copy() if copy else frame.im)
    clean.info = {}
    transparency = frame.info.get("transparency")
    if transparency is not None:
        clean.info["transparency"] = transparency
    icc = frame.info.get("icc_profile")
    if icc and clean.mode in ("RGB", "RGBA"):
        clean = _to_srgb(clean, icc)
    return clean


def _to_srgb(image: Image.Image, icc: bytes) -> Image.Image:
    """Convert pixels described by a colour profile to sRGB, so dropping it keeps colours."""
    kept = dict(image.info)
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        # Converted where it lies: no second copy of the picture.
        ImageCms.profileToProfile(image, profile, ImageCms.createProfile("sRGB"),
                                  outputMode=image.mode, inPlace=True)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        pass  # an unusable profile: the pixels are kept as they are
    image.info = kept  # the conversion names its sRGB profile there; not passed on
    return image


def _transposed(image: Image.Image, orientation: int) -> Image.Image:
    if orientation not in _ORIENTATION:
        return image
    turned = image.transpose(_ORIENTATION[orientation])
    turned.info = dict(image.info)
    return turned


def _encode(
    frames: list[Image.Image], timing: dict[str, Any], source: dict[str, Any], fmt: str,
    original: bytes, out: io.BytesIO,
) -> None:
    first, rest = frames[0], frames[1:]
    params: dict[str, Any] = {}
    transparency = first.info.get("transparency")
    if transparency is not None and fmt in ("PNG", "GIF"):
        params["transparency"] = transparency
    if fmt == "JPEG":
        params.update(_jpeg_params(first, source))
    elif fmt == "WEBP":
        lossless = _webp_is_lossless(original)
        params.update(lossless=lossless, exact=lossless, quality=100 if lossless else
                      _REENCODE_QUALITY)
    elif fmt == "TIFF":
        compression = source["info"].get("compression", "raw")
        if compression in ("group3", "group4") and all(f.mode == "1" for f in frames):
            params["compression"] = compression
        else:
            params["compression"] = compression if compression in _LOSSLESS_TIFF else "tiff_lzw"
        params["tiffinfo"] = TiffImagePlugin.ImageFileDirectory_v2()
    elif fmt == "HEIF":
        params.update(quality=_REENCODE_QUALITY, enc_params=_X265_PARAMS)
        _reserve_for_heif(_HEIF_ENCODE_NEED, sum(f.width * f.height for f in frames))
    if rest:
        params.update(save_all=True, append_images=rest)
        if fmt in ("GIF", "PNG", "WEBP"):
            params["duration"] = timing["durations"]
            if timing["loop"] is not None:
                params["loop"] = timing["loop"]
    try:
        first.save(out, format=fmt, **params)
    except (OSError, ValueError) as exc:
        raise CleaningRefused("malformed", f"{fmt} could not be written: {exc}") from exc


def _jpeg_params(image: Image.Image, source: dict[str, Any]) -> dict[str, Any]:
    """Reuse the original quantization tables and subsampling: same quality, same size."""
    params: dict[str, Any] = {"progressive": bool(source["info"].get("progressive"))}
    qtables = source.get("qtables")
    if qtables:
        params["qtables"] = qtables
        if image.mode == "RGB" and source.get("subsampling", -1) != -1:
            params["subsampling"] = source["subsampling"]
    else:
        params["quality"] = _REENCODE_QUALITY
    return params


def _webp_is_lossless(data: bytes) -> bool:
    """True when every frame of the WebP file is VP8L (lossless) coded."""
    kinds = set()
    pos = 12
    while pos + 8 <= len(data):
        kind = data[pos : pos + 4]
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        if kind == b"ANMF":
            inner = pos + 8 + 16
            while inner + 8 <= min(pos + 8 + size, len(data)):
                sub = data[inner : inner + 4]
                kinds.add(sub)
                inner += 8 + int.from_bytes(data[inner + 4 : inner + 8], "little")
                inner += inner & 1
        else:
            kinds.add(kind)
        pos += 8 + size + (size & 1)
    return b"VP8L" in kinds and b"VP8 " not in kinds
