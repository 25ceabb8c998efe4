"""Editors' opt-in notification: off by default, and it says "something new", nothing else."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.management import call_command

from portal.editorial.notify import BODY, SUBJECT
from portal.editors.models import Editor
from tests.authoring import confirm, new_author, review_of, upload
from tests.editorial.editors import make_editor, verified_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(db, data_dir, editor_keypair):  # type: ignore[no-untyped-def]
    # The test runner replaces every mailer with the in-memory one (mail.outbox).
    listening = make_editor("listening", key=editor_keypair.public)
    make_editor("quiet")
    client = verified_client(listening)
    response = client.post("/editor/account/notifications/", {"address": "ed@example.org"})
    assert response.status_code == 302
    return listening


def test_nothing_is_sent_by_default_or_when_nothing_is_new(team):
    assert Editor.objects.get(user__username="quiet").notify_address == ""
    call_command("notify_editors")
    mail.outbox.clear()
    call_command("notify_editors")
    assert mail.outbox == []


def test_a_new_submission_gives_one_mail_that_says_nothing_about_it(team, client):
    call_command("notify_editors")  # whatever existed before
    mail.outbox.clear()
    new_author(client, pen_name="Lin Qing")
    assert confirm(client, review_of(upload(client, [("d.md", b"# x\n")],
                                            title="Night shift"))).status_code == 302
    call_command("notify_editors")
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["ed@example.org"] and sent.subject == SUBJECT and sent.body == BODY
    call_command("notify_editors")
    assert len(mail.outbox) == 1  # told once


def test_an_invalid_address_is_refused_and_empty_turns_it_off(team):
    client = verified_client(team)
    assert client.post("/editor/account/notifications/", {"address": "not an address"}
                       ).status_code == 400
    assert client.post("/editor/account/notifications/", {"address": ""}).status_code == 302
    assert Editor.objects.get(user=team).notify_address == ""
