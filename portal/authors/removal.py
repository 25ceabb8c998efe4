"""Delete a submission completely: its rows and every ciphertext file it owns.

`referenced_blobs()` is the one list of ciphertext names the database refers
to: `portal purge` keeps exactly these, `portal backup` saves exactly these.
"""

from __future__ import annotations

from django.db import transaction

from portal.correspondence.models import Message
from portal.editorial.models import Note, Replacement
from portal.store import Store
from portal.submissions.models import Submission, SubmissionFile


def blobs_of(submission: Submission) -> list[str]:
    """Every ciphertext of a piece: each version's manifest and files, notes and the thread."""
    names: list[str] = []
    for version in submission.first_version.versions():
        names += [version.manifest_blob, *version.files.values_list("blob", flat=True)]
        names += list(version.notes.values_list("blob", flat=True))  # type: ignore[attr-defined]
        names += list(version.messages.values_list("blob", flat=True))  # type: ignore[attr-defined]
        names += list(version.replacements.filter(  # type: ignore[attr-defined]
            state=Replacement.State.PENDING).values_list("candidate", flat=True))
    return names


def referenced_blobs() -> set[str]:
    """Every ciphertext name a row refers to (manifests, files, notes, messages, and
    re-encrypted candidates still waiting for confirmations)."""
    names = set(SubmissionFile.objects.values_list("blob", flat=True))
    names |= set(Submission.objects.values_list("manifest_blob", flat=True))
    names |= set(Note.objects.values_list("blob", flat=True))
    names |= set(Message.objects.values_list("blob", flat=True))
    names |= set(Replacement.objects.filter(state=Replacement.State.PENDING)
                 .values_list("candidate", flat=True))
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
