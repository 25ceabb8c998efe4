from __future__ import annotations

from django.apps import AppConfig


class EditorsConfig(AppConfig):
    """The editors' side of the domain core: accounts, notes, key changes, re-encryption.

    Its label stays "editorial", the label these tables, their migration history
    and every backup already carry (the editor pages are `portal.editorial`).
    """

    name = "portal.editors"
    label = "editorial"
    verbose_name = "Editors and their keys"

    def ready(self) -> None:
        from portal.submissions.ciphertext import holds_ciphertext

        from .models import Note, Replacement

        holds_ciphertext(Note, "blob")
        holds_ciphertext(Replacement, "candidate", readable=False,
                         state=Replacement.State.PENDING)
