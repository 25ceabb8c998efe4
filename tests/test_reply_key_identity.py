"""Reply keys say nothing about who owns them: refused before storing, minimal when stored.

A reply key travels: the author keeps its secret part on a device that can be
seized, and the server keeps its public part. A user ID with a legal name or
an email address, a photo, or a friend's certification links the pen name to a
person, so such keys are refused before gpg imports them; the generated key's
user ID names neither the author nor the portal; downloads are named
`message-1.asc` and `key.asc`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.test import Client

from portal.correspondence import replykeys
from portal.correspondence.models import ReplyKey
from portal.crypto import replykey
from portal.submissions.recipients import keyring
from tests.authoring import confirm, new_author, review_of, upload
from tests.gpgkeys import EditorKeypair, make_keypair
from tests.leaks import database_dump, found_in, found_in_files

pytestmark = pytest.mark.django_db
REFUSED = "This key says who owns it"




def gpg(home: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["gpg", "--homedir", str(home), "--batch", "--pinentry-mode",
                           "loopback", "--passphrase", "", *args], input=stdin,
                          capture_output=True, timeout=120, check=False)


def with_photo(pair: EditorKeypair, tmp_path: Path) -> str:
    """The key with a photo ID added (a user attribute packet), exported again."""
    from PIL import Image

    photo = tmp_path / "face.jpg"
    Image.new("RGB", (24, 24), "red").save(photo)
    home = short_home(pair)
    edited = gpg(home, "--command-fd", "0", "--edit-key", pair.fingerprint,
                 stdin=f"addphoto\n{photo}\ny\nsave\n".encode())
    assert b"[jpeg image" in edited.stdout + edited.stderr, edited.stderr
    exported = gpg(home, "--armor", "--export", pair.fingerprint).stdout.decode()
    assert "uat:" in gpg(home, "--with-colons", "--list-keys", pair.fingerprint).stdout.decode()
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], check=False)
    shutil.rmtree(home.parent, ignore_errors=True)
    return exported


def short_home(pair: EditorKeypair) -> Path:
    """A copy of the pair's GnuPG home at a path short enough for gpg-agent's socket."""
    home = Path(tempfile.mkdtemp(prefix="gpg-", dir="/tmp")) / "h"
    shutil.copytree(pair.home, home, ignore=shutil.ignore_patterns("S.*"))
    return home


def certified_by(pair: EditorKeypair, signer: EditorKeypair, tmp_path: Path) -> str:
    """The key with a certification from `signer` (a friend who vouched for it)."""
    home = short_home(signer)
    gpg(home, "--import", stdin=pair.public.encode())
    signed = gpg(home, "--yes", "--quick-sign-key", pair.fingerprint)
    assert signed.returncode == 0, signed.stderr
    exported = gpg(home, "--armor", "--export", pair.fingerprint).stdout.decode()
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], check=False)
    shutil.rmtree(home.parent, ignore_errors=True)
    return exported


def issuers(armored: str) -> set[str]:
    packets = subprocess.run(["gpg", "--batch", "--list-packets"], input=armored.encode(),
                             capture_output=True, check=False).stdout.decode()
    return set(re.findall(r"keyid ([0-9A-F]{16})", packets))


@pytest.mark.parametrize("owner", ["email", "name", "comment"])
def test_a_key_that_names_its_owner_is_refused_before_anything_is_stored(
        client, desk, data_dir, keys_root, owner):
    uid, word = {"email": ("reply <xiaomei.chen@example.org>", "xiaomei.chen"),
                 "name": ("Chen Xiaomei 陈晓梅", "陈晓梅"),
                 "comment": ("reply (Shenzhen factory)", "Shenzhen")}[owner]
    pair = make_keypair(keys_root / f"named-{owner}", uid)
    new_author(client)
    assert client.get("/author/reply-key/").status_code == 200  # the portal's key is made here
    response = client.post("/author/reply-key/own/", {"public_key": pair.public})
    assert response.status_code == 400
    assert REFUSED in response.content.decode()
    assert not ReplyKey.objects.filter(fingerprint=pair.fingerprint).exists()
    assert ReplyKey.objects.get().generated  # the portal's key is still the active one
    # gpg never imported it: neither the keyring nor any other file holds the user ID.
    assert keyring().key_info(pair.fingerprint).reason == "the key is not in the keyring"
    assert found_in_files(word, data_dir) == []
    assert not found_in(word, database_dump())


def test_a_key_with_a_photo_is_refused(client, desk, keys_root, tmp_path):
    pair = make_keypair(keys_root / "photo", "reply")
    new_author(client)
    response = client.post("/author/reply-key/own/", {"public_key": with_photo(pair, tmp_path)})
    assert response.status_code == 400 and REFUSED in response.content.decode()
    assert not ReplyKey.objects.filter(fingerprint=pair.fingerprint).exists()


def test_the_refusal_is_in_the_authors_language(desk, keys_root):
    pair = make_keypair(keys_root / "named-zh", "陈晓梅 <cxm@example.org>")
    for header, expected in (("zh-CN", "这个密钥"), ("zh-TW", "這把金鑰")):
        client = Client(HTTP_ACCEPT_LANGUAGE=header)
        new_author(client)
        page = client.post("/author/reply-key/own/", {"public_key": pair.public}).content.decode()
        assert expected in page and REFUSED not in page


def test_a_neutral_key_is_stored_without_anyone_elses_certification(
        client, desk, keys_root, tmp_path, second_editor_keypair):
    pair = make_keypair(keys_root / "neutral", "reply")
    friend = second_editor_keypair  # anyone whose certification would name a circle of people
    armored = certified_by(pair, friend, tmp_path)
    assert friend.fingerprint[-16:] in issuers(armored)
    new_author(client)
    assert client.post("/author/reply-key/own/", {"public_key": armored}).status_code == 302
    stored = ReplyKey.objects.get(fingerprint=pair.fingerprint)
    assert stored.active and not stored.generated
    assert friend.fingerprint[-16:] not in issuers(stored.public_key)
    assert issuers(stored.public_key) <= {pair.fingerprint[-16:], *issuers_of_subkeys(pair)}
    # Nothing of what a key says is kept in the database.
    assert not any(f.name == "user_ids" for f in ReplyKey._meta.get_fields())


def issuers_of_subkeys(pair: EditorKeypair) -> set[str]:
    listing = gpg(pair.home, "--with-colons", "--list-keys", pair.fingerprint).stdout.decode()
    return {line.split(":")[4] for line in listing.splitlines() if line.startswith("sub:")}


@pytest.mark.parametrize("label", ["reply", "Reply Key", "作者", " 匿名 "])
def test_neutral_labels_are_accepted(label):
    assert replykey.is_neutral_user_id(label)


@pytest.mark.parametrize("label", ["reply key <a@b.c>", "Chen", "reply (home)", "", "penname"])
def test_anything_else_is_not_neutral(label):
    assert not replykey.is_neutral_user_id(label)


def test_a_generated_key_that_named_the_portal_is_replaced_at_the_next_login(client, desk):
    codename = new_author(client)
    confirm(client, review_of(upload(client, [("draft.md", b"# Draft\n")])))
    old = ReplyKey.objects.get()
    ReplyKey.objects.filter(pk=old.pk).update(names_portal=True)  # as migration 0002 marks them
    client.post("/author/logout/")
    assert client.post("/author/login/", {"codename": codename}).status_code == 302
    new = ReplyKey.objects.get(names_portal=False)
    old.refresh_from_db()
    assert new.generated and new.active and not old.active
    packets = subprocess.run(["gpg", "--batch", "--list-packets"], input=new.public_key.encode(),
                             capture_output=True, check=False).stdout.decode()
    assert ':user ID packet: "reply key"' in packets
    # Logging in again makes nothing more.
    client.post("/author/logout/")
    client.post("/author/login/", {"codename": codename})
    assert ReplyKey.objects.count() == 2


def test_downloads_name_neither_the_portal_nor_the_submission(client, desk):
    codename = new_author(client)
    response = confirm(client, review_of(upload(client, [("a.md", b"# words\n")])))
    submission_url = response["Location"].split("?")[0]
    from portal.submissions.models import Submission

    submission = Submission.objects.get()
    reply = desk.post(f"/editor/submission/{submission.public_id}/reply/", {"text": "hello"})
    assert reply.status_code == 302
    message = client.get(f"{submission_url}message/1.asc")
    assert message["Content-Disposition"] == 'attachment; filename="message-1.asc"'
    key = client.post("/author/reply-key/secret.asc", {"codename": codename})
    assert key["Content-Disposition"] == 'attachment; filename="key.asc"'
    for answer in (message, key):
        assert "penname" not in answer["Content-Disposition"].lower()
        assert submission.short_id not in answer["Content-Disposition"]
    assert replykeys.active_key(submission.author) is not None
