"""Who may call what: every route has an access mark, and authors see only their own."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from portal.submissions.models import Submission
from tests.authoring import confirm, new_author, review_of, upload

# The author routes, their access level, and an example path (the whole URLconf is
# walked in test_urlconf_walk.py).
EXPECTED = {
    "authors:start": ("public", "/"),
    "authors:new": ("public", "/author/new/"),
    "authors:login": ("public", "/author/login/"),
    "authors:logout": ("public", "/author/logout/"),
    "authors:home": ("author", "/author/"),
    "authors:pen_name": ("author", "/author/pen-name/"),
    "authors:submit": ("author", "/author/submit/"),
    "authors:confirm": ("author", "/author/submit/confirm/"),
    "authors:cancel": ("author", "/author/submit/cancel/"),
    "authors:received": ("author", f"/author/submission/{uuid.uuid4()}/"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", [n for n, (a, _) in EXPECTED.items() if a == "author"])
def test_anonymous_visitors_cannot_reach_author_views(name, data_dir):
    client = Client()
    path = EXPECTED[name][1]
    response = client.get(path) if name in ("authors:home", "authors:received") else client.post(
        path, {"pending": "0" * 32, "key": "x", "title": "t"}
    )
    assert response.status_code in (302, 405)
    if response.status_code == 302:
        assert response["Location"] == "/"


@pytest.mark.django_db
def test_author_cannot_open_other_authors_submission(editor, data_dir):
    alice, bob = Client(), Client()
    new_author(alice)
    new_author(bob)
    confirm(alice, review_of(upload(alice, [("a.txt", b"alice's")])))
    submission = Submission.objects.get()
    assert alice.get(f"/author/submission/{submission.public_id}/").status_code == 200
    assert bob.get(f"/author/submission/{submission.public_id}/").status_code == 404
    assert submission.short_id not in bob.get("/author/").content.decode()


@pytest.mark.django_db
def test_author_cannot_confirm_or_cancel_other_authors_upload(editor, data_dir):
    alice, bob = Client(), Client()
    new_author(alice)
    new_author(bob)
    review = review_of(upload(alice, [("a.txt", b"alice's")]))
    # Bob has the id and even the key (say, from a shared screen): still no.
    assert confirm(bob, review).status_code == 400
    bob.post("/author/submit/cancel/", {"pending": review.pending})
    assert Submission.objects.count() == 0
    assert confirm(alice, review).status_code == 302


@pytest.mark.django_db
def test_wrong_key_for_pending_upload_is_refused(client, editor, data_dir):
    new_author(client)
    review = review_of(upload(client, [("a.txt", b"words")]))
    other_key = "A" * 43
    response = client.post("/author/submit/confirm/", {"pending": review.pending, "key": other_key})
    assert response.status_code == 400
    for hostile in ("../../etc", "0" * 31, "g" * 32, ""):
        response = client.post("/author/submit/confirm/", {"pending": hostile, "key": review.key})
        assert response.status_code == 400
    assert confirm(client, review).status_code == 302


@pytest.mark.django_db
def test_author_pages_load_nothing_from_another_origin(client, editor, data_dir):
    import re

    pages = [client.get("/").content.decode()]
    new_author(client)
    pages.append(client.get("/author/").content.decode())
    pages.append(review_of(upload(client, [("a.txt", b"x")])).html)
    for page in pages:
        # One script only: the warning that scripts are on (portal/static/portal/noscript-warning.js).
        assert "<script" not in page.replace(
            '<script src="/static/portal/noscript-warning.js"></script>', "")
        for url in re.findall(r'(?:src|href|action)="([^"]+)"', page):
            assert url.startswith("/"), url


@pytest.mark.django_db
def test_author_pages_are_never_cached(client, data_dir):
    response = client.get("/")
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "same-origin"
