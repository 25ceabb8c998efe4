"""A second press of "Send" while the first is still sending: told where it went, never "maybe".

On a slow Tor connection the browser drops the first request and sends the
second, while the server is still encrypting and storing the first. Each test
puts the second press in exactly that moment: the upload is claimed (its
`.sending` directory exists) and the session the second request reads is the
one from before the first press finished. A helper thread then does what the
end of the first press does (or does not).
"""

from __future__ import annotations

import threading
import time
from importlib import import_module
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from portal.authors import pending as pending_uploads
from portal.submissions.models import Submission
from tests.authoring import Review, confirm, new_author, review_of, upload

pytestmark = pytest.mark.django_db

BEING_SENT = "This upload is being sent right now"
GONE = "This upload is no longer waiting"


def session_data(client: Client) -> dict[str, Any]:
    return dict(client.session.items())


def write_session(client: Client, data: dict[str, Any]) -> None:
    engine = import_module(settings.SESSION_ENGINE)
    store = engine.SessionStore(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)
    store.clear()
    store.update(data)
    store.save()


def later(seconds: float, action: Any) -> threading.Thread:
    thread = threading.Timer(seconds, action)
    thread.start()
    return thread


def uploaded(client: Client) -> Review:
    new_author(client)
    return review_of(upload(client, [("a.txt", b"sent once")]))


def test_the_second_press_waits_for_the_first_and_is_shown_the_submission(client, editor,
                                                                           data_dir):
    review = uploaded(client)
    before = session_data(client)  # what the second press read, as the first began
    first = confirm(client, review)
    assert first.status_code == 302
    after = session_data(client)  # what the first press saved when it finished
    # Back to the moment both presses were in flight.
    sending = pending_uploads._claimed(review.pending)
    sending.mkdir()
    write_session(client, before)

    def first_press_finishes() -> None:
        write_session(client, after)
        sending.rmdir()

    thread = later(0.6, first_press_finishes)
    started = time.monotonic()
    again = confirm(client, review)
    thread.join()
    assert time.monotonic() - started >= 0.5  # it waited for the first press
    assert again.status_code == 302, again.content.decode()[:600]
    assert again["Location"] == first["Location"].replace("?sent=1", "?again=1")
    page = client.get(again["Location"]).content.decode()
    assert f"This upload was already sent, as submission {Submission.objects.get().short_id}." in page
    # The second press kept the first one's record: a third press still knows.
    third = confirm(client, review)
    assert third.status_code == 302 and third["Location"].endswith("?again=1")
    assert Submission.objects.count() == 1


def test_a_first_press_still_sending_after_the_wait_is_said_plainly(client, editor, data_dir,
                                                                     settings):
    settings.PORTAL_CONFIRM_WAIT_SECONDS = 0.5
    review = uploaded(client)
    claimed = pending_uploads.claim(review.pending)  # the first press, still encrypting
    try:
        again = confirm(client, review)
    finally:
        pending_uploads.release(review.pending, claimed)
    page = again.content.decode()
    assert again.status_code == 409
    assert BEING_SENT in page and "Please do not upload it again." in page
    assert GONE not in page and "upload it again if it was not sent" not in page
    assert Submission.objects.count() == 0


def test_when_the_first_press_fails_the_second_gets_the_upload_back_to_send(client, editor,
                                                                            data_dir):
    review = uploaded(client)
    claimed = pending_uploads.claim(review.pending)
    thread = later(0.4, lambda: pending_uploads.release(review.pending, claimed))
    again = confirm(client, review)
    thread.join()
    assert again.status_code == 200 and 'id="confirm"' in again.content.decode()
    assert GONE not in again.content.decode()
    sent = confirm(client, review)  # and pressing once more sends it
    assert sent.status_code == 302 and sent["Location"].endswith("?sent=1")
    assert Submission.objects.count() == 1


def test_an_upload_of_another_session_is_never_waited_for(client, editor, data_dir, settings):
    settings.PORTAL_CONFIRM_WAIT_SECONDS = 8
    review = uploaded(client)
    claimed = pending_uploads.claim(review.pending)
    try:
        stranger = Client()
        new_author(stranger)
        started = time.monotonic()
        answer = confirm(stranger, review)
        assert time.monotonic() - started < 4  # not the 8 s wait
    finally:
        pending_uploads.release(review.pending, claimed)
    assert answer.status_code == 400 and GONE in answer.content.decode()


def test_only_one_press_waits_however_many_arrive(client, editor, data_dir, settings):
    settings.PORTAL_CONFIRM_WAIT_SECONDS = 8
    review = uploaded(client)
    claimed = pending_uploads.claim(review.pending)
    try:
        with pending_uploads.one_waiter(review.pending) as first:  # a press already waiting
            assert first
            started = time.monotonic()
            again = confirm(client, review)
            assert time.monotonic() - started < 4  # not a second worker held for 8 s
        assert again.status_code == 409 and BEING_SENT in again.content.decode()
    finally:
        pending_uploads.release(review.pending, claimed)
    assert not list(pending_uploads.root().glob("*.waiting"))


def test_the_first_press_records_where_it_went_before_it_lets_go_of_the_upload(
    client, editor, data_dir, monkeypatch
):
    """A waiting second press reads the session as soon as the claim is gone: it must be there."""
    review = uploaded(client)
    recorded_then: dict[str, str] = {}
    real_remove = pending_uploads.remove_claimed

    def remove_claimed(claimed: Any) -> None:
        engine = import_module(settings.SESSION_ENGINE)
        key = client.cookies[settings.SESSION_COOKIE_NAME].value
        recorded_then.update(engine.SessionStore(session_key=key).get("sent_uploads", {}))
        real_remove(claimed)

    monkeypatch.setattr(pending_uploads, "remove_claimed", remove_claimed)
    assert confirm(client, review).status_code == 302
    assert recorded_then == {review.pending: str(Submission.objects.get().public_id)}
