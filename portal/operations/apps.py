from __future__ import annotations

from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """The admin's jobs (`portal purge`, `publish`, `backup`, `restore`): above every face."""

    name = "portal.operations"
    label = "operations"
    verbose_name = "Timed jobs"
