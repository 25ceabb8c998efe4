from __future__ import annotations

from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """The server's timed jobs (`portal purge`, `portal publish`): above every face, imported by none."""

    name = "portal.operations"
    label = "operations"
    verbose_name = "Timed jobs"
