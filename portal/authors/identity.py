"""Pseudonymous identities: create an author with a fresh codename, find one by it.

The codename is returned once, to be shown once; only its Argon2id lookup value
(peppered, see `portal.crypto.codenames`) is stored. Login always runs the KDF
(twice: the lookup and the reply-key secret) for well-formed input, whether or
not the codename exists, so timing does not tell a near miss from a hit;
malformed or over-long input is refused before hashing and before it can spend
any budget. Well-formed attempts are counted against the circuit's and the
site's failure budgets (`portal.authors.budgets`) before the KDF runs.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from portal.crypto import codenames
from portal.submissions.models import Author

from . import budgets

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


@dataclass(frozen=True)
class CodenameAttempt:
    """What a typed codename opened: the author and their reply-key secret, or nothing.

    `refusal` is set when the codename-failure budget was spent: nothing was derived.
    """

    author: Author | None
    secret: bytes = b""
    refusal: budgets.Refusal | None = None


def attempt_codename(request: HttpRequest, typed: str,
                     expected: Author | None = None) -> CodenameAttempt:
    """The author a typed codename names, within the failure budgets of the request's circuit.

    Malformed or over-long input is refused before anything else: it costs
    nothing against any budget and runs no KDF. A well-formed codename takes a
    place in `budgets.CODENAME_FAILURES` first (refused there, nothing runs), then
    both derivations run, known codename or not, so the time a login takes does
    not say whether the codename exists. A codename that opens an author gives
    its place back (with `expected`, only if it opens that author: anyone else's
    codename typed in an author's session is a failure there).
    """
    codename = codenames.normalise(typed)
    if codename is None:
        return CodenameAttempt(None)
    place = budgets.CODENAME_FAILURES.take(request)
    if isinstance(place, budgets.Refusal):
        return CodenameAttempt(None, refusal=place)
    author = Author.objects.filter(lookup=lookup_for(codename)).first()
    secret = reply_secret_for(codename)
    if author is None or (expected is not None and author.pk != expected.pk):
        return CodenameAttempt(None)
    place.give_back()
    return CodenameAttempt(author, secret)


def canonical(typed: str) -> str | None:
    """The codename as the author must type it as a passphrase (lower case, single spaces)."""
    return codenames.normalise(typed)
