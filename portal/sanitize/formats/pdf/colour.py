"""PDF colour: output intents and ICC profiles keep their colours, not their words.

Threat: a PDF made for print names the printing condition it was prepared for
(/OutputIntents: /OutputCondition, /Info, /RegistryName, an identifier), often
the print shop's, the press's or the person's own words, and embeds that
condition's ICC profile; pages and pictures carry ICC profiles of their own
(ICCBased colour spaces). A profile's description, copyright, device maker and
model, dates and ids can name the scanner, the monitor or the person who
calibrated it.

The promise: an output intent stays only with its profile, with the neutral
identifier "Custom" and none of the other texts (one without a profile says
nothing a reader needs, and goes); every ICC profile in the file, wherever it
is used, is rewritten by `icc.neutral_profile`, so colours stay exactly as they
were and no word about who made the profile remains.
"""

from __future__ import annotations

from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name, Stream, String

from ...report import Report
from .icc import looks_like_icc, neutral_profile

OUTPUT_INTENT_KEEP = frozenset({"/Type", "/S", "/DestOutputProfile", "/OutputConditionIdentifier"})
NEUTRAL_CONDITION = "Custom"
_TEXTS = ("/Info", "/OutputCondition", "/OutputConditionIdentifier", "/RegistryName")
# Streams that carry /N but are not profiles: object streams and cross-reference streams.
_NOT_PROFILES = frozenset({"/ObjStm", "/XRef"})
# A profile is a few kilobytes; a stream this large is not one and is not decoded.
MAX_PROFILE_BYTES = 16 * 1024 * 1024


def clean_output_intents(holder: Dictionary, report: Report) -> None:
    """The catalog's (or a page's) /OutputIntents: profiles kept, words dropped."""
    intents = holder.get("/OutputIntents")
    if intents is None:
        return
    kept = []
    for intent in intents if isinstance(intents, Array) else []:
        if not isinstance(intent, Dictionary):
            continue
        words = [str(intent.get(key)) for key in _TEXTS if isinstance(intent.get(key), String)]
        words = [w.strip() for w in words if w.strip() and w.strip() != NEUTRAL_CONDITION]
        if words:
            report.remove("output-intent", words[0])
        if not isinstance(intent.get("/DestOutputProfile"), Stream):
            continue  # a named condition alone; a reader needs nothing of it
        for key in list(intent.keys()):
            if key not in OUTPUT_INTENT_KEEP:
                del intent[key]
        intent["/OutputConditionIdentifier"] = String(NEUTRAL_CONDITION)
        kept.append(intent)
    if kept:
        holder["/OutputIntents"] = Array(kept)
    else:
        del holder["/OutputIntents"]


def neutralise_profiles(pdf: pikepdf.Pdf, report: Report) -> None:
    """Rewrite every ICC profile stream in the file without its words."""
    for obj in pdf.objects:
        if not isinstance(obj, Stream) or "/N" not in obj or _name(obj.get("/Type")) in (
            _NOT_PROFILES
        ):
            continue
        if len(obj.read_raw_bytes()) > MAX_PROFILE_BYTES:
            continue
        try:
            data = bytes(obj.read_bytes())
        except pikepdf.PdfError:
            continue  # undecodable: the verifier refuses the file if it is a profile
        if not looks_like_icc(data):
            continue
        rebuilt, found = neutral_profile(data)
        if found.identifying:
            report.remove("icc-profile-text", found.description)
        obj.write(rebuilt)


def _name(value: Any) -> str:
    if not isinstance(value, Name):
        return ""
    try:
        return str(value)
    except UnicodeDecodeError:
        return ""

