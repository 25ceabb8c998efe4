"""Picture cleaning: no location, device, name, profile or note survives; the picture does,
upright; bombs and broken files are refused before they cost memory."""

from __future__ import annotations

import io
import time
from collections.abc import Callable

import pytest
from PIL import Image, ImageChops, ImageOps, ImageSequence

from portal.sanitize import CleaningRefused, LimitExceeded, Limits, clean_bytes
from tests.sanitize import dirty_media
from tests.sanitize.scan import find_tokens

DIRTY = {
    "jpeg": (dirty_media.dirty_jpeg, "photo.jpg", {"gps", "camera", "author-name", "software",
                                                  "exif", "xmp", "iptc", "icc-profile",
                                                  "image-comment"}),
    "png": (dirty_media.dirty_png, "scan.png", {"gps", "camera", "exif", "icc-profile",
                                               "text-chunks"}),
    "webp": (dirty_media.dirty_webp, "photo.webp", {"gps", "camera", "exif", "xmp",
                                                   "icc-profile"}),
    "tiff": (dirty_media.dirty_tiff, "scan.tiff", {"camera", "author-name", "software",
                                                  "image-comment"}),
    "gif": (dirty_media.dirty_gif, "moving.gif", {"image-comment"}),
}


def frames_of(data: bytes) -> list[Image.Image]:
    image = Image.open(io.BytesIO(data))
    return [frame.convert("RGBA") for frame in ImageSequence.Iterator(image)]


def codes(report: object) -> set[str]:
    return {finding.code for finding in report.removed}  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", sorted(DIRTY))
def test_no_planted_token_survives_and_the_picture_does(kind: str) -> None:
    build, name, expected = DIRTY[kind]
    dirty, tokens = build()
    assert len(find_tokens(dirty, list(tokens.values()))) == len(tokens)
    cleaned, report = clean_bytes(dirty, name_hint=name)
    assert find_tokens(cleaned, list(tokens.values())) == []
    assert expected <= codes(report)
    assert report.kind == kind
    assert any(note.code == "images-reencoded" for note in report.notes)
    before, after = Image.open(io.BytesIO(dirty)), Image.open(io.BytesIO(cleaned))
    assert after.format == before.format
    assert after.size == before.size
    assert getattr(after, "n_frames", 1) == getattr(before, "n_frames", 1)


@pytest.mark.parametrize("kind", ["png", "gif", "tiff"])
def test_lossless_formats_keep_every_pixel(kind: str) -> None:
    build, name, _ = DIRTY[kind]
    dirty, _ = build()
    cleaned, _ = clean_bytes(dirty, name_hint=name)
    for before, after in zip(frames_of(dirty), frames_of(cleaned), strict=True):
        assert before.size == after.size
        assert ImageChops.difference(before, after).getbbox() is None


def test_jpeg_keeps_its_quantization_tables_so_quality_is_unchanged() -> None:
    dirty, _ = dirty_media.dirty_jpeg(size=(320, 240))
    cleaned, _ = clean_bytes(dirty, name_hint="photo.jpg")
    before, after = Image.open(io.BytesIO(dirty)), Image.open(io.BytesIO(cleaned))
    assert after.quantization == before.quantization  # type: ignore[attr-defined]
    assert [name for name, _ in after.applist] == ["APP0"]  # type: ignore[attr-defined]
    extrema = ImageChops.difference(before.convert("RGB"), after.convert("RGB")).getextrema()
    assert max(high for _, high in extrema) <= 8  # type: ignore[misc,union-attr]


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_rotation_is_applied_to_the_pixels(orientation: int) -> None:
    dirty, _ = dirty_media.dirty_png(orientation=orientation)
    cleaned, report = clean_bytes(dirty, name_hint="photo.png")
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(dirty)))
    assert upright is not None
    result = Image.open(io.BytesIO(cleaned))
    assert result.size == upright.size
    assert ImageChops.difference(upright.convert("RGB"), result.convert("RGB")).getbbox() is None
    assert ("orientation-applied" in codes(report)) == (orientation != 1)
    assert 0x0112 not in result.getexif()


def test_rotated_jpeg_comes_out_upright() -> None:
    dirty, _ = dirty_media.dirty_jpeg(orientation=6, size=(64, 32))
    cleaned, report = clean_bytes(dirty, name_hint="photo.jpg")
    assert Image.open(io.BytesIO(cleaned)).size == (32, 64)
    assert "orientation-applied" in codes(report)


def test_animation_keeps_frames_timings_and_looping() -> None:
    dirty, _ = dirty_media.dirty_gif()
    cleaned, _ = clean_bytes(dirty, name_hint="moving.gif")
    image = Image.open(io.BytesIO(cleaned))
    assert image.info.get("loop") == 0
    assert [f.info["duration"] for f in ImageSequence.Iterator(image)] == [100, 200, 300]
    assert "comment" not in image.info


def test_transparent_palette_png_keeps_its_transparency() -> None:
    image = Image.new("P", (8, 8), 1)
    image.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    image.paste(0, (0, 0, 4, 4))
    dirty = io.BytesIO()
    image.save(dirty, "PNG", transparency=0)
    cleaned, _ = clean_bytes(dirty.getvalue(), name_hint="icon.png")
    after = Image.open(io.BytesIO(cleaned))
    assert after.mode == "P" and after.info.get("transparency") == 0
    assert after.convert("RGBA").getpixel((0, 0)) == (0, 0, 0, 0)


def test_bmp_is_rebuilt() -> None:
    dirty = io.BytesIO()
    dirty_media.gradient().save(dirty, "BMP")
    cleaned, report = clean_bytes(dirty.getvalue(), name_hint="old.bmp")
    assert report.kind == "bmp"
    assert ImageChops.difference(Image.open(dirty).convert("RGB"),
                                 Image.open(io.BytesIO(cleaned)).convert("RGB")).getbbox() is None


def test_heic_is_cleaned() -> None:
    # pillow-heif is a core dependency: a missing one is a failure, never a skip.
    dirty, tokens = dirty_media.dirty_heic()
    cleaned, report = clean_bytes(dirty, name_hint="IMG_0001.HEIC")
    assert find_tokens(cleaned, list(tokens.values())) == []
    assert {"gps", "camera", "exif"} <= codes(report)
    assert Image.open(io.BytesIO(cleaned)).size == (64, 48)


def test_decompression_bomb_is_refused_before_decoding() -> None:
    started = time.monotonic()
    with pytest.raises(LimitExceeded):
        clean_bytes(dirty_media.bomb_png(), name_hint="tiny.png")
    assert time.monotonic() - started < 2


def test_decoded_size_limit_counts_every_frame_of_an_animation() -> None:
    dirty, _ = dirty_media.dirty_gif()  # three 30 × 20 frames: 1,800 pixels
    with pytest.raises(LimitExceeded):
        clean_bytes(dirty, name_hint="moving.gif", limits=Limits(max_image_bytes=1800))


@pytest.mark.parametrize("build,name", [(dirty_media.dirty_jpeg, "cut.jpg"),
                                        (dirty_media.dirty_png, "cut.png"),
                                        (dirty_media.dirty_webp, "cut.webp")])
def test_truncated_picture_is_refused_as_malformed(
    build: Callable[[], tuple[bytes, dict[str, str]]], name: str
) -> None:
    dirty, _ = build()
    with pytest.raises(CleaningRefused) as refused:
        clean_bytes(dirty[: len(dirty) * 2 // 3], name_hint=name)
    assert refused.value.code == "malformed"


@pytest.mark.parametrize("name", ["dirty.jpg", "control_chars.jpg", "dirty.png", "dirty.tiff",
                                  "dirty.gif", "dirty.bmp", "dirty.webp", "dirty.heic"])
def test_mat2_pictures_lose_their_metadata(name: str) -> None:
    dirty = dirty_media.corpus_file(name)
    try:
        cleaned, _ = clean_bytes(dirty, name_hint=name)
    except CleaningRefused as refused:  # HEIC without pillow-heif: a clear refusal
        assert name == "dirty.heic" and refused.code == "unknown-type"
        return
    if name != "dirty.bmp":
        assert dirty_media.identifying_tags(dirty)
    assert dirty_media.identifying_tags(cleaned) == {}
    before, after = Image.open(io.BytesIO(dirty)), Image.open(io.BytesIO(cleaned))
    after.load()
    assert after.size == before.size


def test_picture_through_the_isolated_cleaner() -> None:
    dirty, tokens = dirty_media.dirty_jpeg()
    cleaned, _ = dirty_media.clean_isolated_bytes(dirty, "photo.jpg")
    assert find_tokens(cleaned, list(tokens.values())) == []
