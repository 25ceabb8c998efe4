"""Cleaning reports as sentences in the author's language."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext

from portal.sanitize.messages import note_sentence, refusal_sentence, removed_sentence
from portal.sanitize.report import Report

KIND_NAMES = {
    "docx": "Word document (DOCX)", "xlsx": "Spreadsheet (XLSX)", "pptx": "Slides (PPTX)",
    "odt": "OpenDocument text (ODT)", "ods": "OpenDocument spreadsheet (ODS)",
    "odp": "OpenDocument slides (ODP)", "odg": "OpenDocument drawing (ODG)",
    "pdf": "PDF", "jpeg": "JPEG picture", "png": "PNG picture", "webp": "WebP picture",
    "tiff": "TIFF picture", "gif": "GIF picture", "bmp": "BMP picture", "heic": "HEIC picture",
    "mp3": "MP3 audio", "flac": "FLAC audio", "ogg": "Ogg audio", "m4a": "M4A audio",
    "wav": "WAV audio", "text": "Plain text", "markdown": "Markdown text",
    "openpgp": "OpenPGP encrypted file",
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
