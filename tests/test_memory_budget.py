"""The service's memory cap and the settings that share it out cannot disagree.

deploy/systemd/penname.service caps everything the service runs (MemoryMax=):
the gunicorn workers, and the cleaners and safe-copy renderers they start. The
settings share PORTAL_CLEANING_MEMORY_MB out among the PORTAL_CLEANERS slots,
each slot's share being its processes' limit (portal.authors.cleaning). These
tests read the unit and the example environment file an admin starts from,
load the real settings under that environment, and hold the cap to what the
settings allow; and they show a share too small for the cleaner's own budget
is refused at start-up, in words an admin can act on.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "deploy" / "systemd" / "penname.service"
ENV_EXAMPLE = ROOT / "deploy" / "penname.env.example"
_UNITS = {"K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 * 1024}
# The part of the cap no setting accounts for must stay small, or the cap means little.
SLACK_MIB = 512


def memory_max_mib() -> float:
    match = re.search(r"^MemoryMax=(\d+)([KMGT])$", UNIT.read_text(), re.M)
    assert match, "penname.service must cap the service's memory (MemoryMax=)"
    return int(match[1]) * _UNITS[match[2]]


def example_environment() -> dict[str, str]:
    lines = (line.partition("=") for line in ENV_EXAMPLE.read_text().splitlines()
             if re.match(r"^[A-Z_]+=", line))
    return {key: value for key, _, value in lines}


def deployed_settings(tmp_path: Path, **overrides: str) -> subprocess.CompletedProcess[str]:
    """portal.settings loaded in a fresh interpreter under the example environment."""
    env = {k: v for k, v in example_environment().items() if not k.endswith("_FILE")}
    env.update(PATH=os.environ.get("PATH", "/usr/bin:/bin"), PORTAL_DATA_DIR=str(tmp_path),
               PORTAL_SECRET_KEY="x" * 50, **overrides)
    probe = ("import json, portal.settings as s; print(json.dumps({k: getattr(s, k) for k in "
             "('PORTAL_CLEANING_MEMORY_MB', 'PORTAL_CLEANERS', 'PORTAL_CLEANER_MEMORY_BYTES', "
             "'PORTAL_WORKER_MEMORY_MB')}))")
    return subprocess.run([sys.executable, "-c", probe], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)


def test_memory_max_holds_the_cleaners_and_the_workers_and_little_else(tmp_path):
    loaded = deployed_settings(tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    values = json.loads(loaded.stdout)
    workers = int(example_environment().get("PORTAL_WORKERS", "2"))
    needed = values["PORTAL_CLEANING_MEMORY_MB"] + workers * values["PORTAL_WORKER_MEMORY_MB"]
    cap = memory_max_mib()
    print(f"\nMemoryMax {cap:.0f} MiB; cleaners {values['PORTAL_CLEANING_MEMORY_MB']} MiB + "
          f"{workers} workers x {values['PORTAL_WORKER_MEMORY_MB']} MiB = {needed} MiB")
    assert needed <= cap <= needed + SLACK_MIB
    shares = values["PORTAL_CLEANERS"] * values["PORTAL_CLEANER_MEMORY_BYTES"]
    assert shares <= values["PORTAL_CLEANING_MEMORY_MB"] * 1024 * 1024


def test_a_share_too_small_for_a_picture_at_the_budget_is_refused_at_start_up(tmp_path):
    """Four cleaners in 3 GiB would each get 768 MiB: less than a picture at the budget
    and a 200 MB file in and out need. The settings refuse, saying what to change."""
    refused = deployed_settings(tmp_path, PORTAL_CLEANERS="4")
    assert refused.returncode != 0
    assert "ImproperlyConfigured" in refused.stderr
    assert "Raise PORTAL_CLEANING_MEMORY_MB to at least" in refused.stderr
    accepted = deployed_settings(tmp_path, PORTAL_CLEANERS="4", PORTAL_CLEANING_MEMORY_MB="6144")
    assert accepted.returncode == 0, accepted.stderr
