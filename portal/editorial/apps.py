from __future__ import annotations

from django.apps import AppConfig


class EditorialConfig(AppConfig):
    name = "portal.editorial"
    label = "editorial"
    verbose_name = "Editors and their keys"

    def ready(self) -> None:
        from portal.submissions.ciphertext import holds_ciphertext

        from .models import Note, Replacement

        holds_ciphertext(Note, "blob")
        holds_ciphertext(Replacement, "candidate", readable=False,
                         state=Replacement.State.PENDING)
