"""A confirmation pressed twice: the second press is told where the first one's upload went.

On a slow Tor connection an author presses "Send" again. Her browser drops the
first request, but the server finishes it; the second arrives while the first
is still encrypting and storing. Answering the second with "no longer waiting:
sent, cancelled or expired, upload again if it was not sent" would push her to
send the same draft twice. So the second request waits (at most
PORTAL_CONFIRM_WAIT_SECONDS, polling) for the first to finish, reads her session
again, where the first recorded which submission the upload became, and shows
that submission. If the first is still sending after the wait, she is told
exactly that, and not to upload again.

The wait holds a server worker, so it is short, it happens only for an upload
that is in this author's own session and is being sent at that moment, and only
one request waits for an upload (`pending.one_waiter`): any further press at the
same time is told at once that the upload is being sent.
"""

from __future__ import annotations

import time
from importlib import import_module

from django.conf import settings
from django.http import HttpRequest

from . import pending as pending_uploads

POLL_SECONDS = 0.25


def first_press_result(request: HttpRequest, pending_id: str, recorded: str,
                       own: list[str]) -> str | None:
    """The public id the first press sent this upload as, "" while it is still sending.

    None when this upload is not one of this session's, or is not being sent: the
    caller answers as before. `recorded` is the session key of the upload → public id
    map, `own` this session's waiting uploads as the request saw them.
    """
    if pending_id not in own or not pending_uploads.being_sent(pending_id):
        return None
    with pending_uploads.one_waiter(pending_id) as waiting:
        deadline = time.monotonic() + (settings.PORTAL_CONFIRM_WAIT_SECONDS if waiting else 0)
        while pending_uploads.being_sent(pending_id) and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
    if pending_uploads.being_sent(pending_id):
        return ""
    # The first press saved the session when it finished; this request holds the copy it
    # read before. Read it again, and keep the new copy: saving the old one at the end of
    # this request would undo what the first press recorded.
    engine = import_module(settings.SESSION_ENGINE)
    request.session = engine.SessionStore(session_key=request.session.session_key)
    return str(request.session.get(recorded, {}).get(pending_id, "")) or None
