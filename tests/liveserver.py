"""A real portal server process (gunicorn) with its own data directory and database.

Used by tests that must cross real HTTP and real process boundaries (restarts,
the browser, several servers) and by the benchmarks. With DATABASE_URL
pointing at PostgreSQL, a fresh database is created for the server and dropped
afterwards. gunicorn runs with the production configuration
(deploy/gunicorn.conf.py), bound to a local TCP port instead of the socket.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent
GUNICORN_CONF = Path(__file__).resolve().parent.parent / "deploy" / "gunicorn.conf.py"
EDITOR_PASSWORD = "a long enough passphrase 42"


def totp_secret(add_editor_output: str) -> str:
    """The base32 secret in the otpauth:// line that add_editor prints."""
    import urllib.parse

    line = next(x for x in add_editor_output.splitlines() if x.startswith("otpauth://"))
    return urllib.parse.parse_qs(urllib.parse.urlparse(line).query)["secret"][0]


STEP_MARGIN = 8.0  # seconds: longer than any login request in the tests takes


def _current_step() -> int:
    """The current 30 s step, waiting for the next one when this one ends within STEP_MARGIN.

    The server accepts a code one step either side of its own clock and then remembers the
    offset it matched (django-otp's drift). A code that crosses into the next step on its way
    would shift that offset by one, and a test's next code (offset +1, +2, ...) would miss.
    """
    if 30 - time.time() % 30 < STEP_MARGIN:
        time.sleep(30 - time.time() % 30 + 0.05)
    return int(time.time()) // 30


def totp_now(secret: str, offset_steps: int = 0) -> str:
    """The TOTP code an authenticator app would show (RFC 6238, SHA-1, 6 digits, 30 s)."""
    import base64
    import hashlib
    import hmac
    import struct

    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = _current_step() + offset_steps
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = (int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF) % 1_000_000
    return f"{value:06d}"


_LAST_STEP: dict[str, int] = {}


def totp_once(secret: str) -> str:
    """A code for the current step that this process has not used yet for `secret`.

    The server accepts each step once: when this process already used the current step,
    wait for the next one.
    """
    while (step := _current_step()) <= _LAST_STEP.get(secret, -1):
        time.sleep(30 - time.time() % 30 + 0.05)
    _LAST_STEP[secret] = step
    return totp_now(secret)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server_database(data_dir: Path) -> Iterator[str]:
    """A database URL for the server: a new PostgreSQL database, or SQLite in data_dir."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{data_dir / 'portal.sqlite3'}"
        return
    import psycopg

    name = f"penname_live_{secrets.token_hex(4)}"
    maintenance = base.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@dataclass
class LiveServer:
    data_dir: Path
    database_url: str
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    editor_totp_secret: str = ""
    log_name: str = "server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def portal(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run([str(BIN / "portal"), *args], env=self.env, input=stdin,
                                capture_output=True, text=True, timeout=300, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"portal {' '.join(args)} failed: {result.stderr}")
        return result.stdout

    def set_up(self, editor_public_key: str) -> None:
        """Migrate and add the managing editor "editor" (password EDITOR_PASSWORD)."""
        self.portal("migrate", "--no-input")
        key_file = self.data_dir / "editor.asc"
        key_file.write_text(editor_public_key)
        added = self.portal("add_editor", "editor", "--key", str(key_file), "--password-stdin",
                            "--managing", stdin=f"{EDITOR_PASSWORD}\n")
        self.editor_totp_secret = totp_secret(added)
        key_file.unlink()

    def twin(self) -> LiveServer:
        """Another application server on the same data directory, database and secrets (not started)."""
        return LiveServer(self.data_dir, self.database_url, dict(self.env),
                          editor_totp_secret=self.editor_totp_secret,
                          log_name=f"server-{secrets.token_hex(3)}.log")

    def start(self, workers: int = 1) -> None:
        self.port = free_port()
        log = self.data_dir / self.log_name
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "--config", str(GUNICORN_CONF), "portal.wsgi",
             "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers)],
            env=self.env, stdout=subprocess.DEVNULL, stderr=open(log, "ab"),
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(log.read_text())
            try:
                urllib.request.urlopen(self.url + "/", timeout=2).read()
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):  # slow first answer
                time.sleep(0.2)
        self.stop()  # never leave a half-started server behind
        raise RuntimeError("the server did not start in 60 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def server_env(data_dir: Path, database_url: str,
               extra_env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a server process: its own data directory, database and secret key."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "PORTAL_DATA_DIR": str(data_dir),
        "PORTAL_SECRET_KEY": "live-test-secret-key-" + secrets.token_hex(16),
        "DATABASE_URL": database_url,
        "PORTAL_KDF_TIME_COST": "1",
        "PORTAL_KDF_MEMORY_KIB": "8192",
        # As in tests/settings.py: the tests of safe copies turn them on.
        "PORTAL_SAFE_COPIES": "False",
        # As in tests/settings.py: budgets would carry over between tests (a shared
        # Redis keeps them for an hour); the tests of budgets set their own.
        **{name: "100000" for name in (
            "PORTAL_CODENAME_FAILURES_PER_MINUTE", "PORTAL_LOGIN_FAILURES_PER_CIRCUIT",
            "PORTAL_NEW_CODENAMES_PER_CIRCUIT", "PORTAL_NEW_CODENAMES_PER_HOUR",
            "PORTAL_UPLOADS_PER_CIRCUIT", "PORTAL_UPLOADS_PER_HOUR")},
        **(extra_env or {}),
    }


@contextmanager
def live_server(data_dir: Path, editor_public_key: str, extra_env: dict[str, str] | None = None,
                workers: int = 1) -> Iterator[LiveServer]:
    data_dir.mkdir(parents=True, exist_ok=True)
    with server_database(data_dir) as database_url:
        server = LiveServer(data_dir, database_url, server_env(data_dir, database_url, extra_env))
        server.set_up(editor_public_key)
        server.start(workers)
        try:
            yield server
        finally:
            server.stop()
