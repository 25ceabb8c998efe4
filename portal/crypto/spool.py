"""The ephemeral spool: uploads touch the disk only encrypted under a key in memory.

Threat answered: a seized disk, a backup or a crash dump must not hold an
author's draft, even one that was only being uploaded or waiting for the author
to confirm it. (SecureDrop's `SecureTemporaryFile`, rebuilt with `cryptography`.)

Each spool file has its own 256-bit key, generated here and never written
anywhere by this module. The plaintext is cut into 64 KiB pieces, each sealed
with AES-256-GCM under a nonce made of its sequence number and a final-piece
flag (the STREAM construction), so pieces cannot be reordered, dropped or
truncated without the reader noticing. Without the key the file is noise; the
caller forgets the key when the request ends, or gives it to the author (see
`authors.pending`) so the server cannot read a waiting upload on its own.
"""

from __future__ import annotations

import io
import os
import secrets
import struct
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PIECE = 64 * 1024
KEY_BYTES = 32
_HEADER = b"PNSPOOL1"
_TAG = 16


class SpoolCorrupt(Exception):
    """The spool does not decrypt: wrong key, truncated, or altered."""


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def derive_key(master: bytes, purpose: str) -> bytes:
    """A separate key per spool file from one master key (HKDF-SHA256)."""
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose.encode("utf-8")
    ).derive(master)


def _nonce(index: int, final: bool) -> bytes:
    return struct.pack(">QI", index, 1 if final else 0)


class SpoolWriter(io.RawIOBase):
    """Encrypts everything written into `path`; `close()` seals the last piece.

    Writing fails if `path` exists (no overwrite of someone else's spool). The
    file is created 0600. `abort()` deletes it.
    """

    def __init__(self, path: Path, key: bytes) -> None:
        self.path = path
        self._aead = AESGCM(key)
        self._buffer = bytearray()
        self._index = 0
        self.size = 0
        self._sealed = True  # until the file exists, there is nothing to seal
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file = os.fdopen(fd, "wb")
        self._sealed = False
        self._file.write(_HEADER)

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        if self._sealed:
            raise ValueError("spool already sealed")
        self._buffer += data
        self.size += len(data)
        while len(self._buffer) > PIECE:
            self._seal(bytes(self._buffer[:PIECE]), final=False)
            del self._buffer[:PIECE]
        return len(data)

    def _seal(self, piece: bytes, final: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._index, final), piece, None)
        self._file.write(struct.pack(">I", len(sealed)))
        self._file.write(sealed)
        self._index += 1

    def close(self) -> None:
        if not self._sealed:
            self._seal(bytes(self._buffer), final=True)
            self._buffer.clear()
            self._sealed = True
            self._file.close()
        super().close()

    def abort(self) -> None:
        """Stop writing and delete the file; safe to call more than once."""
        self._sealed = True
        self._buffer.clear()
        if not self._file.closed:
            self._file.close()
        self.path.unlink(missing_ok=True)
        super().close()


class SpoolReader(io.RawIOBase):
    """Decrypts a spool file piece by piece; raises SpoolCorrupt on any tampering."""

    def __init__(self, path: Path, key: bytes) -> None:
        self._aead = AESGCM(key)
        self._file = open(path, "rb")
        if self._file.read(len(_HEADER)) != _HEADER:
            self._file.close()
            raise SpoolCorrupt("not a spool file")
        self._index = 0
        self._pending = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def _next_piece(self) -> bytes:
        raw_len = self._file.read(4)
        if len(raw_len) != 4:
            raise SpoolCorrupt("spool truncated")
        (length,) = struct.unpack(">I", raw_len)
        if length > PIECE + _TAG:
            raise SpoolCorrupt("spool piece too large")
        sealed = self._file.read(length)
        for final in (False, True):
            try:
                piece = self._aead.decrypt(_nonce(self._index, final), sealed, None)
            except InvalidTag:
                continue
            self._index += 1
            if final:
                self._done = True
                if self._file.read(1):
                    raise SpoolCorrupt("data after the final piece")
            return piece
        raise SpoolCorrupt("spool does not decrypt (wrong key or altered)")

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            chunks = [self._pending]
            self._pending = b""
            while not self._done:
                chunks.append(self._next_piece())
            return b"".join(chunks)
        while len(self._pending) < size and not self._done:
            self._pending += self._next_piece()
        chunk, self._pending = self._pending[:size], self._pending[size:]
        return chunk

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        # Also when the file could not be opened (a spool taken away meanwhile): the
        # half-made reader is closed by io's finalizer, and must not fail there.
        if hasattr(self, "_file"):
            self._file.close()
        super().close()


def read_all(path: Path, key: bytes) -> bytes:
    with SpoolReader(path, key) as reader:
        return reader.read()


def write_all(path: Path, key: bytes, data: bytes) -> None:
    writer = SpoolWriter(path, key)
    try:
        writer.write(data)
        writer.close()
    except BaseException:
        writer.abort()
        raise
