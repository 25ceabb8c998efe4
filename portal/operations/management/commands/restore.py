"""`portal restore SOURCE`: bring a `portal backup` archive back into an empty portal.

Run it with GNUPGHOME pointing at a GnuPG home that holds the admin's private
key (on the admin's own machine, or a copy brought to the server only for the
restore), and with the new server's environment (PORTAL_DATA_DIR,
DATABASE_URL). It refuses a database or store that already holds anything
(`portal.submissions.restore` says what it promises).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.submissions.backup import BackupError
from portal.submissions.restore import restore_backup


class Command(BaseCommand):
    help = "Restore a backup made by `portal backup` into an empty database and data directory."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="the .tar.gpg file written by `portal backup`")

    def handle(self, *args: Any, **options: Any) -> None:
        source = Path(options["source"])
        if not source.is_file():
            raise CommandError(f"{source} is not a file")
        try:
            summary = restore_backup(source)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"restored {summary.rows} rows and {summary.ciphertext_files} ciphertext "
                          "file(s); run `portal check_keys` next")
