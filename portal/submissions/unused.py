"""Identities nobody used again: known as such, and deleted after a while.

Threat answered: `POST /author/new/` is open to anyone, and every codename is
a row (and, once used, a reply key). A flood of codenames that are never used
again must not stay in the database for ever.

Promises:

- An identity is *used* (`Author.came_back`) once its codename logs in again
  or it sends a submission or a message (`mark_came_back`). A used identity is
  never deleted by this module.
- `purge_unused` deletes identities that are unused, have no submission (and
  so no message: a thread belongs to a submission), have no upload waiting for
  confirmation, and were made more than PORTAL_UNUSED_IDENTITY_DAYS days ago;
  their rows go with them (reply keys, by cascade). It returns a count, and
  nothing about which identities went.
- A waiting upload is known without reading it: its author id is inside the
  encrypted pending manifest, so `note_upload_waiting` leaves a mark in the
  cache (the author id only, for as long as an upload may wait; the session
  holds the same id for longer) that the purge respects.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from portal.submissions.models import Author

_WAITING_PREFIX = "upload-waiting"
# Candidates looked at (and deleted) per query: bounds memory and each statement's size.
BATCH = 500


def mark_came_back(author: Author) -> None:
    """This identity is in use (logged in again, or sent something): never purge it as unused."""
    if not author.came_back:
        Author.objects.filter(pk=author.pk).update(came_back=True)
        author.came_back = True


def note_upload_waiting(author: Author) -> None:
    """Keep an unused identity from the purge while an upload of theirs waits to be sent."""
    if not author.came_back:
        cache.set(f"{_WAITING_PREFIX}:{author.pk}", 1, settings.PORTAL_PENDING_SECONDS + 60)


def _unused_before(cutoff: date, kept: set[str]) -> list[str]:
    return [str(pk) for pk in Author.objects.filter(
        came_back=False, created_on__lt=cutoff, submissions__isnull=True,
    ).exclude(pk__in=kept).values_list("pk", flat=True)[:BATCH]]


def purge_unused(today: date) -> int:
    """Delete the identities nobody used again; how many went."""
    cutoff = today - timedelta(days=settings.PORTAL_UNUSED_IDENTITY_DAYS)
    removed = 0
    kept: set[str] = set()  # unused, but an upload of theirs is waiting
    while candidates := _unused_before(cutoff, kept):
        waiting = cache.get_many([f"{_WAITING_PREFIX}:{pk}" for pk in candidates])
        kept.update(pk for pk in candidates if f"{_WAITING_PREFIX}:{pk}" in waiting)
        doomed = [pk for pk in candidates if pk not in kept]
        with transaction.atomic():
            # The conditions again, in the same statement as the delete: an author
            # who logs in or sends something this very moment is not deleted.
            _, by_model = Author.objects.filter(
                pk__in=doomed, came_back=False, submissions__isnull=True).delete()
        gone = by_model.get(Author._meta.label, 0)
        if gone < len(doomed):  # some became used meanwhile: never look at them again
            kept.update(doomed)
        removed += gone
    return removed
