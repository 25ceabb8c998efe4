"""`portal purge`: delete what must not linger.

Removes raw upload spools and pending uploads older than an hour (the author
never confirmed, or a worker died mid-upload), half-written ciphertext, and
ciphertext that no submission refers to (a confirm that failed between the
store and the database). Run it from a timer (see deploy/).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from portal.authors import pending
from portal.authors.models import Submission, SubmissionFile
from portal.store import Store


class Command(BaseCommand):
    help = "Delete abandoned uploads and unreferenced ciphertext."

    def handle(self, *args: Any, **options: Any) -> None:
        spools = pending.sweep()
        referenced = set(SubmissionFile.objects.values_list("blob", flat=True))
        referenced |= set(Submission.objects.values_list("manifest_blob", flat=True))
        blobs = Store(Path(settings.PORTAL_STORE_DIR)).sweep(
            referenced, older_than_seconds=settings.PORTAL_PENDING_SECONDS
        )
        self.stdout.write(f"removed {spools} abandoned upload(s), {blobs} stray ciphertext file(s)")
