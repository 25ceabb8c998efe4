"""Each author's reply key: made by the server and locked by their codename, or their own.

Promise: every author who has sent anything has an active reply key, so
editors can always answer them. The key is made when it is first needed
(`ready_for_replies`: the author sends a submission or a message, opens the
reply-key pages, or logs in having sent something but holding no usable key),
not when the codename is made: a codename that is never used again costs the
server no key generation and leaves no key behind. A generated key's secret
part is stored only locked by a passphrase derived from the codename (purpose
"reply-key", so unrelated to the login lookup); the derived secret exists only
while a request of the logged-in author carries it (see `unlock`). An author
may instead give their own public key at any time: from then on new messages
are encrypted to it, and the server cannot read them at all. Older keys are
kept, inactive, so older messages stay readable.

Promise (identity stays with the author): an author's own key is refused,
before anything of it is stored, if a user ID is anything but a neutral label
(`replykey.NEUTRAL_USER_IDS`: no name, no email) or it carries a photo; what is
stored is gpg's minimal export (its self-signatures only, nobody else's), and
no user ID text goes into the database.
"""

from __future__ import annotations

import enum
import tempfile
from contextlib import AbstractContextManager
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from portal.counters import count
from portal.crypto import replykey
from portal.crypto.openpgp import KeyInfo, Keyring, KeyUnusable
from portal.submissions.models import Author

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


class Missing(enum.StrEnum):
    """Why an author has no reply key and none could be made now."""

    NO_SECRET = "no-secret"  # noqa: S105 - a code, not a password: the visit lacks the unlock
    FAILED = "failed"  # gpg could not make the key

    def sentence(self) -> str:
        """What the author reads: nothing was sent, and what to do."""
        if self is Missing.NO_SECRET:
            return _("Nothing was sent: the editors could not reply to you, because this visit "
                     "no longer holds what your codename unlocks. Please log out, log in again "
                     "with your codename, and send it again.")
        return _("Nothing was sent: the server could not make the key the editors need to "
                 "reply to you. Please try again in a few minutes.")


class NoReplyKey(Exception):
    """The author has no key replies can be encrypted to, and none could be made now."""

    def __init__(self, reason: Missing) -> None:
        super().__init__(reason.value)
        self.reason = Missing(reason)

    @property
    def status(self) -> int:
        return 503 if self.reason is Missing.FAILED else 400

    def sentence(self) -> str:
        return self.reason.sentence()


def ready_for_replies(author: Author, secret: bytes | None) -> ReplyKey:
    """The key editors' replies to this author go to, made now from `secret` if needed.

    An active key that names the portal (from before user IDs were neutral) is
    replaced when the secret is at hand, and otherwise still serves. Raises
    NoReplyKey only when the author would be left without any active key.
    """
    active = active_key(author)
    if active is not None and not (active.generated and active.names_portal):
        return active
    if secret is None:
        if active is not None:
            return active
        raise NoReplyKey(Missing.NO_SECRET)
    try:
        generated = ensure_generated(author, secret)
    except (replykey.ReplyKeyError, OSError) as exc:
        # Counted, not logged: a log line would say when this author was here.
        count(f"reply key could not be made: {type(exc).__name__}")
        if active is not None:
            return active
        raise NoReplyKey(Missing.FAILED) from exc
    return active_key(author) or _activate(generated)


def _activate(row: ReplyKey) -> ReplyKey:
    with transaction.atomic():
        ReplyKey.objects.filter(author_id=row.author_id).update(active=False)
        row.active = True
        row.save(update_fields=["active"])
    return row


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
        # One maker at a time per author (two requests at once, a double click):
        # the second finds the first one's key and keeps it, discarding its own.
        Author.objects.select_for_update().filter(pk=author.pk).first()
        existing = keys.filter(names_portal=False).first()
        if existing is not None:
            return existing
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
