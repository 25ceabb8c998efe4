"""The ephemeral spool: noise on disk, and tampering is always noticed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from portal.crypto.spool import (
    PIECE,
    SpoolCorrupt,
    SpoolReader,
    SpoolWriter,
    derive_key,
    new_key,
    read_all,
    write_all,
)


@pytest.mark.parametrize("size", [0, 1, PIECE - 1, PIECE, PIECE + 1, 3 * PIECE + 17])
def test_round_trip_at_piece_boundaries(tmp_path: Path, size: int):
    key = new_key()
    data = os.urandom(size)
    write_all(tmp_path / "s", key, data)
    assert read_all(tmp_path / "s", key) == data
    with SpoolReader(tmp_path / "s", key) as reader:
        pieces = []
        while chunk := reader.read(1000):
            pieces.append(chunk)
    assert b"".join(pieces) == data


def test_plaintext_is_not_on_disk(tmp_path: Path):
    write_all(tmp_path / "s", new_key(), b"SECRET-PLAINTEXT " * 10_000)
    assert b"SECRET" not in (tmp_path / "s").read_bytes()
    assert oct((tmp_path / "s").stat().st_mode & 0o777) == "0o600"


def test_wrong_key_is_refused(tmp_path: Path):
    write_all(tmp_path / "s", new_key(), b"data")
    with pytest.raises(SpoolCorrupt):
        read_all(tmp_path / "s", new_key())


def test_truncation_is_noticed(tmp_path: Path):
    key = new_key()
    write_all(tmp_path / "s", key, os.urandom(3 * PIECE))
    raw = (tmp_path / "s").read_bytes()
    # Cut exactly at a piece boundary: without the final-piece flag this would pass.
    first_piece_end = 8 + 4 + PIECE + 16
    (tmp_path / "t").write_bytes(raw[:first_piece_end])
    with pytest.raises(SpoolCorrupt):
        read_all(tmp_path / "t", key)


def test_flipped_bit_is_noticed(tmp_path: Path):
    key = new_key()
    write_all(tmp_path / "s", key, b"x" * 1000)
    raw = bytearray((tmp_path / "s").read_bytes())
    raw[20] ^= 1
    (tmp_path / "s").write_bytes(bytes(raw))
    with pytest.raises(SpoolCorrupt):
        read_all(tmp_path / "s", key)


def test_abort_deletes_and_existing_files_are_never_overwritten(tmp_path: Path):
    writer = SpoolWriter(tmp_path / "s", new_key())
    writer.write(b"partial")
    writer.abort()
    assert not (tmp_path / "s").exists()
    (tmp_path / "taken").write_bytes(b"someone else's")
    with pytest.raises(FileExistsError):
        SpoolWriter(tmp_path / "taken", new_key())


def test_derived_keys_differ_per_purpose():
    master = new_key()
    assert derive_key(master, "file-0") != derive_key(master, "file-1")
    assert derive_key(master, "file-0") == derive_key(master, "file-0")
