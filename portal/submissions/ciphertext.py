"""The ciphertext a submission owns, and every name the database refers to: one list.

Promise: `blobs_of()` names every ciphertext file of a piece (each version's
manifest and files, and every row elsewhere that holds ciphertext of it), and
`referenced_blobs()` every ciphertext name any row refers to: `portal purge`
keeps exactly these, `portal backup` saves exactly these, deleting a piece
deletes exactly its own. `publish_batch()` moves new ciphertext that waited
through a batch boundary to its final place.

Rows outside the core that hold ciphertext (editors' notes, the thread's
messages, re-encrypted copies waiting for confirmation) are declared by their
own app when it is ready (`holds_ciphertext`), so the core lists them without
importing the apps above it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import models, transaction

from portal.store import Store, batch_boundary

from .models import Submission, SubmissionFile


@dataclass(frozen=True)
class Holder:
    """A model whose rows name ciphertext in `column`; `only` narrows which rows count.

    `readable`: editors read it (a file, a note, a message), as opposed to a copy
    that waits to replace one.
    """

    model: type[models.Model]
    column: str
    only: dict[str, Any] = field(default_factory=dict)
    readable: bool = True

    def rows(self) -> models.QuerySet[Any]:
        return self.model._default_manager.filter(**self.only)


HOLDERS: list[Holder] = [Holder(SubmissionFile, "blob")]


def holds_ciphertext(model: type[models.Model], column: str, *, readable: bool = True,
                     **only: Any) -> None:
    """Declare that `model` rows (with a `submission`) name ciphertext in `column`."""
    holder = Holder(model, column, only, readable)
    if holder not in HOLDERS:
        HOLDERS.append(holder)


def names_of(version: Submission, readable_only: bool = False) -> list[str]:
    """The ciphertext of one version: its manifest, its files, and every row that holds
    ciphertext of it (with `readable_only`, what editors read: no waiting copies)."""
    names = [version.manifest_blob]
    for holder in HOLDERS:
        if holder.readable or not readable_only:
            names += list(holder.rows().filter(submission=version)
                          .values_list(holder.column, flat=True))
    return names


def blobs_of(submission: Submission) -> list[str]:
    """Every ciphertext of a piece: each version's manifest and files, notes and the thread."""
    return [name for version in submission.first_version.versions() for name in names_of(version)]


def referenced_blobs() -> set[str]:
    """Every ciphertext name a row refers to (manifests, files, notes, messages, and
    re-encrypted candidates still waiting for confirmations)."""
    names = set(Submission.objects.values_list("manifest_blob", flat=True))
    for holder in HOLDERS:
        names |= set(holder.rows().values_list(holder.column, flat=True))
    return names


def delete_submission(submission: Submission) -> None:
    """Delete a piece with all its versions, notes and thread.

    Rows first (in one transaction), then ciphertext; a file left by a crash is swept.
    """
    submission = submission.first_version
    names = blobs_of(submission)
    with transaction.atomic():
        submission.delete()
    Store.default().delete(names)


def publish_batch(now: float | None = None) -> int:
    """Publish the ciphertext that waited through the latest batch boundary (see portal.store)."""
    now = time.time() if now is None else now
    return Store.default().publish(before=batch_boundary(now, settings.PORTAL_BATCH_HOURS), now=now)
