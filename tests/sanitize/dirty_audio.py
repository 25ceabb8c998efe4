"""Build dirty recordings in memory, each with a unique token in every identifying place.

No encoder is needed: MPEG frames, FLAC frames, Ogg Opus pages, MP4 atoms and
RIFF chunks are assembled by hand around silence, and the tags are written with
mutagen or by hand where a format's oddities are the point. Every dirty_* builder
returns (bytes, tokens).
"""

from __future__ import annotations

import base64
import io
import struct

from mutagen.apev2 import APEv2
from mutagen.id3 import APIC, COMM, ID3, TIT2, TPE1, TXXX
from mutagen.ogg import OggPage

from tests.sanitize.dirty_media import small_jpeg, tokens_for

# -- Recordings -------------------------------------------------------------------

# MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, mono, no padding: 417 bytes of silence each.
MP3_FRAME = b"\xff\xfb\x90\xc0" + bytes(413)


def dirty_mp3(frames: int = 80) -> tuple[bytes, dict[str, str]]:
    t = tokens_for("MP3", "artist", "title", "comment", "custom", "picture", "ape")
    buf = io.BytesIO(MP3_FRAME * frames)
    tags = ID3()
    tags.add(TPE1(encoding=3, text=[t["artist"]]))
    tags.add(TIT2(encoding=3, text=[t["title"]]))
    tags.add(COMM(encoding=3, lang="eng", desc="", text=[t["comment"]]))
    tags.add(TXXX(encoding=3, desc="note", text=[t["custom"]]))
    tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="cover",
                  data=small_jpeg(comment=t["picture"])))
    tags.save(buf, v1=2)
    ape = APEv2()
    ape["Performer"] = t["ape"]
    ape.save(buf)
    return buf.getvalue(), t


def _flac_crc8(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _flac_crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def flac_silence(frames: int) -> tuple[bytes, bytes]:
    """(STREAMINFO body, audio frames): mono 16-bit 44.1 kHz, 4096-sample CONSTANT frames."""
    audio = bytearray()
    for number in range(frames):
        header = bytes([0xFF, 0xF8, 0xC9, 0x08, number])
        header += bytes([_flac_crc8(header)])
        frame = header + b"\x00" + b"\x00\x00"  # CONSTANT subframe, sample value 0
        audio += frame + struct.pack(">H", _flac_crc16(frame))
    samples = frames * 4096
    packed = (44100 << 44) | (0 << 41) | (15 << 36) | samples
    info = struct.pack(">HHHBHB", 4096, 4096, 0, 0, 0, 0)[:10] + packed.to_bytes(8, "big")
    return info + bytes(16), bytes(audio)


def picture_block(data: bytes, description: str = "") -> bytes:
    desc = description.encode()
    return (struct.pack(">I", 3) + struct.pack(">I", 10) + b"image/jpeg"
            + struct.pack(">I", len(desc)) + desc + struct.pack(">IIII", 16, 16, 24, 0)
            + struct.pack(">I", len(data)) + data)


def vorbis_comments(vendor: str, comments: list[str]) -> bytes:
    out = struct.pack("<I", len(vendor.encode())) + vendor.encode()
    out += struct.pack("<I", len(comments))
    for comment in comments:
        out += struct.pack("<I", len(comment.encode())) + comment.encode()
    return out


def dirty_flac(frames: int = 20) -> tuple[bytes, dict[str, str]]:
    t = tokens_for("FLAC", "vendor", "artist", "comment", "picture", "application")
    info, audio = flac_silence(frames)
    blocks = [
        (0, info),
        (4, vorbis_comments(t["vendor"], [f"ARTIST={t['artist']}", f"COMMENT={t['comment']}"])),
        (6, picture_block(small_jpeg(comment=t["picture"]), "front")),
        (2, b"riff" + t["application"].encode()),
        (1, bytes(64)),
    ]
    out = bytearray(b"fLaC")
    for index, (kind, body) in enumerate(blocks):
        last = 0x80 if index == len(blocks) - 1 else 0
        out += bytes([kind | last]) + len(body).to_bytes(3, "big") + body
    return bytes(out) + audio, t


def _ogg_page(serial: int, sequence: int, packets: list[bytes], position: int,
              first: bool = False, last: bool = False) -> bytes:
    page = OggPage()
    page.serial, page.sequence, page.position = serial, sequence, position
    page.packets = packets
    page.first, page.last = first, last
    return page.write()


def dirty_opus(packets: int = 100) -> tuple[bytes, dict[str, str]]:
    """Ogg Opus (20 ms empty packets) with tags, a picture and a second stream."""
    t = tokens_for("OPUS", "vendor", "artist", "comment", "picture", "otherstream")
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, 312, 48000, 0, 0)
    picture = base64.b64encode(picture_block(small_jpeg(comment=t["picture"]))).decode()
    tags = b"OpusTags" + vorbis_comments(t["vendor"], [
        f"ARTIST={t['artist']}", f"COMMENT={t['comment']}",
        f"METADATA_BLOCK_PICTURE={picture}"])
    serial, other = 0x1234, 0x5678
    pages = [
        _ogg_page(serial, 0, [head], 0, first=True),
        _ogg_page(other, 0, [b"fishead\x00" + t["otherstream"].encode()], 0, first=True),
        _ogg_page(serial, 1, [tags], 0),
    ]
    sequence = 2
    done = 0
    while done < packets:
        batch = min(50, packets - done)
        done += batch
        pages.append(_ogg_page(serial, sequence, [b"\xf8"] * batch, 312 + done * 960,
                               last=done == packets))
        sequence += 1
    pages.append(_ogg_page(other, 1, [t["otherstream"].encode()], 0, last=True))
    return b"".join(pages), t


def _box(kind: bytes, *parts: bytes) -> bytes:
    body = b"".join(parts)
    return struct.pack(">I", len(body) + 8) + kind + body


def _full(version: int = 0, flags: int = 0) -> bytes:
    return struct.pack(">I", (version << 24) | flags)


M4A_LOCATION = "+12.3456+065.4321/"


def dirty_m4a(samples: int = 43) -> tuple[bytes, dict[str, str]]:
    """An M4A (AAC-LC framing, silent payload) with iTunes tags, cover art, a place and
    precise dates; a 'free' atom before mdat makes every chunk offset move on cleaning."""
    t = tokens_for("M4A", "artist", "comment", "cover", "free", "quicktime")
    when = 3_700_000_000  # seconds since 1904: a precise recording time
    duration = samples * 1024
    frame = b"\x21\x10\x04\x60\x8c\x1c"
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = _box(b"mvhd", _full(), struct.pack(">IIII", when, when, 44100, duration),
                struct.pack(">IH10x", 0x10000, 0x100), matrix, bytes(24), struct.pack(">I", 2))
    tkhd = _box(b"tkhd", _full(0, 7), struct.pack(">III4xI8x", when, when, 1, duration),
                struct.pack(">HHHH", 0, 0, 0x100, 0), matrix, struct.pack(">II", 0, 0))
    mdhd = _box(b"mdhd", _full(), struct.pack(">IIIIHH", when, when, 44100, duration, 0x55C4, 0))
    hdlr = _box(b"hdlr", _full(), b"\x00\x00\x00\x00soun", bytes(12), b"SoundHandler\x00")
    esds = _box(b"esds", _full(), bytes.fromhex(
        "031900000004114015000000000000000000000005021208060102"))
    mp4a = _box(b"mp4a", bytes(6), struct.pack(">H", 1), bytes(8),
                struct.pack(">HHHHI", 1, 16, 0, 0, 44100 << 16), esds)
    stsd = _box(b"stsd", _full(), struct.pack(">I", 1), mp4a)
    stts = _box(b"stts", _full(), struct.pack(">III", 1, samples, 1024))
    stsc = _box(b"stsc", _full(), struct.pack(">IIII", 1, 1, samples, 1))
    stsz = _box(b"stsz", _full(), struct.pack(">II", 0, samples),
                struct.pack(">I", len(frame)) * samples)
    dinf = _box(b"dinf", _box(b"dref", _full(), struct.pack(">I", 1),
                              _box(b"url ", _full(0, 1))))
    ilst = _box(b"ilst",
                _box(b"\xa9ART", _box(b"data", struct.pack(">II", 1, 0), t["artist"].encode())),
                _box(b"\xa9cmt", _box(b"data", struct.pack(">II", 1, 0), t["comment"].encode())),
                _box(b"covr", _box(b"data", struct.pack(">II", 13, 0),
                                   small_jpeg(comment=t["cover"]))))
    meta = _box(b"meta", _full(), _box(b"hdlr", _full(), bytes(4), b"mdirappl", bytes(9)), ilst)
    xyz = _box(b"\xa9xyz", struct.pack(">HH", len(M4A_LOCATION), 0x15C7), M4A_LOCATION.encode())
    udta = _box(b"udta", xyz, meta)
    qt_meta = _box(b"meta", _full(), _box(b"keys", _full(), struct.pack(">I", 1),
                                          _box(b"mdta", t["quicktime"].encode())))

    def moov(chunk_offset: int) -> bytes:
        stco = _box(b"stco", _full(), struct.pack(">II", 1, chunk_offset))
        stbl = _box(b"stbl", stsd, stts, stsc, stsz, stco)
        minf = _box(b"minf", _box(b"smhd", _full(), bytes(4)), dinf, stbl)
        trak = _box(b"trak", tkhd, _box(b"mdia", mdhd, hdlr, minf))
        return _box(b"moov", mvhd, trak, udta, qt_meta)

    ftyp = _box(b"ftyp", b"M4A ", struct.pack(">I", 0), b"M4A mp42isom")
    free = _box(b"free", t["free"].encode().ljust(64, b"\0"))
    mdat_start = len(ftyp) + len(moov(0)) + len(free) + 8
    data = ftyp + moov(mdat_start) + free + _box(b"mdat", frame * samples)
    return data, t


def dirty_wav(odd: bool = False) -> tuple[bytes, dict[str, str]]:
    """PCM with bext, LIST/INFO, iXML before the audio and an id3 chunk after it."""
    t = tokens_for("WAV", "bext", "artist", "comment", "ixml", "id3")
    channels, bits = (1, 8) if odd else (1, 16)
    fmt = struct.pack("<HHIIHH", 1, channels, 8000, 8000 * channels * bits // 8,
                      channels * bits // 8, bits)
    audio = bytes(range(256)) * 40 + (b"\x80" if odd else b"")

    def chunk(cid: bytes, body: bytes) -> bytes:
        return cid + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) & 1 else b"")

    tags = ID3()
    tags.add(TPE1(encoding=3, text=[t["id3"]]))
    id3 = io.BytesIO()
    tags.save(id3, padding=lambda info: 0)
    info = b"INFO" + chunk(b"IART", t["artist"].encode() + b"\x00") + chunk(
        b"ICMT", t["comment"].encode() + b"\x00")
    body = (b"WAVE" + chunk(b"bext", t["bext"].encode().ljust(256, b"\0")) + chunk(b"fmt ", fmt)
            + chunk(b"LIST", info) + chunk(b"iXML", f"<BWFXML>{t['ixml']}</BWFXML>".encode())
            + chunk(b"data", audio) + chunk(b"id3 ", id3.getvalue()))
    return b"RIFF" + struct.pack("<I", len(body)) + body, t
