"""A phone photo that holds more than one picture is cleaned, not refused as damaged.

"Ultra HDR" photos append a gain-map JPEG indexed by an MPF segment and described
in XMP (hdrgm); other phones append a depth map or a motion clip. Each extra
picture carries its own EXIF and XMP. Refused, such a photo would be sent some
other way with its GPS; cleaned, it keeps the photo (its pixels, its size) and
loses the pictures behind it, which the report counts. The verifier refuses a
JPEG that still has an MPF index or anything after its end.
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess

import pytest
from PIL import Image, ImageChops, ImageStat

from portal.sanitize import clean_bytes
from portal.sanitize.errors import VerificationFailed
from portal.sanitize.messages import REMOVED
from portal.sanitize.verify import verify

from .dirty_media import dirty_exif, gradient, insert_jpeg_segment, tokens_for
from .scan import find_tokens

HDRGM = "http://ns.adobe.com/hdr-gain-map/1.0/"


def _xmp(body: str) -> bytes:
    return (b"http://ns.adobe.com/xap/1.0/\x00" + (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
        f'22-rdf-syntax-ns#"><rdf:Description {body}/></rdf:RDF></x:xmpmeta>').encode())


def _mpf(primary_size: int, secondary_size: int, secondary_offset: int) -> bytes:
    """An MPF index (CIPA DC-007) of two pictures, little-endian, offsets from its header."""
    entries_at = 8 + 2 + 3 * 12 + 4
    ifd = struct.pack("<H", 3) + struct.pack("<HHI4s", 0xB000, 7, 4, b"0100") + struct.pack(
        "<HHII", 0xB001, 4, 1, 2) + struct.pack("<HHII", 0xB002, 7, 32, entries_at) + bytes(4)
    entries = struct.pack("<IIIHH", 0x20030000, primary_size, 0, 0, 0) + struct.pack(
        "<IIIHH", 0, secondary_size, secondary_offset, 0, 0)
    return b"MPF\x00" + b"II*\x00" + struct.pack("<I", 8) + ifd + entries


def ultra_hdr(tokens: dict[str, str]) -> bytes:
    """A primary photo with EXIF (GPS, camera), XMP hdrgm and MPF, then a gain map JPEG
    with its own XMP and EXIF: the layout Android's Ultra HDR writer uses."""
    out = io.BytesIO()
    gradient((64, 48)).save(out, "JPEG", quality=90, exif=dirty_exif(tokens))
    primary = insert_jpeg_segment(out.getvalue(), 0xE1, _xmp(
        f'xmlns:hdrgm="{HDRGM}" hdrgm:Version="1.0" xmlns:dc="http://purl.org/dc/elements/1.1/"'
        f' dc:creator="{tokens["xmp"]}"'))
    gain = io.BytesIO()
    gain_exif = Image.Exif()
    gain_exif[0x0110] = tokens["gain_model"]
    Image.new("L", (32, 24), 90).save(gain, "JPEG", exif=gain_exif)
    gain_map = insert_jpeg_segment(gain.getvalue(), 0xE1, _xmp(
        f'xmlns:hdrgm="{HDRGM}" hdrgm:Version="1.0" hdrgm:GainMapMax="2.3" '
        f'hdrgm:BaseRenditionIsHDR="False" xmlns:tiff="http://ns.adobe.com/tiff/1.0/" '
        f'tiff:Model="{tokens["gain_xmp"]}"'))
    index_size = len(_mpf(0, 0, 0)) + 4  # the APP2 segment, marker and length included
    header_at = 2 + 4 + 4  # MPF's TIFF header: after SOI, the APP2 marker, length, "MPF\0"
    primary_size = len(primary) + index_size
    index = _mpf(primary_size, len(gain_map), primary_size - header_at)
    return insert_jpeg_segment(primary, 0xE2, index) + gain_map


def stereo_mpo(tokens: dict[str, str]) -> bytes:
    """Two views of one scene, as 3D cameras write them (Pillow reads it as MPO)."""
    out = io.BytesIO()
    right = Image.new("RGB", (64, 48), (10, 200, 10))
    gradient((64, 48)).save(out, "MPO", save_all=True, append_images=[right],
                            exif=dirty_exif(tokens))
    return out.getvalue()


TOKENS = tokens_for("MPO", "artist", "make", "model", "software", "gps", "xmp", "gain_model",
                    "gain_xmp")
SAMPLES = {"ultra-hdr": ultra_hdr, "stereo": stereo_mpo}


def test_the_samples_are_multi_picture_files() -> None:
    assert Image.open(io.BytesIO(stereo_mpo(TOKENS))).format == "MPO"
    if shutil.which("exiftool") is None:
        pytest.skip("exiftool is not installed")
    data = ultra_hdr(TOKENS)
    view = subprocess.run(["exiftool", "-G1", "-a", "-"], input=data, capture_output=True,
                          check=True, timeout=60).stdout.decode()
    assert "Number Of Images                : 2" in view and "[XMP-hdrgm]" in view
    assert len(find_tokens(data, list(TOKENS.values()))) == len(TOKENS)


@pytest.mark.parametrize("sample", SAMPLES)
def test_a_multi_picture_photo_keeps_the_photo_and_loses_what_is_behind_it(sample: str) -> None:
    data = SAMPLES[sample](TOKENS)
    cleaned, report = clean_bytes(data, name_hint="PXL_20250214_182205.jpg")
    assert report.kind == "jpeg"
    assert find_tokens(cleaned, list(TOKENS.values())) == []
    removed = {f.code: f for f in report.removed}
    assert removed["secondary-pictures"].count == 1
    assert {"gps", "camera"} <= set(removed)
    after = Image.open(io.BytesIO(cleaned))
    assert after.format == "JPEG" and after.size == (64, 48)
    before = Image.open(io.BytesIO(data)).convert("RGB")
    difference = ImageStat.Stat(ImageChops.difference(before, after.convert("RGB")))
    assert max(difference.mean) < 4  # the same picture, re-encoded at the same quality
    assert b"MPF\x00" not in cleaned and cleaned.count(b"\xff\xd8\xff") == 1
    assert "{detail}" not in REMOVED["secondary-pictures"].editors


def test_a_photo_followed_by_a_motion_clip_loses_the_clip() -> None:
    out = io.BytesIO()
    gradient().save(out, "JPEG")
    clip = struct.pack(">I", 24) + b"ftypmp42" + bytes(12) + b"\x00\x00\x00\x10moov" + b"GPS" * 50
    cleaned, report = clean_bytes(out.getvalue() + clip, name_hint="MVIMG_1.jpg")
    assert {f.code: f.count for f in report.removed}.get("secondary-pictures") == 1
    assert b"ftyp" not in cleaned


@pytest.mark.parametrize("case,expected", [
    ("index", "multi-picture index"),
    ("second picture", "second picture"),
])
def test_verifier_refuses_an_index_or_a_picture_left_behind(case: str, expected: str) -> None:
    out = io.BytesIO()
    gradient().save(out, "JPEG")
    plain = out.getvalue()
    dirty = (insert_jpeg_segment(plain, 0xE2, _mpf(len(plain), 0, 0)) if case == "index"
             else plain + plain)
    with pytest.raises(VerificationFailed, match=expected):
        verify("jpeg", dirty)
