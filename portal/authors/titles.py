"""Her own titles on her page, which the server cannot read at rest.

Threat answered: an author who sees only hex references cannot tell which
piece is which, and cannot check whether a repeated "send" went through. But
a title can identify her (or her subject), so the server must never keep it
readable: the editors' copy is inside the manifest, encrypted to them.

Promise: when a version is sent, its title is encrypted once more, to the
author's generated reply key alone (`TitleCopy`, ciphertext kept in the row),
in a throwaway keyring (as thread messages are) that is deleted at once. Her
page opens these copies with the reply key, whose passphrase comes from her
codename (`portal.correspondence.unlock`) and exists only while she is logged
in with it: in memory, for that request.
Without it (an author using her own key, or an older session) the page shows
references only. A title that could not be sealed is simply not shown: the
submission itself was already stored.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import DatabaseError

from portal.correspondence import replykeys
from portal.correspondence.models import ReplyKey
from portal.counters import count
from portal.crypto import replykey
from portal.crypto.openpgp import EncryptionFailed
from portal.submissions.models import Author, Submission, TitleCopy


def keep_title(submission: Submission, title: str) -> None:
    """Seal `title` for the author's own page; on any failure, count it and go on."""
    key = replykeys.active_key(submission.author)
    if key is None or not key.generated:
        return  # her own key: the server could not open it for her page anyway
    try:
        with replykeys.throwaway_keyring() as ring:
            fingerprint = replykeys.usable_fingerprint(key, ring)
            if fingerprint is None:
                return
            sealed = ring.home / "title.gpg"  # ciphertext, gone with the keyring
            ring.encrypt_bytes(title.encode("utf-8"), sealed, [fingerprint])
            ciphertext = sealed.read_bytes()
        TitleCopy.objects.create(submission=submission, ciphertext=ciphertext,
                                 reply_key=fingerprint)
    except (EncryptionFailed, DatabaseError, OSError) as failed:
        count(f"title copy not kept: {type(failed).__name__}")


def titles(author: Author, versions: Iterable[Submission], secret: bytes | None) -> dict[int, str]:
    """The titles of these versions (by primary key) that her reply key opens."""
    if not secret:
        return {}
    keys = {k.fingerprint: k for k in ReplyKey.objects.filter(author=author, generated=True)}
    copies: dict[str, list[TitleCopy]] = {}
    for copy in TitleCopy.objects.filter(submission__in=list(versions), submission__author=author):
        if copy.reply_key in keys:
            copies.setdefault(copy.reply_key, []).append(copy)
    opened: dict[int, str] = {}
    for fingerprint, group in copies.items():
        ciphertexts = [bytes(copy.ciphertext) for copy in group]
        try:
            plaintexts = replykey.decrypt_messages(
                keys[fingerprint].locked_secret_key, replykeys.passphrase(secret), ciphertexts,
                replykeys.workdir(), settings.PORTAL_GPG_BINARY)
        except replykey.ReplyKeyError as exc:
            count(f"titles could not be opened: {type(exc).__name__}")
            continue
        opened.update({copy.submission_id: text.decode("utf-8", "replace")
                       for copy, text in zip(group, plaintexts, strict=True) if text is not None})
    return opened
