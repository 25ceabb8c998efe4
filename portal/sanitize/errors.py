"""Why a file was refused, as types a caller can act on.

Every refusal carries a stable `code` (rendered in the author's language by the
web pages, in English by `portal-clean`) and an optional `detail`.
"""

from __future__ import annotations


class CleaningRefused(Exception):
    """The file could not be cleaned; nothing of it was passed on."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


class LimitExceeded(CleaningRefused):
    """A size, count, depth or time limit was reached while reading the file."""

    def __init__(self, detail: str) -> None:
        super().__init__("limit", detail)


class VerificationFailed(CleaningRefused):
    """The independent verifier still found identifying data after cleaning."""

    def __init__(self, detail: str) -> None:
        super().__init__("verification", detail)


def import_refusal(exc: ImportError, kind: str) -> CleaningRefused:
    """Why a parser's module could not be loaded in the confined child.

    A missing module means we cannot clean this kind; a shared library that
    could not be mapped ("failed to map segment", ENOMEM) means the child's
    memory limit was reached while loading it.
    """
    text = str(exc).lower()
    if not isinstance(exc, ModuleNotFoundError) and (
        "failed to map segment" in text or "cannot allocate memory" in text
    ):
        return LimitExceeded("memory")
    return CleaningRefused("unknown-type", kind)
