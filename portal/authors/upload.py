"""Upload handlers: every uploaded byte goes straight into the encrypted spool.

Django's default handlers keep small files in memory and write large ones to
/tmp in plaintext. Here the global setting installs `RefuseFilesHandler`, so a
view that does not expect files never stores one, and the submission view
installs `SpoolingUploadHandler`, which encrypts each 64 KiB chunk as it
arrives under a key that exists only in this process's memory. Limits on the
number of files, each file's size and the total are enforced while streaming:
the request stops being read, the spools are deleted, and the view tells the
author which limit was reached.
"""

from __future__ import annotations

import enum
import secrets
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from portal.crypto.spool import SpoolReader, SpoolWriter, new_key

CHUNK = 64 * 1024


class Problem(enum.StrEnum):
    """Why an upload was refused before cleaning; nothing of it was kept."""

    TOO_MANY_FILES = "too-many-files"
    FILE_TOO_LARGE = "file-too-large"
    SUBMISSION_TOO_LARGE = "submission-too-large"
    UNEXPECTED_FILE = "unexpected-file"  # a file part in a field other than "files"
    DISK = "disk"  # the spool could not be written
    NOT_MULTIPART = "not-multipart"
    NO_FILES = "no-files"
    EMPTY_FILE = "empty-file"

    def sentence(self, limit: int = 0, name: str = "") -> str:
        """What the author reads; `limit` is the number broken, `name` the file's name."""
        return {
            Problem.TOO_MANY_FILES: lambda: _(
                "You can send at most %(n)d files at once.") % {"n": limit},
            Problem.FILE_TOO_LARGE: lambda: (_(
                "“%(name)s” is larger than %(size)s, the most one file can be. Nothing was "
                "kept; please choose a smaller file.") if name else _(
                "Each file can be at most %(size)s. Nothing was kept; please send a smaller "
                "file.")) % {"size": filesizeformat(limit), "name": name},
            Problem.SUBMISSION_TOO_LARGE: lambda: _(
                "All files together can be at most %(size)s. Nothing was kept.")
            % {"size": filesizeformat(limit)},
            Problem.UNEXPECTED_FILE: lambda: _(
                "The form sent an unexpected file. Please use the upload form."),
            Problem.DISK: lambda: _(
                "The server could not store your upload right now. Nothing was kept. Please "
                "try again later."),
            Problem.NOT_MULTIPART: lambda: _(
                "The upload did not arrive as a file upload. Please use the form on your page."),
            Problem.NO_FILES: lambda: _("Please choose at least one file."),
            Problem.EMPTY_FILE: lambda: _("“%(name)s” is empty.") % {"name": name},
        }[self]()


class UploadRefused(Exception):
    """An upload broke a limit; `problem` names which, `limit` gives the number."""

    def __init__(self, problem: Problem, limit: int = 0, name: str = "") -> None:
        super().__init__(problem.value)
        self.problem = Problem(problem)
        self.limit = limit
        self.name = name  # the file that broke it, when one did

    def sentence(self) -> str:
        return self.problem.sentence(self.limit, name=self.name)


class RefuseFilesHandler(FileUploadHandler):
    """The default for every view: file parts are never stored anywhere."""

    def new_file(self, *args: object, **kwargs: object) -> None:
        raise StopUpload(connection_reset=True)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        return None

    def file_complete(self, file_size: int) -> None:
        return None


def clean_file_name(name: str) -> str:
    """A file name safe to show: no directories, no control or direction characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        ch for ch in name if ch.isprintable() and unicodedata.category(ch) not in ("Cf", "Cc")
    ).strip()
    limit = settings.PORTAL_MAX_FILE_NAME_CHARS
    if len(name) > limit:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:16] if dot else ""
        name = (stem if dot else name)[: limit - len(ext) - 2] + "…" + (dot + ext if ext else "")
    return name or "file"


@dataclass
class SpooledUpload:
    """One uploaded file, encrypted on disk; its key is only in this object."""

    name: str
    content_type: str
    path: Path
    key: bytes = field(repr=False)
    size: int = 0

    def open(self) -> SpoolReader:
        return SpoolReader(self.path, self.key)

    def delete(self) -> None:
        self.path.unlink(missing_ok=True)


class SpooledUploadedFile(UploadedFile):
    """What the view finds in request.FILES: a handle on the spool, not the bytes."""

    def __init__(self, spooled: SpooledUpload) -> None:
        super().__init__(file=None, name=spooled.name, content_type=spooled.content_type,
                         size=spooled.size)
        self.spooled = spooled

    def close(self) -> None:
        return None


class SpoolingUploadHandler(FileUploadHandler):
    chunk_size = CHUNK

    def __init__(self, request: HttpRequest | None = None, spool_dir: Path | None = None) -> None:
        super().__init__(request)
        self.spool_dir = spool_dir or Path(settings.PORTAL_SPOOL_DIR) / "uploads"
        self.spool_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.max_files = settings.PORTAL_MAX_FILES
        self.max_file_bytes = settings.PORTAL_MAX_FILE_BYTES
        self.max_total_bytes = settings.PORTAL_MAX_SUBMISSION_BYTES
        self.refusal: UploadRefused | None = None
        self.completed: list[SpooledUpload] = []
        self._writer: SpoolWriter | None = None
        self._current: SpooledUpload | None = None
        self._count = 0
        self._total = 0

    def _refuse(self, problem: Problem, limit: int) -> None:
        name = self._current.name if self._current is not None else ""
        self.refusal = UploadRefused(problem, limit, name)
        self.discard()
        raise StopUpload(connection_reset=True)

    def new_file(self, field_name: str, file_name: str, content_type: str,
                 content_length: int | None, charset: str | None = None,
                 content_type_extra: dict[str, bytes] | None = None) -> None:
        if self.refusal is not None:  # refused already (e.g. by Content-Length)
            raise StopUpload(connection_reset=True)
        if field_name != "files":
            self._refuse(Problem.UNEXPECTED_FILE, 0)
        self._count += 1
        if self._count > self.max_files:
            self._refuse(Problem.TOO_MANY_FILES, self.max_files)
        key = new_key()
        path = self.spool_dir / secrets.token_hex(16)
        self._writer = SpoolWriter(path, key)
        self._current = SpooledUpload(
            name=clean_file_name(file_name), content_type=content_type[:100], path=path, key=key
        )

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        if self._writer is None or self._current is None:
            return None
        self._current.size += len(raw_data)
        self._total += len(raw_data)
        if self._current.size > self.max_file_bytes:
            self._refuse(Problem.FILE_TOO_LARGE, self.max_file_bytes)
        if self._total > self.max_total_bytes:
            self._refuse(Problem.SUBMISSION_TOO_LARGE, self.max_total_bytes)
        try:
            self._writer.write(raw_data)
        except OSError:
            self._refuse(Problem.DISK, 0)
        return None

    def file_complete(self, file_size: int) -> SpooledUploadedFile | None:
        if self._writer is None or self._current is None:
            return None
        try:
            self._writer.close()
        except OSError:
            self._refuse(Problem.DISK, 0)
        spooled = self._current
        self.completed.append(spooled)
        self._writer = None
        self._current = None
        return SpooledUploadedFile(spooled)

    def upload_interrupted(self) -> None:
        self.discard()

    def discard(self) -> None:
        """Delete every spool this request wrote; safe to call more than once."""
        if self._writer is not None:
            self._writer.abort()
            self._writer = None
        self._current = None
        for spooled in self.completed:
            spooled.delete()
        self.completed.clear()
