from __future__ import annotations

from django.apps import AppConfig


class CorrespondenceConfig(AppConfig):
    name = "portal.correspondence"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from portal.submissions.ciphertext import holds_ciphertext

        from .models import Message

        holds_ciphertext(Message, "blob")
