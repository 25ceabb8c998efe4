"""Faults from outside the code: gpg killed, a full data disk, the database gone, a worker killed.

tests/test_failures.py covers failures the portal sees as error codes (gpg
exiting non-zero, missing, an expired key, a full store, a database error
raised inside the view). Here the world breaks for real: gpg dies of SIGKILL
while it is writing, the whole data directory sits on a filesystem that runs
out of space while an upload streams in, the database goes away in the middle
of a confirmation of a real server process, and a gunicorn worker is killed
in the middle of an upload. After each: a canary planted in the upload is
nowhere in plaintext (data directory, temp directory, database, logs), no
half-written submission exists, the sweeper (`portal purge`) removes whatever
was left behind, and the author was told something they can act on.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from portal.submissions.models import Submission, SubmissionFile
from tests.authoring import confirm, new_author, review_of, upload
from tests.httpauthor import HttpAuthor
from tests.leaks import database_dump, found_in, found_in_files
from tests.liveserver import LiveServer, live_server

CANARY = "CANARY-fault-5b2e-蝴蝶-c7"
REAL_GPG = shutil.which("gpg") or "gpg"
HOUR = 3600


def loud_skip(message: str) -> None:
    """Skip with a reason nobody can miss; in CI, where everything is installed, fail."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def age(root: Path, seconds: float) -> None:
    """Make everything under root look `seconds` old, as if the sweeper ran later."""
    past = time.time() - seconds
    for path in [root, *root.rglob("*")]:
        os.utime(path, (past, past))


def canary_document(size: int = 0) -> bytes:
    """Text with the canary in it, padded with hex noise to `size` bytes."""
    head = f"Chapter one\n{CANARY} in the text.\n".encode()
    noise = os.urandom(max(0, size - len(head)) // 2 + 1).hex().encode()
    return (head + noise)[: max(size, len(head))]


def assert_no_plaintext(roots: list[Path], caplog: Any, capfd: Any, database: bytes = b"") -> None:
    assert found_in_files(CANARY, *roots) == []
    assert not found_in(CANARY, database)
    captured = capfd.readouterr()
    logs = "\n".join(r.getMessage() for r in caplog.records) + captured.out + captured.err
    assert not found_in(CANARY, logs.encode("utf-8"))


# --- gpg killed mid-stream (in process) ---------------------------------------------


def gpg_killed_after(tmp_path: Path, output_bytes: int) -> tuple[str, Path]:
    """A gpg that really encrypts, and is killed with SIGKILL once it has written this much."""
    marker = tmp_path / "gpg-was-killed"
    script = tmp_path / "gpg"
    script.write_text(f"""#!/bin/sh
out=""; prev=""; encrypting=0
for arg in "$@"; do
  [ "$prev" = "--output" ] && out="$arg"
  [ "$arg" = "--encrypt" ] && encrypting=1
  prev="$arg"
done
if [ "$encrypting" = 1 ] && [ -n "$out" ]; then
  me=$$
  (
    i=0
    while [ $i -lt 3000 ]; do
      size=$(stat -c %s "$out" 2>/dev/null || echo 0)
      if [ "$size" -ge {output_bytes} ]; then touch "{marker}"; kill -KILL $me; exit 0; fi
      sleep 0.01; i=$((i+1))
    done
  ) </dev/null >/dev/null 2>&1 &
fi
exec {REAL_GPG} "$@"
""")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script), marker


@pytest.mark.django_db
def test_gpg_killed_mid_stream_stores_nothing_says_so_and_the_sweeper_cleans_up(
        client, editor, data_dir, settings, tmp_path, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    new_author(client)
    document = canary_document(4 * 1024 * 1024)
    review = review_of(upload(client, [(f"{CANARY}.txt", document)],
                              title=f"title {CANARY}", message=f"message {CANARY}"))
    settings.PORTAL_GPG_BINARY, killed = gpg_killed_after(tmp_path, 64 * 1024)
    response = confirm(client, review)
    assert killed.exists(), "gpg finished before it could be killed: the test proved nothing"
    assert response.status_code == 503
    body = response.content.decode()
    assert "Encryption failed" in body and "nothing was sent or kept" in body
    assert Submission.objects.count() == 0 and SubmissionFile.objects.count() == 0
    assert files(data_dir / "store") == []  # not even the partial ciphertext in .incoming/
    assert_no_plaintext([data_dir, Path(tempfile.gettempdir())], caplog, capfd, database_dump())
    # The author walks away; an hour later the sweeper deletes the waiting upload.
    assert files(data_dir / "spool" / "pending")
    age(data_dir / "spool", 2 * HOUR)
    call_command("purge", stdout=io.StringIO())
    assert files(data_dir / "spool") == []


# --- the data directory runs out of space (in process) ------------------------------


@pytest.fixture
def small_data_dir(data_dir: Path, settings: Any, tmp_path: Path) -> Iterator[Path]:
    """The whole data directory (keyring, spool, store) on a 3 MiB tmpfs made for this test."""
    root = tmp_path / "small-data"
    root.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m,mode=0700", "tmpfs", str(root)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        loud_skip("FULL-DATA-DIRECTORY TEST SKIPPED: cannot mount a tmpfs here "
                  f"({result.stderr.strip() or 'mount failed'}); it needs root and mount rights")
    settings.DATA_DIR = root
    settings.PORTAL_GNUPG_HOME = root / "gnupg"
    settings.PORTAL_STORE_DIR = root / "store"
    settings.PORTAL_SPOOL_DIR = root / "spool"
    try:
        yield root
    finally:
        from tests.gpgkeys import stop_agent

        stop_agent(root / "gnupg")
        subprocess.run(["umount", "-l", str(root)], check=False)


@pytest.mark.django_db
def test_full_data_directory_during_an_upload_keeps_nothing_and_says_so(
        client, small_data_dir, editor_keypair, django_user_model, caplog, capfd):
    from tests.editorial.editors import approved_key

    caplog.set_level(logging.DEBUG)
    approved_key(django_user_model.objects.create_user("editor"), editor_keypair.public)
    new_author(client)
    free = shutil.disk_usage(small_data_dir).free
    response = upload(client, [(f"{CANARY}.txt", canary_document(free + 1024 * 1024))],
                      title=f"title {CANARY}", message=f"message {CANARY}")
    assert response.status_code == 400
    assert "could not store your upload right now. Nothing was kept" in response.content.decode()
    assert files(small_data_dir / "spool") == [] and files(small_data_dir / "store") == []
    assert_no_plaintext([small_data_dir, Path(tempfile.gettempdir())], caplog, capfd,
                        database_dump())
    # The space came back: a draft that fits goes through, whole.
    review = review_of(upload(client, [("small.txt", b"a short draft")]))
    assert confirm(client, review).status_code == 302
    assert Submission.objects.count() == 1
    call_command("purge", stdout=io.StringIO())
    assert files(small_data_dir / "spool") == []
    assert len(files(small_data_dir / "store")) == 2  # the file and its manifest


# --- real server processes -----------------------------------------------------------


def server_database_dump(server: LiveServer) -> bytes:
    """Every row of the server's own database (its SQLite file is scanned with the data dir)."""
    if not server.database_url.startswith(("postgres://", "postgresql://")):
        return b""
    import psycopg

    chunks: list[bytes] = []
    with psycopg.connect(server.database_url) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"').fetchall():  # noqa: S608
                chunks += [bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode()
                           for v in row]
    return b"\n".join(chunks)


def submission_rows(server: LiveServer) -> int:
    query = "SELECT count(*) FROM authors_submission"
    if server.database_url.startswith(("postgres://", "postgresql://")):
        import psycopg

        with psycopg.connect(server.database_url) as conn:
            row = conn.execute(query).fetchone()
            return int(row[0]) if row else 0
    with sqlite3.connect(server.data_dir / "portal.sqlite3") as conn:
        return int(conn.execute(query).fetchone()[0])


class DatabaseOutage:
    """Take the server's database away, and give it back.

    PostgreSQL: every connection to the server's database is terminated and new
    ones are refused (the cluster itself is shared, so it keeps running).
    SQLite: another process holds an exclusive lock, so the server's writes
    time out, which is what an embedded database does when it cannot be used.
    """

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self._lock: sqlite3.Connection | None = None

    def _postgres(self, sql: str) -> None:
        import psycopg

        name = self.server.database_url.rsplit("/", 1)[1]
        maintenance = self.server.database_url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(sql.format(name=name))
            if "false" in sql:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))

    @property
    def postgres(self) -> bool:
        return self.server.database_url.startswith(("postgres://", "postgresql://"))

    def stop(self) -> None:
        if self.postgres:
            self._postgres("ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        else:
            self._lock = sqlite3.connect(self.server.data_dir / "portal.sqlite3",
                                         isolation_level=None, timeout=30)
            self._lock.execute("BEGIN EXCLUSIVE")

    def start(self) -> None:
        if self.postgres:
            self._postgres("ALTER DATABASE {name} ALLOW_CONNECTIONS true")
        elif self._lock is not None:
            self._lock.execute("ROLLBACK")
            self._lock.close()
            self._lock = None


def gated_gpg(tmp_path: Path) -> tuple[str, Path, Path]:
    """A real gpg whose first encryption waits until the test says go."""
    started, go = tmp_path / "gpg-started", tmp_path / "gpg-go"
    script = tmp_path / "gated-gpg"
    script.write_text(f"""#!/bin/sh
for arg in "$@"; do
  if [ "$arg" = "--encrypt" ]; then
    touch "{started}"
    i=0; while [ ! -e "{go}" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done
  fi
done
exec {REAL_GPG} "$@"
""")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script), started, go


def wait_for(path: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.05)


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A server's TMPDIR that is scanned for plaintext, with a short path: the author's
    reply key is made there at confirmation, and gpg-agent's socket name must fit."""
    path = Path(tempfile.mkdtemp(prefix="pn-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.slow
def test_database_stopping_during_confirm_keeps_nothing_says_so_and_loses_nothing(
        tmp_path, short_tmp, editor_keypair, caplog, capfd):
    gpg, started, go = gated_gpg(tmp_path)
    server_tmp = short_tmp
    data = tmp_path / "data"
    with live_server(data, editor_keypair.public,
                     extra_env={"PORTAL_GPG_BINARY": gpg, "TMPDIR": str(server_tmp)}) as server:
        author = HttpAuthor(server.url)
        author.new_author()
        document = canary_document(2000)
        status, review = author.upload(f"title {CANARY}",
                                       [(f"{CANARY}.txt", io.BytesIO(document), len(document))],
                                       message=f"message {CANARY}")
        assert status == 200 and 'id="confirm"' in review
        answer: list[tuple[int, str, str]] = []
        confirming = threading.Thread(target=lambda: answer.append(author.confirm(review)))
        confirming.start()
        outage = DatabaseOutage(server)
        try:
            wait_for(started)  # the confirmation is encrypting: the database goes away now
            outage.stop()
            go.touch()
            confirming.join(timeout=120)
            assert not confirming.is_alive()
        finally:
            go.touch()
            outage.start()
        status, _, page = answer[0]
        assert status == 503
        assert "could not record your submission, so nothing was kept" in page
        assert "You can try again" in page
        assert submission_rows(server) == 0
        assert files(data / "store") == []  # the ciphertext written before the outage is gone
        assert_no_plaintext([data, server_tmp], caplog, capfd, server_database_dump(server))
        # Nothing was lost: with the database back, the same review page sends it.
        status, url, page = author.confirm(review)
        assert status == 200 and "/author/submission/" in url and "Received" in page
        assert submission_rows(server) == 1
        assert len(files(data / "store")) == 2
        age(data / "store", 2 * HOUR)
        server.portal("purge")
        assert len(files(data / "store")) == 2  # the sweeper keeps what a row refers to
        assert files(data / "spool" / "pending") == []
        assert_no_plaintext([data, server_tmp], caplog, capfd, server_database_dump(server))


def worker_pids(server: LiveServer) -> list[int]:
    assert server.process is not None
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
    return [int(pid) for pid in children.read_text().split()]


class PausingStream(io.RawIOBase):
    """A file body that stops after `pause_at` bytes until the test lets it go on."""

    def __init__(self, data: bytes, pause_at: int) -> None:
        self._data = io.BytesIO(data)
        self._pause_at = pause_at
        self.paused = threading.Event()
        self.resume = threading.Event()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._data.tell() >= self._pause_at and not self.resume.is_set():
            self.paused.set()
            self.resume.wait(timeout=120)
        return self._data.read(min(size, 256 * 1024) if size > 0 else 256 * 1024)


@pytest.mark.slow
def test_worker_killed_mid_upload_leaves_only_noise_that_the_sweeper_removes(
        tmp_path, editor_keypair, caplog, capfd):
    server_tmp = tmp_path / "server-tmp"
    server_tmp.mkdir()
    data = tmp_path / "data"
    with live_server(data, editor_keypair.public, extra_env={"TMPDIR": str(server_tmp)}) as server:
        author = HttpAuthor(server.url)
        codename = author.new_author()
        document = canary_document(8 * 1024 * 1024)
        body = PausingStream(document, pause_at=3 * 1024 * 1024)
        outcome: list[Any] = []

        def send() -> None:
            try:
                outcome.append(author.upload(f"title {CANARY}", [(f"{CANARY}.txt", body, len(document))],
                                             message=f"message {CANARY}"))
            except (urllib.error.URLError, ConnectionError, OSError) as exc:
                outcome.append(exc)

        uploading = threading.Thread(target=send)
        uploading.start()
        try:
            assert body.paused.wait(timeout=120), "the upload never got going"
            time.sleep(0.5)  # let the worker spool what was sent
            workers = worker_pids(server)
            assert len(workers) == 1
            os.kill(workers[0], signal.SIGKILL)
        finally:
            body.resume.set()
            uploading.join(timeout=120)
        assert not uploading.is_alive()
        # The connection broke: the author's browser says so; the server could not answer.
        assert outcome and (isinstance(outcome[0], Exception) or outcome[0][0] >= 500), outcome
        # gunicorn starts a new worker; the author logs in again and finds nothing half-sent.
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(server.url + "/", timeout=5).read()
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                assert time.monotonic() < deadline, "no new worker after the kill"
                time.sleep(0.2)
        assert worker_pids(server) != workers
        again = HttpAuthor(server.url)
        status, _, home = again.login(codename)
        assert status == 200 and 'id="submit"' in home and "Nothing sent yet" in home
        assert submission_rows(server) == 0
        assert files(data / "store") == [] and files(data / "spool" / "pending") == []
        leftover = files(data / "spool" / "uploads")
        assert leftover, "the killed worker left no spool: the upload was not cut mid-stream"
        assert_no_plaintext([data, server_tmp], caplog, capfd, server_database_dump(server))
        # The raw spool is noise under a key that died with the worker; the sweeper removes it.
        assert "0 abandoned upload(s)" in server.portal("purge")  # not before its hour is up
        age(data / "spool", 2 * HOUR)
        assert f"{len(leftover)} abandoned upload(s)" in server.portal("purge")
        assert files(data / "spool" / "uploads") == []
