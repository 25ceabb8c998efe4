"""`portal purge`: publish the batch, then delete what must not linger.

First, ciphertext that waited through a batch boundary reaches its final place
(`portal publish`, see portal.store). Last, it prints the counts of what went
wrong for authors since the previous run (portal.counters).

Deletes declined and withdrawn submissions (rows and ciphertext) once they have
been closed for PORTAL_RETENTION_DAYS (default 90), discards re-encrypted
copies that not every editor confirmed within 14 days (the old ciphertext
stays; see portal.editors.replacement), and removes raw upload
spools and pending uploads older than an hour (the author never confirmed, or a
worker died mid-upload), half-written ciphertext, and ciphertext that no
submission refers to (a confirm that failed between the store and the
database). It also deletes author identities nobody used again (never logged
in after their first visit, nothing sent, no upload waiting) once they are
PORTAL_UNUSED_IDENTITY_DAYS old (default 7), with their rows
(portal.submissions.unused): a flood of new codenames does not stay. It prints
counts only. Run it from a timer (see deploy/).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from portal import jobs
from portal.authors import pending
from portal.counters import report_and_clear
from portal.editors import replacement
from portal.store import Store
from portal.submissions import unused
from portal.submissions.ciphertext import delete_submission, publish_batch, referenced_blobs
from portal.submissions.models import Submission


class Command(BaseCommand):
    help = "Delete abandoned uploads and unreferenced ciphertext."

    def handle(self, *args: Any, **options: Any) -> None:
        published = publish_batch()
        cutoff = timezone.now().date() - timedelta(days=settings.PORTAL_RETENTION_DAYS)
        closed = list(Submission.objects.filter(closed_on__isnull=False, closed_on__lt=cutoff))
        for submission in closed:
            delete_submission(submission)
        expired = replacement.expire()
        spools = pending.sweep()
        identities = unused.purge_unused(timezone.now().date())
        blobs = Store.default().sweep(
            referenced_blobs(), older_than_seconds=settings.PORTAL_PENDING_SECONDS
        )
        # What went wrong for authors since the last run, counted rather than logged
        # when it happened (portal.counters): one summary an hour.
        for line in report_and_clear():
            self.stdout.write(f"counted {line}")
        self.stdout.write(
            f"published {published} ciphertext file(s); "
            f"removed {len(closed)} closed submission(s), {spools} abandoned upload(s), "
            f"{blobs} stray ciphertext file(s), {identities} unused author identit"
            f"{'y' if identities == 1 else 'ies'}; discarded {expired} unconfirmed "
            f"re-encrypted cop{'y' if expired == 1 else 'ies'}"
        )
        jobs.succeeded("purge")  # the day only, for `portal status`
