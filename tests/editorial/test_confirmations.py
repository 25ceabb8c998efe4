"""Editor pages say what an action did, and a decision never goes out without its words.

An editor who is not told that a reply left, or who must take a piece into
review before asking for revisions, repeats actions or leaves the author with
a bare "revisions requested". If the message of a decision cannot be sent,
the decision is not taken either.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from portal.correspondence.models import Message, ReplyKey
from portal.editors.models import Editor
from portal.submissions.models import StateChange, Submission
from tests.authoring import confirm, new_author, review_of, upload
from tests.editorial.editors import make_editor, verified_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(data_dir, editor_keypair):  # type: ignore[no-untyped-def]
    """A managing editor with a key, and one new submission from an author with a reply key."""
    boss = make_editor("boss", Editor.Role.MANAGING, key=editor_keypair.public)
    author = Client()
    new_author(author, pen_name="Xiaomei")
    confirm(author, review_of(upload(author, [("a.txt", b"the words")])))
    return boss, Submission.objects.get()


def status_lines(html: str) -> list[str]:
    return re.findall(r'<p class="ok" role="status">([^<]*)</p>', html)


def test_an_empty_thread_is_a_sentence_not_the_first_item_of_a_list(submitted):
    boss, submission = submitted
    html = verified_client(boss).get(f"/editor/submission/{submission.public_id}/").content.decode()
    assert '<p id="no-messages">No messages yet.</p>' in html
    assert not re.search(r"<li>\s*No messages yet", html)


def test_a_reply_a_note_and_a_state_change_are_each_confirmed_once(submitted):
    boss, submission = submitted
    client = verified_client(boss)
    url = f"/editor/submission/{submission.public_id}/"
    reply = client.post(url + "reply/", {"text": "Thank you, we are reading it."}, follow=True)
    assert status_lines(reply.content.decode()) == [
        "Your reply was sent. The author reads it the next time they log in."]
    note = client.post(url + "note/", {"text": "strong opening"}, follow=True)
    assert status_lines(note.content.decode()) == [
        "Your note was saved, encrypted to every editor’s key."]
    moved = client.post(url + "state/", {"target": "in_review"}, follow=True)
    assert status_lines(moved.content.decode()) == ["The state is now “in review”."]
    assigned = client.post(url + "assign/", {"editor": boss.pk}, follow=True)
    assert status_lines(assigned.content.decode()) == ["boss is now assigned."]
    # Said once: reloading the page does not say it again.
    assert status_lines(client.get(url).content.decode()) == []


def test_revisions_are_requested_of_a_new_submission_in_one_step_with_their_message(submitted):
    boss, submission = submitted
    client = verified_client(boss)
    url = f"/editor/submission/{submission.public_id}/"
    page = client.get(url).content.decode()
    form = re.search(r'<form [^>]*id="request-revisions">(.*?)</form>', page, re.S)
    assert form and 'name="message"' in form.group(1) and "required" in form.group(1)
    response = client.post(url + "state/", {"target": "revisions_requested",
                                            "message": "Please shorten the opening."},
                           follow=True)
    assert response.status_code == 200
    assert Submission.objects.get().state == "revisions_requested"
    assert [(c.from_state, c.to_state) for c in StateChange.objects.order_by("id")] == [
        ("new", "in_review"), ("in_review", "revisions_requested")]
    assert Message.objects.get().decision == "revisions_requested"
    assert status_lines(response.content.decode()) == [
        "The state is now “revisions requested”; your message was sent to the author with it."]


def test_a_plain_editor_is_not_offered_a_decision(submitted):
    submission = submitted[1]
    page = verified_client(make_editor("ed")).get(
        f"/editor/submission/{submission.public_id}/").content.decode()
    assert 'id="request-revisions"' not in page
    refused = verified_client(make_editor("ed2")).post(
        f"/editor/submission/{submission.public_id}/state/",
        {"target": "revisions_requested", "message": "shorter"})
    assert refused.status_code == 400
    # The step into review that would have come first is not kept either.
    assert Submission.objects.get().state == "new" and not StateChange.objects.exists()


def test_when_the_message_cannot_be_sent_the_state_does_not_change(submitted):
    boss, submission = submitted
    ReplyKey.objects.update(active=False)  # the author's reply key cannot be used
    client = verified_client(boss)
    response = client.post(f"/editor/submission/{submission.public_id}/state/",
                           {"target": "revisions_requested", "message": "Shorter, please."})
    assert response.status_code == 503
    html = response.content.decode()
    assert "The state was not changed and the message was not sent" in html
    assert "Shorter, please." in html  # what the editor wrote is kept in the form
    assert Submission.objects.get().state == "new"
    assert not StateChange.objects.exists() and not Message.objects.exists()
    # Without a message the move is made: nothing depends on the author's key.
    assert client.post(f"/editor/submission/{submission.public_id}/state/",
                       {"target": "in_review"}).status_code == 302
    assert Submission.objects.get().state == "in_review"
