"""Backups: one archive that brings the portal back, readable only with an admin's key.

Threat answered: a backup is a copy of the server's disk kept somewhere else,
so it must be no easier to read than the server itself, and it must be
complete, or authors lose their work and their way back to it.

Promises:

- `write_backup()` streams a tar archive straight into gpg, encrypted to one
  admin public key; no plaintext archive and no database dump ever touches the
  disk. The archive holds `meta.json` (format and migration state),
  `database.json` (every row of every installed app, Django's `dumpdata`),
  `secrets/codename_pepper` (without it no codename would open its author's
  page again), `admin/<fingerprint>.asc` for every admin public key the
  server's backups are encrypted to (so the restored server's own nightly
  backup works; public keys, nothing secret) and `store/<name>.gpg` for every
  ciphertext file a row refers to
  — ciphertext the admin cannot read either: drafts stay encrypted to the
  editors' keys.
- Nothing here names a model: the rows are every app's but the few that
  `migrate` makes itself (NOT_DUMPED), and the ciphertext names are exactly
  `portal.submissions.ciphertext.referenced_blobs()`, the list `portal purge` keeps.
  A new app, or a new kind of ciphertext listed there, is backed up as it is.
  Spools and pending uploads (transient, under keys nobody kept) are left out;
  the server's public keyring is rebuilt from the database.
- Consistent: the rows come from one database snapshot (a REPEATABLE READ
  transaction on PostgreSQL, one read transaction on SQLite), and every
  ciphertext file those rows name is in the archive. If one vanishes while the
  backup runs (a purge), the backup starts again from a new snapshot.
- Members carry no timestamps or owners, so the archive does not record
  when each draft arrived (file modification times would).
- `portal.submissions.restore` reads these archives back (into an empty portal only).

Why `dumpdata` and not pg_dump: one format for SQLite and PostgreSQL (a
backup of either restores into either), no client tool whose version must
match the server, and one snapshot for rows and the list of ciphertext names.
The database holds metadata only, so a JSON dump stays small; it is kept in
memory, never written out.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import subprocess
import tarfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.recorder import MigrationRecorder

from portal.crypto.openpgp import EncryptionFailed, Keyring, KeyUnusable
from portal.store import Store, fsync_dir
from portal.submissions.ciphertext import referenced_blobs

# Format 2 added the admin keys; restore reads format 1 archives too.
ARCHIVE_FORMAT = 2
READABLE_FORMATS = (1, 2)
META = "meta.json"
DATABASE = "database.json"
PEPPER = "secrets/codename_pepper"
ADMIN_PREFIX = "admin/"
STORE_PREFIX = "store/"
# Rows that `migrate` creates itself (and numbers its own way); natural keys
# refer to them from the dump instead.
NOT_DUMPED = ["contenttypes", "auth.permission", "sessions"]
# Largest members restore will hold in memory (the dump is metadata only).
MAX_META_BYTES = 1024 * 1024
MAX_DATABASE_BYTES = 2 * 1024 * 1024 * 1024
MAX_PEPPER_BYTES = 4096
MAX_ADMIN_KEY_BYTES = 1024 * 1024
# A purge that removes ciphertext during a backup makes it start again.
ATTEMPTS = 3
FINGERPRINT_RE = re.compile(r"^(?:[0-9A-F]{40}|[0-9A-F]{64})$")


class BackupError(Exception):
    """The backup or restore could not be made; the message says what to do."""


class _BlobVanished(Exception):
    """A ciphertext file named by the snapshot was deleted before it was archived."""


@dataclass(frozen=True)
class Snapshot:
    database: bytes
    migrations: dict[str, list[str]]
    blobs: list[str]
    admin_keys: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Summary:
    path: Path
    fingerprint: str
    rows: int
    ciphertext_files: int


# --- the admin's keys ---------------------------------------------------------------


def admin_keyring() -> Keyring:
    """Admin public keys, kept apart from the editors' keyring.

    Separate, so a backup key can never become a recipient of submissions and
    an editor's key can never receive a backup.
    """
    return Keyring(Path(settings.DATA_DIR) / "admin-gnupg", gpg_binary=settings.PORTAL_GPG_BINARY)


def admin_recipient(key: str, ring: Keyring, stdin: BinaryIO | None = None) -> tuple[str, str]:
    """The fingerprint to encrypt to, from a public key file, `-` (the key on `stdin`) or a
    full fingerprint.

    Returns (fingerprint, warning); the warning is "" unless the key expires soon.
    """
    candidate = key.replace(" ", "").upper()
    if FINGERPRINT_RE.match(candidate) and not Path(key).exists():
        info = ring.key_info(candidate)
        if not info.usable:
            raise BackupError(f"admin key {candidate}: {info.reason} (import it with --key FILE.asc)")
    else:
        try:
            if key == "-" and stdin is not None:
                armored = stdin.read(MAX_ADMIN_KEY_BYTES + 1)
            else:
                armored = Path(key).read_bytes()
        except PermissionError as exc:
            # The `penname` command runs as the service user, who cannot read /root.
            raise BackupError(f"--key {key} cannot be read by the user this command runs as; "
                              f"give the key on standard input instead: --key - < {key}") from exc
        except OSError as exc:
            raise BackupError(f"--key {key}: {exc.strerror or exc}; give a public key file "
                              "or a full fingerprint") from exc
        try:
            info = ring.import_public_key(armored)
        except KeyUnusable as exc:
            raise BackupError(f"admin key in {key}: {exc}") from exc
    warning = ""
    if info.expires_within(30):
        warning = (f"warning: the admin key {info.fingerprint} expires on {info.expires}; "
                   "extend it and import it again, or backups will stop")
    return info.fingerprint, warning


def admin_public_keys(ring: Keyring) -> dict[str, str]:
    """Every public key in the admin keyring, by fingerprint (ASCII armor, self-signatures only)."""
    listing = subprocess.run(
        [settings.PORTAL_GPG_BINARY, "--homedir", str(ring.home), "--batch", "--no-autostart",
         "--with-colons", "--list-keys"],
        capture_output=True, text=True, timeout=60, check=False)
    fingerprints, primary = [], False
    for line in listing.stdout.splitlines():
        fields = line.split(":")
        if fields[0] in ("pub", "sub"):
            primary = fields[0] == "pub"
        elif fields[0] == "fpr" and primary and len(fields) > 9:
            fingerprints.append(fields[9])
            primary = False
    return {fingerprint: ring.export_minimal(fingerprint) for fingerprint in fingerprints}


# --- writing ------------------------------------------------------------------------------


def take_snapshot() -> Snapshot:
    """Every row, the migration state and the referenced ciphertext names, all from one snapshot."""
    # The isolation level can only be set by the transaction's first statement: inside
    # a caller's transaction (tests, a command calling another) the snapshot is that one's.
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        dump = io.StringIO()
        # Every installed app's models, whatever apps come later; the base manager,
        # so a model whose default manager hides rows still has all of them saved.
        call_command("dumpdata", format="json", natural_foreign=True, exclude=NOT_DUMPED,
                     use_base_manager=True, stdout=dump, verbosity=0)
        migrations: dict[str, list[str]] = {}
        for app, name in sorted(MigrationRecorder(connection).applied_migrations()):
            migrations.setdefault(app, []).append(name)
        blobs = sorted(referenced_blobs())
    return Snapshot(dump.getvalue().encode("utf-8"), migrations, blobs,
                    admin_public_keys(admin_keyring()))


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    tar.addfile(_member(name, len(data)), io.BytesIO(data))


def _member(name: str, size: int) -> tarfile.TarInfo:
    # No time, owner or mode: nothing in the archive says when a draft arrived.
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = 0
    info.mode = 0o600
    return info


def write_archive(snapshot: Snapshot, pepper: bytes, store: Store, sink: BinaryIO) -> None:
    """The tar stream: meta, pepper, database, then every referenced ciphertext file."""
    meta = {"format": ARCHIVE_FORMAT, "made_on": datetime.now(UTC).date().isoformat(),
            "migrations": snapshot.migrations, "ciphertext_files": len(snapshot.blobs)}
    with tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        _add_bytes(tar, META, json.dumps(meta, indent=1).encode("utf-8"))
        _add_bytes(tar, PEPPER, pepper)
        _add_bytes(tar, DATABASE, snapshot.database)
        for fingerprint, armored in sorted(snapshot.admin_keys.items()):
            _add_bytes(tar, f"{ADMIN_PREFIX}{fingerprint}.asc", armored.encode("ascii"))
        for name in snapshot.blobs:
            try:
                handle = store.open(name)
            except FileNotFoundError:
                raise _BlobVanished(name) from None
            with handle:
                tar.addfile(_member(STORE_PREFIX + name, os.fstat(handle.fileno()).st_size), handle)


def _encrypt(produce: Callable[[BinaryIO], None], ring: Keyring, fingerprint: str,
             output: Path) -> None:
    """Run `produce` into a pipe that gpg encrypts into `output`; nothing in between on disk."""
    read_fd, write_fd = os.pipe()
    failures: list[BaseException] = []

    def producer() -> None:
        try:
            with open(write_fd, "wb") as sink:
                produce(sink)
        except BaseException as exc:  # handed to the caller below
            failures.append(exc)

    thread = threading.Thread(target=producer, name="backup-archive", daemon=True)
    thread.start()
    # Closed in `finally`, which also unblocks a producer gpg stopped reading.
    source = open(read_fd, "rb")
    try:
        ring.encrypt_stream(source, output, [fingerprint], compress=False)
    finally:
        source.close()
        thread.join()
    if failures:
        output.unlink(missing_ok=True)
        raise failures[0]


def backup_path(destination: Path) -> Path:
    """DEST itself, or a new time-stamped file inside DEST when it is a directory."""
    if destination.is_dir():
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        return destination / f"penname-{stamp}.tar.gpg"
    return destination


def write_backup(destination: Path, fingerprint: str, ring: Keyring) -> Summary:
    target = backup_path(destination)
    if target.exists():
        raise BackupError(f"{target} already exists; a backup never overwrites another")
    incomplete = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")
    store = Store.default()
    for _attempt in range(ATTEMPTS):
        snapshot = take_snapshot()
        try:
            _encrypt(partial(write_archive, snapshot, settings.CODENAME_PEPPER, store),
                     ring, fingerprint, incomplete)
        except _BlobVanished:
            continue
        except (EncryptionFailed, OSError) as exc:
            incomplete.unlink(missing_ok=True)
            raise BackupError(f"cannot write {target}: {exc}") from exc
        break
    else:
        raise BackupError("ciphertext kept disappearing while the backup ran (is `portal purge` "
                          "running?); run the backup again")
    try:
        with open(incomplete, "rb") as handle:
            os.fsync(handle.fileno())
        os.chmod(incomplete, 0o600)
        os.rename(incomplete, target)
        fsync_dir(target.parent)
    except OSError as exc:
        incomplete.unlink(missing_ok=True)
        raise BackupError(f"cannot write {target}: {exc.strerror or exc}") from exc
    rows = json.loads(snapshot.database)
    return Summary(target, fingerprint, len(rows), len(snapshot.blobs))
