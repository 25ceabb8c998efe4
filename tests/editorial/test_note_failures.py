"""A note the database cannot record leaves no ciphertext behind (portal.submissions.sealing)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError
from django.test import Client

from portal.editors.models import Editor, Note
from portal.store import Store
from portal.submissions.models import Submission
from tests.authoring import confirm, new_author, review_of, upload
from tests.editorial.editors import make_editor, verified_client

pytestmark = pytest.mark.django_db


def test_a_note_the_database_refuses_leaves_no_ciphertext(data_dir, editor_keypair, monkeypatch):
    boss = make_editor("boss", Editor.Role.MANAGING, key=editor_keypair.public)
    author = Client()
    new_author(author, pen_name="Xiaomei")
    confirm(author, review_of(upload(author, [("a.txt", b"the words")])))
    submission = Submission.objects.get()
    client = verified_client(boss)
    client.raise_request_exception = False
    before = set(Store.default().names())

    def refuse(*args: object, **kwargs: object) -> None:
        raise DatabaseError("the disk is full")

    monkeypatch.setattr(Note.objects, "create", refuse)
    response = client.post(f"/editor/submission/{submission.public_id}/note/", {"text": "a note"})
    assert response.status_code == 500
    assert not Note.objects.exists()
    assert set(Store.default().names()) == before  # the ciphertext written for it is gone
