"""Each author's reply key: made by the server and locked by their codename, or their own.

Promise: every author has an active reply key from their first visit. A
generated key's secret part is stored only locked by a passphrase derived
from the codename (purpose "reply-key", so unrelated to the login lookup); the
derived secret exists only while a request of the logged-in author carries it
(see `unlock`). An author may instead give their own public key at any time:
from then on new messages are encrypted to it, and the server cannot read them
at all. Older keys are kept, inactive, so older messages stay readable.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.conf import settings
from django.db import transaction

from portal.authors.models import Author
from portal.crypto import replykey
from portal.crypto.openpgp import KeyInfo, Keyring, KeyUnusable
from portal.editorial.keys import keyring

from .models import ReplyKey


def passphrase(secret: bytes) -> str:
    return secret.hex()


def workdir() -> Path:
    """Where throw-away GnuPG homes go: the temp directory (private to the service under
    systemd), whose short path keeps gpg-agent's socket name within the system's limit.
    Nothing in them is readable without the passphrase, and each is deleted after use."""
    return Path(tempfile.gettempdir())


def active_key(author: Author) -> ReplyKey | None:
    return author.reply_keys.filter(active=True).first()  # type: ignore[attr-defined]


def ensure_generated(author: Author, secret: bytes) -> ReplyKey:
    """The author's generated key, made now if they have none (older identities)."""
    existing = author.reply_keys.filter(generated=True).first()  # type: ignore[attr-defined]
    if existing is not None:
        return existing
    made = replykey.generate(passphrase(secret), workdir(), settings.PORTAL_GPG_BINARY)
    with transaction.atomic():
        has_active = author.reply_keys.filter(active=True).exists()  # type: ignore[attr-defined]
        return ReplyKey.objects.create(
            author=author, fingerprint=made.fingerprint, public_key=made.public,
            locked_secret_key=made.secret, generated=True, user_ids=[replykey.USER_ID],
            active=not has_active,
        )


def add_own_key(author: Author, armored: str, ring: Keyring | None = None) -> ReplyKey:
    """Check the author's own public key and make it the one replies are encrypted to.

    Raises KeyUnusable with the reason (secret key, several keys, expired, weak...).
    """
    info: KeyInfo = (ring or keyring()).import_public_key(armored)
    with transaction.atomic():
        author.reply_keys.update(active=False)  # type: ignore[attr-defined]
        row, _ = ReplyKey.objects.update_or_create(
            author=author, fingerprint=info.fingerprint,
            defaults={"public_key": armored, "generated": False, "locked_secret_key": "",
                      "user_ids": list(info.user_ids), "active": True},
        )
    return row


def use_generated(author: Author) -> ReplyKey | None:
    """Go back to the key the server made (replies readable here again, with the codename)."""
    generated = author.reply_keys.filter(generated=True).first()  # type: ignore[attr-defined]
    if generated is None:
        return None
    with transaction.atomic():
        author.reply_keys.update(active=False)  # type: ignore[attr-defined]
        generated.active = True
        generated.save(update_fields=["active"])
    return generated


def usable_fingerprint(row: ReplyKey, ring: Keyring) -> str | None:
    """The key's fingerprint if new messages can be encrypted to it (importing it if needed)."""
    info = ring.key_info(row.fingerprint)
    if not info.usable and info.reason == "the key is not in the keyring":
        try:
            info = ring.import_public_key(row.public_key)
        except KeyUnusable:
            return None
    return info.fingerprint if info.usable else None


def export_secret(author: Author, secret: bytes, codename: str) -> str:
    """The generated secret key, protected by the codename instead, for the author to keep."""
    row = author.reply_keys.filter(generated=True).first()  # type: ignore[attr-defined]
    if row is None:
        raise replykey.ReplyKeyError("no generated key")
    return replykey.export_for_author(row.locked_secret_key, passphrase(secret), codename,
                                      workdir(), settings.PORTAL_GPG_BINARY)
