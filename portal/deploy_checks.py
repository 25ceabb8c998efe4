"""Penname's own `portal check --deploy` checks: a server that would fail quietly fails the check.

Threat answered: a portal that looks installed but is not safe or not whole —
answering any host name, placeholder addresses from the example file, sessions
and the login throttle in each worker's memory, nightly backups with no key,
pages without their stylesheet, a secret key others can read, Chinese pages
half in English, no safe copies, or a cleaner's sandbox that cannot start
(every upload refused). Each of these used to pass `check --deploy` in
silence. Every check here has an id and says, in one sentence, what to do.

Errors (penname.E…) mean the portal is broken or unsafe as configured;
warnings (penname.W…) mean something the admin chose to leave for later
(the backup key before the first backup) or that the portal survives
(safe copies). They run only with `--deploy`, never in development.
"""

from __future__ import annotations

import base64
import gettext
import hashlib
import os
import re
import shutil
import stat
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

# Strings that only ever stand for a value the admin must fill in
# (deploy/penname.env.example, deploy/README.md: "<authors address>", xxxx…).
PLACEHOLDER_RE = re.compile(r"[<>{}]|x{6,}|(^|\.)(example\.(org|com|net)|example|invalid|test)$",
                            re.I)
ONION_RE = re.compile(r"^(?:[a-z0-9-]+\.)?([a-z2-7]{56})\.onion$")
ONION_CHECKSUM = b".onion checksum"
CHINESE = ("zh_Hans", "zh_Hant")
SECRET_FILES = ("PORTAL_SECRET_KEY_FILE", "PORTAL_CODENAME_PEPPER_FILE",
                "PORTAL_EMAIL_PASSWORD_FILE")


def is_onion_v3(host: str) -> bool:
    """A real v3 onion address: 56 base32 characters whose checksum and version hold."""
    match = ONION_RE.match(host.lower())
    if not match:
        return False
    raw = base64.b32decode(match[1].upper())
    public_key, checksum, version = raw[:32], raw[32:34], raw[34:]
    expected = hashlib.sha3_256(ONION_CHECKSUM + public_key + version).digest()[:2]
    return version == b"\x03" and checksum == expected


@register(Tags.security, deploy=True)
def check_allowed_hosts(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    hosts = list(settings.ALLOWED_HOSTS)
    found: list[CheckMessage] = []
    if "*" in hosts or any(h.startswith("*") for h in hosts):
        found.append(Error(
            "PORTAL_ALLOWED_HOSTS accepts any host name.",
            hint="List only the two onion addresses (cat /var/lib/tor/penname-*/hostname).",
            id="penname.E001"))
    for host in hosts:
        name = host.lstrip(".")
        if name.endswith(".onion") and not is_onion_v3(name):
            found.append(Error(
                f"PORTAL_ALLOWED_HOSTS names {host}, which is not a real onion address "
                "(a placeholder from the example?).",
                hint="Put the addresses from /var/lib/tor/penname-*/hostname there.",
                id="penname.E002"))
        elif PLACEHOLDER_RE.search(name):
            found.append(Error(
                f"PORTAL_ALLOWED_HOSTS names {host}, a placeholder.",
                hint="Put the addresses from /var/lib/tor/penname-*/hostname there.",
                id="penname.E002"))
    if not settings.DEBUG and not any(h.endswith(".onion") for h in hosts):
        found.append(Warning(
            "PORTAL_ALLOWED_HOSTS names no onion address, so Tor Browser gets only errors.",
            hint="Set PORTAL_ALLOWED_HOSTS to the two onion addresses.",
            id="penname.W003"))
    return found


@register(Tags.caches, deploy=True)
def check_shared_cache(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    if settings.DEBUG or "redis" in settings.CACHES["default"]["BACKEND"].lower():
        return []
    return [Error(
        "REDIS_URL is not set: sessions and the editors' login throttle live in each "
        "worker's memory, so authors are logged out at random and a password guesser "
        "gets five tries per worker.",
        hint="Set REDIS_URL=unix:///run/redis/redis-server.sock?db=0 (deploy/README.md, Redis).",
        id="penname.E004")]


@register(deploy=True)
def check_backup_key(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """PORTAL_BACKUP_KEY (read by penname-backup.service) names an admin key that is imported."""
    from portal.submissions.backup import FINGERPRINT_RE, admin_keyring

    value = os.environ.get("PORTAL_BACKUP_KEY", "").replace(" ", "").upper()
    if not value:
        return [Warning("PORTAL_BACKUP_KEY is not set: the nightly backup has no key.",
                        hint="Run `penname backup --key - /var/backups/penname < /root/admin.asc` and put "
                             "the fingerprint it prints in penname.env.",
                        id="penname.W005")]
    if not FINGERPRINT_RE.match(value) or not value.strip("0"):
        return [Warning(f"PORTAL_BACKUP_KEY={value} is a placeholder, not an admin key's "
                        "fingerprint: the nightly backup will fail.",
                        hint="Run `penname backup --key - /var/backups/penname < /root/admin.asc` and put "
                             "the fingerprint it prints in penname.env.",
                        id="penname.W005")]
    info = admin_keyring().key_info(value)
    if not info.usable:
        return [Error(f"PORTAL_BACKUP_KEY {value}: {info.reason}, so the nightly backup fails.",
                      hint="Import it with `penname backup --key - /var/backups/penname < /root/admin.asc`.",
                      id="penname.E006")]
    if info.expires_within(30):
        return [Warning(f"The backup key {value} expires on {info.expires}.",
                        hint="Extend it on your machine and import it again with "
                             "`penname backup --key - /var/backups/penname < /root/admin.asc`.",
                        id="penname.W006")]
    return []


@register(Tags.staticfiles, deploy=True)
def check_static_files(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Every static file the portal has is in STATIC_ROOT, as collected (nginx serves it)."""
    from django.contrib.staticfiles.finders import get_finders

    root = Path(settings.STATIC_ROOT)
    missing = 0
    for finder in get_finders():
        for path, storage in finder.list(["CVS", ".*", "*~"]):
            copy = root / path
            try:
                if copy.stat().st_size != storage.size(path):
                    missing += 1
            except OSError:
                missing += 1
    if not missing:
        return []
    return [Error(f"{missing} static file(s) are missing or out of date in {root}, so pages "
                  "are served without their stylesheet.",
                  hint="Run `penname collectstatic --no-input` (after every upgrade too).",
                  id="penname.E007")]


def _loose_secret(path: Path) -> str | None:
    try:
        info = path.stat()
    except OSError:
        return None  # settings already refused a secret file it could not read
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077 == 0:
        return None
    if mode & 0o007:
        return f"{path} can be read or changed by every user on the server (mode {mode:o})"
    if mode & 0o020:
        return f"{path} can be changed by its group (mode {mode:o})"
    # Readable by its group: right only when that group is the service's own
    # (root:penname 0640, so the service reads a file it cannot change).
    if info.st_gid != os.getgid():
        return f"{path} can be read by group {info.st_gid}, not only by the service (mode {mode:o})"
    return None


@register(Tags.security, deploy=True)
def check_secret_files(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    found = []
    paths = [Path(os.environ[name]) for name in SECRET_FILES if os.environ.get(name)]
    paths += [Path(settings.DATA_DIR) / "secrets" / name for name in ("secret_key", "codename_pepper")]
    for path in paths:
        problem = _loose_secret(path)
        if problem:
            found.append(Error(f"A secret is not kept secret: {problem}.",
                               hint=f"chmod 0640 {path} and chown root:<the service's group> "
                                    f"{path} (or 0600, owned by the service).",
                               id="penname.E008"))
    return found


@register(Tags.translation, deploy=True)
def check_translations(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Compiled catalogues for both Chinese scripts, or Chinese pages come out half English."""
    found: list[CheckMessage] = []
    for language in CHINESE:
        places = [Path(p) / language / "LC_MESSAGES" for p in settings.LOCALE_PATHS]
        mo = next((p / "django.mo" for p in places if (p / "django.mo").exists()), None)
        po = next((p / "django.po" for p in places if (p / "django.po").exists()), None)
        if mo is None:
            found.append(Error(f"No compiled translations for {language} (django.mo): Chinese "
                               "pages would be shown half in English.",
                               hint="Run `msgfmt` on every portal/locale/*/LC_MESSAGES/django.po "
                                    "(or `django-admin compilemessages` in portal/).",
                               id="penname.E009"))
            continue
        try:
            with open(mo, "rb") as handle:
                gettext.GNUTranslations(handle)
        except (OSError, UnicodeDecodeError) as exc:  # gettext refuses a bad file with OSError
            found.append(Error(f"{mo} cannot be read ({exc}).",
                               hint="Compile it again with msgfmt.", id="penname.E009"))
            continue
        if po is not None and po.stat().st_mtime > mo.stat().st_mtime:
            found.append(Warning(f"{mo} is older than {po.name}: new text is shown in English.",
                                 hint="Compile the translations again after every upgrade.",
                                 id="penname.W009"))
    return found


@register(deploy=True)
def check_safe_copy_tools(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    if not settings.PORTAL_SAFE_COPIES or shutil.which("soffice"):
        return []
    return [Warning("PORTAL_SAFE_COPIES is on but LibreOffice (soffice) is not installed: "
                    "editors get no safe copy of any document.",
                    hint="Install libreoffice-core-nogui, libreoffice-writer-nogui, "
                         "libreoffice-calc-nogui and libreoffice-impress-nogui, or set "
                         "PORTAL_SAFE_COPIES=False.",
                    id="penname.W010")]


@register(deploy=True)
def check_cleaners_sandbox(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """The probe /health/ runs: a confined process that must fail at what it must not do."""
    from portal.sanitize.sandbox import confine

    problem = confine.problem([str(settings.DATA_DIR)])
    if problem is None:
        return []
    return [Error(f"The cleaners' sandbox cannot be built ({problem}): every upload is refused.",
                  hint="Install bubblewrap, keep kernel.unprivileged_userns_clone=1, and run the "
                       "portal from penname.service, whose RestrictNamespaces= lets it build one.",
                  id="penname.E011")]
