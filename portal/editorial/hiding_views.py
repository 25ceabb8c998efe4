"""Editor pages for hiding abuse: hide or show one author, and the list of hidden authors.

Who may call what (decided in `portal.access`): any editor with a verified
second factor may hide and show authors, and sees every hidden author: hiding
deletes nothing, is undone in one click, and every editor is told who did it
(see `portal.submissions.hiding`). The author is named only by their pen name
and their first submission's reference; nothing more about them is shown.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from portal.access import editor_required, editor_user
from portal.submissions import hiding

from .forms import HideAuthorForm
from .views import submission_or_404


@require_http_methods(["GET", "POST"])
@editor_required
def author_page(request: HttpRequest, public_id: Any) -> HttpResponse:
    """GET: what hiding (or showing) the author of this submission does; POST: do it."""
    submission = submission_or_404(public_id).first_version
    author = submission.author
    if request.method == "POST":
        form = HideAuthorForm(request.POST)
        if not form.is_valid():
            return HttpResponse(status=400)
        hiding.set_hidden(author, form.cleaned_data["hidden"], editor_user(request))
        return redirect("editorial:hidden_authors")
    first = hiding.first_submission(author) or submission
    return render(request, "editorial/hide_author.html", {
        "submission": submission, "author": author, "first": first,
        "count": author.submissions.filter(revision_of__isnull=True).count(),
    })


@require_GET
@editor_required
def hidden_authors(request: HttpRequest) -> HttpResponse:
    """Every hidden author, for every editor, each with "show this author again"."""
    return render(request, "editorial/hidden_authors.html", {
        "authors": hiding.hidden_authors(), "total": hiding.hidden_count(),
        "limit": hiding.LIST_LIMIT,
    })
