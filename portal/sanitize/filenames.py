"""What a file's name can say about its author, and the neutral name used instead.

Threat answered: a name such as `流水线上的她们-初稿-陈晓梅.docx` or
`IMG_20250214_182205.jpg` carries the author's legal name, or the minute a
photo was taken, past every metadata cleaner. Editors therefore receive
neutral names (`1.docx`, `2.jpg`, in upload order) unless the author ticks a
box to keep a name; the review page uses `revealed()` to say, before that
choice, what each name would give away.

No Django imports: plain data in, plain data out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .kinds import FILE_EXTENSIONS

# The extension editors' programs expect for each kind the cleaner detects.
EXTENSIONS = FILE_EXTENSIONS
_EXTENSION_RE = re.compile(r"^[a-z0-9]{1,10}$")
MAX_SHOWN = 40  # characters of a matched piece shown back to the author


def neutral_name(position: int, kind: str, original: str = "") -> str:
    """`<position>.<extension>`: the extension from the detected kind, else from the name."""
    extension = EXTENSIONS.get(kind, "")
    if not extension:
        stem, dot, suffix = original.rpartition(".")
        suffix = suffix.lower()
        extension = suffix if dot and stem and _EXTENSION_RE.match(suffix) else ""
    return f"{position}.{extension}" if extension else str(position)


@dataclass(frozen=True)
class Revealed:
    """One thing a name gives away: `code` (see REVEALS) and the piece that shows it."""

    code: str
    piece: str = ""


# Phones, cameras and messengers name files after the moment they were made.
_DEVICE_PATTERNS = [
    re.compile(p, re.IGNORECASE) for p in (
        r"^(IMG|VID|PXL|MVIMG|PANO|BURST|LRG_|Screenshot|Screen ?Shot|Screen ?Recording"
        r"|Photo|Video|WIN|Record(ing)?)[ _-]*\d{4}[-_.]?\d{2}[-_.]?\d{2}",
        r"^(IMG|VID|AUD|PTT|DOC)-\d{8}-WA\d+",                      # WhatsApp
        r"^(IMG|DSC[NF]?|DSCF|P|GOPR|GH|DJI|MVI|SAM|CIMG|PICT)_?\d{3,}",  # camera counters
        r"^mmexport\d{10,13}", r"^wx_camera_\d{10,13}", r"^微信图片_\d{8,14}",
        r"^(signal|telegram|photo)[-_ ]\d{4}-\d{2}-\d{2}",
        r"^Screenshot_\d{8}[-_]\d{6}", r"^截屏\d{4}", r"^屏幕截图",
    )
]
_DATE = re.compile(
    r"(?<!\d)(?:19[7-9]\d|20\d\d)[-_. 年]?(?:0[1-9]|1[0-2]|[1-9](?=月))[-_. 月]?"
    r"(?:0[1-9]|[12]\d|3[01]|[1-9](?=日))日?(?!\d)"
    r"|(?<!\d)(?:0?[1-9]|[12]\d|3[01])[-_.](?:0?[1-9]|1[0-2])[-_.](?:19[7-9]\d|20\d\d)(?!\d)"
    r"|(?<!\d)(?:0?[1-9]|1[0-2])月(?:0?[1-9]|[12]\d|3[01])日"
)
_TIME = re.compile(
    r"(?<!\d)(?:[01]\d|2[0-3])[:.h-][0-5]\d(?:[:.m-][0-5]\d)?(?!\d)"
    r"|(?<=[_T-])(?:[01]\d|2[0-3])[0-5]\d[0-5]\d(?:\d{3})?(?!\d)"
    r"|(?<=\d{8})(?:[01]\d|2[0-3])[0-5]\d[0-5]\d(?!\d)"
)
# 20250214182205: a date and a time written together, as messengers do.
_DATETIME = re.compile(
    r"(?<!\d)(?:19[7-9]\d|20\d\d)(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
    r"(?:[01]\d|2[0-3])[0-5]\d(?:[0-5]\d)?(?!\d)"
)
# Seconds or milliseconds since 1970, as messengers write them (2001 to 2033).
_EPOCH = re.compile(r"(?<!\d)1[0-9]{9}(?:[0-9]{3})?(?!\d)")
_WORD = re.compile(r"[^\W\d_]{2,}|[\u3400-\u9fff\uf900-\ufaff]", re.UNICODE)
# Words that say nothing about a person: camera prefixes and the like.
_NEUTRAL_WORDS = frozenset({
    "img", "vid", "pxl", "dsc", "dscn", "dscf", "mvimg", "screenshot", "screen", "shot",
    "photo", "video", "wa", "mmexport", "wx", "camera", "pano", "burst", "signal", "telegram",
    "at", "copy", "final", "draft", "new", "untitled", "document", "file", "scan", "image",
    "recording", "record", "audio", "voice", "note", "notes", "pm", "am", "aud", "ptt", "doc",
    "gopr", "dji", "mvi", "sam", "pict", "cimg",
})
# In this order; each piece found is blanked before the next search.
_SEARCHES: list[tuple[str, list[re.Pattern[str]]]] = [
    ("device-pattern", _DEVICE_PATTERNS),
    ("date-time", [_DATETIME]),
    ("date", [_DATE]),
    ("time", [_TIME]),
    ("timestamp", [_EPOCH]),
]


def revealed(name: str) -> list[Revealed]:
    """What `name` gives away, in a fixed order: device pattern, date, time, words.

    Each piece found is blanked out before the next search, so the date inside
    `IMG_20250214_182205` is not read again as a time or as words.
    """
    rest = name.rsplit(".", 1)[0] if "." in name.strip(".") else name
    found: list[Revealed] = []
    for code, patterns in _SEARCHES:
        for pattern in patterns:
            match = pattern.search(rest)
            if match is None:
                continue
            found.append(Revealed(code, _shown(match.group(0))))
            if code == "device-pattern":
                # Its digits may still hold a date and a time, found next.
                rest = rest[: match.start()] + _digits_only(match.group(0)) + rest[match.end():]
            else:
                rest = pattern.sub(" ", rest)
            break
    words = [w for w in _WORD.findall(rest) if w.lower() not in _NEUTRAL_WORDS]
    if words:
        found.append(Revealed("words", _shown(" ".join(words))))
    return found


def _digits_only(piece: str) -> str:
    """A device pattern's digits and separators, its words blanked out."""
    return "".join(ch if ch.isdigit() or ch in "-_. " else " " for ch in piece)


def _shown(piece: str) -> str:
    piece = " ".join(piece.split())
    return piece if len(piece) <= MAX_SHOWN else piece[: MAX_SHOWN - 1] + "…"
