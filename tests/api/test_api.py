"""The JSON API: tokens bound to OTP, ciphertext only, the same permission module."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, get_resolver
from django.utils import timezone

from portal.api.openapi import SPEC
from portal.editors.models import Editor, Note
from portal.submissions.models import Submission
from portal.submissions.tokens import ApiToken, digest
from tests.authoring import confirm, new_author, review_of, upload
from tests.editorial.editors import current_code, make_editor
from tests.storage import blob_path

pytestmark = pytest.mark.django_db


def get_token(client: Client, user, code: str | None = None,  # type: ignore[no-untyped-def]
              scopes: list[str] | None = None) -> tuple[int, dict]:
    asked = {"scopes": scopes} if scopes is not None else {}
    response = client.post("/api/v1/token/", json.dumps({
        "username": user.username, "password": "correct horse battery 9",
        "otp_token": code if code is not None else current_code(user), **asked}),
        content_type="application/json")
    return response.status_code, response.json()


@pytest.fixture
def setup(data_dir, editor_keypair):  # type: ignore[no-untyped-def]
    boss = make_editor("boss", Editor.Role.MANAGING, key=editor_keypair.public)
    author = Client()
    new_author(author, pen_name="Wen")
    confirm(author, review_of(upload(author, [("a.txt", b"draft words")], title="T")))
    status, body = get_token(Client(), boss)
    assert status == 201
    api = Client(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    return boss, api, Submission.objects.get(), body["token"]


def test_token_needs_password_and_a_current_code(data_dir):
    boss = make_editor("boss")
    assert get_token(Client(), boss, "000000")[0] == 401
    status, body = get_token(Client(), boss)
    assert status == 201 and body["token"].startswith("pn_")
    row = ApiToken.objects.get()
    assert row.digest == digest(body["token"]) and body["token"] not in row.digest
    # A week: long enough between two syncs, short enough for a copied config file.
    assert timezone.now() + timedelta(days=6) < row.expires <= timezone.now() + timedelta(days=7)
    assert body["scopes"] == row.scopes == ["read", "note", "reply"]


def test_token_is_refused_to_non_editors(data_dir, django_user_model):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = django_user_model.objects.create_user("stranger", password="correct horse battery 9")
    TOTPDevice.objects.create(user=user, confirmed=True)
    assert get_token(Client(), user)[0] == 401


def test_a_password_typed_as_the_username_never_reaches_the_audit_log(data_dir):
    """As at the web login: an unknown account is recorded as unknown, without what was typed."""
    from portal.submissions.models import AuditEvent
    from tests.leaks import database_dump, found_in

    boss = make_editor("boss")
    typed = "Tr0ub4dor&3-my-password"
    answer = Client().post("/api/v1/token/", json.dumps({
        "username": typed, "password": "x", "otp_token": "000000"}),
        content_type="application/json")
    assert answer.status_code == 401
    [unknown] = AuditEvent.objects.filter(action="api-login-failed")
    assert unknown.actor is None and unknown.target == "" and unknown.detail == {"account": "unknown"}
    assert not found_in(typed, database_dump())
    # A known account's failure is still attributed to it.
    assert get_token(Client(), boss, "000000")[0] == 401
    known = AuditEvent.objects.filter(action="api-login-failed").exclude(pk=unknown.pk).get()
    assert known.actor == boss and known.target == "boss"


def test_token_throttling_is_per_account(data_dir):
    first, second = make_editor("first"), make_editor("second")
    for _ in range(10):
        get_token(Client(), first, "000000")
    assert get_token(Client(), first)[0] == 429
    assert get_token(Client(), second)[0] == 201


def test_every_api_call_needs_a_valid_token(setup):
    boss, api, submission, token = setup
    anonymous = Client()
    paths = ["/api/v1/submissions/", f"/api/v1/submissions/{submission.public_id}/",
             "/api/v1/keys/",
             f"/api/v1/submissions/{submission.public_id}/blobs/{submission.manifest_blob}"]
    for path in paths:
        assert anonymous.get(path).status_code == 401
        assert Client(HTTP_AUTHORIZATION="Bearer pn_forged").get(path).status_code == 401
        assert api.get(path).status_code == 200
    ApiToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    assert api.get(paths[0]).status_code == 401
    ApiToken.objects.update(expires=timezone.now() + timedelta(days=1), revoked=True)
    assert api.get(paths[0]).status_code == 401


def test_revoking_and_logging_out_everywhere_end_tokens(setup):
    boss, api, submission, token = setup
    assert api.delete("/api/v1/token/").status_code == 204
    assert api.get("/api/v1/submissions/").status_code == 401
    status, body = get_token(Client(), boss)
    assert status == 201
    from portal.access import log_out_everywhere

    fresh = Client(HTTP_AUTHORIZATION=f"Bearer {body.get('token', '')}")
    log_out_everywhere(boss)
    assert fresh.get("/api/v1/submissions/").status_code == 401


def test_deactivated_editor_token_stops_working(setup):
    boss, api, _, _ = setup
    boss.is_active = False
    boss.save()
    assert api.get("/api/v1/submissions/").status_code == 401


def test_listing_and_detail_are_metadata_only(setup):
    _, api, submission, _ = setup
    listing = api.get("/api/v1/submissions/").json()["submissions"]
    assert [row["id"] for row in listing] == [str(submission.public_id)]
    detail = api.get(f"/api/v1/submissions/{submission.public_id}/").json()
    assert detail["pen_name"] == "Wen" and detail["files"][0]["kind"] == "text"
    assert "draft words" not in json.dumps(detail) and "T" != detail.get("title")


def test_download_resumes_with_range(setup, data_dir):
    _, api, submission, _ = setup
    blob = submission.files.get().blob
    whole = blob_path(data_dir, blob).read_bytes()
    url = f"/api/v1/submissions/{submission.public_id}/blobs/{blob}"
    full = api.get(url)
    assert b"".join(full.streaming_content) == whole
    assert full["X-Content-Type-Options"] == "nosniff"
    part = api.get(url, HTTP_RANGE="bytes=10-")
    assert part.status_code == 206 and b"".join(part.streaming_content) == whole[10:]
    assert api.get(url, HTTP_RANGE=f"bytes={len(whole)}-").status_code == 416
    other = f"/api/v1/submissions/{submission.public_id}/blobs/{'0' * 32}.gpg"
    assert api.get(other).status_code == 404


def test_notes_accept_only_openpgp_messages(setup, editor_keypair, data_dir):
    _, api, submission, _ = setup
    url = f"/api/v1/submissions/{submission.public_id}/notes/"
    for bad in (b"plain text note", b"", b"-----BEGIN PGP PUBLIC KEY BLOCK-----\nxx",
                editor_keypair.public.encode()):
        assert api.post(url, bad, content_type="application/octet-stream").status_code == 400
    symmetric = editor_keypair.gpg("--symmetric", "--batch", "--passphrase", "x",
                                   input=b"note").stdout
    assert api.post(url, symmetric, content_type="application/octet-stream").status_code == 400
    assert Note.objects.count() == 0
    assert not [p for p in (Path(data_dir) / "store" / ".incoming").iterdir()]
    encrypted = editor_keypair.gpg("--encrypt", "--trust-model", "always", "--throw-keyids",
                                   "-r", editor_keypair.fingerprint, input=b"a real note").stdout
    response = api.post(url, encrypted, content_type="application/octet-stream")
    assert response.status_code == 201
    note = Note.objects.get()
    assert not note.encrypted_by_server
    assert editor_keypair.decrypt(blob_path(data_dir, note.blob)) == b"a real note"


def test_openapi_describes_every_route():
    resolver = get_resolver()
    api_patterns = next(p for p in resolver.url_patterns if getattr(p, "namespace", "") == "api")
    routes = set()
    for pattern in api_patterns.url_patterns:
        assert isinstance(pattern, URLPattern)
        route = "/" + str(pattern.pattern).replace("<uuid:public_id>", "{public_id}").replace(
            "<str:name>", "{name}").replace("<int:pk>", "{pk}")
        routes.add(route)
        assert getattr(pattern.callback, "access", "") in ("api-editor", "api-public")
    assert routes == set(SPEC["paths"])
    assert Client().get("/api/v1/openapi.json").json()["openapi"].startswith("3.")
