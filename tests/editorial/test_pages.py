"""Editor pages: roles, downloads, notes, keys and editors management."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from portal.editors.models import Editor, Note
from portal.submissions.models import AuditEvent, EditorKey, Submission
from tests.authoring import confirm, new_author, review_of, upload
from tests.editorial.editors import current_code, make_editor, unverified_client, verified_client
from tests.storage import blob_path

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(data_dir, editor_keypair):  # type: ignore[no-untyped-def]
    """A managing editor with a key, and one submission from an author."""
    boss = make_editor("boss", Editor.Role.MANAGING, key=editor_keypair.public)
    author = Client()
    new_author(author, pen_name="Xiaomei")
    confirm(author, review_of(upload(author, [("a.txt", b"the words")])))
    return boss, Submission.objects.get(), author


def test_dashboard_lists_and_filters(submitted):
    boss, submission, _ = submitted
    client = verified_client(boss)
    page = client.get("/editor/").content.decode()
    assert submission.short_id in page and "Xiaomei" in page
    assert submission.short_id in client.get("/editor/?q=xiao").content.decode()
    assert submission.short_id not in client.get("/editor/?q=nobody").content.decode()
    assert submission.short_id not in client.get("/editor/?state=accepted").content.decode()
    assert client.get("/editor/?q=" + "x" * 500).status_code == 200  # bounded, not an error


def test_submission_page_shows_readers_and_changes_state(submitted, editor_keypair):
    boss, submission, _ = submitted
    client = verified_client(boss)
    url = f"/editor/submission/{submission.public_id}/"
    page = client.get(url).content.decode()
    assert editor_keypair.fingerprint in page
    assert client.post(url + "state/", {"target": "in_review"}).status_code == 302
    assert Submission.objects.get().state == "in_review"
    refused = client.post(url + "state/", {"target": "published"})
    assert refused.status_code == 400
    assert Submission.objects.get().state == "in_review"


def test_downloads_are_ciphertext_attachments_of_that_submission_only(submitted, editor_keypair,
                                                                      data_dir):
    boss, submission, _ = submitted
    client = verified_client(boss)
    blob = submission.files.get().blob
    response = client.get(f"/editor/ciphertext/{submission.public_id}/{blob}")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/octet-stream"
    body = b"".join(response.streaming_content)
    assert body == blob_path(data_dir, blob).read_bytes()
    assert b"the words" not in body
    for hostile in ("../../secrets/secret_key", "a" * 32 + ".gpg", "..%2f..%2fportal.sqlite3"):
        assert client.get(f"/editor/ciphertext/{submission.public_id}/{hostile}").status_code == 404
    manifest = client.get(f"/editor/ciphertext/{submission.public_id}/{submission.manifest_blob}")
    path = data_dir / "manifest.gpg"
    path.write_bytes(b"".join(manifest.streaming_content))
    assert json.loads(editor_keypair.decrypt(path))["pen_name"] == "Xiaomei"


def test_notes_exist_only_as_ciphertext(submitted, editor_keypair, data_dir):
    boss, submission, _ = submitted
    client = verified_client(boss)
    text = "Strong piece; CANARY-NOTE-31 check the second section."
    url = f"/editor/submission/{submission.public_id}/note/"
    assert client.post(url, {"text": text}).status_code == 302
    note = Note.objects.get()
    stored = blob_path(data_dir, note.blob)
    assert b"CANARY-NOTE-31" not in stored.read_bytes()
    assert editor_keypair.decrypt(stored).decode() == text
    from tests.leaks import database_dump

    assert b"CANARY-NOTE-31" not in database_dump()
    assert client.post(url, {"text": "x" * 20_001}).status_code == 400


def test_plain_editor_cannot_act_beyond_their_role(submitted, editor_keypair):
    boss, submission, _ = submitted
    editor = make_editor("ed")
    client = verified_client(editor)
    url = f"/editor/submission/{submission.public_id}/"
    assert client.post(url + "assign/", {"editor": editor.pk}).status_code == 403
    assert client.get("/editor/editors/").status_code == 403
    assert client.get("/editor/audit/").status_code == 403
    own = EditorKey.objects.get(user=boss)
    assert client.post(f"/editor/keys/{own.pk}/deactivate/").status_code == 403
    assert EditorKey.objects.get(pk=own.pk).active
    client.post(url + "state/", {"target": "in_review"})
    assert client.post(url + "state/", {"target": "accepted"}).status_code == 400
    assert Submission.objects.get().state == "in_review"


def test_managing_editor_assigns_and_sees_the_audit_log(submitted):
    boss, submission, _ = submitted
    editor = make_editor("ed")
    client = verified_client(boss)
    url = f"/editor/submission/{submission.public_id}/assign/"
    assert client.post(url, {"editor": editor.pk}).status_code == 302
    assert submission.short_id in verified_client(editor).get("/editor/?mine=on").content.decode()
    log = client.get("/editor/audit/").content.decode()
    assert "assign" in log and submission.short_id in log


def test_editor_pages_need_a_verified_device(submitted):
    boss, submission, _ = submitted
    client = unverified_client(boss)
    for path in ("/editor/", f"/editor/submission/{submission.public_id}/", "/editor/keys/",
                 "/editor/editors/", "/editor/audit/"):
        response = client.get(path)
        assert response.status_code == 302 and "/editor/login/" in response["Location"], path


def test_author_session_cannot_reach_editor_pages(submitted):
    _, submission, author = submitted
    for path in ("/editor/", f"/editor/submission/{submission.public_id}/", "/editor/keys/",
                 "/editor/audit/"):
        response = author.get(path)
        assert response.status_code == 302 and "/editor/login/" in response["Location"], path


def propose(client: Client, user, armored: str, owner=None, code: str | None = None):  # type: ignore[no-untyped-def]
    return client.post("/editor/keys/add/", {
        "owner": (owner or user).pk, "armored": armored,
        "otp_token": current_code(user) if code is None else code})


@pytest.mark.parametrize("fixture, reason", [
    ("expired_keypair", "expired"),
    ("weak_rsa_keypair", "2048 bits"),
    ("sign_only_keypair", "no subkey that can encrypt"),
])
def test_key_page_refuses_unusable_keys_with_the_reason(data_dir, request, fixture, reason):
    boss = make_editor("boss", Editor.Role.MANAGING)
    pair = request.getfixturevalue(fixture)
    response = propose(verified_client(boss), boss, pair.public)
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert not EditorKey.objects.exists()


def test_key_page_refuses_revoked_key(data_dir, revoked_public_key):
    boss = make_editor("boss", Editor.Role.MANAGING)
    response = propose(verified_client(boss), boss, revoked_public_key)
    assert response.status_code == 400 and "revoked" in response.content.decode()


def test_key_page_accepts_curve25519_and_rsa4096_with_a_fresh_code(data_dir, editor_keypair,
                                                                   keys_root):
    from tests.gpgkeys import make_keypair

    boss = make_editor("boss", Editor.Role.MANAGING)
    client = verified_client(boss)
    refused = propose(client, boss, editor_keypair.public, code="000000")
    assert refused.status_code == 400 and not EditorKey.objects.exists()
    assert propose(client, boss, editor_keypair.public).status_code == 302
    rsa = make_keypair(keys_root / "rsa4096", "RSA <rsa@penname.invalid>", primary="rsa4096",
                       sub="rsa4096")
    assert propose(client, boss, rsa.public).status_code == 302
    assert {k.algorithm for k in EditorKey.objects.all()} == {"ECDH cv25519", "RSA 4096"}
    page = client.get("/editor/keys/").content.decode()
    spaced = " ".join(rsa.fingerprint[i : i + 4] for i in range(0, 40, 4))
    assert spaced in page


def test_key_rotation_new_submissions_use_the_new_key(data_dir, editor_keypair,
                                                      second_editor_keypair):
    boss = make_editor("boss", Editor.Role.MANAGING, key=editor_keypair.public)
    deputy = make_editor("deputy", Editor.Role.MANAGING)
    client = verified_client(boss)
    author = Client()
    new_author(author)
    confirm(author, review_of(upload(author, [("a.txt", b"before")])))
    old_key = EditorKey.objects.get()
    assert propose(client, boss, second_editor_keypair.public).status_code == 302
    new_key = EditorKey.objects.get(fingerprint=second_editor_keypair.fingerprint)
    assert verified_client(deputy).post(f"/editor/keys/{new_key.pk}/approve/", {
        "otp_token": current_code(deputy)}).status_code == 302
    client.post(f"/editor/keys/{old_key.pk}/deactivate/")
    confirm(author, review_of(upload(author, [("b.txt", b"after")])))
    first, second = Submission.objects.order_by("id")
    assert first.recipients == [editor_keypair.fingerprint]
    assert second.recipients == [second_editor_keypair.fingerprint]
    page = client.get(f"/editor/submission/{first.public_id}/").content.decode()
    assert editor_keypair.fingerprint in page and "inactive" in page


def test_managing_editor_adds_and_removes_an_editor(data_dir, editor_keypair,
                                                    second_editor_keypair):
    boss = make_editor("boss", Editor.Role.MANAGING, key=editor_keypair.public)
    client = verified_client(boss)
    response = client.post("/editor/editors/", {
        "username": "newbie", "role": "editor", "armored": second_editor_keypair.public,
        "otp_token": current_code(boss)})
    assert response.status_code == 200 and "temporary password" in response.content.decode()
    newbie = Editor.objects.get(user__username="newbie")
    key = EditorKey.objects.get(user=newbie.user)
    assert key.active and key.pending and key.proposed_by == boss
    assert client.post(f"/editor/editors/{newbie.pk}/deactivate/").status_code == 302
    newbie.user.refresh_from_db()
    assert not newbie.user.is_active
    assert not EditorKey.objects.get(user=newbie.user).active
    assert AuditEvent.objects.filter(action="editor-removed").exists()


def test_purge_removes_exactly_what_is_due(data_dir, editor_keypair, settings):
    import io
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    boss = make_editor("boss", Editor.Role.MANAGING, key=editor_keypair.public)
    author = Client()
    new_author(author)
    for name in ("due.txt", "recent.txt", "open.txt"):
        confirm(author, review_of(upload(author, [(name, name.encode())])))
    due, recent, still_open = Submission.objects.order_by("id")
    client = verified_client(boss)
    client.post(f"/editor/submission/{due.public_id}/note/", {"text": "note"})
    for s in (due, recent):
        client.post(f"/editor/submission/{s.public_id}/state/", {"target": "declined"})
    old = timezone.now().date() - timedelta(days=settings.PORTAL_RETENTION_DAYS + 1)
    Submission.objects.filter(pk=due.pk).update(closed_on=old)
    due_blobs = [due.manifest_blob, *due.files.values_list("blob", flat=True),
                 *Note.objects.values_list("blob", flat=True)]
    call_command("purge", stdout=io.StringIO())
    assert set(Submission.objects.values_list("pk", flat=True)) == {recent.pk, still_open.pk}
    for blob in due_blobs:
        assert not blob_path(data_dir, blob).exists()
    for s in (recent, still_open):
        assert blob_path(data_dir, s.manifest_blob).exists()
        assert all(blob_path(data_dir, b).exists() for b in s.files.values_list("blob", flat=True))
