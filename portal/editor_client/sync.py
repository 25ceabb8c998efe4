"""`portal-editor sync DIR`: bring every submission to DIR, decrypted and cleaned again.

Promise: plaintext is written only inside DIR. Ciphertext is fetched into
DIR/.penname/ciphertext (resumable), decrypted into DIR/.penname/partial, checked
against the manifest's size and SHA-256, cleaned again by the same cleaner the
server runs (the only cleaning for files that arrived already encrypted), and
only then moved to DIR/<pen name>/<date>-<short id>/ (a later version of the
same piece to <date>-<short id of the first version>-v<N>/). The conversation
with the author is decrypted into thread/ in the first version's folder. A
damaged, truncated or tampered file is reported and leaves nothing half-written
in place.

Promise (identity stays with the author): cleaning-report.txt gives kinds and
counts only, and a file keeps its original name only when the manifest says
the author chose so; files of older manifests (penname-manifest/1, which may
hold removed values and original names) get neutral names (`1.docx`).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import threading
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from portal.sanitize import CleaningRefused, clean_isolated
from portal.sanitize.filenames import EXTENSIONS, neutral_name

from .localgpg import DecryptionFailed, LocalGpg
from .progress import Progress
from .transport import Api, ApiError
from .wording import ReportWriter, message_text

# Submissions handled at once: enough to overlap network, gpg and cleaning.
PARALLEL = 4


class SyncProblem(Exception):
    """One file could not be brought over safely; the message says which and why."""


def safe_name(name: str, fallback: str = "file") -> str:
    """A file or folder name that stays inside its folder on any system."""
    name = name.replace("/", "_").replace("\\", "_")
    name = "".join(ch for ch in name if ch.isprintable()
                   and unicodedata.category(ch) not in ("Cf", "Cc")).strip(" .")
    return name[:120] or fallback


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def folder_name(detail: dict[str, Any]) -> str:
    """<date>-<short id>, and for a later version <date>-<short id of the first>-v<N>."""
    if detail.get("revision_of"):
        return f"{detail['submitted_on']}-{detail['revision_of'][:8]}-v{detail['version']}"
    return f"{detail['submitted_on']}-{detail['short_id']}"


class Syncer:
    def __init__(self, api: Api, gpg: LocalGpg, root: Path, out=sys.stdout,  # type: ignore[no-untyped-def]
                 language: str = "en") -> None:
        self.api = api
        self.language = language
        self.gpg = gpg
        self.root = root
        self.out = out
        self.work = root / ".penname"
        self.ciphertext = self.work / "ciphertext"
        self.partial = self.work / "partial"
        for folder in (self.root, self.ciphertext, self.partial):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.done_file = self.work / "done.json"
        self.done: dict[str, str] = (json.loads(self.done_file.read_text())
                                     if self.done_file.exists() else {})
        self.progress = Progress(0)

    def run(self) -> list[str]:
        """Sync everything; return the problems (an empty list means all went well).

        Submissions are fetched, decrypted and cleaned a few at a time: the
        network, gpg and the cleaning children overlap.
        """
        todo = []
        for detail in self.api.get_json("/submissions/?detail=1")["submissions"]:
            signature = ",".join([detail["manifest"]["name"]]
                                 + [f"{f['name']}:{f['size']}" for f in detail["files"]]
                                 + [m["name"] for m in detail.get("messages", [])])
            if self.done.get(detail["id"]) != signature:
                todo.append((detail, signature))
        total = sum(d["manifest"]["size"] + sum(f["size"] for f in d["files"])
                    + sum(m["size"] for m in d.get("messages", [])) for d, _ in todo)
        self.progress = Progress(total, "sync")
        problems: list[str] = []
        lock = threading.Lock()

        def one(detail: dict[str, Any], signature: str) -> None:
            try:
                folder = self.sync_one(detail)
            except (SyncProblem, DecryptionFailed, ApiError) as problem:
                with lock:
                    problems.append(f"{detail['short_id']}: {problem}")
                return
            with lock:
                self.done[detail["id"]] = signature
                self.done_file.write_text(json.dumps(self.done))
                print(f"{detail['short_id']}  {folder.relative_to(self.root)}", file=self.out)

        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            for future in [pool.submit(one, d, s) for d, s in todo]:
                future.result()
        self.progress.finish()
        shutil.rmtree(self.partial, ignore_errors=True)
        return problems

    def _fetch(self, detail: dict[str, Any], entry: dict[str, Any]) -> Path:
        target = self.ciphertext / entry["name"]
        self.api.download(f"/submissions/{detail['id']}/blobs/{entry['name']}", target,
                          entry["size"], self.progress)
        return target

    def _decrypt(self, ciphertext: Path, label: str) -> Path:
        plain = self.partial / (ciphertext.stem + ".plain")
        try:
            self.gpg.decrypt_file(ciphertext, plain)
        except DecryptionFailed as failed:
            ciphertext.unlink(missing_ok=True)  # fetch it afresh next time
            raise SyncProblem(f"{label}: {failed}") from None
        return plain

    def sync_one(self, detail: dict[str, Any]) -> Path:
        manifest_path = self._decrypt(self._fetch(detail, detail["manifest"]), "manifest")
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise SyncProblem("the manifest is not valid JSON") from None
        finally:
            manifest_path.unlink(missing_ok=True)
        folder = (self.root / safe_name(manifest.get("pen_name") or "", "no pen name")
                  / folder_name(detail))
        staging = self.partial / f"{detail['short_id']}-staging"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(mode=0o700)
        entries = {f["blob"]: f for f in manifest.get("files", [])}
        report = ReportWriter(self.language)
        for remote in detail["files"]:
            entry = entries.get(remote["name"])
            if entry is None:
                raise SyncProblem(f"file {remote['position'] + 1} is not in the manifest")
            self._one_file(detail, remote, entry, staging, report, manifest.get("format", ""))
        (staging / "message.txt").write_text(message_text(manifest, self.language),
                                             encoding="utf-8")
        (staging / "cleaning-report.txt").write_text(report.text(), encoding="utf-8")
        self._thread(detail, staging)
        if folder.exists():
            shutil.rmtree(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(folder)
        return folder

    def _thread(self, detail: dict[str, Any], staging: Path) -> None:
        """Each message of the conversation as a text file, in order, in thread/."""
        messages = detail.get("messages", [])
        if not messages:
            return
        folder = staging / "thread"
        folder.mkdir()
        for message in messages:
            plain = self._decrypt(self._fetch(detail, message), f"message {message['number']}")
            who = "author" if message["sender"] == "author" else safe_name(message["by"] or "editor")
            decision = f"-{message['decision']}" if message.get("decision") else ""
            plain.replace(folder / f"{message['number']:03d}-{message['sent_on']}-{who}{decision}.txt")

    def _one_file(self, detail: dict[str, Any], remote: dict[str, Any], entry: dict[str, Any],
                  staging: Path, report: ReportWriter, manifest_format: str) -> None:
        position = remote["position"] + 1
        name = safe_name(file_name(entry, position, manifest_format), str(position))
        plain = self._decrypt(self._fetch(detail, remote), name)
        try:
            if plain.stat().st_size != entry.get("size") or sha256_of(plain) != entry.get("sha256"):
                raise SyncProblem(f"{name}: size or SHA-256 differs from the manifest")
            report.file(name, str(entry.get("kind", "")), entry)
            if entry.get("kind") == "openpgp":
                # The author encrypted it to the editors themselves: open that layer
                # too, so the file can be cleaned here like any other.
                inner = self.partial / (plain.name + ".inner")
                try:
                    self.gpg.decrypt_file(plain, inner)
                except DecryptionFailed as failed:
                    raise SyncProblem(f"{name}: the author's own encryption: {failed}") from None
                inner.replace(plain)
                name = name.removesuffix(".gpg").removesuffix(".pgp").removesuffix(".asc") or name
                report.authors_own_encryption()
            target = staging / name
            try:
                with open(plain, "rb") as source, open(target, "wb") as sink:
                    local = clean_isolated(source, sink, name_hint=name)
                report.cleaned_here(local)
                if "." not in name and local.kind in EXTENSIONS:
                    target.rename(staging / f"{name}.{EXTENSIONS[local.kind]}")
            except CleaningRefused as refused:
                target.unlink(missing_ok=True)
                uncleaned = staging / "NOT-CLEANED"
                uncleaned.mkdir(exist_ok=True)
                shutil.move(plain, uncleaned / name)
                report.not_cleaned_here(refused.code)
        finally:
            plain.unlink(missing_ok=True)


def file_name(entry: dict[str, Any], position: int, manifest_format: str) -> str:
    """The name the manifest gives, unless the manifest predates neutral names.

    Manifests before penname-manifest/2 carry every original name, chosen by
    nobody; those files are named by position here, as the server does now.
    """
    name = str(entry.get("name", ""))
    _, _, version = manifest_format.partition("/")
    if not version.isdigit() or int(version) < 2:
        return neutral_name(position, str(entry.get("kind", "")), name)
    return name
