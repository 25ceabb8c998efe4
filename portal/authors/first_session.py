"""The new codename, shown again on request until the session it was made in ends.

Threat answered: an author who lost the sheet she was writing on (or closed the
page too early) has no way back to her work, and nobody can give her the
codename again. So during that first session only, her page can show it again,
and asks her to type it back once, to prove she wrote it down.

Promise: the server never stores the codename. It travels like the reply-key
secret (`portal.correspondence.unlock`): AES-GCM-sealed in a cookie (HttpOnly,
SameSite=Strict, gone when the browser closes, limited to /author/) under a
random key kept in the server-side session. A copy of the server lacks the
cookie; a copied cookie opens nothing once the session ends, at log-out, at a
new login, or after the idle expiry. The cost: whoever holds her open first
session can read her codename, which is why it ends there.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from portal.crypto import codenames

COOKIE = "penname_first"
SESSION_KEY = "first_session_key"
SESSION_CHECKED = "codename_checked"
COOKIE_PATH = "/author/"
NONCE_BYTES = 12
# A cookie longer than this is not ours: nonce + the longest codename + tag, in base64.
MAX_COOKIE_CHARS = 4 * (NONCE_BYTES + codenames.MAX_CODENAME_CHARS + 16) // 3 + 4
_CONTEXT = b"penname first session codename"


def remember(request: HttpRequest, response: HttpResponseBase, codename: str) -> None:
    key = AESGCM.generate_key(bit_length=256)
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = nonce + AESGCM(key).encrypt(nonce, codename.encode(), _CONTEXT)
    request.session[SESSION_KEY] = base64.urlsafe_b64encode(key).decode("ascii")
    response.set_cookie(
        COOKIE, base64.urlsafe_b64encode(sealed).decode("ascii"), path=COOKIE_PATH,
        httponly=True, samesite="Strict", secure=settings.SESSION_COOKIE_SECURE,
    )


def forget(response: HttpResponseBase) -> None:
    # An expired cookie with the same flags as the real one (delete_cookie drops HttpOnly).
    response.set_cookie(COOKIE, "", max_age=0, expires="Thu, 01 Jan 1970 00:00:00 GMT",
                        path=COOKIE_PATH, httponly=True, samesite="Strict",
                        secure=settings.SESSION_COOKIE_SECURE)


def codename(request: HttpRequest) -> str | None:
    """The codename made in this session, or None (a later session, or tampered with)."""
    stored = request.session.get(SESSION_KEY, "")
    sealed = request.COOKIES.get(COOKIE, "")
    if not stored or not sealed or len(sealed) > MAX_COOKIE_CHARS:
        return None
    try:
        key = base64.urlsafe_b64decode(stored)
        raw = base64.urlsafe_b64decode(sealed)
        return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _CONTEXT).decode()
    except (binascii.Error, ValueError, InvalidTag, UnicodeDecodeError):
        return None


def typed_back(request: HttpRequest, typed: str) -> bool:
    """Whether `typed` is this session's codename, forgiving what login forgives.

    No KDF runs: the codename is compared with the one sealed for this session,
    so checking it spends no login budget and tells nothing about other codenames.
    """
    made = codename(request)
    written = codenames.normalise(typed)
    if made is None or written is None:
        return False
    return hmac.compare_digest(written.encode(), made.encode())


def checked(request: HttpRequest) -> bool:
    return bool(request.session.get(SESSION_CHECKED))


def mark_checked(request: HttpRequest) -> None:
    request.session[SESSION_CHECKED] = True
