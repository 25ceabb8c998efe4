from __future__ import annotations

from django.apps import AppConfig


class CountersConfig(AppConfig):
    name = "portal.counters"
    label = "counters"
    verbose_name = "Operational counters"
