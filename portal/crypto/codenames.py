"""Codenames: the only thing an author needs to come back, and never stored.

A codename is CODENAME_WORDS words drawn with `secrets` from the EFF large
wordlist (7,776 words, CC BY 3.0, Electronic Frontier Foundation). Seven words
give 7 × log2(7776) ≈ 90.5 bits of entropy: guessing one author's codename
online, at any rate the server allows, or offline from a stolen database, is
out of reach.

The server keeps only `derive_lookup()`: Argon2id (memory-hard, so each guess
costs memory as well as time) over the normalised codename, with a salt derived
from a server-side pepper that is not in the database. A copied database alone
therefore does not even allow guessing. Input longer than any valid codename is
refused before the KDF runs, so nobody can make the server hash megabytes.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from functools import cache
from importlib import resources

from argon2.low_level import Type, hash_secret_raw

CODENAME_WORDS = 7
WORDLIST_SIZE = 7776
ENTROPY_BITS = CODENAME_WORDS * math.log2(WORDLIST_SIZE)  # ≈ 90.47
LONGEST_WORD = 9
# The longest valid codename: seven longest words and the six spaces between them.
MAX_CODENAME_CHARS = CODENAME_WORDS * LONGEST_WORD + (CODENAME_WORDS - 1)
# Raw input (before extra spaces are dropped) is cut off well before any work.
MAX_INPUT_CHARS = 2 * MAX_CODENAME_CHARS


@dataclass(frozen=True)
class KdfCost:
    """Argon2id cost. The default takes ~0.1-0.2 s and 64 MiB per derivation."""

    time_cost: int = 3
    memory_kib: int = 64 * 1024
    parallelism: int = 1


DEFAULT_COST = KdfCost()


@cache
def wordlist() -> tuple[str, ...]:
    text = resources.files("portal.crypto").joinpath("wordlists/eff_large.txt").read_text("utf-8")
    words = tuple(line.strip() for line in text.splitlines() if line.strip())
    if len(words) != WORDLIST_SIZE or len(set(words)) != WORDLIST_SIZE:
        raise RuntimeError("the codename wordlist is damaged")
    if max(len(w) for w in words) != LONGEST_WORD:
        raise RuntimeError("the codename wordlist changed; update LONGEST_WORD")
    return words


@cache
def _word_set() -> frozenset[str]:
    return frozenset(wordlist())


def generate() -> str:
    words = wordlist()
    return " ".join(secrets.choice(words) for _ in range(CODENAME_WORDS))


def normalise(text: str) -> str | None:
    """The canonical form of a typed codename, or None if it cannot be one.

    Case and extra whitespace are forgiven (people copy codenames by hand);
    anything longer than a valid codename is rejected without further work.
    """
    if len(text) > MAX_INPUT_CHARS:
        return None
    words = text.lower().split()
    candidate = " ".join(words)
    if len(candidate) > MAX_CODENAME_CHARS or len(words) != CODENAME_WORDS:
        return None
    known = _word_set()
    if not all(word in known for word in words):
        return None
    return candidate


def _salt(pepper: bytes, purpose: str) -> bytes:
    return hmac.new(pepper, f"penname:{purpose}".encode(), hashlib.sha256).digest()[:16]


def derive_lookup(codename: str, pepper: bytes, cost: KdfCost = DEFAULT_COST) -> bytes:
    """The value stored to find an author by codename (32 bytes).

    `codename` must already be normalised. A different purpose string gives an
    unrelated secret from the same codename (the reply-key secret uses one).
    """
    return derive_secret(codename, pepper, "lookup", cost)


def derive_secret(codename: str, pepper: bytes, purpose: str, cost: KdfCost = DEFAULT_COST) -> bytes:
    if len(codename) > MAX_CODENAME_CHARS:
        raise ValueError("codename too long")
    return hash_secret_raw(
        secret=codename.encode("utf-8"),
        salt=_salt(pepper, purpose),
        time_cost=cost.time_cost,
        memory_cost=cost.memory_kib,
        parallelism=cost.parallelism,
        hash_len=32,
        type=Type.ID,
    )
