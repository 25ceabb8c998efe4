"""Delete a submission completely: its rows and every ciphertext file it owns."""

from __future__ import annotations

from django.db import transaction

from .models import Submission
from .sending import store


def blobs_of(submission: Submission) -> list[str]:
    names = [submission.manifest_blob, *submission.files.values_list("blob", flat=True)]
    names += list(submission.notes.values_list("blob", flat=True))  # type: ignore[attr-defined]
    return names


def delete_submission(submission: Submission) -> None:
    """Rows first (in one transaction), then ciphertext; a file left by a crash is swept."""
    names = blobs_of(submission)
    with transaction.atomic():
        submission.delete()
    store().delete(names)
