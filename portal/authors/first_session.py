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

import hmac

from django.http import HttpRequest
from django.http.response import HttpResponseBase

from portal.crypto import codenames
from portal.sealed_cookie import NONCE_BYTES, SealedCookie

COOKIE = "penname_first"
SESSION_KEY = "first_session_key"
SESSION_CHECKED = "codename_checked"
# A cookie longer than this is not ours: nonce + the longest codename + tag, in base64.
MAX_COOKIE_CHARS = 4 * (NONCE_BYTES + codenames.MAX_CODENAME_CHARS + 16) // 3 + 4
_CONTEXT = b"penname first session codename"
_SEALED = SealedCookie(COOKIE, SESSION_KEY, MAX_COOKIE_CHARS)


def remember(request: HttpRequest, response: HttpResponseBase, codename: str) -> None:
    _SEALED.put(request, response, codename.encode(), _CONTEXT)


def forget(response: HttpResponseBase) -> None:
    _SEALED.clear(response)


def codename(request: HttpRequest) -> str | None:
    """The codename made in this session, or None (a later session, or tampered with)."""
    sealed = _SEALED.get(request, _CONTEXT)
    try:
        return sealed.decode() if sealed is not None else None
    except UnicodeDecodeError:
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
