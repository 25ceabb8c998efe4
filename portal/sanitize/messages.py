"""The sentences behind report and refusal codes, in English, for two readers.

Every code has two wordings. `author` is for the author's own review page: it
may show the value that was found (`{detail}`: a name, a company, a path),
because it is their own data on their own screen. `editors` is for everything
that leaves the author's request (the manifest, `portal-editor`'s output and
`cleaning-report.txt`): it says what kind of thing was removed and how many
(`{count}`), never the value, so that a seized editor laptop cannot link a pen
name to a legal name. `tests/sanitize/test_messages.py` holds both to that.

These are the source strings for translation: the web pages and the editors'
client pass each one through gettext (the `gettext_noop` marker lets
`makemessages` find them without this package importing Django). A code without
a sentence falls back to a generic one, so a new cleaner can never make a
report unreadable.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .kinds import LABELS, gettext_noop
from .report import Finding, Report


@dataclass(frozen=True)
class Wording:
    """One code's sentence for the author (may name the value) and for editors (never)."""

    author: str
    # Omitted when the author's sentence names no value: the same words serve both.
    editors: str = ""

    def __post_init__(self) -> None:
        if not self.editors:
            if self.names_a_value:
                raise ValueError(f"{self.author!r} names a value: give editors their own words")
            object.__setattr__(self, "editors", self.author)

    @property
    def names_a_value(self) -> bool:
        return "{detail}" in self.author


# What each kind of file is called, for authors and editors alike (kinds.py).
KIND_NAMES = LABELS


REMOVED: dict[str, Wording] = {
    "author-name": Wording(gettext_noop("the author name “{detail}”"),
                           gettext_noop("{count} author name(s)")),
    "last-modified-by": Wording(
        gettext_noop("the name of the last person who edited it, “{detail}”"),
        gettext_noop("the name of the last person who edited it")),
    "document-dates": Wording(gettext_noop("the dates it was created, edited and printed")),
    "software": Wording(gettext_noop("the name and version of the software used (“{detail}”)"),
                        gettext_noop("the name and version of the software used")),
    "company": Wording(gettext_noop("a company or organisation name, “{detail}”"),
                       gettext_noop("{count} company or organisation name(s)")),
    "document-properties": Wording(gettext_noop("document properties ({detail})"),
                                   gettext_noop("document properties")),
    "custom-properties": Wording(gettext_noop("custom document properties")),
    "comments": Wording(gettext_noop("{count} comment(s)")),
    "comment-author": Wording(gettext_noop("the name of a comment’s author, “{detail}”"),
                              gettext_noop("{count} comment author name(s)")),
    "tracked-insertions-accepted": Wording(gettext_noop("{count} tracked insertion(s) were accepted")),
    "tracked-deletions-removed": Wording(
        gettext_noop("{count} tracked deletion(s) were removed; the deleted text is gone")),
    "tracked-change-author": Wording(
        gettext_noop("the name of a tracked change’s author, “{detail}”"),
        gettext_noop("{count} tracked-change author name(s)")),
    "revision-ids": Wording(gettext_noop("{count} editing-session identifier(s)")),
    "document-id": Wording(gettext_noop("a unique document identifier")),
    "hidden-text": Wording(gettext_noop("hidden text")),
    "language": Wording(gettext_noop("the document language setting “{detail}”"),
                        gettext_noop("a language setting")),
    "external-link": Wording(gettext_noop("a link to another file or address (“{detail}”)"),
                             gettext_noop("{count} link(s) to other files or addresses")),
    "thumbnail": Wording(gettext_noop("a preview picture, which can show an earlier version"),
                         gettext_noop("a preview picture")),
    "printer-settings": Wording(gettext_noop("printer settings")),
    "custom-xml": Wording(gettext_noop("custom data attached to the document")),
    "web-settings": Wording(gettext_noop("web publishing settings")),
    "people": Wording(gettext_noop("the list of people who worked on it")),
    "settings": Wording(gettext_noop("editor settings, which can name the computer or user")),
    "embedded-file": Wording(gettext_noop("an embedded file, “{detail}”, was cleaned as well"),
                             gettext_noop("{count} embedded file(s), cleaned as well")),
    "embedded-file-removed": Wording(
        gettext_noop("an embedded file, “{detail}”, that could not be cleaned"),
        gettext_noop("{count} embedded file(s) that could not be cleaned")),
    "unknown-part": Wording(gettext_noop("a part we do not recognise (“{detail}”)"),
                            gettext_noop("{count} part(s) the cleaner does not recognise")),
    "annotations": Wording(gettext_noop("{count} annotation(s) or note(s)")),
    "gps": Wording(gettext_noop("a GPS location")),
    "camera": Wording(gettext_noop("the camera or phone model, “{detail}”"),
                      gettext_noop("the camera or phone model")),
    "exif": Wording(gettext_noop("camera data (EXIF)")),
    "xmp": Wording(gettext_noop("embedded XMP metadata")),
    "iptc": Wording(gettext_noop("IPTC captions and credits")),
    "icc-profile": Wording(gettext_noop("a colour profile, which can name the device"),
                           gettext_noop("a colour profile")),
    "image-comment": Wording(gettext_noop("a comment stored in the picture")),
    "text-chunks": Wording(gettext_noop("text notes stored in the picture")),
    "orientation-applied": Wording(gettext_noop("the rotation was applied to the pixels")),
    "audio-tags": Wording(gettext_noop("audio tags ({detail})"), gettext_noop("audio tags")),
    "cover-art": Wording(gettext_noop("an embedded picture (cover art)")),
    "pdf-info": Wording(gettext_noop("PDF document information (title, author, software, dates)")),
    "pdf-xmp": Wording(gettext_noop("PDF XMP metadata")),
    "pdf-annotation-authors": Wording(gettext_noop("{count} annotation author name(s)")),
    "pdf-attachments": Wording(gettext_noop("an attached file, “{detail}”"),
                               gettext_noop("{count} attached file(s)")),
    "pdf-javascript": Wording(gettext_noop("JavaScript")),
    "pdf-actions": Wording(gettext_noop("{count} automatic action(s)")),
    "pdf-piece-info": Wording(gettext_noop("private data left by the editing software")),
    "pdf-previous-revisions": Wording(gettext_noop("earlier saved versions of the PDF")),
    "pdf-thumbnails": Wording(gettext_noop("page preview pictures")),
    "pdf-signatures": Wording(
        gettext_noop("a digital signature, which names the person who signed"),
        gettext_noop("a digital signature")),
    "byte-order-mark": Wording(gettext_noop("an invisible byte-order mark")),
    "invisible-characters": Wording(
        gettext_noop("{count} invisible character(s), which can mark one copy of a text")),
    "bidi-controls": Wording(gettext_noop("{count} text-direction control character(s)")),
    "tracked-formatting-accepted": Wording(
        gettext_noop("{count} tracked formatting change(s) were accepted")),
    "name-fields": Wording(
        gettext_noop("{count} field(s) that showed a name, a file name or a date the document "
                     "recorded")),
    "password-hash": Wording(gettext_noop("a password hash that guarded editing")),
    "image-file-name": Wording(gettext_noop("the original file name of a picture, “{detail}”"),
                               gettext_noop("{count} original file name(s) of pictures")),
    "file-path": Wording(gettext_noop("a folder or file location on a computer, “{detail}”"),
                         gettext_noop("{count} folder or file location(s) on a computer")),
    "macros": Wording(gettext_noop("macros (small programs) stored in the document")),
    "revision-history": Wording(gettext_noop("the history of earlier versions and who made them")),
    "signature": Wording(gettext_noop("a digital signature, which names the person who signed"),
                         gettext_noop("a digital signature")),
    "embedded-fonts": Wording(
        gettext_noop("an embedded font (“{detail}”), which can name its owner"),
        gettext_noop("{count} embedded font(s)")),
    "wav-chunks": Wording(gettext_noop("information chunks in the recording ({detail})"),
                          gettext_noop("information chunks in the recording")),
    "recording-dates": Wording(gettext_noop("the date and time the recording was made")),
    "custom-views": Wording(
        gettext_noop("a saved view of the workbook, named “{detail}”"),
        gettext_noop("{count} saved view(s) of the workbook, whose names can name a person")),
    "defined-names": Wording(
        gettext_noop("a defined name, “{detail}”, that nothing in the workbook used"),
        gettext_noop("{count} defined name(s) that nothing in the workbook used")),
    "defined-name-notes": Wording(
        gettext_noop("a note on a defined name (“{detail}”)"),
        gettext_noop("{count} note(s) on defined names")),
    "imported-document": Wording(
        gettext_noop("a document imported into this one ({detail}): its text was kept as plain "
                     "paragraphs; its formatting, pictures and hidden data were removed"),
        gettext_noop("{count} imported document(s) whose text was kept as plain paragraphs")),
    "user-fields": Wording(
        gettext_noop("a value stored in a field or variable of the document (“{detail}”), "
                     "whether shown or not"),
        gettext_noop("{count} value(s) stored in fields or variables of the document")),
    "frozen-fields": Wording(gettext_noop("{count} field(s) turned into the plain text they showed")),
    "secondary-pictures": Wording(
        gettext_noop("{count} other picture(s) or clip(s) stored behind the photo (such as an "
                     "HDR gain map, a depth map or a motion clip), each with its own camera data"),
        gettext_noop("{count} other picture(s) or clip(s) stored behind the photo")),
    "output-intent": Wording(
        gettext_noop("the printing conditions the PDF was prepared for (“{detail}”), which can "
                     "name a printer or a person"),
        gettext_noop("the printing conditions the PDF was prepared for")),
    "icc-profile-text": Wording(
        gettext_noop("the words inside a colour profile (“{detail}”) and the device, maker "
                     "and date it recorded; its colours were kept"),
        gettext_noop("{count} colour profile description(s)")),
    "pdf-content-comments": Wording(
        gettext_noop("{count} comment(s) hidden in the instructions that draw the pages")),
    "window-position": Wording(gettext_noop("the size and place of the program’s window on the screen")),
}

# What could name the author, her place or her device, most telling first: shown
# to her first, values masked. Every other removal is an editing trace, a date or
# a setting, folded away on her review page and told by kind and count only.
IDENTIFYING = (
    "gps", "author-name", "last-modified-by", "people", "comment-author",
    "tracked-change-author", "pdf-annotation-authors", "revision-history", "signature",
    "pdf-signatures", "company", "camera", "file-path", "external-link", "image-file-name",
    "user-fields", "custom-views", "output-intent", "icc-profile-text",
    # A watermark: it traces a copy back to whoever passed it on.
    "invisible-characters",
)

NOTES: dict[str, Wording] = {
    "writing-style": Wording(
        gettext_noop("The writing itself — its style, subjects and details — can still "
                     "identify you."),
        gettext_noop("The writing itself — its style, subjects and details — can still "
                     "identify the author.")),
    "type-mismatch": Wording(
        gettext_noop("The file’s name or browser said “{detail}”, but its contents are a "
                     "different type."),
        gettext_noop("The file’s name or the author’s browser claimed a different type from "
                     "its contents.")),
    "already-encrypted": Wording(
        gettext_noop("This file is already encrypted to the editors; it will be cleaned on the "
                     "editor’s computer after decryption."),
        gettext_noop("The author encrypted this file to the editors, so the server could not "
                     "clean it; it is cleaned on the editor’s computer after decryption.")),
    "images-reencoded": Wording(gettext_noop("Pictures were rebuilt from their pixels.")),
    "visible-content": Wording(
        gettext_noop("Faces, places, voices and names inside the content itself are not "
                     "removed.")),
    # The encoding's name is left out for editors: GBK or Big5 hints at where the
    # author's computer was bought.
    "text-converted": Wording(
        gettext_noop("The text was converted from {detail} to UTF-8, which every computer "
                     "reads; its words are unchanged."),
        gettext_noop("The text was converted to UTF-8 from the encoding the author’s "
                     "computer used.")),
}

REFUSED: dict[str, Wording] = {
    "unknown-type": Wording(gettext_noop("We do not know how to clean this type of file."),
                            gettext_noop("a type of file the cleaner does not know")),
    "legacy-office": Wording(
        gettext_noop("This is an old Microsoft Office format ({detail}), which we cannot clean "
                     "reliably. Please save it as .docx, .xlsx, .pptx, .odt or PDF and send that."),
        gettext_noop("an old Microsoft Office format, which cannot be cleaned reliably")),
    "rtf": Wording(
        gettext_noop("RTF files can carry hidden history we cannot remove. Please save it as "
                     ".docx, .odt or PDF and send that."),
        gettext_noop("an RTF file, which can carry hidden history")),
    "encrypted-document": Wording(
        gettext_noop("This document is protected by a password, so we cannot look inside it. "
                     "Remove the password and send it again."),
        gettext_noop("a document protected by a password")),
    # The codes of forbidden.NEVER_SENDABLE: the author is told it cannot be
    # sent at all (there is no "send without cleaning" for these), and what to send.
    "archive": Wording(
        gettext_noop("Archives such as ZIP or RAR cannot be sent, not even without cleaning. "
                     "Please take the files out of it and send them, one by one."),
        gettext_noop("an archive (ZIP, RAR and the like)")),
    "executable": Wording(
        gettext_noop("Programs and scripts cannot be sent at all: editors never open programs. "
                     "If this file holds your text, send the text as a document or a plain "
                     ".txt file."),
        gettext_noop("a program or script")),
    "macros": Wording(
        gettext_noop("Documents with macros (small programs) cannot be sent: editors never open "
                     "programs. Please save a copy without macros (for example as .docx) and "
                     "send that."),
        gettext_noop("a document with macros (small programs)")),
    # forbidden.PACKAGES: never sent either; the author is told the export to make.
    "pages": Wording(
        gettext_noop("Apple Pages documents cannot be sent, not even without cleaning: we "
                     "cannot look inside them. Please export it from Pages as Word or PDF "
                     "(File → Export To → Word or PDF; on an iPhone or iPad: the ⋯ button → "
                     "Export) and send that."),
        gettext_noop("an Apple Pages document")),
    "numbers": Wording(
        gettext_noop("Apple Numbers spreadsheets cannot be sent, not even without cleaning: we "
                     "cannot look inside them. Please export it from Numbers as Excel or PDF "
                     "(File → Export To → Excel or PDF) and send that."),
        gettext_noop("an Apple Numbers spreadsheet")),
    "keynote": Wording(
        gettext_noop("Apple Keynote presentations cannot be sent, not even without cleaning: "
                     "we cannot look inside them. Please export it from Keynote as PowerPoint "
                     "or PDF (File → Export To → PowerPoint or PDF) and send that."),
        gettext_noop("an Apple Keynote presentation")),
    "ofd": Wording(
        gettext_noop("OFD documents cannot be sent, not even without cleaning: we cannot look "
                     "inside them. Please save it as PDF in your OFD reader (File → Save As or "
                     "Export → PDF) and send that."),
        gettext_noop("an OFD document")),
    "xps": Wording(
        gettext_noop("XPS documents cannot be sent, not even without cleaning: we cannot look "
                     "inside them. Please open it and print it to PDF (Print → Microsoft Print "
                     "to PDF) and send that."),
        gettext_noop("an XPS document")),
    "markup": Wording(
        gettext_noop("Web pages and SVG drawings can carry scripts and hidden data we cannot "
                     "remove. Please send the text as .docx, .odt, PDF or plain text."),
        gettext_noop("a web page or SVG drawing, which can carry scripts and hidden data")),
    "svg": Wording(
        gettext_noop("SVG drawings can carry scripts, links and hidden data we cannot remove. "
                     "Please send the drawing as a PNG picture or a PDF."),
        gettext_noop("an SVG drawing, which can carry scripts and hidden data")),
    "epub": Wording(
        gettext_noop("E-books (EPUB) can carry hidden data we cannot remove. Please save the "
                     "text as .docx, .odt or PDF and send that."),
        gettext_noop("an e-book (EPUB)")),
    "video": Wording(
        gettext_noop("Videos cannot be cleaned here: their pictures and sound carry the place, "
                     "the time and the phone that recorded them. Please send the text as a "
                     "document, or the sound alone as an audio file (such as MP3 or M4A)."),
        gettext_noop("a video, which carries places, times and device data")),
    "altchunk": Wording(
        gettext_noop("This document imports another file ({detail}) in a way we cannot clean. "
                     "Please open it in your word processor, save it again as .docx or PDF, and "
                     "send that."),
        gettext_noop("a document that imports another file the cleaner cannot keep")),
    # The three below keep their detail (a library's message, in English) for
    # portal-clean and the logs of the tests; the author reads a sentence for the
    # reason it names instead (REASONS), never the message itself.
    "limit": Wording(
        gettext_noop("The file is too large or too complex to clean safely."),
        gettext_noop("too large or too complex to clean safely")),
    "malformed": Wording(
        gettext_noop("The file seems damaged and could not be read."),
        gettext_noop("the file seems damaged and could not be read")),
    "verification": Wording(
        gettext_noop("After cleaning, a check still found identifying data, so the file was "
                     "not accepted."),
        gettext_noop("after cleaning, a check still found identifying data")),
    "timeout": Wording(gettext_noop("Cleaning took too long, so the file was not accepted."),
                       gettext_noop("cleaning took too long")),
    "crashed": Wording(gettext_noop("The cleaner failed on this file, so it was not accepted."),
                       gettext_noop("the cleaner failed on this file")),
    "empty": Wording(gettext_noop("The file is empty."), gettext_noop("the file is empty")),
    "busy": Wording(
        gettext_noop("The server is cleaning many files right now, so this one was not cleaned. "
                     "Please try again in a few minutes."),
        gettext_noop("the server was cleaning too many files at that moment")),
    "unavailable": Wording(
        gettext_noop("The server cannot clean files safely right now, so this one was not "
                     "cleaned. Please try again later."),
        gettext_noop("the cleaner's sandbox could not be established")),
    "not-utf8": Wording(
        gettext_noop("We could not tell with certainty how this text file is encoded, so we "
                     "could not read it. Please save it again as UTF-8 (in Notepad: File → Save "
                     "As, then Encoding: UTF-8), or as .docx or .odt, and send that."),
        gettext_noop("a text file in an encoding the cleaner could not tell")),
}

# Why a file was damaged or too much, in words, chosen from the English detail a
# cleaner or library gave (first match wins); a detail that matches nothing gets
# the code's last sentence, so a new library message can never reach the author.
REASONS: dict[str, str] = {
    "package-cut-short": gettext_noop(
        "It does not open as a complete document: it may have been cut short while it was "
        "copied or downloaded. Please open it on your device, save it again, and send the "
        "new copy."),
    "document-parts": gettext_noop(
        "Some of its inner parts are missing or are not what its format allows. Please open "
        "it in the program that made it, save it again (or as PDF), and send that."),
    "picture": gettext_noop(
        "The picture could not be decoded. Please open it, save it again as JPEG or PNG, and "
        "send that."),
    "recording": gettext_noop(
        "The recording could not be read to its end. Please export it again (for example as "
        "MP3 or M4A) and send that."),
    "pdf": gettext_noop(
        "Please open it in a PDF reader, print it to a new PDF (Print → Save as PDF), and "
        "send that."),
    "damaged": gettext_noop(
        "Please open it on your device, save it again, and send the new copy."),
    "too-large": gettext_noop(
        "It is larger than the server can clean. Please split it into smaller files, or "
        "make its pictures smaller, and send those."),
    "too-deep": gettext_noop(
        "It holds documents inside documents, too many levels deep. Please save it again "
        "as PDF and send that."),
    "too-slow": gettext_noop(
        "Cleaning it needed more time or memory than the server allows. Please send a "
        "smaller file, or save it as PDF."),
    "hidden-data": gettext_noop(
        "Please save it as PDF, or copy its text into a new document, and send that."),
}
_REASON_PATTERNS: dict[str, tuple[tuple[str, str], ...]] = {
    "malformed": (
        (r"^zip|zip member", "package-cut-short"),
        (r"XML|missing|unexpected|relationships|member name|duplicate member|"
         r"type declaration", "document-parts"),
        (r"^(jpeg|png|webp|tiff|gif|bmp|heic)\b|JPEG|picture|image", "picture"),
        (r"MPEG|FLAC|WAV|RIFF|M4A|Ogg|recording|audio", "recording"),
        (r"PDF|pages|catalog|stream|object|xref|trailer|colour profile", "pdf"),
        (r"", "damaged"),
    ),
    "limit": (
        (r"nested|nesting|deep", "too-deep"),
        (r"CPU|time|memory", "too-slow"),
        (r"", "too-large"),
    ),
    "verification": ((r"", "hidden-data"),),
}


def reason(code: str, detail: str) -> str:
    """The key in REASONS for a refusal's English detail, or "" for a code without one."""
    for pattern, key in _REASON_PATTERNS.get(code, ()):
        if re.search(pattern, detail, re.IGNORECASE):
            return key
    return ""


GENERIC = Wording(gettext_noop("other identifying data ({code})"))
GENERIC_REFUSED = Wording(gettext_noop("The file could not be cleaned ({code})."),
                          gettext_noop("the file could not be cleaned ({code})"))

# What the author sees in place of a value until they open it: its first character.
MASK = "*"
MASK_MAX = 12


def masked(value: str) -> str:
    """A value shown by its first character, the rest as `*` (at most MASK_MAX of them)."""
    value = value.strip()
    if len(value) <= 1:
        return MASK
    return value[0] + MASK * min(len(value) - 1, MASK_MAX)


def render(template: str, finding: Finding, translate: Callable[[str], str] = str,
           detail: str | None = None) -> str:
    """Fill a sentence template, translating it first when given a translator."""
    return translate(template).format(
        detail=finding.detail if detail is None else detail, count=finding.count,
        code=finding.code,
    )


def removed_sentence(finding: Finding, translate: Callable[[str], str] = str) -> str:
    """For the author: what was removed, naming the value found."""
    return render(REMOVED.get(finding.code, GENERIC).author, finding, translate)


def removed_masked(finding: Finding, translate: Callable[[str], str] = str) -> str:
    """For the author: as `removed_sentence`, with the value masked (for the first look)."""
    return render(REMOVED.get(finding.code, GENERIC).author, finding, translate,
                  detail=masked(finding.detail))


def shows_value(finding: Finding) -> bool:
    """True when the author's sentence for this finding names a value worth hiding."""
    return bool(finding.detail) and REMOVED.get(finding.code, GENERIC).names_a_value


def note_sentence(finding: Finding, translate: Callable[[str], str] = str) -> str:
    """For the author."""
    return render(NOTES.get(finding.code, GENERIC).author, finding, translate)


def refusal_sentence(code: str, detail: str = "", translate: Callable[[str], str] = str) -> str:
    """For the author: why the file could not be cleaned, and what to send instead.

    A detail that is a library's message becomes the sentence of its reason."""
    why = reason(code, detail)
    if why:
        first = translate(REFUSED[code].author)
        # Chinese runs its sentences together; English puts a space between them.
        space = "" if first.endswith(("。", "！", "？")) else " "
        return f"{first}{space}{translate(REASONS[why])}"
    return render(REFUSED.get(code, GENERIC_REFUSED).author, Finding(code, detail), translate)


# --- For editors: kinds and counts, never a value --------------------------------


def removed_kind(finding: Finding, translate: Callable[[str], str] = str) -> str:
    return render(REMOVED.get(finding.code, GENERIC).editors, finding, translate, detail="")


def note_kind(finding: Finding, translate: Callable[[str], str] = str) -> str:
    return render(NOTES.get(finding.code, GENERIC).editors, finding, translate, detail="")


def refusal_kind(code: str, translate: Callable[[str], str] = str) -> str:
    return render(REFUSED.get(code, GENERIC_REFUSED).editors, Finding(code), translate, detail="")


def kinds_only(report: Report) -> Report:
    """The report as it may leave the author's request: one entry per code, no values.

    A code whose author sentence names a value counts the distinct values
    found ("3 comment author names"); any other code adds up its counts
    ("12 comments"). Unknown codes from an older or newer cleaner are kept as
    codes (they render as "other identifying data").
    """
    summary = Report(kind=report.kind)
    totals: dict[str, int] = {}
    for finding in report.removed:
        distinct = REMOVED.get(finding.code, GENERIC).names_a_value
        totals[finding.code] = totals.get(finding.code, 0) + (1 if distinct else finding.count)
    for code, count in totals.items():
        summary.remove(code, "", count)
    for finding in report.notes:
        summary.note(finding.code)
    return summary
