"""Editor login: password plus a current code, per-account throttling, nothing else gets in."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.editors import throttle as throttle_module
from portal.editors.throttle import COOL_OFF_SECONDS, MAX_FAILURES, Throttle
from portal.submissions.models import AuditEvent
from tests.editorial.auth import (
    PASSWORD,
    code_for,
    fresh_cache,  # noqa: F401 - autouse fixture
    is_editor_session,
    later,
    log_in,
)
from tests.editorial.editors import current_code, make_editor

pytestmark = pytest.mark.django_db

REFUSAL = "The username, password or code was not accepted."
LOCKED = "Too many failed attempts for this account."


@pytest.fixture
def alice(data_dir):  # type: ignore[no-untyped-def]
    return make_editor("alice")


@pytest.fixture
def bob(data_dir):  # type: ignore[no-untyped-def]
    return make_editor("bob")


def test_login_needs_the_password_and_a_current_code(client, alice):
    response = log_in(client, "alice", code=current_code(alice))
    assert response.status_code == 302 and response["Location"] == "/editor/"
    assert is_editor_session(client)
    event = AuditEvent.objects.get(action="login")
    assert event.actor == alice and event.detail == {"factor": "TOTPDevice"}


def test_wrong_password_wrong_code_or_no_code_get_one_generic_refusal(alice):
    attempts = [
        ("alice", "wrong password", current_code(alice)),
        ("alice", PASSWORD, "000000"),
        ("alice", PASSWORD, ""),
        ("nobody", PASSWORD, "123456"),
    ]
    for username, password, code in attempts:
        client = Client()
        response = log_in(client, username, password, code)
        assert response.status_code == 400
        assert REFUSAL in response.content.decode()
        assert not is_editor_session(client)
    assert AuditEvent.objects.filter(action="login-failed").count() == 4
    assert not AuditEvent.objects.filter(action="login").exists()


def test_used_code_cannot_log_in_twice(alice):
    device = TOTPDevice.objects.get(user=alice)
    code = code_for(device.bin_key)
    assert log_in(Client(), "alice", code=code).status_code == 302
    assert log_in(Client(), "alice", code=code).status_code == 400


def test_repeated_bad_passwords_lock_that_account_while_another_editor_logs_in(alice, bob):
    # Both clients come from the same address, as every client does behind Tor.
    attacker, colleague = Client(REMOTE_ADDR="127.0.0.1"), Client(REMOTE_ADDR="127.0.0.1")
    for _ in range(MAX_FAILURES):
        assert log_in(attacker, "alice", "guess").status_code == 400
    refused = log_in(Client(REMOTE_ADDR="127.0.0.1"), "alice", code=current_code(alice))
    assert refused.status_code == 429 and LOCKED in refused.content.decode()
    assert log_in(colleague, "bob", code=current_code(bob)).status_code == 302
    assert is_editor_session(colleague)
    assert AuditEvent.objects.filter(action="locked", actor=alice).count() == 1


def test_repeated_bad_codes_lock_the_account_too(alice, bob):
    for _ in range(MAX_FAILURES):
        assert log_in(Client(), "alice", code="000000").status_code == 400
    assert log_in(Client(), "alice", code=current_code(alice)).status_code == 429
    assert log_in(Client(), "bob", code=current_code(bob)).status_code == 302


def test_locked_account_is_refused_without_checking_the_password_until_the_cool_off_ends(
        alice, monkeypatch):
    for _ in range(MAX_FAILURES):
        log_in(Client(), "alice", "guess")

    def must_not_run(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a locked account's password must not be checked")

    with monkeypatch.context() as patched:
        patched.setattr("portal.editorial.auth_views.authenticate", must_not_run)
        assert log_in(Client(), "alice", code=current_code(alice)).status_code == 429
    later(monkeypatch, COOL_OFF_SECONDS - 60)
    key = TOTPDevice.objects.get(user=alice).bin_key
    assert log_in(Client(), "alice", code=code_for(key, time.time())).status_code == 429
    later(monkeypatch, 61)  # now just past the cool-off
    client = Client()
    assert log_in(client, "alice", code=code_for(key, time.time())).status_code == 302
    assert is_editor_session(client)


def test_unknown_usernames_lock_the_same_way_and_are_not_recorded(alice):
    for _ in range(MAX_FAILURES):
        log_in(Client(), "my-secret-password", "x")
    response = log_in(Client(), "my-secret-password", "x")
    assert response.status_code == 429 and LOCKED in response.content.decode()
    for event in AuditEvent.objects.all():
        assert "my-secret-password" not in f"{event.target} {event.detail}"
    assert AuditEvent.objects.filter(action="locked", actor=None).count() == 1


def test_success_forgets_earlier_failures(alice):
    for _ in range(MAX_FAILURES - 1):
        log_in(Client(), "alice", "guess")
    assert log_in(Client(), "alice", code=current_code(alice)).status_code == 302
    for _ in range(MAX_FAILURES - 1):
        log_in(Client(), "alice", "guess")
    assert log_in(Client(), "alice", code=current_code(alice)).status_code == 302


def test_parallel_attempts_cannot_run_more_guesses_than_the_limit():
    started = [Throttle("carol") for _ in range(MAX_FAILURES + 1)]
    refused = [attempt.locked() for attempt in started]
    assert refused == [False] * MAX_FAILURES + [True]
    assert not Throttle("dave").locked()


def test_throttle_cache_keys_do_not_contain_the_username():
    for _ in range(MAX_FAILURES):
        attempt = Throttle("alice-the-editor")
        attempt.locked()
        attempt.fail()
    assert Throttle("alice-the-editor").is_locked()
    keys = " ".join(str(key) for key in cache._cache)  # type: ignore[attr-defined]
    assert throttle_module.account_key("alice-the-editor") in keys
    assert "alice" not in keys


def test_login_form_is_csrf_protected(alice):
    client = Client(enforce_csrf_checks=True)
    assert log_in(client, "alice", code=current_code(alice)).status_code == 403
    page = client.get("/editor/login/")
    token = page.cookies[settings.CSRF_COOKIE_NAME].value
    response = log_in(client, "alice", code=current_code(alice), csrfmiddlewaretoken=token)
    assert response.status_code == 302


def test_login_page_has_the_contract_fields_and_no_outside_resources(client, data_dir):
    import re

    page = client.get("/editor/login/").content.decode()
    for name in ("username", "password", "otp_token"):
        assert f'name="{name}"' in page
        assert re.search(rf'<label for="id_{name}">', page)
    assert "<script" not in page
    for url in re.findall(r'(?:src|href|action)="([^"]+)"', page):
        assert url.startswith("/"), url


def test_next_goes_only_to_editor_pages_on_this_site(alice):
    inside = log_in(Client(), "alice", code=current_code(alice), next="/editor/keys/")
    assert inside["Location"] == "/editor/keys/"
    for hostile in ("https://evil.example/editor/", "//evil.example/editor/", "/author/"):
        response = log_in(Client(), "alice", code=current_code(alice), next=hostile)
        assert response["Location"] == "/editor/", hostile


def test_editor_login_drops_an_author_session_in_the_same_browser(client, alice):
    from tests.authoring import new_author

    new_author(client)
    assert log_in(client, "alice", code=current_code(alice)).status_code == 302
    assert "author_id" not in client.session


def test_logout_is_post_only_and_ends_the_session(client, alice):
    log_in(client, "alice", code=current_code(alice))
    assert client.get("/editor/logout/").status_code == 405
    assert is_editor_session(client)
    assert client.post("/editor/logout/").status_code == 302
    assert not is_editor_session(client)


def test_idle_sessions_expire(data_dir):
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.cache"
    assert 0 < settings.SESSION_COOKIE_AGE <= 2 * 60 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_sessions_end_when_idle_for_longer_than_the_cookie_age(alice, monkeypatch):
    client = Client()
    log_in(client, "alice", code=current_code(alice))
    # Each request renews the idle timer, so steady use keeps the session...
    for _ in range(3):
        later(monkeypatch, settings.SESSION_COOKIE_AGE - 60)
        assert is_editor_session(client)
    # ...and one idle period longer than the cookie age ends it.
    later(monkeypatch, settings.SESSION_COOKIE_AGE + 1)
    assert not is_editor_session(client)


def test_no_address_or_user_agent_is_stored(alice, data_dir):
    from django.db import connection

    canaries = ("203.0.113.77", "CanaryBrowser/9.9")
    client = Client(REMOTE_ADDR=canaries[0], HTTP_USER_AGENT=canaries[1])
    log_in(client, "alice", "guess")
    log_in(client, "alice", code=current_code(alice))
    client.post("/editor/logout/everywhere/")
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names from the schema
            dump = repr(cursor.fetchall())
            for canary in canaries:
                assert canary not in dump, (table, canary)
