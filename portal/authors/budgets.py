"""Budgets per Tor circuit, with a site-wide ceiling behind them, for what costs the server.

Threat answered: someone on the open authors' site who tries codenames (to find
an author's page, or to make the server run Argon2id until it falls over),
makes codenames by the thousand (each is two Argon2id runs and a database row),
or starts upload after upload (each is a cleaning). One attacker must not be
able to spend what every author shares. Every author arrives through the same
Tor process, so there is no address to count by; what Tor does say is which
circuit a request came on (`portal.circuits`). So each budget is counted twice:

- per circuit: one client's share, small, so that one attacker on one circuit
  runs out long before real authors notice anything. Requests whose circuit is
  unknown (no nginx in front, or a header that is not a Tor circuit) share one
  such bucket between them;
- site-wide: a ceiling over every circuit together. It bounds the server's work
  whatever an attacker who builds circuit after circuit does; its cost is that
  while it is spent, everyone waits (SECURITY.md, "Brute force").

Promises:

- A refusal happens before the work it protects: the caller takes a place
  (`Budget.take`) before any KDF runs or any upload is read, and a refused
  request costs a few cache operations.
- Places are taken when an attempt *starts*, so a burst of parallel requests
  cannot start more attempts than the budget. The caller may give a place
  back (`Place.give_back`): a codename login that succeeds does, so authors
  who type their codename right never spend the budget. An attempt that
  crashes stays counted (fail closed).
- Input the caller refuses as malformed never reaches `take`: it costs nothing
  against any budget (and runs no KDF).
- The counters live only in Django's cache (Redis when REDIS_URL is set, so
  every worker and server shares them), keyed by the circuit's keyed hash and
  the window, and expire when their window ends. Nothing is written to the
  database or to a log.

Windows are fixed (calendar) windows: simple and cheap, at the price that a
client can spend one window's budget at its very end and the next one's at the
start of the next.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.circuits import circuit_of

UNKNOWN_CIRCUIT = "unknown"
# A counter that cannot be made to count (the cache keeps losing it) refuses.
_INCREMENT_TRIES = 3


@dataclass(frozen=True)
class Refusal:
    """A spent budget: what to tell the author, and when to come back."""

    message: str
    retry_after: int

    def applied_to(self, response: HttpResponse) -> HttpResponse:
        response.status_code = 429
        response["Retry-After"] = str(self.retry_after)
        return response


class Place:
    """One attempt's places in its budget's counters, which the caller may give back."""

    def __init__(self, keys: list[str]) -> None:
        self._keys = keys

    def give_back(self) -> None:
        for key in self._keys:
            with suppress(ValueError):  # the window is over and its counter gone
                cache.decr(key)
        self._keys = []


@dataclass(frozen=True)
class Budget:
    name: str
    # Settings (read at each request, so tests and operators can change them).
    per_circuit_setting: str
    circuit_window: int
    site_setting: str
    site_window: int
    # Given the minutes to wait, the sentence for a spent circuit or site budget.
    circuit_message: Callable[[int], str]
    site_message: Callable[[int], str]

    def per_circuit(self) -> int:
        return int(getattr(settings, self.per_circuit_setting))

    def site_wide(self) -> int:
        return int(getattr(settings, self.site_setting))

    def take(self, request: HttpRequest) -> Place | Refusal:
        """A place for one attempt from this request's circuit, or the refusal to answer."""
        now = time.time()
        circuit = circuit_of(request) or UNKNOWN_CIRCUIT
        circuit_key = _take(f"budget:{self.name}:circuit:{circuit}", self.per_circuit(),
                            self.circuit_window, now)
        if circuit_key is None:
            return _refusal(self.circuit_message, self.circuit_window, now)
        site_key = _take(f"budget:{self.name}:site", self.site_wide(), self.site_window, now)
        if site_key is None:
            Place([circuit_key]).give_back()
            return _refusal(self.site_message, self.site_window, now)
        return Place([circuit_key, site_key])


def _seconds_left(window: int, now: float) -> int:
    return max(1, math.ceil(window - now % window))


def _take(prefix: str, limit: int, window: int, now: float) -> str | None:
    """Count one more in this window's counter; its key, or None if that is over `limit`."""
    key = f"{prefix}:{int(now // window)}"
    # The counter lives as long as its window (and a second, for clocks that differ).
    timeout = _seconds_left(window, now) + 1
    for _attempt in range(_INCREMENT_TRIES):
        cache.add(key, 0, timeout)  # creates the counter only if it is missing
        try:
            count = int(cache.incr(key))
            break
        except ValueError:  # it expired between add() and incr(): make it again
            continue
    else:
        return None  # nothing counted, so nothing allowed (fail closed)
    if count > limit:
        with suppress(ValueError):
            cache.decr(key)
        return None
    return key


def _refusal(message: Callable[[int], str], window: int, now: float) -> Refusal:
    seconds = _seconds_left(window, now)
    return Refusal(message(math.ceil(seconds / 60)), seconds)


# --- The budgets --------------------------------------------------------------------------
# Their sizes are settings (portal/settings.py says why each default is what it is);
# the windows are fixed here.


def _login_circuit(minutes: int) -> str:
    return ngettext(
        "Too many wrong codenames were typed on this connection. Your codename is not "
        "blocked: please wait %(n)d minute and try again.",
        "Too many wrong codenames were typed on this connection. Your codename is not "
        "blocked: please wait %(n)d minutes and try again.", minutes) % {"n": minutes}


def _login_site(minutes: int) -> str:
    # The site window is one minute; this sentence was there before the circuit budgets.
    return _("Too many codename logins have failed on this site in the last minute, so logins "
             "are paused for a moment. Your codename is not blocked: please wait a minute and "
             "try again.")


def _codename_circuit(minutes: int) -> str:
    return ngettext(
        "Too many codenames were made on this connection. Please wait %(n)d minute before "
        "asking for another. If you already have a codename, log in with it below.",
        "Too many codenames were made on this connection. Please wait %(n)d minutes before "
        "asking for another. If you already have a codename, log in with it below.",
        minutes) % {"n": minutes}


def _codename_site(minutes: int) -> str:
    return ngettext(
        "Too many codenames were made on this site in the last hour, so new codenames are "
        "paused. Please try again in %(n)d minute. If you already have a codename, log in "
        "with it below.",
        "Too many codenames were made on this site in the last hour, so new codenames are "
        "paused. Please try again in %(n)d minutes. If you already have a codename, log in "
        "with it below.", minutes) % {"n": minutes}


def _upload_circuit(minutes: int) -> str:
    return ngettext(
        "Too many uploads were started on this connection. Nothing was kept. Please wait "
        "%(n)d minute, then send your files again.",
        "Too many uploads were started on this connection. Nothing was kept. Please wait "
        "%(n)d minutes, then send your files again.", minutes) % {"n": minutes}


def _upload_site(minutes: int) -> str:
    return ngettext(
        "Too many uploads were started on this site in the last hour, so uploads are paused. "
        "Nothing was kept. Please try again in %(n)d minute.",
        "Too many uploads were started on this site in the last hour, so uploads are paused. "
        "Nothing was kept. Please try again in %(n)d minutes.", minutes) % {"n": minutes}


# Codename attempts that fail: logins, and the codename typed again to export the reply key.
CODENAME_FAILURES = Budget(
    "codename-failures", "PORTAL_LOGIN_FAILURES_PER_CIRCUIT", 10 * 60,
    "PORTAL_CODENAME_FAILURES_PER_MINUTE", 60, _login_circuit, _login_site)
NEW_CODENAMES = Budget(
    "new-codenames", "PORTAL_NEW_CODENAMES_PER_CIRCUIT", 60 * 60,
    "PORTAL_NEW_CODENAMES_PER_HOUR", 60 * 60, _codename_circuit, _codename_site)
UPLOADS = Budget(
    "uploads", "PORTAL_UPLOADS_PER_CIRCUIT", 60 * 60,
    "PORTAL_UPLOADS_PER_HOUR", 60 * 60, _upload_circuit, _upload_site)
