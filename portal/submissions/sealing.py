"""Encrypt to the editors, store, record: the one way the server turns bytes into a kept row.

Promise (durable or nothing, no stray file): inside `sealing()`, `put()`
encrypts bytes to every usable, approved editor key (plus any extra key the
caller names) and fsyncs the ciphertext in the store before the caller
records its rows. If anything in the block fails (encryption, storage, the
database, or the caller's own check) every ciphertext file written in the
block is deleted before the error leaves it: no file without its row, no row
without its file. Failures of the portal's own services leave as `NotSealed`
with the stage that failed; the caller's own exceptions leave unchanged.

Uploads (`portal.authors.sending`), the thread (`portal.correspondence.thread`)
and editors' notes written on the web page (`portal.editorial.views`) all
encrypt this way.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import BinaryIO

from django.db import DatabaseError

from portal.crypto.openpgp import EncryptionFailed, Keyring
from portal.store import Store, StoreError

from .recipients import keyring, recipients


class Stage(enum.StrEnum):
    """Where sealing failed; nothing was kept in any case."""

    CLOSED = "closed"  # No usable editor key: nothing could be encrypted to anyone.
    ENCRYPTION = "encryption"  # gpg failed or refused a key: no ciphertext was written.
    STORAGE = "storage"  # The store could not write or fsync: no ciphertext was kept.
    DATABASE = "database"  # The rows could not be recorded: the ciphertext was deleted.


class NotSealed(Exception):
    """Nothing was kept; `stage` says where it failed (the cause is chained)."""

    def __init__(self, stage: Stage) -> None:
        super().__init__(stage.value)
        self.stage = stage


class Sealing:
    """Ciphertext written for the editors in one `sealing()` block."""

    def __init__(self, ring: Keyring, editors: list[str], store: Store) -> None:
        self.ring = ring
        self.editors = editors
        self.store = store
        self.written: list[str] = []

    def put(self, source: BinaryIO, also: Sequence[str] = ()) -> str:
        """Encrypt `source` to the editors (and `also`); return its store name."""
        blob = self.store.put_encrypted(self.ring, source, [*self.editors, *also])
        self.written.append(blob)
        return blob

    def size(self, blob: str) -> int:
        return self.store.size(blob)


@contextmanager
def sealing(ring: Keyring | None = None, editors: list[str] | None = None) -> Iterator[Sealing]:
    """A block in which ciphertext for the editors is written and then recorded, or nothing is.

    `ring` defaults to the server's keyring, `editors` to its `recipients()` (a
    caller that has just asked passes them); NotSealed(CLOSED) when there are none.
    """
    sealed: Sealing | None = None
    try:
        ring = ring or keyring()
        editors = recipients(ring) if editors is None else editors
        if not editors:
            raise NotSealed(Stage.CLOSED)
        sealed = Sealing(ring, editors, Store.default())
        yield sealed
    except BaseException as exc:
        if sealed is not None:
            sealed.store.delete(sealed.written)
        if isinstance(exc, EncryptionFailed):
            raise NotSealed(Stage.ENCRYPTION) from exc
        if isinstance(exc, StoreError | OSError):
            raise NotSealed(Stage.STORAGE) from exc
        if isinstance(exc, DatabaseError):
            raise NotSealed(Stage.DATABASE) from exc
        raise
