"""Pseudonymous identities: create an author with a fresh codename, find one by it.

The codename is returned once, to be shown once; only its Argon2id lookup value
(peppered, see `portal.crypto.codenames`) is stored. Login always runs the KDF
(twice: the lookup and the reply-key secret) for well-formed input, whether or
not the codename exists, so timing does not tell a near miss from a hit;
malformed or over-long input is refused before hashing.
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.db import IntegrityError, transaction

from portal.crypto import codenames

from .models import Author

REPLY_KEY_PURPOSE = "reply-key"


# Created on first use, sized by the settings of the process that uses it.
_kdf_slots: threading.BoundedSemaphore | None = None


def _slots() -> threading.BoundedSemaphore:
    global _kdf_slots
    if _kdf_slots is None:
        _kdf_slots = threading.BoundedSemaphore(settings.PORTAL_KDF_CONCURRENCY)
    return _kdf_slots


def _derive(codename: str, purpose: str) -> bytes:
    """One Argon2id derivation, at most PORTAL_KDF_CONCURRENCY at a time in this process."""
    with _slots():
        return codenames.derive_secret(codename, settings.CODENAME_PEPPER, purpose, kdf_cost())


def kdf_cost() -> codenames.KdfCost:
    return codenames.KdfCost(
        time_cost=settings.PORTAL_KDF_TIME_COST, memory_kib=settings.PORTAL_KDF_MEMORY_KIB
    )


def lookup_for(codename: str) -> bytes:
    return _derive(codename, codenames.LOOKUP_PURPOSE)


def reply_secret_for(codename: str) -> bytes:
    """The secret that unlocks the author's generated reply key (`codename` normalised).

    Same codename, same pepper, another purpose: unrelated to the lookup value,
    and never stored (see portal.correspondence.unlock).
    """
    return _derive(codename, REPLY_KEY_PURPOSE)


def create_author(pen_name: str = "", style: str = "english") -> tuple[Author, str]:
    """A new author and their codename (the only time the codename exists server-side).

    `style` picks the word list ("english" or "pinyin"); both give the same entropy.
    """
    for _ in range(5):
        codename = codenames.generate(style)
        try:
            with transaction.atomic():
                author = Author.objects.create(lookup=lookup_for(codename), pen_name=pen_name)
            return author, codename
        except IntegrityError:  # a repeated codename: ~2^-90 per pair, but never reuse one
            continue
    raise RuntimeError("could not generate a unique codename")


def find_author(typed: str) -> Author | None:
    return log_in(typed)[0]


def log_in(typed: str) -> tuple[Author | None, bytes]:
    """The author a typed codename names (or None), and their reply-key secret.

    Both derivations run for every well-formed codename, known or not, so the
    time a login takes does not say whether the codename exists.
    """
    codename = codenames.normalise(typed)
    if codename is None:
        return None, b""
    author = Author.objects.filter(lookup=lookup_for(codename)).first()
    secret = reply_secret_for(codename)
    return (author, secret) if author is not None else (None, b"")


def canonical(typed: str) -> str | None:
    """The codename as the author must type it as a passphrase (lower case, single spaces)."""
    return codenames.normalise(typed)
