"""The cleaning child's answer, checked before anything uses it.

Threat: the child that parsed a hostile file may be the attacker's. Its answer
is shown on the uploader's review page and kept in the manifest, so it is a
way out for anything the child could learn (a channel around the sandbox), and
a way in for anything meant to confuse the server: unknown codes, a million
entries, megabytes of "detail", wrong types.

Promise: `outcome()` returns a Report only when the answer is exactly what a
sound cleaner writes: every code one the portal has a sentence for (the keys
of `messages.REMOVED`, `NOTES` and `REFUSED`, read when the answer arrives, so
a new code needs only its sentence), at most MAX_ENTRIES entries of each kind,
details no longer than MAX_DETAIL_CHARS, counts that are small whole numbers,
no key it does not know, and for a conversion only an encoding's name. Anything
else is a refusal ("crashed"), never a partial report.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from . import messages
from .errors import CleaningRefused
from .report import MAX_DETAIL_CHARS, MAX_ENTRIES, Finding, Report
from .textencoding import NAMES as ENCODING_NAMES

# The whole answer, as read from the result pipe: a full report of MAX_ENTRIES
# entries of each kind with the longest details fits well within it.
MAX_ANSWER_BYTES = 1024 * 1024
MAX_COUNT = 10**9
_KIND = re.compile(r"[a-z0-9][a-z0-9+.-]{0,31}")
# Codes whose detail is one of a few known words, not a value found in the file.
_KNOWN_DETAILS = {"text-converted": frozenset(ENCODING_NAMES.values())}
# Exit statuses of a child stopped by a resource limit: SIGKILL or SIGXCPU as
# returned by Popen (-9, -24) and as bubblewrap passes them on (128 + signal).
_LIMIT_STATUSES = (-9, -24, 137, 152)


def outcome(returncode: int, raw: bytes) -> Report:
    """The report in the child's answer; CleaningRefused for a refusal or a bad answer."""
    answer = _parse(raw)
    if returncode != 0 or answer is None:
        if returncode in _LIMIT_STATUSES:
            raise CleaningRefused("limit", "CPU time")
        raise CleaningRefused("crashed")
    try:
        if set(answer) - {"ok", "report", "code", "detail"} or not isinstance(answer["ok"], bool):
            raise ValueError
        if not answer["ok"]:
            code = _code(answer.get("code"), messages.REFUSED)
            detail = answer.get("detail", "")
            if not isinstance(detail, str):
                raise ValueError
            # A refusal keeps its reason, shortened: a parser's message can be long.
            raise CleaningRefused(code, detail[:MAX_DETAIL_CHARS])
        return _report(answer["report"])
    except (KeyError, TypeError, ValueError):
        raise CleaningRefused("crashed") from None


def _parse(raw: bytes) -> dict[str, Any] | None:
    if not raw or len(raw) > MAX_ANSWER_BYTES:
        return None
    try:
        answer = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return answer if isinstance(answer, dict) else None


def _report(data: Any) -> Report:
    if not isinstance(data, dict) or set(data) - {"kind", "claimed", "removed", "notes"}:
        raise ValueError
    kind = data.get("kind", "unknown")
    if not isinstance(kind, str) or not _KIND.fullmatch(kind):
        raise ValueError
    return Report(
        kind=kind,
        claimed=_detail(data.get("claimed", "")),
        removed=_findings(data.get("removed", []), messages.REMOVED),
        notes=_findings(data.get("notes", []), messages.NOTES),
    )


def _findings(entries: Any, known: Mapping[str, object]) -> list[Finding]:
    if not isinstance(entries, list) or len(entries) > MAX_ENTRIES:
        raise ValueError
    findings = []
    for entry in entries:
        if not isinstance(entry, dict) or set(entry) - {"code", "detail", "count"}:
            raise ValueError
        count = entry.get("count", 1)
        if type(count) is not int or not 1 <= count <= MAX_COUNT:
            raise ValueError
        code, detail = _code(entry.get("code"), known), _detail(entry.get("detail", ""))
        if code in _KNOWN_DETAILS and detail not in _KNOWN_DETAILS[code]:
            raise ValueError
        findings.append(Finding(code, detail, count))
    return findings


def _code(code: Any, known: Mapping[str, object]) -> str:
    if not isinstance(code, str) or code not in known:
        raise ValueError
    return code


def _detail(detail: Any) -> str:
    if not isinstance(detail, str) or len(detail) > MAX_DETAIL_CHARS:
        raise ValueError
    return detail
