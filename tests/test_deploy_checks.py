"""`portal check --deploy` fails on every way a server fails quietly (portal.deploy_checks).

Each test shows the check failing on the broken setting and passing on the
right one, through Django's real check framework with the deployment checks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks
from django.core.management import call_command

from portal.submissions.backup import admin_keyring

PORTAL = Path(sys.executable).parent / "portal"
pytestmark = pytest.mark.django_db  # some of Django's own checks look at the database
# Real v3 onion addresses (public services), so their checksums hold.
ONIONS = ["duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion",
          "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion"]


def penname_ids() -> list[str]:
    return sorted(m.id for m in checks.run_checks(include_deployment_checks=True)
                  if m.id and m.id.startswith("penname."))


@pytest.fixture
def production(settings, data_dir, tmp_path, monkeypatch, outsider_keypair):
    """Everything right, as on a finished install; each test breaks one thing."""
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = list(ONIONS)
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "unix:///run/redis/redis-server.sock?db=0"}}
    settings.STATIC_ROOT = tmp_path / "static"
    call_command("collectstatic", "--no-input", verbosity=0)
    monkeypatch.setenv("PORTAL_BACKUP_KEY", admin_keyring().import_public_key(
        outsider_keypair.public).fingerprint)
    secret = tmp_path / "secret_key"
    secret.write_text("a-secret\n")
    secret.chmod(0o600)
    monkeypatch.setenv("PORTAL_SECRET_KEY_FILE", str(secret))
    settings.PORTAL_SAFE_COPIES = True
    assert penname_ids() == []
    return secret


@pytest.mark.parametrize("hosts, expected", [
    (["*"], "penname.E001"),
    # As shipped in deploy/penname.env.example, and as written in deploy/README.md.
    (["authors" + "x" * 49 + ".onion", ONIONS[1]], "penname.E002"),
    (["<authors address>", ONIONS[1]], "penname.E002"),
    ([ONIONS[0], "editors.example.org"], "penname.E002"),
    (["127.0.0.1", "localhost"], "penname.W003"),
])
def test_any_host_placeholder_hosts_or_no_onion_fail(production, settings, hosts, expected):
    settings.ALLOWED_HOSTS = hosts
    assert expected in penname_ids()


def test_no_redis_in_production_fails(production, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert penname_ids() == ["penname.E004"]
    settings.DEBUG = True  # a development server needs none
    assert "penname.E004" not in penname_ids()


def test_a_missing_placeholder_or_unknown_backup_key_fails(production, monkeypatch,
                                                           second_editor_keypair):
    monkeypatch.delenv("PORTAL_BACKUP_KEY")
    assert penname_ids() == ["penname.W005"]
    monkeypatch.setenv("PORTAL_BACKUP_KEY", "0" * 40)  # the example file's
    assert penname_ids() == ["penname.W005"]
    monkeypatch.setenv("PORTAL_BACKUP_KEY", second_editor_keypair.fingerprint)  # never imported
    assert penname_ids() == ["penname.E006"]


def test_static_files_not_collected_or_out_of_date_fail(production, settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "never-collected"
    assert penname_ids() == ["penname.E007"]
    settings.STATIC_ROOT = tmp_path / "static"
    stylesheet = next((tmp_path / "static").rglob("*.css"))
    stylesheet.write_text(stylesheet.read_text() + "\n/* an older release */\n")
    assert penname_ids() == ["penname.E007"]


def test_a_secret_key_file_others_can_read_fails(production):
    secret = production
    secret.chmod(0o644)
    assert penname_ids() == ["penname.E008"]
    secret.chmod(0o640)  # root:<the service's group>, as deploy/README.md makes it
    assert penname_ids() == []
    os.chown(secret, -1, os.getgid() + 4242)  # readable by some other group
    assert penname_ids() == ["penname.E008"]


def test_missing_chinese_translations_fail(production, settings, tmp_path):
    locale = tmp_path / "locale"
    shutil.copytree(Path(settings.LOCALE_PATHS[0]), locale)
    settings.LOCALE_PATHS = [locale]
    assert penname_ids() == []
    (locale / "zh_Hant" / "LC_MESSAGES" / "django.mo").unlink()
    assert penname_ids() == ["penname.E009"]
    po = locale / "zh_Hans" / "LC_MESSAGES" / "django.po"
    os.utime(po, (po.stat().st_atime, po.stat().st_mtime + 3600))  # edited after compiling
    assert penname_ids() == ["penname.E009", "penname.W009"]


def test_safe_copies_without_libreoffice_warn(production, settings, monkeypatch, tmp_path):
    bin_dir = tmp_path / "bin"  # every program of /usr/bin but LibreOffice
    bin_dir.mkdir()
    for program in Path("/usr/bin").iterdir():
        if program.name not in ("soffice", "libreoffice"):
            (bin_dir / program.name).symlink_to(program)
    monkeypatch.setenv("PATH", str(bin_dir))
    assert penname_ids() == ["penname.W010"]
    settings.PORTAL_SAFE_COPIES = False
    assert penname_ids() == []


def test_a_sandbox_that_cannot_start_fails(production, monkeypatch):
    monkeypatch.setenv("PORTAL_BWRAP", "/nonexistent/bwrap")
    assert penname_ids() == ["penname.E011"]


def test_the_shipped_example_fails_check_deploy_loudly(tmp_path):
    """deploy/penname.env.example as shipped: the command exits non-zero and names the fixes."""
    from tests.test_production_settings import production_env

    result = subprocess.run([str(PORTAL), "check", "--deploy"], env=production_env(tmp_path),
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0
    for expected in ("penname.E002", "penname.W005", "penname.E007", "penname.E008"):
        assert expected in result.stderr, result.stderr
