"""Cleaning reports as sentences in the author's language, for the author's own screen.

Only the review page uses this: it is the one place a removed value (a name, a
company, a path) is shown, masked at first, the whole value behind a
`<details>` the author opens. Everything that leaves the author's request uses
`portal.sanitize.messages.kinds_only` instead.

What could identify her (messages.IDENTIFYING) comes first; the rest (editing
traces, dates, settings) is told by kind and count only, as editors see it, so
no property name, language code or chunk name in English lands in her sentence.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext, gettext_noop

from portal.sanitize.filenames import revealed
from portal.sanitize.messages import (
    IDENTIFYING,
    KIND_NAMES,
    kinds_only,
    masked,
    note_sentence,
    refusal_sentence,
    removed_kind,
    removed_masked,
    removed_sentence,
    shows_value,
)
from portal.sanitize.report import Finding, Report

# What a file name gives away (portal.sanitize.filenames), in the author's words.
NAME_REVEALS = {
    "device-pattern": gettext_noop(
        "the naming pattern of a phone, camera or messenger (“{piece}”), which can say what "
        "made the file and when"),
    "date-time": gettext_noop("a date and time (“{piece}”)"),
    "date": gettext_noop("a date (“{piece}”)"),
    "time": gettext_noop("a time of day (“{piece}”)"),
    "timestamp": gettext_noop("a date and time written as a number (“{piece}”)"),
    "words": gettext_noop("words (“{piece}”), which may include your name, a place or an "
                          "organisation"),
}


def describe(file: Any) -> dict[str, Any]:
    """What the review page shows for one pending file: its report and what its name says."""
    name = {
        "neutral_name": file.neutral_name,
        "name_reveals": [gettext(NAME_REVEALS[r.code]).format(piece=r.piece)
                         for r in revealed(file.name)],
    }
    if file.status == "refused":
        return {
            "kind": gettext("Cannot be sent") if file.never_sent else gettext("Not cleaned"),
            "refusal": refusal_sentence(file.refusal.get("code", ""),
                                        file.refusal.get("detail", ""), gettext),
            "identifying": [], "other": [], "notes": [], **name,
        }
    report = Report.from_dict(file.report)
    traces = kinds_only(Report(removed=[f for f in report.removed if f.code not in IDENTIFYING]))
    return {
        "kind": gettext(KIND_NAMES.get(report.kind, report.kind)),
        "refusal": "",
        "identifying": _identifying(report),
        "other": [removed_kind(f, gettext) for f in traces.removed],
        "notes": [note_sentence(f, gettext) for f in report.notes],
        **name,
    }


def _identifying(report: Report) -> list[dict[str, Any]]:
    """One entry per kind of identifying data, most telling first.

    One finding reads as its sentence with the value masked ("the author name
    “T****”"), the whole sentence behind "Show what was found"; several read as
    their kind and count ("3 comment author names") with each value masked, the
    whole values behind it.
    """
    entries = []
    for code in IDENTIFYING:
        findings = [f for f in report.removed if f.code == code]
        if len(findings) == 1:
            entries.append(_removal(findings[0]))
        elif findings:
            valued = [f for f in findings if shows_value(f)]
            count = len(findings) if valued else sum(f.count for f in findings)
            entries.append({"text": removed_kind(Finding(code, "", count), gettext), "full": "",
                            "masked": [masked(f.detail) for f in valued],
                            "values": [f.detail for f in valued]})
    return entries


def _removal(finding: Finding) -> dict[str, Any]:
    """The sentence with the value masked, and the whole sentence when there is a value."""
    if not shows_value(finding):
        return {"text": removed_sentence(finding, gettext), "full": "", "masked": [],
                "values": []}
    return {"text": removed_masked(finding, gettext), "full": removed_sentence(finding, gettext),
            "masked": [], "values": []}
