"""The picture budget, at its limit and one pixel, frame, scan or byte beyond.

Every picture is charged width × height × the bytes its decoded pixels take ×
the copies its format holds while cleaned (budget.py), before it is decoded;
its frames, a JPEG's scans and a document's pictures together have limits of
their own. Each limit here is met exactly (the file is cleaned) and passed by
the smallest step (the file is refused as "limit"), with budgets small enough
to run in this process in a moment; tests/sanitize/test_memory_bounds.py does
the same at the server's own budget, in the sandbox, and measures the memory.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import replace

import pytest
from PIL import Image

from portal.sanitize import CleaningRefused, LimitExceeded, Limits, clean_bytes
from portal.sanitize.budget import COPIES, DEFAULT_COPIES, FileBudgetExceeded, frame_charge
from portal.sanitize.verify import verify
from tests.sanitize import bombs

BASE = Limits()


def picture(kind: str, mode: str, size: tuple[int, int]) -> bytes:
    """A picture of `kind` (a Pillow format) whose pixels all differ a little."""
    image = Image.linear_gradient("L").resize(size).convert(mode)
    out = io.BytesIO()
    image.save(out, kind, **({"lossless": True} if kind == "WEBP" else {}))
    return out.getvalue()


def charge(data: bytes) -> int:
    """What the cleaner charges this picture, worked out here from what Pillow opens."""
    total = 0
    with Image.open(io.BytesIO(data)) as image:
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            total += frame_charge(image.width, image.height, image.mode, str(image.format))
    return total


PICTURES = [  # Pillow format, mode, name: every kind of pixel and every format's copies
    ("PNG", "RGB", "a.png"), ("PNG", "RGBA", "a.png"), ("PNG", "L", "a.png"),
    ("PNG", "1", "a.png"), ("PNG", "I;16", "a.png"), ("JPEG", "RGB", "a.jpg"),
    ("JPEG", "L", "a.jpg"), ("JPEG", "CMYK", "a.jpg"), ("GIF", "P", "a.gif"),
    ("WEBP", "RGB", "a.webp"), ("TIFF", "RGB", "a.tif"), ("BMP", "L", "a.bmp"),
]


@pytest.mark.parametrize("kind,mode,name", PICTURES)
def test_a_picture_at_the_budget_is_cleaned_one_pixel_more_is_refused(kind, mode, name):
    at_limit = picture(kind, mode, (40, 25))
    limits = replace(BASE, max_image_bytes=charge(at_limit))
    clean_bytes(at_limit, name_hint=name, limits=limits)
    one_more = picture(kind, mode, (1001, 1))  # 1,001 pixels against a budget for 1,000
    with pytest.raises(LimitExceeded, match="one picture"):
        clean_bytes(one_more, name_hint=name, limits=limits)


def test_the_charge_counts_bytes_per_pixel_and_copies():
    """16-bit grey costs twice 8-bit grey, colour four times, WebP's decoder twice that."""
    assert frame_charge(100, 10, "L", "PNG") == 1000 * DEFAULT_COPIES
    assert frame_charge(100, 10, "I;16", "PNG") == 2 * 1000 * DEFAULT_COPIES
    assert frame_charge(100, 10, "RGB", "PNG") == 4 * 1000 * DEFAULT_COPIES
    assert frame_charge(100, 10, "RGBA", "WEBP") == 4 * 1000 * COPIES["WEBP"]
    assert frame_charge(100, 10, "RGB", "HEIF") == 4 * 1000 * COPIES["HEIF"]


def test_every_frame_of_an_animation_is_charged():
    frames = bombs.many_frames("gif", count=3, size=(30, 20))
    limits = replace(BASE, max_image_bytes=charge(frames))
    clean_bytes(frames, name_hint="moving.gif", limits=limits)
    with pytest.raises(LimitExceeded):
        clean_bytes(frames, name_hint="moving.gif",
                    limits=replace(limits, max_image_bytes=limits.max_image_bytes - 1))


@pytest.mark.parametrize("kind,name", [("apng", "a.png"), ("gif", "a.gif"), ("tiff", "a.tif")])
def test_frames_and_pages_at_the_limit_are_cleaned_one_more_is_refused(kind, name):
    limits = replace(BASE, max_image_frames=5)
    clean_bytes(bombs.many_frames(kind, count=5), name_hint=name, limits=limits)
    with pytest.raises(LimitExceeded, match="more than 5 frames"):
        clean_bytes(bombs.many_frames(kind, count=6), name_hint=name, limits=limits)


def _with_scan_markers(count: int) -> bytes:
    """A JPEG with one scan and, in a comment, count - 1 more scan markers' bytes (the
    count is taken of the whole file, so a marker hidden anywhere counts)."""
    photo = bombs.jpeg((64, 48))
    header = 4 + int.from_bytes(photo[4:6], "big")
    comment = b"\xff\xda" * (count - 1)
    segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
    return photo[:header] + segment + photo[header:]


def test_jpeg_scans_at_the_limit_are_cleaned_one_more_is_refused():
    limits = replace(BASE, max_jpeg_scans=10)
    clean_bytes(_with_scan_markers(10), name_hint="a.jpg", limits=limits)
    with pytest.raises(LimitExceeded, match="more than 10 JPEG scans"):
        clean_bytes(_with_scan_markers(11), name_hint="a.jpg", limits=limits)


def test_a_real_progressive_jpeg_has_far_fewer_scans_than_the_limit():
    out = io.BytesIO()
    Image.linear_gradient("L").convert("RGB").save(out, "JPEG", progressive=True)
    assert out.getvalue().count(b"\xff\xda") * 5 < BASE.max_jpeg_scans
    clean_bytes(out.getvalue(), name_hint="a.jpg")


def test_the_pictures_of_a_document_share_one_budget_and_refuse_the_whole_file():
    """At the file's budget every picture is kept; one byte under it, the document is
    refused, not sent on with its later pictures quietly dropped."""
    pictures = [picture("PNG", "RGB", (30 + n, 20)) for n in range(3)]
    document = bombs.docx_with_pictures(pictures)
    total = sum(charge(p) for p in pictures)
    limits = replace(BASE, max_file_image_bytes=total)
    _, report = clean_bytes(document, name_hint="report.docx", limits=limits)
    assert "embedded-file-removed" not in {f.code for f in report.removed}
    with pytest.raises(FileBudgetExceeded):
        clean_bytes(document, name_hint="report.docx",
                    limits=replace(limits, max_file_image_bytes=total - 1))


def test_a_picture_over_its_own_budget_inside_a_document_is_dropped_and_named():
    """One picture too large to clean is removed from the document (as any embedded file
    that cannot be cleaned is); the document's other pictures and text stay."""
    small, large = picture("PNG", "L", (10, 10)), picture("PNG", "L", (100, 100))
    limits = replace(BASE, max_image_bytes=charge(small))
    _, report = clean_bytes(bombs.docx_with_pictures([small, large]), name_hint="a.docx",
                            limits=limits)
    assert [f.code for f in report.removed].count("embedded-file-removed") == 1


def _grey_pdf(width: int, height: int) -> bytes:
    return bombs.pdf_with_image(width, height, space="/DeviceGray",
                                data=bytes(range(256)) * (width * height // 256 + 1))


def test_a_pdf_image_at_the_budget_is_kept_one_pixel_more_is_refused():
    """The cleaner never decodes a PDF's images; their declared size is charged instead."""
    limits = replace(BASE, max_image_bytes=1000 * DEFAULT_COPIES)  # 1,000 grey pixels
    clean_bytes(_grey_pdf(40, 25), name_hint="a.pdf", limits=limits)
    with pytest.raises(LimitExceeded, match="one picture"):
        clean_bytes(_grey_pdf(1001, 1), name_hint="a.pdf", limits=limits)


def test_a_pdf_jpeg_is_charged_by_its_own_header_not_the_dictionary():
    """A reader decodes the JPEG the stream holds, whatever size the dictionary claims."""
    photo = bombs.jpeg((300, 200))
    lying = bombs.pdf_with_image(3, 2, jpeg=photo)
    limits = replace(BASE, max_image_bytes=300 * 200 * 3 * DEFAULT_COPIES)
    clean_bytes(lying, name_hint="a.pdf", limits=limits)
    with pytest.raises(LimitExceeded):
        clean_bytes(lying, name_hint="a.pdf",
                    limits=replace(limits, max_image_bytes=limits.max_image_bytes - 1))


def test_the_verifier_refuses_a_pdf_image_beyond_the_budget_before_decoding_it():
    huge = bombs.pdf_with_image(100_000, 100_000, space="/DeviceGray",
                                data=zlib.decompress(zlib.compress(bytes(1000))))
    with pytest.raises(LimitExceeded):
        verify("pdf", huge, BASE)


@pytest.mark.parametrize("build,name", [
    (bombs.black_and_white_giant, "scan.png"),
    (lambda: bombs.zero_png(20_000, 20_000, depth=16, colour=0), "deep.png"),
    (lambda: bombs.pdf_with_image(100_000, 100_000), "huge.pdf"),
])
def test_a_bomb_is_refused_before_its_pixels_are_decoded(build, name):
    """Refused from the header alone: in this process, with no memory limit, it returns
    at once and no error but the budget's is raised."""
    with pytest.raises(CleaningRefused) as refused:
        clean_bytes(build(), name_hint=name)
    assert refused.value.code == "limit" and "one picture" in refused.value.detail
