"""`portal backup` and `portal restore`: a complete round trip that reveals no draft.

A real server takes a submission with a canary in every field, is backed up
twice (key given as a file, then by fingerprint as the nightly timer does),
and the backup is restored into a new, empty data directory and database:
same rows, same ciphertext bytes, same pepper, so the author's codename opens
their page on the new server. The backup holds the canary in no encoding,
not even once decrypted with the admin's key.
"""

from __future__ import annotations

import collections
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.gpgkeys import EditorKeypair, make_keypair
from tests.httpauthor import HttpAuthor
from tests.leaks import found_in
from tests.liveserver import LiveServer, live_server, server_database, server_env
from tests.storage import blob_files

pytestmark = pytest.mark.slow
CANARY = "canary-backup-5fd1c2-女工夜班"
# Rows `migrate` makes by itself on the new server (and numbers its own way), and
# sessions (kept in the cache, never in the database). Every other model of every
# installed app is compared, so a new app is held to the round trip without a
# change here.
MADE_BY_MIGRATE = ["contenttypes", "auth.permission", "sessions"]
COUNT_ROWS = """
import json
from django.apps import apps
print(json.dumps({m._meta.label_lower: m._base_manager.count() for m in apps.get_models()}))
"""


@pytest.fixture(scope="session")
def admin_keypair(keys_root: Path) -> EditorKeypair:
    """The admin's own key (on their laptop); the server only ever sees the public half."""
    return make_keypair(keys_root / "admin", "Penname Admin <admin@penname.invalid>")


def rows(server: LiveServer) -> list[dict]:
    """Every row of every app but MADE_BY_MIGRATE, field by field."""
    excluded = [arg for label in MADE_BY_MIGRATE for arg in ("--exclude", label)]
    return json.loads(server.portal("dumpdata", "--all", "--natural-foreign", *excluded))


def row_counts(server: LiveServer) -> dict[str, int]:
    """Rows per model, counted in the database itself (not through dumpdata)."""
    counts = json.loads(server.portal("shell", "--no-imports", "-c", COUNT_ROWS))
    return {label: n for label, n in counts.items()
            if n and label not in MADE_BY_MIGRATE and label.split(".")[0] not in MADE_BY_MIGRATE}


def ciphertext(data_dir: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in blob_files(data_dir)}


def test_backup_restores_everything_and_reveals_no_draft(tmp_path, editor_keypair, admin_keypair):
    admin_key = tmp_path / "admin.asc"
    admin_key.write_text(admin_keypair.public)
    backups = tmp_path / "backups"
    backups.mkdir()
    first = backups / "by-key-file.tar.gpg"
    with live_server(tmp_path / "a", editor_keypair.public) as old:
        author = HttpAuthor(old.url)
        codename = author.new_author("夜莺")
        draft = f"第一章 {CANARY}\n".encode()
        status, review = author.upload(f"夜班 {CANARY}", [(f"{CANARY}.txt", io.BytesIO(draft),
                                                         len(draft))], message=CANARY)
        assert status == 200 and author.confirm(review)[0] == 200
        assert "encrypted to " + admin_keypair.fingerprint in \
            old.portal("backup", "--key", str(admin_key), str(first))
        # The nightly form: a fingerprint already imported, a directory to write into.
        old.portal("backup", "--key", admin_keypair.fingerprint, str(backups))
        [nightly] = backups.glob("penname-*.tar.gpg")
        before, store_before, counts_before = rows(old), ciphertext(old.data_dir), row_counts(old)
        # The admin key is kept apart: submissions are never encrypted to it.
        server_keys = subprocess.run(["gpg", "--homedir", str(old.data_dir / "gnupg"),
                                      "--list-keys", admin_keypair.fingerprint],
                                     capture_output=True, check=False)
        assert server_keys.returncode != 0
    assert len(store_before) == 2 and any(r["model"] == "authors.submission" for r in before)

    # Without the admin's key the backups are opaque; with it, drafts are still ciphertext.
    for backup in (first, nightly):
        assert oct(backup.stat().st_mode & 0o777) == "0o600"
        assert not found_in(CANARY, backup.read_bytes())
    archive = admin_keypair.decrypt(first)
    assert not found_in(CANARY, archive)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        members = tar.getmembers()
        names = [m.name for m in members]
        dumped = json.loads(tar.extractfile("database.json").read())  # type: ignore[union-attr]
    assert names[:4] == ["meta.json", "secrets/codename_pepper", "database.json",
                         f"admin/{admin_keypair.fingerprint}.asc"]
    assert sorted(names[4:]) == sorted(f"store/{n}" for n in store_before)
    assert {m.mtime for m in members} == {0}  # no arrival times
    # Every row of every model that has any is in the archive (no list of apps decides).
    assert collections.Counter(row["model"] for row in dumped) == counts_before
    assert {"authors.author", "authors.submission", "editorial.editor"} <= set(counts_before)

    new_dir = tmp_path / "b"
    new_dir.mkdir()
    with server_database(new_dir) as database_url:
        new = LiveServer(new_dir, database_url, server_env(new_dir, database_url,
                                                           {"GNUPGHOME": str(admin_keypair.home)}))
        assert "restored" in new.portal("restore", str(nightly))
        assert rows(new) == before
        assert row_counts(new) == counts_before
        assert ciphertext(new_dir) == store_before
        assert (new_dir / "secrets" / "codename_pepper").read_text() == \
            (tmp_path / "a" / "secrets" / "codename_pepper").read_text()
        with pytest.raises(RuntimeError, match="only fills an empty portal"):
            new.portal("restore", str(nightly))
        new.start()
        try:
            status, url, home = HttpAuthor(new.url).login(codename)
            assert status == 200 and url.endswith("/author/") and "夜莺" in home
        finally:
            new.stop()


@pytest.mark.django_db
def test_restore_refuses_an_archive_gpg_does_not_vouch_for(tmp_path, data_dir, admin_keypair,
                                                           monkeypatch):
    """A backup with damaged ciphertext restores nothing: gpg's verdict comes before any change."""
    from django.core.management import CommandError, call_command

    plaintext = io.BytesIO()
    with tarfile.open(fileobj=plaintext, mode="w") as tar:
        info = tarfile.TarInfo("meta.json")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"{}"))
    sealed = bytearray(admin_keypair.gpg("--encrypt", "--trust-model", "always", "-r",
                                         admin_keypair.fingerprint, input=plaintext.getvalue()).stdout)
    sealed[-40] ^= 0xFF
    broken = tmp_path / "broken.tar.gpg"
    broken.write_bytes(bytes(sealed))
    monkeypatch.setenv("GNUPGHOME", str(admin_keypair.home))
    # gpg either stops before any output or outputs and then reports the damage.
    with pytest.raises(CommandError, match=r"gpg did not vouch|not a readable backup"):
        call_command("restore", str(broken))
    assert blob_files(data_dir) == []
    assert list(data_dir.glob(".restore-*")) == []
