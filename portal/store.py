"""Where ciphertext lives: one OpenPGP message per file, under a random name.

Promise: `Store.put_encrypted()` either leaves a complete, fsynced ciphertext
file (and its directory entry) under a name that says nothing about the
author, the submission or the order of arrival — or leaves nothing at all. The
server's only job here is to keep bytes it cannot read; names are 128 random
bits. Partial writes live in `.incoming/` until renamed, and are swept.

No Django imports: the root directory is passed in.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import BinaryIO

from portal.crypto.openpgp import EncryptionFailed, Keyring

NAME_RE = re.compile(r"^[0-9a-f]{32}\.gpg$")
# Below this much free space a failed gpg write is taken to be a full disk.
LOW_SPACE_BYTES = 1024 * 1024


class StoreError(Exception):
    """The store could not be written (disk full, unwritable, ...); nothing was kept."""


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Store:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.incoming = self.root / ".incoming"

    def ensure(self) -> None:
        try:
            self.incoming.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {self.incoming}: {exc.strerror}") from exc

    def path(self, name: str) -> Path:
        if not NAME_RE.match(name):
            raise ValueError("not a store name")
        return self.root / name

    def put_encrypted(self, keyring: Keyring, source: BinaryIO, recipients: list[str]) -> str:
        """Encrypt `source` to `recipients` into the store; return the new name.

        The file and the directory are fsynced before this returns, so a name
        handed to the database always refers to durable ciphertext.
        """
        self.ensure()
        name = secrets.token_hex(16) + ".gpg"
        partial = self.incoming / name
        try:
            keyring.encrypt_stream(source, partial, recipients)
            with open(partial, "rb") as handle:
                os.fsync(handle.fileno())
            os.chmod(partial, 0o600)
            os.rename(partial, self.root / name)
            fsync_dir(self.root)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            (self.root / name).unlink(missing_ok=True)
            raise StoreError(f"cannot write ciphertext: {exc.strerror or exc}") from exc
        except EncryptionFailed as exc:
            partial.unlink(missing_ok=True)
            # gpg reports a full disk as a failed write; say what really happened.
            if shutil.disk_usage(self.incoming).free < LOW_SPACE_BYTES:
                raise StoreError("the disk is full") from exc
            raise
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return name

    def receive(self, source: BinaryIO, limit: int, accept: Callable[[Path], bool],
                replace: str | None = None) -> str:
        """Store bytes that arrive already encrypted (from an editor's own machine).

        At most `limit` bytes are read; `accept` checks the complete file before
        it is moved into place. With `replace`, the new ciphertext takes that
        name in one atomic rename and the old copy is unlinked with it. Returns
        the name, or raises StoreError (too large, refused, or a write failure)
        leaving nothing behind.
        """
        self.ensure()
        name = replace if replace is not None else secrets.token_hex(16) + ".gpg"
        target = self.path(name)
        partial = self.incoming / (secrets.token_hex(16) + ".part")
        try:
            written = 0
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                while chunk := source.read(64 * 1024):
                    written += len(chunk)
                    if written > limit:
                        raise StoreError("too large")
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            if written == 0 or not accept(partial):
                raise StoreError("not an OpenPGP message encrypted to public keys")
            os.replace(partial, target)
            fsync_dir(self.root)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise StoreError(f"cannot write ciphertext: {exc.strerror or exc}") from exc
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return name

    def delete(self, names: Iterable[str]) -> None:
        for name in names:
            with suppress(ValueError):
                self.path(name).unlink(missing_ok=True)
        with suppress(OSError):
            fsync_dir(self.root)

    def names(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for entry in os.scandir(self.root):
            if NAME_RE.match(entry.name):
                yield entry.name

    def sweep(self, referenced: set[str], older_than_seconds: float) -> int:
        """Delete partial writes and ciphertext no database row refers to.

        Only files older than the cut-off are touched, so a submission being
        confirmed right now (written, not yet committed) is left alone.
        """
        cutoff = time.time() - older_than_seconds
        removed = 0
        candidates: list[Path] = []
        if self.incoming.is_dir():
            candidates += [Path(e.path) for e in os.scandir(self.incoming)]
        candidates += [self.root / n for n in self.names() if n not in referenced]
        for path in candidates:
            with suppress(FileNotFoundError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
        return removed
