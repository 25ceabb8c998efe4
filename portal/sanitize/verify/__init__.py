"""The independent verifier: re-read cleaned output and refuse what still identifies.

This module must not import the cleaners or share their notion of what is
identifying: it keeps its own deny-list and its own parsing, so that a mistake
in a cleaner is caught here instead of being repeated. Every kind the cleaners
accept has a check here; a kind without one is refused (fail closed).
"""

from __future__ import annotations

import codecs
import re

from .. import kinds
from ..errors import VerificationFailed
from ..limits import DEFAULT_LIMITS, Limits
from .common import check_depth, embedded_kind, fail

# Code points a clean text must not contain: zero-width and joiner characters,
# direction controls, tag characters, byte-order marks and invisible fillers.
_TEXT_DENY_RANGES = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160),
    (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E),
    (0x2060, 0x206F), (0x2800, 0x2800), (0x3164, 0x3164), (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0), (0xFFF9, 0xFFFB), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0000, 0xE007F),
)


_TEXT_DENY = re.compile(
    "[" + "".join(f"\\U{low:08x}-\\U{high:08x}" for low, high in _TEXT_DENY_RANGES) + "]"
)


def _denied_in_text(text: str) -> str | None:
    match = _TEXT_DENY.search(text)
    return f"invisible character U+{ord(match.group()):04X}" if match else None


class StreamVerifier:
    """Checks output of the single-pass cleaners as it is written."""

    def __init__(self, kind: str) -> None:
        if kind not in kinds.STREAMING:
            raise VerificationFailed(f"no verifier for {kind}")
        self.kind = kind
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._seen = 0
        self._head = b""

    def feed(self, data: bytes) -> None:
        if not data:
            return
        if len(self._head) < 64:
            self._head += data[: 64 - len(self._head)]
        self._seen += len(data)
        if self.kind in ("text", "markdown"):
            if self._seen == len(data) and data.startswith(codecs.BOM_UTF8):
                raise VerificationFailed("byte-order mark")
            try:
                text = self._decoder.decode(data)
            except UnicodeDecodeError as exc:
                raise VerificationFailed("invalid UTF-8") from exc
            if not data.isascii():
                problem = _denied_in_text(text)
                if problem:
                    raise VerificationFailed(problem)
        elif self.kind == "wav":
            from .audio import WavStreamCheck

            if not hasattr(self, "_wav"):
                self._wav = WavStreamCheck()
            self._wav.feed(data)

    def close(self) -> None:
        if self.kind in ("text", "markdown"):
            try:
                self._decoder.decode(b"", final=True)
            except UnicodeDecodeError as exc:
                raise VerificationFailed("invalid UTF-8 at the end") from exc
        elif self.kind == "wav":
            if not hasattr(self, "_wav"):
                raise VerificationFailed("empty recording")
            self._wav.close()
        elif self.kind == "openpgp" and not (
            self._head.startswith(b"-----BEGIN PGP MESSAGE-----") or (self._head[:1] and
            self._head[0] & 0x80)
        ):
            raise VerificationFailed("not an OpenPGP message")


# Whole-file verifiers, one per kind, each in its own module of this package, called
# as (kind, data, limits, embedded); the kinds table names them, and a kind it
# gives none is refused.
_VERIFIERS: dict[str, str] = {
    name: ":".join(kinds.module_path(target))
    for name, target in kinds.VERIFIERS.items() if target != "stream"
}


def verify(kind: str, data: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
    """Raise VerificationFailed if `data` of this kind still carries identifying data."""
    if kind in ("text", "markdown", "openpgp"):
        checker = StreamVerifier(kind)
        checker.feed(data)
        checker.close()
        return
    target = _VERIFIERS.get(kind)
    if target is None:
        raise VerificationFailed(f"no verifier for {kind}")
    import importlib

    module_name, _, func = target.partition(":")
    getattr(importlib.import_module(module_name), func)(kind, data, limits, verify_embedded)


def verify_embedded(data: bytes, where: str, limits: Limits, depth: int) -> None:
    """Verify a file found inside another one, with the verifier for its real type.

    Only documents count towards the nesting depth: a picture or a recording
    cannot hold anything further, so one inside the deepest allowed document is fine.
    """
    kind = embedded_kind(data)
    if kind is None:
        fail(f"unverifiable embedded file {where}")
    if kind in ("zip", "pdf"):
        check_depth(depth, limits)
    if kind == "zip":
        from .office import verify_office_at

        verify_office_at(None, data, limits, depth, verify_embedded)
    elif kind == "pdf":
        from .pdf import verify_pdf

        verify_pdf(kind, data, limits, verify_embedded)
    elif kind == "wav":
        checker = StreamVerifier("wav")
        checker.feed(data)
        checker.close()
    else:
        from .media import verify_media

        verify_media(kind, data, limits, verify_embedded)

