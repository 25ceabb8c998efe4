"""Which editor keys every new submission, message and note is encrypted to.

Promise: `recipients()` returns only keys that belong to active editors, are
marked active, have been *approved*, are present in the server's public
keyring, and pass the usability checks of `portal.crypto.openpgp` today (not
expired, not revoked, able to encrypt, strong enough). An editor who is
removed or deactivated receives nothing new. The registry's rows are
`EditorKey`; how a key gets approved is `portal.editors.keys`.
"""

from __future__ import annotations

from django.conf import settings

from portal.crypto.openpgp import Keyring, KeyUnusable

from .models import EditorKey


def keyring() -> Keyring:
    return Keyring(settings.PORTAL_GNUPG_HOME, gpg_binary=settings.PORTAL_GPG_BINARY)


def active_keys() -> list[EditorKey]:
    """Active keys of active editors, approved or still waiting (for warnings and lists)."""
    return list(
        EditorKey.objects.filter(active=True, user__is_active=True).select_related("user")
    )


def recipients(ring: Keyring | None = None) -> list[str]:
    """Full fingerprints of every usable, approved editor key (may be empty: submissions closed)."""
    ring = ring or keyring()
    rows = [k for k in active_keys() if k.approved]
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
