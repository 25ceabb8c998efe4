"""The key registry: which editor keys every new submission is encrypted to.

Promise: `recipients()` returns only keys that belong to active editors, are
marked active, are present in the server's public keyring, and pass the
usability checks of `portal.crypto.openpgp` today (not expired, not revoked,
able to encrypt, strong enough). An editor who is removed or deactivated
receives nothing new.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from portal.crypto.openpgp import KeyInfo, Keyring, KeyUnusable

from .models import EditorKey


def keyring() -> Keyring:
    return Keyring(settings.PORTAL_GNUPG_HOME, gpg_binary=settings.PORTAL_GPG_BINARY)


def active_keys() -> list[EditorKey]:
    return list(
        EditorKey.objects.filter(active=True, user__is_active=True).select_related("user")
    )


def recipients(ring: Keyring | None = None) -> list[str]:
    """Full fingerprints of every usable editor key (may be empty: submissions closed)."""
    ring = ring or keyring()
    rows = active_keys()
    usable = []
    for row in rows:
        info = ring.key_info(row.fingerprint)
        if not info.usable and info.reason == "the key is not in the keyring":
            # The keyring is a working copy; restore it from the registry.
            try:
                info = ring.import_public_key(row.armored)
            except KeyUnusable:
                continue
        if info.usable:
            usable.append(info.fingerprint)
    return usable


def add_key(user: User, armored: str, ring: Keyring | None = None) -> EditorKey:
    """Check and register a public key for an editor; raise KeyUnusable with the reason."""
    ring = ring or keyring()
    info: KeyInfo = ring.import_public_key(armored)
    with transaction.atomic():
        key, _ = EditorKey.objects.update_or_create(
            fingerprint=info.fingerprint,
            defaults={
                "user": user, "armored": armored if isinstance(armored, str) else armored.decode(),
                "algorithm": info.algorithm, "user_ids": list(info.user_ids),
                "expires_on": info.expires, "active": True,
            },
        )
    return key
