"""Every size and count an upload controls has a limit, tested at the limit."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from portal.submissions.models import Submission
from tests.authoring import new_author, review_of, upload

pytestmark = pytest.mark.django_db
KiB = 1024


def spool_files(data_dir: Path) -> list[Path]:
    return [p for p in (data_dir / "spool").rglob("*") if p.is_file()]


@pytest.fixture
def small_limits(settings):  # type: ignore[no-untyped-def]
    settings.PORTAL_MAX_FILES = 3
    settings.PORTAL_MAX_FILE_BYTES = 200 * KiB
    settings.PORTAL_MAX_SUBMISSION_BYTES = 300 * KiB


def test_file_count_at_the_limit_is_accepted(client, editor, data_dir, small_limits):
    new_author(client)
    review_of(upload(client, [(f"{i}.txt", b"words") for i in range(3)]))


def test_one_file_too_many_is_refused_and_nothing_kept(client, editor, data_dir, small_limits):
    new_author(client)
    response = upload(client, [(f"{i}.txt", b"words") for i in range(4)])
    assert response.status_code == 400
    assert "at most 3 files" in response.content.decode()
    assert spool_files(data_dir) == []


def test_file_at_the_size_limit_is_accepted(client, editor, data_dir, small_limits):
    new_author(client)
    review_of(upload(client, [("big.txt", b"a" * (200 * KiB))]))


def test_file_over_the_size_limit_is_aborted_mid_stream(client, editor, data_dir, small_limits):
    new_author(client)
    response = upload(client, [("big.txt", b"a" * (200 * KiB + 1))])
    assert response.status_code == 400
    assert "at most 0 MB" not in response.content.decode()
    assert "Nothing was kept" in response.content.decode()
    assert spool_files(data_dir) == []
    assert Submission.objects.count() == 0


def test_total_over_the_limit_is_refused(client, editor, data_dir, small_limits):
    new_author(client)
    files = [("a.txt", b"a" * (150 * KiB)), ("b.txt", b"b" * (150 * KiB + 1))]
    response = upload(client, files)
    assert response.status_code == 400
    assert "All files together" in response.content.decode()
    assert spool_files(data_dir) == []


def test_total_at_the_limit_is_accepted(client, editor, data_dir, small_limits):
    new_author(client)
    review_of(upload(client, [("a.txt", b"a" * (150 * KiB)), ("b.txt", b"b" * (150 * KiB))]))


def test_declared_content_length_over_the_limit_is_refused_unread(
    client, editor, data_dir, small_limits
):
    new_author(client)
    body = b"x" * 10
    response = client.generic(
        "POST", "/author/submit/", body,
        content_type="multipart/form-data; boundary=B",
        CONTENT_LENGTH=str(400 * 1024 * 1024),
    )
    assert response.status_code == 400
    assert "All files together" in response.content.decode()


def test_empty_upload_asks_for_a_file(client, editor, data_dir):
    new_author(client)
    response = client.post("/author/submit/", {"title": "t", "message": ""})
    assert response.status_code == 400
    assert "choose at least one file" in response.content.decode()


def test_zero_byte_file_is_refused(client, editor, data_dir):
    new_author(client)
    response = upload(client, [("empty.txt", b"")])
    assert response.status_code == 400
    assert "is empty" in response.content.decode()


def test_non_multipart_post_is_refused(client, editor, data_dir):
    new_author(client)
    response = client.post("/author/submit/", "title=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "did not arrive as a file upload" in response.content.decode()


def test_missing_csrf_token_is_refused_and_nothing_kept(editor, data_dir):
    strict = Client(enforce_csrf_checks=True)
    new_author_with_csrf(strict)
    response = upload(strict, [("a.txt", b"words")])
    assert response.status_code == 403
    assert "expired or was not sent from this site" in response.content.decode()
    assert spool_files(data_dir) == []


def new_author_with_csrf(client: Client) -> None:
    import re

    page = client.get("/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert client.post("/author/new/", {"csrfmiddlewaretoken": token}).status_code == 200


def test_unexpected_file_field_is_refused(client, editor, data_dir):
    from django.core.files.uploadedfile import SimpleUploadedFile

    new_author(client)
    response = client.post("/author/submit/", {"title": "t", "other": SimpleUploadedFile("x", b"1")})
    assert response.status_code == 400
    assert spool_files(data_dir) == []


def test_title_and_message_are_bounded(client, editor, data_dir, settings):
    new_author(client)
    too_long = "题" * (settings.PORTAL_MAX_TITLE_CHARS + 1)
    response = upload(client, [("a.txt", b"x")], title=too_long)
    assert response.status_code == 400
    assert spool_files(data_dir) == []
    at_limit = "题" * settings.PORTAL_MAX_TITLE_CHARS
    review_of(upload(client, [("a.txt", b"x")], title=at_limit,
                     message="m" * settings.PORTAL_MAX_MESSAGE_CHARS))
    response = upload(client, [("a.txt", b"x")],
                      message="m" * (settings.PORTAL_MAX_MESSAGE_CHARS + 1))
    assert response.status_code == 400


def test_views_that_take_no_files_store_none(client, editor, data_dir):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post("/author/new/", {"pen_name": "x", "f": SimpleUploadedFile("a", b"z" * 99)})
    assert response.status_code == 200
    assert spool_files(data_dir) == []


def test_abandoned_pending_upload_is_swept_after_an_hour(client, editor, data_dir):
    import os
    import time

    from portal.authors import pending

    new_author(client)
    review_of(upload(client, [("a.txt", b"waiting")]))
    assert spool_files(data_dir)
    assert pending.sweep() == 0
    old = time.time() - 3601
    for path in (data_dir / "spool").rglob("*"):
        os.utime(path, (old, old))
    assert pending.sweep() == 1
    assert spool_files(data_dir) == []


def test_file_names_are_made_safe_to_show(client, editor, data_dir, settings):
    from portal.authors.upload import clean_file_name

    assert clean_file_name("../../etc/passwd") == "passwd"
    assert clean_file_name("C:\\Users\\lin\\draft.docx") == "draft.docx"
    assert clean_file_name("evil\u202etxt.exe") == "eviltxt.exe"
    assert clean_file_name("a\x00b.txt") == "ab.txt"
    long_name = clean_file_name("x" * 10_000 + ".docx")
    assert len(long_name) <= settings.PORTAL_MAX_FILE_NAME_CHARS and long_name.endswith(".docx")
