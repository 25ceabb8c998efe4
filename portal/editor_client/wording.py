"""What `portal-editor` writes for editors, in the editor's language when it knows it.

Promise: nothing written here names a value the cleaner removed. Reports are
rendered from `portal.sanitize.messages`' editor wording (kinds and counts),
after `kinds_only()`, so even a manifest from before reports were made
value-free (format penname-manifest/1) yields only kinds and counts.

The language comes from `--language` (or the saved configuration), else from
the usual locale variables (LANGUAGE, LC_ALL, LC_MESSAGES, LANG); the
translations are the portal's own catalogues (portal/locale), read with the
standard library's gettext. Without a catalogue, English.
"""

from __future__ import annotations

import gettext as stdlib_gettext
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from portal.sanitize.messages import (
    KIND_NAMES,
    gettext_noop,
    kinds_only,
    note_kind,
    refusal_kind,
    removed_kind,
)
from portal.sanitize.report import Report

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ("en", "zh_Hans", "zh_Hant")
# Regions whose readers expect traditional characters.
_TRADITIONAL = ("zh_tw", "zh_hk", "zh_mo", "zh_hant")


def editor_language(explicit: str = "") -> str:
    """One of LANGUAGES: the explicit choice, else what the locale variables say."""
    if explicit:
        if explicit not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
        return explicit
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        for value in os.environ.get(variable, "").split(":"):
            value = value.split(".")[0].replace("-", "_").lower()
            if value.startswith("zh"):
                return "zh_Hant" if value.startswith(_TRADITIONAL) else "zh_Hans"
            if value and value not in ("c", "posix"):
                return "en"
    return "en"


def translator(language: str) -> Callable[[str], str]:
    if language == "en":
        return str
    catalogue = stdlib_gettext.translation("django", localedir=LOCALE_DIR, languages=[language],
                                           fallback=True)
    return catalogue.gettext


# Headings of cleaning-report.txt and message.txt.
REPORT_TITLE = gettext_noop("Cleaning report")
REPORT_PREAMBLE = gettext_noop(
    "What was removed is listed by kind and count. The values themselves (names, places, "
    "devices, file paths) were shown only to the author, on their own screen, and never "
    "reached the editors.")
REMOVED_ON_SERVER = gettext_noop("Removed on the server:")
REMOVED_HERE = gettext_noop("Removed again on this computer:")
NOTHING_FOUND = gettext_noop("Nothing identifying was found.")
KEEP_IN_MIND = gettext_noop("Keep in mind:")
NOT_CLEANED_ON_SERVER = gettext_noop("The server could not clean it: {reason}. The author chose "
                                     "to send it anyway.")
NOT_CLEANED_HERE = gettext_noop("NOT CLEANED: {reason}. It is in NOT-CLEANED/; open it only on "
                                "an offline machine.")
AUTHORS_OWN_ENCRYPTION = gettext_noop("The author encrypted it to the editors themselves; it "
                                      "was decrypted and cleaned here.")
NAME_KEPT = gettext_noop("The author chose to keep this file's original name.")
TITLE = gettext_noop("Title:")
PEN_NAME = gettext_noop("Pen name:")
RECEIVED = gettext_noop("Received:")
EDITOR_STRINGS = (REPORT_TITLE, REPORT_PREAMBLE, REMOVED_ON_SERVER, REMOVED_HERE, NOTHING_FOUND,
                  KEEP_IN_MIND, NOT_CLEANED_ON_SERVER, NOT_CLEANED_HERE, AUTHORS_OWN_ENCRYPTION,
                  NAME_KEPT, TITLE, PEN_NAME, RECEIVED)


class ReportWriter:
    """Builds cleaning-report.txt, file by file, in one language."""

    def __init__(self, language: str) -> None:
        self._ = translator(language)
        self.lines: list[str] = [self._(REPORT_TITLE), "", self._(REPORT_PREAMBLE)]

    def file(self, name: str, kind: str, entry: dict[str, Any]) -> None:
        _ = self._
        kind_name = _(KIND_NAMES[kind]) if kind in KIND_NAMES else ""
        self.lines += ["", f"{name}" + (f" — {kind_name}" if kind_name else "")]
        if entry.get("name_kept"):
            self.lines.append(f"  {_(NAME_KEPT)}")
        refusal = entry.get("refusal") or {}
        if refusal.get("code"):
            reason = refusal_kind(str(refusal["code"]), _)
            self.lines.append("  " + _(NOT_CLEANED_ON_SERVER).format(reason=reason))
        if entry.get("report"):
            self._findings(REMOVED_ON_SERVER, kinds_only(Report.from_dict(entry["report"])))

    def authors_own_encryption(self) -> None:
        self.lines.append(f"  {self._(AUTHORS_OWN_ENCRYPTION)}")

    def cleaned_here(self, report: Report) -> None:
        self._findings(REMOVED_HERE, kinds_only(report), notes=True)

    def not_cleaned_here(self, code: str) -> None:
        self.lines.append("  " + self._(NOT_CLEANED_HERE).format(reason=refusal_kind(code, self._)))

    def _findings(self, heading: str, report: Report, notes: bool = False) -> None:
        _ = self._
        self.lines.append(f"  {_(heading)}")
        if not report.removed:
            self.lines.append(f"    {_(NOTHING_FOUND)}")
        self.lines += [f"    - {removed_kind(f, _)}" for f in report.removed]
        if notes and report.notes:
            self.lines.append(f"  {_(KEEP_IN_MIND)}")
            self.lines += [f"    - {note_kind(f, _)}" for f in report.notes]

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def message_text(manifest: dict[str, Any], language: str) -> str:
    """message.txt: the title, pen name, day and the author's message."""
    _ = translator(language)
    return (f"{_(TITLE)} {manifest.get('title', '')}\n"
            f"{_(PEN_NAME)} {manifest.get('pen_name', '')}\n"
            f"{_(RECEIVED)} {manifest.get('submitted_on', '')}\n\n{manifest.get('message', '')}\n")
