"""A site-wide budget of failed codename logins: guessing codenames stays slow and cheap.

Threat answered: someone trying codenames at the login form, to find any
author's page, or to make the server run Argon2id (64 MiB and a few tenths of a
second each) until it falls over. Every author reaches us through the same Tor
onion service, so every request comes from the same address: a limit per
address would be a limit on nobody. A limit per account is impossible: a guess
names no account. What is left is one budget for the whole site, shared by
every application server through Django's cache (Redis when REDIS_URL is set).

Promises:

- At most `failures_per_minute()` codename logins may fail in each calendar
  minute, across every process and server. Once the minute's budget is spent,
  every further login in that minute is refused with HTTP 429 *before* the
  form is read and before the KDF runs, so a flood costs the server a cache
  increment per request, not Argon2id.
- Attempts are counted when they start, not when they fail, so a burst of
  parallel requests cannot start more KDF runs than the budget before the
  first one is answered. An attempt that ends in a successful login gives its
  place back: authors who type their codename right never use up the budget,
  and an attacker logging in with a codename of their own gains nothing,
  because each success refunds only its own attempt. An attempt that crashes
  stays counted (fail closed).
- Nothing about the request is stored: the cache holds one integer per minute.

Cost accepted: while someone spends the budget every minute, real authors who
log in during that minute are told to wait, whatever their codename. That is a
denial of service, and the answer to floods is Tor's proof-of-work defence on
the onion service (deploy/), not this module; this module makes sure a flood
never turns into guesses or into KDF load.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import suppress
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

# Thirty failed logins a minute for the whole site. A small magazine's authors
# mistype a codename a few times a day, so honest traffic never comes close;
# an attacker gets 1,800 guesses an hour (see SECURITY.md, "Brute force"),
# and the KDF work they can force is 30 Argon2id runs a minute, a few percent
# of one core. The environment variable PORTAL_CODENAME_FAILURES_PER_MINUTE changes it.
DEFAULT_FAILURES_PER_MINUTE = 30
WINDOW_SECONDS = 60
_PREFIX = "codename-login"


def failures_per_minute() -> int:
    return int(getattr(settings, "PORTAL_CODENAME_FAILURES_PER_MINUTE", DEFAULT_FAILURES_PER_MINUTE))


def budget_spent_message() -> str:
    return _("Too many codename logins have failed on this site in the last minute, so logins "
             "are paused for a moment. Your codename is not blocked: please wait a minute and "
             "try again.")


def _window_key(now: float | None = None) -> str:
    return f"{_PREFIX}:{int((time.time() if now is None else now) // WINDOW_SECONDS)}"


class CodenameAttempt:
    """One login attempt's place in the current minute's budget."""

    def __init__(self, key: str) -> None:
        self._key = key

    @classmethod
    def start(cls) -> CodenameAttempt | None:
        """Take a place in this minute's budget, or None if it is spent (refuse the attempt)."""
        key = _window_key()
        # add() creates the counter only if missing; the expiry outlives the minute it counts.
        cache.add(key, 0, 2 * WINDOW_SECONDS)
        try:
            count = int(cache.incr(key))
        except ValueError:  # the counter expired between add() and incr()
            cache.add(key, 1, 2 * WINDOW_SECONDS)
            count = 1
        if count > failures_per_minute():
            with suppress(ValueError):
                cache.decr(key)
            return None
        return cls(key)

    def succeeded(self) -> None:
        """The codename was right: give the place back."""
        with suppress(ValueError):  # the minute is over and its counter gone
            cache.decr(self._key)


def limit_codename_logins(
    refuse: Callable[[HttpRequest, str], HttpResponse],
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Wrap the login view: once the budget is spent, answer `refuse(request, message)` as 429.

    The wrapped view's answer decides: below 400 is a successful login (its
    place is given back); anything else, or an exception, counts as a failure.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            attempt = CodenameAttempt.start()
            if attempt is None:
                refusal = refuse(request, budget_spent_message())
                refusal.status_code = 429
                refusal["Retry-After"] = str(WINDOW_SECONDS - int(time.time()) % WINDOW_SECONDS)
                return refusal
            response = view(request, *args, **kwargs)
            if response.status_code < 400:
                attempt.succeeded()
            return response

        return wrapper

    return decorator
