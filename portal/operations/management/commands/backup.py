"""`portal backup --key KEY DEST`: an encrypted, consistent archive of the whole portal.

KEY is an admin's OpenPGP public key file (imported into DATA_DIR/admin-gnupg,
apart from the editors' keys), `-` for that file on standard input (`--key -
< /root/admin.asc`: the service user cannot read /root), or the full
fingerprint of a key imported before. DEST is a file, or a directory that receives a new time-stamped file.
What the archive holds and why it is safe to keep elsewhere: `portal.submissions.backup`.
A success is recorded (the day only) for `portal status` (`portal.jobs`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal import jobs
from portal.submissions.backup import BackupError, admin_keyring, admin_recipient, write_backup


class Command(BaseCommand):
    help = "Write an encrypted backup (database, ciphertext store, codename pepper)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("destination", help="a new file, or a directory for a time-stamped file")
        parser.add_argument("--key", required=True,
                            help="the admin's public key file (.asc), - to read it from "
                                 "standard input, or its full fingerprint")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            fingerprint, warning = admin_recipient(options["key"], admin_keyring(),
                                                   sys.stdin.buffer)
            if warning:
                self.stderr.write(warning)
            summary = write_backup(Path(options["destination"]), fingerprint, admin_keyring())
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        # The day of this success, for `portal status` (portal.jobs).
        jobs.succeeded("backup")
        self.stdout.write(f"wrote {summary.path}: {summary.rows} rows, {summary.ciphertext_files} "
                          f"ciphertext file(s), encrypted to {summary.fingerprint}")
