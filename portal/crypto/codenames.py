"""Codenames: the only thing an author needs to come back, and never stored.

A codename is CODENAME_WORDS words drawn with `secrets` from one of two lists
of 7,776 words each, so every codename carries 7 × log2(7776) ≈ 90.5 bits of
entropy whichever list it comes from:

- "english": the EFF large wordlist (CC BY 3.0, Electronic Frontier Foundation);
- "pinyin": common two-syllable Chinese words written in pinyin without tones
  (wordlists/pinyin.txt, built by scripts/make-pinyin-wordlist from jieba's
  word frequencies and pypinyin's readings). A Chinese reader hears a word in
  each ("shouxin", "zuoke"), which is easier to remember than foreign words,
  and it is typed in plain ASCII on any keyboard, without an input method.

Guessing one author's codename online, at any rate the server allows, or
offline from a stolen database, is out of reach. Login accepts either kind:
the lists share no word, so the words say which list a codename is from.
Typing is forgiven where it cannot help a guesser: case, extra spaces,
full-width letters, tone marks or tone numbers, and (pinyin) zh/z, ch/c, sh/s
and final ng/n, which the pinyin list keeps apart (see portal.crypto.pinyin).

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
import re
import secrets
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

from argon2.low_level import Type, hash_secret_raw

from portal.crypto.pinyin import sound_key

STYLES = ("english", "pinyin")
LOOKUP_PURPOSE = "lookup"
WORDLIST_FILES = {"english": "wordlists/eff_large.txt", "pinyin": "wordlists/pinyin.txt"}
# Each pinyin word's characters (Simplified, Traditional), from the same build script.
CHARACTERS_FILE = "wordlists/pinyin-characters.txt"
CODENAME_WORDS = 7
WORDLIST_SIZE = 7776  # each list
ENTROPY_BITS = CODENAME_WORDS * math.log2(WORDLIST_SIZE)  # ≈ 90.47, for either style
# The longest word in either list (the pinyin list is built to stay within it).
LONGEST_WORD = 9
# The longest valid codename: seven longest words and the six spaces between them.
MAX_CODENAME_CHARS = CODENAME_WORDS * LONGEST_WORD + (CODENAME_WORDS - 1)
# Raw input (before extra spaces, tone marks and the like are dropped) is cut off
# well before any work. Twice the longest codename leaves room for every forgiven
# spelling (a pinyin word typed with an extra h or g is at most four letters longer).
MAX_INPUT_CHARS = 2 * MAX_CODENAME_CHARS
# What a word may be: ASCII letters (the EFF list has four hyphenated words, "yo-yo").
_PLAIN_WORD = re.compile(r"[a-z]+(-[a-z]+)?")


@dataclass(frozen=True)
class KdfCost:
    """Argon2id cost. The default takes ~0.1-0.2 s and 64 MiB per derivation."""

    time_cost: int = 3
    memory_kib: int = 64 * 1024
    parallelism: int = 1


DEFAULT_COST = KdfCost()


@cache
def wordlist(style: str = "english") -> tuple[str, ...]:
    path = resources.files("portal.crypto").joinpath(WORDLIST_FILES[style])
    words = tuple(line.strip() for line in path.read_text("utf-8").splitlines() if line.strip())
    if len(words) != WORDLIST_SIZE or len(set(words)) != WORDLIST_SIZE:
        raise RuntimeError(f"the {style} codename wordlist is damaged")
    if not all(_PLAIN_WORD.fullmatch(word) for word in words):
        raise RuntimeError(f"the {style} codename wordlist has a word that is not plain a-z")
    if max(len(w) for w in words) > LONGEST_WORD or (
        style == "english" and max(len(w) for w in words) != LONGEST_WORD
    ):
        raise RuntimeError("the codename wordlists changed; update LONGEST_WORD")
    return words


@cache
def _word_set(style: str) -> frozenset[str]:
    return frozenset(wordlist(style))


@cache
def _pinyin_by_sound() -> dict[str, str]:
    """Each pinyin word under its sound key; a key never matches an English word."""
    by_sound = {sound_key(word): word for word in wordlist("pinyin")}
    if len(by_sound) != WORDLIST_SIZE or (set(by_sound) | _word_set("pinyin")) & _word_set("english"):
        raise RuntimeError("the pinyin codename wordlist is damaged (sounds overlap)")
    return by_sound


@cache
def _characters() -> dict[str, tuple[str, str]]:
    path = resources.files("portal.crypto").joinpath(CHARACTERS_FILE)
    rows = [line.split("\t") for line in path.read_text("utf-8").splitlines() if line]
    table = {row[0]: (row[1], row[2]) for row in rows if len(row) == 3}
    if set(table) != _word_set("pinyin"):
        raise RuntimeError("the pinyin characters list does not match the pinyin wordlist")
    return table


def characters(word: str, traditional: bool = False) -> str:
    """The Chinese characters a pinyin codename word stands for ("" for an English word).

    Shown next to the pinyin so the author remembers a word, not a sound; login
    takes only the pinyin.
    """
    found = _characters().get(word)
    return "" if found is None else found[1 if traditional else 0]


def generate(style: str = "english") -> str:
    words = wordlist(style)
    return " ".join(secrets.choice(words) for _ in range(CODENAME_WORDS))


def _plain(text: str) -> str:
    """Lower case, full-width letters made ASCII, tone marks and tone numbers dropped."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch) and ch not in "012345")


def style_of(codename: str) -> str:
    """Which list a normalised codename's words come from."""
    return "english" if codename.split()[0] in _word_set("english") else "pinyin"


def normalise(text: str) -> str | None:
    """The canonical form of a typed codename of either style, or None if it cannot be one.

    Case, extra whitespace and the slips listed in the module docstring are
    forgiven (people copy codenames by hand); anything longer than a valid
    codename is rejected without further work.
    """
    if len(text) > MAX_INPUT_CHARS:
        return None
    words = _plain(text).split()
    if len(words) != CODENAME_WORDS:
        return None
    english = _word_set("english")
    if all(word in english for word in words):
        canonical = words
    else:
        by_sound = _pinyin_by_sound()
        found = [by_sound.get(sound_key(word)) for word in words]
        if None in found:
            return None
        canonical = [word for word in found if word is not None]
    candidate = " ".join(canonical)
    return candidate if len(candidate) <= MAX_CODENAME_CHARS else None


def _salt(pepper: bytes, purpose: str) -> bytes:
    return hmac.new(pepper, f"penname:{purpose}".encode(), hashlib.sha256).digest()[:16]


def derive_lookup(codename: str, pepper: bytes, cost: KdfCost = DEFAULT_COST) -> bytes:
    """The value stored to find an author by codename (32 bytes).

    `codename` must already be normalised. A different purpose string gives an
    unrelated secret from the same codename (the reply-key secret uses one).
    """
    return derive_secret(codename, pepper, LOOKUP_PURPOSE, cost)


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
