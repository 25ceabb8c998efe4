"""Editors' own rows: roles, assignments, notes, notification marks, re-encryptions.

The key registry, the state history and the audit log are rows of the domain
core (`portal.submissions.models`, still labelled "editorial"). Re-encrypted
ciphertext waits beside the old as a `Replacement` until every editor's client
has confirmed it, see `portal.editors.replacement`.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def today() -> date:
    return timezone.now().date()



class Editor(models.Model):
    """An editor's role and session epoch (bumped by "log out everywhere")."""

    class Role(models.TextChoices):
        EDITOR = "editor", _("editor")
        MANAGING = "managing", _("managing editor")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="editor"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.EDITOR)
    session_epoch = models.PositiveIntegerField(default=0)
    # Opt-in: where to say "something new" (nothing more). Empty: no notification.
    notify_address = models.EmailField(blank=True)
    # The newest key or account change (AuditEvent id) this editor has marked as seen.
    changes_seen = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"

    @property
    def is_managing(self) -> bool:
        return self.role == self.Role.MANAGING



class Assignment(models.Model):
    submission = models.ForeignKey(
        "authors.Submission", on_delete=models.CASCADE, related_name="assignments"
    )
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["submission", "editor"], name="unique_assignment")
        ]

    def __str__(self) -> str:
        return f"{self.editor} on {self.submission}"


class Note(models.Model):
    """An internal note between editors; its text exists only as ciphertext in the store."""

    submission = models.ForeignKey(
        "authors.Submission", on_delete=models.CASCADE, related_name="notes"
    )
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True)
    blob = models.CharField(max_length=40, unique=True)
    ciphertext_bytes = models.BigIntegerField()
    recipients = models.JSONField(default=list)
    at = models.DateTimeField(default=timezone.now)
    # True when the server encrypted it on arrival (web form), False when it came
    # already encrypted from the editor's own machine (portal-editor note).
    encrypted_by_server = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"note on {self.submission}"



class NotificationMark(models.Model):
    """How far `portal notify_editors` has told editors about (sequence numbers, not times)."""

    last_submission = models.BigIntegerField(default=0)
    last_message = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"notified through submission {self.last_submission}, message {self.last_message}"


class Replacement(models.Model):
    """A re-encrypted ciphertext waiting beside the one it would replace.

    The server cannot see whom an OpenPGP message reaches (recipients are
    hidden, and a session-key packet naming a key proves nothing), so the
    candidate is kept under a name of its own until the client of every key in
    `required` has decrypted it to the plaintext whose SHA-256 the proposer
    declared. Only then does it take the old name (see `portal.editors.replacement`).
    """

    class State(models.TextChoices):
        PENDING = "pending", _("waiting for confirmations")
        COMPLETED = "completed", _("completed")
        DISCARDED = "discarded", _("discarded")

    submission = models.ForeignKey(
        "authors.Submission", on_delete=models.CASCADE, related_name="replacements"
    )
    blob = models.CharField(max_length=40)
    candidate = models.CharField(max_length=40, unique=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, related_name="+")
    plaintext_sha256 = models.CharField(max_length=64)
    # Full fingerprints whose owners must confirm; after completion, whom the blob reaches.
    required = models.JSONField(default=list)
    # The keys the old ciphertext was encrypted to: their confirmations must have
    # compared the old plaintext with the new.
    old_recipients = models.JSONField(default=list)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    reason = models.CharField(max_length=80, blank=True)
    proposed_on = models.DateField(default=today)
    closed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["blob"], condition=models.Q(state="pending"),
                                    name="one_pending_replacement_per_blob"),
        ]

    def __str__(self) -> str:
        return f"replacement of {self.blob} ({self.state})"


class ReplacementConfirmation(models.Model):
    """One key's answer: the candidate decrypted to this plaintext hash, or a refusal."""

    replacement = models.ForeignKey(Replacement, on_delete=models.CASCADE,
                                    related_name="confirmations")
    fingerprint = models.CharField(max_length=64)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, related_name="+")
    plaintext_sha256 = models.CharField(max_length=64)
    # The client also decrypted the old ciphertext and found the same plaintext.
    compared = models.BooleanField(default=False)
    on = models.DateField(default=today)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["replacement", "fingerprint"],
                                    name="one_confirmation_per_key"),
        ]

    def __str__(self) -> str:
        return f"{self.fingerprint} on {self.replacement}"
