"""Ciphertext is replaced only when it provably still reaches every editor.

Threat (issue 14): one API token replaced a draft and its manifest with data only the
attacker could read, and forged a thread message as another editor's. Here a PUT only
stores a candidate; each editor's own gpg (the editor client's checks, run with that
editor's GNUPGHOME) answers for that editor's keys; the old ciphertext goes only when
every key has confirmed the same plaintext.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from portal.editor_client import confirm as client_checks
from portal.editors import replacement
from portal.editors.models import Note, Replacement
from portal.submissions.models import EditorKey, Submission
from portal.submissions.tokens import ApiToken, digest
from tests.api.test_api import get_token
from tests.authoring import confirm, new_author, review_of, upload
from tests.editorial.editors import current_code, make_editor
from tests.storage import blob_path

pytestmark = pytest.mark.django_db
WORDS = b"the draft, word for word"


@pytest.fixture
def team(data_dir, editor_keypair, second_editor_keypair):  # type: ignore[no-untyped-def]
    """A managing editor and an ordinary editor, both keys approved; a submission to both."""
    boss = make_editor("boss", "managing", key=editor_keypair.public)
    plain = make_editor("plain", key=second_editor_keypair.public)
    author = Client()
    new_author(author, pen_name="Wen")
    confirm(author, review_of(upload(author, [("a.txt", WORDS)], title="T")))
    submission = Submission.objects.get()
    return boss, plain, submission


def api_for(user, scopes: list[str] | None = None) -> Client:  # type: ignore[no-untyped-def]
    status, body = get_token(Client(), user, scopes=scopes)
    assert status == 201, body
    return Client(HTTP_AUTHORIZATION=f"Bearer {body['token']}")


def encrypt(data: bytes, *recipients: str) -> bytes:
    """An OpenPGP message to `recipients` (hidden), as any client could make it."""
    from portal.submissions.recipients import keyring

    out = Path(settings.PORTAL_STORE_DIR).parent / f"made-{secrets.token_hex(4)}.gpg"
    keyring().encrypt_bytes(data, out, list(recipients))
    made = out.read_bytes()
    out.unlink()
    return made


def put(api: Client, submission: Submission, name: str, body: bytes, plaintext: bytes = WORDS):  # type: ignore[no-untyped-def]
    return api.put(f"/api/v1/submissions/{submission.public_id}/blobs/{name}", body,
                   content_type="application/octet-stream",
                   HTTP_X_PENNAME_PLAINTEXT_SHA256=hashlib.sha256(plaintext).hexdigest())


def check_as(pair, monkeypatch, data_dir, row: dict, old: bool = True) -> list[dict]:  # type: ignore[no-untyped-def]
    """What `pair`'s portal-editor answers for this replacement (its own gpg home)."""
    monkeypatch.setenv("GNUPGHOME", str(pair.home))
    candidate = blob_path(data_dir, row["candidate"])
    old_path = blob_path(data_dir, row["blob"]) if old else None
    return list(client_checks.answers_for(row, candidate, old_path))


def pending_row(api: Client, replacement_id: int) -> dict:
    rows = api.get("/api/v1/replacements/").json()["replacements"]
    [row] = [r for r in rows if r["id"] == replacement_id]
    row["candidate"] = Replacement.objects.get(pk=replacement_id).candidate
    return row


def answer(api: Client, replacement_id: int, reply: dict) -> dict:
    response = api.post(f"/api/v1/replacements/{replacement_id}/confirmations/",
                        json.dumps(reply), content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def test_an_ordinary_editors_token_cannot_replace_any_blob(team, editor_keypair,
                                                           second_editor_keypair, data_dir):
    boss, plain, submission = team
    blob = submission.files.get().blob
    before = blob_path(data_dir, blob).read_bytes()
    new = encrypt(WORDS, second_editor_keypair.fingerprint)
    ordinary = api_for(plain)
    for name in (blob, submission.manifest_blob):
        assert put(ordinary, submission, name, new).status_code == 403
    # Nor can an ordinary editor get a token that could.
    status, body = get_token(Client(), plain, scopes=["read", "reencrypt"])
    assert status == 403 and "managing" in body["error"]
    # A managing editor's everyday token cannot either: re-encryption needs its own token.
    everyday = api_for(boss)
    assert put(everyday, submission, blob, new).status_code == 403
    assert blob_path(data_dir, blob).read_bytes() == before
    assert not Replacement.objects.exists()


def test_notes_and_thread_messages_are_never_replaced(team, editor_keypair, data_dir):
    boss, _, submission = team
    author = Client()
    new_author(author)
    api = api_for(boss, ["read", "note", "reencrypt"])
    note = encrypt(b"a note", editor_keypair.fingerprint)
    assert api.post(f"/api/v1/submissions/{submission.public_id}/notes/", note,
                    content_type="application/octet-stream").status_code == 201
    from portal.correspondence import thread
    from portal.correspondence.models import Message

    thread.post(submission, "hello from the author", sender=Message.Sender.AUTHOR)
    forged = encrypt(b"words the author never wrote", editor_keypair.fingerprint)
    for name in (Note.objects.get().blob, Message.objects.get().blob):
        before = blob_path(data_dir, name).read_bytes()
        refused = put(api, submission, name, forged, b"words the author never wrote")
        assert refused.status_code == 403 and "cannot be replaced" in refused.json()["error"]
        assert blob_path(data_dir, name).read_bytes() == before
    assert not Replacement.objects.exists()


def test_a_put_stores_a_candidate_and_the_old_blob_stays_in_use(team, editor_keypair,
                                                                second_editor_keypair, data_dir):
    boss, _, submission = team
    blob = submission.files.get().blob
    before = blob_path(data_dir, blob).read_bytes()
    api = api_for(boss, ["read", "reencrypt"])
    new = encrypt(WORDS, editor_keypair.fingerprint,
                  second_editor_keypair.fingerprint)
    response = put(api, submission, blob, new)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["state"] == "pending"
    assert sorted(body["required"]) == sorted([editor_keypair.fingerprint,
                                               second_editor_keypair.fingerprint])
    assert blob_path(data_dir, blob).read_bytes() == before
    assert blob_path(data_dir, body["candidate"]).read_bytes() == new
    for bad in (b"plain words", b""):
        assert put(api, submission, blob, bad).status_code == 400
    no_hash = api.put(f"/api/v1/submissions/{submission.public_id}/blobs/{blob}", new,
                      content_type="application/octet-stream")
    assert no_hash.status_code == 400 and "SHA256" in no_hash.json()["error"]


def test_a_replacement_that_drops_a_recipient_is_refused_and_the_old_blob_still_decrypts(
        team, editor_keypair, second_editor_keypair, data_dir, monkeypatch):
    boss, plain, submission = team
    blob = submission.files.get().blob
    before = blob_path(data_dir, blob).read_bytes()
    proposer = api_for(boss, ["read", "reencrypt"])
    dropped = encrypt(WORDS, editor_keypair.fingerprint)
    replacement_id = put(proposer, submission, blob, dropped).json()["replacement"]
    # The proposer's own client confirms its key: that is not enough.
    row = pending_row(proposer, replacement_id)
    [own] = check_as(editor_keypair, monkeypatch, data_dir, row)
    assert own == {"fingerprint": editor_keypair.fingerprint,
                   "plaintext_sha256": hashlib.sha256(WORDS).hexdigest(), "compared": True}
    assert answer(proposer, replacement_id, own)["state"] == "pending"
    assert blob_path(data_dir, blob).read_bytes() == before
    # The colleague's client cannot decrypt it, and says so.
    colleague = api_for(plain)
    row = pending_row(colleague, replacement_id)
    assert row["mine"] == [second_editor_keypair.fingerprint]
    [theirs] = check_as(second_editor_keypair, monkeypatch, data_dir, row)
    assert theirs == {"fingerprint": second_editor_keypair.fingerprint,
                      "refusal": "cannot-decrypt"}
    with_capture = answer(colleague, replacement_id, theirs)
    assert with_capture["state"] == "discarded" and with_capture["reason"] == "cannot-decrypt"
    assert blob_path(data_dir, blob).read_bytes() == before
    assert editor_keypair.decrypt(blob_path(data_dir, blob)) == WORDS
    assert second_editor_keypair.decrypt(blob_path(data_dir, blob)) == WORDS


def test_a_replacement_that_keeps_everyone_completes_after_every_key_confirmed(
        team, editor_keypair, second_editor_keypair, outsider_keypair, data_dir, monkeypatch,
        django_capture_on_commit_callbacks):
    boss, plain, submission = team
    # A third editor joins; the copy is encrypted to all three.
    third = make_editor("third", key=outsider_keypair.public)
    blob = submission.files.get().blob
    before = blob_path(data_dir, blob).read_bytes()
    proposer = api_for(boss, ["read", "reencrypt"])
    new = encrypt(WORDS, editor_keypair.fingerprint,
                  second_editor_keypair.fingerprint, outsider_keypair.fingerprint)
    replacement_id = put(proposer, submission, blob, new).json()["replacement"]
    candidate = Replacement.objects.get().candidate
    for user, pair in ((boss, editor_keypair), (plain, second_editor_keypair)):
        api = api_for(user)
        [reply] = check_as(pair, monkeypatch, data_dir, pending_row(api, replacement_id))
        assert reply["compared"] is True  # they could read the old one: they compared
        assert answer(api, replacement_id, reply)["state"] == "pending"
        assert blob_path(data_dir, blob).read_bytes() == before
    assert third.is_active
    assert outsider_keypair.gpg("--decrypt", str(blob_path(data_dir, blob))).returncode != 0
    newcomer = api_for(third)
    [reply] = check_as(outsider_keypair, monkeypatch, data_dir,
                       pending_row(newcomer, replacement_id))
    assert reply["compared"] is False  # the old one was never for this key
    with django_capture_on_commit_callbacks(execute=True):
        done = answer(newcomer, replacement_id, reply)
    assert done["state"] == "completed"
    assert blob_path(data_dir, blob).read_bytes() == new
    for pair in (editor_keypair, second_editor_keypair, outsider_keypair):
        assert pair.decrypt(blob_path(data_dir, blob)) == WORDS
    assert not blob_path(data_dir, candidate).exists()
    # Whom every part of the submission reaches is what the pages show.
    submission.refresh_from_db()
    # The manifest was not replaced: the newcomer cannot read all of it yet.
    assert sorted(submission.recipients) == sorted([editor_keypair.fingerprint,
                                                    second_editor_keypair.fingerprint])
    assert replacement.blob_recipients(submission, blob) == Replacement.objects.get().required


def test_a_session_key_packet_for_the_right_key_around_a_wrong_session_key_does_not_count(
        team, editor_keypair, second_editor_keypair, data_dir, monkeypatch):
    """The hostile client's trick: a packet naming the colleague's key, wrapping a session
    key for some other message. The colleague's gpg decrypts the packet, then the data fails."""
    boss, plain, submission = team
    blob = submission.files.get().blob
    real = encrypt(WORDS, editor_keypair.fingerprint)
    decoy = encrypt(b"decoy", second_editor_keypair.fingerprint)
    work = data_dir / "forge"
    work.mkdir()
    (work / "real.gpg").write_bytes(real)
    (work / "decoy.gpg").write_bytes(decoy)
    real_packets, data_at = client_checks.session_key_packets(work / "real.gpg")
    decoy_packets, _ = client_checks.session_key_packets(work / "decoy.gpg")
    forged = decoy_packets[0] + real_packets[0] + real[data_at:]
    api = api_for(boss, ["read", "reencrypt"])
    replacement_id = put(api, submission, blob, forged).json()["replacement"]
    row = pending_row(api_for(plain), replacement_id)
    [reply] = check_as(second_editor_keypair, monkeypatch, data_dir, row)
    assert reply["refusal"] == "cannot-decrypt"
    monkeypatch.setenv("GNUPGHOME", str(editor_keypair.home))
    assert client_checks.keys_that_open(blob_path(data_dir, row["candidate"])) == {
        editor_keypair.fingerprint: hashlib.sha256(WORDS).hexdigest()}


def test_a_copy_with_other_words_is_refused_by_an_editor_who_read_the_old_one(
        team, editor_keypair, second_editor_keypair, data_dir, monkeypatch):
    boss, plain, submission = team
    blob = submission.files.get().blob
    forged_words = b"words the author never wrote"
    api = api_for(boss, ["read", "reencrypt"])
    forged = encrypt(forged_words, editor_keypair.fingerprint,
                     second_editor_keypair.fingerprint)
    replacement_id = put(api, submission, blob, forged, forged_words).json()["replacement"]
    colleague = api_for(plain)
    [reply] = check_as(second_editor_keypair, monkeypatch, data_dir,
                       pending_row(colleague, replacement_id))
    assert reply["refusal"] == "differs"
    assert answer(colleague, replacement_id, reply)["state"] == "discarded"
    # And a client that says nothing about the old copy is not believed.
    replacement_id = put(api, submission, blob, forged, forged_words).json()["replacement"]
    unchecked = colleague.post(
        f"/api/v1/replacements/{replacement_id}/confirmations/",
        json.dumps({"fingerprint": second_editor_keypair.fingerprint,
                    "plaintext_sha256": hashlib.sha256(forged_words).hexdigest()}),
        content_type="application/json")
    assert unchecked.status_code == 400 and "old ciphertext" in unchecked.json()["error"]
    assert second_editor_keypair.decrypt(blob_path(data_dir, blob)) == WORDS


def test_only_a_keys_owner_can_answer_for_it(team, editor_keypair, second_editor_keypair,
                                             data_dir):
    boss, plain, submission = team
    blob = submission.files.get().blob
    api = api_for(boss, ["read", "reencrypt"])
    new = encrypt(WORDS, editor_keypair.fingerprint)
    replacement_id = put(api, submission, blob, new).json()["replacement"]
    # The proposer answers for the colleague's key: refused, and nothing recorded.
    forged = api.post(f"/api/v1/replacements/{replacement_id}/confirmations/",
                      json.dumps({"fingerprint": second_editor_keypair.fingerprint,
                                  "plaintext_sha256": hashlib.sha256(WORDS).hexdigest(),
                                  "compared": True}), content_type="application/json")
    assert forged.status_code == 403
    assert Replacement.objects.get().state == "pending"
    assert not Replacement.objects.get().confirmations.exists()


def test_a_declared_hash_that_no_key_finds_discards_the_copy(team, editor_keypair,
                                                             second_editor_keypair, data_dir,
                                                             monkeypatch):
    boss, _, submission = team
    blob = submission.files.get().blob
    api = api_for(boss, ["read", "reencrypt"])
    new = encrypt(WORDS, editor_keypair.fingerprint,
                  second_editor_keypair.fingerprint)
    replacement_id = put(api, submission, blob, new, plaintext=b"something else").json()[
        "replacement"]
    [reply] = check_as(editor_keypair, monkeypatch, data_dir, pending_row(api, replacement_id))
    assert answer(api, replacement_id, reply)["reason"] == "hash"


def test_deactivating_a_colleagues_key_first_does_not_let_one_editor_replace_alone(
        team, editor_keypair, second_editor_keypair, data_dir):
    boss, _, submission = team
    from portal.editors.keys import deactivate_key

    deactivate_key(EditorKey.objects.get(fingerprint=second_editor_keypair.fingerprint), boss)
    api = api_for(boss, ["read", "reencrypt"])
    new = encrypt(WORDS, editor_keypair.fingerprint)
    body = put(api, submission, submission.files.get().blob, new).json()
    assert second_editor_keypair.fingerprint in body["required"]


def test_unconfirmed_copies_expire_and_purge_keeps_them_until_then(team, editor_keypair,
                                                                   data_dir):
    from portal.submissions.ciphertext import referenced_blobs

    boss, _, submission = team
    blob = submission.files.get().blob
    before = blob_path(data_dir, blob).read_bytes()
    api = api_for(boss, ["read", "reencrypt"])
    put(api, submission, blob, encrypt(WORDS, editor_keypair.fingerprint))
    pending = Replacement.objects.get()
    assert pending.candidate in referenced_blobs()
    assert replacement.expire() == 0
    Replacement.objects.update(proposed_on=date.today() - timedelta(days=15))
    assert replacement.expire() == 1
    pending.refresh_from_db()
    assert pending.state == "discarded" and pending.reason == "expired"
    assert pending.candidate not in referenced_blobs()
    assert blob_path(data_dir, blob).read_bytes() == before


def test_tokens_have_scopes_short_lives_and_a_day_of_last_use(team):
    boss, plain, _ = team
    status, body = get_token(Client(), boss, scopes=["read", "reencrypt"])
    assert status == 201 and body["scopes"] == ["read", "reencrypt"]
    row = ApiToken.objects.get(digest=digest(body["token"]))

    assert row.expires <= timezone.now() + timedelta(days=1)
    assert row.last_used_on is None
    api = Client(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert api.get("/api/v1/submissions/").status_code == 200
    row.refresh_from_db()
    assert row.last_used_on == date.today()
    # A reencrypt token cannot write notes or replies; an unknown scope is refused.
    submission = Submission.objects.get()
    assert api.post(f"/api/v1/submissions/{submission.public_id}/notes/", b"x",
                    content_type="application/octet-stream").status_code == 403
    assert get_token(Client(), plain, scopes=["everything"])[0] == 400
    read_only = api_for(plain, ["read"])
    assert read_only.post(f"/api/v1/submissions/{submission.public_id}/replies/", b"x",
                          content_type="application/octet-stream").status_code == 403


def test_the_account_page_lists_tokens_and_revokes_them(team):
    from tests.editorial.editors import verified_client

    _, plain, _ = team
    status, body = get_token(Client(), plain)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    api.get("/api/v1/submissions/")
    client = verified_client(plain)
    page = client.get("/editor/account/").content.decode()
    row = ApiToken.objects.get(user=plain)
    today = date.today().isoformat()
    assert "portal-editor" in page and "read, note, reply" in page
    assert page.count(today) >= 2  # created and last used: days, never times
    assert row.expires.date().isoformat() in page
    other = make_editor("other")
    _, theirs = get_token(Client(), other)
    other_row = ApiToken.objects.get(user=other)
    assert client.post(f"/editor/account/tokens/{other_row.pk}/revoke/").status_code == 404
    assert client.post(f"/editor/account/tokens/{row.pk}/revoke/").status_code == 302
    assert api.get("/api/v1/submissions/").status_code == 401
    assert Client(HTTP_AUTHORIZATION=f"Bearer {theirs['token']}").get(
        "/api/v1/submissions/").status_code == 200
    assert current_code(plain)  # the revocation needed no code


def test_key_changes_endpoint_lists_pending_keys_and_changes(team, outsider_keypair):
    from portal.editors.keys import add_key

    boss, plain, _ = team
    add_key(boss, outsider_keypair.public, proposed_by=boss)
    answer_ = api_for(plain).get("/api/v1/keys/changes/").json()
    assert [k["fingerprint"] for k in answer_["pending"]] == [outsider_keypair.fingerprint]
    assert any("boss proposed a key" in c["text"] for c in answer_["changes"])
    assert all(len(c["on"]) == 10 for c in answer_["changes"])  # days only
    # Keys waiting for approval are not handed out for encrypting.
    listed = api_for(plain).get("/api/v1/keys/").json()["keys"]
    assert outsider_keypair.fingerprint not in [k["fingerprint"] for k in listed]
