"""Cleaning reports as sentences in the author's language."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext, gettext_noop

from portal.sanitize.messages import note_sentence, refusal_sentence, removed_sentence
from portal.sanitize.report import Report

# Marked with gettext_noop so makemessages finds them; translated when shown.
KIND_NAMES = {
    "docx": gettext_noop("Word document (DOCX)"),
    "xlsx": gettext_noop("Spreadsheet (XLSX)"),
    "pptx": gettext_noop("Slides (PPTX)"),
    "odt": gettext_noop("OpenDocument text (ODT)"),
    "ods": gettext_noop("OpenDocument spreadsheet (ODS)"),
    "odp": gettext_noop("OpenDocument slides (ODP)"),
    "odg": gettext_noop("OpenDocument drawing (ODG)"),
    "pdf": gettext_noop("PDF"),
    "jpeg": gettext_noop("JPEG picture"),
    "png": gettext_noop("PNG picture"),
    "webp": gettext_noop("WebP picture"),
    "tiff": gettext_noop("TIFF picture"),
    "gif": gettext_noop("GIF picture"),
    "bmp": gettext_noop("BMP picture"),
    "heic": gettext_noop("HEIC picture"),
    "mp3": gettext_noop("MP3 audio"),
    "flac": gettext_noop("FLAC audio"),
    "ogg": gettext_noop("Ogg audio"),
    "m4a": gettext_noop("M4A audio"),
    "wav": gettext_noop("WAV audio"),
    "text": gettext_noop("Plain text"),
    "markdown": gettext_noop("Markdown text"),
    "openpgp": gettext_noop("OpenPGP encrypted file"),
}


def describe(file: Any) -> dict[str, Any]:
    """What the review page shows for one pending file."""
    if file.status == "refused":
        return {
            "kind": gettext("Not cleaned"),
            "refusal": refusal_sentence(file.refusal.get("code", ""),
                                        file.refusal.get("detail", ""), gettext),
            "removed": [], "notes": [],
        }
    report = Report.from_dict(file.report)
    return {
        "kind": gettext(KIND_NAMES.get(report.kind, report.kind)),
        "refusal": "",
        "removed": [removed_sentence(f, gettext) for f in report.removed],
        "notes": [note_sentence(f, gettext) for f in report.notes],
    }
