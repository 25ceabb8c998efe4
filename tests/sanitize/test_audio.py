"""Recording cleaning: no name, note, picture, place or date survives; the sound does,
byte for byte; a long WAV streams through in constant memory."""

from __future__ import annotations

import base64
import io
import struct
import zlib

import mutagen
import pytest
from mutagen.apev2 import APEBinaryValue, APEv2
from mutagen.flac import FLAC
from mutagen.id3 import ID3, TPE1
from mutagen.mp4 import MP4
from mutagen.ogg import OggPage
from mutagen.oggopus import OggOpus

from portal.sanitize import (
    CleaningRefused,
    LimitExceeded,
    Limits,
    VerificationFailed,
    clean_bytes,
    clean_isolated,
)
from portal.sanitize import clean as clean_in_process
from portal.sanitize.verify.audio import WavStreamCheck
from tests.sanitize import dirty_audio, dirty_media
from tests.sanitize.scan import find_tokens

MiB = 1024 * 1024
DIRTY = {
    "mp3": (dirty_audio.dirty_mp3, "song.mp3", {"audio-tags", "cover-art"}),
    "flac": (dirty_audio.dirty_flac, "take.flac", {"audio-tags", "cover-art", "software"}),
    "ogg": (dirty_audio.dirty_opus, "memo.opus", {"audio-tags", "cover-art", "software"}),
    "m4a": (dirty_audio.dirty_m4a, "memo.m4a", {"audio-tags", "cover-art", "gps",
                                                "recording-dates"}),
    "wav": (dirty_audio.dirty_wav, "take.wav", {"audio-tags", "wav-chunks"}),
}


def codes(report: object) -> set[str]:
    return {finding.code for finding in report.removed}  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", sorted(DIRTY))
def test_no_planted_token_survives_and_the_sound_does(kind: str) -> None:
    build, name, expected = DIRTY[kind]
    dirty, tokens = build()
    assert len(find_tokens(dirty, list(tokens.values()))) == len(tokens)
    cleaned, report = clean_bytes(dirty, name_hint=name)
    assert find_tokens(cleaned, list(tokens.values())) == []
    assert expected <= codes(report)
    assert report.kind == kind
    before, after = mutagen.File(io.BytesIO(dirty)), mutagen.File(io.BytesIO(cleaned))
    assert after is not None and not after.tags
    assert after.info.length == pytest.approx(before.info.length, abs=0.03)


def test_mp3_keeps_exactly_its_audio_frames() -> None:
    dirty, _ = dirty_audio.dirty_mp3(frames=80)
    cleaned, _ = clean_bytes(dirty, name_hint="song.mp3")
    assert cleaned == dirty_audio.MP3_FRAME * 80


def test_mp3_with_a_large_ape_cover_is_not_mistaken_for_lost_sound() -> None:
    dirty, _ = dirty_audio.dirty_mp3()
    buf = io.BytesIO(dirty)
    ape = APEv2(buf)
    ape["Cover Art (Front)"] = APEBinaryValue(b"cover.jpg\x00" + bytes(300_000))
    ape.save(buf)
    cleaned, report = clean_bytes(buf.getvalue(), name_hint="song.mp3")
    assert cleaned == dirty_audio.MP3_FRAME * 80
    assert "cover-art" in codes(report)


def test_flac_keeps_only_streaminfo_and_its_frames() -> None:
    dirty, _ = dirty_audio.dirty_flac(frames=20)
    _, frames = dirty_audio.flac_silence(20)
    cleaned, _ = clean_bytes(dirty, name_hint="take.flac")
    assert cleaned.endswith(frames)
    assert cleaned[4] == 0x80  # STREAMINFO, marked as the last metadata block
    assert [type(b).__name__ for b in FLAC(io.BytesIO(cleaned)).metadata_blocks] == ["StreamInfo"]


def test_flac_behind_an_id3_tag_that_mentions_flac_is_found() -> None:
    dirty, tokens = dirty_audio.dirty_flac()
    tags = ID3()
    tags.add(TPE1(encoding=3, text=[f"fLaC {tokens['artist']}"]))
    leading = io.BytesIO()
    tags.save(leading)
    # The sniffer calls any file opening with "ID3" an MP3; the FLAC cleaner is asked directly.
    cleaned, _ = clean_bytes(leading.getvalue() + dirty, name_hint="take.flac", kind="flac")
    assert find_tokens(cleaned, list(tokens.values())) == []
    assert cleaned.startswith(b"fLaC\x80")


def test_ogg_keeps_one_stream_with_an_empty_comment_and_a_new_serial() -> None:
    dirty, _ = dirty_audio.dirty_opus()
    cleaned, _ = clean_bytes(dirty, name_hint="memo.opus")
    pages = []
    buf = io.BytesIO(cleaned)
    while buf.tell() < len(cleaned):
        pages.append(OggPage(buf))
    assert len({page.serial for page in pages}) == 1
    assert pages[0].serial not in (0x1234, 0x5678)
    audio = OggOpus(io.BytesIO(cleaned))
    assert audio.tags is not None
    assert audio.tags.vendor == "" and not audio.tags


def test_m4a_chunk_offsets_still_point_at_the_same_sound() -> None:
    dirty, _ = dirty_audio.dirty_m4a()
    cleaned, _ = clean_bytes(dirty, name_hint="memo.m4a")
    frame = b"\x21\x10\x04\x60\x8c\x1c"
    stco = cleaned.index(b"stco")
    offset = struct.unpack(">I", cleaned[stco + 12 : stco + 16])[0]
    assert cleaned[offset : offset + len(frame) * 43] == frame * 43
    assert dirty_audio.M4A_LOCATION.encode() not in cleaned
    assert b"udta" not in cleaned and b"free" not in cleaned
    mvhd = cleaned.index(b"mvhd")
    assert cleaned[mvhd + 8 : mvhd + 16] == bytes(8)  # creation and modification times
    info = MP4(io.BytesIO(cleaned)).info
    assert info is not None and info.length == pytest.approx(43 * 1024 / 44100, abs=0.01)


def test_m4a_with_a_video_track_is_refused() -> None:
    dirty, _ = dirty_audio.dirty_m4a()
    with pytest.raises(CleaningRefused) as refused:
        clean_bytes(dirty.replace(b"soun", b"vide"), name_hint="clip.m4a")
    assert refused.value.code == "unknown-type"


@pytest.mark.parametrize("odd", [False, True])
def test_wav_keeps_only_format_and_audio_chunks(odd: bool) -> None:
    dirty, _ = dirty_audio.dirty_wav(odd=odd)
    cleaned, report = clean_bytes(dirty, name_hint="take.wav")
    audio = bytes(range(256)) * 40 + (b"\x80" if odd else b"")
    fmt_size = struct.unpack("<I", cleaned[16:20])[0]
    assert cleaned[12:16] == b"fmt " and fmt_size == 16
    assert cleaned[36:40] == b"data" and struct.unpack("<I", cleaned[40:44])[0] == len(audio)
    assert cleaned[44 : 44 + len(audio)] == audio
    assert len(cleaned) == 44 + len(audio) + (1 if odd else 0)
    assert struct.unpack("<I", cleaned[4:8])[0] == len(cleaned) - 8
    assert any(f.code == "wav-chunks" and f.detail == "bext, LIST, iXML, id3"
               for f in report.removed)
    check = WavStreamCheck()
    for start in range(0, len(cleaned), 7):  # any piece size
        check.feed(cleaned[start : start + 7])
    check.close()


def _wav(*chunks: bytes) -> bytes:
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


FMT = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16)


@pytest.mark.parametrize("dirty,code", [
    (_wav(FMT, b"data" + struct.pack("<I", 1000) + bytes(10)), "malformed"),  # cut short
    (_wav(b"data" + struct.pack("<I", 4) + bytes(4), FMT), "malformed"),  # data before fmt
    (_wav(FMT, b"data" + struct.pack("<I", 0xFFFFFFFF)), "unknown-type"),  # RF64 marker
    (b"RF64" + bytes(4) + b"WAVE" + FMT, "unknown-type"),
    (_wav(FMT), "malformed"),  # no data at all
    (_wav(FMT, b"data" + struct.pack("<I", 0) + bytes(100)), "malformed"),  # length missing
])
def test_broken_wav_is_refused(dirty: bytes, code: str) -> None:
    with pytest.raises(CleaningRefused) as refused:
        clean_bytes(dirty, name_hint="broken.wav")
    assert refused.value.code == code


def test_wav_data_larger_than_the_input_limit_is_refused() -> None:
    dirty = _wav(FMT, b"data" + struct.pack("<I", 5 * MiB) + bytes(64))
    with pytest.raises(LimitExceeded):
        clean_bytes(dirty, name_hint="huge.wav", limits=Limits(max_input_bytes=MiB))


@pytest.mark.parametrize("stream,reason", [
    (_wav(FMT, b"LIST" + struct.pack("<I", 4) + b"INFO", b"data" + struct.pack("<I", 2) + b"ab"),
     "chunk"),
    (_wav(FMT, b"data" + struct.pack("<I", 2) + b"ab") + b"junk", "after"),
    (_wav(FMT, b"data" + struct.pack("<I", 4) + b"ab"), "incomplete"),
    (b"RIFF" + struct.pack("<I", 99) + b"WAVE" + FMT + b"data" + struct.pack("<I", 0), "size"),
    (_wav(b"fmt " + struct.pack("<IHHIIHHH", 18, 1, 1, 8000, 16000, 2, 16, 0),
          b"data" + struct.pack("<I", 0)), "extra"),
])
def test_wav_stream_check_refuses_anything_but_format_and_audio(stream: bytes, reason: str) -> None:
    check = WavStreamCheck()
    with pytest.raises(VerificationFailed, match=reason):
        check.feed(stream)
        check.close()


def test_wav_through_the_in_process_streaming_path() -> None:
    dirty, tokens = dirty_audio.dirty_wav()
    out = io.BytesIO()
    report = clean_in_process(io.BytesIO(dirty), out, name_hint="take.wav")
    assert find_tokens(out.getvalue(), list(tokens.values())) == []
    assert "wav-chunks" in codes(report)


def test_wav_through_the_isolated_cleaner() -> None:
    dirty, tokens = dirty_audio.dirty_wav(odd=True)
    out = io.BytesIO()
    report = clean_isolated(io.BytesIO(dirty), out, name_hint="take.wav")
    assert find_tokens(out.getvalue(), list(tokens.values())) == []
    assert report.kind == "wav" and "audio-tags" in codes(report)


class _SyntheticWav(io.RawIOBase):
    """A WAV of any size, made up as it is read: a tagged header, then a repeating tone."""

    def __init__(self, data_size: int) -> None:
        info = b"INFO" + b"IART" + struct.pack("<I", 16) + b"ZQBIGWAVARTIST\x00\x00"
        self._head = (b"RIFF" + struct.pack("<I", 4 + 8 + len(info) + len(FMT) + 8 + data_size)
                      + b"WAVE" + b"LIST" + struct.pack("<I", len(info)) + info + FMT
                      + b"data" + struct.pack("<I", data_size))
        self._left = data_size
        self._block = bytes(range(256)) * 256

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size], self._head = self._head[:size], self._head[size:]
            return size
        size = min(len(buffer), self._left, len(self._block))
        buffer[:size] = self._block[:size]
        self._left -= size
        return size


class _CheckingSink(io.RawIOBase):
    def __init__(self) -> None:
        self.written = 0
        self.head = b""
        self.check = WavStreamCheck()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.written += len(data)
        self.head = (self.head + data[:4096])[:4096]
        self.check.feed(data)
        return len(data)


def test_long_wav_streams_through_the_isolated_cleaner_in_constant_memory() -> None:
    size = 300 * MiB
    sink = _CheckingSink()
    # 160 MiB of address space cannot hold the 300 MiB recording: it must stream.
    limits = Limits(max_input_bytes=320 * MiB, max_output_bytes=320 * MiB,
                    memory_bytes=160 * MiB)
    source = io.BufferedReader(_SyntheticWav(size))  # type: ignore[type-var]
    report = clean_isolated(source, sink, name_hint="interview.wav",  # type: ignore[arg-type]
                            limits=limits)
    sink.check.close()
    assert sink.written == 44 + size
    assert b"ZQBIGWAVARTIST" not in sink.head and b"LIST" not in sink.head
    assert "wav-chunks" in codes(report)


@pytest.mark.parametrize("name", ["dirty.mp3", "dirty.flac", "dirty.ogg", "dirty.wav"])
def test_mat2_recordings_lose_their_tags(name: str) -> None:
    dirty = dirty_media.corpus_file(name)
    assert dirty_media.identifying_tags(dirty)
    cleaned, report = clean_bytes(dirty, name_hint=name)
    assert dirty_media.identifying_tags(cleaned) == {}
    assert find_tokens(cleaned, ["jvoisin", "harmfull", "Thank you for using MAT"]) == []
    before, after = mutagen.File(io.BytesIO(dirty)), mutagen.File(io.BytesIO(cleaned))
    assert after is not None
    assert after.info.length == pytest.approx(before.info.length, abs=0.05)
    assert "audio-tags" in codes(report)


@pytest.mark.parametrize("build,name", [(dirty_audio.dirty_mp3, "cut.mp3"),
                                        (dirty_audio.dirty_flac, "cut.flac"),
                                        (dirty_audio.dirty_opus, "cut.opus"),
                                        (dirty_audio.dirty_m4a, "cut.m4a")])
def test_recording_cut_inside_its_tags_is_refused(build: object, name: str) -> None:
    dirty, _ = build()  # type: ignore[operator]
    with pytest.raises(CleaningRefused) as refused:
        clean_bytes(dirty[:300], name_hint=name)
    assert refused.value.code in ("malformed", "unknown-type")


def test_mp3_cut_in_its_audio_keeps_the_whole_frames_before_the_cut() -> None:
    dirty, tokens = dirty_audio.dirty_mp3(frames=80)
    audio_start = dirty.index(dirty_audio.MP3_FRAME)
    cleaned, _ = clean_bytes(dirty[: audio_start + 417 * 40 + 100], name_hint="cut.mp3")
    assert cleaned == dirty_audio.MP3_FRAME * 40
    assert find_tokens(cleaned, list(tokens.values()), exiftool=False) == []


def test_mp3_through_the_isolated_cleaner() -> None:
    dirty, tokens = dirty_audio.dirty_mp3()
    cleaned, _ = dirty_media.clean_isolated_bytes(dirty, "song.mp3")
    assert find_tokens(cleaned, list(tokens.values())) == []


# Found by the coverage-guided fuzzer (tests/sanitize/test_fuzz.py): an M4A whose media
# header claims a duration so large that mutagen's seek overflows. It was refused only
# because the child died; in the process it raised OverflowError.
OVERFLOWING_M4A = zlib.decompress(base64.b64decode(
    "eNpjYGCQSSupLPA1cVRgYGBiANGZxfm5QGwE5Avk5ueXMTAw5OSWZaQwoADmFwwMjDoMJINoQgoY55QUNQ8ESMwG"
    "2h5Tkg32KTuyixioAhgtclMyE4EMhdwUWGj++Q8Ba1wYGIzXhR4BC+pmpOQUwXQV55fmIZsSDOSneCTmpeSkgtU8"
    "zs3MSwPSAsW56FHEwKCSApGUSSlKTUPyDU9pUY4ClL28uCQpBxQxxSXFKUhqvHMLLBIxQoCRQQBEgdwLBOqpxSnF"
    "4NQgCSRYBB1EkSxnZRLiYGNkArutpKQYSQbIL05G4osA+VVoTgeqSc5H4mvkpiSWEApiAPDrf4E="
))


def test_an_m4a_whose_sizes_overflow_is_refused_as_damaged() -> None:
    with pytest.raises(CleaningRefused) as refused:
        clean_bytes(OVERFLOWING_M4A, name_hint="x.m4a")
    assert refused.value.code == "malformed"
