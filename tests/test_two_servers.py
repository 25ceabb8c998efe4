"""Two application servers, one PostgreSQL, one Redis, one data directory.

This is how Penname grows past one machine (deploy/README.md, "More than one
server"): an author can be answered by either server at any step, an editor
reads through either, and a password guesser cannot multiply their guesses by
spreading them over servers.

The servers always use PostgreSQL, whatever database the rest of the suite
runs on: DATABASE_URL when it names one, else a throwaway server started for
the run, and a throwaway Redis (the `postgres_server` and `redis_server`
fixtures, tests/services.py). Without the PostgreSQL or Redis programs the
test fails, naming the package; it never skips.
"""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from portal.editors.throttle import MAX_FAILURES
from tests.httpauthor import HttpAuthor
from tests.liveserver import EDITOR_PASSWORD, LiveServer, live_server, totp_now
from tests.services import Service

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
POSTGRES_SCHEMES = ("postgres://", "postgresql://")


@pytest.fixture
def shared_redis(redis_server: Service) -> Iterator[str]:
    """Redis database 15, empty before and after."""
    import redis

    url = redis_server.url + "/15"
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


@pytest.fixture
def shared_postgres(postgres_server: Service, monkeypatch: pytest.MonkeyPatch) -> str:
    """A PostgreSQL server for the two servers' database (tests.liveserver makes a fresh one on it)."""
    url = postgres_server.url + "/postgres"
    # Read by tests.liveserver.server_database in this process only; Django's own
    # connection for the rest of the suite was configured long before.
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def api(server: LiveServer, method: str, path: str, body: dict[str, Any] | None = None,
        token: str = "") -> tuple[int, Any]:
    request = urllib.request.Request(
        server.url + path, method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json",
                 **({"Authorization": f"Bearer {token}"} if token else {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def ask_for_token(server: LiveServer, password: str, code: str) -> tuple[int, Any]:
    return api(server, "POST", "/api/v1/token/",
               {"username": "editor", "password": password, "otp_token": code})


def test_author_on_one_server_editor_on_the_other_one_throttle(
    shared_postgres, shared_redis, tmp_path, editor_keypair
):
    with live_server(tmp_path / "data", editor_keypair.public, {"REDIS_URL": shared_redis}) as a:
        assert a.database_url.startswith(POSTGRES_SCHEMES)
        b = a.twin()
        b.start()
        try:
            for server in (a, b):
                with urllib.request.urlopen(server.url + "/health/", timeout=30) as response:
                    assert response.read() == b"ok\n"

            # The author uploads through A and confirms through B: the session is in
            # Redis and the pending upload in the shared data directory.
            author = HttpAuthor(a.url)
            codename = author.new_author("阿芳")
            draft = "第一章\n女工的夜班。\n".encode()
            status, review = author.upload("夜班", [("chapter.txt", io.BytesIO(draft), len(draft))])
            assert status == 200 and 'id="confirm"' in review
            author.base = b.url
            status, url, page = author.confirm(review)
            assert status == 200 and "Received" in page, page[:500]
            public_id = urllib.parse.urlsplit(url).path.rstrip("/").split("/")[-1]
            status, _, home = HttpAuthor(a.url).login(codename)
            assert status == 200 and public_id[:8] in home

            # The editor reads through B's API and downloads the ciphertext through A.
            status, issued = ask_for_token(b, EDITOR_PASSWORD, totp_now(a.editor_totp_secret))
            assert status == 201, issued
            status, listing = api(b, "GET", "/api/v1/submissions/", token=issued["token"])
            assert status == 200
            assert [s["pen_name"] for s in listing["submissions"] if s["id"] == public_id] == ["阿芳"]
            status, detail = api(a, "GET", f"/api/v1/submissions/{public_id}/", token=issued["token"])
            assert status == 200
            name = detail["files"][0]["name"]
            blob = urllib.request.Request(f"{a.url}/api/v1/submissions/{public_id}/blobs/{name}",
                                          headers={"Authorization": f"Bearer {issued['token']}"})
            with urllib.request.urlopen(blob, timeout=60) as response:
                ciphertext = tmp_path / "file.gpg"
                ciphertext.write_bytes(response.read())
            assert editor_keypair.decrypt(ciphertext) == draft

            # Wrong passwords spread over both servers add up to one lock, seen by both.
            on_a = MAX_FAILURES // 2 + 1
            for server in [a] * on_a + [b] * (MAX_FAILURES - on_a):
                assert ask_for_token(server, "wrong password", "000000")[0] == 401
            for server in (a, b):
                status, refusal = ask_for_token(server, EDITOR_PASSWORD,
                                                totp_now(a.editor_totp_secret, 1))
                assert status == 429, refusal
        finally:
            b.stop()
