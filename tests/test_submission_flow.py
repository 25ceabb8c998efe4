"""The heart of the portal: upload, review, confirm; only ciphertext reaches the disk."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from portal.submissions.models import Submission, SubmissionFile
from tests.authoring import confirm, new_author, review_of, upload
from tests.storage import blob_files, blob_path

pytestmark = pytest.mark.django_db

DRAFT = "工人的故事 — a draft.\u200b\nSecond line with a zero\u2060width mark.\n".encode()
CLEANED = "工人的故事 — a draft.\nSecond line with a zerowidth mark.\n".encode()


def stored_files(data_dir: Path) -> list[Path]:
    return blob_files(data_dir)


def test_author_sends_a_draft_and_editor_decrypts_exact_cleaned_bytes(
    client, editor, editor_keypair, data_dir
):
    new_author(client, pen_name="Lin")
    review = review_of(upload(client, [("draft.txt", DRAFT)], title="Night shift",
                              message="Please read"))
    assert "draft.txt" in review.html
    assert "invisible character" in review.html  # the report is shown
    response = confirm(client, review)
    assert response.status_code == 302
    submission = Submission.objects.get()
    assert response["Location"] == f"/author/submission/{submission.public_id}/?sent=1"
    received = client.get(response["Location"])
    assert "Received" in received.content.decode()

    blobs = stored_files(data_dir)
    assert len(blobs) == 2  # one file, one manifest
    file_row = SubmissionFile.objects.get()
    plaintext = editor_keypair.decrypt(blob_path(data_dir, file_row.blob))
    assert plaintext == CLEANED
    manifest = json.loads(editor_keypair.decrypt(blob_path(data_dir, submission.manifest_blob)))
    assert manifest["title"] == "Night shift"
    assert manifest["message"] == "Please read"
    assert manifest["pen_name"] == "Lin"
    assert manifest["submission"] == str(submission.public_id)
    [entry] = manifest["files"]
    assert entry["name"] == "1.txt" and entry["name_kept"] is False
    assert entry["blob"] == file_row.blob
    assert entry["size"] == len(CLEANED)
    assert entry["sha256"] == hashlib.sha256(CLEANED).hexdigest()
    assert entry["cleaned"] is True
    assert {f["code"] for f in entry["report"]["removed"]} == {"invisible-characters"}
    assert submission.recipients == [editor_keypair.fingerprint]
    assert submission.file_count == 1 and submission.state == "new"
    # Nothing waits in the spool once the submission is sent.
    assert not any(p.is_file() for p in (data_dir / "spool").rglob("*"))


def test_ciphertext_names_no_recipient(client, editor, editor_keypair, data_dir):
    new_author(client)
    confirm(client, review_of(upload(client, [("a.txt", b"hello")])))
    for blob in stored_files(data_dir):
        packets = subprocess.run(
            ["gpg", "--homedir", str(editor_keypair.home), "--batch", "--list-packets",
             "--pinentry-mode", "loopback", "--passphrase", "", str(blob)],
            capture_output=True, text=True, check=False,
        ).stdout
        assert ":pubkey enc packet:" in packets
        assert "keyid 0000000000000000" in packets
        assert editor_keypair.fingerprint[-16:] not in packets.upper()


def test_key_not_among_recipients_cannot_decrypt(client, editor, outsider_keypair, data_dir):
    new_author(client)
    confirm(client, review_of(upload(client, [("a.txt", b"secret words")])))
    for blob in stored_files(data_dir):
        result = outsider_keypair.gpg("--decrypt", str(blob))
        assert result.returncode != 0
        assert b"secret words" not in result.stdout


def test_every_active_editor_key_is_a_recipient(
    client, editor, editor_keypair, second_editor_keypair, data_dir
):
    from django.contrib.auth import get_user_model

    from tests.editorial.editors import approved_key

    other = get_user_model().objects.create_user("editor2")
    approved_key(other, second_editor_keypair.public)
    new_author(client)
    confirm(client, review_of(upload(client, [("a.txt", b"for both")])))
    blob = blob_path(data_dir, SubmissionFile.objects.get().blob)
    assert editor_keypair.decrypt(blob) == b"for both"
    assert second_editor_keypair.decrypt(blob) == b"for both"
    assert sorted(Submission.objects.get().recipients) == sorted(
        [editor_keypair.fingerprint, second_editor_keypair.fingerprint]
    )


def test_removed_editor_receives_nothing_new(
    client, editor, editor_keypair, second_editor_keypair, data_dir
):
    from django.contrib.auth import get_user_model

    from tests.editorial.editors import approved_key

    other = get_user_model().objects.create_user("editor2")
    approved_key(other, second_editor_keypair.public)
    other.is_active = False
    other.save()
    new_author(client)
    confirm(client, review_of(upload(client, [("a.txt", b"only one")])))
    blob = blob_path(data_dir, SubmissionFile.objects.get().blob)
    assert second_editor_keypair.gpg("--decrypt", str(blob)).returncode != 0
    assert Submission.objects.get().recipients == [editor_keypair.fingerprint]


def test_several_files_each_its_own_message(client, editor, editor_keypair, data_dir):
    new_author(client)
    files = [("one.txt", b"first file"), ("two.md", b"# second file")]
    confirm(client, review_of(upload(client, files)))
    rows = list(SubmissionFile.objects.order_by("position"))
    assert [editor_keypair.decrypt(blob_path(data_dir, r.blob)) for r in rows] == [
        b"first file", b"# second file"
    ]


def test_refused_file_is_sent_only_when_author_ticks_the_box(
    client, editor, editor_keypair, data_dir
):
    new_author(client)
    binary = b"\x00\x01\x02\x03 unknown binary format" * 10
    review = review_of(upload(client, [("notes.txt", b"words"), ("blob.bin", binary)]))
    assert "send_uncleaned_1" in review.html
    confirm(client, review)
    submission = Submission.objects.get()
    assert submission.file_count == 1 and submission.uncleaned_count == 0

    review = review_of(upload(client, [("blob.bin", binary)]))
    response = confirm(client, review)
    assert response.status_code == 400  # nothing cleanable, box not ticked
    response = confirm(client, review, send_uncleaned_0="yes")
    assert response.status_code == 302
    latest = Submission.objects.order_by("-id").first()
    assert latest.uncleaned_count == 1
    row = latest.files.get()
    assert row.cleaned is False
    assert editor_keypair.decrypt(blob_path(data_dir, row.blob)) == binary
    manifest = json.loads(editor_keypair.decrypt(blob_path(data_dir, latest.manifest_blob)))
    assert manifest["files"][0]["refusal"]["code"] == "unknown-type"


def test_confirm_twice_sends_once(client, editor, data_dir):
    new_author(client)
    review = review_of(upload(client, [("a.txt", b"once")]))
    first = confirm(client, review)
    assert first.status_code == 302
    again = confirm(client, review)
    # Not "maybe sent, maybe cancelled, maybe expired": she is told it was sent, and where.
    assert again.status_code == 302 and again["Location"].endswith("?again=1")
    assert again["Location"].split("?")[0] == first["Location"].split("?")[0]
    page = client.get(again["Location"]).content.decode()
    ref = Submission.objects.get().short_id
    assert f"This upload was already sent, as submission {ref}." in page
    assert "no longer waiting" not in page
    assert Submission.objects.count() == 1


def test_cancel_deletes_the_pending_upload(client, editor, data_dir):
    new_author(client)
    review = review_of(upload(client, [("a.txt", b"never mind")]))
    client.post("/author/submit/cancel/", {"pending": review.pending})
    assert not any(p.is_file() for p in (data_dir / "spool").rglob("*"))
    assert confirm(client, review).status_code == 400
    assert Submission.objects.count() == 0


def test_author_home_lists_own_submissions_with_day_only(client, editor, data_dir):
    new_author(client)
    confirm(client, review_of(upload(client, [("a.txt", b"x")])))
    page = client.get("/author/").content.decode()
    submission = Submission.objects.get()
    assert submission.short_id in page
    assert submission.submitted_on.isoformat() in page


def test_a_file_already_encrypted_to_the_editors_passes_as_is_and_is_flagged(
    client, editor, editor_keypair, data_dir
):
    message = editor_keypair.gpg("--encrypt", "--trust-model", "always", "-r",
                                 editor_keypair.fingerprint, input=b"pre-encrypted draft").stdout
    new_author(client)
    review = review_of(upload(client, [("draft.gpg", message)]))
    assert "already encrypted to the editors" in review.html
    assert confirm(client, review).status_code == 302
    row = SubmissionFile.objects.get()
    assert row.cleaned is False and row.kind == "openpgp"
    assert Submission.objects.get().uncleaned_count == 1
    inner = editor_keypair.decrypt(blob_path(data_dir, row.blob))
    assert inner == message  # the author's own ciphertext, wrapped once more for all editors
