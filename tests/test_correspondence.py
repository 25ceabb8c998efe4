"""Encrypted correspondence between editors and pseudonymous authors, with real gpg.

Read like the threat model: a reply's text is nowhere at rest; the server
opens a stored reply only with the author's codename (and never one encrypted
to the author's own key); another author reaches nothing; a revision is
cleaned and reviewed like a first upload; deleting leaves nothing behind.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import pytest
from django.test import Client

from portal.authors.identity import reply_secret_for
from portal.correspondence import replykeys, thread, unlock
from portal.correspondence.models import Message, ReplyKey
from portal.crypto import codenames, replykey
from portal.store import Store
from portal.submissions.models import Submission, SubmissionFile
from tests.authoring import confirm, new_author, review_of, upload
from tests.leaks import database_dump, found_in, found_in_files
from tests.test_login_throttle import to_start_of_minute

pytestmark = pytest.mark.django_db
CANARY = "REPLY-CANARY-5b2c-工人-e8"




def send_draft(client: Client, name: str = "draft.md", body: bytes = b"# Draft\n\nWords.\n",
               **extra: str) -> Submission:
    response = confirm(client, review_of(upload(client, [(name, body)], **extra)))
    assert response.status_code == 302, response.content[:500]
    public_id = re.search(r"/author/submission/([0-9a-f-]{36})/", response["Location"])
    assert public_id
    return Submission.objects.get(public_id=public_id.group(1))


def page(client: Client, submission: Submission) -> str:
    response = client.get(f"/author/submission/{submission.public_id}/")
    assert response.status_code == 200
    return response.content.decode()


def reply_from_web(desk: Client, submission: Submission, text: str) -> None:
    response = desk.post(f"/editor/submission/{submission.public_id}/reply/", {"text": text})
    assert response.status_code == 302, response.content[:800]


def gpg(home: Path, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["gpg", "--homedir", str(home), "--batch", "--pinentry-mode",
                           "loopback", *args], input=stdin, capture_output=True, timeout=60,
                          check=False)


# --- Reply keys ----------------------------------------------------------------------------


def test_an_author_who_sends_gets_a_reply_key_that_says_nothing_about_them(client, desk):
    new_author(client, pen_name="Ah Mei")
    assert not ReplyKey.objects.exists()  # made when first needed, not with the codename
    send_draft(client)
    key = ReplyKey.objects.get()
    assert key.generated and key.active
    assert "PRIVATE KEY BLOCK" in key.locked_secret_key
    packets = subprocess.run(["gpg", "--batch", "--list-packets"], input=key.public_key.encode(),
                             capture_output=True, check=False).stdout.decode()
    # Key and self-signatures all carry the same fixed moment, and no name.
    assert set(re.findall(r"created (\d{6,})", packets)) == {"1577836800"}
    assert set(re.findall(r"sig created (\S+)\)", packets)) == {"2020-01-01"}
    # The one user ID names neither the author nor the portal.
    assert re.findall(r"^:user ID packet: \"(.*)\"$", packets, re.M) == ["reply key"]
    assert "Ah Mei" not in packets and "Penname" not in packets


def test_the_locked_key_opens_only_with_the_codename(client, desk):
    codename = new_author(client)
    submission = send_draft(client)
    reply_from_web(desk, submission, "Only for the author")
    key = ReplyKey.objects.get()
    stored = Store.default().path(Message.objects.get().blob).read_bytes()
    right = replykeys.passphrase(reply_secret_for(codenames.normalise(codename) or ""))
    assert replykey.decrypt_messages(key.locked_secret_key, right, [stored],
                                     replykeys.workdir()) == [b"Only for the author"]
    wrong_codename = codenames.generate()
    wrong = replykeys.passphrase(reply_secret_for(wrong_codename))
    with pytest.raises(replykey.WrongPassphrase):
        replykey.decrypt_messages(key.locked_secret_key, wrong, [stored], replykeys.workdir())
    # The codename alone is not the passphrase either: the derivation needs the server's pepper.
    with pytest.raises(replykey.WrongPassphrase):
        replykey.decrypt_messages(key.locked_secret_key, codename, [stored], replykeys.workdir())


def test_author_reads_an_editor_reply_after_logging_in_again(client, desk):
    codename = new_author(client)
    submission = send_draft(client)
    reply_from_web(desk, submission, "Thank you — could you cut the second part?\n谢谢")
    assert "could you cut the second part?" in page(client, submission)
    client.post("/author/logout/")
    assert client.post("/author/login/", {"codename": codename}).status_code == 302
    html = page(client, submission)
    assert "could you cut the second part?" in html and "谢谢" in html


def test_a_session_without_the_cookie_cannot_read_replies(client, desk):
    new_author(client)
    submission = send_draft(client)
    reply_from_web(desk, submission, "Sealed words")
    assert client.cookies[unlock.COOKIE]["httponly"]
    assert client.cookies[unlock.COOKIE]["samesite"] == "Strict"
    assert client.cookies[unlock.COOKIE]["path"] == "/author/"
    del client.cookies[unlock.COOKIE]
    html = page(client, submission)
    assert "Sealed words" not in html
    assert "log in again with your codename" in html


def test_a_copied_cookie_is_useless_after_logout(client, desk):
    new_author(client)
    submission = send_draft(client)
    reply_from_web(desk, submission, "After logout")
    stolen = client.cookies[unlock.COOKIE].value
    client.post("/author/logout/")
    thief = Client()
    thief.cookies[unlock.COOKIE] = stolen
    response = thief.get(f"/author/submission/{submission.public_id}/")
    assert response.status_code == 302 and "After logout" not in response.content.decode()


def test_author_downloads_their_key_with_the_codename_and_reads_replies_offline(client, desk):
    codename = new_author(client)
    submission = send_draft(client)
    reply_from_web(desk, submission, "Read me offline")
    refused = client.post("/author/reply-key/secret.asc", {"codename": codenames.generate()})
    assert refused.status_code == 403 and b"PRIVATE KEY" not in refused.content
    answer = client.post("/author/reply-key/secret.asc", {"codename": codename.upper()})
    assert answer.status_code == 200
    assert answer["Content-Disposition"].startswith("attachment")
    assert answer["X-Content-Type-Options"] == "nosniff"
    # A short path: gpg-agent's socket name must fit the system's limit.
    laptop = Path(tempfile.mkdtemp(prefix="laptop"))
    assert gpg(laptop, "--import", stdin=answer.content).returncode == 0
    asc = client.get(f"/author/submission/{submission.public_id}/message/1.asc")
    assert asc.status_code == 200 and asc["Content-Disposition"].startswith("attachment")
    assert asc.content.startswith(b"-----BEGIN PGP MESSAGE-----")
    passphrase = codenames.normalise(codename) or ""
    opened = gpg(laptop, "--passphrase", passphrase, "--decrypt", stdin=asc.content)
    assert opened.stdout == b"Read me offline", opened.stderr[-300:]
    # A new agent, which remembers no passphrase: the wrong one opens nothing.
    subprocess.run(["gpgconf", "--homedir", str(laptop), "--kill", "gpg-agent"], check=False)
    assert gpg(laptop, "--passphrase", "wrong words", "--decrypt", stdin=asc.content).stdout == b""
    subprocess.run(["gpgconf", "--homedir", str(laptop), "--kill", "gpg-agent"], check=False)
    shutil.rmtree(laptop, ignore_errors=True)


def test_with_the_authors_own_key_the_server_cannot_read_its_own_stored_reply(
        client, desk, author_own_keypair):
    codename = new_author(client)
    response = client.post("/author/reply-key/own/", {"public_key": author_own_keypair.public})
    assert response.status_code == 302
    keys = client.get("/author/reply-key/").content.decode()
    assert author_own_keypair.fingerprint[:4] in keys.replace(" ", "")
    submission = send_draft(client)
    reply_from_web(desk, submission, "For your key only")
    message = Message.objects.get()
    assert message.reply_key == author_own_keypair.fingerprint
    # Not even with the codename: the server holds no secret key for it.
    secret = reply_secret_for(codenames.normalise(codename) or "")
    author = submission.author
    [entry] = thread.read(author, submission, secret)
    assert entry.text is None and entry.own_key
    assert "For your key only" not in page(client, submission)
    asc = client.get(f"/author/submission/{submission.public_id}/message/1.asc").content
    assert author_own_keypair.gpg("--decrypt", input=asc).stdout == b"For your key only"


@pytest.mark.parametrize("bad", ["secret", "two", "garbage"])
def test_a_key_that_cannot_serve_is_refused_with_a_reason(client, desk, editor_keypair,
                                                          second_editor_keypair, bad):
    new_author(client)
    assert client.get("/author/reply-key/").status_code == 200  # the portal's key is made here
    armored = {
        "secret": "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nxx\n-----END PGP PRIVATE KEY BLOCK-----",
        "two": editor_keypair.public + second_editor_keypair.public,
        "garbage": "not a key",
    }[bad]
    response = client.post("/author/reply-key/own/", {"public_key": armored})
    assert response.status_code == 400
    assert "cannot be used for replies" in response.content.decode()
    assert ReplyKey.objects.get().generated  # still the portal's key, still active


def test_public_key_larger_than_the_limit_is_refused_before_gpg(client, desk):
    from portal.crypto.openpgp import MAX_KEY_BYTES

    new_author(client)
    response = client.post("/author/reply-key/own/", {"public_key": "A" * (MAX_KEY_BYTES + 1)})
    assert response.status_code == 400
    assert "larger than any public key" in response.content.decode()


# --- Nothing at rest -------------------------------------------------------------------------


def test_reply_canary_is_nowhere_at_rest(client, desk, data_dir, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    new_author(client)
    submission = send_draft(client)
    reply_from_web(desk, submission, f"Editor says {CANARY}")
    client.post(f"/author/submission/{submission.public_id}/message/",
                {"text": f"Author answers {CANARY}"})
    html = page(client, submission)
    assert html.count(CANARY) == 2  # the author reads both, from memory
    assert found_in_files(CANARY, data_dir, Path(tempfile.gettempdir())) == []
    assert not found_in(CANARY, database_dump())
    captured = capfd.readouterr()
    logs = "\n".join(r.getMessage() for r in caplog.records) + captured.out + captured.err
    assert not found_in(CANARY, logs.encode("utf-8"))


def test_editors_decrypt_every_message_with_their_own_key(client, desk, editor_keypair):
    new_author(client)
    submission = send_draft(client)
    client.post(f"/author/submission/{submission.public_id}/message/", {"text": "From the author"})
    reply_from_web(desk, submission, "From an editor")
    texts = [editor_keypair.decrypt(Store.default().path(m.blob)) for m in Message.objects.all()]
    assert texts == [b"From the author", b"From an editor"]
    assert [m.sender for m in Message.objects.all()] == ["author", "editor"]
    # Days only: no time of author activity is kept.
    assert all(not hasattr(m, "at") for m in Message.objects.all())


# --- Decisions, revisions ------------------------------------------------------------------


def test_a_decision_and_its_message_reach_the_author(client, desk):
    new_author(client)
    submission = send_draft(client)
    desk.post(f"/editor/submission/{submission.public_id}/state/", {"target": "in_review"})
    response = desk.post(f"/editor/submission/{submission.public_id}/state/", {
        "target": "revisions_requested", "message": "Please shorten the opening."})
    assert response.status_code == 302
    html = page(client, submission)
    assert "revisions requested" in html and "Please shorten the opening." in html
    assert Message.objects.get().decision == "revisions_requested"


def docx_with_author(text: str, author: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType='
            '"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
            '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-'
            'package.core-properties+xml"/></Types>'))
        archive.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
            'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target='
            '"word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/'
            'package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            '</Relationships>'))
        archive.writestr("word/document.xml", (
            '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.'
            'openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>'
            f'{text}</w:t></w:r></w:p></w:body></w:document>'))
        archive.writestr("docProps/core.xml", (
            '<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties xmlns:cp="http://schemas.'
            'openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/'
            f'dc/elements/1.1/"><dc:creator>{author}</dc:creator></cp:coreProperties>'))
    return buffer.getvalue()


def test_a_revision_is_cleaned_and_reviewed_like_a_first_upload(client, desk, editor_keypair):
    new_author(client)
    first = send_draft(client)
    desk.post(f"/editor/submission/{first.public_id}/state/", {"target": "in_review"})
    desk.post(f"/editor/submission/{first.public_id}/state/", {"target": "revisions_requested"})
    revision = upload(client, [("draft-v2.docx", docx_with_author("Second draft", "Zhang Wei"))],
                      title="Second draft", revision_of=str(first.public_id))
    review = review_of(revision)
    assert "Removed" in review.html  # the same review page, with its cleaning report
    response = confirm(client, review)
    assert response.status_code == 302
    second = Submission.objects.get(revision_of=first)
    assert second.version == 2 and second.author == first.author
    first.refresh_from_db()
    assert first.state == "in_review"  # a revision answers the request
    assert first.state_changes.last().by is None  # type: ignore[attr-defined]
    # Redirected to the piece's page; both versions are listed there and for the editors.
    assert client.get(response["Location"], follow=True).content.decode().count("<td>2</td>") >= 1
    editor_page = desk.get(f"/editor/submission/{first.public_id}/").content.decode()
    assert "Version 1" in editor_page and "Version 2" in editor_page
    cleaned = editor_keypair.decrypt(Store.default().path(
        SubmissionFile.objects.get(submission=second).blob))
    with zipfile.ZipFile(io.BytesIO(cleaned)) as archive:
        everything = b"".join(archive.read(n) for n in archive.namelist())
    assert b"Zhang Wei" not in everything and b"Second draft" in everything


def test_revisions_stop_at_the_version_limit(client, desk, monkeypatch):
    from portal.authors import sending

    monkeypatch.setattr(sending, "MAX_VERSIONS", 2)
    new_author(client)
    first = send_draft(client)
    send_draft(client, revision_of=str(first.public_id))  # version 2: at the limit
    html = page(client, first)
    assert "Send a new version" not in html
    response = upload(client, [("v3.md", b"three\n")], revision_of=str(first.public_id))
    assert response.status_code == 400
    assert "no longer takes new versions" in response.content.decode()
    assert Submission.objects.count() == 2


def test_a_declined_submission_takes_no_revision(client, desk):
    new_author(client)
    first = send_draft(client)
    desk.post(f"/editor/submission/{first.public_id}/state/", {"target": "declined"})
    response = upload(client, [("v2.md", b"again\n")], revision_of=str(first.public_id))
    assert response.status_code == 400
    assert Submission.objects.count() == 1


# --- Limits --------------------------------------------------------------------------------


def test_a_message_at_the_length_limit_is_sent_and_one_longer_is_refused(client, desk, settings):
    new_author(client)
    submission = send_draft(client)
    limit = settings.PORTAL_MAX_MESSAGE_CHARS
    url = f"/author/submission/{submission.public_id}/message/"
    assert client.post(url, {"text": "字" * limit}).status_code == 302
    refused = client.post(url, {"text": "字" * (limit + 1)})
    assert refused.status_code == 400
    assert Message.objects.count() == 1


def test_a_thread_stops_at_its_message_limit(client, desk, monkeypatch):
    monkeypatch.setattr(thread, "MAX_MESSAGES_PER_THREAD", 3)
    new_author(client)
    submission = send_draft(client)
    url = f"/author/submission/{submission.public_id}/message/"
    for n in range(3):
        assert client.post(url, {"text": f"message {n}"}).status_code == 302
    refused = client.post(url, {"text": "one too many"})
    assert refused.status_code == 503 and "limit of 3 messages" in refused.content.decode()
    assert Message.objects.count() == 3
    assert len(list(Store.default().names())) == 2 + 3  # manifest, file, three messages


def test_no_editor_key_means_the_message_is_not_kept_and_the_author_is_told(client, desk):
    from portal.submissions.models import EditorKey

    new_author(client)
    submission = send_draft(client)
    EditorKey.objects.update(active=False)
    before = set(Store.default().names())
    response = client.post(f"/author/submission/{submission.public_id}/message/",
                           {"text": "anyone there?"})
    assert response.status_code == 503
    assert "No editor can receive messages right now" in response.content.decode()
    assert set(Store.default().names()) == before and not Message.objects.exists()


# --- Another author, withdraw, delete --------------------------------------------------------


def test_author_b_reaches_nothing_of_author_a(client, desk):
    new_author(client)
    submission = send_draft(client)
    reply_from_web(desk, submission, "For A only")
    other = Client()
    new_author(other)
    base = f"/author/submission/{submission.public_id}"
    assert other.get(f"{base}/").status_code == 404
    assert other.get(f"{base}/message/1.asc").status_code == 404
    for action, data in [("message", {"text": "hi"}), ("withdraw", {}),
                         ("delete", {}), ("delete", {"confirm": "yes"})]:
        assert other.post(f"{base}/{action}/", data).status_code == 404
    response = upload(other, [("v2.md", b"mine now\n")], revision_of=str(submission.public_id))
    assert response.status_code == 400
    submission.refresh_from_db()
    assert submission.state == "new" and Message.objects.count() == 1
    assert Submission.objects.count() == 1


def test_withdraw_then_delete_leaves_no_ciphertext_and_no_rows(client, desk, data_dir):
    new_author(client)
    first = send_draft(client)
    send_draft(client, revision_of=str(first.public_id))
    reply_from_web(desk, first, "A reply")
    desk.post(f"/editor/submission/{first.public_id}/note/", {"text": "internal"})
    client.post(f"/author/submission/{first.public_id}/message/", {"text": "An answer"})
    assert client.post(f"/author/submission/{first.public_id}/withdraw/").status_code == 302
    first.refresh_from_db()
    assert first.state == "withdrawn"
    assert len(list(Store.default().names())) == 2 + 2 + 1 + 2
    asked = client.post(f"/author/submission/{first.public_id}/delete/")
    assert asked.status_code == 200 and 'id="delete"' in asked.content.decode()
    assert Submission.objects.count() == 2  # asking again deletes nothing
    done = client.post(f"/author/submission/{first.public_id}/delete/", {"confirm": "yes"})
    assert done.status_code == 302
    assert not Submission.objects.exists() and not SubmissionFile.objects.exists()
    assert not Message.objects.exists()
    assert list(Store.default().names()) == []
    assert client.get(f"/author/submission/{first.public_id}/").status_code == 404


@pytest.mark.parametrize("budget", ["circuit", "site"])
def test_exporting_the_key_spends_the_codename_failure_budgets(client, desk, settings, clock,
                                                               budget):
    """An open session is no guessing oracle: wrong codenames here count like failed logins,
    and so does another author's codename."""
    settings.PORTAL_LOGIN_FAILURES_PER_CIRCUIT = 3 if budget == "circuit" else 100
    settings.PORTAL_CODENAME_FAILURES_PER_MINUTE = 3 if budget == "site" else 100
    other = new_author(Client())
    codename = new_author(client)
    to_start_of_minute(clock)
    for _ in range(2):
        assert client.post("/author/reply-key/secret.asc",
                           {"codename": codenames.generate()}).status_code == 403
    assert client.post("/author/reply-key/secret.asc", {"codename": other}).status_code == 403
    paused = client.post("/author/reply-key/secret.asc", {"codename": codename})
    assert paused.status_code == 429 and b"PRIVATE KEY" not in paused.content
    assert int(paused["Retry-After"]) > 0
    expected = "wrong codenames were typed on this connection" if budget == "circuit" \
        else "logins are paused"
    assert expected in paused.content.decode()


def test_an_author_who_has_sent_nothing_can_still_download_their_key(client, desk):
    codename = new_author(client)
    assert not ReplyKey.objects.exists()
    answer = client.post("/author/reply-key/secret.asc", {"codename": codename})
    assert answer.status_code == 200 and b"PRIVATE KEY BLOCK" in answer.content
    assert ReplyKey.objects.get().active


def test_an_ordinary_visit_opens_only_the_newest_messages(client, desk, monkeypatch):
    """Each message is one gpg run: a page view opens the newest few, the rest on request."""
    monkeypatch.setattr(thread, "SHOWN_BY_DEFAULT", 2)
    new_author(client)
    submission = send_draft(client)
    for n in range(3):
        reply_from_web(desk, submission, f"reply number {n}")
    html = page(client, submission)
    assert "reply number 0" not in html and "reply number 2" in html
    assert "show the whole conversation" in html
    everything = client.get(f"/author/submission/{submission.public_id}/?all=1").content.decode()
    assert all(f"reply number {n}" in everything for n in range(3))
