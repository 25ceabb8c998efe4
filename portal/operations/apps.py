from __future__ import annotations

from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """The admin's jobs (`portal purge`, `publish`, `backup`, `restore`, `status`): above every face."""

    name = "portal.operations"
    label = "operations"
    verbose_name = "Timed jobs"

    def ready(self) -> None:
        # `portal check --deploy` runs Penname's own checks too (portal.deploy_checks).
        from portal import deploy_checks  # noqa: F401
