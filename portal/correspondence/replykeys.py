"""Each author's reply key: made by the server and locked by their codename, or their own.

Promise: every author has an active reply key from their first visit. A
generated key's secret part is stored only locked by a passphrase derived
from the codename (purpose "reply-key", so unrelated to the login lookup); the
derived secret exists only while a request of the logged-in author carries it
(see `unlock`). An author may instead give their own public key at any time:
from then on new messages are encrypted to it, and the server cannot read them
at all. Older keys are kept, inactive, so older messages stay readable.

Promise (identity stays with the author): an author's own key is refused,
before anything of it is stored, if a user ID is anything but a neutral label
(`replykey.NEUTRAL_USER_IDS`: no name, no email) or it carries a photo; what is
stored is gpg's minimal export (its self-signatures only, nobody else's), and
no user ID text goes into the database.
"""

from __future__ import annotations

import tempfile
from contextlib import AbstractContextManager
from pathlib import Path

from django.conf import settings
from django.db import transaction

from portal.authors.models import Author
from portal.crypto import replykey
from portal.crypto.openpgp import KeyInfo, Keyring, KeyUnusable

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


class KeyNamesOwner(KeyUnusable):
    """An author's own key whose user IDs or photo could say who they are."""


def ensure_generated(author: Author, secret: bytes) -> ReplyKey:
    """The author's generated key, made now if they have none or theirs names the portal.

    A replacement becomes the active key if the one it replaces was active;
    the old one stays, inactive, for the messages already encrypted to it.
    """
    keys = author.reply_keys.filter(generated=True)  # type: ignore[attr-defined]
    existing = keys.filter(names_portal=False).first()
    if existing is not None:
        return existing
    replaced = keys.first()
    made = replykey.generate(passphrase(secret), workdir(), settings.PORTAL_GPG_BINARY)
    with transaction.atomic():
        has_active = author.reply_keys.filter(active=True).exists()  # type: ignore[attr-defined]
        take_over = not has_active or (replaced is not None and replaced.active)
        if take_over:
            author.reply_keys.update(active=False)  # type: ignore[attr-defined]
        return ReplyKey.objects.create(
            author=author, fingerprint=made.fingerprint, public_key=made.public,
            locked_secret_key=made.secret, generated=True, active=take_over,
        )


def throwaway_keyring() -> AbstractContextManager[Keyring]:
    """A keyring for one operation with an author's key, deleted afterwards.

    Authors' keys never enter the server's keyring: its files' times would say
    when an author added a key or was written to.
    """
    return Keyring.throwaway(workdir(), settings.PORTAL_GPG_BINARY)


def add_own_key(author: Author, armored: str) -> ReplyKey:
    """Check the author's own public key and make it the one replies are encrypted to.

    Raises KeyNamesOwner (nothing imported, nothing stored) for a user ID that
    is not a neutral label or a photo, and KeyUnusable with the reason for the
    rest (secret key, several keys, expired, weak...).
    """
    data = armored.encode("ascii", "replace")
    with throwaway_keyring() as ring:
        contents = ring.inspect_key(data)
        if contents.secret:
            raise KeyUnusable("this is a private key; send only the public key")
        if len(contents.fingerprints) > 1:
            raise KeyUnusable(f"the file holds {len(contents.fingerprints)} keys; add one key "
                              "at a time")
        if contents.attributes or not all(replykey.is_neutral_user_id(u)
                                          for u in contents.user_ids):
            raise KeyNamesOwner("the key names its owner")
        info: KeyInfo = ring.import_public_key(data)
        minimal = ring.export_minimal(info.fingerprint)
    with transaction.atomic():
        author.reply_keys.update(active=False)  # type: ignore[attr-defined]
        row, _ = ReplyKey.objects.update_or_create(
            author=author, fingerprint=info.fingerprint,
            defaults={"public_key": minimal, "generated": False, "locked_secret_key": "",
                      "active": True},
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
    row = author.reply_keys.filter(generated=True, names_portal=False).first()  # type: ignore[attr-defined]
    if row is None:
        raise replykey.ReplyKeyError("no generated key")
    return replykey.export_for_author(row.locked_secret_key, passphrase(secret), codename,
                                      workdir(), settings.PORTAL_GPG_BINARY)
