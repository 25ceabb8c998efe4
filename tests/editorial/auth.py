"""Helpers for the authentication tests: log in through the real form, read codes off pages."""

from __future__ import annotations

import base64
import re
import time
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django_otp.oath import totp

from tests.editorial.editors import current_code

PASSWORD = "correct horse battery 9"


@pytest.fixture(autouse=True)
def fresh_cache(settings):  # type: ignore[no-untyped-def]
    """Each test starts with no throttle counts and no sessions.

    django-otp's own per-device back-off (a second or more after a wrong code)
    is switched off here so tests can follow a wrong code with a right one; the
    portal's per-account throttle, which these tests are about, stays on.
    """
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0
    cache.clear()
    yield
    cache.clear()


def log_in(client: Client, username: str, password: str = PASSWORD, code: str = "",
           **extra: str) -> Any:
    return client.post("/editor/login/", {"username": username, "password": password,
                                          "otp_token": code, **extra})


def logged_in_client(user: Any) -> Client:
    client = Client()
    response = log_in(client, user.get_username(), code=current_code(user))
    assert response.status_code == 302, response.content[:500]
    return client


def is_editor_session(client: Client) -> bool:
    return bool(client.get("/editor/").status_code == 200)


def secret_from_page(html: str) -> bytes:
    match = re.search(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)<', html)
    assert match, "the enrolment page must show the secret as text"
    secret = match.group(1).replace(" ", "")
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


def code_for(key: bytes, at: float | None = None) -> str:
    from django_otp.oath import TOTP

    if at is None:
        return f"{totp(key):06d}"
    counter = TOTP(key)
    counter.time = at
    return f"{counter.token():06d}"


def backup_codes_from_page(html: str) -> list[str]:
    block = re.search(r'<ol id="backup-codes"[^>]*>(.*?)</ol>', html, re.S)
    assert block, "the backup codes page must list the codes"
    return re.findall(r"<li>([a-z2-7]+)</li>", block.group(1))


def later(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Move the clock forward (the cache's expiry and TOTP both read time.time)."""
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + seconds)
