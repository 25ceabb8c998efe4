"""API tokens for portal-editor: bound to one editor, expiring, revocable, stored hashed.

A token is issued only after password and a verified OTP code, so a request
carrying a valid token counts as a verified second factor. The server keeps
SHA-256 of the token, never the token: a copied database cannot act as an editor.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

PREFIX = "pn_"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=80, blank=True)
    created = models.DateTimeField(default=timezone.now)
    expires = models.DateTimeField()
    revoked = models.BooleanField(default=False)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"token {self.pk} of {self.user}"

    @classmethod
    def issue(cls, user: object, label: str = "") -> tuple[ApiToken, str]:
        token = PREFIX + secrets.token_urlsafe(32)
        row = cls.objects.create(
            user=user, digest=digest(token), label=label[:80],
            expires=timezone.now() + timedelta(days=settings.PORTAL_API_TOKEN_DAYS),
        )
        return row, token

    @property
    def usable(self) -> bool:
        return not self.revoked and self.expires > timezone.now()
