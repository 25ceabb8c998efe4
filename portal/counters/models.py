"""How often something went wrong on a day, without saying when (see portal.counters)."""

from __future__ import annotations

import datetime

from django.db import models
from django.utils import timezone


def today() -> datetime.date:
    return timezone.now().date()


class EventCount(models.Model):
    day = models.DateField(default=today)
    event = models.CharField(max_length=120)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "event"], name="one_count_a_day")]

    def __str__(self) -> str:
        return f"{self.day}: {self.count} × {self.event}"
