"""Metadata removal for every format authors send, shared by server and editors.

The promise: a file that leaves `clean_isolated()` or `clean()` without an
exception contains only content a per-format allow-list let through, and has
passed an independent verifier; a file that cannot be made so is refused with a
reason. No Django imports here, so the editors' client runs the same code.

Layout: `kinds` (the one table of file kinds), `core` (sniff, clean, verify one
file), `formats/` (the cleaners, one per family), `verify/` (the independent
verifier, which never imports the cleaner side), `sandbox/` (the confined child
processes) and `safecopy/` (page-image copies rendered in a sandbox). `make lint`
holds these boundaries (.importlinter).
"""

from __future__ import annotations

from .core import clean, clean_bytes
from .errors import CleaningRefused, LimitExceeded, VerificationFailed
from .limits import DEFAULT_LIMITS, Limits
from .report import Finding, Report
from .sandbox.isolate import clean_isolated

__all__ = [
    "DEFAULT_LIMITS",
    "CleaningRefused",
    "Finding",
    "LimitExceeded",
    "Limits",
    "Report",
    "VerificationFailed",
    "clean",
    "clean_bytes",
    "clean_isolated",
]
