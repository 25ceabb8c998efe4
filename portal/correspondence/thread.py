"""One encrypted thread per submission, between its author and the editors.

Promise: a message's text exists on the server only as one OpenPGP message in
the store, encrypted on arrival to every usable editor key and to the author's
active reply key, written and fsynced before its row is committed (the same
path as uploads: `Store.put_encrypted`). If encryption, storage or the database
fails, nothing is kept and the caller is told which. Messages that an editor's
own machine encrypted (`portal-editor reply`) arrive as ciphertext and are
checked to be an OpenPGP message to public keys before they are kept.

Reading happens only for the author, only with the secret their login
derived from the codename, and only into memory (`portal.crypto.replykey`).
"""

from __future__ import annotations

import enum
import io
from dataclasses import dataclass
from typing import Any, BinaryIO

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _

from portal.counters import count
from portal.crypto import replykey
from portal.store import Store, StoreError
from portal.submissions.models import Author, Submission
from portal.submissions.recipients import keyring, recipients
from portal.submissions.sealing import NotSealed, Stage, sealing

from . import replykeys
from .models import Message, ReplyKey

# A thread longer than this is not a conversation about one piece; it bounds
# the work of showing a whole thread (one gpg run per message, ~20-50 ms each).
MAX_MESSAGES_PER_THREAD = 100
# Messages decrypted for an ordinary page view: the newest ones. Older ones are
# listed, and opened when the author asks for the whole conversation.
SHOWN_BY_DEFAULT = 20
# Ciphertext an editor's machine may send for one reply (text, compressed).
MAX_REPLY_CIPHERTEXT_BYTES = 1024 * 1024


class NotSent(enum.StrEnum):
    """Why a message was not kept (nothing of it was kept in any case)."""

    CLOSED = "closed"  # no editor key can receive it
    AUTHOR_KEY = "author-key"  # the author's reply key is missing, expired or not named
    FULL = "full"  # the thread holds MAX_MESSAGES_PER_THREAD messages
    ENCRYPTION = "encryption"  # gpg failed
    STORAGE = "storage"  # the store could not write or fsync
    DATABASE = "database"  # the row could not be recorded (the ciphertext was deleted)
    REFUSED = "refused"  # an editor's upload was not an OpenPGP message to public keys

    def sentence(self) -> str:
        """The sentence an author or editor reads when a message was not kept."""
        return {
            NotSent.CLOSED: lambda: _(
                "No editor can receive messages right now, so nothing was sent. Please try "
                "again later."),
            NotSent.AUTHOR_KEY: lambda: _(
                "The author’s reply key cannot be used (it may have expired), so nothing was "
                "sent."),
            NotSent.FULL: lambda: _(
                "This conversation has reached its limit of %(n)d messages. Nothing was sent.")
            % {"n": MAX_MESSAGES_PER_THREAD},
            NotSent.ENCRYPTION: lambda: _(
                "Encryption failed on the server, so nothing was sent or kept."),
            NotSent.STORAGE: lambda: _(
                "The server could not save the message (its storage failed), so nothing was "
                "kept."),
            NotSent.DATABASE: lambda: _(
                "The server could not record the message, so nothing was kept."),
            NotSent.REFUSED: lambda: _(
                "That was not an encrypted message, so nothing was kept."),
        }[self]()


class MessageNotSent(Exception):
    """Nothing was kept; `reason` says why."""

    def __init__(self, reason: NotSent) -> None:
        super().__init__(reason.value)
        self.reason = NotSent(reason)


def _check_room(submission: Submission) -> None:
    if submission.messages.count() >= MAX_MESSAGES_PER_THREAD:  # type: ignore[attr-defined]
        raise MessageNotSent(NotSent.FULL)


def post(submission: Submission, text: str, *, sender: str, user: Any = None,
         decision: str = "") -> Message:
    """Encrypt `text` to the editors and the author's reply key; store and record it."""
    submission = submission.first_version
    _check_room(submission)
    try:
        # The editors' keys and the author's, in a keyring made for this message alone.
        with replykeys.throwaway_keyring() as ring, sealing(ring) as seal:
            author_key = replykeys.active_key(submission.author)
            author_fingerprint = (replykeys.usable_fingerprint(author_key, ring)
                                  if author_key else None)
            if author_fingerprint is None:
                raise MessageNotSent(NotSent.AUTHOR_KEY)
            blob = seal.put(io.BytesIO(text.encode("utf-8")), also=[author_fingerprint])
            with transaction.atomic():
                return Message.objects.create(
                    submission=submission, sender=sender, written_by=user, blob=blob,
                    ciphertext_bytes=seal.size(blob), recipients=seal.editors,
                    reply_key=author_fingerprint, encrypted_by_server=True, decision=decision,
                )
    except NotSealed as failed:
        cause = type(failed.__cause__).__name__
        if failed.stage is Stage.ENCRYPTION:
            count(f"message not stored: encryption failed ({cause})")
        elif failed.stage is Stage.STORAGE:
            count(f"message not stored: {cause}")
        elif failed.stage is Stage.DATABASE:
            count(f"message not recorded: {cause}")
        raise MessageNotSent(NotSent(failed.stage.value)) from failed


def receive(submission: Submission, source: BinaryIO, user: Any, reply_key: str) -> Message:
    """Keep a reply an editor's machine encrypted; `reply_key` must be the author's active key."""
    submission = submission.first_version
    _check_room(submission)
    active = replykeys.active_key(submission.author)
    if active is None or reply_key.strip().upper() != active.fingerprint:
        raise MessageNotSent(NotSent.AUTHOR_KEY)
    ring = keyring()
    try:
        blob = Store.default().receive(source, MAX_REPLY_CIPHERTEXT_BYTES, ring.is_encrypted_message)
    except StoreError as exc:
        raise MessageNotSent(NotSent.REFUSED) from exc
    return _record(submission, blob, sender=Message.Sender.EDITOR, user=user, decision="",
                   recipients=recipients(ring), reply_key=active.fingerprint, by_server=False)


def _record(submission: Submission, blob: str, *, sender: str, user: Any, decision: str,
            recipients: list[str], reply_key: str, by_server: bool) -> Message:
    try:
        with transaction.atomic():
            return Message.objects.create(
                submission=submission, sender=sender, written_by=user, blob=blob,
                ciphertext_bytes=Store.default().size(blob), recipients=recipients,
                reply_key=reply_key, encrypted_by_server=by_server, decision=decision,
            )
    except (DatabaseError, OSError) as exc:
        Store.default().delete([blob])
        count(f"message not recorded: {type(exc).__name__}")
        raise MessageNotSent(NotSent.DATABASE) from exc


@dataclass
class Entry:
    message: Message
    text: str | None  # None: not opened (older, the author's own key, or damaged)
    own_key: bool  # encrypted to a key the author gave: readable only on their machine
    older: bool = False  # left closed on an ordinary page view (see SHOWN_BY_DEFAULT)


def read(author: Author, submission: Submission, secret: bytes | None,
         everything: bool = False) -> list[Entry]:
    """The thread in order; the newest messages (all with `everything`) decrypted if the
    author's secret can open them."""
    messages = list(submission.first_version.messages.select_related("written_by"))  # type: ignore[attr-defined]
    keys = {k.fingerprint: k for k in ReplyKey.objects.filter(author=author)}
    texts: dict[int, str] = {}
    by_key: dict[str, list[Message]] = {}
    opened = messages if everything else messages[-SHOWN_BY_DEFAULT:]
    for message in opened:
        key = keys.get(message.reply_key)
        if key is not None and key.generated:
            by_key.setdefault(key.fingerprint, []).append(message)
    if secret:
        for fingerprint, group in by_key.items():
            texts.update(_decrypt_group(keys[fingerprint], secret, group))
    closed = {m.pk for m in messages} - {m.pk for m in opened}
    return [Entry(m, texts.get(m.pk),
                  own_key=m.reply_key in keys and not keys[m.reply_key].generated,
                  older=m.pk in closed)
            for m in messages]


def _decrypt_group(key: ReplyKey, secret: bytes, group: list[Message]) -> dict[int, str]:
    ciphertexts = []
    for message in group:
        try:
            with Store.default().open(message.blob) as handle:
                ciphertexts.append(handle.read())
        except (OSError, ValueError):
            ciphertexts.append(b"")
    try:
        plaintexts = replykey.decrypt_messages(
            key.locked_secret_key, replykeys.passphrase(secret), ciphertexts,
            replykeys.workdir(), settings.PORTAL_GPG_BINARY)
    except replykey.ReplyKeyError as exc:
        count(f"thread could not be opened: {type(exc).__name__}")
        return {}
    return {m.pk: p.decode("utf-8", "replace") for m, p in zip(group, plaintexts, strict=True)
            if p is not None}
