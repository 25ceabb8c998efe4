"""The logs never say when an author was here: failures on author pages are counted, not logged.

The journal stamps every line with the second it was written; a line written
during an author's request dates their visit, and a path names their
submission. These tests make author requests fail in every way the code
knows (storage, database, CSRF, an unexpected exception, a gunicorn-level
error) and read what the process actually wrote to its standard error — the
journal's input — then check the counts reach the hourly summary instead.
"""

from __future__ import annotations

import importlib.util
import io
import logging
import logging.config
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from portal.counters.models import EventCount
from portal.editors.models import Editor
from portal.logfilter import DropRequestDetails
from portal.submissions.models import Submission
from tests.authoring import confirm, new_author, review_of, upload
from tests.editorial.editors import make_editor, verified_client

pytestmark = pytest.mark.django_db
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


@pytest.fixture
def journal():  # type: ignore[no-untyped-def]
    """What the configured log handlers write (the journal's input), as one buffer.

    The handlers are the real ones from settings.LOGGING, filters included;
    only their stream is pointed here for the test.
    """
    buffer = io.StringIO()
    handlers = {h for name in ("", "django", "django.request", "django.security", "portal",
                               "gunicorn.error")
                for h in logging.getLogger(name).handlers
                if isinstance(h, logging.StreamHandler) and not type(h).__module__.startswith("_pytest")}
    assert handlers, "no log handler is configured"
    saved = {h: h.setStream(buffer) for h in handlers}
    yield buffer
    for handler, stream in saved.items():
        handler.setStream(stream)


def counted() -> dict[str, int]:
    return {row.event: row.count for row in EventCount.objects.all()}


def test_failed_author_requests_leave_no_line_and_are_counted(data_dir, editor, settings,
                                                             journal):
    client = Client(raise_request_exception=False)
    new_author(client)
    review = review_of(upload(client, [("a.txt", b"words")]))
    blocker = data_dir / "not-a-directory"
    blocker.write_text("")
    settings.PORTAL_STORE_DIR = blocker / "store"
    assert confirm(client, review).status_code == 503  # storage failed
    settings.PORTAL_STORE_DIR = data_dir / "store"
    stale = Client(enforce_csrf_checks=True)
    assert stale.post("/author/login/", {"codename": "x"}).status_code == 403  # form expired
    assert journal.getvalue() == ""
    events = counted()
    assert events.get("submission not stored: StoreError") == 1
    assert events.get("503 answer on an author page") == 1
    assert any(e.startswith("form refused (CSRF)") for e in events)


def test_an_unexpected_error_on_an_author_page_is_counted_with_where_it_happened(
        data_dir, editor, monkeypatch, journal):
    from portal.authors import views

    client = Client(raise_request_exception=False)
    new_author(client)

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("a bug")

    monkeypatch.setattr(views, "_home_context", broken)
    assert client.get("/author/").status_code == 500
    assert journal.getvalue() == ""
    [event] = [e for e in counted() if e.startswith("error on an author page")]
    assert re.fullmatch(r"error on an author page: RuntimeError at portal/authors/views\.py:\d+",
                        event), event


def test_the_hourly_summary_says_what_and_how_often_then_forgets(data_dir, editor, settings):
    from portal.counters import count

    count("submission not stored: StoreError")
    count("submission not stored: StoreError")
    out = io.StringIO()
    call_command("purge", stdout=out)
    lines = [line for line in out.getvalue().splitlines() if line.startswith("counted")]
    assert len(lines) == 1 and "2 × submission not stored: StoreError" in lines[0]
    assert re.search(r"counted \d{4}-\d\d-\d\d: ", lines[0])  # the day, no time
    assert EventCount.objects.count() == 0


def test_editor_page_errors_are_logged_without_the_submission_id(data_dir, editor_keypair,
                                                                  monkeypatch, journal):
    from portal.editorial import views

    desk = verified_client(make_editor("managing", Editor.Role.MANAGING,
                                       key=editor_keypair.public))
    desk.raise_request_exception = False
    author = Client()
    new_author(author)
    confirm(author, review_of(upload(author, [("a.txt", b"words")])))
    submission = Submission.objects.get()

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("a bug")

    monkeypatch.setattr(views, "render_submission", broken)
    assert desk.get(f"/editor/submission/{submission.public_id}/").status_code == 500
    written = journal.getvalue()
    assert "Internal Server Error: /editor/submission/<id>/" in written
    assert "RuntimeError" in written  # editors' errors keep their traceback for the operator
    assert str(submission.public_id) not in written and not UUID.search(written)


def gunicorn_logging() -> dict:  # type: ignore[type-arg]
    spec = importlib.util.spec_from_file_location("gunicorn_conf", DEPLOY / "gunicorn.conf.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.logconfig_dict  # type: ignore[no-any-return]


def test_gunicorn_lines_about_author_requests_are_counted_and_others_scrubbed(data_dir):
    config = gunicorn_logging()
    saved = logging.getLogger("gunicorn.error").handlers[:]
    logging.config.dictConfig(config)
    buffer = io.StringIO()
    for handler in logging.getLogger("gunicorn.error").handlers:
        handler.setStream(buffer)  # type: ignore[attr-defined]
    try:
        log = logging.getLogger("gunicorn.error")
        for path in ("/author/submission/5b1f9e5f-0d1e-4d5a-9a55-3c2f1e0b7a61/",
                     "/editor/submission/5b1f9e5f-0d1e-4d5a-9a55-3c2f1e0b7a61/"):
            try:
                raise OSError("broken pipe")
            except OSError:
                log.exception("Error handling request %s", path)
        written = buffer.getvalue()
    finally:
        logging.getLogger("gunicorn.error").handlers = saved
    assert "/author/" not in written
    assert "Error handling request /editor/submission/<id>/" in written
    assert "5b1f9e5f" not in written
    assert any(e.startswith("error on an author page: OSError") for e in counted())


def test_the_filter_counts_rather_than_drops_silently(data_dir):
    record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "%s: %s",
                               ("Service Unavailable", "/author/submit/confirm/"), None)
    record.status_code = 503
    assert DropRequestDetails().filter(record) is False
    assert counted() == {"503 answer on an author page": 1}


def test_the_authors_nginx_site_logs_nothing_about_requests():
    site = (DEPLOY / "nginx" / "penname.conf").read_text()
    authors = site.split("server {")[1]
    assert "access_log off;" in authors
    assert re.search(r"error_log \S+ emerg;", authors)
