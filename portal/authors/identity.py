"""Pseudonymous identities: create an author with a fresh codename, find one by it.

The codename is returned once, to be shown once; only its Argon2id lookup value
(peppered, see `portal.crypto.codenames`) is stored. Login always runs the KDF
once for well-formed input, whether or not the codename exists, so timing does
not tell a near miss from a hit; malformed or over-long input is refused
before hashing.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction

from portal.crypto import codenames

from .models import Author


def _cost() -> codenames.KdfCost:
    return codenames.KdfCost(
        time_cost=settings.PORTAL_KDF_TIME_COST, memory_kib=settings.PORTAL_KDF_MEMORY_KIB
    )


def lookup_for(codename: str) -> bytes:
    return codenames.derive_lookup(codename, settings.CODENAME_PEPPER, _cost())


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
    codename = codenames.normalise(typed)
    if codename is None:
        return None
    return Author.objects.filter(lookup=lookup_for(codename)).first()
