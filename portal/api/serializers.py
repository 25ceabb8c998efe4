"""Plain dictionaries for the API: metadata only, never plaintext."""

from __future__ import annotations

from typing import Any

from portal.correspondence.replykeys import active_key
from portal.submissions.models import Submission


def submission_summary(submission: Submission) -> dict[str, Any]:
    return {
        "id": str(submission.public_id),
        "short_id": submission.short_id,
        "pen_name": submission.author.pen_name,
        "state": submission.state,
        "submitted_on": submission.submitted_on.isoformat(),
        "file_count": submission.file_count,
        "uncleaned_count": submission.uncleaned_count,
        # Revisions are listed too; each names its first version, which holds the
        # state and the thread.
        "revision_of": str(submission.revision_of.public_id) if submission.revision_of else None,
        "version": submission.version,
        # Editors hid its author: left out of the list unless asked for (hidden=1).
        "hidden": submission.author.hidden,
        # Added: the same for every submission of one author (see Author.ref).
        "author_ref": submission.author.ref,
    }


def submission_detail(submission: Submission, sizes: dict[str, int]) -> dict[str, Any]:
    return {
        **submission_summary(submission),
        "recipients": submission.recipients,
        "manifest": {"name": submission.manifest_blob,
                     "size": sizes.get(submission.manifest_blob, 0)},
        "files": [
            {"position": f.position, "name": f.blob, "size": sizes.get(f.blob, 0),
             "kind": f.kind, "cleaned": f.cleaned, "safe_copy_of": f.safe_copy_of}
            for f in submission.files.all()
        ],
        "notes": [
            {"id": n.pk, "name": n.blob, "size": sizes.get(n.blob, 0),
             "by": n.written_by.get_username() if n.written_by else None,
             "at": n.at.isoformat(), "encrypted_by_server": n.encrypted_by_server}
            for n in submission.notes.all()  # type: ignore[attr-defined]
        ],
        "messages": [
            {"number": number, "name": m.blob, "size": sizes.get(m.blob, 0), "sender": m.sender,
             "by": m.written_by.get_username() if m.written_by else None,
             "sent_on": m.sent_on.isoformat(), "decision": m.decision or None,
             "encrypted_by_server": m.encrypted_by_server}
            for number, m in enumerate(submission.messages.all(), start=1)  # type: ignore[attr-defined]
        ],
        "reply_key": _reply_key(submission),
    }


def _reply_key(submission: Submission) -> dict[str, Any] | None:
    """The author's current reply key, for replies encrypted on the editor's machine."""
    if submission.revision_of is not None:
        return None
    key = active_key(submission.author)
    if key is None:
        return None
    return {"fingerprint": key.fingerprint, "armored": key.public_key,
            "generated": key.generated}
