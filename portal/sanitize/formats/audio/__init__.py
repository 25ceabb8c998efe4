"""Recordings: keep the sound, drop every tag, picture and stray byte around it.

Threat: audio files carry names (artist, composer, "encoded by"), comments,
dates, the recording software and, in phone recordings, the place (M4A ©xyz);
cover pictures are whole images with their own metadata; and tag formats are
many (ID3v1, ID3v2, APEv2, Lyrics3, FLAC and Ogg comments, iTunes atoms), often
several in one file. Each format is therefore rebuilt from its audio structure
(allow-list), not scrubbed of known tags: MP3 keeps only MPEG audio frames,
FLAC only STREAMINFO, SEEKTABLE and the frames, Ogg only the audio stream's
pages with an empty comment header and a fresh stream serial, in every chained
part (`formats/audio/ogg.py`), M4A only the
atoms that describe and hold the sound (`formats/audio/mp4.py`), WAV only 'fmt ' and
'data', streamed so a long recording never has to fit in memory. mutagen reads
the tags for the report and re-reads the output to check the sound survived.
Everything happens in memory: no temporary file is ever written.
"""

from __future__ import annotations

import io
import struct
from typing import BinaryIO

import mutagen
from mutagen.apev2 import APENoHeaderError, APEv2
from mutagen.flac import FLAC
from mutagen.mp3 import MP3

from ...core import Context
from ...errors import CleaningRefused, LimitExceeded
from ...report import Report
from .mp4 import clean_m4a
from .ogg import clean_ogg
from .tags import check_duration, duration_of, report_tags

CHUNK = 64 * 1024


def clean_audio(src: BinaryIO, dst: BinaryIO, report: Report, ctx: Context) -> None:
    """Rebuild an MP3, FLAC, Ogg or M4A recording from its audio alone."""
    data = src.read()
    rebuild = {"mp3": _clean_mp3, "flac": _clean_flac, "m4a": clean_m4a,
               "ogg": lambda data, report: clean_ogg(data, report, ctx.limits)}
    try:
        cleaned = rebuild[ctx.kind](data, report)
    except CleaningRefused:
        raise
    except (mutagen.MutagenError, EOFError, ValueError, IndexError, KeyError, OverflowError,
            struct.error) as exc:
        raise CleaningRefused("malformed", f"{ctx.kind}: {type(exc).__name__}") from exc
    dst.write(cleaned)


# -- MP3 ----------------------------------------------------------------------

# Bitrates in kbit/s by (MPEG-1?, layer) and sample rates by version bits.
_BITRATES = {
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mpeg_frame_length(data: bytes, pos: int) -> int:
    """Length of the MPEG audio frame whose header starts at pos, or 0 if none does."""
    if pos + 4 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xE0 != 0xE0:
        return 0
    version = (data[pos + 1] >> 3) & 3
    layer = 4 - ((data[pos + 1] >> 1) & 3)
    bitrate_index = data[pos + 2] >> 4
    rate_index = (data[pos + 2] >> 2) & 3
    if version == 1 or layer == 4 or bitrate_index in (0, 15) or rate_index == 3:
        return 0  # reserved values, or free-format bitrate we cannot frame
    mpeg1 = version == 3
    bitrate = _BITRATES[(mpeg1, layer)][bitrate_index] * 1000
    rate = _SAMPLE_RATES[version][rate_index]
    padding = (data[pos + 2] >> 1) & 1
    if layer == 1:
        return (12 * bitrate // rate + padding) * 4
    if layer == 3 and not mpeg1:
        return 72 * bitrate // rate + padding
    return 144 * bitrate // rate + padding


def _clean_mp3(data: bytes, report: Report) -> bytes:
    audio = MP3(io.BytesIO(data))
    report_tags(audio.tags, report)
    try:
        report_tags(APEv2(io.BytesIO(data)), report)
    except APENoHeaderError:
        pass
    pos = _id3v2_end(data)  # the tag is skipped whole: its text may look like frames
    # Tags appended at the end go before the walk: a last frame cut short would
    # otherwise claim its full length and swallow the start of the tag (title,
    # artist) as if it were sound.
    end = _trailing_tags_start(data, pos)
    out = bytearray()
    in_sync = False
    while pos < end:
        length = _mpeg_frame_length(data, pos)
        # Right after a frame one valid header is enough; after skipped bytes the
        # next frame must follow too, so tag text cannot pass for audio.
        if length and pos + length <= end and (
            in_sync or pos + length == end or _mpeg_frame_length(data, pos + length)
        ):
            out += data[pos : pos + length]
            pos += length
            in_sync = True
            continue
        in_sync = False
        found = data.find(b"\xff", pos + 1, end)  # tags, junk, or a frame cut short: resync
        pos = found if found >= 0 else end
    if not out:
        raise CleaningRefused("malformed", "no MPEG audio frames")
    cleaned = bytes(out)
    # No length comparison here: without a Xing header mutagen estimates an MP3's
    # length from its size, which counts the tags (a 300 kB APE cover is 20 s).
    if duration_of(MP3(io.BytesIO(cleaned))) <= 0:
        raise CleaningRefused("malformed", "no MPEG audio frames")
    return cleaned


def _id3v2_end(data: bytes) -> int:
    """Where the audio starts after a leading ID3v2 tag (0 when there is none)."""
    if not data.startswith(b"ID3") or len(data) < 10:
        return 0
    size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
    return 10 + size + (10 if data[5] & 0x10 else 0)


# -- FLAC ---------------------------------------------------------------------

_FLAC_KEEP = {0: "STREAMINFO", 3: "SEEKTABLE"}


def _clean_flac(data: bytes, report: Report) -> bytes:
    audio = FLAC(io.BytesIO(data))
    report_tags(audio.tags, report)
    if audio.pictures:
        report.remove("cover-art", count=len(audio.pictures))
    pos = _id3v2_end(data)
    if data[pos : pos + 4] != b"fLaC":
        raise CleaningRefused("malformed", "no FLAC stream marker")
    pos += 4
    kept: list[bytes] = []
    last = False
    while not last:
        if pos + 4 > len(data):
            raise CleaningRefused("malformed", "FLAC metadata cut short")
        last = bool(data[pos] & 0x80)
        kind = data[pos] & 0x7F
        size = int.from_bytes(data[pos + 1 : pos + 4], "big")
        if pos + 4 + size > len(data):
            raise CleaningRefused("malformed", "FLAC metadata cut short")
        if kind in _FLAC_KEEP:
            kept.append(bytes([kind]) + data[pos + 1 : pos + 4 + size])
        elif kind in (2, 5):  # APPLICATION, CUESHEET
            report.remove("unknown-part", "APPLICATION" if kind == 2 else "CUESHEET")
        pos += 4 + size
    if not kept or kept[0][0] != 0:
        raise CleaningRefused("malformed", "FLAC without STREAMINFO first")
    kept[-1] = bytes([kept[-1][0] | 0x80]) + kept[-1][1:]
    end = _trailing_tags_start(data, pos)
    cleaned = b"fLaC" + b"".join(kept) + data[pos:end]
    check_duration(duration_of(audio), duration_of(FLAC(io.BytesIO(cleaned))))
    return cleaned


def _trailing_tags_start(data: bytes, audio_start: int) -> int:
    """Where the tags appended after the audio begin (len(data) if there are none).

    Players append ID3v1 (128 bytes, "TAG"), its extension "TAG+" (227 bytes just
    before it), Lyrics3 and APEv2, in any order and sometimes several: each is
    peeled off the end until none is left.
    """
    end = len(data)
    while True:
        start = _last_tag_start(data, audio_start, end)
        if start == end:
            return end
        end = start


def _last_tag_start(data: bytes, audio_start: int, end: int) -> int:
    """Where the one tag ending at `end` starts (`end` itself when none ends there)."""
    if end - 128 >= audio_start and data[end - 128 : end - 125] == b"TAG":
        if end - 128 - 227 >= audio_start and data[end - 355 : end - 351] == b"TAG+":
            return end - 355
        return end - 128
    if end - 32 >= audio_start and data[end - 32 : end - 24] == b"APETAGEX":
        size = int.from_bytes(data[end - 20 : end - 16], "little")
        has_header = bool(data[end - 9] & 0x80)
        start = end - size - (32 if has_header else 0)
        if audio_start <= start < end:
            return start
    if end - 15 >= audio_start and data[end - 9 : end] == b"LYRICS200":
        digits = data[end - 15 : end - 9]
        start = end - 15 - int(digits) if digits.isdigit() else -1
        if audio_start <= start and data[start : start + 11] == b"LYRICSBEGIN":
            return start
    if end - 9 >= audio_start and data[end - 9 : end] == b"LYRICSEND":
        start = data.rfind(b"LYRICSBEGIN", max(audio_start, end - 5100 - 9), end)
        if start >= 0:
            return start
    return end


# -- WAV (streaming) ----------------------------------------------------------

_MAX_FMT = 4096  # a format chunk is 16 to 40 bytes in practice
_MAX_LIST_PARSED = 1024 * 1024
_INFO_NAMES = {b"IART": "artist", b"INAM": "title", b"ICMT": "comment", b"ICRD": "date",
               b"ISFT": "software", b"IPRD": "album", b"IGNR": "genre", b"IENG": "engineer",
               b"ICOP": "copyright", b"ITRK": "track", b"IPRT": "track", b"ISBJ": "subject"}


def clean_wav(src: BinaryIO, dst: BinaryIO, report: Report, ctx: Context) -> None:
    """Copy a WAVE file's format and audio, and nothing else, in one pass."""
    header = _read_exact(src, 12)
    if header[:4] in (b"RF64", b"BW64"):
        raise CleaningRefused("unknown-type", "RF64 (WAV over 4 GiB)")
    if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
        raise CleaningRefused("malformed", "not a RIFF WAVE file")
    fmt: bytes | None = None
    dropped: dict[str, None] = {}
    while True:
        chunk = _read_exact(src, 8)
        if len(chunk) < 8:
            raise CleaningRefused("malformed", "no audio data")
        cid, size = chunk[:4], int.from_bytes(chunk[4:8], "little")
        if cid == b"fmt ":
            if fmt is not None or not 16 <= size <= _MAX_FMT:
                raise CleaningRefused("malformed", "WAV format chunk")
            fmt = _canonical_fmt(_read_exact(src, size + (size & 1))[:size])
        elif cid == b"data":
            break
        else:
            dropped[_chunk_name(cid)] = None
            _skip_or_read_tags(src, cid, size, report)
    if fmt is None:
        raise CleaningRefused("malformed", "WAV audio data before its format")
    if size == 0xFFFFFFFF:
        raise CleaningRefused("unknown-type", "RF64 (WAV over 4 GiB)")
    if size > ctx.limits.max_input_bytes:
        raise LimitExceeded(f"recording over {ctx.limits.max_input_bytes // (1024 * 1024)} MiB")
    riff_size = 4 + (8 + len(fmt)) + (8 + size + (size & 1))
    dst.write(b"RIFF" + riff_size.to_bytes(4, "little") + b"WAVE" + b"fmt "
              + len(fmt).to_bytes(4, "little") + fmt + b"data" + size.to_bytes(4, "little"))
    left = size
    while left:
        piece = src.read(min(CHUNK, left))
        if not piece:
            raise CleaningRefused("malformed", "recording cut short")
        dst.write(piece)
        left -= len(piece)
    if size & 1:
        dst.write(b"\x00")
        src.read(1)
    elif size == 0 and src.read(1):
        # A recorder that stopped before writing the length leaves 0 here: passing
        # the file on would silently hand the editors an empty recording.
        raise CleaningRefused("malformed", "the recording's length is missing from its header")
    while len(chunk := _read_exact(src, 8)) == 8:  # chunks after the audio are read and dropped
        dropped[_chunk_name(chunk[:4])] = None
        _skip_or_read_tags(src, chunk[:4], int.from_bytes(chunk[4:8], "little"), report)
    names = [n for n in dropped if n]
    if names:
        report.remove("wav-chunks", ", ".join(names))


def _canonical_fmt(body: bytes) -> bytes:
    """The format chunk with only the fields its format tag defines."""
    if len(body) < 16:
        raise CleaningRefused("malformed", "WAV format chunk")
    tag = int.from_bytes(body[0:2], "little")
    channels = int.from_bytes(body[2:4], "little")
    rate = int.from_bytes(body[4:8], "little")
    block_align = int.from_bytes(body[12:14], "little")
    if not channels or not rate or not block_align:
        raise CleaningRefused("malformed", "WAV format values")
    if tag in (1, 3, 6, 7):  # PCM, float, A-law, µ-law: no extension
        return body[:16]
    if tag == 0xFFFE:  # WAVE_FORMAT_EXTENSIBLE: 22 bytes of extension
        if len(body) < 40 or int.from_bytes(body[16:18], "little") < 22:
            raise CleaningRefused("malformed", "WAV extensible format chunk")
        return body[:16] + (22).to_bytes(2, "little") + body[18:40]
    if len(body) < 18:
        return body[:16]
    extra = int.from_bytes(body[16:18], "little")
    if 18 + extra > len(body):
        raise CleaningRefused("malformed", "WAV format chunk")
    return body[: 18 + extra]


def _skip_or_read_tags(src: BinaryIO, cid: bytes, size: int, report: Report) -> None:
    """Discard one chunk (reading it, since the stream cannot seek); name LIST/INFO tags."""
    total = size + (size & 1)
    if cid == b"LIST" and total <= _MAX_LIST_PARSED:
        body = _read_exact(src, total)
        if body[:4] == b"INFO":
            _report_info_list(body[4:size], report)
        return
    while total:
        piece = src.read(min(CHUNK, total))
        if not piece:
            return  # a chunk cut short at the end of the file: nothing more to drop
        total -= len(piece)


def _report_info_list(body: bytes, report: Report) -> None:
    names: list[str] = []
    pos = 0
    while pos + 8 <= len(body):
        cid, size = body[pos : pos + 4], int.from_bytes(body[pos + 4 : pos + 8], "little")
        value = body[pos + 8 : pos + 8 + size].split(b"\x00", 1)[0].decode("utf-8", "replace")
        name = _INFO_NAMES.get(cid, _chunk_name(cid))
        names.append(f"{name} “{value.strip()}”" if name == "artist" and value.strip() else name)
        pos += 8 + size + (size & 1)
    if names:
        report.remove("audio-tags", ", ".join(dict.fromkeys(n for n in names if n)))


def _chunk_name(cid: bytes) -> str:
    text = cid.decode("latin-1").strip()
    return text if text.isprintable() and text.isascii() else ""


def _read_exact(src: BinaryIO, size: int) -> bytes:
    parts = []
    while size > 0:
        piece = src.read(size)
        if not piece:
            break
        parts.append(piece)
        size -= len(piece)
    return b"".join(parts)
