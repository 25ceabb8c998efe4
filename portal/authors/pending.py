"""A cleaned upload waiting for the author's confirmation, unreadable without them.

After an upload is cleaned, its files, title, message and cleaning reports wait
in a spool directory encrypted under one random master key (a separate derived
key per file). The server does not keep that key: it is written into the
review page's confirm form and comes back only with the author's confirm
request. An abandoned upload is therefore noise on disk, and is deleted after
PORTAL_PENDING_SECONDS by the sweeper.

Confirmation claims the directory atomically (a rename), so a double click
cannot send a submission twice.

Cleaning is bounded across the server: at most PORTAL_CLEANERS cleaners and
safe-copy renderers at once, each within its share of PORTAL_CLEANING_MEMORY_MB.
When every slot stays taken past PORTAL_CLEANER_WAIT_SECONDS, `create` raises
CleanersBusy and keeps nothing: the author is asked to send again later.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, cast

from django.conf import settings

from portal.crypto.spool import (
    SpoolCorrupt,
    SpoolReader,
    SpoolWriter,
    derive_key,
    new_key,
    read_all,
    write_all,
)
from portal.sanitize import CleaningRefused, clean_isolated
from portal.sanitize.filenames import neutral_name
from portal.sanitize.forbidden import Screen, never_sendable
from portal.sanitize.safecopy import SafeCopyFailed, make_safe_copy, renderable

from .cleaning import CleanersBusy, cleaner_slots, cleaning_limits, safe_copy_limits
from .upload import SpooledUpload

ID_RE = re.compile(r"^[0-9a-f]{32}$")
MANIFEST = "manifest"


class PendingGone(Exception):
    """The pending upload expired, was sent already, or the key does not open it."""


@dataclass
class PendingFile:
    index: int
    name: str
    size: int
    sha256: str
    kind: str
    # "cleaned", "encrypted", or "refused": raw bytes kept, sent only if the author
    # ticks, unless the refusal is one that is never sent (then nothing is kept).
    status: str
    report: dict[str, Any] = field(default_factory=dict)
    refusal: dict[str, str] = field(default_factory=dict)
    # The page-image copy: {"size", "sha256", "pages", "text"} when made, {"problem": code}
    # when it could not be, {} when safe copies are off.
    safe: dict[str, Any] = field(default_factory=dict)

    @property
    def spool_name(self) -> str:
        return f"file-{self.index}"

    @property
    def safe_spool_name(self) -> str:
        return f"safe-{self.index}"

    @property
    def has_safe_copy(self) -> bool:
        return "sha256" in self.safe

    @property
    def never_sent(self) -> bool:
        """A program, a document with macros or an archive: no form can include it."""
        return self.status == "refused" and never_sendable(self.refusal.get("code", ""))

    @property
    def may_send_uncleaned(self) -> bool:
        return self.status == "refused" and not self.never_sent

    @property
    def neutral_name(self) -> str:
        """The name editors receive unless the author keeps the original: `1.docx`, `2.jpg`."""
        return neutral_name(self.index + 1, self.kind, self.name)


@dataclass
class Pending:
    id: str
    key: bytes
    author_id: str
    title: str
    message: str
    files: list[PendingFile]
    # The first version's public id when this upload is a revision of it.
    revision_of: str = ""

    @property
    def token(self) -> str:
        """The key as it travels in the confirm form."""
        return base64.urlsafe_b64encode(self.key).decode("ascii").rstrip("=")

    def to_json(self) -> bytes:
        return json.dumps({
            "author_id": self.author_id, "title": self.title, "message": self.message,
            "files": [f.__dict__ for f in self.files], "revision_of": self.revision_of,
        }, ensure_ascii=False).encode("utf-8")


def root() -> Path:
    return Path(settings.PORTAL_SPOOL_DIR) / "pending"


def _dir(pending_id: str) -> Path:
    if not ID_RE.match(pending_id):
        raise PendingGone("not a pending id")
    return root() / pending_id


def _decode_token(token: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError) as exc:
        raise PendingGone("bad key") from exc
    if len(key) != 32:
        raise PendingGone("bad key")
    return key


class _Hashing(io.RawIOBase):
    """Counts and hashes what the cleaner writes, on its way into the spool, and shows
    it to `observe` (the server's own screen of the cleaned bytes)."""

    def __init__(self, sink: SpoolWriter, observe: Callable[[bytes], None] | None = None) -> None:
        self._sink = sink
        self._observe = observe
        self.sha256 = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        if self._observe is not None:
            self._observe(bytes(data))
        self.sha256.update(data)
        self.size += len(data)
        self._sink.write(data)
        return len(data)


def _copy(source: BinaryIO, sink: io.RawIOBase) -> None:
    while chunk := source.read(64 * 1024):
        sink.write(chunk)


def create(author_id: str, title: str, message: str, uploads: list[SpooledUpload],
           revision_of: str = "") -> Pending:
    """Clean every upload into a new pending directory; delete the raw spools.

    Files the cleaner refuses keep their raw bytes (encrypted) so the author can
    still choose to send them uncleaned; the refusal reason is in the manifest.
    Programs, documents with macros and archives keep nothing: they are never sent
    (portal.sanitize.forbidden). Raises CleanersBusy, keeping nothing, when no
    cleaning slot comes free in time.
    """
    master = new_key()
    pending_id = secrets.token_hex(16)
    directory = _dir(pending_id)
    directory.mkdir(mode=0o700, parents=True)
    files: list[PendingFile] = []
    # One time budget for the safe copies of the whole upload, so that the author's
    # request ends well within the proxy's patience however many files it has.
    deadline = time.monotonic() + settings.PORTAL_SAFE_COPY_SECONDS
    try:
        for index, upload in enumerate(uploads):
            cleaned = _clean_one(directory, master, index, upload)
            upload.delete()
            cleaned.safe = _safe_copy(directory, master, cleaned, deadline)
            files.append(cleaned)
        pending = Pending(pending_id, master, author_id, title, message, files, revision_of)
        write_all(directory / MANIFEST, derive_key(master, MANIFEST), pending.to_json())
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    finally:
        for upload in uploads:
            upload.delete()
    return pending


def _clean_one(directory: Path, master: bytes, index: int, upload: SpooledUpload) -> PendingFile:
    path = directory / f"file-{index}"
    key = derive_key(master, f"file-{index}")
    # The server's own look at the raw bytes, outside the sandbox: the child that
    # parses the file may lie, so what this screen finds is never overruled.
    screen = Screen(upload.name)
    with upload.open() as source:
        screen.scan(cast(BinaryIO, source))
    refused = screen.outright()
    if refused is None:
        writer = SpoolWriter(path, key)
        sink = _Hashing(writer, screen.see_output)
        try:
            with upload.open() as source:
                report = clean_isolated(source, sink,  # type: ignore[arg-type]
                                        name_hint=upload.name, type_hint=upload.content_type,
                                        limits=cleaning_limits(), slots=cleaner_slots(),
                                        must_not_see=[str(settings.DATA_DIR)])
            refused = screen.after_cleaning()
            if refused is None:
                writer.close()
                status = "encrypted" if report.kind == "openpgp" else "cleaned"
                return PendingFile(index, upload.name, sink.size, sink.sha256.hexdigest(),
                                   report.kind, status, report=report.to_dict())
            writer.abort()
        except CleanersBusy:
            writer.abort()
            raise
        except CleaningRefused as cleaner_refused:
            writer.abort()
            refused = screen.after_refusal(cleaner_refused)
        except BaseException:
            writer.abort()
            raise
    refusal = {"code": refused.code, "detail": refused.detail}
    if never_sendable(refused.code):
        # Never sent, so nothing kept: no form, forged or not, can include it.
        return PendingFile(index, upload.name, upload.size, "", "", "refused", refusal=refusal)
    # Keep the original bytes, still encrypted, in case the author decides to send it.
    writer = SpoolWriter(path, key)
    sink = _Hashing(writer)
    try:
        with upload.open() as source:
            _copy(cast(BinaryIO, source), sink)
        writer.close()
    except BaseException:
        writer.abort()
        raise
    return PendingFile(index, upload.name, sink.size, sink.sha256.hexdigest(), "", "refused",
                       refusal=refusal)


# Refused files a safe copy can still be made of, from their raw bytes, in the
# renderer's sandbox: the editors then need not open the original at all.
RENDER_REFUSED = {"legacy-office": "ole", "rtf": "rtf", "epub": "epub"}


# Less time than this left in the upload's budget: no copy is started.
MIN_SAFE_COPY_SECONDS = 5


def _safe_copy(directory: Path, master: bytes, pending_file: PendingFile,
               deadline: float) -> dict[str, Any]:
    """Render the file (as cleaned, or raw when refused) to a page-image PDF beside it,
    before `deadline` (the upload's budget, time.monotonic()).

    A copy that cannot be made leaves no file and a problem code: the upload
    goes on without it.
    """
    if not settings.PORTAL_SAFE_COPIES:
        return {}
    kind = (RENDER_REFUSED.get(pending_file.refusal.get("code", ""), "")
            if pending_file.status == "refused" else pending_file.kind)
    if not renderable(kind):
        return {"problem": "kind"}
    seconds = int(deadline - time.monotonic())
    if seconds < MIN_SAFE_COPY_SECONDS:
        return {"problem": "time"}
    path = directory / pending_file.safe_spool_name
    writer = SpoolWriter(path, derive_key(master, pending_file.safe_spool_name))
    sink = _Hashing(writer)
    source = SpoolReader(directory / pending_file.spool_name,
                         derive_key(master, pending_file.spool_name))
    try:
        with source, cleaner_slots().hold():
            copy = make_safe_copy(source, sink, kind=kind,  # type: ignore[arg-type]
                                  limits=safe_copy_limits(seconds),
                                  must_not_see=[str(settings.DATA_DIR)])
        writer.close()
    except (SafeCopyFailed, CleaningRefused) as failed:
        writer.abort()
        return {"problem": failed.code if isinstance(failed, SafeCopyFailed) else "unavailable"}
    except BaseException:
        writer.abort()
        raise
    return {"size": sink.size, "sha256": sink.sha256.hexdigest(), "pages": copy.pages,
            "text": copy.text}


def load(pending_id: str, token: str, directory: Path | None = None) -> Pending:
    key = _decode_token(token)
    directory = directory or _dir(pending_id)
    try:
        data = json.loads(read_all(directory / MANIFEST, derive_key(key, MANIFEST)))
    except (FileNotFoundError, NotADirectoryError, SpoolCorrupt, ValueError) as exc:
        raise PendingGone(str(exc)) from exc
    return Pending(
        id=pending_id, key=key, author_id=data["author_id"], title=data["title"],
        message=data["message"], files=[PendingFile(**f) for f in data["files"]],
        revision_of=data.get("revision_of", ""),
    )


def open_file(directory: Path, pending: Pending, pending_file: PendingFile,
              safe_copy: bool = False) -> SpoolReader:
    """The cleaned (or refused raw) bytes of a file, or with `safe_copy` its page-image copy."""
    if pending_file.never_sent:
        raise FileNotFoundError(f"{pending_file.spool_name} is never sent")
    name = pending_file.safe_spool_name if safe_copy else pending_file.spool_name
    return SpoolReader(directory / name, derive_key(pending.key, name))


def _claimed(pending_id: str) -> Path:
    source = _dir(pending_id)
    return source.with_name(source.name + ".sending")


def being_sent(pending_id: str) -> bool:
    """Whether a confirmation has claimed this upload and is sending it right now."""
    try:
        return _claimed(pending_id).is_dir()
    except PendingGone:
        return False


@contextmanager
def one_waiter(pending_id: str) -> Iterator[bool]:
    """True for the one request allowed to wait for this upload's sending, False for others.

    A marker file beside the upload, made exclusively: however many presses arrive
    together, at most one server worker waits. A marker left by a killed worker goes
    with the hourly sweep.
    """
    marker = _claimed(pending_id).with_suffix(".waiting")
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        yield False
        return
    try:
        yield True
    finally:
        marker.unlink(missing_ok=True)


def claim(pending_id: str) -> Path:
    """Take the pending directory for confirmation; only one request can succeed."""
    source = _dir(pending_id)
    claimed = _claimed(pending_id)
    try:
        os.rename(source, claimed)
    except FileNotFoundError as exc:
        raise PendingGone("already sent or expired") from exc
    return claimed


def release(pending_id: str, claimed: Path) -> None:
    """Give a claimed directory back (the confirmation failed; the author may retry)."""
    with suppress(OSError):
        os.rename(claimed, _dir(pending_id))


def discard(pending_id: str) -> None:
    with suppress(PendingGone):
        shutil.rmtree(_dir(pending_id), ignore_errors=True)
        shutil.rmtree(_claimed(pending_id), ignore_errors=True)


def remove_claimed(claimed: Path) -> None:
    shutil.rmtree(claimed, ignore_errors=True)


def sweep(now: float | None = None) -> int:
    """Delete pending uploads and raw upload spools older than the waiting time."""
    cutoff = (now or time.time()) - settings.PORTAL_PENDING_SECONDS
    removed = 0
    for entry in _old_entries(cutoff):
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed += 1
    return removed


def _old_entries(cutoff: float) -> Iterator[Path]:
    spool = Path(settings.PORTAL_SPOOL_DIR)
    for folder in (spool / "pending", spool / "uploads"):
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            with suppress(FileNotFoundError):
                if _newest_mtime(entry) < cutoff:
                    yield entry


def _newest_mtime(path: Path) -> float:
    newest = path.stat().st_mtime
    if path.is_dir():
        for child in path.iterdir():
            with suppress(FileNotFoundError):
                newest = max(newest, child.stat().st_mtime)
    return newest
