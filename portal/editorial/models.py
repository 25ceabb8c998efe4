"""Editors' OpenPGP public keys: the only keys the server ever holds.

A key row records the full fingerprint and the armored public key as the admin
added it; the server's GnuPG home is rebuilt from these rows when needed, so
the database is the registry and the keyring a working copy.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


def today() -> object:
    return timezone.now().date()


class EditorKey(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="openpgp_keys"
    )
    fingerprint = models.CharField(max_length=64, unique=True)
    armored = models.TextField()
    algorithm = models.CharField(max_length=40)
    user_ids = models.JSONField(default=list)
    expires_on = models.DateField(null=True, blank=True)
    added_on = models.DateField(default=today)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["user__username", "-added_on"]

    def __str__(self) -> str:
        return f"{self.user} {self.fingerprint}"

    @property
    def spaced_fingerprint(self) -> str:
        fpr = self.fingerprint
        return " ".join(fpr[i : i + 4] for i in range(0, len(fpr), 4))
