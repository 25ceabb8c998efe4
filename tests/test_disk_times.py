"""Dates are days on the disk too: no stored file's times say when an author acted.

A copy of the disk holds every file's modification, change and birth times.
Written directly, a ciphertext file would give the second an author confirmed
an upload or wrote a message. Here: new ciphertext waits in `.batch/` (its
modification time already the day) and the batch run writes it anew with
modification time 00:00 UTC, so its change and birth times are the batch's,
not the author's; gpg keeps no random seed file whose time would date the last
encryption; an author's own reply key never enters the server's keyring.

The clock the batch runs with is fixed by the test; change and birth times
come from the kernel, so the test shows they are those of the batch run and
later than the confirmation.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from portal.correspondence.models import Message
from portal.store import NAME_RE, batch_boundary, start_of_day
from portal.submissions.ciphertext import publish_batch
from portal.submissions.models import Submission
from portal.submissions.recipients import keyring
from tests.authoring import confirm, new_author, review_of, upload
from tests.storage import blob_files, blob_path

pytestmark = pytest.mark.django_db
HOUR = 3600


def birth_time(path: Path) -> int:
    """The file's birth time from statx (0 when the file system does not record one)."""
    return int(subprocess.run(["stat", "-c", "%W", str(path)], capture_output=True, text=True,
                              check=True).stdout)


def is_midnight_utc(moment: float) -> bool:
    when = datetime.fromtimestamp(moment, tz=UTC)
    return (when.hour, when.minute, when.second, when.microsecond) == (0, 0, 0, 0)




def submit_and_talk(client, desk) -> Submission:  # type: ignore[no-untyped-def]
    new_author(client)
    sent = confirm(client, review_of(upload(client, [("a.md", b"# words\n")])))
    assert sent.status_code == 302
    submission = Submission.objects.get()
    base = f"/author/submission/{submission.public_id}/"
    assert client.post(f"{base}message/", {"text": "a question"}).status_code == 302
    answer = desk.post(f"/editor/submission/{submission.public_id}/reply/", {"text": "an answer"})
    assert answer.status_code == 302
    return submission


def test_ciphertext_waits_for_its_batch_then_carries_only_the_day(client, desk, data_dir,
                                                                  editor_keypair):
    confirmed_at = time.time()
    submission = submit_and_talk(client, desk)
    store = data_dir / "store"
    waiting = blob_files(data_dir)
    assert len(waiting) == 4  # the file, the manifest, two messages
    assert {p.parent for p in waiting} == {store / ".batch"}
    assert all(p.stat().st_mtime == start_of_day(confirmed_at) for p in waiting)

    # The same hour: the boundary is before the files arrived, so they wait.
    assert publish_batch(now=confirmed_at) == 0
    time.sleep(1.1)  # the batch runs in a later second than the confirmation
    fixed = batch_boundary(confirmed_at, 1) + HOUR + 5  # the next boundary, by a fixed clock
    batch_started = int(time.time())
    assert publish_batch(now=fixed) == 4
    published = blob_files(data_dir)
    assert {p.parent for p in published} == {store}
    assert not [p for p in (store / ".batch").iterdir() if NAME_RE.match(p.name)]
    for path in published:
        times = path.stat()
        assert times.st_mtime == times.st_atime == start_of_day(fixed), path
        assert is_midnight_utc(times.st_mtime)
        # Written anew by the batch: its change and birth times are the batch's.
        assert int(times.st_ctime) >= batch_started > int(confirmed_at), path
        born = birth_time(path)
        if born:  # ext4, xfs, btrfs and tmpfs record it; the check is skipped nowhere in CI
            assert born >= batch_started > int(confirmed_at), path
    # Nothing was lost on the way: the editors still read everything.
    manifest = json.loads(editor_keypair.decrypt(store / submission.manifest_blob))
    assert manifest["submission"] == str(submission.public_id)
    texts = {editor_keypair.decrypt(store / m.blob) for m in Message.objects.all()}
    assert texts == {b"a question", b"an answer"}


def test_a_file_that_arrives_after_a_boundary_waits_for_the_next(client, desk, data_dir):
    submit_and_talk(client, desk)
    arrived = max(p.stat().st_ctime for p in blob_files(data_dir))
    assert publish_batch(now=arrived) == 0
    assert all(p.parent.name == ".batch" for p in blob_files(data_dir))


@pytest.mark.parametrize(("clock", "hours", "boundary"), [
    ("2026-03-05T12:34:56", 1, "2026-03-05T12:00:00"),
    ("2026-03-05T12:34:56", 6, "2026-03-05T12:00:00"),
    ("2026-03-05T05:59:59", 6, "2026-03-05T00:00:00"),
    ("2026-03-05T23:59:59", 24, "2026-03-05T00:00:00"),
    ("2026-03-05T00:00:00", 8, "2026-03-05T00:00:00"),
])
def test_batch_boundaries_count_from_midnight_utc(clock, hours, boundary):
    def moment(text: str) -> float:
        return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()

    assert batch_boundary(moment(clock), hours) == moment(boundary)


def test_a_batch_window_that_does_not_divide_the_day_is_refused():
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={"DJANGO_SETTINGS_MODULE": "portal.settings", "PORTAL_DEBUG": "True",
             "PORTAL_DATA_DIR": "/nonexistent-penname", "PORTAL_BATCH_HOURS": "5",
             "PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).parent.parent)},
        capture_output=True, text=True, check=False)
    assert result.returncode != 0 and "PORTAL_BATCH_HOURS must divide the day" in result.stderr


def test_gpg_leaves_no_random_seed_to_date_the_last_encryption(client, desk, data_dir):
    submit_and_talk(client, desk)
    assert not (data_dir / "gnupg" / "random_seed").exists()


def test_an_authors_own_key_never_enters_the_servers_keyring(client, desk, data_dir,
                                                             author_own_keypair):
    new_author(client)
    assert client.post("/author/reply-key/own/",
                       {"public_key": author_own_keypair.public}).status_code == 302
    confirm(client, review_of(upload(client, [("a.md", b"# words\n")])))
    submission = Submission.objects.get()
    answer = desk.post(f"/editor/submission/{submission.public_id}/reply/", {"text": "to you"})
    assert answer.status_code == 302
    assert Message.objects.get().reply_key == author_own_keypair.fingerprint
    assert keyring().key_info(author_own_keypair.fingerprint).reason == \
        "the key is not in the keyring"
    assert author_own_keypair.decrypt(blob_path(data_dir, Message.objects.get().blob)) == b"to you"


def test_readers_find_the_newest_copy_while_files_wait_and_after_they_are_published(tmp_path):
    """A replacement waits beside the published copy; readers get the newer one, always."""
    import io as _io

    from portal.store import Store

    store = Store(tmp_path / "store")
    accept = lambda path: True  # noqa: E731 - the content check is not the subject here
    name = store.receive(_io.BytesIO(b"first"), 100, accept)
    assert store.publish(before=time.time() + 1) == 1
    with store.open(name) as handle:
        assert handle.read() == b"first"
    store.receive(_io.BytesIO(b"second, longer"), 100, accept, replace=name)
    with store.open(name) as handle:  # the waiting replacement, not the published original
        assert handle.read() == b"second, longer"
    assert store.size(name) == len(b"second, longer")
    assert list(store.names()) == [name]
    assert store.publish(before=time.time() + 1) == 1
    assert store.path(name).parent == store.root and store.size(name) == 14
    store.delete([name])
    assert list(store.names()) == []
    with pytest.raises(FileNotFoundError):
        store.open(name)
