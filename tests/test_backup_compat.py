"""A backup made by an earlier release restores with today's code.

`tests/fixtures/backup-0.1/archive.tar.gpg` was made by the code of commit
e63ff3e, before the domain core moved the models between packages (see
`make_archive.py` beside it). The move kept every app label and table, so the
archive must restore into an empty portal, the author's codename must open
her page, and the editor's own key must still decrypt her draft.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.gpgkeys import EditorKeypair, fingerprint_in
from tests.httpauthor import HttpAuthor
from tests.liveserver import LiveServer, server_database, server_env
from tests.storage import blob_files

pytestmark = pytest.mark.slow
FIXTURE = Path(__file__).parent / "fixtures" / "backup-0.1"


def _keypair(home: Path, secret: Path) -> EditorKeypair:
    home.mkdir(mode=0o700)
    subprocess.run(["gpg", "--homedir", str(home), "--batch", "--import", str(secret)],
                   capture_output=True, check=True, timeout=60)
    fingerprint = fingerprint_in(home)
    public = subprocess.run(["gpg", "--homedir", str(home), "--armor", "--export", fingerprint],
                            capture_output=True, text=True, check=True).stdout
    return EditorKeypair(home, fingerprint, public)


def test_an_archive_from_before_the_domain_core_restores(tmp_path: Path, keys_root: Path) -> None:
    expected = json.loads((FIXTURE / "expected.json").read_text(encoding="utf-8"))
    admin = _keypair(keys_root / "fixture-admin", FIXTURE / "admin-secret.asc")
    editor = _keypair(keys_root / "fixture-editor", FIXTURE / "editor-secret.asc")
    assert (admin.fingerprint, editor.fingerprint) == (expected["admin"], expected["editor"])

    data_dir = tmp_path / "restored"
    data_dir.mkdir()
    with server_database(data_dir) as database_url:
        server = LiveServer(data_dir, database_url,
                            server_env(data_dir, database_url, {"GNUPGHOME": str(admin.home)}))
        assert "restored" in server.portal("restore", str(FIXTURE / "archive.tar.gpg"))
        server.start()
        try:
            status, url, home = HttpAuthor(server.url).login(expected["codename"])
            assert status == 200 and url.endswith("/author/")
            assert expected["pen_name"] in home
        finally:
            server.stop()

    plaintexts = [editor.decrypt(path) for path in blob_files(data_dir)]
    assert len(plaintexts) == 2  # the manifest and the draft
    assert expected["draft"].encode() in plaintexts
    assert any(expected["title"].encode() in text for text in plaintexts)
