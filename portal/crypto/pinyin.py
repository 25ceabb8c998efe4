"""Pinyin codename words: how a typed word is matched to the list, forgivingly.

A Chinese-speaking author remembers a pinyin codename by its sound. Many
speakers, in Taiwan, Hong Kong and southern China especially, do not tell
zh/z, ch/c, sh/s or a final -ng/-n apart, so they may type "sisuo" for
"shisuo" or "xinqin" for "xingqing". `sound_key()` folds those pairs together;
the word list is built so that no two of its words share a key (and no key is
an English list word), so forgiving these slips costs no entropy: every key
still names exactly one word.

No Django imports: `scripts/make-pinyin-wordlist` uses this module too.
"""

from __future__ import annotations

import re

VOWELS = "aeiou"
# A final -ng: "ng" not followed by a vowel (then the g would start the next syllable).
_FINAL_NG = re.compile(r"ng(?![aeiou])")
_RETROFLEX = re.compile(r"([zcs])h")


def sound_key(word: str) -> str:
    """The form of a pinyin word with zh/z, ch/c, sh/s and final ng/n folded together."""
    return _FINAL_NG.sub("n", _RETROFLEX.sub(r"\1", word.lower()))
