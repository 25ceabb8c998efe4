"""Confirm a pending upload: encrypt every file to the editors, then record it.

Promise (fail closed, lose nothing): each file becomes its own OpenPGP message
whose plaintext is exactly the cleaned bytes, plus one manifest message (JSON:
title, message, file names, sizes, SHA-256 and cleaning reports), all
encrypted to every usable editor key.

Promise (identity stays with the author): the manifest carries what the
cleaner removed as kinds and counts only (`kinds_only`), never the values, and
a file's original name only when the author ticked "keep this name"; other
files are named `1.docx`, `2.jpg`, in upload order. Ciphertext is fsynced under random names
before the database row is committed. If any step fails, every ciphertext file
written so far is deleted, no row exists, and the pending upload is given back
so the author can try again. No usable editor key means submissions are closed
and nothing is written.
"""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path, PurePosixPath

from django.db import transaction

from portal.counters import count
from portal.crypto.openpgp import EncryptionFailed
from portal.sanitize.messages import kinds_only
from portal.sanitize.report import Report
from portal.submissions import workflow
from portal.submissions.models import Author, Submission, SubmissionFile, today
from portal.submissions.recipients import keyring, recipients
from portal.submissions.sealing import NotSealed, Sealing, Stage, sealing

from . import pending as pending_uploads

# /2: reports are kinds and counts, names are neutral unless kept. /1 manifests
# (older submissions) may hold removed values and original names; the editors'
# client never writes either (see portal.editor_client.sync).
MANIFEST_FORMAT = "penname-manifest/2"
# Versions of one piece, the first included: enough for any real editing, and a
# bound on what one author can make the server keep.
MAX_VERSIONS = 20


class SubmissionsClosed(Exception):
    """No editor key can receive submissions right now."""


class RevisionRefused(Exception):
    """The submission this revision belongs to no longer takes revisions."""


class SendFailed(Exception):
    """The submission could not be stored; nothing was kept. `stage` says where
    (encryption, storage or database: see portal.submissions.sealing.Stage)."""

    def __init__(self, stage: Stage) -> None:
        super().__init__(stage.value)
        self.stage = stage


def submissions_open() -> bool:
    try:
        return bool(recipients())
    except EncryptionFailed:
        return False


def send(
    author: Author, pending: pending_uploads.Pending, directory: Path, include_refused: set[int],
    keep_names: frozenset[int] = frozenset(),
) -> Submission:
    """Encrypt and store a claimed pending upload; return the committed submission.

    `include_refused` and `keep_names` are file indices the author ticked:
    send this file uncleaned, keep this file's original name. A file that is
    never sent (a program, a document with macros, an archive) is left out
    whatever the ticks say.
    """
    try:
        ring = keyring()
        fingerprints = recipients(ring)
    except EncryptionFailed as exc:
        count(f"submission not stored: encryption unavailable ({type(exc).__name__})")
        raise SendFailed(Stage.ENCRYPTION) from exc
    if not fingerprints:
        raise SubmissionsClosed()
    chosen = [
        f for f in pending.files
        if f.status != "refused" or (f.index in include_refused and f.may_send_uncleaned)
    ]
    if not chosen:
        raise ValueError("nothing to send")
    first = revision_target(author, pending.revision_of) if pending.revision_of else None
    public_id = uuid.uuid4()
    try:
        with sealing(ring, fingerprints) as seal:
            submission = _seal(seal, author, pending, directory, chosen, first, keep_names,
                               public_id)
    except NotSealed as failed:
        cause = type(failed.__cause__).__name__
        if failed.stage is Stage.CLOSED:
            raise SubmissionsClosed() from failed
        if failed.stage is Stage.DATABASE:
            count(f"submission not recorded: {cause}")
            raise SendFailed(Stage.DATABASE) from failed.__cause__
        count(f"submission not stored: {cause}")
        raise SendFailed(failed.stage) from failed.__cause__
    return submission


def _seal(
    seal: Sealing, author: Author, pending: pending_uploads.Pending, directory: Path,
    chosen: list[pending_uploads.PendingFile], first: Submission | None,
    keep_names: frozenset[int], public_id: uuid.UUID,
) -> Submission:
    """Encrypt the chosen files, their safe copies and the manifest; record the rows."""
    entries = []
    for pending_file in chosen:
        with pending_uploads.open_file(directory, pending, pending_file) as source:
            blob = seal.put(source)  # type: ignore[arg-type]
        entries.append((pending_file, blob))
    safe_copies = []
    for position, (pending_file, _) in enumerate(entries):
        if pending_file.has_safe_copy:
            with pending_uploads.open_file(directory, pending, pending_file,
                                           safe_copy=True) as source:
                blob = seal.put(source)  # type: ignore[arg-type]
            safe_copies.append((position, pending_file, blob))
    manifest = _manifest(public_id, author, pending, entries, first, keep_names, safe_copies)
    manifest_blob = seal.put(io.BytesIO(manifest))
    with transaction.atomic():
        version = _next_version(first) if first is not None else 1
        submission = Submission.objects.create(
            public_id=public_id, author=author, file_count=len(entries),
            uncleaned_count=sum(1 for f, _ in entries if f.status != "cleaned"),
            cleaned_bytes=sum(f.size for f, _ in entries),
            manifest_blob=manifest_blob, recipients=seal.editors,
            revision_of=first, version=version,
        )
        SubmissionFile.objects.bulk_create([
            SubmissionFile(
                submission=submission, position=position, blob=blob,
                ciphertext_bytes=seal.size(blob),
                kind=pending_file.kind[:16],
                cleaned=pending_file.status == "cleaned",
            )
            for position, (pending_file, blob) in enumerate(entries)
        ] + [
            # The page-image copies follow the files they copy.
            SubmissionFile(
                submission=submission, position=len(entries) + number, blob=blob,
                ciphertext_bytes=seal.size(blob), kind="pdf", cleaned=True,
                safe_copy_of=original,
            )
            for number, (original, _, blob) in enumerate(safe_copies)
        ])
        if first is not None:
            _revised(first)
    return submission


def revision_target(author: Author, public_id: str) -> Submission:
    """The author's own first version that may take a revision now, or RevisionRefused."""
    first = Submission.objects.filter(public_id=public_id, author=author,
                                      revision_of__isnull=True).first()
    if first is None or not workflow.takes_revisions(first) or first.revisions.count() + 1 >= MAX_VERSIONS:
        raise RevisionRefused()
    return first


def _next_version(first: Submission) -> int:
    """The next version number, with the first version locked so two revisions cannot collide."""
    locked = Submission.objects.select_for_update().get(pk=first.pk)
    latest = locked.revisions.order_by("-version").values_list("version", flat=True).first()
    version = (latest or 1) + 1
    if version > MAX_VERSIONS:
        raise RevisionRefused()
    return version


def _revised(first: Submission) -> None:
    """A revision answers a request for revisions: the piece goes back into review."""
    if first.state == Submission.State.REVISIONS_REQUESTED:
        workflow.change_state(first, Submission.State.IN_REVIEW, None)


def _manifest(
    public_id: uuid.UUID,
    author: Author,
    pending: pending_uploads.Pending,
    entries: list[tuple[pending_uploads.PendingFile, str]],
    first: Submission | None = None,
    keep_names: frozenset[int] = frozenset(),
    safe_copies: list[tuple[int, pending_uploads.PendingFile, str]] | None = None,
) -> bytes:
    names = {f.index: f.name if f.index in keep_names else f.neutral_name for f, _ in entries}
    return json.dumps({
        "format": MANIFEST_FORMAT,
        "submission": str(public_id),
        "revision_of": str(first.public_id) if first is not None else None,
        "pen_name": author.pen_name,
        "submitted_on": today().isoformat(),  # type: ignore[attr-defined]
        "title": pending.title,
        "message": pending.message,
        "files": [
            {
                "blob": blob, "name": names[f.index],
                "name_kept": f.index in keep_names, "size": f.size, "sha256": f.sha256,
                "kind": f.kind, "cleaned": f.status == "cleaned", "status": f.status,
                "report": kinds_only(Report.from_dict(f.report)).to_dict() if f.report else None,
                "refusal": {"code": f.refusal.get("code", "")} if f.refusal else None,
                **({"safe_copy": {"problem": f.safe["problem"]}} if "problem" in f.safe else {}),
            }
            for f, blob in entries
        ] + [
            {
                "blob": blob, "name": PurePosixPath(names[f.index]).stem + ".pdf",
                "name_kept": False, "size": f.safe["size"], "sha256": f.safe["sha256"],
                "kind": "pdf", "cleaned": True, "status": "safe-copy",
                "safe_copy_of": f.index + 1, "pages": f.safe["pages"], "text": f.safe["text"],
                "report": None, "refusal": None,
            }
            for _, f, blob in safe_copies or []
        ],
    }, ensure_ascii=False, indent=2).encode("utf-8")
