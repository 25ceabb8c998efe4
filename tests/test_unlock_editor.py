"""`portal unlock_editor USER`: the admin lets a locked-out editor in, through the real login form."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.test import Client

from portal.editors.throttle import MAX_FAILURES
from portal.submissions.models import AuditEvent
from tests.editorial.auth import log_in
from tests.editorial.editors import current_code, make_editor
from tests.services import Service

pytestmark = pytest.mark.django_db
LOCKED = "Too many failed attempts for this account."


@pytest.fixture
def shared_cache(settings, redis_server: Service):
    """Redis (database 12 of the tests' Redis), as in production: the command and the web
    workers share the lock."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": redis_server.url + "/12", "KEY_PREFIX": "penname"}}
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    cache.clear()
    yield
    cache.clear()


def unlock(name: str) -> str:
    out = io.StringIO()
    call_command("unlock_editor", name, stdout=out)
    return out.getvalue()


def test_unlock_editor_lets_a_locked_out_editor_log_in_at_once(data_dir, shared_cache):
    alice = make_editor("alice")
    for _ in range(MAX_FAILURES):
        assert log_in(Client(), "alice", "mistyped").status_code == 400
    refused = log_in(Client(), "alice", code=current_code(alice))
    assert refused.status_code == 429 and LOCKED in refused.content.decode()

    said = unlock("alice")
    assert "alice was locked out after 5 failed attempts; the lock is lifted" in said
    assert log_in(Client(), "alice", code=current_code(alice)).status_code == 302
    assert AuditEvent.objects.filter(action="unlocked", target="alice").exists()
    assert "alice was not locked out" in unlock("alice")


def test_unlock_editor_refuses_unknown_users_in_a_sentence(data_dir, shared_cache):
    with pytest.raises(CommandError, match="there is no account named 'mallory'"):
        unlock("mallory")


def test_unlock_editor_says_it_cannot_reach_locks_kept_in_each_process(data_dir, settings):
    make_editor("alice")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with pytest.raises(CommandError, match="restart the editors' server"):
        unlock("alice")
