"""No IP address, User-Agent, Referer or fine timestamp of author activity is kept."""

from __future__ import annotations

import logging
import re

import pytest

from tests.authoring import confirm, new_author, review_of, upload
from tests.leaks import database_dump

pytestmark = pytest.mark.django_db
ADDRESS = "203.0.113.77"
AGENT = "DistinctiveAgent/9.9 (canary-ua-4417)"
REFERER = "http://referer-canary-5521.example/"


def test_forwarded_for_user_agent_and_referer_leave_no_trace(
    client, editor, data_dir, caplog, capfd
):
    caplog.set_level(logging.DEBUG)
    headers = {"HTTP_X_FORWARDED_FOR": ADDRESS, "REMOTE_ADDR": ADDRESS,
               "HTTP_USER_AGENT": AGENT, "HTTP_REFERER": REFERER}
    client.defaults.update(headers)
    codename = new_author(client)
    client.post("/author/logout/")
    client.post("/author/login/", {"codename": codename})
    client.post("/author/login/", {"codename": "wrong " * 7})
    confirm(client, review_of(upload(client, [("a.txt", b"words")])))
    client.get("/does-not-exist/")
    client.post("/author/submit/confirm/", {"pending": "0" * 32, "key": "x"})
    dump = database_dump()
    captured = capfd.readouterr()
    logs = "\n".join(r.getMessage() + repr(r.__dict__) for r in caplog.records)
    logs += captured.out + captured.err
    for trace in (ADDRESS, AGENT, "canary-ua-4417", "referer-canary-5521"):
        assert trace.encode() not in dump
        assert trace not in logs


def test_author_dates_are_days_not_times(client, editor, data_dir):
    from portal.submissions.models import Author, Submission

    new_author(client)
    confirm(client, review_of(upload(client, [("a.txt", b"words")])))
    dump = database_dump(prefix="authors_").decode("utf-8", "replace")
    # No time of day anywhere in the author tables.
    for model in (Author, Submission):
        for field in model._meta.get_fields():
            internal = getattr(field, "get_internal_type", lambda: "")()
            assert internal not in ("DateTimeField", "TimeField"), f"{model.__name__}.{field.name}"
    assert not re.search(r"\d{2}:\d{2}", dump)


def test_sessions_are_not_stored_in_the_database(settings):
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.cache"


def test_logging_has_no_access_log_and_no_timestamps(settings):
    assert settings.LOGGING["loggers"]["django.server"]["handlers"] == []
    for formatter in settings.LOGGING["formatters"].values():
        assert "asctime" not in formatter["format"]
