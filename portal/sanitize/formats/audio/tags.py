"""What a recording says about itself, as mutagen reads it: tags and length.

The report says which tags were removed ("artist “X”, title, comment") so the
author can see what their file gave away; only the names of people are quoted,
since those are what an author most needs to know were there. The length is
read before and after cleaning: a rebuilt file that plays for less time than
the original lost sound, and is refused rather than passed on.
"""

from __future__ import annotations

from typing import Any

from ...errors import CleaningRefused
from ...report import Report

_ID3_NAMES = {
    "TPE1": "artist", "TPE2": "album artist", "TPE3": "conductor", "TPE4": "remixer",
    "TCOM": "composer", "TEXT": "lyricist", "TIT1": "grouping", "TIT2": "title",
    "TIT3": "subtitle", "TALB": "album", "COMM": "comment", "TDRC": "date", "TYER": "date",
    "TDAT": "date", "TDEN": "date", "TDTG": "date", "TDOR": "date", "TRCK": "track",
    "TPOS": "disc", "TCON": "genre", "TENC": "encoded by", "TSSE": "encoder settings",
    "TCOP": "copyright", "TPUB": "publisher", "USLT": "lyrics", "SYLT": "lyrics",
    "TXXX": "custom text", "WXXX": "link", "PRIV": "private data", "GEOB": "embedded object",
    "POPM": "rating", "UFID": "identifier", "TOWN": "owner", "TLAN": "language",
    "TOPE": "original artist", "TOLY": "original lyricist",
}
_MP4_NAMES = {
    "©ART": "artist", "aART": "album artist", "©nam": "title", "©alb": "album",
    "©cmt": "comment", "©day": "date", "©too": "encoder", "©wrt": "composer",
    "©gen": "genre", "gnre": "genre", "trkn": "track", "disk": "disc", "©lyr": "lyrics",
    "cprt": "copyright", "©grp": "grouping", "desc": "description",
}
_PICTURE_KEYS = frozenset({"APIC", "PIC", "covr", "metadata_block_picture", "coverart"})
# Tags that name a person: their value is shown, the others are only named.
_PEOPLE = frozenset({"artist", "album artist", "composer", "author", "performer"})


def describe_tags(tags: Any) -> tuple[str, int]:
    """A short summary of the tags and the number of embedded pictures among them."""
    if not tags:
        return "", 0
    names: dict[str, None] = {}
    pictures = 0
    for key in list(tags.keys()):
        name, is_picture = _tag_name(str(key))
        if is_picture:
            value = tags[key]
            pictures += len(value) if isinstance(value, list) else 1
            continue
        if name in _PEOPLE:
            value = _first_text(tags[key])
            if value:
                name = f"{name} “{value}”"
        names[name] = None
    return ", ".join(names), pictures


def _tag_name(key: str) -> tuple[str, bool]:
    frame = key.split(":", 1)[0]
    if frame in _PICTURE_KEYS or key.lower() in _PICTURE_KEYS or key.startswith("Cover Art"):
        return "", True
    if key.startswith("----:"):
        return "custom text", False
    if frame in _ID3_NAMES:
        return _ID3_NAMES[frame], False
    if key in _MP4_NAMES:
        return _MP4_NAMES[key], False
    return key.lower().strip() or "unnamed tag", False


def _first_text(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    text = getattr(value, "text", value)
    if isinstance(text, list):
        text = text[0] if text else ""
    return str(text).strip()


def duration_of(audio: Any) -> float:
    """The recording's length in seconds, or a refusal if mutagen found none."""
    length = getattr(getattr(audio, "info", None), "length", None)
    if not isinstance(length, (int, float)):
        raise CleaningRefused("malformed", "no audio length")
    return float(length)


def check_duration(before: float, after: float, tolerance: float = 0.05) -> None:
    """The rebuilt file must play as long as the original (a bug here loses sound)."""
    if abs(before - after) > max(tolerance, before * 0.01):
        raise CleaningRefused(
            "malformed", f"audio length changed from {before:.1f}s to {after:.1f}s"
        )


def report_tags(tags: Any, report: Report) -> None:
    """Name what a recording's tags held: the encoder, the tags, the pictures."""
    vendor = str(getattr(tags, "vendor", "") or "").strip()
    if vendor:
        report.remove("software", vendor)  # Vorbis comments name the encoder and its version
    summary, pictures = describe_tags(tags)
    if summary:
        report.remove("audio-tags", summary)
    if pictures:
        report.remove("cover-art", count=pictures)
