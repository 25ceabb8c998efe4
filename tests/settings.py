"""Test settings: the real settings module, pointed at a throw-away data directory.

Only what must differ for a test run is set here: a temporary data directory and
temp directory (so the plaintext-canary scans can cover them whole), a fixed
secret key, and a cheaper codename KDF (one test checks the production cost).
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile

if "mypy" in sys.modules:
    # django-stubs loads these settings to type-check, and mypy ends without running exit
    # handlers: one fixed directory, reused by every check, instead of one more each time.
    _root = os.path.join(tempfile.gettempdir(), "penname-test-typecheck")
    os.makedirs(_root, mode=0o700, exist_ok=True)
else:
    _root = tempfile.mkdtemp(prefix="penname-test-")
_creator = os.getpid()
# A test run that failed leaves this file in the directory: then it is kept for a look.
KEEP_MARKER = os.path.join(_root, "KEEP")


@atexit.register
def _remove_at_exit() -> None:
    """Every process that loads these settings (pytest, and mypy's Django plugin) cleans up."""
    if os.getpid() == _creator and not os.path.exists(KEEP_MARKER):  # not in a forked child
        shutil.rmtree(_root, ignore_errors=True)


os.environ.setdefault("PORTAL_DATA_DIR", os.path.join(_root, "data"))
os.environ.setdefault("PORTAL_SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("PORTAL_KDF_TIME_COST", "1")
os.environ.setdefault("PORTAL_KDF_MEMORY_KIB", "1024")
TEST_TMPDIR = os.path.join(_root, "tmp")
os.makedirs(TEST_TMPDIR, exist_ok=True)
os.environ["TMPDIR"] = TEST_TMPDIR
tempfile.tempdir = TEST_TMPDIR

from portal.settings import *  # noqa: E402, F403

# The budgets (portal.authors.budgets) would carry failed logins, new codenames and
# uploads from one test into the next; their own tests set the budgets they test.
PORTAL_CODENAME_FAILURES_PER_MINUTE = 1_000_000
PORTAL_LOGIN_FAILURES_PER_CIRCUIT = 1_000_000
PORTAL_NEW_CODENAMES_PER_CIRCUIT = 1_000_000
PORTAL_NEW_CODENAMES_PER_HOUR = 1_000_000
PORTAL_UPLOADS_PER_CIRCUIT = 1_000_000
PORTAL_UPLOADS_PER_HOUR = 1_000_000

# Safe copies start LibreOffice for every office upload (seconds each); the tests
# of safe copies turn them on (tests/sanitize/test_safe_copy.py and the flows there).
PORTAL_SAFE_COPIES = False
