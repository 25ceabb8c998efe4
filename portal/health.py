"""`GET /health/`: "ok" (200) or "down" (503) for monitoring, and nothing else.

Promise: the answer is one word. It says whether this application server can
do its job right now (the database answers a query; Redis, when configured,
answers too, since every session and editor login needs it; the ciphertext
store is a writable directory with room left; the cleaners' sandbox holds,
proved by a confined process that fails at what it must not do; and a cleaner
started the way uploads start theirs, within their limits, cleans a line of
text: both verdicts are kept for a while, so a monitor's polling costs one
small cleaning every ten minutes) without naming the part that failed, a
version, a count or a time, since anyone who knows the onion address can ask.
The reason for "down" goes to the server's own log.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import threading
import time

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from portal.access import public
from portal.authors.cleaning import cleaning_limits
from portal.sanitize import CleaningRefused
from portal.sanitize.sandbox import confine as sandbox
from portal.sanitize.sandbox.isolate import run_in_sandbox
from portal.store import LOW_SPACE_BYTES, Store, StoreError

log = logging.getLogger("portal.health")


def database_problem() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return f"database: {exc.__class__.__name__}"
    return None


# A Redis that does not answer within this long is as good as down for a login.
CACHE_TIMEOUT_SECONDS = 2.0


def cache_problem() -> str | None:
    """Redis (REDIS_URL) answers, when the cache is Redis: sessions and the login throttle live there."""
    cache = settings.CACHES["default"]
    if "redis" not in cache["BACKEND"].lower():
        return None
    import redis  # the "server" extra, needed only when Redis is configured

    location = cache["LOCATION"]
    url = location[0] if isinstance(location, list | tuple) else location
    try:
        client = redis.Redis.from_url(url, socket_timeout=CACHE_TIMEOUT_SECONDS,
                                      socket_connect_timeout=CACHE_TIMEOUT_SECONDS)
        try:
            client.ping()
        finally:
            client.close()
    except (redis.RedisError, OSError, ValueError) as exc:
        return f"redis: {exc.__class__.__name__}"
    return None


def store_problem() -> str | None:
    store = Store.default()
    try:
        store.ensure()
    except StoreError:
        return "store: cannot create the directory"
    for directory in (store.root, store.incoming, store.batch):
        if not os.access(directory, os.R_OK | os.W_OK | os.X_OK):
            return f"store: {directory.name} is not writable"
    if shutil.disk_usage(store.root).free < LOW_SPACE_BYTES:
        return "store: the disk is full"
    return None


def sandbox_problem() -> str | None:
    """Uploads are refused while this says something (portal.sanitize.sandbox.confine)."""
    problem = sandbox.problem([str(settings.DATA_DIR)])
    return f"sandbox: {problem}" if problem else None


# A cleaner that works keeps its verdict as long as the sandbox probe's; a broken
# one is tried again soon after it is repaired.
CLEANER_HOLDS_FOR_SECONDS = sandbox.HOLDS_FOR_SECONDS
CLEANER_BROKEN_FOR_SECONDS = sandbox.BROKEN_FOR_SECONDS
SAMPLE = b"Penname health check: one line of plain text.\n"
_cleaner_verdicts: dict[object, tuple[float, str | None]] = {}
_cleaner_lock = threading.Lock()


def cleaner_problem() -> str | None:
    """A cleaning child, started as an upload's is (zygote, limits), cleans a line of text."""
    limits = cleaning_limits()
    key = (sandbox.bwrap_path(), limits)
    with _cleaner_lock:
        checked_at, verdict = _cleaner_verdicts.get(key, (-1e9, "unchecked"))
        ttl = CLEANER_HOLDS_FOR_SECONDS if verdict is None else CLEANER_BROKEN_FOR_SECONDS
        if time.monotonic() - checked_at < ttl:
            return verdict
        cleaned = io.BytesIO()
        try:
            run_in_sandbox(io.BytesIO(SAMPLE), cleaned, name_hint="health.txt",
                           type_hint="text/plain", limits=limits)
            verdict = None if cleaned.getvalue().strip() else "cleaner: it returned nothing"
        except CleaningRefused as exc:
            verdict = f"cleaner: {exc.code}"
        except OSError as exc:
            verdict = f"cleaner: {exc.__class__.__name__}"
        _cleaner_verdicts[key] = (time.monotonic(), verdict)
        return verdict


@public
@require_safe
def health(request: HttpRequest) -> HttpResponse:
    problem = (database_problem() or cache_problem() or store_problem() or sandbox_problem()
               or cleaner_problem())
    if problem:
        log.warning("health check: %s", problem)
        return HttpResponse("down\n", status=503, content_type="text/plain; charset=utf-8")
    return HttpResponse("ok\n", content_type="text/plain; charset=utf-8")
