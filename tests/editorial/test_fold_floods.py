"""A flood from one identity is one line on the dashboard; hidden authors are listed, bounded.

The rows are made directly (metadata only, as the dashboard sees them): these
tests are about how many lines a list shows, not about uploads.
"""

from __future__ import annotations

import html
import os
import re
import uuid
from typing import Any

import pytest

from portal.submissions.hiding import FOLD_LIMIT, LIST_LIMIT
from portal.submissions.models import Author, Submission
from tests.editorial.editors import make_editor, verified_client

pytestmark = pytest.mark.django_db


def author(pen_name: str = "", hidden: bool = False) -> Author:
    return Author.objects.create(lookup=os.urandom(32), pen_name=pen_name, hidden=hidden)


def pieces(by: Author, n: int, state: str = "new") -> list[Submission]:
    return Submission.objects.bulk_create([
        Submission(author=by, state=state, file_count=1, cleaned_bytes=10,
                   manifest_blob=uuid.uuid4().hex + ".gpg") for _ in range(n)])


def ids(by: Author) -> list[str]:
    return [s.short_id for s in Submission.objects.filter(author=by)]


def rows(page: str) -> list[str]:
    """The lines of the dashboard's list of submissions."""
    body = page[page.index("<tbody>"):page.index("</tbody>")]
    return re.findall(r"<tr[ >].*?</tr>", body, re.DOTALL)


@pytest.fixture
def desk(data_dir) -> Any:  # type: ignore[no-untyped-def]
    return verified_client(make_editor("plain"))


def get(desk: Any, query: str = "") -> str:
    response = desk.get("/editor/" + query)
    assert response.status_code == 200
    return response.content.decode()


def test_at_the_limit_each_submission_is_a_line(desk):
    flooder, other = author("Spam"), author("Lin")
    pieces(flooder, FOLD_LIMIT)
    pieces(other, 1)
    lines = rows(get(desk))
    assert len(lines) == FOLD_LIMIT + 1
    assert all(any(ref in line for line in lines) for ref in ids(flooder))
    assert "submissions from" not in get(desk)


def test_beyond_the_limit_one_authors_submissions_are_one_line(desk):
    flooder, other = author(), author("Lin")
    flood = pieces(flooder, FOLD_LIMIT + 1)
    pieces(other, 1)
    page = get(desk)
    lines = rows(page)
    assert len(lines) == 2
    [fold] = [line for line in lines if 'class="fold"' in line]
    first = min(flood, key=lambda s: s.pk)
    assert f"{FOLD_LIMIT + 1} submissions from the author of {first.short_id}" in fold
    assert sum(ref in page for ref in ids(flooder)) == 1  # only the reference of the first
    assert f'href="/editor/submission/{first.public_id}/author/">hide this author<' in fold
    # "Show all" is a plain link that lists every one of them, unfolded.
    show_all = html.unescape(re.search(r'href="(\?[^"]+)">show all<', fold).group(1))
    unfolded = get(desk, show_all)
    assert len(rows(unfolded)) == FOLD_LIMIT + 1
    assert all(ref in unfolded for ref in ids(flooder)) and "Lin" not in "".join(rows(unfolded))


def test_a_pen_name_names_the_fold_and_two_floods_are_two_lines(desk):
    pieces(author("Spam"), FOLD_LIMIT + 2)
    pieces(author(), FOLD_LIMIT + 1)
    folds = [line for line in rows(get(desk)) if 'class="fold"' in line]
    assert len(folds) == 2
    assert f"{FOLD_LIMIT + 2} submissions from Spam (first: " in folds[0]  # largest first


def test_folding_counts_the_list_shown(desk):
    """Per list: two new and two in review are four lines under "new" and "in review" alone."""
    prolific = author("Wen")
    pieces(prolific, 2, "new")
    pieces(prolific, 2, "in_review")
    assert len([line for line in rows(get(desk)) if 'class="fold"' in line]) == 1
    for state in ("new", "in_review"):
        lines = rows(get(desk, f"?state={state}"))
        assert len(lines) == 2 and not any('class="fold"' in line for line in lines)


def test_show_all_keeps_the_filters_and_names_only_a_listed_submission(desk):
    flooder = author("Spam")
    pieces(flooder, FOLD_LIMIT + 1, "new")
    pieces(flooder, 1, "in_review")
    fold = rows(get(desk, "?state=new"))[0]
    show_all = html.unescape(re.search(r'href="(\?[^"]+)">show all<', fold).group(1))
    assert "state=new" in show_all
    assert len(rows(get(desk, show_all))) == FOLD_LIMIT + 1
    # A hidden author's submission, or no submission at all, unfolds nothing.
    hidden = author("Gone", hidden=True)
    [gone] = pieces(hidden, 1)
    for reference in (gone.public_id, uuid.uuid4()):
        assert "No submissions." in get(desk, f"?by={reference}")


def test_hidden_authors_are_listed_up_to_the_limit_and_counted_beyond(desk):
    hidden = Author.objects.bulk_create([
        Author(lookup=os.urandom(32), pen_name=f"h{i}", hidden=True) for i in range(LIST_LIMIT)])
    for one in hidden:
        pieces(one, 1)
    page = desk.get("/editor/hidden/").content.decode()
    assert page.count('name="hidden" value="0"') == LIST_LIMIT and "are listed" not in page
    assert f"{LIST_LIMIT} authors are hidden" in get(desk)
    pieces(author("late", hidden=True), 1)
    page = desk.get("/editor/hidden/").content.decode()
    assert page.count('name="hidden" value="0"') == LIST_LIMIT
    assert f"The oldest {LIST_LIMIT} are listed." in page and ">late<" not in page
    assert f"{LIST_LIMIT + 1} authors are hidden" in get(desk)
    # A hidden author with nothing left (all purged) is not counted: nothing of theirs shows.
    author("empty", hidden=True)
    assert f"{LIST_LIMIT + 1} authors are hidden" in get(desk)


def test_folded_lines_stop_at_the_limit_and_the_page_stays_bounded(desk):
    from portal.editorial.dashboard import PAGE_SIZE

    floods = Author.objects.bulk_create([Author(lookup=os.urandom(32)) for _ in range(LIST_LIMIT)])
    for one in floods:
        pieces(one, FOLD_LIMIT + 1)
    lines = rows(get(desk))
    assert len(lines) == LIST_LIMIT and all('class="fold"' in line for line in lines)
    pieces(author(), FOLD_LIMIT + 1)
    lines = rows(get(desk))
    folds = [line for line in lines if 'class="fold"' in line]
    assert len(folds) == LIST_LIMIT and len(lines) <= LIST_LIMIT + PAGE_SIZE
