"""End to end: Chinese text from older Notepad reaches the editors as the same UTF-8 text,
files the portal cannot take are answered in words the author can act on, and the
review page says first whether anything could identify her.

Uploaded through the author pages (the real cleaner in its sandbox), sent, and
decrypted with the editor's private key from the test fixtures.
"""

from __future__ import annotations

import codecs
import io
import json
import zipfile

import pytest

from portal.submissions.models import Submission, SubmissionFile
from tests.authoring import confirm, new_author, review_of, upload
from tests.storage import blob_path

pytestmark = pytest.mark.django_db

TEXT = "夜班\r\n我們在深圳打工的女工，要求按時發放工資。老闆說下個月再說。\r\n"


def sent_text(client, editor_keypair, data_dir, name: str, data: bytes) -> tuple[bytes, str]:
    review = review_of(upload(client, [(name, data)], title="夜班"))
    response = confirm(client, review)
    assert response.status_code == 302, response.content[:500]
    row = SubmissionFile.objects.order_by("-id").first()
    assert row is not None
    return editor_keypair.decrypt(blob_path(data_dir, row.blob)), review.html


def test_gbk_big5_and_utf16_text_reach_the_editor_as_the_same_utf8(
        client, editor, editor_keypair, data_dir):
    new_author(client)
    received = {}
    for name, data in [
        ("gbk.txt", TEXT.encode("gbk")),
        ("big5.txt", TEXT.encode("cp950")),
        ("unicode.txt", codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le")),
    ]:
        plaintext, page = sent_text(client, editor_keypair, data_dir, name, data)
        received[name] = plaintext
        assert "We do not know how to clean this type of file" not in page
        assert "Send this file without cleaning" not in page
        shown = {"gbk.txt": "GBK", "big5.txt": "Big5", "unicode.txt": "UTF-16"}[name]
        assert f"The text was converted from {shown} to UTF-8" in page
    assert set(received.values()) == {TEXT.encode("utf-8")}
    # The manifest tells editors a conversion happened, not from which encoding.
    manifest = json.loads(editor_keypair.decrypt(
        blob_path(data_dir, Submission.objects.order_by("-id").first().manifest_blob)))
    notes = manifest["files"][0]["report"]["notes"]
    assert {"code": "text-converted", "detail": "", "count": 1} in notes


def pages_file() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("Index/Document.iwa", b"\x00" * 64)
        archive.writestr("Metadata/Properties.plist", b"bplist00")
        archive.writestr("preview.jpg", b"\xff\xd8\xff")
    return out.getvalue()


def test_a_pages_file_is_told_the_export_it_needs_not_about_archives(client, editor):
    new_author(client)
    page = review_of(upload(client, [("夜班.pages", pages_file()), ("ok.txt", b"text")])).html
    assert "export it from Pages as Word or PDF" in page
    assert "File → Export To → Word" in page
    assert "Archives such as ZIP" not in page and "take the files out" not in page
    assert 'name="send_uncleaned_0"' not in page  # a package is never sent uncleaned


def test_a_damaged_document_shows_a_reason_in_words_not_a_library_message(client, editor):
    new_author(client)
    damaged = b"PK\x03\x04" + b"\x00" * 26 + b"word/document.xml[Content_Types].xml" + b"\x01" * 40
    page = review_of(upload(client, [("draft.docx", damaged)])).html
    assert "The file seems damaged and could not be read." in page
    assert "It does not open as a complete document" in page
    assert "zip:" not in page and "File is not a zip file" not in page
    assert "Error" not in page


def test_a_file_with_only_editing_traces_says_nothing_names_her(client, editor):
    """A PDF whose only hidden data is dates and software: the review page says so first."""
    import pikepdf

    out = io.BytesIO()
    with pikepdf.new() as pdf:
        pdf.add_blank_page()
        pdf.docinfo["/Producer"] = "A PDF maker 1.0"
        pdf.docinfo["/CreationDate"] = "D:20250214182200"
        pdf.save(out)
    new_author(client)
    page = review_of(upload(client, [("report.pdf", out.getvalue())])).html
    assert "Nothing was found that names you, your computer or a place." in page
    assert 'class="removed identifying"' not in page
    assert '<details class="other-removed">' in page
