"""Restore: a `portal backup` archive back into an empty portal, or nothing at all.

Promises:

- The archive is decrypted with the admin's own GnuPG (GNUPGHOME) and read
  whole; ciphertext waits in a staging directory beside the store. Only when
  gpg has vouched for the entire stream (DECRYPTION_OKAY, no failure) does
  anything change.
- Only an empty portal is filled: a database with rows or a store with
  ciphertext is refused, so a restore can never mix two portals or overwrite one.
- The database is first brought to the schema the rows were dumped from, the
  rows are loaded in one transaction that also checks every ciphertext file
  they name arrived, then newer migrations run. The codename pepper comes back
  with the data, so every author's codename opens their page again; the
  server's public keyring is rebuilt from the restored key registry.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import subprocess
import sys
import tarfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO, cast

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader

from portal.env import env_secret
from portal.store import NAME_RE, Store, fsync_dir
from portal.submissions.backup import (
    ARCHIVE_FORMAT,
    DATABASE,
    MAX_DATABASE_BYTES,
    MAX_META_BYTES,
    MAX_PEPPER_BYTES,
    META,
    PEPPER,
    STORE_PREFIX,
    BackupError,
    Summary,
)
from portal.submissions.ciphertext import referenced_blobs
from portal.submissions.recipients import recipients


@dataclass
class _Archive:
    meta: dict[str, object]
    database: bytes
    pepper: bytes
    staged: dict[str, Path]


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


def _read_archive(source: Path, staging: Path) -> _Archive:
    """Decrypt and read everything, then insist that gpg vouched for the whole stream."""
    process = subprocess.Popen(
        [settings.PORTAL_GPG_BINARY, "--batch", "--status-fd", "2", "--decrypt", str(source)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    stdout, stderr = cast(BinaryIO, process.stdout), cast(BinaryIO, process.stderr)
    status: list[bytes] = []
    reader = threading.Thread(target=lambda: status.append(stderr.read()), daemon=True)
    reader.start()
    archive = _Archive({}, b"", b"", {})
    seen: set[str] = set()
    try:
        with tarfile.open(fileobj=stdout, mode="r|") as tar:
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
                elif member.name.startswith(STORE_PREFIX):
                    archive.staged[member.name[len(STORE_PREFIX):]] = _stage_blob(tar, member, staging)
                else:
                    raise BackupError(f"unexpected entry {member.name!r} in the archive")
    except (tarfile.TarError, json.JSONDecodeError, EOFError) as exc:
        process.kill()
        process.wait()
        reader.join()
        raise BackupError(f"{source} is not a readable backup ({exc}); is GNUPGHOME the admin's "
                          "GnuPG home with the private key?\n" + _gpg_errors(status)) from exc
    except BaseException:
        process.kill()
        process.wait()
        reader.join()
        raise
    stdout.read()
    process.wait()
    reader.join()
    text = b"".join(status).decode("utf-8", "replace")
    if "[GNUPG:] DECRYPTION_OKAY" not in text or "[GNUPG:] DECRYPTION_FAILED" in text:
        raise BackupError(f"gpg did not vouch for {source}; nothing was restored\n" + _gpg_errors(status))
    if archive.meta.get("format") != ARCHIVE_FORMAT or not archive.database or not archive.pepper:
        raise BackupError(f"{source} is not a complete Penname backup (format {ARCHIVE_FORMAT})")
    return archive


def _gpg_errors(status: list[bytes]) -> str:
    lines = b"".join(status).decode("utf-8", "replace").splitlines()
    return "\n".join(line for line in lines if not line.startswith("[GNUPG:]"))


def _migrate_to(recorded: dict[str, list[str]]) -> bool:
    """Bring the empty database to the schema the rows were dumped from.

    Returns True when that schema is older than this version's, so the restored
    rows still need the newer migrations.
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
        return False
    for app, name in targets:
        call_command("migrate", app, name, verbosity=0, interactive=False)
    return True


def _load_rows(database: bytes) -> None:
    """`loaddata` from memory (it resets sequences and checks constraints)."""
    if not json.loads(database):
        return
    saved = sys.stdin
    sys.stdin = io.StringIO(database.decode("utf-8"))
    try:
        call_command("loaddata", "-", format="json", verbosity=0)
    finally:
        sys.stdin = saved


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


def restore_backup(source: Path) -> Summary:
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
        archive = _read_archive(source, staging)
        _check_pepper(archive.pepper)
        behind = _migrate_to(archive.meta.get("migrations", {}))  # type: ignore[arg-type]
        with transaction.atomic():
            _load_rows(archive.database)
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
    rows = json.loads(archive.database)
    return Summary(source, "", len(rows), len(archive.staged))
