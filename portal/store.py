"""Where ciphertext lives: one OpenPGP message per file, under a random name.

Promise (durable or nothing): `Store.put_encrypted()` and `Store.receive()`
either leave a complete, fsynced ciphertext file (and its directory entry)
under a name that says nothing about the author, the submission or the order
of arrival — or leave nothing at all. Names are 128 random bits. Partial
writes live in `.incoming/` until renamed, and are swept.

Promise (dates are days, on the disk too): a file's times would say the second
an author confirmed an upload or wrote a message. So new ciphertext waits,
durable, in `.batch/` (its modification time already set back to the day),
and `publish()` — run from the hourly timer — writes each waiting file anew
into the store proper, with modification and access times at 00:00 UTC of the
day, and deletes the waiting copy. Afterwards no published file's times are
finer than the batch window: its change and birth times are those of the
batch run. Until then a waiting file's change and birth times still show when
it arrived (SECURITY.md says so). Readers see the newest copy wherever it is
(`path()`).

Django is read in one place only: `Store.default()`, the portal's store at
settings.PORTAL_STORE_DIR, the one way the portal's code opens it. Everything
else takes its root directory as given.
"""

from __future__ import annotations

import fcntl
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

from portal.crypto.openpgp import EncryptionFailed, Keyring

NAME_RE = re.compile(r"^[0-9a-f]{32}\.gpg$")
# Below this much free space a failed gpg write is taken to be a full disk.
LOW_SPACE_BYTES = 1024 * 1024
CHUNK = 1024 * 1024


class StoreError(Exception):
    """The store could not be written (disk full, unwritable, ...); nothing was kept."""


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def start_of_day(moment: float) -> float:
    """00:00 UTC of the day `moment` (seconds since 1970) falls in."""
    day = datetime.fromtimestamp(moment, tz=UTC).date()
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def batch_boundary(moment: float, hours: int) -> float:
    """The latest batch boundary at or before `moment`: windows of `hours` from 00:00 UTC."""
    window = hours * 3600
    return start_of_day(moment) + ((moment - start_of_day(moment)) // window) * window


class Store:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.incoming = self.root / ".incoming"
        self.batch = self.root / ".batch"

    @classmethod
    def default(cls) -> Store:
        """The portal's store (settings.PORTAL_STORE_DIR)."""
        return cls(Path(settings.PORTAL_STORE_DIR))

    def ensure(self) -> None:
        try:
            for folder in (self.incoming, self.batch):
                folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {self.incoming}: {exc.strerror}") from exc

    @staticmethod
    def _check(name: str) -> str:
        if not NAME_RE.match(name):
            raise ValueError("not a store name")
        return name

    def path(self, name: str) -> Path:
        """Where `name` can be read now: the waiting copy if there is one, else the published."""
        waiting = self.batch / self._check(name)
        return waiting if waiting.exists() else self.root / name

    def open(self, name: str) -> BinaryIO:
        """Open `name` for reading wherever it is, even while a batch publishes it.

        Publishing puts the new copy in place before it deletes the waiting one,
        so trying the waiting copy first and the published one second never misses.
        """
        self._check(name)
        for folder in (self.batch, self.root):
            try:
                return open(folder / name, "rb")
            except FileNotFoundError:
                continue
        raise FileNotFoundError(f"no stored file {name}")

    def size(self, name: str) -> int:
        """The size of `name` in bytes, wherever it is (FileNotFoundError if nowhere)."""
        with self.open(name) as handle:
            return os.fstat(handle.fileno()).st_size

    def final_path(self, name: str) -> Path:
        """Where `name` lives once published (restore puts files straight there)."""
        return self.root / self._check(name)

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
            self._wait_for_batch(partial, name)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            (self.batch / name).unlink(missing_ok=True)
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
        name in one atomic rename and the old copy is gone for every reader.
        Returns the name, or raises StoreError (too large, refused, or a write
        failure) leaving nothing behind.
        """
        self.ensure()
        name = self._check(replace) if replace is not None else secrets.token_hex(16) + ".gpg"
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
            if written == 0 or not accept(partial):
                raise StoreError("not an OpenPGP message encrypted to public keys")
            self._wait_for_batch(partial, name)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise StoreError(f"cannot write ciphertext: {exc.strerror or exc}") from exc
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return name

    def _wait_for_batch(self, partial: Path, name: str) -> None:
        """Make `partial` durable and move it into `.batch/` under `name`."""
        with open(partial, "rb") as handle:
            os.fsync(handle.fileno())
        os.chmod(partial, 0o600)
        day = start_of_day(time.time())
        os.utime(partial, (day, day))
        with self._locked():
            os.replace(partial, self.batch / name)
        fsync_dir(self.batch)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time between a waiting copy and its publication (no lock file:
        the lock is held on the `.batch` directory itself)."""
        fd = os.open(self.batch, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def publish(self, before: float, now: float | None = None) -> int:
        """Write every file that began waiting before `before` anew into the store proper.

        Each copy is a new file (so its birth time is now, not the author's
        moment), fsynced, with modification and access times at 00:00 UTC of
        the day of `now`; then the waiting copy is deleted. Returns how many
        files were published. Safe to run again after a crash at any point.
        """
        if not self.batch.is_dir():
            return 0
        self.ensure()
        day = start_of_day(time.time() if now is None else now)
        published = 0
        for entry in list(os.scandir(self.batch)):
            if not NAME_RE.match(entry.name):
                continue
            try:
                waiting = entry.stat()
            except FileNotFoundError:
                continue
            if waiting.st_ctime >= before:
                continue
            partial = self.incoming / (secrets.token_hex(16) + ".part")
            try:
                with open(entry.path, "rb") as source, open(partial, "xb") as copy:
                    shutil.copyfileobj(source, copy, CHUNK)
                    copy.flush()
                    os.fsync(copy.fileno())
                os.chmod(partial, 0o600)
                os.utime(partial, (day, day))
                with self._locked():
                    # A replacement that arrived meanwhile is newer: leave it for the next run.
                    current = os.stat(entry.path)
                    if (current.st_ino, current.st_mtime_ns) != (waiting.st_ino,
                                                                waiting.st_mtime_ns):
                        partial.unlink()
                        continue
                    os.replace(partial, self.root / entry.name)
                    fsync_dir(self.root)
                    os.unlink(entry.path)
            except FileNotFoundError:  # deleted while waiting (a withdrawn submission)
                partial.unlink(missing_ok=True)
                continue
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
            published += 1
        if published:
            fsync_dir(self.batch)
        return published

    def delete(self, names: Iterable[str]) -> None:
        for name in names:
            with suppress(ValueError):
                self._check(name)
                (self.batch / name).unlink(missing_ok=True)
                (self.root / name).unlink(missing_ok=True)
        for folder in (self.root, self.batch):
            with suppress(OSError):
                fsync_dir(folder)

    def names(self) -> Iterator[str]:
        """Every stored name, published or waiting (each once)."""
        seen: set[str] = set()
        for folder in (self.batch, self.root):
            if not folder.is_dir():
                continue
            for entry in os.scandir(folder):
                if NAME_RE.match(entry.name) and entry.name not in seen:
                    seen.add(entry.name)
                    yield entry.name

    def sweep(self, referenced: set[str], older_than_seconds: float) -> int:
        """Delete partial writes and ciphertext no database row refers to.

        Only files older than the cut-off (by change time: a published file's
        modification time is set back to the day) are touched, so a submission
        being confirmed right now (written, not yet committed) is left alone.
        """
        cutoff = time.time() - older_than_seconds
        removed = 0
        candidates: list[Path] = []
        if self.incoming.is_dir():
            candidates += [Path(e.path) for e in os.scandir(self.incoming)]
        for folder in (self.root, self.batch):
            if folder.is_dir():
                candidates += [Path(e.path) for e in os.scandir(folder)
                               if NAME_RE.match(e.name) and e.name not in referenced]
        for path in candidates:
            with suppress(FileNotFoundError):
                if path.stat().st_ctime < cutoff:
                    path.unlink()
                    removed += 1
        return removed
