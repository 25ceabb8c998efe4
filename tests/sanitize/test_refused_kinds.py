"""Formats the cleaner cannot clean are refused by what they are, with a way forward.

An author whose video or e-book is refused as "a file we do not know" is left to
guess, and may send it on some other, uncleaned way. Each family is recognised
from its bytes (never its name), refused with its own code, and each code has a
sentence for the author (what to send instead) and a short one for editors
(what the file was, no value).
"""

from __future__ import annotations

import io
import struct
import zipfile

import pytest

from portal.sanitize import CleaningRefused, clean
from portal.sanitize.messages import REFUSED
from portal.sanitize.sniff import REFUSED_KINDS, refine, sniff
from tests.sanitize.dirty_audio import dirty_m4a
from tests.sanitize.hostile_samples import Member, build_zip


def box(kind: bytes, *parts: bytes) -> bytes:
    body = b"".join(parts)
    return struct.pack(">I", len(body) + 8) + kind + body


def movie(brand: bytes, *handlers: bytes, moov_last: bool = False) -> bytes:
    """An MP4-family file whose tracks have these handler types (vide, soun...)."""
    traks = [box(b"trak", box(b"tkhd", bytes(84)), box(b"mdia", box(b"mdhd", bytes(24)),
                 box(b"hdlr", bytes(8), handler, bytes(12), b"Handler\x00")))
             for handler in handlers]
    moov = box(b"moov", box(b"mvhd", bytes(100)), *traks)
    mdat = box(b"mdat", bytes(range(256)) * 300)  # frames: binary, past the sniffed head
    ftyp = box(b"ftyp", brand, bytes(4), brand + b"isom")
    return ftyp + (mdat + moov if moov_last else moov + mdat)


def ebml(doctype: bytes) -> bytes:
    """The EBML header Matroska and WebM files open with, then a Segment."""
    header = b"\x42\x86\x81\x01" + b"\x42\x82" + bytes([0x80 | len(doctype)]) + doctype
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(header)]) + header + b"\x18\x53\x80\x67" + (
        b"\x01" + bytes(7) + bytes(range(256)) * 4)


def avi() -> bytes:
    body = b"AVI " + b"LIST" + struct.pack("<I", 4 + 64) + b"hdrl" + b"avih" + struct.pack(
        "<I", 56) + bytes(56)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def transport_stream() -> bytes:
    return b"".join(b"\x47\x40\x00\x10" + bytes([i % 256] * 184) for i in range(12))


def epub() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        archive.writestr("META-INF/container.xml", "<container/>")
        archive.writestr("OEBPS/chapter1.xhtml", "<html><body>Chapter</body></html>")
    return buffer.getvalue()


SAMPLES = {
    "mp4-with-video": (movie(b"isom", b"vide", b"soun"), "video"),
    "mp4-with-video-moov-at-end": (movie(b"mp42", b"soun", b"vide", moov_last=True), "video"),
    "mov": (movie(b"qt  ", b"vide"), "video"),
    "3gp": (movie(b"3gp4", b"vide", b"soun"), "video"),
    "mkv": (ebml(b"matroska"), "video"),
    "webm": (ebml(b"webm"), "video"),
    "avi": (avi(), "video"),
    "flv": (b"FLV\x01\x05\x00\x00\x00\x09" + bytes(range(256)) * 4, "video"),
    "mpeg-ts": (transport_stream(), "video"),
    "epub": (epub(), "epub"),
    "zip": (build_zip([Member.stored("chapter.txt", b"chapter one")]), "archive"),
    "rar": (b"Rar!\x1a\x07\x01\x00" + bytes(64), "archive"),
    "7z": (b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(64), "archive"),
    "gzip": (b"\x1f\x8b\x08\x00" + bytes(64), "archive"),
    "html": (b"<!DOCTYPE html><html><head><title>t</title></head><body>draft</body></html>",
             "markup"),
    "svg": (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><text>hi</text>'
            b"</svg>", "svg"),
    "rtf": (b"{\\rtf1\\ansi {\\info{\\author Someone}} Draft text.}", "rtf"),
}


def refusal_of(data: bytes, name: str) -> CleaningRefused:
    with pytest.raises(CleaningRefused) as refused:
        clean(io.BytesIO(data), io.BytesIO(), name_hint=name)
    return refused.value


@pytest.mark.parametrize("sample", SAMPLES, ids=list(SAMPLES))
def test_each_refused_family_is_named_from_its_bytes_not_its_name(sample: str) -> None:
    data, code = SAMPLES[sample]
    for name in (f"draft.{sample}", "draft.txt", "draft"):
        assert refusal_of(data, name).code == code, name


@pytest.mark.parametrize("code", sorted({code for _, code in SAMPLES.values()}))
def test_each_refusal_code_tells_the_author_what_to_send_and_editors_what_it_was(
    code: str,
) -> None:
    wording = REFUSED[code]
    assert "send" in wording.author.lower(), "the author is told what to send instead"
    assert wording.editors and "{detail}" not in wording.editors


def test_every_refused_kind_has_a_sentence_of_its_own() -> None:
    for kind, (code, _detail) in REFUSED_KINDS.items():
        assert code in REFUSED, kind


def test_an_mp4_of_sound_alone_is_cleaned_as_a_recording_whatever_its_brand() -> None:
    dirty, tokens = dirty_m4a()
    generic = dirty[:8] + b"isom" + dirty[12:]
    assert refine(sniff(generic[:65536]), generic) == "m4a"
    out = io.BytesIO()
    report = clean(io.BytesIO(generic), out, name_hint="voice.mp4")
    assert report.kind == "m4a"
    assert not any(token.encode() in out.getvalue() for token in tokens.values())


def test_a_text_that_looks_like_a_quicktime_box_is_still_text() -> None:
    text = b"The free market is not free for the women on the line.\n" * 20
    assert sniff(text) == "text"
