"""`portal notify_editors`: mail "something new" to editors who opted in (run by a timer)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from portal import jobs
from portal.editorial.notify import notify_editors


class Command(BaseCommand):
    help = "Tell editors who asked for it that something new is waiting (nothing more)."

    def handle(self, *args: Any, **options: Any) -> None:
        sent = notify_editors()
        # The day it ran, never whether it sent anything (portal.jobs).
        jobs.succeeded("notify")
        self.stdout.write(f"{sent} notification(s) sent")
