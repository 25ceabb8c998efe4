"""Restore: a `portal backup` archive back into an empty portal, or nothing at all.

Promises:

- The archive is decrypted with the admin's own GnuPG (GNUPGHOME) and read
  whole; ciphertext waits in a staging directory beside the store. Only when
  gpg has vouched for the entire stream (DECRYPTION_OKAY, no failure) does
  anything change.
- The archive comes as an open file, so the admin's shell may open it (as
  root) and hand it over on standard input. If the admin's private key has a
  passphrase, gpg asks for it through a pipe (loopback pinentry, `--command-fd`)
  only when it needs it, and the caller's `ask_passphrase` asks the person at
  the terminal: the passphrase is never on a command line, in the environment,
  or on disk.
- The admin public keys the old server's backups were encrypted to come back
  into the admin keyring, so the restored server's nightly backup works.
  Archives made before they were kept (format 1) restore all the same.
- Every failure is a BackupError whose message is a sentence saying what to do.
- Only an empty portal is filled: a database with rows or a store with
  ciphertext is refused, so a restore can never mix two portals or overwrite one.
- The database is first brought to the schema the rows were dumped from, the
  rows are loaded in one transaction that also checks every ciphertext file
  they name arrived, then newer migrations run. The codename pepper comes back
  with the data, so every author's codename opens their page again; the
  server's public keyring is rebuilt from the restored key registry.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import tarfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, BinaryIO, cast

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader

from portal.crypto.openpgp import KeyUnusable
from portal.env import env_secret
from portal.store import NAME_RE, Store, fsync_dir
from portal.submissions.backup import (
    ADMIN_PREFIX,
    DATABASE,
    FINGERPRINT_RE,
    MAX_ADMIN_KEY_BYTES,
    MAX_DATABASE_BYTES,
    MAX_META_BYTES,
    MAX_PEPPER_BYTES,
    META,
    PEPPER,
    READABLE_FORMATS,
    STORE_PREFIX,
    BackupError,
    admin_keyring,
)
from portal.submissions.ciphertext import referenced_blobs
from portal.submissions.recipients import recipients
from portal.submissions.rows import load_rows, models_at

# Asks the person restoring for the admin key's passphrase; None when nobody can be asked.
AskPassphrase = Callable[[], "str | None"]


@dataclass
class _Archive:
    meta: dict[str, object]
    database: bytes
    pepper: bytes
    staged: dict[str, Path]
    admin_keys: dict[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class Restored:
    rows: int
    ciphertext_files: int
    admin_keys: list[str]  # fingerprints imported into the admin keyring
    notes: list[str]  # sentences for the admin (a key not restored, an old archive)


def target_is_empty(store: Store) -> str | None:
    """None if nothing would be overwritten; otherwise what is already there."""
    if any(True for _ in store.names()):
        return f"the store {store.root} already holds ciphertext"
    existing = set(connection.introspection.table_names())
    for model in apps.get_models():
        label = model._meta.label_lower
        if label.split(".")[0] in ("contenttypes", "sessions") or label == "auth.permission":
            continue
        if model._meta.db_table in existing and model._base_manager.exists():
            return f"the database already holds {model._meta.verbose_name_plural}"
    return None


def _open_member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> IO[bytes]:
    handle = tar.extractfile(member)
    if handle is None:
        raise BackupError(f"unexpected entry {member.name!r} in the archive")
    return handle


def _read_member(tar: tarfile.TarFile, member: tarfile.TarInfo, limit: int) -> bytes:
    if member.size > limit:
        raise BackupError(f"{member.name} in the archive is larger than any backup makes")
    return _open_member(tar, member).read()


def _stage_blob(tar: tarfile.TarFile, member: tarfile.TarInfo, staging: Path) -> Path:
    name = member.name[len(STORE_PREFIX):]
    if not NAME_RE.match(name):
        raise BackupError(f"unexpected file {member.name!r} in the archive")
    handle = _open_member(tar, member)
    path = staging / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        while chunk := handle.read(1024 * 1024):
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return path


class _Gpg:
    """gpg decrypting `source`, with its status lines read as they come and its questions answered."""

    def __init__(self, source: BinaryIO, ask_passphrase: AskPassphrase | None) -> None:
        command_read, self._command = os.pipe()
        self.asked = False
        self.nobody_to_ask = False
        self.status: list[bytes] = []
        self._ask = ask_passphrase
        try:
            self.process = subprocess.Popen(
                [settings.PORTAL_GPG_BINARY, "--batch", "--pinentry-mode", "loopback",
                 "--status-fd", "2", "--command-fd", str(command_read), "--decrypt"],
                stdin=source, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                pass_fds=(command_read,),
            )
        except OSError as exc:
            os.close(self._command)
            raise BackupError(f"gpg cannot run ({exc.strerror}); install gnupg") from exc
        finally:
            os.close(command_read)
        self.stdout = cast(BinaryIO, self.process.stdout)
        self._reader = threading.Thread(target=self._read_status, daemon=True)
        self._reader.start()

    def _answer(self, text: str) -> None:
        try:
            os.write(self._command, text.encode("utf-8") + b"\n")
        except OSError:  # gpg gave up already; its status says why
            pass

    def _read_status(self) -> None:
        for line in cast(BinaryIO, self.process.stderr):
            self.status.append(line)
            if line.startswith(b"[GNUPG:] GET_HIDDEN passphrase"):
                self.asked = True
                answer = self._ask() if self._ask else None
                if answer is None:
                    self.nobody_to_ask = True
                self._answer(answer or "")
            elif line.startswith((b"[GNUPG:] GET_LINE", b"[GNUPG:] GET_BOOL")):
                self._answer("")  # nothing else is ever asked of us: decline

    def finish(self, kill: bool = False) -> str:
        """Wait for gpg (or end it) and return its status text."""
        if kill:
            self.process.kill()
        else:
            self.stdout.read()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join()
        os.close(self._command)
        self.stdout.close()
        return b"".join(self.status).decode("utf-8", "replace")

    def explain(self, label: str, text: str) -> str:
        """Why gpg did not decrypt, as a sentence the admin can act on."""
        home = os.environ.get("GNUPGHOME", "~/.gnupg")
        failed = "[GNUPG:] DECRYPTION_FAILED" in text or "[GNUPG:] NO_SECKEY" in text \
            or "Bad passphrase" in text
        if self.asked and failed:
            # Backups hide their recipient, so gpg reports a refused passphrase as "no secret key".
            if self.nobody_to_ask:
                return ("the admin key is protected by a passphrase and there is no terminal to "
                        "ask for it on: run `penname restore` from a terminal; nothing was restored")
            return (f"the passphrase is wrong (or the private key in {home} is not the one this "
                    "backup is encrypted to); nothing was restored. Run the restore again")
        if "[GNUPG:] NO_SECKEY" in text or "No secret key" in text:
            return (f"{label} is encrypted to an admin key whose private key is not in {home}: "
                    "import the admin's private key there (GNUPGHOME) first; nothing was restored")
        if "[GNUPG:] ENC_TO" not in text and "[GNUPG:] BEGIN_DECRYPTION" not in text:
            return f"{label} is not a backup made by `penname backup` (no OpenPGP data in it)"
        detail = "; ".join(line for line in _gpg_errors(self.status).splitlines() if line.strip())
        return f"gpg did not vouch for {label}; nothing was restored ({detail or 'no reason given'})"


def _read_archive(source: BinaryIO, label: str, staging: Path,
                  ask_passphrase: AskPassphrase | None) -> _Archive:
    """Decrypt and read everything, then insist that gpg vouched for the whole stream."""
    gpg = _Gpg(source, ask_passphrase)
    archive = _Archive({}, b"", b"", {})
    seen: set[str] = set()
    try:
        with tarfile.open(fileobj=gpg.stdout, mode="r|") as tar:
            for member in tar:
                if not member.isfile() or member.name in seen:
                    raise BackupError(f"unexpected entry {member.name!r} in the archive")
                seen.add(member.name)
                if member.name == META:
                    archive.meta = json.loads(_read_member(tar, member, MAX_META_BYTES))
                elif member.name == DATABASE:
                    archive.database = _read_member(tar, member, MAX_DATABASE_BYTES)
                elif member.name == PEPPER:
                    archive.pepper = _read_member(tar, member, MAX_PEPPER_BYTES).strip()
                elif member.name.startswith(ADMIN_PREFIX):
                    fingerprint = member.name[len(ADMIN_PREFIX):].removesuffix(".asc")
                    if not FINGERPRINT_RE.match(fingerprint):
                        raise BackupError(f"unexpected entry {member.name!r} in the archive")
                    archive.admin_keys[fingerprint] = _read_member(tar, member, MAX_ADMIN_KEY_BYTES)
                elif member.name.startswith(STORE_PREFIX):
                    archive.staged[member.name[len(STORE_PREFIX):]] = _stage_blob(tar, member, staging)
                else:
                    raise BackupError(f"unexpected entry {member.name!r} in the archive")
    except (tarfile.TarError, json.JSONDecodeError, EOFError) as exc:
        # Nothing (or garbage) came out: most often gpg refused, and its status says why.
        text = gpg.finish(kill=not isinstance(exc, tarfile.ReadError))
        if "[GNUPG:] DECRYPTION_OKAY" in text and "[GNUPG:] DECRYPTION_FAILED" not in text:
            raise BackupError(f"{label} decrypts, but is not a readable backup ({exc})") from exc
        raise BackupError(gpg.explain(label, text)) from exc
    except BaseException:
        gpg.finish(kill=True)
        raise
    text = gpg.finish()
    if "[GNUPG:] DECRYPTION_OKAY" not in text or "[GNUPG:] DECRYPTION_FAILED" in text:
        raise BackupError(gpg.explain(label, text))
    if archive.meta.get("format") not in READABLE_FORMATS or not archive.database \
            or not archive.pepper:
        raise BackupError(f"{label} is not a complete Penname backup (formats "
                          f"{', '.join(map(str, READABLE_FORMATS))} are known here); was it "
                          "made by a newer Penname?")
    return archive


def _gpg_errors(status: list[bytes]) -> str:
    lines = b"".join(status).decode("utf-8", "replace").splitlines()
    return "\n".join(line for line in lines if not line.startswith("[GNUPG:]"))


def _migrate_to(recorded: dict[str, list[str]]) -> tuple[bool, list[tuple[str, str]]]:
    """Bring the empty database to the schema the rows were dumped from.

    Returns whether that schema is older than this version's (the restored rows
    then still need the newer migrations), and the latest migration of each app
    the backup records (the schema whose models read its rows).
    """
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    missing = [f"{app}.{name}" for app, names in recorded.items() for name in names
               if (app, name) not in loader.disk_migrations]
    if missing:
        raise BackupError("this backup was made by a newer Penname (migrations "
                          f"{', '.join(missing[:5])} are unknown here); install that version")
    targets = []
    for app, names in recorded.items():
        # Migrations a squashed one replaced are recorded too but are not in the graph.
        nodes = [(app, name) for name in names if (app, name) in loader.graph.nodes]
        if nodes:
            # An app's history is a line: its latest migration is the one with the longest plan.
            targets.append(max(nodes, key=lambda node: len(loader.graph.forwards_plan(node))))
    if set(targets) <= set(loader.graph.leaf_nodes()):
        call_command("migrate", verbosity=0, interactive=False)  # same schema as this version
        return False, targets
    for app, name in targets:
        call_command("migrate", app, name, verbosity=0, interactive=False)
    return True, targets


def _check_pepper(pepper: bytes) -> None:
    """An admin-provided pepper (PORTAL_CODENAME_PEPPER) must be the backup's own."""
    if env_secret("PORTAL_CODENAME_PEPPER") is not None and settings.CODENAME_PEPPER != pepper:
        raise BackupError("PORTAL_CODENAME_PEPPER(_FILE) differs from the backup's pepper; "
                          "set it to the backup's value or unset it, or no codename will work")


def _put_pepper(pepper: bytes) -> None:
    """Replace the data directory's pepper with the backup's (unless the admin provides it)."""
    if env_secret("PORTAL_CODENAME_PEPPER") is not None:
        return
    path = Path(settings.DATA_DIR) / "secrets" / "codename_pepper"
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_name(f".codename_pepper.{secrets.token_hex(4)}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pepper + b"\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)
    fsync_dir(path.parent)


def _put_admin_keys(keys: dict[str, bytes]) -> tuple[list[str], list[str]]:
    """Import the backup's admin public keys; returns (fingerprints imported, notes)."""
    ring = admin_keyring()
    imported, notes = [], []
    for fingerprint, armored in sorted(keys.items()):
        try:
            imported.append(ring.import_public_key(armored).fingerprint)
        except KeyUnusable as exc:
            notes.append(f"the admin key {fingerprint} was not restored ({exc}); import a "
                         "current one with `penname backup --key - /var/backups/penname < /root/admin.asc`")
    return imported, notes


def restore_backup(source: BinaryIO, label: str,
                   ask_passphrase: AskPassphrase | None = None) -> Restored:
    """Restore the archive read from `source` (`label` names it in messages)."""
    store = Store.default()
    problem = target_is_empty(store)
    if problem:
        raise BackupError(f"restore only fills an empty portal: {problem}")
    store.ensure()
    # Beside the store (one file system, so moving in is a rename), where neither
    # `portal purge` nor the store's own sweep looks.
    staging = store.root.parent / f".restore-{secrets.token_hex(8)}"
    staging.mkdir(mode=0o700)
    try:
        archive = _read_archive(source, label, staging, ask_passphrase)
        _check_pepper(archive.pepper)
        behind, schema = _migrate_to(archive.meta.get("migrations", {}))  # type: ignore[arg-type]
        with transaction.atomic():
            # With the models of the backup's own schema: today's may have fields it lacks.
            load_rows(archive.database, models_at(schema) if schema else apps)
            absent = referenced_blobs() - set(archive.staged)
            if absent:
                raise BackupError(f"the archive lacks {len(absent)} ciphertext file(s) its rows "
                                  "refer to; nothing was restored")
        if behind:
            call_command("migrate", verbosity=0, interactive=False)
        _put_pepper(archive.pepper)
        for name, path in archive.staged.items():
            os.rename(path, store.final_path(name))
        fsync_dir(store.root)
    finally:
        for leftover in staging.iterdir():
            leftover.unlink()
        staging.rmdir()
    recipients()  # rebuild the server's public keyring from the restored key registry
    admin_keys, notes = _put_admin_keys(archive.admin_keys)
    if archive.meta.get("format") == 1:
        notes.append("this backup was made before backups kept the admin key: import yours with "
                     "`penname backup --key - /var/backups/penname < /root/admin.asc` before the nightly "
                     "backup runs")
    rows = json.loads(archive.database)
    return Restored(len(rows), len(archive.staged), admin_keys, notes)
