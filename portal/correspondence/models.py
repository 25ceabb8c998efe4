"""Reply keys and threads, as the database sees them: no plaintext content.

A reply key row holds an author's OpenPGP public key and, for a key the
server generated, its secret key protected by a passphrase derived from the
codename (see `portal.crypto.replykey`); the server alone cannot open it. A
message row holds who wrote (the author, or which editor), the day, and the
random name of its ciphertext: the text exists only inside that OpenPGP
message, encrypted to the editors and to the author's reply key. Order comes
from the sequence number, never from times.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from portal.submissions.models import Author, Submission, today


class ReplyKey(models.Model):
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="reply_keys")
    fingerprint = models.CharField(max_length=64)
    public_key = models.TextField()
    # Generated keys only: ASCII-armored, locked by the codename-derived passphrase.
    locked_secret_key = models.TextField(blank=True)
    generated = models.BooleanField()
    # A generated key from before user IDs were neutral: it says "Penname author".
    # Replaced at the author's next login (see replykeys.ensure_generated).
    names_portal = models.BooleanField(default=False)
    added_on = models.DateField(default=today)
    # The key new messages are encrypted to; older keys stay to read older messages.
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["author", "fingerprint"], name="unique_author_key"),
        ]

    def __str__(self) -> str:
        return f"reply key {self.fingerprint[-16:]}"

    @property
    def spaced_fingerprint(self) -> str:
        return " ".join(self.fingerprint[i:i + 4] for i in range(0, len(self.fingerprint), 4))


class Message(models.Model):
    class Sender(models.TextChoices):
        AUTHOR = "author", "author"
        EDITOR = "editor", "editor"

    # Always the first version of a submission: one thread covers every revision.
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="messages")
    sender = models.CharField(max_length=8, choices=Sender.choices)
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True)
    sent_on = models.DateField(default=today)
    blob = models.CharField(max_length=40, unique=True)
    ciphertext_bytes = models.BigIntegerField()
    # Editor key fingerprints, and the author reply key, the message is encrypted to.
    recipients = models.JSONField(default=list)
    reply_key = models.CharField(max_length=64, blank=True)
    # False when an editor's own machine encrypted it (portal-editor reply).
    encrypted_by_server = models.BooleanField(default=True)
    # The state the submission moved to with this message ("" for an ordinary message).
    decision = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"message {self.pk} ({self.sender}) on {self.submission}"
