"""Carry the author's reply-key secret between requests without the server keeping it.

Promise: the secret derived from the codename at login (see `replykeys`) is
never stored on the server. It travels in a cookie (HttpOnly, SameSite=Strict,
gone when the browser closes, limited to /author/), encrypted with AES-GCM
under a random key kept in the author's server-side session. Neither half
opens a reply alone: a copy of the server (sessions included) lacks the cookie;
a copied cookie is useless once the session ends at logout or expiry.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.http.response import HttpResponseBase

from portal.sealed_cookie import SealedCookie
from portal.submissions.models import Author

COOKIE = "penname_unlock"
SESSION_KEY = "unlock_key"
# A cookie longer than this is not ours (nonce + 32-byte secret + tag, in base64).
MAX_COOKIE_CHARS = 128
_SEALED = SealedCookie(COOKIE, SESSION_KEY, MAX_COOKIE_CHARS)


def remember(request: HttpRequest, response: HttpResponseBase, author: Author, secret: bytes) -> None:
    _SEALED.put(request, response, secret, str(author.pk).encode())


def forget(response: HttpResponseBase) -> None:
    _SEALED.clear(response)


def secret(request: HttpRequest, author: Author) -> bytes | None:
    """The reply-key secret for this author, or None (logged in before, or tampered with)."""
    return _SEALED.get(request, str(author.pk).encode())
