"""`GET /health/` says "ok" or "down" and nothing else."""

from __future__ import annotations

import shutil

import pytest
from django.db import OperationalError

from tests import services

pytestmark = pytest.mark.django_db


def test_health_is_ok_when_the_database_and_store_work(client, data_dir):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert not response.cookies  # a monitor gets no session
    assert client.head("/health/").status_code == 200


def test_health_is_down_when_the_store_is_unusable(client, data_dir, settings):
    store = data_dir / "store"
    shutil.rmtree(store, ignore_errors=True)
    store.write_bytes(b"not a directory")  # root ignores permissions; a file is unusable for anyone
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.content == b"down\n"


def test_health_is_down_when_the_database_fails_and_names_nothing(client, data_dir, monkeypatch):
    from django.db.backends.utils import CursorWrapper

    def refuse(self, sql, params=None):  # type: ignore[no-untyped-def]
        raise OperationalError("connection to server at 10.0.0.5 refused")

    monkeypatch.setattr(CursorWrapper, "execute", refuse)
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.content == b"down\n"


def test_health_accepts_only_reading(client, data_dir):
    assert client.post("/health/").status_code == 405


def test_health_is_down_when_the_cleaners_sandbox_cannot_be_established(
    client, data_dir, monkeypatch
):
    monkeypatch.setenv("PORTAL_BWRAP", "/nonexistent/bwrap")
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.content == b"down\n"
    monkeypatch.delenv("PORTAL_BWRAP")
    monkeypatch.setenv("PATH", "/nonexistent")  # no bwrap to be found either
    assert client.get("/health/").status_code == 503
    monkeypatch.undo()
    assert client.get("/health/").content == b"ok\n"


def test_health_is_down_while_redis_is_configured_but_unreachable(client, data_dir, settings,
                                                                 caplog):
    """Every session and editor login needs Redis: a stopped Redis is a "down" server."""
    with services.throwaway_redis() as redis_server:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                       "LOCATION": redis_server.url + "/0", "KEY_PREFIX": "penname"}}
        response = client.get("/health/")
        assert (response.status_code, response.content) == (200, b"ok\n")
    # Stopped now, still configured.
    response = client.get("/health/")
    assert (response.status_code, response.content) == (503, b"down\n")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    # The reason goes to the server's log only.
    assert any("redis" in record.getMessage() for record in caplog.records)


def test_health_is_down_when_the_cleaner_cannot_clean_although_the_sandbox_holds(
        client, data_dir, settings, caplog, monkeypatch):
    """The sandbox probe passes, but a cleaner started as uploads start theirs fails (here:
    each file's own interpreter, in a memory share no interpreter starts in): every upload
    would come back "not cleaned"."""
    from portal.sanitize.sandbox import confine

    monkeypatch.setenv("PORTAL_CLEAN_ZYGOTE", "0")
    assert confine.problem([str(data_dir)]) is None
    assert client.get("/health/").content == b"ok\n"
    settings.PORTAL_CLEANER_MEMORY_BYTES = 8 * 1024 * 1024
    response = client.get("/health/")
    assert (response.status_code, response.content) == (503, b"down\n")
    assert any("cleaner" in record.getMessage() for record in caplog.records)
