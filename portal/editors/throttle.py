"""Per-account login throttling: guesses at one account are bounded, other accounts are untouched.

Threat answered: a stolen or guessed editor password, and guessing of the
second-factor code once a password is known. Every editor login path (the web
login, its second step, first-time enrolment, the WebAuthn ceremony, password
changes and the API token endpoint) counts failures here.

Promises:

- After `MAX_FAILURES` failures (wrong password, wrong code, or an unknown
  username) within `WINDOW_SECONDS`, that username is locked for
  `COOL_OFF_SECONDS`. While locked, every attempt gets the same refusal and the
  password is not even checked, so a locked account leaks nothing.
- The key is the username, never the client address: behind Tor every client
  is 127.0.0.1, so an address-based limit would let one attacker lock out every
  editor at once. Locking "alice" never affects "bob".
- Unknown usernames are counted and locked exactly like real ones, so the
  throttle cannot be used to learn which usernames exist.
- Attempts are counted when they start (`locked()` reserves one), not when they
  fail, so a burst of parallel requests cannot run more than `MAX_FAILURES`
  guesses before the first one is answered. An attempt that never reports
  back stays counted: the throttle fails closed.
- Cache keys hold an HMAC of the username under SECRET_KEY, never the name
  itself: keys stay uniform in length and a cache dump lists no usernames.

Cost accepted: anyone who knows a username can keep that one account locked by
failing five times every fifteen minutes. Usernames are not published, the
editor can still be let in by an admin clearing the lock (`Throttle.succeed()`),
and the alternative, letting guesses through, is worse.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache

from portal.submissions import audit

# Five tries cover a typo or two and a phone whose clock is a step off; an
# attacker gets five guesses per quarter hour, about 480 a day, against a
# 10^6 code space that also changes every 30 seconds.
MAX_FAILURES = 5
# Failures older than this are forgotten (the window starts at the first one).
WINDOW_SECONDS = 15 * 60
# How long a locked account stays locked; further attempts do not extend it.
COOL_OFF_SECONDS = 15 * 60

_PREFIX = "editor-login"


def account_key(username: str) -> str:
    """The cache key stem for this username: an HMAC, so every key has the same shape."""
    normalised = username.strip().casefold().encode("utf-8")
    digest = hmac.new(settings.SECRET_KEY.encode("utf-8"), normalised, hashlib.sha256)
    return digest.hexdigest()[:40]


class Throttle:
    """Login attempts for one username: `locked()` before trying, then `fail()` or `succeed()`."""

    def __init__(self, username: str) -> None:
        stem = account_key(username)
        self._count_key = f"{_PREFIX}:count:{stem}"
        self._lock_key = f"{_PREFIX}:lock:{stem}"
        self._reserved = False

    def is_locked(self) -> bool:
        """Whether the account is cooling off (a pure query: counts nothing)."""
        return cache.get(self._lock_key) is not None

    def locked(self) -> bool:
        """True if this attempt must be refused; otherwise count it as started.

        Call it once per attempt, before checking anything. The attempt then
        counts as a failure unless `succeed()` follows.
        """
        if self.is_locked():
            return True
        count = self._increment()
        self._reserved = True
        # More attempts in flight than the limit allows: refuse this one without
        # checking anything; the ones already running decide whether to lock.
        return count > MAX_FAILURES

    def fail(self) -> bool:
        """Record a failed attempt; True if this failure locked the account."""
        count = self._current() if self._reserved else self._increment()
        self._reserved = False
        if count >= MAX_FAILURES and not self.is_locked():
            cache.set(self._lock_key, 1, COOL_OFF_SECONDS)
            cache.delete(self._count_key)
            return True
        return False

    def succeed(self) -> None:
        """Both factors passed: forget earlier failures (and end a lock an admin clears)."""
        cache.delete_many([self._count_key, self._lock_key])
        self._reserved = False

    def _current(self) -> int:
        return int(cache.get(self._count_key, 0))

    def _increment(self) -> int:
        # add() starts the window only if no count exists; incr() keeps its expiry.
        cache.add(self._count_key, 0, WINDOW_SECONDS)
        try:
            return int(cache.incr(self._count_key))
        except ValueError:  # the window expired between add() and incr()
            cache.add(self._count_key, 1, WINDOW_SECONDS)
            return self._current()


def known_user(username: str) -> Any:
    """The account a username names, to attribute a failure in the audit log (or None)."""
    return get_user_model().objects.filter(username=username).first() if username else None


def record_failure(throttle: Throttle, user: Any, action: str = "login-failed") -> None:
    """Count a failed attempt and record it; unknown usernames are logged without the name.

    The typed name of an unknown account is not kept: it is often a password
    typed into the wrong field.
    """
    target = user.get_username() if user is not None else ""
    detail = {} if user is not None else {"account": "unknown"}
    audit.record(user, action, target, **detail)
    if throttle.fail():
        audit.record(user, "locked", target, minutes=COOL_OFF_SECONDS // 60, **detail)
