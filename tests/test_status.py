"""`portal status` and recorded failures: what fails at night reaches the admin and the managing editors.

Real commands (backup with real gpg, purge), a failure recorded as
penname-failure@.service records it, and the real dashboard.
"""

from __future__ import annotations

import io
import json
import os

import pytest
from django.core.management import CommandError, call_command

from portal import jobs
from portal.editors.models import Editor
from tests.editorial.editors import make_editor, verified_client
from tests.gpgkeys import make_keypair

pytestmark = pytest.mark.django_db


def status(**options: object) -> tuple[bool, str]:
    """(in order?, what it said)."""
    out = io.StringIO()
    try:
        call_command("status", stdout=out, **options)
    except CommandError as exc:
        assert "need attention" in str(exc)
        return False, out.getvalue()
    return True, out.getvalue()


@pytest.fixture
def backed_up(tmp_path, data_dir, outsider_keypair, monkeypatch):
    """A purge and a backup that succeeded today, with PORTAL_BACKUP_KEY set as the timer's is."""
    key = tmp_path / "admin.asc"
    key.write_text(outsider_keypair.public)
    (tmp_path / "backups").mkdir()
    call_command("backup", "--key", str(key), str(tmp_path / "backups"), stdout=io.StringIO())
    call_command("purge", stdout=io.StringIO())
    monkeypatch.setenv("PORTAL_BACKUP_KEY", outsider_keypair.fingerprint)
    return tmp_path / "backups"


def test_status_is_in_order_after_a_backup_and_a_purge(editor, backed_up):
    ok, said = status()
    assert ok, said
    assert "the last successful backup was made today" in said
    assert "purge (penname-purge.service): last run today succeeded" in said
    assert "notify (penname-notify.service): no run recorded yet" in said
    assert "editor keys: 1 active, none expires within 30 days" in said
    assert said.rstrip().endswith("everything is in order")
    # Days only: nothing finer than the day is kept about any job.
    recorded = json.loads(jobs._path().read_text())
    assert recorded["jobs"]["backup"] == {"result": "succeeded", "on": jobs.today().isoformat(),
                                          "last_success": jobs.today().isoformat()}


def test_status_needs_attention_on_a_fresh_server(editor, data_dir, monkeypatch):
    monkeypatch.delenv("PORTAL_BACKUP_KEY", raising=False)
    ok, said = status()
    assert not ok
    assert "attention: no backup has succeeded on this server yet" in said
    assert "attention: PORTAL_BACKUP_KEY is not set" in said
    assert "attention: purge (penname-purge.service): no run recorded yet" in said


def test_a_failed_backup_reaches_status_and_the_managing_editors_dashboard(
        editor, backed_up):
    call_command("record_failure", "penname-backup.service", stdout=io.StringIO())
    ok, said = status()
    assert not ok
    assert "attention: backup (penname-backup.service) failed today (last success " \
           f"{jobs.today()}): see `journalctl -u penname-backup.service`" in said
    managing = verified_client(make_editor("boss", Editor.Role.MANAGING))
    page = managing.get("/editor/").content.decode()
    assert 'id="server-failures"' in page and "penname-backup.service" in page
    # Other editors cannot act on it and are not shown the server's troubles.
    plain = verified_client(make_editor("reader", Editor.Role.EDITOR))
    assert "penname-backup.service" not in plain.get("/editor/").content.decode()
    # The next successful backup clears it, for status and for the dashboard.
    call_command("backup", "--key", os.environ["PORTAL_BACKUP_KEY"],
                 str(backed_up / "second.tar.gpg"), stdout=io.StringIO())
    assert status()[0]
    assert 'id="server-failures"' not in managing.get("/editor/").content.decode()


def test_a_failed_server_stays_shown_until_the_admin_clears_it(editor, backed_up):
    call_command("record_failure", "penname.service", stdout=io.StringIO())
    ok, said = status()
    assert not ok and "attention: penname.service failed on" in said
    call_command("purge", stdout=io.StringIO())  # another job's success does not clear it
    assert not status()[0]
    ok, said = status(clear_failures=True)
    assert ok and "forgot the recorded failure of penname.service" in said


def test_record_failure_refuses_what_is_not_a_unit_name(data_dir):
    with pytest.raises(CommandError, match="is not a systemd unit name"):
        call_command("record_failure", "../../etc/passwd x")


def test_status_names_keys_about_to_expire(data_dir, backed_up, keys_root):
    soon = make_keypair(keys_root / "soon", "Soon <soon@penname.invalid>", expire="10d")
    make_editor("soon", key=soon.public)
    ok, said = status()
    assert not ok
    assert f"attention: the key of soon ({soon.fingerprint}) expires on" in said


def test_status_says_when_room_runs_low_or_batches_wait_too_long(editor, backed_up, data_dir,
                                                                  monkeypatch):
    from portal.operations.management.commands import status as command

    batch = data_dir / "store" / ".batch"
    batch.mkdir(parents=True, exist_ok=True)
    (batch / ("a" * 32 + ".gpg")).write_bytes(b"x")
    ok, said = status()
    assert ok and "1 ciphertext file(s) waiting for the next batch" in said
    monkeypatch.setattr(command, "BATCH_GRACE_SECONDS", -10**6)  # as if it had waited a day
    ok, said = status()
    assert not ok and "is penname-purge.timer running?" in said
    monkeypatch.setattr(command, "BATCH_GRACE_SECONDS", 7200)
    monkeypatch.setattr(command, "LOW_ROOM_BYTES", 10**18)
    ok, said = status()
    assert not ok and "uploads are refused once it is full" in said
