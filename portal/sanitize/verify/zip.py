"""A bounded zip reader of the verifier's own, for cleaned office documents.

A zip archive has many places to hide bytes that ordinary readers skip: the
archive comment, member comments, "extra" fields, gaps between members, data
before the first member, duplicate names that different readers resolve
differently, and member timestamps that record when (and in which time zone)
a file was last written. A cleaned document needs none of them, so this reader
accepts only the plain layout a careful writer produces and refuses the rest:

* members back to back from offset 0, then the central directory, then the
  end record, with nothing before, between or after;
* no archive or member comment, no extra field, no encryption, no zip64, no
  multi-disk archive; stored or deflated members only;
* every member timestamp 1980-01-01 00:00:00 (the zip epoch), so the archive
  says nothing about when it was written;
* safe, unique member names (no absolute paths, no "..", no backslashes);
* the member count, total expanded size and per-member ratio from `Limits`,
  checked from the central directory before anything is inflated, and again
  while inflating so forged sizes are caught.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import LimitExceeded
from ..limits import Limits
from .common import fail, safe_name

_EOCD = struct.Struct("<4sHHHHIIH")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_LOCAL = struct.Struct("<4sHHHHHIIIHH")
# The zip epoch, 1980-01-01 00:00:00, as DOS date and time fields.
EPOCH_DATE, EPOCH_TIME = 0x0021, 0x0000
# Flag bits a plain writer may set: 3 (sizes in a trailing data descriptor) and
# 11 (UTF-8 names). Bit 1-2 only describe deflate settings and are harmless.
_ALLOWED_FLAGS = 0x0008 | 0x0800 | 0x0006
# Ratio checks start above this size: small parts (styles, empty sheets) can
# compress far better than a bomb threshold without being a danger.
RATIO_FLOOR = 1024 * 1024


@dataclass(frozen=True)
class Member:
    name: str
    method: int
    flags: int
    crc: int
    compressed_size: int
    size: int
    offset: int
    data_start: int


def read_members(data: bytes, limits: Limits) -> list[Member]:
    """Check the archive's layout and return its members in file order."""
    if len(data) < _EOCD.size or data[-_EOCD.size:][:4] != b"PK\x05\x06":
        fail("zip comment or data after the archive")
    _sig, disk, cd_disk, disk_entries, entries, cd_size, cd_offset, comment_len = (
        _EOCD.unpack(data[-_EOCD.size:])
    )
    if comment_len:
        fail("zip archive comment")
    if disk or cd_disk or disk_entries != entries:
        fail("multi-disk zip archive")
    if entries == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
        fail("zip64 archive")
    if entries > limits.max_zip_members:
        raise LimitExceeded(f"more than {limits.max_zip_members} zip members")
    if cd_offset + cd_size != len(data) - _EOCD.size or cd_size < entries * _CENTRAL.size:
        fail("inconsistent zip central directory")
    members = _read_central(data, cd_offset, cd_size, entries, limits)
    _check_layout(data, members, cd_offset)
    return members


def _read_central(
    data: bytes, pos: int, cd_size: int, entries: int, limits: Limits
) -> list[Member]:
    end = pos + cd_size
    members: list[Member] = []
    seen: set[str] = set()
    total = 0
    for _ in range(entries):
        if pos + _CENTRAL.size > end:
            fail("truncated zip central directory")
        (sig, _made_by, _needed, flags, method, mtime, mdate, crc, csize, usize, name_len,
         extra_len, comment_len, disk, _internal, _external, offset) = _CENTRAL.unpack_from(data, pos)
        if sig != b"PK\x01\x02":
            fail("damaged zip central directory")
        raw_name = data[pos + _CENTRAL.size : pos + _CENTRAL.size + name_len]
        name = _decode_name(raw_name, flags)
        shown = safe_name(name)
        if extra_len:
            fail(f"zip extra field on {shown}")
        if comment_len:
            fail(f"zip member comment on {shown}")
        _check_member_header(flags, method, mtime, mdate, shown)
        if disk or csize == 0xFFFFFFFF or usize == 0xFFFFFFFF or offset == 0xFFFFFFFF:
            fail(f"zip64 or multi-disk member {shown}")
        _check_name(name, shown)
        if name in seen:
            fail(f"duplicate zip member {shown}")
        seen.add(name)
        total += usize
        if total > limits.max_zip_expanded_bytes:
            raise LimitExceeded("zip expands beyond the size limit")
        if usize > RATIO_FLOOR and usize > max(csize, 1) * limits.max_zip_ratio:
            raise LimitExceeded(f"zip member {shown} compressed suspiciously well")
        members.append(Member(name, method, flags, crc, csize, usize, offset, 0))
        pos += _CENTRAL.size + name_len
    if pos != end:
        fail("data inside the zip central directory")
    return members


def _check_member_header(flags: int, method: int, mtime: int, mdate: int, shown: str) -> None:
    if flags & 0x0001 or flags & 0x0040 or flags & 0x2000:
        fail(f"encrypted zip member {shown}")
    if flags & ~_ALLOWED_FLAGS:
        fail(f"unexpected zip flags on {shown}")
    if method not in (0, 8):
        fail(f"unsupported zip compression on {shown}")
    if (mdate, mtime) != (EPOCH_DATE, EPOCH_TIME):
        fail(f"zip timestamp on {shown}")


def _decode_name(raw: bytes, flags: int) -> str:
    try:
        return raw.decode("utf-8") if flags & 0x0800 else raw.decode("ascii")
    except UnicodeDecodeError:
        fail("zip member name in an unknown encoding")


def _check_name(name: str, shown: str) -> None:
    parts = name.split("/")
    if (
        not name or name.startswith("/") or "\\" in name or ":" in name or "\x00" in name
        or any(part in ("..", ".") for part in parts)
        or any(not part for part in parts[:-1])
    ):
        fail(f"unsafe zip member name {shown}")


def _check_layout(data: bytes, members: list[Member], cd_offset: int) -> None:
    """Members must tile the file from offset 0 up to the central directory."""
    expected = 0
    for index, member in enumerate(members):
        shown = safe_name(member.name)
        if member.offset != expected:
            fail(f"hidden data before zip member {shown}")
        if member.offset + _LOCAL.size > cd_offset:
            fail(f"truncated zip member {shown}")
        (sig, _needed, flags, method, mtime, mdate, crc, csize, usize, name_len,
         extra_len) = _LOCAL.unpack_from(data, member.offset)
        if sig != b"PK\x03\x04":
            fail(f"damaged zip member {shown}")
        if extra_len:
            fail(f"zip extra field on {shown}")
        local_name = data[member.offset + _LOCAL.size : member.offset + _LOCAL.size + name_len]
        if _decode_name(local_name, flags) != member.name or flags != member.flags:
            fail(f"zip member {shown} disagrees with the directory")
        if method != member.method or (mdate, mtime) != (EPOCH_DATE, EPOCH_TIME):
            fail(f"zip member {shown} disagrees with the directory")
        if not flags & 0x0008 and (crc, csize, usize) != (
            member.crc, member.compressed_size, member.size
        ):
            fail(f"zip member {shown} disagrees with the directory")
        start = member.offset + _LOCAL.size + name_len
        expected = start + member.compressed_size
        if flags & 0x0008:
            expected = _skip_descriptor(data, expected, member, shown)
        if expected > cd_offset:
            fail(f"truncated zip member {shown}")
        members[index] = Member(
            member.name, member.method, member.flags, member.crc, member.compressed_size,
            member.size, member.offset, start,
        )
    if expected != cd_offset:
        fail("hidden data before the zip central directory")


def _skip_descriptor(data: bytes, pos: int, member: Member, shown: str) -> int:
    """A data descriptor repeats the CRC and sizes, optionally after a signature."""
    body = struct.pack("<III", member.crc, member.compressed_size, member.size)
    if data[pos : pos + 16] == b"PK\x07\x08" + body:
        return pos + 16
    if data[pos : pos + 12] == body:
        return pos + 12
    fail(f"damaged zip data descriptor on {shown}")


def iter_contents(data: bytes, members: list[Member]) -> Iterator[tuple[Member, bytes]]:
    """Inflate each member, holding it to its declared size and CRC."""
    for member in members:
        shown = safe_name(member.name)
        raw = data[member.data_start : member.data_start + member.compressed_size]
        if member.method == 0:
            if member.compressed_size != member.size:
                fail(f"zip member {shown} has inconsistent sizes")
            content = raw
        else:
            inflater = zlib.decompressobj(-15)
            try:
                content = inflater.decompress(raw, member.size + 1)
            except zlib.error:
                fail(f"damaged compressed data in {shown}")
            if len(content) != member.size or not inflater.eof or inflater.unused_data:
                fail(f"zip member {shown} has forged sizes")
        if zlib.crc32(content) != member.crc:
            fail(f"zip member {shown} fails its checksum")
        yield member, content
