"""The tests' PostgreSQL and Redis are their own: started for the run, gone after it.

`make test` must pass on a machine where no PostgreSQL or Redis is running, and
must never read or flush a server someone else started (tests/services.py).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import redis

from tests import services

ROOT = Path(__file__).resolve().parent.parent


def listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_a_throwaway_postgresql_serves_and_leaves_nothing_behind():
    with services.throwaway_postgres() as server:
        assert server.throwaway and server.port != 5432
        with psycopg.connect(server.url + "/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE penname_probe")
            row = conn.execute("SELECT current_setting('fsync'), current_user").fetchone()
        assert row == ("off", "postgres")
        assert server.unix_socket and Path(server.unix_socket).is_socket()
        files = Path(server.unix_socket).parent
    assert not listening(server.port)
    assert not files.exists()


def test_a_throwaway_redis_keeps_nothing_and_leaves_nothing_behind():
    with services.throwaway_redis() as server:
        assert server.throwaway and server.port != 6379
        client = redis.Redis.from_url(server.url + "/3")
        client.set("k", "v")
        assert client.get("k") == b"v"
        assert client.config_get("save") == {"save": ""}
        assert client.config_get("appendonly") == {"appendonly": "no"}
        client.close()
    assert not listening(server.port)


def test_the_suite_gets_a_throwaway_redis_unless_one_is_configured(redis_server, monkeypatch):
    assert redis_server.throwaway == ("PENNAME_TEST_REDIS_URL" not in os.environ)
    monkeypatch.setenv("PENNAME_TEST_REDIS_URL", "redis://127.0.0.1:6390")
    with services.redis_for_tests() as configured:
        assert (configured.url, configured.port, configured.throwaway) == (
            "redis://127.0.0.1:6390", 6390, False)


def test_the_suite_uses_the_postgresql_database_url_names(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5499/penname")
    with services.postgres_for_tests() as configured:
        assert (configured.url, configured.port, configured.throwaway) == (
            "postgres://postgres@127.0.0.1:5499", 5499, False)


def test_a_command_runs_on_a_throwaway_postgresql():
    """`make test DB=postgres` without DATABASE_URL: the suite's PostgreSQL run on its own server."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    show = "import os, psycopg; url = os.environ['DATABASE_URL']; print(url); " \
           "psycopg.connect(url.rsplit('/', 1)[0] + '/postgres').close()"
    ran = subprocess.run([sys.executable, "-m", "tests.services", "postgres", "--",
                          sys.executable, "-c", show], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=180, check=False)
    assert ran.returncode == 0, ran.stderr
    url = ran.stdout.strip()
    assert url.startswith("postgres://postgres@127.0.0.1:") and url.endswith("/penname")
    assert not url.startswith("postgres://postgres@127.0.0.1:5432/")


def test_a_missing_server_program_names_its_package(monkeypatch):
    monkeypatch.setattr(services, "POSTGRES_BIN_GLOB", "/nonexistent/*/bin")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(services.ServiceMissing, match="apt-get install postgresql"):
        services._postgres_bin()
