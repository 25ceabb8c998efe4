"""Hiding abuse: one author identity's submissions and messages leave every editor list.

Threat answered: an open form lets anyone flood the editors with submissions or
messages, to bury real work or to tire the team. Any editor may hide one author
identity (`set_hidden`): their submissions and messages leave the dashboard,
the API listing that `portal-editor list` and `sync` read, and the
notifications, until an editor shows them again. Nothing is deleted (the
retention purge treats them as before) and the author is not told: their own
pages do not change.

Hiding teaches the editor nothing new about the author: an author is named
only by their pen name and by the reference of their first submission, which
editors already see. That their submissions belong together was already
visible (the pen name, and the reply key the API gives for each submission).

A coerced editor could hide real work, so every hide and undo is an audit
event shown to every editor until they mark it seen (see `changes`), the
dashboard shows how many authors are hidden, and any editor can undo it.

A flood that is not hidden yet is folded: an author with more than
`FOLD_LIMIT` submissions in one list is shown as one line (`floods`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Min, Q, QuerySet

from portal.submissions import audit
from portal.submissions.models import Author, Submission

# More submissions than this from one author in one list are folded into one line:
# a real author rarely has four pieces in the same state, a flood always does.
FOLD_LIMIT = 3
# At most this many hidden authors or folded lines on one page.
LIST_LIMIT = 100


def listed(submissions: QuerySet[Submission]) -> QuerySet[Submission]:
    """The submissions editors' lists show: none from a hidden author."""
    return submissions.filter(author__hidden=False)


def first_submission(author: Author) -> Submission | None:
    """The author's oldest piece: its reference names the author to editors."""
    return (Submission.objects.filter(author=author, revision_of__isnull=True)
            .order_by("id").first())


def set_hidden(author: Author, hidden: bool, by: Any) -> bool:
    """Hide or show this author; record it if it changed. True if it changed."""
    changed = Author.objects.filter(pk=author.pk, hidden=not hidden).update(hidden=hidden)
    if changed:
        first = first_submission(author)
        audit.record(by, "author-hidden" if hidden else "author-shown",
                     first.short_id if first else "",
                     submissions=Submission.objects.filter(
                         author=author, revision_of__isnull=True).count())
    author.hidden = hidden
    return bool(changed)


@dataclass(frozen=True)
class AuthorLine:
    """One author as a line of a list: their pen name, their first piece, how many pieces."""

    pen_name: str
    first: Submission
    count: int


def _lines(groups: list[Mapping[str, Any]]) -> list[AuthorLine]:
    firsts = {s.pk: s for s in Submission.objects.select_related("author")
              .filter(pk__in=[g["first"] for g in groups])}
    return [AuthorLine(firsts[g["first"]].author.pen_name, firsts[g["first"]], g["n"])
            for g in groups if g["first"] in firsts]


def _hidden_with_submissions() -> QuerySet[Any]:
    """Hidden authors with `n` submissions (first versions), the oldest's id as `first`."""
    pieces = Q(submissions__revision_of__isnull=True)
    return (Author.objects.filter(hidden=True)
            .annotate(n=Count("submissions", filter=pieces),
                      first=Min("submissions__id", filter=pieces))
            .filter(n__gt=0))


def hidden_authors() -> list[AuthorLine]:
    """The hidden authors who have submissions, oldest first, at most LIST_LIMIT."""
    return _lines(list(_hidden_with_submissions().order_by("first")
                       .values("first", "n")[:LIST_LIMIT]))


def hidden_count() -> int:
    """How many authors are hidden (those with a submission: the others show nowhere)."""
    return _hidden_with_submissions().count()


def floods(submissions: QuerySet[Submission]) -> list[AuthorLine]:
    """Authors with more than FOLD_LIMIT of these submissions, most first.

    `submissions` must be a plain filtered queryset (no annotations): the
    grouping counts its rows. Each line's `first` is the author's oldest piece
    in this list.
    """
    groups = (submissions.order_by().values("author")
              .annotate(n=Count("id", distinct=True), first=Min("id"))
              .filter(n__gt=FOLD_LIMIT).order_by("-n", "first")[:LIST_LIMIT])
    return _lines(list(groups))
