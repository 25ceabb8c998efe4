"""M4A: rebuild the MP4 container from the atoms that describe and hold the sound.

Threat: besides iTunes-style tags (moov/udta/meta/ilst: artist, comment, cover
art), phone recordings carry where they were made (udta ©xyz, QuickTime mdta
"location.ISO6709" keys), the device make and model, and precise creation and
modification times in mvhd, tkhd and mdhd. The promise: the output holds only
ftyp, moov (mvhd, and per sound track tkhd, edts, mdia with mdhd, hdlr and minf)
and mdat; every creation and modification time is zero; data references point
to the file itself. Chunk offsets are moved to match the new layout. Files with
video, chapter or text tracks, or fragmented files, are refused: their extra
samples would stay inside mdat, where removing them needs a full remux.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from mutagen.mp4 import MP4

from ...errors import CleaningRefused, LimitExceeded
from ...report import Report
from .tags import check_duration, describe_tags, duration_of

MAX_ATOM_DEPTH = 12
_TOP_KEEP = (b"ftyp", b"moov", b"mdat")
_MOOV_KEEP = (b"mvhd", b"trak")
_TRAK_KEEP = (b"tkhd", b"edts", b"mdia")
_MDIA_KEEP = (b"mdhd", b"hdlr", b"minf")
_MINF_KEEP = (b"smhd", b"stbl")  # dinf is written anew: a reference to this file
_CONTAINERS = (b"moov", b"trak", b"mdia", b"minf", b"stbl")
_TIMED = (b"mvhd", b"tkhd", b"mdhd")
# "und" packed as three 5-bit letters (ISO 639-2/T), the language of no place.
UNDETERMINED_LANGUAGE = bytes.fromhex("55c4")
# Dropped without a line of their own: padding, the rebuilt dinf, and udta/meta,
# whose tags, places and devices are reported from their contents.
_SILENT_DROPS = frozenset({b"free", b"skip", b"wide", b"dinf", b"iods", b"udta", b"meta"})
# dinf → dref with one entry: 'url ' flagged "media data is in this file".
_SELF_DINF = (b"\x00\x00\x00\x24dinf\x00\x00\x00\x1cdref\x00\x00\x00\x00\x00\x00\x00\x01"
              b"\x00\x00\x00\x0curl \x00\x00\x00\x01")


@dataclass
class _Atom:
    kind: bytes
    start: int  # offset of the header in the original file
    header: int  # header length: 8, or 16 with a 64-bit size
    end: int
    children: list[_Atom] = field(default_factory=list)


def clean_m4a(data: bytes, report: Report) -> bytes:
    """Return the M4A rebuilt from its sound atoms only."""
    original = MP4(io.BytesIO(data))
    summary, pictures = describe_tags(original.tags)
    if summary:
        report.remove("audio-tags", summary)
    if pictures:
        report.remove("cover-art", count=pictures)
    top = _parse(data, 0, len(data), 0)
    kinds = [a.kind for a in top]
    if b"moof" in kinds or kinds.count(b"moov") != 1 or b"mdat" not in kinds:
        raise CleaningRefused("unknown-type", "fragmented or unusual M4A")
    moov = next(a for a in top if a.kind == b"moov")
    if any(c.kind == b"mvex" for c in moov.children):
        raise CleaningRefused("unknown-type", "fragmented M4A")
    _report_dropped(data, top, moov, report)
    dated: set[bytes] = set()
    moov_body, tables = _rebuild(data, moov, report, dated)
    if dated - {b"lang"}:
        report.remove("recording-dates")
    if b"lang" in dated:
        report.remove("language", "recording")
    new_moov = bytearray(_header(b"moov", len(moov_body)) + moov_body)
    head = len(new_moov) - len(moov_body)
    layout = [(a, data[a.start : a.end]) for a in top if a.kind in (b"ftyp", b"mdat")
              or a is moov]
    moves: list[tuple[int, int, int]] = []  # (old data start, old end, new data start)
    position = 0
    for atom, blob in layout:
        if atom.kind == b"mdat":
            moves.append((atom.start + atom.header, atom.end, position + atom.header))
        position += len(new_moov) if atom is moov else len(blob)
    for where, width in tables:  # every chunk offset now points into the moved mdat
        at = head + where
        old = int.from_bytes(new_moov[at : at + width], "big")
        new_moov[at : at + width] = _moved(old, moves, width).to_bytes(width, "big")
    cleaned = b"".join(bytes(new_moov) if a is moov else blob for a, blob in layout)
    check = MP4(io.BytesIO(cleaned))
    if check.tags:
        raise CleaningRefused("malformed", "M4A tags could not be removed")
    check_duration(duration_of(original), duration_of(check))
    return cleaned


def _parse(data: bytes, start: int, end: int, depth: int) -> list[_Atom]:
    if depth > MAX_ATOM_DEPTH:
        raise LimitExceeded("M4A atoms nested too deeply")
    atoms = []
    pos = start
    while pos + 8 <= end:
        size = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        header = 8
        if size == 1:
            if pos + 16 > end:
                raise CleaningRefused("malformed", "M4A atom cut short")
            size, header = int.from_bytes(data[pos + 8 : pos + 16], "big"), 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise CleaningRefused("malformed", f"M4A atom {kind!r} length")
        atom = _Atom(kind, pos, header, pos + size)
        if kind in _CONTAINERS:
            atom.children = _parse(data, pos + header, pos + size, depth + 1)
        atoms.append(atom)
        pos += size
    if pos != end and any(data[pos:end]):
        raise CleaningRefused("malformed", "M4A trailing bytes")
    return atoms


def _rebuild(
    data: bytes, atom: _Atom, report: Report, dated: set[bytes]
) -> tuple[bytes, list[tuple[int, int]]]:
    """A kept container's body with its children filtered, and where in that body
    each chunk offset lies (position, width), so they can be moved afterwards."""
    keep = {b"moov": _MOOV_KEEP, b"trak": _TRAK_KEEP, b"mdia": _MDIA_KEEP,
            b"minf": _MINF_KEEP}.get(atom.kind)
    out = bytearray()
    tables: list[tuple[int, int]] = []
    for child in atom.children:
        if not (atom.kind == b"stbl" or (keep and child.kind in keep)):
            if child.kind not in _SILENT_DROPS:
                report.remove("unknown-part", child.kind.decode("latin-1"))
            continue
        if child.kind == b"trak":
            _require_sound(child, data)
        if child.kind in _CONTAINERS:
            body, inner = _rebuild(data, child, report, dated)
            head = _header(child.kind, len(body))
            tables += [(len(out) + len(head) + where, width) for where, width in inner]
            out += head + body
        elif child.kind in (b"stco", b"co64"):
            tables += [(len(out) + where, width) for where, width in _offset_table(data, child)]
            out += data[child.start : child.end]
        elif child.kind in _TIMED:
            out += _untimed(data, child, dated)
        else:
            out += data[child.start : child.end]
    if atom.kind == b"minf":
        out += _SELF_DINF
    return bytes(out), tables


def _offset_table(data: bytes, atom: _Atom) -> list[tuple[int, int]]:
    """Positions (within the atom) and width of each entry of an stco or co64 table."""
    width = 4 if atom.kind == b"stco" else 8
    first = atom.header + 8  # after version, flags and the entry count
    if atom.end - atom.start < first:
        raise CleaningRefused("malformed", "M4A chunk offset table")
    count = int.from_bytes(data[atom.start + atom.header + 4 : atom.start + first], "big")
    if first + count * width > atom.end - atom.start:
        raise CleaningRefused("malformed", "M4A chunk offset table")
    return [(first + index * width, width) for index in range(count)]


def _moved(offset: int, moves: list[tuple[int, int, int]], width: int) -> int:
    for old_start, old_end, new_start in moves:
        if old_start <= offset < old_end:
            new = offset - old_start + new_start
            if new >= 1 << (8 * width):
                raise CleaningRefused("malformed", "M4A chunk offset overflow")
            return new
    raise CleaningRefused("malformed", "M4A chunk outside the media data")


def _untimed(data: bytes, atom: _Atom, dated: set[bytes]) -> bytes:
    """mvhd, tkhd or mdhd with creation and modification times set to zero."""
    blob = bytearray(data[atom.start : atom.end])
    body = atom.header
    width = 8 if blob[body : body + 1] == b"\x01" else 4
    if len(blob) < body + 4 + 2 * width:
        raise CleaningRefused("malformed", f"M4A {atom.kind.decode('latin-1')} atom")
    times = slice(body + 4, body + 4 + 2 * width)
    if any(blob[times]):
        dated.add(atom.kind)
        blob[times] = bytes(2 * width)
    if atom.kind == b"mdhd":
        # After the times: timescale (4 bytes), duration (width), then the packed
        # ISO-639-2 language, which says where the recording was made; use "und".
        language = body + 4 + 2 * width + 4 + width
        if len(blob) < language + 2:
            raise CleaningRefused("malformed", "M4A mdhd atom")
        if blob[language : language + 2] != UNDETERMINED_LANGUAGE:
            dated.add(b"lang")
            blob[language : language + 2] = UNDETERMINED_LANGUAGE
    return bytes(blob)


def _require_sound(trak: _Atom, data: bytes) -> None:
    for mdia in (c for c in trak.children if c.kind == b"mdia"):
        for hdlr in (c for c in mdia.children if c.kind == b"hdlr"):
            body = hdlr.start + hdlr.header
            if data[body + 8 : body + 12] == b"soun":
                return
    raise CleaningRefused("unknown-type", "M4A with video, chapter or text tracks")


def _report_dropped(data: bytes, top: list[_Atom], moov: _Atom, report: Report) -> None:
    """Name what is dropped beyond the tags mutagen reads: places, devices."""
    for atom in top:
        if atom.kind not in _TOP_KEEP and atom.kind not in _SILENT_DROPS:
            report.remove("unknown-part", atom.kind.decode("latin-1"))
    region = data[moov.start : moov.end]
    if b"\xa9xyz" in region or b"location.ISO6709" in region:
        report.remove("gps")
    if b"com.apple.quicktime.make" in region or b"com.apple.quicktime.model" in region:
        report.remove("camera")


def _header(kind: bytes, body_length: int) -> bytes:
    size = body_length + 8
    if size >= 1 << 32:
        return (1).to_bytes(4, "big") + kind + (body_length + 16).to_bytes(8, "big")
    return size.to_bytes(4, "big") + kind
