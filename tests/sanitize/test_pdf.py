"""PDF cleaning: nothing that names the author, their reviewers or their tools survives,
the text does, and hostile documents are refused quickly instead of hanging."""

from __future__ import annotations

import io
import shutil
import subprocess
import time
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from portal.sanitize import CleaningRefused, LimitExceeded, Limits, clean_bytes
from tests.sanitize import dirty_media
from tests.sanitize.dirty_media import BODY_TEXT
from tests.sanitize.scan import find_tokens


def pdf_text(data: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "cleaned.pdf"
    path.write_bytes(data)
    result = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, timeout=30,
                            check=True)
    return result.stdout.decode("utf-8", "replace")


def codes(report: object) -> set[str]:
    return {finding.code for finding in report.removed}  # type: ignore[attr-defined]


def test_no_planted_token_survives_in_any_place(tmp_path: Path) -> None:
    dirty, tokens = dirty_media.dirty_pdf()
    assert len(find_tokens(dirty, list(tokens.values()))) == len(tokens)  # all planted
    cleaned, report = clean_bytes(dirty, name_hint="draft.pdf")
    assert find_tokens(cleaned, list(tokens.values())) == []
    assert BODY_TEXT in pdf_text(cleaned, tmp_path)
    assert {"pdf-info", "author-name", "pdf-xmp", "pdf-attachments", "pdf-javascript",
            "pdf-actions", "pdf-thumbnails", "pdf-piece-info", "annotations",
            "pdf-annotation-authors", "exif", "image-comment", "external-link",
            "language"} <= codes(report)
    assert any(f.code == "author-name" and f.detail == tokens["author"] for f in report.removed)
    assert any(f.code == "pdf-attachments" and tokens["attach-name"] in f.detail
               for f in report.removed)


def test_page_marks_and_web_links_are_kept_without_their_authors() -> None:
    cleaned, _ = clean_bytes(dirty_media.dirty_pdf()[0], name_hint="draft.pdf")
    with pikepdf.open(io.BytesIO(cleaned)) as pdf:
        assert "/Info" not in pdf.trailer and "/Metadata" not in pdf.Root
        assert "/OpenAction" not in pdf.Root and "/Lang" not in pdf.Root
        assert "/EmbeddedFiles" not in pdf.Root.get("/Names", {})
        annots = list(pdf.pages[0].obj.get("/Annots", []))
        subtypes = sorted(str(a.Subtype) for a in annots)
        assert subtypes == ["/Highlight", "/Link", "/Link"]  # notes, pop-up, attachment gone
        for annot in annots:
            assert "/T" not in annot and "/Contents" not in annot and "/Popup" not in annot
        actions = [a.get("/A") for a in annots if a.Subtype == "/Link"]
        assert None in actions  # the link that launched a program has lost its action
        assert [str(a.URI) for a in actions if a is not None] == ["https://example.org/"]
        assert "/Thumb" not in pdf.pages[0].obj and "/AA" not in pdf.pages[0].obj


def test_embedded_photo_keeps_its_pixels_but_not_its_exif() -> None:
    cleaned, _ = clean_bytes(dirty_media.dirty_pdf()[0], name_hint="draft.pdf")
    with pikepdf.open(io.BytesIO(cleaned)) as pdf:
        image = pdf.pages[0].obj.Resources.XObject.Im1
        jpeg = image.read_raw_bytes()
        assert "/Metadata" not in image
    assert jpeg.startswith(b"\xff\xd8") and b"Exif" not in jpeg
    picture = Image.open(io.BytesIO(jpeg))
    picture.load()
    assert picture.size == (16, 16)
    segments = picture.applist  # type: ignore[attr-defined]
    assert not [name for name, _ in segments if name not in ("APP0", "APP14")]


def test_document_id_is_fresh_and_random_each_time() -> None:
    dirty, _ = dirty_media.dirty_pdf()
    with pikepdf.open(io.BytesIO(dirty)) as pdf:
        original = {bytes(part) for part in pdf.trailer.ID}
    ids = set()
    for _ in range(2):
        cleaned, _ = clean_bytes(dirty, name_hint="draft.pdf")
        with pikepdf.open(io.BytesIO(cleaned)) as pdf:
            first, second = (bytes(part) for part in pdf.trailer.ID)
        # Both halves equal, as in a newly created file: nothing kept from the original.
        assert len(first) == 16 and first == second and first not in original
        ids.add(first)
    assert len(ids) == 2


def test_earlier_revision_of_an_incremental_update_is_gone(tmp_path: Path) -> None:
    dirty, tokens = dirty_media.incremental_pdf()
    assert find_tokens(dirty, list(tokens.values()), exiftool=False) != []
    cleaned, report = clean_bytes(dirty, name_hint="draft.pdf")
    assert find_tokens(cleaned, list(tokens.values())) == []
    assert "pdf-previous-revisions" in codes(report)
    assert cleaned.count(b"startxref") == 1
    text = pdf_text(cleaned, tmp_path)
    assert BODY_TEXT in text and tokens["old-text"] not in text


def test_page_tree_that_contains_itself_is_refused_quickly() -> None:
    started = time.monotonic()
    with pytest.raises(CleaningRefused) as refused:
        clean_bytes(dirty_media.looping_pdf(), name_hint="loop.pdf")
    assert refused.value.code == "malformed"
    assert time.monotonic() - started < 5


def test_objects_referring_to_themselves_do_not_hang(tmp_path: Path) -> None:
    started = time.monotonic()
    cleaned, _ = clean_bytes(dirty_media.looping_pdf(page_tree_loop=False), name_hint="x.pdf")
    assert time.monotonic() - started < 5
    assert BODY_TEXT in pdf_text(cleaned, tmp_path)


def test_more_pages_than_the_limit_is_refused() -> None:
    with pytest.raises(LimitExceeded):
        clean_bytes(dirty_media.many_pages_pdf(30), name_hint="long.pdf",
                    limits=Limits(max_pdf_pages=10))
    cleaned, _ = clean_bytes(dirty_media.many_pages_pdf(10), name_hint="ok.pdf",
                             limits=Limits(max_pdf_pages=10))
    with pikepdf.open(io.BytesIO(cleaned)) as pdf:
        assert len(pdf.pages) == 10


def test_more_objects_than_the_limit_is_refused() -> None:
    with pytest.raises(LimitExceeded):
        clean_bytes(dirty_media.many_pages_pdf(30), name_hint="big.pdf",
                    limits=Limits(max_pdf_objects=20))


@pytest.mark.parametrize("user_password", ["reader-secret", ""])
def test_encrypted_pdf_is_refused(user_password: str) -> None:
    with pytest.raises(CleaningRefused) as refused:
        clean_bytes(dirty_media.encrypted_pdf(user_password), name_hint="locked.pdf")
    assert refused.value.code == "encrypted-document"


@pytest.mark.parametrize("cut", [3000, -200])
def test_truncated_pdf_is_refused_or_fully_cleaned(cut: int) -> None:
    dirty, tokens = dirty_media.dirty_pdf()
    try:
        cleaned, _ = clean_bytes(dirty[:cut], name_hint="cut.pdf")
    except CleaningRefused as refused:
        assert refused.code in ("malformed", "limit")
    else:
        assert find_tokens(cleaned, list(tokens.values())) == []


def test_garbage_after_a_pdf_header_is_refused_as_malformed() -> None:
    with pytest.raises(CleaningRefused) as refused:
        clean_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 20, name_hint="junk.pdf")
    assert refused.value.code == "malformed"
    assert "0x" not in refused.value.detail  # no memory addresses in what authors see


def test_mat2_dirty_pdf_loses_its_metadata(tmp_path: Path) -> None:
    dirty = dirty_media.corpus_file("dirty.pdf")
    assert dirty_media.identifying_tags(dirty)
    cleaned, report = clean_bytes(dirty, name_hint="dirty.pdf")
    assert dirty_media.identifying_tags(cleaned) == {}
    assert {"pdf-info", "pdf-xmp", "pdf-previous-revisions", "external-link"} <= codes(report)
    with pikepdf.open(io.BytesIO(cleaned)) as pdf:
        assert len(pdf.pages) == 20
    assert "Mitigating Advanced Code-Reuse Attacks" in pdf_text(cleaned, tmp_path)


def test_pdf_through_the_isolated_cleaner() -> None:
    dirty, tokens = dirty_media.dirty_pdf()
    cleaned, report = dirty_media.clean_isolated_bytes(dirty, "draft.pdf")
    assert find_tokens(cleaned, list(tokens.values())) == []
    assert "pdf-info" in codes(report)


def test_font_named_in_gbk_keeps_its_name_and_odd_keys_are_reported() -> None:
    """PDF names are bytes, and Chinese producers write font names in GBK (宋体 is
    #CB#CE#CC#E5): the font keeps its name, through the confined child and the
    verifier, and an unknown catalog key that is not UTF-8 is dropped and reported."""
    songti = b"/#CB#CE#CC#E5"
    content = b"BT " + songti + b" 12 Tf 72 720 Td (" + BODY_TEXT.encode() + b") Tj ET"
    dirty = dirty_media.assemble_pdf([
        b"<< /Type /Catalog /Pages 2 0 R /Pi#CCeceInfo (ZQGBKKEYTOKEN) >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << " + songti + b" 5 0 R >> >> >>",
        f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont " + songti + b" >>",
    ])
    cleaned, report = dirty_media.clean_isolated_bytes(dirty, "songti.pdf")
    assert "unknown-part" in codes(report)
    with pikepdf.open(io.BytesIO(cleaned)) as pdf:
        fonts = pdf.pages[0].obj.Resources.Font
        # pikepdf hands back keys that are not UTF-8 as surrogate-escaped text
        assert list(fonts.keys()) == [b"/\xcb\xce\xcc\xe5".decode("utf-8", "surrogateescape")]
        assert bytes(next(iter(fonts.values())).BaseFont.unparse()).lower() == songti.lower()
        assert sorted(pdf.Root.keys()) == ["/Pages", "/Type"]


def test_a_colour_space_name_that_is_not_utf8_counts_as_the_widest() -> None:
    """Found by the fuzzer: pikepdf cannot str() such a name; the size check must still hold."""
    from portal.sanitize.formats.pdf.images import _components

    name = pikepdf.Object.parse(b"/Dev#FFRGB")
    with pytest.raises(UnicodeDecodeError):
        str(name)
    assert _components(name) == 4
    assert _components(pikepdf.Array([name])) == 4
