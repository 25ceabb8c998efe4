"""`portal status`: is everything the admin looks after in order? Plain sentences, exit 1 if not.

What it says, each line a sentence: the last successful backup and its age,
the last result of each timed job (purge, backup, notification), recorded
failures of Penname's units (`portal record_failure`, from systemd's
`OnFailure=`), editor keys (and the backup key) that have expired or expire
within 30 days, free room where the data directory is, and ciphertext waiting
for its batch. Lines that need the admin start with "attention:"; the exit
code is 1 when there is any, so a monitor can run it.

Nothing here tells when an author did anything: job results are days
(`portal.jobs`), and the waiting batch is a count, its age only compared.
`--clear-failures` forgets recorded failures of the servers themselves
(penname.service, penname-editors.service) once the admin has seen to them;
a timed job's failure is cleared by its next success.
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import date
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal import jobs
from portal.store import Store
from portal.submissions.backup import FINGERPRINT_RE, admin_keyring
from portal.submissions.recipients import active_keys, keyring, recipients

EXPIRY_WARNING_DAYS = 30
# The nightly backup runs once a day (with up to an hour's delay): two days
# without one means at least one night failed.
BACKUP_STALE_DAYS = 2
# The purge runs every hour; a day without one is a stopped timer.
PURGE_STALE_DAYS = 1
# Less room than this where the data directory is (either one) needs the admin:
# uploads are refused once the store cannot take another file.
LOW_ROOM_BYTES = 2 * 1024**3
LOW_ROOM_FRACTION = 0.05
# Ciphertext waits at most one batch window and the hourly purge's delay.
BATCH_GRACE_SECONDS = 2 * 3600


def _ago(day: date, today: date) -> str:
    days = (today - day).days
    return "today" if days <= 0 else "yesterday" if days == 1 else f"{days} days ago"


def _size(n: int) -> str:
    return f"{n / 1024**3:.1f} GiB" if n >= 1024**3 else f"{n / 1024**2:.0f} MiB"


class Command(BaseCommand):
    help = "Say whether backups, timed jobs, keys, disk room and batches are in order (exit 1 if not)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clear-failures", action="store_true",
                            help="forget recorded failures of penname.service and "
                                 "penname-editors.service once seen to")

    def handle(self, *args: Any, **options: Any) -> None:
        self.attention = 0
        if options["clear_failures"]:
            for unit in jobs.clear_failures():
                self.stdout.write(f"forgot the recorded failure of {unit}")
        today = jobs.today()
        self.backup(today)
        self.timed_jobs(today)
        self.failures()
        self.keys()
        self.room()
        self.batch()
        if self.attention:
            raise CommandError(f"{self.attention} thing(s) above need attention")
        self.stdout.write("everything is in order")

    def say(self, line: str, attention: bool = False) -> None:
        if attention:
            self.attention += 1
            self.stdout.write(f"attention: {line}")
        else:
            self.stdout.write(line)

    def backup(self, today: date) -> None:
        result = jobs.job_results()["backup"]
        last = result.last_success if result else None
        if last is None:
            self.say("no backup has succeeded on this server yet: run `penname backup --key - "
                     "/var/backups/penname < /root/admin.asc` and enable penname-backup.timer",
                     True)
        else:
            age = (today - last).days
            self.say(f"the last successful backup was made {_ago(last, today)} ({last})",
                     age >= BACKUP_STALE_DAYS)
        fingerprint = os.environ.get("PORTAL_BACKUP_KEY", "").replace(" ", "").upper()
        if not fingerprint:
            self.say("PORTAL_BACKUP_KEY is not set: the nightly backup has no key to encrypt to",
                     True)
        elif not FINGERPRINT_RE.match(fingerprint) or not fingerprint.strip("0"):
            self.say(f"PORTAL_BACKUP_KEY={fingerprint} is not an admin key's full fingerprint: "
                     "the nightly backup will fail", True)
        else:
            info = admin_keyring().key_info(fingerprint)
            if not info.usable:
                self.say(f"the backup key {fingerprint}: {info.reason}; import it with "
                         "`penname backup --key - /var/backups/penname < /root/admin.asc`", True)
            elif info.expires_within(EXPIRY_WARNING_DAYS):
                self.say(f"the backup key {fingerprint} expires on {info.expires}: extend it and "
                         "import it again, or backups stop", True)

    def timed_jobs(self, today: date) -> None:
        for name, result in jobs.job_results().items():
            unit = jobs.JOBS[name]
            if result is None:
                # Notifications are off until an editor asks for them.
                self.say(f"{name} ({unit}): no run recorded yet", name == "purge")
            elif result.succeeded:
                stale = name == "purge" and (today - result.on).days > PURGE_STALE_DAYS
                self.say(f"{name} ({unit}): last run {_ago(result.on, today)} succeeded"
                         + ("; is penname-purge.timer enabled?" if stale else ""), stale)
            else:
                since = (f"last success {result.last_success}" if result.last_success
                         else "no success recorded")
                self.say(f"{name} ({unit}) failed {_ago(result.on, today)} ({since}): "
                         f"see `journalctl -u {unit}`", True)

    def failures(self) -> None:
        for failure in jobs.failures():
            if failure.unit in jobs.JOBS.values():
                continue  # said with its job above
            self.say(f"{failure.unit} failed on {failure.on}: see `journalctl -u {failure.unit}`; "
                     "once seen to, `penname status --clear-failures`", True)

    def keys(self) -> None:
        ring = keyring()
        keys = active_keys()
        troubled = 0
        for key in keys:
            info = ring.key_info(key.fingerprint)
            who = f"the key of {key.user.get_username()} ({key.fingerprint})"
            if not info.usable:
                troubled += 1
                self.say(f"{who}: {info.reason}; it receives nothing (`penname check_keys`)", True)
            elif info.expires_within(EXPIRY_WARNING_DAYS):
                troubled += 1
                self.say(f"{who} expires on {info.expires}: the editor should extend it and "
                         "upload it again", True)
        if not recipients(ring):
            self.say("no editor key can receive submissions: authors are told submissions are "
                     "closed", True)
        elif not troubled:
            self.say(f"editor keys: {len(keys)} active, none expires within "
                     f"{EXPIRY_WARNING_DAYS} days")

    def room(self) -> None:
        usage = shutil.disk_usage(settings.DATA_DIR)
        low = usage.free < LOW_ROOM_BYTES or usage.free < usage.total * LOW_ROOM_FRACTION
        self.say(f"{_size(usage.free)} free of {_size(usage.total)} where the data directory is "
                 f"({settings.DATA_DIR})" + ("; uploads are refused once it is full" if low else ""),
                 low)

    def batch(self) -> None:
        store = Store.default()
        try:
            waiting = list(os.scandir(store.batch))
        except FileNotFoundError:
            waiting = []
        if not waiting:
            self.say("no ciphertext is waiting for its batch")
            return
        # Compared, never printed: a waiting file's change time is when it arrived.
        oldest = min(entry.stat().st_ctime for entry in waiting)
        stuck = time.time() - oldest > settings.PORTAL_BATCH_HOURS * 3600 + BATCH_GRACE_SECONDS
        self.say(f"{len(waiting)} ciphertext file(s) waiting for the next batch"
                 + ("; some waited longer than a batch: is penname-purge.timer running?"
                    if stuck else ""), stuck)
