"""Shared fixtures: real gpg keypairs, an editor in the database, per-test data dirs, a clock
that moves forward, a count of codename KDF runs (for the budgets' tests), and the
PostgreSQL and Redis servers (throwaway ones unless configured: tests/services.py)."""

from __future__ import annotations

import datetime
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.cache import cache
from django.utils import timezone

from portal.crypto import codenames
from tests import services
from tests.gpgkeys import EditorKeypair, make_keypair, revoke, stop_agent


def pytest_configure(config: pytest.Config) -> None:
    """Compile the translation catalogues when a .po is newer than its .mo.

    `make test` already does (its `messages` step); this covers a bare `pytest`
    in a fresh checkout, where the .mo files (not in git) do not exist yet.
    """
    locale = Path(__file__).resolve().parent.parent / "portal" / "locale"
    for po in locale.glob("*/LC_MESSAGES/django.po"):
        mo = po.with_suffix(".mo")
        if shutil.which("msgfmt") and (not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime):
            subprocess.run(["msgfmt", "--check-format", "-o", str(mo), str(po)], check=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """After a failure, keep this run's data and temp directory (tests/settings.py), and name it.

    When every test passed it goes when the process exits, like every run's.
    """
    from django.conf import settings

    if exitstatus not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        Path(settings.KEEP_MARKER).touch()
        print(f"\nthe tests' data and temp files are kept in {Path(settings.KEEP_MARKER).parent}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[services.Service]:
    """The PostgreSQL server DATABASE_URL names, else one started for this run and gone after it."""
    try:
        with services.postgres_for_tests() as server:
            yield server
    except services.ServiceMissing as missing:
        pytest.fail(str(missing))


@pytest.fixture(scope="session")
def redis_server() -> Iterator[services.Service]:
    """The Redis PENNAME_TEST_REDIS_URL names, else one started for this run and gone after it."""
    try:
        with services.redis_for_tests() as server:
            yield server
    except services.ServiceMissing as missing:
        pytest.fail(str(missing))


@pytest.fixture(scope="session")
def keys_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("keys")
    yield root
    for home in root.iterdir():
        stop_agent(home)


@pytest.fixture(scope="session")
def editor_keypair(keys_root: Path) -> EditorKeypair:
    """The editor's own laptop: a GnuPG home with the private key."""
    return make_keypair(keys_root / "editor", "Test Editor <editor@penname.invalid>")


@pytest.fixture(scope="session")
def second_editor_keypair(keys_root: Path) -> EditorKeypair:
    return make_keypair(keys_root / "editor2", "Second Editor <editor2@penname.invalid>")


@pytest.fixture(scope="session")
def outsider_keypair(keys_root: Path) -> EditorKeypair:
    return make_keypair(keys_root / "outsider", "Not An Editor <outsider@penname.invalid>")


@pytest.fixture(scope="session")
def author_own_keypair(keys_root: Path) -> EditorKeypair:
    """An author's own reply key, made as the reply-key page asks: user ID "reply" only."""
    return make_keypair(keys_root / "author-own", "reply")


@pytest.fixture(scope="session")
def expired_keypair(keys_root: Path) -> EditorKeypair:
    return make_keypair(keys_root / "expired", "Expired <expired@penname.invalid>",
                        expire="1y", faked_time="20200101T000000")


@pytest.fixture(scope="session")
def weak_rsa_keypair(keys_root: Path) -> EditorKeypair:
    return make_keypair(keys_root / "weak", "Weak <weak@penname.invalid>",
                        primary="rsa2048", sub="rsa2048")


@pytest.fixture(scope="session")
def sign_only_keypair(keys_root: Path) -> EditorKeypair:
    return make_keypair(keys_root / "signonly", "Sign Only <sign@penname.invalid>", sub=None)


@pytest.fixture(scope="session")
def revoked_public_key(keys_root: Path) -> str:
    pair = make_keypair(keys_root / "revoked", "Revoked <revoked@penname.invalid>")
    return revoke(pair)


@pytest.fixture
def data_dir(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    """A fresh data directory (keyring, store, spool) for this test."""
    root = tmp_path / "data"
    root.mkdir()
    settings.DATA_DIR = root
    settings.PORTAL_GNUPG_HOME = root / "gnupg"
    settings.PORTAL_STORE_DIR = root / "store"
    settings.PORTAL_SPOOL_DIR = root / "spool"
    yield root
    stop_agent(root / "gnupg")
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[float], None]]:
    """Move time forward: the cache's expiry, the throttles, TOTP and django-otp all follow."""
    real_time, real_now = time.time, timezone.now
    offset = [0.0]
    monkeypatch.setattr(time, "time", lambda: real_time() + offset[0])
    monkeypatch.setattr(timezone, "now",
                        lambda: real_now() + datetime.timedelta(seconds=offset[0]))

    def advance(seconds: float) -> None:
        offset[0] += seconds

    cache.clear()
    yield advance
    cache.clear()


@pytest.fixture
def kdf_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts every Argon2id derivation of a codename, whatever the view derives it for."""
    runs: list[int] = []
    real = codenames.hash_secret_raw

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        runs.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(codenames, "hash_secret_raw", counting)
    return runs


@pytest.fixture
def editor(db, data_dir: Path, editor_keypair: EditorKeypair):  # type: ignore[no-untyped-def]
    """An active editor whose public key is registered and approved on the server."""
    from django.contrib.auth import get_user_model

    from tests.editorial.editors import approved_key

    user = get_user_model().objects.create_user("editor", password="correct horse battery")
    approved_key(user, editor_keypair.public)
    return user


@pytest.fixture
def desk(db, data_dir: Path, editor_keypair: EditorKeypair):  # type: ignore[no-untyped-def]
    """A managing editor with a verified session and a registered key."""
    from portal.editors.models import Editor
    from tests.editorial.editors import make_editor, verified_client

    user = make_editor("managing", Editor.Role.MANAGING, key=editor_keypair.public)
    return verified_client(user)
