"""`portal restore SOURCE`: bring a `portal backup` archive back into an empty portal.

SOURCE is the .tar.gpg file, or `-` for standard input: `penname restore -
< /root/penname-….tar.gpg` lets root's shell open a file that the service
user (whom `penname` runs as) cannot read. Run it with GNUPGHOME pointing at a
GnuPG home that holds the admin's private key (a copy brought to the server
only for the restore), and with the new server's environment
(PORTAL_DATA_DIR, DATABASE_URL). If that key has a passphrase, the command
asks for it on the terminal, only when gpg needs it, and hands it to gpg
through a pipe: never on the command line or in the environment. It refuses
a database or store that already holds anything (`portal.submissions.restore`
says what it promises). Every failure is a sentence, never a traceback.
"""

from __future__ import annotations

import getpass
import os
import pwd
import sys
from pathlib import Path
from typing import Any, BinaryIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.submissions.backup import BackupError
from portal.submissions.restore import restore_backup

PROMPT = "Passphrase of the admin key (to decrypt the backup): "


def ask_passphrase() -> str | None:
    """Ask on the terminal; None when there is none (never read standard input: it may be the archive)."""
    try:
        os.close(os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY))
    except OSError:
        return None
    try:
        return getpass.getpass(PROMPT)
    except EOFError:
        return None


def open_source(name: str) -> tuple[BinaryIO, str]:
    """The archive, opened, and how to name it; a sentence for everything that can go wrong."""
    if name == "-":
        if sys.stdin.isatty():
            raise CommandError("give the archive on standard input: "
                               "penname restore - < /path/to/penname-….tar.gpg")
        return sys.stdin.buffer, "the archive on standard input"
    path = Path(name)
    try:
        return open(path, "rb"), str(path)
    except FileNotFoundError:
        raise CommandError(f"there is no file {path}") from None
    except IsADirectoryError:
        raise CommandError(f"{path} is a directory; give the penname-….tar.gpg file itself") from None
    except PermissionError:
        user = pwd.getpwuid(os.geteuid()).pw_name
        raise CommandError(
            f"{path} cannot be read by the user {user}, whom this command runs as (the `penname` "
            f"command runs as the service user). Give the file on standard input instead, which "
            f"your own shell opens: penname restore - < {path}") from None
    except OSError as exc:
        raise CommandError(f"{path} cannot be read: {exc.strerror}") from None


class Command(BaseCommand):
    help = "Restore a backup made by `portal backup` into an empty database and data directory."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="the .tar.gpg file written by `portal backup`, or - "
                                           "to read it from standard input")

    def handle(self, *args: Any, **options: Any) -> None:
        source, label = open_source(options["source"])
        try:
            restored = restore_backup(source, label, ask_passphrase)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            if source is not sys.stdin.buffer:
                source.close()
        self.stdout.write(f"restored {restored.rows} rows and {restored.ciphertext_files} "
                          "ciphertext file(s)")
        for fingerprint in restored.admin_keys:
            self.stdout.write(f"restored the admin key {fingerprint}: nightly backups can be "
                              "encrypted to it (PORTAL_BACKUP_KEY)")
        for note in restored.notes:
            self.stdout.write(f"note: {note}")
        self.stdout.write("run `penname check_keys` next")
