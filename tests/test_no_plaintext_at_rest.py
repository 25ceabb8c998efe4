"""No plaintext at rest: a canary in an uploaded document is never found anywhere.

Searched for raw, as UTF-16 and as base64, under the data directory, the temp
directory, in a dump of every database table and in every log line, after the
upload step and again after confirm.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import pytest

from tests.authoring import confirm, new_author, review_of, upload
from tests.leaks import database_dump, found_in, found_in_files

pytestmark = pytest.mark.django_db
CANARY = "CANARY-7d1e-狮子-9f"


def assert_nowhere(canary: str, data_dir: Path, caplog, capfd) -> None:  # type: ignore[no-untyped-def]
    assert found_in_files(canary, data_dir, Path(tempfile.gettempdir())) == []
    assert not found_in(canary, database_dump())
    captured = capfd.readouterr()
    logs = "\n".join(r.getMessage() for r in caplog.records) + captured.out + captured.err
    assert not found_in(canary, logs.encode("utf-8"))


def test_canary_never_reaches_disk_database_or_logs(client, editor, data_dir, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    new_author(client, pen_name="pen")
    document = f"Title line\nThe body mentions {CANARY} twice: {CANARY}.\n".encode()
    review = review_of(upload(
        client, [(f"{CANARY}.txt", document)], title=f"title {CANARY}", message=f"msg {CANARY}"
    ))
    assert CANARY in review.html  # the author sees their own words, from memory
    assert_nowhere(CANARY, data_dir, caplog, capfd)
    assert confirm(client, review).status_code == 302
    assert_nowhere(CANARY, data_dir, caplog, capfd)


def test_canary_in_a_refused_file_sent_uncleaned_never_reaches_disk(
    client, editor, data_dir, caplog, capfd
):
    caplog.set_level(logging.DEBUG)
    new_author(client)
    binary = b"\x00\x01" + CANARY.encode() + b"\x00" * 50
    review = review_of(upload(client, [("x.bin", binary)]))
    assert_nowhere(CANARY, data_dir, caplog, capfd)
    assert confirm(client, review, send_uncleaned_0="yes").status_code == 302
    assert_nowhere(CANARY, data_dir, caplog, capfd)


def test_canary_in_an_abandoned_upload_never_reaches_disk(client, editor, data_dir, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    new_author(client)
    review_of(upload(client, [("a.md", f"# {CANARY}\n".encode())]))
    assert_nowhere(CANARY, data_dir, caplog, capfd)


def test_spool_files_are_noise_without_the_key(client, editor, data_dir):
    new_author(client)
    review_of(upload(client, [("a.txt", b"A" * 200_000)]))
    for path in (data_dir / "spool").rglob("*"):
        if path.is_file():
            assert b"AAAAAAAA" not in path.read_bytes()
