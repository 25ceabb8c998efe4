"""Security keys as a second factor, through django-otp-webauthn's real verification."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django_otp_webauthn.models import WebAuthnCredential

from portal.editors.throttle import MAX_FAILURES
from portal.submissions.models import AuditEvent
from tests.editorial.auth import (
    fresh_cache,  # noqa: F401 - autouse fixture
    is_editor_session,
    log_in,
    logged_in_client,
)
from tests.editorial.editors import current_code, make_editor
from tests.editorial.softkey import SoftKey

pytestmark = pytest.mark.django_db

ORIGIN = "http://testserver"


@pytest.fixture
def webauthn_here(settings):  # type: ignore[no-untyped-def]
    """The test client's origin is the configured one (as https://… would be in production)."""
    settings.OTP_WEBAUTHN_RP_ID = "testserver"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [ORIGIN]


def post_json(client: Client, path: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(path, json.dumps(body or {}), content_type="application/json")


def register(client: Client, key: SoftKey, code: str) -> Any:
    page = client.post("/editor/account/security-key/add/", {"otp_token": code})
    assert page.status_code == 200, page.content[:300]
    options = post_json(client, "/editor/webauthn/register/begin/").json()
    return post_json(client, "/editor/webauthn/register/complete/", key.register(options))


@pytest.fixture
def alice_with_key(data_dir, webauthn_here):  # type: ignore[no-untyped-def]
    alice = make_editor("alice")
    key = SoftKey(rp_id="testserver", origin=ORIGIN)
    assert register(logged_in_client(alice), key, current_code(alice)).status_code == 200
    return alice, key


def test_adding_a_key_needs_a_fresh_code(data_dir, webauthn_here):
    alice = make_editor("alice")
    client = logged_in_client(alice)
    assert post_json(client, "/editor/webauthn/register/begin/").status_code == 403
    refused = client.post("/editor/account/security-key/add/", {"otp_token": "000000"})
    assert refused.status_code == 400
    assert post_json(client, "/editor/webauthn/register/begin/").status_code == 403

    key = SoftKey(rp_id="testserver", origin=ORIGIN)
    page = client.post("/editor/account/security-key/add/", {"otp_token": current_code(alice)})
    html = page.content.decode()
    assert 'id="passkey-register-button"' in html and "<noscript>" in html
    options = post_json(client, "/editor/webauthn/register/begin/").json()
    assert post_json(client, "/editor/webauthn/register/complete/",
                     key.register(options)).status_code == 200
    assert WebAuthnCredential.objects.filter(user=alice).count() == 1
    assert AuditEvent.objects.filter(action="devices-changed", actor=alice).exists()
    # The fresh code allowed one key, not a second one.
    assert post_json(client, "/editor/webauthn/register/begin/").status_code == 403


def test_password_then_security_key_logs_in(alice_with_key):
    _, key = alice_with_key
    client = Client()
    first = log_in(client, "alice")
    assert first.status_code == 302 and first["Location"].startswith("/editor/login/")
    assert not is_editor_session(client)
    second_step = client.get(first["Location"]).content.decode()
    assert 'id="passkey-verification-button"' in second_step
    assert 'name="otp_token"' in second_step  # the code still works without JavaScript

    options = post_json(client, "/editor/webauthn/login/begin/").json()
    assert options["allowCredentials"][0]["id"]
    done = post_json(client, "/editor/webauthn/login/complete/", key.authenticate(options))
    assert done.status_code == 200 and done.json()["redirect_url"] == "/editor/"
    assert is_editor_session(client)
    assert AuditEvent.objects.filter(action="login", detail__factor="security key").exists()


def test_second_step_also_takes_a_code(alice_with_key):
    alice, _ = alice_with_key
    client = Client()
    log_in(client, "alice")
    assert client.post("/editor/login/", {"otp_token": "000000"}).status_code == 400
    assert client.post("/editor/login/", {"otp_token": current_code(alice)}).status_code == 302
    assert is_editor_session(client)


def test_bad_key_signatures_count_against_the_account(alice_with_key):
    alice, key = alice_with_key
    client = Client()
    log_in(client, "alice")
    for _ in range(MAX_FAILURES - 1):
        options = post_json(client, "/editor/webauthn/login/begin/").json()
        refused = post_json(client, "/editor/webauthn/login/complete/",
                            key.authenticate(options, tamper=True))
        assert refused.status_code == 422
    options = post_json(client, "/editor/webauthn/login/begin/").json()
    assert post_json(client, "/editor/webauthn/login/complete/",
                     key.authenticate(options)).status_code == 429
    assert not is_editor_session(client)
    assert log_in(Client(), "alice", code=current_code(alice)).status_code == 429


def test_another_editors_key_does_not_verify_this_session(alice_with_key):
    _, alice_key = alice_with_key
    bob = make_editor("bob")
    bob_key = SoftKey(rp_id="testserver", origin=ORIGIN)
    assert register(logged_in_client(bob), bob_key, current_code(bob)).status_code == 200
    client = Client()
    log_in(client, "bob")
    options = post_json(client, "/editor/webauthn/login/begin/").json()
    refused = post_json(client, "/editor/webauthn/login/complete/", alice_key.authenticate(options))
    assert refused.status_code == 403
    assert not is_editor_session(client)


def test_removing_a_key_needs_a_fresh_code(alice_with_key):
    alice, _ = alice_with_key
    client = logged_in_client(alice)
    credential = WebAuthnCredential.objects.get(user=alice)
    assert "Security key" in client.get("/editor/account/").content.decode()
    client.post("/editor/account/security-key/remove/",
                {"credential": credential.pk, "otp_token": "000000"})
    assert WebAuthnCredential.objects.filter(pk=credential.pk).exists()
    client.post("/editor/account/security-key/remove/",
                {"credential": credential.pk, "otp_token": current_code(alice)})
    assert not WebAuthnCredential.objects.filter(pk=credential.pk).exists()
    assert is_editor_session(client)


def test_security_keys_are_not_offered_on_an_origin_that_cannot_use_them(data_dir):
    alice = make_editor("alice")
    client = logged_in_client(alice)
    page = client.get("/editor/account/").content.decode()
    assert "/editor/account/security-key/add/" not in page
    refused = client.post("/editor/account/security-key/add/", {"otp_token": current_code(alice)})
    assert refused.status_code == 400


def test_webauthn_script_translations_are_served(client, data_dir):
    response = client.get("/editor/webauthn/jsi18n/")
    assert response.status_code == 200 and b"gettext" in response.content
