"""The verifier refuses an image or recording while any tag, chunk or profile remains."""

from __future__ import annotations

import io
import json
import shutil
import struct
import zlib
from collections.abc import Callable
from typing import Any

import mutagen
import pytest
from PIL import Image

from portal.sanitize.errors import LimitExceeded, VerificationFailed
from portal.sanitize.limits import Limits
from portal.sanitize.verify import verify
from tests.sanitize.corpus import CORPUS

from . import verify_samples as samples
from .scan import exiftool_view

XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
EXIF = Image.Exif()
EXIF[0x013B] = "王小明"  # Artist
EXIF[0x0110] = "Pixel 7"  # Model


def image(fmt: str, mode: str = "RGB", **save: object) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (8, 8), (90, 40, 200) if mode == "RGB" else 1).save(buffer, fmt, **save)
    return buffer.getvalue()


def animated(fmt: str, **save: object) -> bytes:
    frames = [Image.new("RGB", (8, 8), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, fmt, save_all=True, append_images=frames[1:], loop=0, duration=100,
                   **save)
    return buffer.getvalue()


def heif(**save: object) -> bytes:
    import pillow_heif

    buffer = io.BytesIO()
    pillow_heif.from_pillow(Image.new("RGB", (8, 8), (5, 5, 5))).save(buffer, quality=50, **save)
    return buffer.getvalue()


CLEAN: dict[str, Callable[[], bytes]] = {
    "jpeg": lambda: image("JPEG"), "jpeg grey": lambda: image("JPEG", "L"),
    "jpeg cmyk (Adobe segment)": lambda: image("JPEG", "CMYK"),
    "jpeg progressive": lambda: image("JPEG", progressive=True),
    "png": lambda: image("PNG"), "png palette": lambda: image("PNG", "P"),
    "png animated": lambda: animated("PNG"),
    "gif": lambda: image("GIF"), "gif animated": lambda: animated("GIF"),
    "webp": lambda: image("WEBP"), "webp lossless": lambda: image("WEBP", lossless=True),
    "webp animated": lambda: animated("WEBP"),
    "tiff": lambda: image("TIFF"), "tiff lzw": lambda: image("TIFF", compression="tiff_lzw"),
    "tiff multipage": lambda: animated("TIFF"), "bmp": lambda: image("BMP"),
    "heic": heif, "heic as jpeg": lambda: image("JPEG"), "heic as png": lambda: image("PNG"),
    "mp3": samples.mp3_frames, "flac": samples.flac_bytes, "ogg": samples.ogg_opus_bytes,
    "m4a": samples.m4a_bytes,
}


@pytest.mark.parametrize("case", sorted(CLEAN))
def test_clean_media_passes(case: str) -> None:
    verify(case.split()[0], CLEAN[case]())


def _segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


def _after_soi(jpeg: bytes, segment: bytes) -> bytes:
    return jpeg[:2] + segment + jpeg[2:]


def _jfif_thumbnail(jpeg: bytes) -> bytes:
    app0 = _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x01\x01" + b"\x80\x80\x80")
    length = struct.unpack(">H", jpeg[4:6])[0]
    return jpeg[:2] + app0 + jpeg[4 + length :]


def png_chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(
        ">I", zlib.crc32(ctype + body))


def _png_insert(png: bytes, chunk: bytes) -> bytes:
    at = png.index(b"IDAT") - 4
    return png[:at] + chunk + png[at:]


def _gif_before_trailer(gif: bytes, block: bytes) -> bytes:
    return gif[:-1] + block + b";"


def _tiff_loop(tiff: bytes) -> bytes:
    first = struct.unpack("<I", tiff[4:8])[0]
    count = struct.unpack("<H", tiff[first : first + 2])[0]
    at = first + 2 + 12 * count
    return tiff[:at] + struct.pack("<I", first) + tiff[at + 4 :]


def _bmp_v5_with_profile() -> bytes:
    """A BMP with a V5 header whose colour space is an embedded ICC profile."""
    bmp = image("BMP")
    pixels, profile = bmp[54:], b"ICC profile naming a calibrated scanner"
    header = bytearray(124)
    header[:40] = bmp[14:54]
    header[:4] = struct.pack("<I", 124)
    header[56:60] = struct.pack("<I", 0x4D424544)  # 'MBED'
    header[112:120] = struct.pack("<II", 124 + len(pixels), len(profile))
    size = 14 + 124 + len(pixels) + len(profile)
    return b"BM" + struct.pack("<III", size, 0, 14 + 124) + bytes(header) + pixels + profile


DENIED: dict[str, tuple[str, Callable[[], bytes], str]] = {
    "jpeg exif": ("jpeg", lambda: image("JPEG", exif=EXIF), "Exif"),
    "jpeg xmp": ("jpeg", lambda: image("JPEG", xmp=XMP), "Exif or XMP"),
    "jpeg icc": ("jpeg", lambda: image("JPEG", icc_profile=b"\0" * 128), "ICC"),
    "jpeg comment": ("jpeg", lambda: image("JPEG", comment=b"Shenzhen"), "comment"),
    "jpeg iptc": ("jpeg", lambda: _after_soi(image("JPEG"), _segment(0xED, b"Photoshop 3.0\0")),
                  "IPTC"),
    "jpeg app5": ("jpeg", lambda: _after_soi(image("JPEG"), _segment(0xE5, b"Ducky")), "APP5"),
    "jpeg jfif thumbnail": ("jpeg", lambda: _jfif_thumbnail(image("JPEG")), "thumbnail"),
    "jpeg trailing data": ("jpeg", lambda: image("JPEG") + b"second image", "after the end"),
    "png text": ("png", lambda: _png_insert(image("PNG"), png_chunk(b"tEXt", b"Author\0Wang")),
                 "PNG text"),
    "png compressed text": ("png", lambda: _png_insert(
        image("PNG"), png_chunk(b"zTXt", b"Author\0\0" + zlib.compress(b"Wang"))), "PNG text"),
    "png exif": ("png", lambda: image("PNG", exif=EXIF), "Exif"),
    "png icc": ("png", lambda: image("PNG", icc_profile=b"\0" * 128), "ICC"),
    "png time": ("png", lambda: _png_insert(image("PNG"), png_chunk(b"tIME", bytes(7))),
                 "timestamp"),
    "png pHYs": ("png", lambda: image("PNG", dpi=(300, 300)), "pHYs"),
    "png private chunk": ("png", lambda: _png_insert(image("PNG"), png_chunk(b"prVt", b"x")),
                          "prVt"),
    "png bad checksum": ("png", lambda: image("PNG")[:-1] + b"\0", "checksum"),
    "png after IEND": ("png", lambda: image("PNG") + b"hidden", "after the end"),
    "gif comment": ("gif", lambda: image("GIF", comment=b"by Wang"), "comment"),
    "gif xmp": ("gif", lambda: _gif_before_trailer(
        image("GIF"), b"!\xff\x0bXMP DataXMP" + bytes([len(XMP[:200])]) + XMP[:200] + b"\0"),
        "XMP"),
    "gif trailing data": ("gif", lambda: image("GIF") + b"hidden", "after the end"),
    "webp exif": ("webp", lambda: image("WEBP", exif=EXIF), "metadata|Exif"),
    "webp icc": ("webp", lambda: image("WEBP", icc_profile=b"\0" * 128), "metadata|ICC"),
    "webp xmp": ("webp", lambda: image("WEBP", xmp=XMP), "metadata|XMP"),
    "webp trailing data": ("webp", lambda: image("WEBP") + b"hidden", "after the end"),
    "tiff artist": ("tiff", lambda: image("TIFF", tiffinfo={315: "王小明"}), "artist"),
    "tiff software": ("tiff", lambda: image("TIFF", tiffinfo={305: "Scanner 2.1"}), "software"),
    "tiff date": ("tiff", lambda: image("TIFF", tiffinfo={306: "2024:03:01 09:31:00"}), "date"),
    "tiff description": ("tiff", lambda: image("TIFF", tiffinfo={270: "x"}), "description"),
    "tiff exif": ("tiff", lambda: image("TIFF", exif=EXIF), "artist|model"),
    "tiff icc": ("tiff", lambda: image("TIFF", icc_profile=b"\0" * 128), "ICC"),
    "tiff xmp": ("tiff", lambda: image("TIFF", tiffinfo={700: XMP}), "XMP"),
    "tiff directory loop": ("tiff", lambda: _tiff_loop(image("TIFF")), "loop"),
    "bmp embedded profile": ("bmp", _bmp_v5_with_profile, "colour profile"),
    "bmp trailing data": ("bmp", lambda: image("BMP") + b"hidden", "after the end"),
    "heic exif": ("heic", lambda: heif(exif=EXIF.tobytes()), "Exif"),
    "heic xmp": ("heic", lambda: heif(xmp=XMP), "XMP"),
    "heic icc": ("heic", lambda: heif(icc_profile=b"\0" * 128), "ICC"),
    "heic as dirty jpeg": ("heic", lambda: image("JPEG", exif=EXIF), "Exif"),
    "heic as gif": ("heic", lambda: image("GIF"), "not HEIF"),
}


@pytest.mark.parametrize("case", sorted(DENIED))
def test_image_with_metadata_is_refused(case: str) -> None:
    kind, build, expected = DENIED[case]
    with pytest.raises(VerificationFailed, match=expected):
        verify(kind, build())


def test_image_too_large_once_decoded_is_refused() -> None:
    for kind in ("jpeg", "png", "gif", "webp", "tiff", "bmp"):
        with pytest.raises(LimitExceeded):
            verify(kind, image(kind.upper()), Limits(max_image_bytes=10))


def retag(data: bytes, change: Callable[[Any], None]) -> bytes:
    """Load with mutagen from memory, change the tags, save back into memory."""
    buffer = io.BytesIO(data)
    audio = mutagen.File(buffer)
    change(audio)
    buffer.seek(0)
    audio.save(buffer)
    return buffer.getvalue()


def _id3(data: bytes) -> bytes:
    from mutagen.id3 import ID3, TPE1

    buffer = io.BytesIO(data)
    tags = ID3()
    tags.add(TPE1(encoding=3, text=["王小明"]))
    tags.save(buffer)
    return buffer.getvalue()


def _ape(data: bytes) -> bytes:
    from mutagen.apev2 import APEv2

    buffer = io.BytesIO(data)
    tags = APEv2()
    tags["Artist"] = "Wang"
    tags.save(buffer)
    return buffer.getvalue()


def _flac_picture(audio: Any) -> None:
    from mutagen.flac import Picture

    picture = Picture()
    picture.data = samples.jpeg_bytes()
    picture.mime = "image/jpeg"
    audio.add_picture(picture)


def _flac_block(block_type: int, body: bytes) -> bytes:
    data = samples.flac_bytes()
    first = bytes([data[4] & 0x7F]) + data[5:8]
    streaminfo = first + data[8:42]
    block = bytes([0x80 | block_type]) + len(body).to_bytes(3, "big") + body
    return b"fLaC" + streaminfo + block + data[42:]


def _vendor(vendor: bytes) -> bytes:
    """A Vorbis comment block with this vendor string and no comments."""
    return struct.pack("<I", len(vendor)) + vendor + bytes(4)


def _set(key: str, value: object) -> Callable[[Any], None]:
    return lambda audio: audio.__setitem__(key, value)


def _udta(name: bytes) -> bytes:
    box = struct.pack(">I", 8 + 8 + 4) + b"udta" + struct.pack(">I", 12) + name + b"Wang"
    return samples.m4a_bytes(udta=box)


def _two_ogg_streams() -> bytes:
    """Two logical streams multiplexed in one recording (a chain of them is allowed)."""
    first = samples.ogg_opus_bytes()
    second = bytearray(samples.ogg_opus_bytes())
    position = 0
    while position < len(second):  # give the copy another serial number, fix its checksums
        second[position + 14 : position + 18] = struct.pack("<I", 99)
        segments = second[position + 26]
        end = position + 27 + segments + sum(second[position + 27 : position + 27 + segments])
        page = bytearray(second[position:end])
        page[22:26] = bytes(4)
        from portal.sanitize.verify.sound import _ogg_crc

        second[position + 22 : position + 26] = struct.pack("<I", _ogg_crc(bytes(page)))
        position = end
    first_head, second_head = _first_page_end(first), _first_page_end(bytes(second))
    return (first[:first_head] + bytes(second[:second_head]) + first[first_head:]
            + bytes(second[second_head:]))


def _first_page_end(data: bytes) -> int:
    segments = data[26]
    return 27 + segments + sum(data[27 : 27 + segments])


AUDIO_DENIED: dict[str, tuple[str, Callable[[], bytes], str]] = {
    "mp3 id3v2": ("mp3", lambda: _id3(samples.mp3_frames()), "ID3"),
    "mp3 id3v1": ("mp3", lambda: samples.mp3_frames() + b"TAG" + bytes(125), "ID3v1"),
    # A last frame cut short swallows the start of the tag: its title and artist.
    "mp3 id3v1 start in the last frame": ("mp3", lambda: samples.mp3_frames() + b"TAG"
                                          + b"Wang Xiaoming".ljust(30, b"\0"), "ID3v1"),
    "mp3 id3v1 extended": ("mp3", lambda: samples.mp3_frames() + b"TAG+" + bytes(60), "ID3v1"),
    "mp3 ape": ("mp3", lambda: _ape(samples.mp3_frames()), "APE"),
    "flac comment": ("flac", lambda: retag(samples.flac_bytes(), _set("artist", "王")),
                     "Vorbis comments"),
    "flac picture": ("flac", lambda: retag(samples.flac_bytes(), _flac_picture), "picture"),
    "flac application": ("flac", lambda: _flac_block(2, b"abcdXYZ"), "application"),
    "flac cuesheet": ("flac", lambda: _flac_block(5, bytes(40)), "cue sheet"),
    "flac dirty padding": ("flac", lambda: _flac_block(1, b"old tags"), "padding"),
    "flac vendor with path": ("flac", lambda: _flac_block(
        4, _vendor(b"C:\\Users\\wang\\enc.exe")), "local file path"),
    "ogg comment": ("ogg", lambda: samples.ogg_opus_bytes([("ARTIST", "王小明")]), "comments"),
    "ogg two streams": ("ogg", _two_ogg_streams, "more than one"),
    "ogg bad checksum": ("ogg", lambda: samples.ogg_opus_bytes()[:-1] + b"\0", "checksum"),
    "m4a recording date": ("m4a", lambda: samples.m4a_bytes(created=3_791_000_000), "date"),
    "m4a language": ("m4a", lambda: samples.m4a_bytes(language=0x15C7), "language"),
    "m4a user data": ("m4a", lambda: _udta(b"\xa9nam"), "user data"),
    "m4a itunes tags": ("m4a", lambda: retag(samples.m4a_bytes(), _set("\xa9ART", ["Wang"])),
                        "tags or cover art|user data"),
    "m4a uuid box": ("m4a", lambda: samples.m4a_bytes(
        extra_top=struct.pack(">I", 24) + b"uuid" + bytes(16)), "uuid"),
    "m4a dirty padding": ("m4a", lambda: samples.m4a_bytes(
        extra_top=struct.pack(">I", 12) + b"free" + b"Wang"), "padding"),
}


@pytest.mark.parametrize("case", sorted(AUDIO_DENIED))
def test_recording_with_tags_is_refused(case: str) -> None:
    kind, build, expected = AUDIO_DENIED[case]
    with pytest.raises(VerificationFailed, match=expected):
        verify(kind, build())


def test_real_encoder_output_passes_once_its_tags_are_gone() -> None:
    """ffmpeg's Ogg output carries an "encoder" comment; stripped with mutagen, it passes."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    import subprocess

    result = subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=0.2",
         "-map_metadata", "-1", "-fflags", "+bitexact", "-ac", "1", "-ar", "48000",
         "-c:a", "libopus", "-f", "ogg", "-"], capture_output=True, check=True, timeout=60)
    with pytest.raises(VerificationFailed, match="comments"):
        verify("ogg", result.stdout)
    verify("ogg", retag(result.stdout, lambda audio: audio.tags.clear()))


EXIFTOOL_IDENTIFYING = ("Author", "Creator", "LastModifiedBy", "Software", "Make", "Model",
                        "Artist", "Copyright", "GPS", "Comment", "Producer", "Company",
                        "Encoder", "XMPToolkit", "ICC_Profile", "Thumbnail")


@pytest.mark.parametrize("case", ["jpeg", "png", "gif", "webp", "tiff", "heic", "mp3", "flac",
                                  "ogg", "m4a"])
def test_exiftool_finds_nothing_identifying_in_clean_samples(case: str) -> None:
    if shutil.which("exiftool") is None:
        pytest.skip("exiftool is not installed")
    tags = json.loads(exiftool_view(CLEAN[case]()))[0]
    found = [name for name, value in tags.items()
             if any(word in name for word in EXIFTOOL_IDENTIFYING) and value not in (False, "")]
    assert found == []


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the mat2 corpus (../shared/corpus) is absent")
@pytest.mark.parametrize("name", ["dirty.jpg", "dirty.png", "dirty.gif", "dirty.webp",
                                  "dirty.tiff", "dirty.heic", "dirty.mp3", "dirty.flac",
                                  "dirty.ogg", "dirty.pdf", "dirty.docx", "dirty.odt",
                                  "dirty.odg", "revision.docx", "comment.docx",
                                  "office_revision_session_ids.docx", "revision.odt",
                                  "dangling_rels.xlsx", "control_chars.jpg"])
def test_every_dirty_corpus_file_is_refused(name: str) -> None:
    kinds = {"jpg": "jpeg", "tiff": "tiff"}
    extension = name.rsplit(".", 1)[1]
    with pytest.raises(VerificationFailed):
        verify(kinds.get(extension, extension), (CORPUS / name).read_bytes())


def test_flac_comment_block_with_only_a_vendor_string_passes() -> None:
    verify("flac", _flac_block(4, _vendor(b"reference libFLAC 1.4.3 20230623")))


def test_exif_left_in_dead_bytes_is_found() -> None:
    """Tags dropped from the box tree but left in the media data are still refused."""
    exif_block = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08" + bytes(8)
    data = samples.m4a_bytes()
    media = data.rindex(b"mdat") + 4
    dirty = data[:media] + exif_block + data[media + len(exif_block) :]
    with pytest.raises(VerificationFailed, match="Exif, XMP or IPTC"):
        verify("m4a", dirty)
