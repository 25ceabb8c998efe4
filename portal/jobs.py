"""What the admin's timed jobs last did, and which units failed: for `portal status` and the dashboard.

Threat answered: a backup or purge that fails at night fails quietly; the
admin learns it the day a restore is needed. Every job records its result
here, and a unit that fails (systemd's `OnFailure=penname-failure@%n.service`,
which runs `portal record_failure UNIT`) is recorded too, so `portal status`
and the managing editors' dashboard say so.

Why a small JSON file in the data directory and not a database row: the
failures worth recording are often the database's own (PostgreSQL down, a
migration missing), and the file is written exactly when the database may not
be; it is also left out of backups, so a restored server does not report the
old server's nights as its own. Several servers sharing the data directory
share it, as they share the timers' work. Writers hold an exclusive lock
(flock) while they read, change and atomically replace it.

Promise (no author's time here): entries carry the day only, and only of a
job's run (never of anything an author did); nothing says how much a job
found or sent, so the notification job's record does not tell when authors
wrote.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from django.conf import settings

STATE_FILE = "jobs.json"
LOCK_FILE = ".jobs.lock"
# The timed jobs and the unit that runs each one (deploy/systemd).
JOBS = {"purge": "penname-purge.service", "backup": "penname-backup.service",
        "notify": "penname-notify.service"}
UNIT_RE = re.compile(r"^[A-Za-z0-9@:._\\-]{1,200}$")


@dataclass(frozen=True)
class JobResult:
    name: str
    succeeded: bool
    on: date
    last_success: date | None


@dataclass(frozen=True)
class Failure:
    unit: str
    on: date


def _path() -> Path:
    return Path(settings.DATA_DIR) / STATE_FILE


def today() -> date:
    return datetime.now(UTC).date()


def read() -> dict[str, Any]:
    """The recorded state ({"jobs": {...}, "failures": {...}}); empty when nothing was recorded."""
    try:
        state = json.loads(_path().read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        state = {}
    if not isinstance(state, dict):
        state = {}
    state.setdefault("jobs", {})
    state.setdefault("failures", {})
    return state


@contextmanager
def _changing() -> Iterator[dict[str, Any]]:
    directory = Path(settings.DATA_DIR)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        state = read()
        yield state
        partial = directory / f".{STATE_FILE}.{secrets.token_hex(4)}"
        with open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w",
                  encoding="utf-8") as out:
            json.dump(state, out, indent=1, sort_keys=True)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, _path())
    finally:
        os.close(fd)


def succeeded(job: str) -> None:
    """Record that `job` (one of JOBS) ran to its end today."""
    day = today().isoformat()
    with _changing() as state:
        state["jobs"][job] = {"result": "succeeded", "on": day, "last_success": day}
        state["failures"].pop(JOBS[job], None)


def failed(unit: str) -> str:
    """Record that a systemd unit failed today; returns the job it ran, or the unit itself."""
    if not UNIT_RE.match(unit):
        raise ValueError(f"{unit!r} is not a systemd unit name")
    job = next((name for name, runs in JOBS.items() if runs == unit), None)
    day = today().isoformat()
    with _changing() as state:
        if job:
            earlier = state["jobs"].get(job, {})
            state["jobs"][job] = {"result": "failed", "on": day,
                                  "last_success": earlier.get("last_success")}
        state["failures"][unit] = day
    return job or unit


def clear_failures() -> list[str]:
    """Forget recorded failures of units that are not timed jobs (the admin has seen them)."""
    with _changing() as state:
        cleared = [u for u in state["failures"] if u not in JOBS.values()]
        for unit in cleared:
            del state["failures"][unit]
    return cleared


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def job_results() -> dict[str, JobResult | None]:
    """Each timed job's last result (None: never recorded)."""
    recorded = read()["jobs"]
    results: dict[str, JobResult | None] = {}
    for name in JOBS:
        entry = recorded.get(name)
        on = _day(entry.get("on")) if isinstance(entry, dict) else None
        if entry is None or on is None:
            results[name] = None
            continue
        results[name] = JobResult(name, entry.get("result") == "succeeded", on,
                                  _day(entry.get("last_success")))
    return results


def failures() -> list[Failure]:
    """Units whose failure is recorded and not yet followed by a success (or cleared)."""
    found = []
    for unit, on in sorted(read()["failures"].items()):
        day = _day(on)
        if day is not None:
            found.append(Failure(unit, day))
    return found
