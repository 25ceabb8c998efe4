"""An author's own submission: its page (state, versions, thread), withdraw, delete.

Who may call what: only the logged-in author who sent it (`author_required`
and `own_submission`, which answers 404 for anybody else's, so nothing says
whether it exists). Every change is a CSRF-protected POST. Withdrawing and
deleting are final, so each first shows its own page that says what will
happen (GET for withdraw, a first POST for delete) before anything changes.
Opening the page counts the editors' messages as seen (a count on the row,
never a time), which is what her own page marks as new.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.access import author_required, own_submission
from portal.correspondence import thread, unlock
from portal.correspondence.forms import MessageForm
from portal.correspondence.replykeys import active_key
from portal.submissions import workflow
from portal.submissions.ciphertext import delete_submission
from portal.submissions.models import Author, Submission

from . import sending, titles
from .expiry import expired_aware
from .forms import SubmissionForm
from .sending import submissions_open
from .views import upload_limits


def submission_context(request: HttpRequest, author: Author, first: Submission,
                       **extra: Any) -> dict[str, Any]:
    """Everything the submission page shows; the thread is decrypted only for this author."""
    key = active_key(author)
    versions = first.versions()
    secret = unlock.secret(request, author)
    return {
        "author": author,
        "submission": first,
        "versions": versions,
        "title": _titled(author, versions, secret),
        "entries": thread.read(author, first, secret, everything=request.GET.get("all") == "1"),
        "unlocked": secret is not None,
        "own_key": key is not None and not key.generated,
        "message_form": extra.pop("message_form", MessageForm()),
        "revision_form": extra.pop("revision_form", SubmissionForm(
            initial={"revision_of": first.public_id})),
        "takes_revisions": workflow.takes_revisions(first) and len(versions) < sending.MAX_VERSIONS,
        "can_write": first.state != Submission.State.WITHDRAWN,
        "can_withdraw": bool(workflow.allowed_targets(first, None)),
        "open": submissions_open(),
        "limits": upload_limits(),
        "sent": request.GET.get("sent") == "1",
        "sent_again": request.GET.get("again") == "1",
        "state_labels": dict(Submission.State.choices),
        **extra,
    }


def _titled(author: Author, versions: list[Submission], secret: bytes | None) -> str:
    """Put each version's title (as her key opens it) on it; the newest one, for the page."""
    opened = titles.titles(author, versions, secret)
    for version in versions:
        version.title = opened.get(version.pk, "")  # type: ignore[attr-defined]
    return next((v.title for v in reversed(versions) if v.title), "")  # type: ignore[attr-defined]


@require_GET
@author_required
def received(request: HttpRequest, author: Author, public_id: str) -> HttpResponse:
    submission = own_submission(author, public_id)
    if submission.revision_of is not None:
        response = redirect("authors:received", public_id=submission.revision_of.public_id)
        for flag in ("sent", "again"):
            if request.GET.get(flag) == "1":
                response["Location"] += f"?{flag}=1"
        return response
    page = render(request, "authors/submission.html",
                  submission_context(request, author, submission))
    mark_seen(submission)
    return page


def mark_seen(first: Submission) -> None:
    """Every editors' message of this thread has now been on her screen."""
    shown = first.messages.filter(sender="editor").count()  # type: ignore[attr-defined]
    if shown != first.editor_messages_seen:
        first.editor_messages_seen = shown
        first.save(update_fields=["editor_messages_seen"])


@require_http_methods(["GET", "POST"])
@expired_aware("other")
@author_required
def withdraw(request: HttpRequest, author: Author, public_id: str) -> HttpResponse:
    """GET: what withdrawing does, and a button that does it. POST: withdraw."""
    first = own_submission(author, public_id).first_version
    if request.method == "GET":
        if not workflow.allowed_targets(first, None):
            return redirect("authors:received", public_id=first.public_id)
        return render(request, "authors/withdraw.html", {"author": author, "submission": first})
    try:
        workflow.change_state(first, Submission.State.WITHDRAWN, None)
    except workflow.TransitionRefused:
        return render(request, "authors/submission.html", submission_context(
            request, author, first, error=_("This submission cannot be withdrawn now.")),
            status=400)
    return redirect("authors:received", public_id=first.public_id)


@require_POST
@expired_aware("other")
@author_required
def delete(request: HttpRequest, author: Author, public_id: str) -> HttpResponse:
    """First POST: ask again. Second POST, with confirm=yes: delete everything."""
    first = own_submission(author, public_id).first_version
    if request.POST.get("confirm") != "yes":
        return render(request, "authors/delete.html", {"author": author, "submission": first,
                                                      "versions": len(first.versions())})
    delete_submission(first)
    return redirect("authors:home")
