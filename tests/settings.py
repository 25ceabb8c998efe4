"""Test settings: the real settings module, pointed at a throw-away data directory.

Only what must differ for a test run is set here: a temporary data directory and
temp directory (so the plaintext-canary scans can cover them whole), a fixed
secret key, and a cheaper codename KDF (one test checks the production cost).
"""

from __future__ import annotations

import os
import tempfile

_root = tempfile.mkdtemp(prefix="penname-test-")
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
