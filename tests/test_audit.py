"""`make audit` never passes without checking.

The vulnerability database pip-audit asks (PyPI's JSON API) is online only. These
run scripts/audit-dependencies against a stand-in pip-audit that answers as the
real one does: every package checked and clean, a known vulnerability, packages
the database did not answer for, no network at all.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "audit-dependencies"
CLEAN = {"name": "django", "version": "6.1.3", "vulns": []}
VULNERABLE = {"name": "django", "version": "6.1.0",
              "vulns": [{"id": "PYSEC-2026-1", "fix_versions": ["6.1.2"], "aliases": []}]}
SKIPPED = {"name": "django", "skip_reason": "Dependency not found on PyPI and could not be audited"}


def audit(tmp_path: Path, stdout: str, stderr: str = "", code: int = 0) -> subprocess.CompletedProcess[str]:
    fake = tmp_path / "pip-audit"
    fake.write_text(f"#!{sys.executable}\nimport sys\nsys.stdout.write({stdout!r})\n"
                    f"sys.stderr.write({stderr!r})\nsys.exit({code})\n")
    fake.chmod(0o755)
    lock = ROOT / "requirements" / "server.lock"
    return subprocess.run([sys.executable, str(SCRIPT), str(fake), str(lock)],
                          capture_output=True, text=True, check=False)


def test_every_package_checked_and_clean_passes(tmp_path):
    result = audit(tmp_path, json.dumps({"dependencies": [CLEAN, {**CLEAN, "name": "lxml"}]}))
    assert result.returncode == 0 and "no known vulnerability in the 2 locked packages" in result.stdout


def test_a_known_vulnerability_fails_naming_the_fix(tmp_path):
    result = audit(tmp_path, json.dumps({"dependencies": [CLEAN, VULNERABLE]}), code=1)
    assert result.returncode == 1
    assert "django 6.1.0: PYSEC-2026-1 (fixed in: 6.1.2)" in result.stdout


@pytest.mark.parametrize("answer", [
    (json.dumps({"dependencies": [CLEAN, SKIPPED]}), "", 0),
    (json.dumps({"dependencies": []}), "", 0),
    ("", "requests.exceptions.ConnectionError: Max retries exceeded with url: /pypi/django/json", 1),
], ids=["a package not answered for", "nothing listed", "no network"])
def test_a_check_that_could_not_be_made_fails_in_one_sentence(tmp_path, answer):
    result = audit(tmp_path, *answer)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("make audit: could not check")
    assert "online only" in lines[0] and "nothing was found safe" in lines[0]
