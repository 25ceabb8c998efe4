"""Throwaway PostgreSQL and Redis servers for the tests, started from the installed binaries.

The tests never rely on a service someone else started: `make test` must pass on
a machine where no PostgreSQL or Redis is running (and must not read or flush
the data of one that is). A configured server is used as it is: PostgreSQL when
DATABASE_URL names one (the suite's PostgreSQL run), Redis when
PENNAME_TEST_REDIS_URL does. Otherwise each is a fresh server on a free port on
127.0.0.1 with its files in a temporary directory, gone when the run ends.

A throwaway server keeps nothing: PostgreSQL runs without fsync, Redis with no
snapshots and no append-only file. Each is a child of the test process that the
kernel stops if that process dies (PR_SET_PDEATHSIG), so an interrupted run
leaves no server behind.

`python -m tests.services postgres -- COMMAND...` runs COMMAND with DATABASE_URL
naming a throwaway PostgreSQL (`make test DB=postgres` does this when
DATABASE_URL is unset).
"""

from __future__ import annotations

import ctypes
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# Not tempfile.gettempdir(): the test settings point that at a private 0700
# directory, which PostgreSQL's own user (when the tests run as root) cannot enter.
SERVICES_PARENT = Path(os.environ.get("PENNAME_TEST_SERVICES_DIR", "/tmp"))
POSTGRES_BIN_GLOB = "/usr/lib/postgresql/*/bin"
START_TIMEOUT = 60.0  # seconds: initdb and start on a loaded 2-core machine
PR_SET_PDEATHSIG = 1


class ServiceMissing(RuntimeError):
    """A server program is not installed: the message names the Debian package."""


@dataclass(frozen=True)
class Service:
    """Where a server listens. `url` has no database part; `unix_socket` is None when unknown."""

    url: str
    host: str
    port: int
    unix_socket: str | None
    throwaway: bool


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """In the child: stop (SIGQUIT: PostgreSQL's immediate shutdown) when the test process dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGQUIT)


def _postgres_bin() -> Path:
    """The newest installed PostgreSQL server's bin directory (Debian keeps initdb off PATH)."""
    found = sorted(Path("/").glob(POSTGRES_BIN_GLOB.lstrip("/")),
                   key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    for candidate in reversed(found):
        if (candidate / "initdb").exists() and (candidate / "postgres").exists():
            return candidate
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise ServiceMissing("the tests need the PostgreSQL server programs (initdb, postgres): "
                         "apt-get install postgresql")


def _server_user() -> str | None:
    """PostgreSQL refuses to run as root: as root, run it as its own system user."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise ServiceMissing("running as root, and neither a postgres nor a nobody user exists "
                         "to run PostgreSQL as")


def _wait(ready: object, process: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not ready():  # type: ignore[operator]
        if process.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"the throwaway {what} did not start:\n{tail}")
        time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def throwaway_postgres() -> Iterator[Service]:
    """A new PostgreSQL cluster (superuser "postgres", trust authentication) on a free port."""
    import psycopg

    bin_dir = _postgres_bin()
    user = _server_user()
    root = Path(tempfile.mkdtemp(prefix="penname-pg-", dir=SERVICES_PARENT))
    try:
        if user:
            account = pwd.getpwnam(user)
            os.chown(root, account.pw_uid, account.pw_gid)
        as_user = {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []} if user else {}
        data, log = root / "data", root / "server.log"
        initdb = subprocess.run(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
             "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
            cwd=root, capture_output=True, text=True, timeout=120, check=False, **as_user)  # type: ignore[arg-type]
        if initdb.returncode != 0:
            raise RuntimeError(f"initdb failed: {initdb.stderr or initdb.stdout}")
        port = free_port()
        with open(log, "ab") as log_file:
            process = subprocess.Popen(
                [str(bin_dir / "postgres"), "-D", str(data), "-p", str(port),
                 "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={root}",
                 "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
                cwd=root, stdout=log_file, stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent, **as_user)  # type: ignore[arg-type]
        url = f"postgres://postgres@127.0.0.1:{port}"

        def ready() -> bool:
            try:
                psycopg.connect(url + "/postgres", connect_timeout=2).close()
                return True
            except psycopg.OperationalError:
                return False

        try:
            _wait(ready, process, log, "PostgreSQL")
            yield Service(url, "127.0.0.1", port, str(root / f".s.PGSQL.{port}"), throwaway=True)
        finally:
            _stop(process, signal.SIGINT)  # "fast" shutdown: ends sessions, no checkpoint wait
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def throwaway_redis() -> Iterator[Service]:
    """A new Redis on a free port that keeps nothing on disk."""
    import redis

    program = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(program).exists():
        raise ServiceMissing("the tests need redis-server: apt-get install redis-server")
    root = Path(tempfile.mkdtemp(prefix="penname-redis-", dir=SERVICES_PARENT))
    log = root / "server.log"
    port = free_port()
    try:
        with open(log, "ab") as log_file:
            process = subprocess.Popen(
                [program, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(root), "--daemonize", "no"],
                cwd=root, stdout=log_file, stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent)
        url = f"redis://127.0.0.1:{port}"

        def ready() -> bool:
            try:
                client = redis.Redis.from_url(url, socket_connect_timeout=2)
                client.ping()
                client.close()
                return True
            except redis.ConnectionError:
                return False

        try:
            _wait(ready, process, log, "Redis")
            yield Service(url, "127.0.0.1", port, None, throwaway=True)
        finally:
            _stop(process, signal.SIGTERM)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _configured(url: str) -> Service:
    parts = urllib.parse.urlsplit(url)
    base = urllib.parse.urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    return Service(base, parts.hostname or "127.0.0.1", parts.port or 0, None, throwaway=False)


@contextmanager
def postgres_for_tests() -> Iterator[Service]:
    """The PostgreSQL that DATABASE_URL names, else a throwaway one."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        service = _configured(url)
        yield Service(service.url, service.host, service.port or 5432, None, throwaway=False)
        return
    with throwaway_postgres() as service:
        yield service


@contextmanager
def redis_for_tests() -> Iterator[Service]:
    """The Redis that PENNAME_TEST_REDIS_URL names, else a throwaway one."""
    url = os.environ.get("PENNAME_TEST_REDIS_URL", "")
    if url:
        service = _configured(url)
        yield Service(service.url, service.host, service.port or 6379, None, throwaway=False)
        return
    with throwaway_redis() as service:
        yield service


def main(argv: list[str]) -> int:
    """`postgres -- COMMAND...`: run COMMAND with DATABASE_URL naming a throwaway PostgreSQL."""
    if len(argv) < 3 or argv[0] != "postgres" or argv[1] != "--":
        print("usage: python -m tests.services postgres -- COMMAND...", file=sys.stderr)
        return 2
    with throwaway_postgres() as service:
        env = {**os.environ, "DATABASE_URL": service.url + "/penname"}
        print(f"tests.services: a throwaway PostgreSQL at {service.url}", file=sys.stderr)
        return subprocess.run(argv[2:], env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
