"""Settings, read from the environment (see README "Configuration").

Every variable is parsed by a typed helper in `portal.env` that refuses bad
values loudly. Production needs PORTAL_SECRET_KEY (or _FILE); only the
development default (PORTAL_DEBUG=True) generates one into the data directory.
"""

from __future__ import annotations

import resource
from dataclasses import replace
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from portal.env import (
    env_bool,
    env_int,
    env_list,
    env_secret,
    env_str,
    generated_secret,
)
from portal.sanitize.budget import cleaner_memory_needed
from portal.sanitize.limits import DEFAULT_LIMITS

BASE_DIR = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024

# No core dumps: a crashed worker's memory can hold a draft in plaintext.
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

DEBUG = env_bool("PORTAL_DEBUG", False)
DATA_DIR = Path(env_str("PORTAL_DATA_DIR", str(BASE_DIR / "var"))).resolve()

_secret = env_secret("PORTAL_SECRET_KEY")
if _secret is None:
    if not DEBUG:
        raise ImproperlyConfigured(
            "Set PORTAL_SECRET_KEY or PORTAL_SECRET_KEY_FILE (or PORTAL_DEBUG=True for a "
            "development server, which keeps a generated key in the data directory)."
        )
    _secret = generated_secret(DATA_DIR / "secrets" / "secret_key")
SECRET_KEY = _secret

# The codename pepper is data, not configuration: losing it locks every author
# out, so it is generated once into the data directory (and backed up with it)
# unless the admin provides one.
CODENAME_PEPPER = (
    env_secret("PORTAL_CODENAME_PEPPER")
    or generated_secret(DATA_DIR / "secrets" / "codename_pepper")
).encode("utf-8")

ALLOWED_HOSTS = env_list("PORTAL_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "portal.submissions",
    "portal.editors",
    "portal.authors",
    "portal.editorial",
    "portal.correspondence",
    "portal.api",
    "portal.counters",
    "portal.operations",
]

MIDDLEWARE = [
    # Outermost, so a policy already chosen for the response (the editor pages'
    # policy, set by PrivacyHeadersMiddleware) is kept and every other response
    # gets SECURE_CSP.
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Next, so it sees the response after every cookie has been set.
    "portal.middleware.PrivacyHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "portal" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csrf",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'portal.sqlite3'}"),
        conn_max_age=env_int("PORTAL_DB_CONN_MAX_AGE", 0, maximum=3600),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Sessions live in the cache, never in the database: a session row would record
# to the second when an author was last active. Several application servers
# need REDIS_URL so they share it; a lone development server uses local memory.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "penname",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SESSION_ENGINE = "django.contrib.sessions.backends.cache"
SESSION_COOKIE_NAME = "penname"
SESSION_COOKIE_AGE = 2 * 60 * 60  # idle expiry: two hours without a request
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Strict"
# Gone when the browser closes (Django's default keeps it a year): a token that
# outlives the visit would mark the browser as one that came here before.
CSRF_COOKIE_AGE = None
CSRF_FAILURE_VIEW = "portal.errors.csrf_failure"
# Cookies get the Secure flag whenever the request came over HTTPS (see
# portal.middleware); an onion service is plain HTTP inside Tor.

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
# Browsers send regional codes; Django's LANG_INFO fallbacks map zh-CN, zh-SG and
# zh-MY to zh-hans and zh-TW, zh-HK and zh-MO to zh-hant (a bare "zh" gets the
# first Chinese entry here). tests/test_i18n.py holds Django to that.
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文"), ("zh-hant", "繁體中文")]
LOCALE_PATHS = [BASE_DIR / "portal" / "locale"]
# The language switcher's cookie: for this site only, unreadable by scripts, and
# gone when the browser closes (no LANGUAGE_COOKIE_AGE).
LANGUAGE_COOKIE_NAME = "penname_language"
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Strict"
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "/static/"
# In production nginx serves these from a directory outside the data directory
# (deploy/README.md), so the web server never needs to look inside it.
STATIC_ROOT = Path(env_str("PORTAL_STATIC_ROOT", str(DATA_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "portal" / "static"]

# --- Security headers and deployment checks -----------------------------------------
# Penname is served only as Tor onion services over plain HTTP: Tor already
# encrypts and authenticates the connection end to end (the address is the
# key), and an onion site has no certificate to redirect to. These deploy
# checks ask for HTTPS-only behaviour and are silenced on purpose (SECURITY.md,
# "Deployment checks"):
SILENCED_SYSTEM_CHECKS = [
    # SECURE_HSTS_SECONDS: browsers ignore HSTS on plain HTTP; there is no HTTPS to pin.
    "security.W004",
    # SECURE_SSL_REDIRECT: there is no HTTPS site to redirect to.
    "security.W008",
    # SESSION_COOKIE_SECURE / CSRF_COOKIE_SECURE: a Secure cookie set over HTTP is
    # refused or never sent back (portal-editor's HTTP client, some browsers), so
    # nobody could log in. portal.middleware adds Secure whenever a request does
    # arrive over HTTPS; both cookies are HttpOnly and SameSite=Strict.
    "security.W012",
    "security.W016",
]
# Nobody is e-mailed error reports: a report would carry the request (addresses,
# headers, form fields) off the server. Errors go to the journal, filtered.
ADMINS: list[str] = []
# Outgoing mail exists only for editors' opt-in "something new" notifications
# (portal.editorial.notify). Without PORTAL_EMAIL_HOST nothing is ever sent.
_email_host = env_str("PORTAL_EMAIL_HOST", "")
DEFAULT_FROM_EMAIL = env_str("PORTAL_EMAIL_FROM", "penname@localhost")
MAILERS = {"default": {
    "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "OPTIONS": {
        "host": _email_host,
        "port": env_int("PORTAL_EMAIL_PORT", 587, minimum=1, maximum=65535),
        "username": env_str("PORTAL_EMAIL_USER", ""),
        "password": env_secret("PORTAL_EMAIL_PASSWORD") or "",
        "use_tls": env_bool("PORTAL_EMAIL_TLS", True),
        "timeout": 30,
    },
} if _email_host else {"BACKEND": "django.core.mail.backends.dummy.EmailBackend"}}
if not _email_host:
    # `check --deploy` calls the dummy backend development-only; here it is the
    # deliberate "send no mail at all" (SECURITY.md, "Deployment checks").
    SILENCED_SYSTEM_CHECKS.append("mail.E001")

# Content-Security-Policy (django.middleware.csp): pages load styles and images
# from this origin only, run no script, post forms only here and cannot be
# framed. `data:` images fetch nothing from anywhere, so they cannot tell another
# site about a visit (none are used today). The enrolment QR code is inline <svg>
# markup, which img-src does not govern.
from django.utils.csp import CSP  # noqa: E402 - next to the policy it builds

SECURE_CSP: dict[str, list[str]] = {
    "default-src": [CSP.NONE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
}
# Author pages may run one script, named by its full URL (portal.middleware): it only
# reveals the warning that scripts are on, so it never runs at Tor Browser's "Safest".
PORTAL_WARNING_SCRIPT = "portal/noscript-warning.js"
# Editor pages (under /editor/) may also run same-origin scripts and call back
# to this origin: django-otp-webauthn's security-key ceremony is /static/ JavaScript
# that posts to /editor/webauthn/. Author pages never get this policy.
PORTAL_EDITOR_CSP: dict[str, list[str]] = {
    **SECURE_CSP, "script-src": [CSP.SELF], "connect-src": [CSP.SELF],
}

SECURE_CONTENT_TYPE_NOSNIFF = True
# "same-origin", not "no-referrer": with no-referrer browsers send `Origin: null` on
# our own form posts, which Django's CSRF origin check must refuse. same-origin still
# sends nothing to any other origin.
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Uploads ------------------------------------------------------------------
# No view accepts files unless it installs the encrypted spool handler itself;
# Django's temporary-file handler (plaintext in /tmp) is never used.
FILE_UPLOAD_HANDLERS = ["portal.authors.upload.RefuseFilesHandler"]
# Text fields (title, message) of one request, in bytes.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1 * MiB
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
# Above the portal's own file-count limit, so authors get its friendly message.
DATA_UPLOAD_MAX_NUMBER_FILES = 100

# --- Portal limits: every size, count and time that input controls ------------------
PORTAL_MAX_FILES = env_int("PORTAL_MAX_FILES", 10, minimum=1, maximum=99)
PORTAL_MAX_FILE_BYTES = env_int("PORTAL_MAX_UPLOAD_MB", 200, minimum=1, maximum=4096) * MiB
PORTAL_MAX_SUBMISSION_BYTES = (
    env_int("PORTAL_MAX_SUBMISSION_MB", 500, minimum=1, maximum=16384) * MiB
)
PORTAL_MAX_TITLE_CHARS = 300
PORTAL_MAX_MESSAGE_CHARS = 20_000
PORTAL_MAX_PEN_NAME_CHARS = 80
PORTAL_MAX_FILE_NAME_CHARS = 200
# API tokens for portal-editor expire after this many days.
PORTAL_API_TOKEN_DAYS = env_int("PORTAL_API_TOKEN_DAYS", 30, minimum=1, maximum=365)
# Declined and withdrawn submissions are deleted this many days after closing.
PORTAL_RETENTION_DAYS = env_int("PORTAL_RETENTION_DAYS", 90, minimum=1, maximum=3650)
# A cleaned upload waits this long for the author's confirmation, then is deleted.
PORTAL_PENDING_SECONDS = 60 * 60
# A confirmation pressed twice waits at most this long for the first press to finish
# sending, to say where the upload went (portal.authors.pressed_twice).
PORTAL_CONFIRM_WAIT_SECONDS = 20
# New ciphertext reaches its final place in the store in batches, at these
# boundaries from 00:00 UTC (portal.store): no file's times are finer than this.
# The hourly timer publishes; a window of a day means once a day.
PORTAL_BATCH_HOURS = env_int("PORTAL_BATCH_HOURS", 1, minimum=1, maximum=24)
if 24 % PORTAL_BATCH_HOURS:
    raise ImproperlyConfigured(
        f"PORTAL_BATCH_HOURS must divide the day (1, 2, 3, 4, 6, 8, 12 or 24), "
        f"not {PORTAL_BATCH_HOURS}")
# Argon2id cost for codename lookups (tests lower it; production keeps the default).
PORTAL_KDF_TIME_COST = env_int("PORTAL_KDF_TIME_COST", 3, minimum=1, maximum=20)
PORTAL_KDF_MEMORY_KIB = env_int("PORTAL_KDF_MEMORY_KIB", 64 * 1024, minimum=8, maximum=1 << 21)
# Codename derivations running at once in one process: each holds PORTAL_KDF_MEMORY_KIB,
# so this bounds the memory a burst of logins can take (further logins wait their turn).
PORTAL_KDF_CONCURRENCY = env_int("PORTAL_KDF_CONCURRENCY", 2, minimum=1, maximum=64)

# --- Budgets per Tor circuit, with a site-wide ceiling (portal.authors.budgets) --------
# Failed codename attempts per circuit in 10 minutes. An author who mistypes their
# codename ten times in a row needs a pause, not more tries; an attacker on one
# circuit gets 60 guesses an hour against a 2^90 space, and cannot spend the
# ceiling below alone.
PORTAL_LOGIN_FAILURES_PER_CIRCUIT = env_int("PORTAL_LOGIN_FAILURES_PER_CIRCUIT", 10,
                                            minimum=1, maximum=100_000)
# Failed codename attempts per minute for the whole site. Each runs Argon2id twice
# (0.4 s of one core at the default cost, measured), so 60 a minute bound the KDF
# work any number of circuits can force to ~40% of one core. It is six times the
# most one circuit can spend in a minute: keeping it spent (and real authors out)
# takes six fresh circuits every minute (each a puzzle to solve when Tor's
# proof-of-work is in force).
PORTAL_CODENAME_FAILURES_PER_MINUTE = env_int("PORTAL_CODENAME_FAILURES_PER_MINUTE", 60,
                                              minimum=1, maximum=100_000)
# New codenames per circuit in an hour: an author needs one, a second if they lost
# it before writing it down, a third by mistake. Each costs two Argon2id runs and a
# row that stays until `portal purge` removes it unused.
PORTAL_NEW_CODENAMES_PER_CIRCUIT = env_int("PORTAL_NEW_CODENAMES_PER_CIRCUIT", 3,
                                           minimum=1, maximum=100_000)
# New codenames per hour for the whole site: far more than a magazine's new authors
# in an hour (a busy call for pieces brings dozens a day), few enough that a week of
# flooding leaves ~10,000 unused rows for the purge, and 24 s of KDF work an hour.
PORTAL_NEW_CODENAMES_PER_HOUR = env_int("PORTAL_NEW_CODENAMES_PER_HOUR", 60,
                                        minimum=1, maximum=100_000)
# Uploads started per circuit in an hour (sent or not): an author who uploads,
# cancels and tries again a few times stays well inside; each upload is a cleaning.
PORTAL_UPLOADS_PER_CIRCUIT = env_int("PORTAL_UPLOADS_PER_CIRCUIT", 10,
                                     minimum=1, maximum=100_000)
# Uploads started per hour for the whole site: a deadline day's rush fits; what an
# attacker with many circuits and one codename can start stays bounded (each upload
# still waits for one of PORTAL_CLEANERS and expires unconfirmed within the hour).
PORTAL_UPLOADS_PER_HOUR = env_int("PORTAL_UPLOADS_PER_HOUR", 120, minimum=1, maximum=100_000)
# `portal purge` deletes identities that were never used again (no login after the
# first visit, nothing sent, no upload waiting) after this many days: an author
# who wants to write first has a week to come back (the codename page says so),
# and a flood of new codenames does not stay.
PORTAL_UNUSED_IDENTITY_DAYS = env_int("PORTAL_UNUSED_IDENTITY_DAYS", 7, minimum=1, maximum=3650)

# Cleaning processes running at once on this server, across every worker: each
# may take the cleaner's whole memory and CPU allowance (portal.sanitize.limits).
# One more waits this long for a turn, then the file is refused as "busy".
PORTAL_CLEANERS = env_int("PORTAL_CLEANERS", 2, minimum=1, maximum=64)
PORTAL_CLEANER_WAIT_SECONDS = env_int("PORTAL_CLEANER_WAIT_SECONDS", 30, minimum=0, maximum=600)
# Memory for every cleaning process and safe-copy renderer together, in MiB: each of
# the PORTAL_CLEANERS slots gets an equal share as its limit, so the cleaners can
# never take more than this between them (deploy/systemd/penname.service's
# MemoryMax= holds it and the workers; a test compares them). A share must hold a
# picture at the cleaner's budget and a file at PORTAL_MAX_UPLOAD_MB in and out.
PORTAL_CLEANING_MEMORY_MB = env_int("PORTAL_CLEANING_MEMORY_MB", 3072, minimum=256,
                                    maximum=1 << 20)
PORTAL_CLEANER_MEMORY_BYTES = PORTAL_CLEANING_MEMORY_MB * MiB // PORTAL_CLEANERS
_share_needed = cleaner_memory_needed(
    replace(DEFAULT_LIMITS, max_input_bytes=PORTAL_MAX_FILE_BYTES))
if PORTAL_CLEANER_MEMORY_BYTES < _share_needed:
    raise ImproperlyConfigured(
        f"PORTAL_CLEANING_MEMORY_MB={PORTAL_CLEANING_MEMORY_MB} gives each of the "
        f"{PORTAL_CLEANERS} cleaners {PORTAL_CLEANER_MEMORY_BYTES // MiB} MiB; with "
        f"PORTAL_MAX_UPLOAD_MB={PORTAL_MAX_FILE_BYTES // MiB} each needs "
        f"{-(-_share_needed // MiB)} MiB. Raise PORTAL_CLEANING_MEMORY_MB to at least "
        f"{PORTAL_CLEANERS * -(-_share_needed // MiB)} (and MemoryMax= with it), or lower "
        f"PORTAL_CLEANERS or PORTAL_MAX_UPLOAD_MB.")
# What one gunicorn worker holds besides the cleaners, for sizing MemoryMax=: Django
# and its threads' uploads in flight, its cleaning zygote, gpg, a safe copy being
# assembled (384 MiB; a worker measured ~90 MiB idle, its zygote ~50), and its
# codename derivations at once.
PORTAL_WORKER_MEMORY_MB = 384 + PORTAL_KDF_CONCURRENCY * PORTAL_KDF_MEMORY_KIB // 1024
# Safe copies (portal.sanitize.safecopy): every document and picture is also
# rendered, in a sandbox, to a PDF of page images for editors to open first:
# at most this many pages each, and this many seconds for all of one upload.
PORTAL_SAFE_COPIES = env_bool("PORTAL_SAFE_COPIES", True)
PORTAL_SAFE_COPY_MAX_PAGES = env_int("PORTAL_SAFE_COPY_MAX_PAGES", 200, minimum=1, maximum=2000)
PORTAL_SAFE_COPY_SECONDS = env_int("PORTAL_SAFE_COPY_SECONDS", 300, minimum=10, maximum=3600)

PORTAL_GNUPG_HOME = Path(env_str("PORTAL_GNUPG_HOME", str(DATA_DIR / "gnupg")))
PORTAL_GPG_BINARY = env_str("PORTAL_GPG_BINARY", "gpg")
PORTAL_STORE_DIR = DATA_DIR / "store"
PORTAL_SPOOL_DIR = DATA_DIR / "spool"

# --- Logging: no addresses, no User-Agents, no times of author activity --------
# Access logs are off. Error records pass through a filter that drops the
# request object (and with it every header), and the format has no timestamp.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"no_request": {"()": "portal.logfilter.DropRequestDetails"}},
    "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["no_request"],
        }
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        # Replaces Django's default "django" logger, whose handlers include
        # mail_admins: nothing about a request ever leaves the server by e-mail.
        "django": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "django.server": {"handlers": [], "level": "CRITICAL", "propagate": False},
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.security": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "portal": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # python-gnupg logs every non-zero gpg exit as a warning; failures that
        # matter surface as exceptions in portal.crypto.openpgp instead.
        "gnupg": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}

# --- Editor authentication ------------------------------------------------------
# Passwords are Argon2id (PASSWORD_HASHERS above); the second factor is TOTP with
# backup codes, or a WebAuthn key; login attempts are throttled per account
# (portal.editors.throttle). Idle expiry is SESSION_COOKIE_AGE above.
OTP_TOTP_ISSUER = "Penname"
LOGIN_URL = "editorial:login"
LOGIN_REDIRECT_URL = "editorial:dashboard"
# The admin shows no TOTP secrets and no backup codes, not even to staff.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# The admin (django_otp's OTPAdminSite, portal.editorial.admin_site) needs the
# messages framework and the auth context processor. SimpleAdminConfig: no
# autodiscovery, only what admin_site registers. Messages live in the session.
INSTALLED_APPS += ["django.contrib.admin.apps.SimpleAdminConfig", "django.contrib.messages"]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django.contrib.messages.middleware.MessageMiddleware",
)
_context_processors = TEMPLATES[0]["OPTIONS"]["context_processors"]  # type: ignore[index]
_context_processors += [
    "django.contrib.auth.context_processors.auth",
    "django.contrib.messages.context_processors.messages",
]
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# WebAuthn (security keys, passkeys) is a second factor only, never a login on
# its own. Browsers allow it only on a secure origin (https://, or http://localhost),
# so PORTAL_WEBAUTHN_ORIGIN names the one origin editors use when that holds; on a
# plain-HTTP onion address the pages offer the authenticator app and backup codes.
from urllib.parse import urlsplit  # noqa: E402 - this block's own import

OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
_webauthn_origin = urlsplit(env_str("PORTAL_WEBAUTHN_ORIGIN", "http://localhost:8000"))
if _webauthn_origin.scheme not in ("https", "http") or not _webauthn_origin.hostname \
        or _webauthn_origin.path not in ("", "/"):
    raise ImproperlyConfigured(
        "PORTAL_WEBAUTHN_ORIGIN must be an origin such as https://editors.example.org"
    )
OTP_WEBAUTHN_RP_ID = _webauthn_origin.hostname
OTP_WEBAUTHN_RP_NAME = "Penname"
OTP_WEBAUTHN_ALLOWED_ORIGINS = [f"{_webauthn_origin.scheme}://{_webauthn_origin.netloc}"]

