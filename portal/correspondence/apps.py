from __future__ import annotations

from django.apps import AppConfig


class CorrespondenceConfig(AppConfig):
    name = "portal.correspondence"
    default_auto_field = "django.db.models.BigAutoField"
