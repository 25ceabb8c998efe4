"""API replies: only ciphertext, only to the author's current reply key, only for editors."""

from __future__ import annotations

import pytest

from portal.correspondence.models import Message, ReplyKey
from portal.store import Store
from tests.api.test_api import setup  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def encrypted_to(editor_keypair, key: ReplyKey, text: bytes) -> bytes:  # type: ignore[no-untyped-def]
    editor_keypair.gpg("--import", input=key.public_key.encode())
    return editor_keypair.gpg("--encrypt", "--trust-model", "always", "-r",
                              editor_keypair.fingerprint, "-r", key.fingerprint, input=text).stdout


def test_detail_names_the_reply_key_and_lists_messages(setup):  # noqa: F811
    _, api, submission, _ = setup
    detail = api.get(f"/api/v1/submissions/{submission.public_id}/").json()
    key = ReplyKey.objects.get(author=submission.author, active=True)
    assert detail["reply_key"]["fingerprint"] == key.fingerprint
    assert "PUBLIC KEY BLOCK" in detail["reply_key"]["armored"]
    assert detail["messages"] == [] and detail["version"] == 1 and detail["revision_of"] is None


def test_a_reply_encrypted_elsewhere_is_kept_and_listed(setup, editor_keypair):  # noqa: F811
    _, api, submission, _ = setup
    key = ReplyKey.objects.get(author=submission.author, active=True)
    body = encrypted_to(editor_keypair, key, b"encrypted on a laptop")
    response = api.post(f"/api/v1/submissions/{submission.public_id}/replies/", body,
                        content_type="application/octet-stream",
                        HTTP_X_PENNAME_REPLY_KEY=key.fingerprint)
    assert response.status_code == 201, response.content
    message = Message.objects.get()
    assert not message.encrypted_by_server and message.sender == "editor"
    detail = api.get(f"/api/v1/submissions/{submission.public_id}/").json()
    assert [m["name"] for m in detail["messages"]] == [message.blob]
    blob = api.get(f"/api/v1/submissions/{submission.public_id}/blobs/{message.blob}")
    assert blob.status_code == 200 and blob["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize("problem", ["plaintext", "wrong-key", "no-key", "too-large"])
def test_a_reply_that_is_not_ciphertext_to_the_current_key_is_refused(setup, editor_keypair,  # noqa: F811
                                                                       problem):
    from portal.correspondence.thread import MAX_REPLY_CIPHERTEXT_BYTES

    _, api, submission, _ = setup
    key = ReplyKey.objects.get(author=submission.author, active=True)
    body = {"plaintext": b"hello, in the clear",
            "too-large": b"\x85" * (MAX_REPLY_CIPHERTEXT_BYTES + 1)}.get(
        problem, encrypted_to(editor_keypair, key, b"x"))
    header = {"wrong-key": editor_keypair.fingerprint, "no-key": ""}.get(problem, key.fingerprint)
    response = api.post(f"/api/v1/submissions/{submission.public_id}/replies/", body,
                        content_type="application/octet-stream", HTTP_X_PENNAME_REPLY_KEY=header)
    assert response.status_code == 400 and "error" in response.json()
    assert not Message.objects.exists()
    assert len(list(Store.default().names())) == 2  # the manifest and the file, nothing more


def test_a_reply_without_a_token_is_401(setup):  # noqa: F811
    from django.test import Client

    _, _, submission, _ = setup
    response = Client().post(f"/api/v1/submissions/{submission.public_id}/replies/", b"x",
                             content_type="application/octet-stream")
    assert response.status_code == 401
