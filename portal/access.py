"""Who may see what: every authorization decision in the portal lives here.

- Authors are identified by the session alone (they have no account): a
  session carries an author id only after a codename login, and every author
  view is wrapped in `author_required`. An author reaches only their own rows,
  through `own_submission()`.
- Editors (see the editorial issue) pass a password and a verified OTP device.

A test walks the URLconf and checks every view against these decorators.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from portal.authors.models import Author, Submission

SESSION_AUTHOR = "author_id"


def current_author(request: HttpRequest) -> Author | None:
    author_id = request.session.get(SESSION_AUTHOR)
    if not author_id:
        return None
    return Author.objects.filter(pk=author_id).first()


def author_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let the request through only with a logged-in author, passed as `author`."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        author = current_author(request)
        if author is None:
            return redirect("authors:start")
        return view(request, *args, author=author, **kwargs)

    wrapper.access = "author"  # type: ignore[attr-defined]
    return wrapper


def public(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark a view as open to anyone (the URLconf test requires a mark on every view)."""
    view.access = "public"  # type: ignore[attr-defined]
    return view


def own_submission(author: Author, public_id: str) -> Submission:
    """The author's own submission, or 404 (never 403: do not confirm it exists)."""
    try:
        return Submission.objects.get(public_id=public_id, author=author)
    except (Submission.DoesNotExist, ValueError):
        raise Http404("no such submission") from None


def log_in_author(request: HttpRequest, author: Author) -> None:
    """Start a fresh session for this author (a new session key defeats fixation)."""
    request.session.flush()
    request.session.cycle_key()
    request.session[SESSION_AUTHOR] = str(author.pk)


def log_out(request: HttpRequest) -> None:
    request.session.flush()
