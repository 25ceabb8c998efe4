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
from collections import Counter
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


def catalogue(language: str) -> stdlib_gettext.NullTranslations:
    """The portal's own catalogue for `language` (gettext, ngettext, pgettext); English without."""
    if language == "en":
        return stdlib_gettext.NullTranslations()
    return stdlib_gettext.translation("django", localedir=LOCALE_DIR, languages=[language],
                                      fallback=True)


def translator(language: str) -> Callable[[str], str]:
    if language == "en":
        return str
    return catalogue(language).gettext


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

# Safe copies (page images made on the server) and files not opened on this computer.
OPEN_SAFE_COPIES_FIRST = gettext_noop(
    "Open the safe copies in safe/ first. A document (Word, PDF, a spreadsheet, even a "
    "picture) can carry an attack hidden in its structure that runs when a program opens it; "
    "cleaning removes identifying data, not such attacks. A safe copy is a new PDF made on "
    "the server, in a sandbox, from pictures of the pages and an invisible layer of their "
    "text, so nothing of the original's structure is in it. Open an original only when the "
    "pictures are not enough, and better on a computer that holds no keys and no other "
    "drafts (Tails, a Qubes disposable VM).")
SAFE_COPY = gettext_noop("Safe copy: safe/{name} ({pages} page(s) of pictures). Open this first.")
SAFE_COPY_TEXT = {
    "document": gettext_noop("Its searchable text is the document's own text."),
    "ocr": gettext_noop("Its searchable text was read from the pictures (OCR) and may have "
                        "mistakes."),
    "none": gettext_noop("It has no searchable text."),
}
SAFE_COPY_NOT_CHECKED = gettext_noop("The safe copy was not checked on this computer (there is "
                                     "no sandbox here); it was made and checked on the server.")
SAFE_COPY_NOT_CLEANED = gettext_noop("The safe copy did not pass the check on this computer: "
                                     "{reason}. It is in NOT-CLEANED/, not in safe/.")
SAFE_COPY_NOT_A_PDF = gettext_noop("it is not a PDF")
SAFE_COPY_DAMAGED = gettext_noop("The safe copy arrived altered or damaged (it does not match "
                                 "the manifest), so it was not saved.")
# Why the server made no safe copy, by the code its manifest gives.
NO_SAFE_COPY = {
    "pages": gettext_noop("No safe copy: the document has more pages than the server makes "
                          "pictures of."),
    "time": gettext_noop("No safe copy: making it took too long."),
    "pixels": gettext_noop("No safe copy: its pages are too large to make into pictures."),
    "unavailable": gettext_noop("No safe copy: the server could not make one safely (its "
                                "sandbox or its document converter was missing)."),
    "failed": gettext_noop("No safe copy: the document could not be made into pictures."),
    "kind": gettext_noop("No safe copy: only documents and pictures get one (not sound, "
                         "encrypted files and the like)."),
}
NO_SAFE_COPY_GIVEN = gettext_noop("No safe copy came with this file.")
NOT_OPENED_HERE = gettext_noop("NOT OPENED on this computer, which has no sandbox to check it "
                               "in. It is in {folder}/, exactly as it arrived.")
UNOPENED_EXPLANATION = gettext_noop(
    "The files in {folder}/ were not opened on this computer: {reason}. portal-editor opens "
    "a file the authors sent only inside a sandbox (no network, no keys, no other files), "
    "because a document can be made to attack the program that reads it. These files were "
    "only decrypted and compared with the manifest; they were not cleaned again here. Open "
    "the safe copies in safe/ first. Open these files only on a computer that holds no keys "
    "and no other drafts (Tails, a Qubes disposable VM), or sync again on a Linux computer "
    "with bubblewrap (bwrap) installed.")
NOTHING_OPENED_HERE = gettext_noop(
    "Nothing the authors sent was opened on this computer: {reason}. Each file was saved "
    "unopened in {folder}/ in its submission's folder under {root}. Read the safe copies in "
    "the safe/ folders first.")
# The states of a piece, by the API's codes: the same words as the editor pages.
STATE_NAMES = {
    "new": gettext_noop("new"),
    "in_review": gettext_noop("in review"),
    "revisions_requested": gettext_noop("revisions requested"),
    "accepted": gettext_noop("accepted"),
    "published": gettext_noop("published"),
    "declined": gettext_noop("declined"),
    "withdrawn": gettext_noop("withdrawn"),
}
# `list` and `sync` (their plural sentences are in list_footer and sync_summary).
AUTHOR_REF = gettext_noop("author {ref}")
VERSION_LINE = gettext_noop("version {n}")
WITHDRAWN_SKIPPED = gettext_noop("withdrawn by the author: not synced")
WITHDRAWN_KEPT = gettext_noop("withdrawn by the author: what you already have in {folder} is "
                              "left as it is, and nothing more of it is synced")
MOVED_FROM_OLD_FOLDER = gettext_noop("moved from {old} to {new}, the folder of its author")
NOTHING_NEW = gettext_noop("Nothing new.")
SUMMARY = gettext_noop("{news}; {warnings}")
CLIENT_STRINGS = (*STATE_NAMES.values(), AUTHOR_REF, VERSION_LINE,
                  WITHDRAWN_SKIPPED, WITHDRAWN_KEPT, MOVED_FROM_OLD_FOLDER, NOTHING_NEW,
                  SUMMARY)
EDITOR_STRINGS = (REPORT_TITLE, REPORT_PREAMBLE, REMOVED_ON_SERVER, REMOVED_HERE, NOTHING_FOUND,
                  KEEP_IN_MIND, NOT_CLEANED_ON_SERVER, NOT_CLEANED_HERE, AUTHORS_OWN_ENCRYPTION,
                  NAME_KEPT, TITLE, PEN_NAME, RECEIVED, OPEN_SAFE_COPIES_FIRST, SAFE_COPY,
                  *SAFE_COPY_TEXT.values(), SAFE_COPY_NOT_CHECKED, SAFE_COPY_NOT_CLEANED,
                  SAFE_COPY_NOT_A_PDF, SAFE_COPY_DAMAGED, *NO_SAFE_COPY.values(),
                  NO_SAFE_COPY_GIVEN, NOT_OPENED_HERE, UNOPENED_EXPLANATION, NOTHING_OPENED_HERE)


class ReportWriter:
    """Builds cleaning-report.txt, file by file, in one language."""

    def __init__(self, language: str) -> None:
        self._ = translator(language)
        self.lines: list[str] = [self._(REPORT_TITLE), "", self._(REPORT_PREAMBLE)]
        self.safe_copies = 0

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

    def not_opened_here(self, folder: str) -> None:
        self.lines.append("  " + self._(NOT_OPENED_HERE).format(folder=folder))

    def safe_copy(self, name: str, entry: dict[str, Any], checked_here: bool) -> None:
        _ = self._
        pages = entry.get("pages")
        shown = pages if isinstance(pages, int) and not isinstance(pages, bool) and pages > 0 else "?"
        self.lines.append("  " + _(SAFE_COPY).format(name=name, pages=shown))
        text = SAFE_COPY_TEXT.get(str(entry.get("text")))
        if text:
            self.lines.append(f"    {_(text)}")
        if not checked_here:
            self.lines.append(f"    {_(SAFE_COPY_NOT_CHECKED)}")
        self.safe_copies += 1

    def safe_copy_not_cleaned(self, code: str = "", not_a_pdf: bool = False) -> None:
        reason = self._(SAFE_COPY_NOT_A_PDF) if not_a_pdf else refusal_kind(code, self._)
        self.lines.append("  " + self._(SAFE_COPY_NOT_CLEANED).format(reason=reason))

    def safe_copy_damaged(self) -> None:
        self.lines.append(f"  {self._(SAFE_COPY_DAMAGED)}")

    def no_safe_copy(self, problem: Any) -> None:
        """Why the server made none: one sentence per code of its manifest, else a plain one."""
        code = problem.get("problem") if isinstance(problem, dict) else None
        self.lines.append(f"  {self._(NO_SAFE_COPY.get(str(code), NO_SAFE_COPY_GIVEN))}")

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
        head, files = self.lines[:3], self.lines[3:]
        if self.safe_copies:
            head += ["", self._(OPEN_SAFE_COPIES_FIRST)]
        return "\n".join(head + files) + "\n"


def open_first_text(language: str) -> str:
    """OPEN-FIRST.txt, beside the safe/ folder."""
    return translator(language)(OPEN_SAFE_COPIES_FIRST) + "\n"


def unopened_text(language: str, folder: str, reason: str) -> str:
    """The note beside the folder of files not opened on this computer."""
    return translator(language)(UNOPENED_EXPLANATION).format(folder=folder, reason=reason) + "\n"


def nothing_opened_notice(language: str, folder: str, reason: str, root: str) -> str:
    """What sync says once when this computer has no sandbox to parse in."""
    return translator(language)(NOTHING_OPENED_HERE).format(folder=folder, reason=reason,
                                                             root=root)


def message_text(manifest: dict[str, Any], language: str) -> str:
    """message.txt: the title, pen name, day and the author's message."""
    _ = translator(language)
    return (f"{_(TITLE)} {manifest.get('title', '')}\n"
            f"{_(PEN_NAME)} {manifest.get('pen_name', '')}\n"
            f"{_(RECEIVED)} {manifest.get('submitted_on', '')}\n\n{manifest.get('message', '')}\n")


def state_name(state: str, language: str) -> str:
    """A state as people say it, in the editor's language (an unknown code as it came)."""
    return translator(language)(STATE_NAMES[state]) if state in STATE_NAMES else state


def file_count(n: int, uncleaned: int, language: str) -> str:
    words = catalogue(language)
    text = words.ngettext("{n} file", "{n} files", n).format(n=n)
    if uncleaned:
        text += " " + words.ngettext("({n} not cleaned)", "({n} not cleaned)",
                                     uncleaned).format(n=uncleaned)
    return text


def list_footer(pieces: int, language: str) -> str:
    return catalogue(language).ngettext(
        "{n} piece; * = new or changed since the last list",
        "{n} pieces; * = new or changed since the last list", pieces).format(n=pieces)


def sync_summary(tally: Counter[str], language: str) -> str:
    """The one line every sync ends with: what arrived, then what needs the editor's eye."""
    words = catalogue(language)
    news = [text.format(n=tally[key]) for key, text in (
        ("pieces", words.ngettext("{n} new piece", "{n} new pieces", tally["pieces"])),
        ("revisions", words.ngettext("{n} revision", "{n} revisions", tally["revisions"])),
        ("messages", words.ngettext("{n} message", "{n} messages", tally["messages"])),
        ("updated", words.ngettext("{n} piece brought again", "{n} pieces brought again",
                                   tally["updated"])),
        ("moved", words.ngettext("{n} folder moved to its author’s folder",
                                 "{n} folders moved to their authors’ folders", tally["moved"])),
    ) if tally[key]]
    warnings = [text.format(n=tally[key]) for key, text in (
        ("not_cleaned", words.ngettext("{n} file not cleaned", "{n} files not cleaned",
                                       tally["not_cleaned"])),
        ("unopened", words.ngettext("{n} file not opened on this computer",
                                    "{n} files not opened on this computer", tally["unopened"])),
        ("withdrawn", words.ngettext("{n} withdrawn piece not synced",
                                     "{n} withdrawn pieces not synced", tally["withdrawn"])),
        ("problems", words.ngettext("{n} problem (see above)", "{n} problems (see above)",
                                    tally["problems"])),
    ) if tally[key]]
    separator = words.pgettext("list separator", ", ")
    if not news and not warnings:
        return words.gettext(NOTHING_NEW)
    if news and warnings:
        return words.gettext(SUMMARY).format(news=separator.join(news),
                                             warnings=separator.join(warnings))
    return separator.join(news or warnings)
