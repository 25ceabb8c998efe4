"""A chained Ogg file keeps every recording in it, each without its comments.

Ogg lets recordings follow one another in one file (two voice memos joined, a
stream saved across a track change), each with its own headers, comments and
serial number. Keeping only the first would lose the rest of the author's
sound; keeping their comments would keep names and dates. The verifier checks
each part on its own.
"""

from __future__ import annotations

import io
import struct

import pytest
from mutagen.ogg import OggPage
from mutagen.oggopus import OggOpus

from portal.sanitize import clean_bytes
from portal.sanitize.errors import VerificationFailed
from portal.sanitize.verify import verify

from .dirty_audio import _ogg_page, vorbis_comments
from .scan import find_tokens

T = {"first_artist": "TOKEN-firstartist-1a2b", "first_vendor": "TOKEN-firstvendor-2b3c",
     "second_artist": "TOKEN-secondartist-3c4d", "second_date": "TOKEN-seconddate-4d5e"}
OPUS_HEAD = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, 312, 48000, 0, 0)


def opus_stream(serial: int, packets: int, vendor: str, comments: list[str]) -> bytes:
    """One Ogg Opus recording of `packets` 20 ms silent packets."""
    pages = [_ogg_page(serial, 0, [OPUS_HEAD], 0, first=True),
             _ogg_page(serial, 1, [b"OpusTags" + vorbis_comments(vendor, comments)], 0)]
    sequence, done = 2, 0
    while done < packets:
        batch = min(50, packets - done)
        done += batch
        pages.append(_ogg_page(serial, sequence, [b"\xf8"] * batch, 312 + done * 960,
                               last=done == packets))
        sequence += 1
    return b"".join(pages)


def chained() -> bytes:
    return (opus_stream(0x1111, 150, T["first_vendor"], [f"ARTIST={T['first_artist']}"])
            + opus_stream(0x2222, 100, "libopus", [f"ARTIST={T['second_artist']}",
                                                   f"DATE={T['second_date']}"]))


def parts_of(data: bytes) -> list[list[OggPage]]:
    buf, parts = io.BytesIO(data), []
    while buf.tell() < len(data):
        page = OggPage(buf)
        if page.first:
            parts.append([])
        parts[-1].append(page)
    return parts


def test_every_chained_recording_is_kept_without_its_comments() -> None:
    dirty = chained()
    assert [len(p) for p in parts_of(dirty)] == [5, 4]
    cleaned, report = clean_bytes(dirty, name_hint="两段录音.opus")
    assert find_tokens(cleaned, list(T.values())) == []
    parts = parts_of(cleaned)
    assert len(parts) == 2
    serials = [part[0].serial for part in parts]
    assert len(set(serials)) == 2 and not set(serials) & {0x1111, 0x2222}
    assert all({page.serial for page in part} == {part[0].serial} for part in parts)
    for part, seconds in zip(parts, (3.0, 2.0), strict=True):
        recording = OggOpus(io.BytesIO(b"".join(page.write() for page in part)))
        assert recording.info.length == pytest.approx(seconds, abs=0.05)
        assert not recording.tags and recording.tags.vendor == ""
    details = " ".join(f.detail for f in report.removed if f.code == "audio-tags")
    assert T["first_artist"] in details and T["second_artist"] in details
    verify("ogg", cleaned)


def test_verifier_refuses_comments_in_a_later_part() -> None:
    cleaned, _ = clean_bytes(chained(), name_hint="memo.opus")
    first = b"".join(page.write() for page in parts_of(cleaned)[0])
    second = opus_stream(0x3333, 50, "", [f"ARTIST={T['second_artist']}"])
    with pytest.raises(VerificationFailed, match="Ogg comments"):
        verify("ogg", first + second)


def test_verifier_refuses_parts_sharing_a_serial() -> None:
    one = opus_stream(0x4444, 50, "", [])
    with pytest.raises(VerificationFailed, match="serial"):
        verify("ogg", one + one)
