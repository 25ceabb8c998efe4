"""Plain dictionaries for the API: metadata only, never plaintext."""

from __future__ import annotations

from typing import Any

from portal.authors.models import Submission


def submission_summary(submission: Submission) -> dict[str, Any]:
    return {
        "id": str(submission.public_id),
        "short_id": submission.short_id,
        "pen_name": submission.author.pen_name,
        "state": submission.state,
        "submitted_on": submission.submitted_on.isoformat(),
        "file_count": submission.file_count,
        "uncleaned_count": submission.uncleaned_count,
    }


def submission_detail(submission: Submission, sizes: dict[str, int]) -> dict[str, Any]:
    return {
        **submission_summary(submission),
        "recipients": submission.recipients,
        "manifest": {"name": submission.manifest_blob,
                     "size": sizes.get(submission.manifest_blob, 0)},
        "files": [
            {"position": f.position, "name": f.blob, "size": sizes.get(f.blob, 0),
             "kind": f.kind, "cleaned": f.cleaned}
            for f in submission.files.all()
        ],
        "notes": [
            {"id": n.pk, "name": n.blob, "size": sizes.get(n.blob, 0),
             "by": n.written_by.get_username() if n.written_by else None,
             "at": n.at.isoformat(), "encrypted_by_server": n.encrypted_by_server}
            for n in submission.notes.all()  # type: ignore[attr-defined]
        ],
    }
