"""The sentences behind report and refusal codes, in English.

These are the source strings for translation: the web pages pass each one
through Django's gettext (the `gettext_noop` marker lets `makemessages` find
them without this package importing Django), `portal-clean` prints them as they
are. A code without a sentence falls back to a generic one, so a new cleaner can
never make a report unreadable.
"""

from __future__ import annotations

from collections.abc import Callable

from .report import Finding


def gettext_noop(message: str) -> str:
    """Mark a string for translation without translating it here."""
    return message


REMOVED: dict[str, str] = {
    "author-name": gettext_noop("the author name “{detail}”"),
    "last-modified-by": gettext_noop("the name of the last person who edited it, “{detail}”"),
    "document-dates": gettext_noop("the dates it was created, edited and printed"),
    "software": gettext_noop("the name and version of the software used (“{detail}”)"),
    "company": gettext_noop("a company or organisation name, “{detail}”"),
    "document-properties": gettext_noop("document properties ({detail})"),
    "custom-properties": gettext_noop("custom document properties"),
    "comments": gettext_noop("{count} comment(s)"),
    "comment-author": gettext_noop("the name of a comment’s author, “{detail}”"),
    "tracked-insertions-accepted": gettext_noop("{count} tracked insertion(s) were accepted"),
    "tracked-deletions-removed": gettext_noop(
        "{count} tracked deletion(s) were removed; the deleted text is gone"
    ),
    "tracked-change-author": gettext_noop("the name of a tracked change’s author, “{detail}”"),
    "revision-ids": gettext_noop("{count} editing-session identifier(s)"),
    "document-id": gettext_noop("a unique document identifier"),
    "hidden-text": gettext_noop("hidden text"),
    "language": gettext_noop("the document language setting “{detail}”"),
    "external-link": gettext_noop("a link to another file or address (“{detail}”)"),
    "thumbnail": gettext_noop("a preview picture, which can show an earlier version"),
    "printer-settings": gettext_noop("printer settings"),
    "custom-xml": gettext_noop("custom data attached to the document"),
    "web-settings": gettext_noop("web publishing settings"),
    "people": gettext_noop("the list of people who worked on it"),
    "settings": gettext_noop("editor settings, which can name the computer or user"),
    "embedded-file": gettext_noop("an embedded file, “{detail}”, was cleaned as well"),
    "embedded-file-removed": gettext_noop("an embedded file, “{detail}”, that could not be cleaned"),
    "unknown-part": gettext_noop("a part we do not recognise (“{detail}”)"),
    "annotations": gettext_noop("{count} annotation(s) or note(s)"),
    "gps": gettext_noop("a GPS location"),
    "camera": gettext_noop("the camera or phone model, “{detail}”"),
    "exif": gettext_noop("camera data (EXIF)"),
    "xmp": gettext_noop("embedded XMP metadata"),
    "iptc": gettext_noop("IPTC captions and credits"),
    "icc-profile": gettext_noop("a colour profile, which can name the device"),
    "image-comment": gettext_noop("a comment stored in the picture"),
    "text-chunks": gettext_noop("text notes stored in the picture"),
    "orientation-applied": gettext_noop("the rotation was applied to the pixels"),
    "audio-tags": gettext_noop("audio tags ({detail})"),
    "cover-art": gettext_noop("an embedded picture (cover art)"),
    "pdf-info": gettext_noop("PDF document information (title, author, software, dates)"),
    "pdf-xmp": gettext_noop("PDF XMP metadata"),
    "pdf-annotation-authors": gettext_noop("{count} annotation author name(s)"),
    "pdf-attachments": gettext_noop("an attached file, “{detail}”"),
    "pdf-javascript": gettext_noop("JavaScript"),
    "pdf-actions": gettext_noop("{count} automatic action(s)"),
    "pdf-piece-info": gettext_noop("private data left by the editing software"),
    "pdf-previous-revisions": gettext_noop("earlier saved versions of the PDF"),
    "pdf-thumbnails": gettext_noop("page preview pictures"),
    "pdf-signatures": gettext_noop("a digital signature, which names the person who signed"),
    "byte-order-mark": gettext_noop("an invisible byte-order mark"),
    "invisible-characters": gettext_noop(
        "{count} invisible character(s), which can mark one copy of a text"
    ),
    "bidi-controls": gettext_noop("{count} text-direction control character(s)"),
    "tracked-formatting-accepted": gettext_noop(
        "{count} tracked formatting change(s) were accepted"
    ),
    "name-fields": gettext_noop(
        "{count} field(s) that showed a name, a file name or a date the document recorded"
    ),
    "password-hash": gettext_noop("a password hash that guarded editing"),
    "image-file-name": gettext_noop("the original file name of a picture, “{detail}”"),
    "file-path": gettext_noop("a folder or file location on a computer, “{detail}”"),
    "macros": gettext_noop("macros (small programs) stored in the document"),
    "revision-history": gettext_noop("the history of earlier versions and who made them"),
    "signature": gettext_noop("a digital signature, which names the person who signed"),
    "embedded-fonts": gettext_noop("an embedded font (“{detail}”), which can name its owner"),
    "wav-chunks": gettext_noop("information chunks in the recording ({detail})"),
    "recording-dates": gettext_noop("the date and time the recording was made"),
}

NOTES: dict[str, str] = {
    "writing-style": gettext_noop(
        "The writing itself — its style, subjects and details — can still identify you."
    ),
    "type-mismatch": gettext_noop(
        "The file’s name or browser said “{detail}”, but its contents are a different type."
    ),
    "already-encrypted": gettext_noop(
        "This file is already encrypted to the editors; it will be cleaned on the "
        "editor’s computer after decryption."
    ),
    "images-reencoded": gettext_noop("Pictures were rebuilt from their pixels."),
    "visible-content": gettext_noop(
        "Faces, places, voices and names inside the content itself are not removed."
    ),
}

REFUSED: dict[str, str] = {
    "unknown-type": gettext_noop("We do not know how to clean this type of file."),
    "legacy-office": gettext_noop(
        "This is an old Microsoft Office format ({detail}), which we cannot clean "
        "reliably. Please save it as .docx, .xlsx, .pptx, .odt or PDF and send that."
    ),
    "rtf": gettext_noop(
        "RTF files can carry hidden history we cannot remove. Please save it as .docx, "
        ".odt or PDF and send that."
    ),
    "encrypted-document": gettext_noop(
        "This document is protected by a password, so we cannot look inside it. "
        "Remove the password and send it again."
    ),
    "archive": gettext_noop(
        "Archives such as ZIP or RAR cannot be cleaned. Please send the files inside it."
    ),
    "executable": gettext_noop("Programs and scripts are not accepted."),
    "markup": gettext_noop(
        "Web pages and SVG drawings can carry scripts and hidden data we cannot remove. "
        "Please send the text as .docx, .odt, PDF or plain text."
    ),
    "limit": gettext_noop("The file is too large or too complex to clean safely ({detail})."),
    "malformed": gettext_noop("The file seems damaged and could not be read ({detail})."),
    "verification": gettext_noop(
        "After cleaning, a check still found identifying data ({detail}), so the file "
        "was not accepted."
    ),
    "timeout": gettext_noop("Cleaning took too long, so the file was not accepted."),
    "crashed": gettext_noop("The cleaner failed on this file, so it was not accepted."),
    "empty": gettext_noop("The file is empty."),
    "busy": gettext_noop(
        "The server is cleaning many files right now, so this one was not cleaned. "
        "Please try again in a few minutes."
    ),
    "unavailable": gettext_noop(
        "The server cannot clean files safely right now, so this one was not cleaned. "
        "Please try again later."
    ),
    "not-utf8": gettext_noop(
        "This text file is not in UTF-8. Please save it as UTF-8 (or as .docx or .odt) "
        "and send it again."
    ),
}

GENERIC_REMOVED = gettext_noop("other identifying data ({code})")
GENERIC_REFUSED = gettext_noop("The file could not be cleaned ({code}).")


def render(
    template: str, finding: Finding, translate: Callable[[str], str] = str
) -> str:
    """Fill a sentence template, translating it first when given a translator."""
    return translate(template).format(
        detail=finding.detail, count=finding.count, code=finding.code
    )


def removed_sentence(finding: Finding, translate: Callable[[str], str] = str) -> str:
    return render(REMOVED.get(finding.code, GENERIC_REMOVED), finding, translate)


def note_sentence(finding: Finding, translate: Callable[[str], str] = str) -> str:
    return render(NOTES.get(finding.code, GENERIC_REMOVED), finding, translate)


def refusal_sentence(code: str, detail: str = "", translate: Callable[[str], str] = str) -> str:
    return render(REFUSED.get(code, GENERIC_REFUSED), Finding(code, detail), translate)
