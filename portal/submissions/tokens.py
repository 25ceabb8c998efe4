"""API tokens for portal-editor: bound to one editor, scoped, short-lived, revocable, stored hashed.

A token is issued only after password and a verified OTP code, so a request
carrying a valid token counts as a verified second factor. The server keeps
SHA-256 of the token, never the token: a copied database cannot act as an editor.

Threat answered (a copied laptop config, a seized phone): a token can do only
what its scopes name, and lives only as long as its use needs. `reencrypt`
(managing editors only) lives a day; the others a week, the time between two
syncs of an editor who is away; PORTAL_API_TOKEN_DAYS caps both. The day of last
use (never a time) is kept so its owner can see a token they did not expect to
be in use, and revoke it on the account page.

The rows keep the "api" label they carry in every backup; they live in the core
because the access checks (`portal.access`) and the editor's account page read
them as much as the API does.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

PREFIX = "pn_"
READ, NOTE, REPLY, REENCRYPT = "read", "note", "reply", "reencrypt"
SCOPES = (READ, NOTE, REPLY, REENCRYPT)
# What `portal-editor login` asks for unless told otherwise.
DEFAULT_SCOPES = (READ, NOTE, REPLY)
# Lifetimes in days, each capped by PORTAL_API_TOKEN_DAYS.
ORDINARY_DAYS = 7
REENCRYPT_DAYS = 1


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def lifetime_days(scopes: list[str] | tuple[str, ...]) -> int:
    days = REENCRYPT_DAYS if REENCRYPT in scopes else ORDINARY_DAYS
    return min(days, settings.PORTAL_API_TOKEN_DAYS)


def today() -> date:
    return timezone.now().date()


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_tokens")
    digest = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=80, blank=True)
    created = models.DateTimeField(default=timezone.now)
    expires = models.DateTimeField()
    revoked = models.BooleanField(default=False)
    scopes = models.JSONField(default=list)
    last_used_on = models.DateField(null=True, blank=True)

    class Meta:
        app_label = "api"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"token {self.pk} of {self.user}"

    @classmethod
    def issue(cls, user: object, label: str = "",
              scopes: list[str] | tuple[str, ...] = DEFAULT_SCOPES) -> tuple[ApiToken, str]:
        unknown = set(scopes) - set(SCOPES)
        if unknown or not scopes:
            raise ValueError(f"unknown scope: {', '.join(sorted(unknown)) or 'none given'}")
        token = PREFIX + secrets.token_urlsafe(32)
        ordered = [s for s in SCOPES if s in scopes]
        row = cls.objects.create(
            user=user, digest=digest(token), label=label[:80], scopes=ordered,
            expires=timezone.now() + timedelta(days=lifetime_days(ordered)),
        )
        return row, token

    @property
    def usable(self) -> bool:
        return not self.revoked and self.expires > timezone.now()

    def allows(self, scope: str) -> bool:
        return scope in self.scopes

    def note_use(self) -> None:
        """Record the day of use (one write a day at most)."""
        day = today()
        if self.last_used_on != day:
            type(self).objects.filter(pk=self.pk).update(last_used_on=day)
            self.last_used_on = day  # type: ignore[assignment]
