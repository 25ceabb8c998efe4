"""`portal publish`: move ciphertext that waited through a batch boundary to its final place.

New ciphertext (uploads, messages, notes) waits in the store's `.batch/` until
the next boundary of PORTAL_BATCH_HOURS (from 00:00 UTC), so that no stored
file's times say when an author acted (see portal.store). `portal purge`,
which the hourly timer runs, publishes first; this command does only that.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from portal.submissions.ciphertext import publish_batch


class Command(BaseCommand):
    help = "Publish ciphertext that waited through the latest batch boundary."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"published {publish_batch()} ciphertext file(s)")
