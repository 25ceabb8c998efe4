"""Ogg recordings: keep every chained part's sound, drop every comment and extra stream.

Threat: Vorbis and Opus comments hold artists, titles, dates and the encoder; a
METADATA_BLOCK_PICTURE comment is a whole image with its own metadata; the
stream's random serial number is shared with every other copy of the recording;
and an Ogg file can multiplex other streams (a Skeleton index, a text track)
beside the sound. An Ogg file can also be chained: several recordings one
after another (two voice memos joined, a radio stream saved with its track
changes), each with its own headers, comments and serial number.

The promise: the file is split into its chained parts at each beginning of
stream that follows audio; each part keeps only its Vorbis, Opus, FLAC or
Speex stream, rewritten by mutagen with an empty comment header (no vendor
string) and a fresh random serial, and must play as long as it did; the parts
are joined again in order, so no recording is lost. Streams that are not the
sound are dropped and counted.
"""

from __future__ import annotations

import io
import secrets
from itertools import pairwise

import mutagen
from mutagen.ogg import OggPage
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggspeex import OggSpeex
from mutagen.oggvorbis import OggVorbis

from ...errors import CleaningRefused, LimitExceeded
from ...limits import Limits
from ...report import Report
from .tags import check_duration, duration_of, report_tags


def clean_ogg(data: bytes, report: Report, limits: Limits) -> bytes:
    """Every chained part of an Ogg recording, each rebuilt from its sound alone."""
    parts = chained_parts(data)
    if len(parts) > limits.max_ogg_links:
        raise LimitExceeded(f"more than {limits.max_ogg_links} chained Ogg recordings")
    serials: set[int] = set()
    others = 0
    cleaned = []
    for part in parts:
        rebuilt, dropped = _clean_part(part, report, serials)
        cleaned.append(rebuilt)
        others += dropped
    if others:
        report.remove("unknown-part", f"{others} other Ogg stream(s)")
    report.remove("document-id")
    return b"".join(cleaned)


def chained_parts(data: bytes) -> list[bytes]:
    """The file cut where a new logical stream begins after another one carried data."""
    buf = io.BytesIO(data)
    starts = [0]
    carried_data = False
    while True:
        offset = buf.tell()
        try:
            page = OggPage(buf)
        except EOFError:
            break
        if page.first and carried_data:
            starts.append(offset)
            carried_data = False
        elif not page.first:
            carried_data = True
    starts.append(len(data))
    return [data[start:end] for start, end in pairwise(starts) if end > start]


def _clean_part(part: bytes, report: Report, serials: set[int]) -> tuple[bytes, int]:
    """One chained part: (its sound stream with no comments and a new serial, streams dropped)."""
    buf = io.BytesIO(part)
    audio = mutagen.File(buf, options=[OggVorbis, OggOpus, OggFLAC, OggSpeex])
    if audio is None:
        raise CleaningRefused("unknown-type", "Ogg without Vorbis, Opus, FLAC or Speex audio")
    report_tags(audio.tags, report)
    length, serial = duration_of(audio), audio.info.serial
    audio.tags.clear()
    if hasattr(audio.tags, "vendor"):
        audio.tags.vendor = ""  # the encoder's name and version
    buf.seek(0)
    audio.save(buf, padding=lambda info: 0)
    buf.seek(0)
    fresh = _fresh_serial(serials)  # the original would link this copy to the first
    out = io.BytesIO()
    others: set[int] = set()
    while True:
        try:
            page = OggPage(buf)
        except EOFError:
            break
        if page.serial != serial:
            others.add(page.serial)
            continue
        page.serial = fresh
        out.write(page.write())
    cleaned = out.getvalue()
    check = type(audio)(io.BytesIO(cleaned))
    if check.tags and len(check.tags):
        raise CleaningRefused("malformed", "Ogg comments could not be removed")
    check_duration(length, duration_of(check))
    return cleaned, len(others)


def _fresh_serial(used: set[int]) -> int:
    while True:
        serial = secrets.randbits(32)
        if serial not in used:
            used.add(serial)
            return serial
