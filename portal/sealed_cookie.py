"""A value split between the browser and the server: neither half opens it alone.

The value travels in a cookie (HttpOnly, SameSite=Strict, gone when the browser
closes, limited to /author/), sealed with AES-GCM under a random key kept in the
visitor's server-side session. A copy of the server (sessions included) lacks
the cookie; a copied cookie opens nothing once the session ends at log-out or
expiry. `context` binds a sealed value to what it belongs to (an author, a
purpose): opened with another, it is refused like a forged one.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase

NONCE_BYTES = 12
PATH = "/author/"


@dataclass(frozen=True)
class SealedCookie:
    """One such value: its cookie, its session key, and the longest cookie that can be ours."""

    cookie: str
    session_key: str
    max_chars: int

    def put(self, request: HttpRequest, response: HttpResponseBase, value: bytes,
            context: bytes) -> None:
        key = AESGCM.generate_key(bit_length=256)
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = nonce + AESGCM(key).encrypt(nonce, value, context)
        request.session[self.session_key] = base64.urlsafe_b64encode(key).decode("ascii")
        response.set_cookie(
            self.cookie, base64.urlsafe_b64encode(sealed).decode("ascii"), path=PATH,
            httponly=True, samesite="Strict", secure=settings.SESSION_COOKIE_SECURE,
        )

    def clear(self, response: HttpResponseBase) -> None:
        # An expired cookie with the same flags as the real one (delete_cookie drops HttpOnly).
        response.set_cookie(self.cookie, "", max_age=0,
                            expires="Thu, 01 Jan 1970 00:00:00 GMT", path=PATH,
                            httponly=True, samesite="Strict",
                            secure=settings.SESSION_COOKIE_SECURE)

    def get(self, request: HttpRequest, context: bytes) -> bytes | None:
        """The value, or None (another session, another context, or tampered with)."""
        stored = request.session.get(self.session_key, "")
        sealed = request.COOKIES.get(self.cookie, "")
        if not stored or not sealed or len(sealed) > self.max_chars:
            return None
        try:
            key = base64.urlsafe_b64decode(stored)
            raw = base64.urlsafe_b64decode(sealed)
            return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context)
        except (binascii.Error, ValueError, InvalidTag):
            return None
