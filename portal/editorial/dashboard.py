"""The dashboard: every editor's list of submissions, with floods folded. Metadata only.

Who may call it: any editor with a verified second factor (`editor_required`).
Hidden authors' submissions are not listed (`portal.submissions.hiding`); an
author with more than `hiding.FOLD_LIMIT` submissions in the list shown is one
line with "show all" (a plain link) and "hide this author". Key problems that
close or will close submissions are shown at the top, and to managing editors
the server's recorded failures (a backup or timer that failed: `portal.jobs`).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from portal import jobs
from portal.access import editor_of, editor_required, editor_user
from portal.submissions import hiding, workflow
from portal.submissions import recipients as editor_keys
from portal.submissions.models import Submission

from .forms import FilterForm

PAGE_SIZE = 100
EXPIRY_WARNING_DAYS = 30


@require_GET
@editor_required
def dashboard(request: HttpRequest) -> HttpResponse:
    form = FilterForm(request.GET or None)
    # Revisions are shown on their first version's page, not as submissions of their own.
    pieces = hiding.listed(Submission.objects.filter(revision_of__isnull=True))
    chosen, by, kept = pieces, None, {}
    if form.is_valid():
        if form.cleaned_data["q"]:
            chosen = chosen.filter(author__pen_name__icontains=form.cleaned_data["q"])
        if form.cleaned_data["state"]:
            chosen = chosen.filter(state=form.cleaned_data["state"])
        if form.cleaned_data["mine"]:
            chosen = chosen.filter(assignments__editor=editor_user(request))
        if form.cleaned_data["by"]:
            by = pieces.select_related("author").filter(public_id=form.cleaned_data["by"]).first()
            chosen = chosen.filter(author=by.author) if by else chosen.none()
        kept = {k: v for k, v in form.cleaned_data.items() if v and k != "by"}
    # "Show all" unfolds one author; otherwise each flood is one line.
    folded = [] if by else hiding.floods(chosen)
    submissions = chosen.exclude(author__in=[line.first.author_id for line in folded]) \
        .select_related("author").annotate(n_notes=Count("notes", distinct=True),
                                           n_versions=Count("revisions", distinct=True) + 1,
                                           n_messages=Count("messages", distinct=True))
    counts = dict(pieces.values_list("state").annotate(n=Count("id")))
    return render(request, "editorial/dashboard.html", {
        "form": form,
        "submissions": submissions[:PAGE_SIZE],
        "folded": [{"line": line, "show_all": "?" + urlencode(
            {**kept, "by": line.first.public_id})} for line in folded],
        "by": by,
        "hidden_count": hiding.hidden_count(),
        "counts": [(label, counts.get(value, 0), value) for value, label in Submission.State.choices],
        "mine": hiding.listed(Submission.objects.filter(assignments__editor=editor_user(request),
                                                        revision_of__isnull=True))
        .exclude(state__in=workflow.CLOSED)[:PAGE_SIZE],
        "key_warnings": key_warnings(),
        "closed": not editor_keys.recipients(),
        # Managing editors are the ones who can tell the admin; unit names only, no detail.
        "failures": jobs.failures() if editor_of(editor_user(request)).is_managing else [],
    })


def key_warnings() -> list[dict[str, Any]]:
    """Active keys that are unusable, or expire within 30 days."""
    ring = editor_keys.keyring()
    warnings = []
    for key in editor_keys.active_keys():
        info = ring.key_info(key.fingerprint)
        if not info.usable:
            warnings.append({"key": key, "problem": info.reason})
        elif info.expires_within(EXPIRY_WARNING_DAYS):
            warnings.append({"key": key, "problem": _("expires on %(day)s") % {"day": info.expires}})
    return warnings
