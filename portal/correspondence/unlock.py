"""Carry the author's reply-key secret between requests without the server keeping it.

Promise: the secret derived from the codename at login (see `replykeys`) is
never stored on the server. It travels in a cookie (HttpOnly, SameSite=Strict,
gone when the browser closes, limited to /author/), encrypted with AES-GCM
under a random key kept in the author's server-side session. Neither half
opens a reply alone: a copy of the server (sessions included) lacks the cookie;
a copied cookie is useless once the session ends at logout or expiry.
"""

from __future__ import annotations

import base64
import binascii
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from portal.submissions.models import Author

COOKIE = "penname_unlock"
SESSION_KEY = "unlock_key"
COOKIE_PATH = "/author/"
NONCE_BYTES = 12
# A cookie longer than this is not ours (nonce + 32-byte secret + tag, in base64).
MAX_COOKIE_CHARS = 128


def remember(request: HttpRequest, response: HttpResponseBase, author: Author, secret: bytes) -> None:
    key = AESGCM.generate_key(bit_length=256)
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = nonce + AESGCM(key).encrypt(nonce, secret, str(author.pk).encode())
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


def secret(request: HttpRequest, author: Author) -> bytes | None:
    """The reply-key secret for this author, or None (logged in before, or tampered with)."""
    stored = request.session.get(SESSION_KEY, "")
    sealed = request.COOKIES.get(COOKIE, "")
    if not stored or not sealed or len(sealed) > MAX_COOKIE_CHARS:
        return None
    try:
        key = base64.urlsafe_b64decode(stored)
        raw = base64.urlsafe_b64decode(sealed)
        return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], str(author.pk).encode())
    except (binascii.Error, ValueError, InvalidTag):
        return None
