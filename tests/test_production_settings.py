"""Production settings: `check --deploy` is clean, errors show no traceback and go nowhere by e-mail."""

from __future__ import annotations

import io
import json
import logging
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import path
from django.utils.log import AdminEmailHandler

from portal import urls as portal_urls
from portal.access import public

ROOT = Path(__file__).resolve().parent.parent
PORTAL = Path(sys.executable).parent / "portal"


def production_env(tmp_path: Path) -> dict[str, str]:
    """deploy/penname.env.example as shipped (no PORTAL_DEBUG), with its paths moved into tmp_path."""
    env = {"PATH": "/usr/bin:/bin"}
    for line in (ROOT / "deploy" / "penname.env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name] = value
    assert "PORTAL_DEBUG" not in env
    secret = tmp_path / "secret_key"
    secret.write_text(secrets.token_urlsafe(64) + "\n")
    env.update(PORTAL_DATA_DIR=str(tmp_path / "data"), PORTAL_SECRET_KEY_FILE=str(secret),
               PORTAL_STATIC_ROOT=str(tmp_path / "static"))
    return env


def test_check_deploy_is_clean_with_production_settings(tmp_path, outsider_keypair):
    """The example file filled in as deploy/README.md says; shipped as is, it fails
    (tests/test_deploy_checks.py)."""
    from tests.test_deploy_checks import ONIONS

    env = production_env(tmp_path)
    env["PORTAL_ALLOWED_HOSTS"] = ",".join(ONIONS)
    Path(env["PORTAL_SECRET_KEY_FILE"]).chmod(0o600)
    admin = Path(env["PORTAL_DATA_DIR"]) / "admin-gnupg"
    admin.mkdir(parents=True, mode=0o700)
    imported = subprocess.run(["gpg", "--homedir", str(admin), "--batch", "--no-autostart",
                               "--import"],
                              input=outsider_keypair.public.encode(), capture_output=True,
                              timeout=60, check=False)
    assert b"imported: 1" in imported.stderr, imported.stderr  # (no agent: exit 2 all the same)
    env["PORTAL_BACKUP_KEY"] = outsider_keypair.fingerprint
    subprocess.run([str(PORTAL), "collectstatic", "--no-input"], env=env, check=True,
                   capture_output=True, timeout=120)
    result = subprocess.run([str(PORTAL), "check", "--deploy", "--fail-level", "DEBUG"],
                            env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    silenced = len(settings.SILENCED_SYSTEM_CHECKS)
    assert f"System check identified no issues ({silenced} silenced)." in result.stdout


SHOW_SETTINGS = """
import json
from django.conf import settings
print(json.dumps({"hosts": settings.ALLOWED_HOSTS, "debug": settings.DEBUG,
                  "database": settings.DATABASES["default"]["ENGINE"],
                  "cache": settings.CACHES["default"]["BACKEND"],
                  "sessions": settings.SESSION_ENGINE}))
"""


def test_production_settings_serve_the_onion_names_from_postgresql_and_redis(tmp_path):
    env = production_env(tmp_path)
    result = subprocess.run([str(PORTAL), "shell", "--no-imports", "-c", SHOW_SETTINGS], env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    onions = env["PORTAL_ALLOWED_HOSTS"].split(",")
    assert shown["hosts"] == onions and all(h.endswith(".onion") for h in onions)
    assert shown["debug"] is False
    assert shown["database"] == "django.db.backends.postgresql"
    # Sessions (and the login throttles) in the one Redis every application server shares.
    assert shown["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert shown["sessions"] == "django.contrib.sessions.backends.cache"


def test_every_silenced_check_is_justified_in_security_md():
    security = (ROOT / "SECURITY.md").read_text()
    assert settings.SILENCED_SYSTEM_CHECKS, "nothing silenced: drop this test's reason to exist"
    for check in settings.SILENCED_SYSTEM_CHECKS:
        assert check in security, f"{check} is silenced but SECURITY.md does not say why"
    # Only the HTTPS-only checks, and the mail backend when no mail is to be sent;
    # nothing about keys, hosts or debug.
    assert set(settings.SILENCED_SYSTEM_CHECKS) <= {
        "security.W004", "security.W008", "security.W012", "security.W016", "mail.E001"}


def test_the_mail_check_is_silenced_only_while_no_mail_is_sent(tmp_path):
    env = production_env(tmp_path)
    show = "from django.conf import settings; print(settings.SILENCED_SYSTEM_CHECKS)"
    for host, silenced in (("", True), ("mail.example.org", False)):
        result = subprocess.run([str(PORTAL), "shell", "--no-imports", "-c", show],
                                env={**env, "PORTAL_EMAIL_HOST": host}, capture_output=True,
                                text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stderr
        assert ("mail.E001" in result.stdout) is silenced, host


def test_no_error_report_is_sent_by_email():
    assert settings.ADMINS == []
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            assert not isinstance(handler, AdminEmailHandler), logger.name


# --- a view that fails, behind the real error handlers ---------------------------------

SECRET_FIELD = "body-canary-90210"


@public
def explode(request):  # type: ignore[no-untyped-def]
    request.POST.get("field")  # the body was read, as any form view would
    raise RuntimeError("internal detail")


# Under /editor/: errors on editors' pages are logged (without the request); on
# author pages they are only counted (tests/test_no_author_times_in_logs.py).
urlpatterns = [path("editor/explode/", explode), *portal_urls.urlpatterns]
handler500 = "portal.errors.server_error"


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_errors_show_no_traceback_and_log_no_request(client, data_dir):
    # The real console handler (with its filter and format), writing where we can read it.
    [console] = [h for h in logging.getLogger("django.request").handlers
                 if type(h) is logging.StreamHandler]
    written = io.StringIO()
    previous = console.setStream(written)  # type: ignore[attr-defined]
    client.raise_request_exception = False
    try:
        response = client.post("/editor/explode/", {"field": SECRET_FIELD},
                               REMOTE_ADDR="198.51.100.23", HTTP_USER_AGENT="AgentCanary/1.0")
    finally:
        console.setStream(previous)  # type: ignore[attr-defined]
    page = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on the server" in page
    for leak in ("Traceback", "RuntimeError", "internal detail", SECRET_FIELD, "explode.py"):
        assert leak not in page
    logged = written.getvalue()
    assert "RuntimeError" in logged  # the admin still learns what broke ...
    for leak in ("198.51.100.23", "AgentCanary", "WSGIRequest", "csrftoken", "penname=", SECRET_FIELD):
        assert leak not in logged  # ... but not who was asking, nor what they sent
    assert not re.search(r"\d{2}:\d{2}:\d{2}", logged)
