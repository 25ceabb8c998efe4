"""Fail closed and say so: gpg, keys, disk and database failures leave nothing behind."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from portal.submissions.models import Submission, SubmissionFile
from tests.authoring import confirm, new_author, review_of, upload

pytestmark = pytest.mark.django_db
REAL_GPG = shutil.which("gpg") or "gpg"


def stored(data_dir: Path) -> list[Path]:
    store = data_dir / "store"
    return [p for p in store.rglob("*") if p.is_file()] if store.exists() else []


def assert_nothing_stored(data_dir: Path) -> None:
    assert Submission.objects.count() == 0
    assert SubmissionFile.objects.count() == 0
    assert stored(data_dir) == []


def fake_gpg(tmp_path: Path, encrypt_behaviour: str) -> str:
    """A gpg that works for everything except encryption, which fails as described."""
    script = tmp_path / "gpg"
    script.write_text(f"""#!/bin/sh
for arg in "$@"; do
  if [ "$arg" = "--encrypt" ]; then
    {encrypt_behaviour}
  fi
done
exec {REAL_GPG} "$@"
""")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_gpg_failing_mid_stream_stores_nothing_and_says_so(
    client, editor, data_dir, settings, tmp_path
):
    new_author(client)
    review = review_of(upload(client, [("a.txt", b"x" * 300_000)]))
    # Read part of the plaintext, write a partial ciphertext, then die.
    settings.PORTAL_GPG_BINARY = fake_gpg(
        tmp_path, 'head -c 1000 >/dev/null; out=""; prev="";'
        ' for a in "$@"; do [ "$prev" = "--output" ] && out="$a"; prev="$a"; done;'
        ' [ -n "$out" ] && printf partial > "$out"; exit 2'
    )
    response = confirm(client, review)
    assert response.status_code == 503
    assert "Encryption failed" in response.content.decode()
    assert_nothing_stored(data_dir)
    # The author can retry once gpg works again: nothing was lost.
    settings.PORTAL_GPG_BINARY = REAL_GPG
    assert confirm(client, review).status_code == 302
    assert Submission.objects.count() == 1


def test_gpg_missing_closes_submissions(client, editor, data_dir, settings):
    new_author(client)
    review = review_of(upload(client, [("a.txt", b"words")]))
    settings.PORTAL_GPG_BINARY = "/nonexistent/gpg"
    response = confirm(client, review)
    assert response.status_code == 503
    # The first gpg run of a confirmation makes the author's reply key; it fails first.
    assert "Nothing was sent: the server could not make the key" in response.content.decode()
    assert_nothing_stored(data_dir)
    page = client.get("/author/").content.decode()
    assert "Submissions are closed" in page
    response = upload(client, [("b.txt", b"words")])
    assert response.status_code == 400
    assert "Submissions are closed" in response.content.decode()


def test_expired_editor_key_closes_submissions(
    client, data_dir, editor_keypair, expired_keypair, django_user_model
):
    from portal.submissions.models import EditorKey
    from tests.editorial.editors import approved_key

    user = django_user_model.objects.create_user("editor")
    approved_key(user, editor_keypair.public)
    new_author(client)
    review = review_of(upload(client, [("a.txt", b"words")]))
    # The only key is replaced by one that has expired since it was added.
    EditorKey.objects.all().delete()
    EditorKey.objects.create(user=user, fingerprint=expired_keypair.fingerprint,
                             armored=expired_keypair.public, algorithm="ECDH cv25519",
                             approved_on=date.today())
    response = confirm(client, review)
    assert response.status_code == 503
    assert "Submissions are closed" in response.content.decode()
    assert_nothing_stored(data_dir)
    assert "Submissions are closed" in client.get("/author/").content.decode()


def test_no_editor_at_all_means_closed(client, db, data_dir):
    new_author(client)
    page = client.get("/author/").content.decode()
    assert "Submissions are closed" in page
    assert 'id="submit"' not in page


def test_unwritable_store_stores_nothing_and_says_so(client, editor, data_dir, settings):
    new_author(client)
    review = review_of(upload(client, [("a.txt", b"words")]))
    blocker = data_dir / "not-a-directory"
    blocker.write_text("")
    settings.PORTAL_STORE_DIR = blocker / "store"
    response = confirm(client, review)
    assert response.status_code == 503
    assert "could not save your submission" in response.content.decode()
    assert Submission.objects.count() == 0


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs, so the store really runs out of space."""
    mountpoint = tmp_path / "tiny"
    mountpoint.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mountpoint)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a tmpfs for the full-disk test: {result.stderr}")
        pytest.skip(f"FULL-DISK TEST SKIPPED: cannot mount a tmpfs here ({result.stderr.strip()})")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def test_full_disk_stores_nothing_and_says_so(client, editor, data_dir, settings, tiny_disk):
    new_author(client)
    import random

    noise = random.Random(1).randbytes(600_000)  # incompressible: cannot fit in 256 KiB
    review = review_of(upload(client, [("a.txt", noise.hex()[:600_000].encode())]))
    settings.PORTAL_STORE_DIR = tiny_disk / "store"
    response = confirm(client, review)
    assert response.status_code == 503
    assert "could not save your submission" in response.content.decode()
    assert "nothing was kept" in response.content.decode()
    assert Submission.objects.count() == 0
    assert [p for p in tiny_disk.rglob("*") if p.is_file()] == []


def test_database_failure_at_confirm_leaves_no_ciphertext(
    client, editor, data_dir, monkeypatch
):
    from django.db import DatabaseError

    from portal.authors import sending

    new_author(client)
    review = review_of(upload(client, [("a.txt", b"words")]))

    def broken_bulk_create(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise DatabaseError("the database went away")

    monkeypatch.setattr(sending.SubmissionFile.objects, "bulk_create", broken_bulk_create)
    response = confirm(client, review)
    assert response.status_code == 503
    assert "could not record your submission" in response.content.decode()
    assert_nothing_stored(data_dir)


def test_spool_disk_failure_during_upload_keeps_nothing(client, editor, data_dir, settings):
    new_author(client)
    blocker = data_dir / "spool-blocker"
    blocker.write_text("")
    settings.PORTAL_SPOOL_DIR = blocker / "spool"
    with pytest.raises(OSError):
        upload(client, [("a.txt", b"words")])


def test_without_the_sandbox_uploads_are_refused_with_a_clear_sentence(
    client, editor, data_dir, monkeypatch
):
    """Never cleaned unconfined: every file is refused and the author reads why."""
    monkeypatch.setenv("PORTAL_BWRAP", "/nonexistent/bwrap")
    new_author(client)
    review = review_of(upload(client, [("a.txt", b"words"), ("b.txt", b"more words")]))
    assert review.html.count("The server cannot clean files safely right now") == 2, review.html
    assert_nothing_stored(data_dir)
