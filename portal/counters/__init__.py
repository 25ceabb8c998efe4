"""Numbers for operators where a log line would date an author's visit.

Threat answered: every line in the journal carries the second it was written.
A line written while an author's request fails ("could not store a
submission") says when that author was here. Such events are counted instead,
per day, and `portal purge` (the hourly timer) writes one summary line of the
counts and clears them: the operator still learns that uploads are failing
and why, to the hour at best, and the journal says nothing finer about an
author.
"""

from __future__ import annotations

import logging

log = logging.getLogger("portal.counters")
MAX_EVENT_CHARS = 120


def count(event: str) -> None:
    """Add one to today's count of `event`; never raises (a failed count is not a failure)."""
    from django.db import transaction
    from django.db.models import F

    from .models import EventCount, today

    event = " ".join(str(event).split())[:MAX_EVENT_CHARS]
    try:
        with transaction.atomic():
            updated = EventCount.objects.filter(day=today(), event=event).update(
                count=F("count") + 1)
            if not updated:
                EventCount.objects.create(day=today(), event=event, count=1)
    except Exception:  # noqa: S110 - the database may be the very thing that failed
        pass


def report_and_clear() -> list[str]:
    """One line per counted event since the last report, oldest day first; then forget them."""
    from django.db import transaction

    from .models import EventCount

    with transaction.atomic():
        rows = list(EventCount.objects.select_for_update().order_by("day", "event"))
        EventCount.objects.filter(pk__in=[r.pk for r in rows]).delete()
    return [f"{row.day.isoformat()}: {row.count} × {row.event}" for row in rows]
