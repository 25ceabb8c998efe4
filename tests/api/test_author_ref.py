"""The author reference: one folder per author identity on editors' machines, naming no one.

Authors without a pen name, or two authors who chose the same one, must not
share a folder in `portal-editor sync`: a piece would be filed with someone
else's. The API says which submissions share an author, by a reference that is
stable, short, and derived one-way from a random id.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from portal.api.openapi import SPEC
from portal.editors.models import Editor
from portal.submissions.models import Author
from tests.api.test_api import get_token
from tests.authoring import confirm, new_author, review_of, upload
from tests.editorial.editors import make_editor, verified_client

pytestmark = pytest.mark.django_db


def test_each_author_identity_has_one_reference_that_names_no_one(data_dir, editor_keypair):
    boss = make_editor("boss", Editor.Role.MANAGING, key=editor_keypair.public)
    pens = []
    for pen_name in ("", "", "Wen", "Wen"):
        author = Client()
        new_author(author, pen_name=pen_name)
        for name in ("a.txt", "b.txt"):
            confirm(author, review_of(upload(author, [(name, b"words")])))
        pens.append(pen_name)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {get_token(Client(), boss)[1]['token']}")
    for query in ("", "?detail=1"):
        rows = api.get(f"/api/v1/submissions/{query}").json()["submissions"]
        by_ref: dict[str, set[str]] = {}
        for row in rows:
            assert len(row["author_ref"]) == 10 and int(row["author_ref"], 16) >= 0
            by_ref.setdefault(row["author_ref"], set()).add(row["id"])
        # Four identities (two without a pen name, two sharing one), two submissions each.
        assert sorted(len(ids) for ids in by_ref.values()) == [2, 2, 2, 2]
    for author in Author.objects.all():
        assert not any(part in json.dumps(rows) for part in (str(author.id), author.id.hex[:8]))
    one = rows[0]
    assert api.get(f"/api/v1/submissions/{one['id']}/").json()["author_ref"] == one["author_ref"]


def test_the_editor_page_shows_the_reference_the_folders_are_named_with(data_dir, editor_keypair):
    boss = make_editor("boss", Editor.Role.MANAGING, key=editor_keypair.public)
    for _ in range(2):  # two authors without a pen name: two references
        author = Client()
        new_author(author, pen_name="")
        confirm(author, review_of(upload(author, [("a.txt", b"words")])))
    api = Client(HTTP_AUTHORIZATION=f"Bearer {get_token(Client(), boss)[1]['token']}")
    listed = api.get("/api/v1/submissions/").json()["submissions"]
    assert len({row["author_ref"] for row in listed}) == 2
    editor = verified_client(boss)
    for row in listed:
        page = editor.get(f"/editor/submission/{row['id']}/").content.decode()
        assert f'<code id="author-ref">{row["author_ref"]}</code>' in page


def test_the_api_description_lists_the_reference_and_keeps_the_older_fields():
    fields = SPEC["components"]["schemas"]["Submission"]["properties"]
    assert "author_ref" in fields
    assert {"id", "short_id", "pen_name", "state", "revision_of", "version", "hidden"} <= set(fields)
    listed = SPEC["paths"]["/submissions/"]["get"]["responses"]["200"]
    assert listed["content"]["application/json"]["schema"]["properties"]["submissions"][
        "items"] == {"$ref": "#/components/schemas/Submission"}
