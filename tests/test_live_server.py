"""Across real HTTP and real process restarts (gunicorn, separate database)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tests.httpauthor import HttpAuthor
from tests.liveserver import live_server
from tests.storage import blob_files

pytestmark = pytest.mark.slow


def test_author_logs_in_after_a_restart_and_editor_decrypts(tmp_path: Path, editor_keypair):
    with live_server(tmp_path / "data", editor_keypair.public) as server:
        author = HttpAuthor(server.url)
        codename = author.new_author(pen_name="Ah Fang")
        document = "第一章\n女工的夜班。\n".encode()
        status, review = author.upload("夜班", [("chapter.txt", io.BytesIO(document), len(document))])
        assert status == 200 and 'id="confirm"' in review
        status, url, page = author.confirm(review)
        assert status == 200 and "/author/submission/" in url and "Received" in page
        server.stop()
        server.start()
        again = HttpAuthor(server.url)
        status, url, home = again.login(codename)
        assert status == 200 and url.endswith("/author/") and url.split("/")[-2] == "author"
        reference = url  # the home page lists the submission made before the restart
        assert "Nothing sent yet" not in home
        status, _, refused = HttpAuthor(server.url).login(codename.replace(" ", "x", 1))
        assert status == 403 and "not recognised" in refused
        blobs = blob_files(tmp_path / "data")
        assert len(blobs) == 2
        plaintexts = [editor_keypair.decrypt(b) for b in blobs]
        assert document in plaintexts
        manifest = json.loads(next(p for p in plaintexts if p.startswith(b"{")))
        assert manifest["title"] == "夜班" and manifest["pen_name"] == "Ah Fang"
        assert reference
