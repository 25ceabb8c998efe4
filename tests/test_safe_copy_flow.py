"""Through the author's pages: each document arrives with its safe copy, encrypted like
the rest; a file that cannot be copied goes on without one, and says why."""

from __future__ import annotations

import json

import pytest

from portal.submissions.models import Submission, SubmissionFile
from tests.authoring import confirm, new_author, review_of, upload
from tests.leaks import found_in_files
from tests.sanitize.safe_copies import (
    SIMPLIFIED,
    TRADITIONAL,
    images_only,
    needs_renderer,
    pdftotext,
    share,
)
from tests.sanitize.test_safe_copy import ebook, rich_text, word
from tests.storage import blob_path

pytestmark = [pytest.mark.django_db, needs_renderer]
CANARY = "金丝雀在矿井里唱歌"


@pytest.fixture
def safe_copies_on(settings):
    settings.PORTAL_SAFE_COPIES = True
    return settings


def test_a_document_arrives_with_its_safe_copy_encrypted_beside_it(
        client, editor, editor_keypair, data_dir, safe_copies_on):
    new_author(client)
    review = review_of(upload(client, [("我的稿子.docx", word([SIMPLIFIED, TRADITIONAL, CANARY])),
                                       ("notes.txt", "只是一些笔记".encode())]))
    # Waiting for the author's confirmation, the copy is as unreadable as the file.
    assert found_in_files(CANARY, data_dir) == []
    confirm(client, review)
    submission = Submission.objects.get()
    assert submission.file_count == 2
    originals = list(SubmissionFile.objects.filter(safe_copy_of__isnull=True))
    copies = list(SubmissionFile.objects.filter(safe_copy_of__isnull=False))
    assert [f.position for f in originals] == [0, 1]
    assert [(f.position, f.safe_copy_of, f.kind) for f in copies] == [(2, 0, "pdf"), (3, 1, "pdf")]
    assert found_in_files(CANARY, data_dir) == []

    manifest = json.loads(editor_keypair.decrypt(blob_path(data_dir, submission.manifest_blob)))
    entries = {entry["blob"]: entry for entry in manifest["files"]}
    first = entries[copies[0].blob]
    assert (first["name"], first["status"], first["safe_copy_of"], first["text"]) == \
        ("1.pdf", "safe-copy", 1, "document")
    assert "safe_copy" not in entries[originals[0].blob]
    pdf = editor_keypair.decrypt(blob_path(data_dir, copies[0].blob))
    assert len(pdf) == first["size"] and first["pages"] >= 1
    assert images_only(pdf) == []
    assert share(SIMPLIFIED + TRADITIONAL + CANARY, pdftotext(pdf)) >= 0.97
    assert entries[copies[1].blob]["name"] == "2.pdf"


@pytest.mark.parametrize("name, make", [("old.rtf", rich_text), ("book.epub", ebook)])
def test_a_refused_rtf_or_ebook_sent_as_it_is_still_gets_a_safe_copy(
        client, editor, editor_keypair, data_dir, safe_copies_on, name, make):
    new_author(client)
    review = review_of(upload(client, [(name, make([TRADITIONAL]))]))
    confirm(client, review, send_uncleaned_0="yes")
    [copy] = SubmissionFile.objects.filter(safe_copy_of=0)
    pdf = editor_keypair.decrypt(blob_path(data_dir, copy.blob))
    assert images_only(pdf) == []
    assert share(TRADITIONAL, pdftotext(pdf)) >= 0.97


def test_without_a_copy_the_submission_goes_on_and_the_manifest_says_why(
        client, editor, editor_keypair, data_dir, safe_copies_on, monkeypatch):
    safe_copies_on.PORTAL_SAFE_COPY_MAX_PAGES = 1
    new_author(client)
    review = review_of(upload(client, [("long.docx", word([SIMPLIFIED * 30] * 6)),
                                       ("sound.mp3", b"ID3\x04" + bytes(200))]))
    confirm(client, review, send_uncleaned_1="yes")
    submission = Submission.objects.get()
    assert not SubmissionFile.objects.filter(safe_copy_of__isnull=False).exists()
    manifest = json.loads(editor_keypair.decrypt(blob_path(data_dir, submission.manifest_blob)))
    assert [entry.get("safe_copy") for entry in manifest["files"]] == \
        [{"problem": "pages"}, {"problem": "kind"}]



def test_the_safe_copies_of_one_upload_share_one_time_budget(
        client, editor, editor_keypair, data_dir, safe_copies_on, monkeypatch):
    """However many files an upload has, its copies take at most PORTAL_SAFE_COPY_SECONDS
    together: a copy is not started with less than MIN_SAFE_COPY_SECONDS left."""
    from portal.authors import pending

    safe_copies_on.PORTAL_SAFE_COPY_SECONDS = 60
    monkeypatch.setattr(pending, "MIN_SAFE_COPY_SECONDS", 59)  # the first copy uses >1 s
    new_author(client)
    confirm(client, review_of(upload(client, [("a.docx", word([SIMPLIFIED])),
                                              ("b.docx", word([TRADITIONAL]))])))
    submission = Submission.objects.get()
    manifest = json.loads(editor_keypair.decrypt(blob_path(data_dir, submission.manifest_blob)))
    first, second, copy = manifest["files"]
    assert "safe_copy" not in first and copy["safe_copy_of"] == 1
    assert second["safe_copy"] == {"problem": "time"}
