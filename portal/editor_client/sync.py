"""`portal-editor sync DIR`: bring every submission to DIR, decrypted and cleaned again.

Promise: plaintext is written only inside DIR. Ciphertext is fetched into
DIR/.penname/ciphertext (resumable), decrypted into DIR/.penname/partial, checked
against the manifest's size and SHA-256, cleaned again by the same cleaner the
server runs (the only cleaning for files that arrived already encrypted), and
only then moved to DIR/<author's folder>/<date>-<short id>/ (a later version of
the same piece to <date>-<short id of the first version>-v<N>/). Each author
identity has a folder of its own, even without a pen name or with someone
else's (author_folders.py). The conversation with the author is decrypted into
thread/ in the first version's folder. A damaged, truncated or tampered file is
reported and leaves nothing half-written in place. Every sync ends with one
line saying what arrived (`summary()`), "Nothing new." when nothing did.

Promise (a withdrawn piece stays withdrawn): a piece its author withdrew is not
synced (none of its versions, nor its thread): the author asked the editors to
stop, and every new plaintext copy on a laptop is one more to lose. What an
editor already has of it is left exactly as it is, never deleted; sync says
once that it was withdrawn. The ciphertext stays on the server until it is
purged, for an editor who must look on purpose.

Promise (no file the authors sent is parsed unconfined): every parse here runs
in the sandbox of portal.sanitize.sandbox.confine, proven at the start of each sync not
to see the editor's keys, drafts or home directory (confinement.py). Where it
cannot be established (macOS, Windows, no bubblewrap) nothing is parsed: each
file, decrypted and checked against the manifest, goes unopened into
UNOPENED-not-checked-on-this-computer/, with a note beside it, and sync says so
once. A file the sandboxed cleaner refused goes to NOT-CLEANED/.

Promise (safe copies first): the PDF of page images the server made of a
document or picture (manifest status "safe-copy") goes to safe/<stem of the
original's name>.pdf after the same checks, and is checked in the sandbox like
any PDF; OPEN-FIRST.txt and the report say to read it before the original, and
the report says, for each file, why it has no safe copy when it has none.

Promise (identity stays with the author): cleaning-report.txt gives kinds and
counts only, and a file keeps its original name only when the manifest says
the author chose so; files of older manifests (penname-manifest/1, which may
hold removed values and original names) get neutral names (`1.docx`). A kept
name never takes the place of a name sync writes itself (safe/, OPEN-FIRST.txt…).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path
from typing import Any

from portal.sanitize import CleaningRefused, clean_isolated
from portal.sanitize.filenames import EXTENSIONS, neutral_name

from .author_folders import AuthorFolders
from .confinement import private_places, sandbox_problem
from .localgpg import DecryptionFailed, LocalGpg
from .progress import Progress
from .transport import Api, ApiError
from .wording import (
    MOVED_FROM_OLD_FOLDER,
    WITHDRAWN_KEPT,
    WITHDRAWN_SKIPPED,
    ReportWriter,
    message_text,
    nothing_opened_notice,
    open_first_text,
    sync_summary,
    translator,
    unopened_text,
)

# Submissions handled at once: enough to overlap network, gpg and cleaning.
PARALLEL = 4
# The folders of a submission beside the cleaned files: safe copies; files this
# computer did not open (no sandbox here); files the sandboxed cleaner refused.
SAFE = "safe"
UNOPENED = "UNOPENED-not-checked-on-this-computer"
NOT_CLEANED = "NOT-CLEANED"
OPEN_FIRST = "OPEN-FIRST.txt"
# What sync itself writes in a submission's folder: an author's kept name never takes one.
RESERVED_NAMES = (SAFE, UNOPENED, f"{UNOPENED}.txt", NOT_CLEANED, OPEN_FIRST, "message.txt",
                  "cleaning-report.txt", "thread")
# The manifest's status of a safe copy (a PDF of page images the server made of a file).
SAFE_COPY = "safe-copy"
# Added to a submission's signature in done.json when nothing of it could be opened
# here: once the sandbox holds, the next sync brings it again, cleaned.
UNOPENED_MARK = "\tunopened"
# Added to a submission's entry in done.json once sync has said that its author
# withdrew it: said once, never synced again.
WITHDRAWN_MARK = "\twithdrawn"
WITHDRAWN = "withdrawn"


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


class Landing:
    """One submission's folder while it is written: its names, its report, what went wrong."""

    def __init__(self, staging: Path, report: ReportWriter) -> None:
        self.staging = staging
        self.report = report
        self.problems: list[str] = []
        self.unopened_because = ""
        # Files placed as they came, by folder (NOT-CLEANED, UNOPENED...): for the summary.
        self.placed: Counter[str] = Counter()
        self._taken: dict[str, set[str]] = {"": {n.casefold() for n in RESERVED_NAMES}}

    def claim(self, folder: str, *candidates: str) -> str:
        """The first candidate name not yet used in `folder` ("" for the submission's own)."""
        taken = self._taken.setdefault(folder, set())
        options = [*candidates, *(f"{n}-{candidates[-1]}" for n in range(2, 1000))]
        name = next(c for c in options if c.casefold() not in taken)
        taken.add(name.casefold())
        return name

    def place(self, plain: Path, folder: str, name: str) -> None:
        """Move a received file, as it is, into one of the submission's folders."""
        (self.staging / folder).mkdir(exist_ok=True)
        shutil.move(plain, self.staging / folder / name)
        self.placed[folder] += 1


class Syncer:
    def __init__(self, api: Api, gpg: LocalGpg, root: Path, out=sys.stdout,  # type: ignore[no-untyped-def]
                 language: str = "en", also_private: Iterable[Path] = (),
                 err=sys.stderr) -> None:
        self.api = api
        self.language = language
        self.gpg = gpg
        self.root = root
        self.out = out
        self.err = err
        self.work = root / ".penname"
        self.ciphertext = self.work / "ciphertext"
        self.partial = self.work / "partial"
        for folder in (self.root, self.ciphertext, self.partial):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.done_file = self.work / "done.json"
        self.done: dict[str, str] = (json.loads(self.done_file.read_text())
                                     if self.done_file.exists() else {})
        self.progress = Progress(0)
        # What a parser must not see here; checked once per sync, passed to every parse.
        self.must_not_see = private_places(root, also_private)
        self.sandbox_problem: str | None = None
        self.authors = AuthorFolders(root, self.work / "authors.json", safe_name)
        # Submission id -> the folder of its author (under root), chosen before syncing.
        self.author_folder: dict[str, str] = {}
        # What this sync brought, for the line it ends with.
        self.tally: Counter[str] = Counter()

    def run(self) -> list[str]:
        """Sync everything; return the problems (an empty list means all went well).

        Submissions are fetched, decrypted and cleaned a few at a time: the
        network, gpg and the cleaning children overlap.
        """
        self.sandbox_problem = sandbox_problem(self.must_not_see)
        if self.sandbox_problem is not None:
            print(nothing_opened_notice(self.language, UNOPENED, self.sandbox_problem,
                                        str(self.root)), file=self.err)
        details = self.api.get_json("/submissions/?detail=1")["submissions"]
        todo = []
        for detail in self._arrange(details):
            signature = ",".join([detail["manifest"]["name"]]
                                 + [f"{f['name']}:{f['size']}" for f in detail["files"]]
                                 + [m["name"] for m in detail.get("messages", [])])
            synced = self.done.get(detail["id"])
            if synced == signature or (synced == signature + UNOPENED_MARK
                                       and self.sandbox_problem is not None):
                continue
            todo.append((detail, signature))
        total = sum(d["manifest"]["size"] + sum(f["size"] for f in d["files"])
                    + sum(m["size"] for m in d.get("messages", [])) for d, _ in todo)
        self.progress = Progress(total, "sync")
        problems: list[str] = []
        lock = threading.Lock()

        def one(detail: dict[str, Any], signature: str) -> None:
            before = self.done.get(detail["id"])
            try:
                folder, landing = self.sync_one(detail)
            except (SyncProblem, DecryptionFailed, ApiError) as problem:
                with lock:
                    problems.append(f"{detail['short_id']}: {problem}")
                return
            with lock:
                # With a problem (a damaged safe copy) the rest is in place, and the
                # next sync tries again.
                problems.extend(f"{detail['short_id']}: {p}" for p in landing.problems)
                if not landing.problems:
                    mark = UNOPENED_MARK if landing.unopened_because else ""
                    self.done[detail["id"]] = signature + mark
                    self.done_file.write_text(json.dumps(self.done))
                    self._count(detail, before, landing)
                print(f"{detail['short_id']}  {folder.relative_to(self.root)}", file=self.out)

        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            for future in [pool.submit(one, d, s) for d, s in todo]:
                future.result()
        self.progress.finish()
        shutil.rmtree(self.partial, ignore_errors=True)
        return problems

    def _arrange(self, details: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Choose each author's folder (moving pieces out of an older shared folder) and
        leave out withdrawn pieces, saying so once; the submissions still to consider."""
        _ = translator(self.language)
        states = {d["id"]: d["state"] for d in details}
        kept, withdrawn = [], set()
        for detail in details:  # oldest first: the first identity keeps an older folder
            pen_name = detail.get("pen_name") or ""
            author = self.authors.folder(detail.get("author_ref"), pen_name)
            self.author_folder[detail["id"]] = author
            piece = folder_name(detail)
            moved_from = self.authors.adopt(piece, author, safe_name(pen_name, ""))
            if moved_from:
                self.tally["moved"] += 1
                print(f"{detail['short_id']}  " + _(MOVED_FROM_OLD_FOLDER).format(
                    old=f"{moved_from}/{piece}", new=f"{author}/{piece}"), file=self.out)
            first = detail.get("revision_of") or detail["id"]
            if states.get(first, detail["state"]) != WITHDRAWN:
                kept.append(detail)
                continue
            synced = self.done.get(detail["id"])
            if synced is not None and synced.endswith(WITHDRAWN_MARK):
                continue  # said before
            withdrawn.add(first)
            said = (_(WITHDRAWN_KEPT).format(folder=f"{author}/{piece}") if synced is not None
                    else _(WITHDRAWN_SKIPPED))
            print(f"{detail['short_id']}  {said}", file=self.out)
            self.done[detail["id"]] = (synced or "") + WITHDRAWN_MARK
        self.tally["withdrawn"] += len(withdrawn)
        self.authors.save()
        self.done_file.write_text(json.dumps(self.done))
        return kept

    def _count(self, detail: dict[str, Any], before: str | None, landing: Landing) -> None:
        """Add what one submission brought to the tally of this sync."""
        had = set(before.split("\t")[0].split(",")) if before else set()
        messages = sum(m["name"] not in had for m in detail.get("messages", []))
        self.tally["messages"] += messages
        if before is None:
            self.tally["revisions" if detail.get("revision_of") else "pieces"] += 1
        elif not messages:
            self.tally["updated"] += 1
        self.tally["not_cleaned"] += landing.placed[NOT_CLEANED]
        self.tally["unopened"] += landing.placed[UNOPENED]

    def summary(self, problems: int = 0) -> str:
        """The line a sync ends with: what arrived, what needs a look; "Nothing new." if nothing."""
        return sync_summary(self.tally + Counter(problems=problems), self.language)

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

    def _receive(self, detail: dict[str, Any], remote: dict[str, Any], entry: dict[str, Any],
                 label: str) -> Path:
        """Fetch and decrypt one file; the plaintext, checked against the manifest."""
        ciphertext = self._fetch(detail, remote)
        plain = self._decrypt(ciphertext, label)
        if plain.stat().st_size != entry.get("size") or sha256_of(plain) != entry.get("sha256"):
            plain.unlink(missing_ok=True)
            ciphertext.unlink(missing_ok=True)  # fetch it afresh next time
            raise SyncProblem(f"{label}: size or SHA-256 differs from the manifest")
        return plain

    def sync_one(self, detail: dict[str, Any]) -> tuple[Path, Landing]:
        manifest_path = self._decrypt(self._fetch(detail, detail["manifest"]), "manifest")
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise SyncProblem("the manifest is not valid JSON") from None
        finally:
            manifest_path.unlink(missing_ok=True)
        folder = self.root / self.author_folder[detail["id"]] / folder_name(detail)
        staging = self.partial / f"{detail['short_id']}-staging"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(mode=0o700)
        landing = Landing(staging, ReportWriter(self.language))
        listed = [f for f in manifest.get("files", []) if isinstance(f, dict)]
        entries = {str(f.get("blob")): f for f in listed}
        # Originals are numbered in upload order; a safe copy names its original's number.
        numbers = {str(f.get("blob")): n for n, f in
                   enumerate((f for f in listed if f.get("status") != SAFE_COPY), start=1)}
        originals: list[tuple[dict[str, Any], dict[str, Any]]] = []
        safe_copies: dict[int | None, tuple[dict[str, Any], dict[str, Any]]] = {}
        for remote in detail["files"]:
            entry = entries.get(remote["name"])
            if entry is None:
                raise SyncProblem(f"file {remote['position'] + 1} is not in the manifest")
            if entry.get("status") == SAFE_COPY:
                of = entry.get("safe_copy_of")
                of = of if isinstance(of, int) and not isinstance(of, bool) else None
                if of in safe_copies:
                    raise SyncProblem("two safe copies of one file in the manifest")
                safe_copies[of] = (remote, entry)
            else:
                originals.append((remote, entry))
        for remote, entry in originals:
            number = numbers[remote["name"]]
            name = self._original(detail, remote, entry, number, landing,
                                  manifest.get("format", ""))
            if number in safe_copies:
                self._safe_copy(detail, *safe_copies.pop(number), name, number, landing)
            else:
                landing.report.no_safe_copy(entry.get("safe_copy"))
        if safe_copies:
            landing.problems.append("a safe copy names no file of this submission; it was "
                                    "not saved")
        (staging / "message.txt").write_text(message_text(manifest, self.language),
                                             encoding="utf-8")
        (staging / "cleaning-report.txt").write_text(landing.report.text(), encoding="utf-8")
        with suppress(OSError):
            (staging / SAFE).rmdir()  # only if no safe copy passed its check
        if landing.report.safe_copies:
            (staging / OPEN_FIRST).write_text(open_first_text(self.language), encoding="utf-8")
        if landing.unopened_because:
            (staging / f"{UNOPENED}.txt").write_text(
                unopened_text(self.language, UNOPENED, landing.unopened_because), encoding="utf-8")
        self._thread(detail, staging)
        if folder.exists():
            shutil.rmtree(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(folder)
        return folder, landing

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

    def _original(self, detail: dict[str, Any], remote: dict[str, Any], entry: dict[str, Any],
                  number: int, landing: Landing, manifest_format: str) -> str:
        """One file the author sent, cleaned in the sandbox (or left unopened); its name."""
        kind = str(entry.get("kind", ""))
        name = safe_name(file_name(entry, number, manifest_format), str(number))
        plain = self._receive(detail, remote, entry, name)
        report = landing.report
        try:
            if kind != "openpgp":
                name = landing.claim("", name, neutral_name(number, kind, name))
            report.file(name, kind, entry)
            if kind == "openpgp":
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
                name = landing.claim("", name, neutral_name(number, "", name))
            if self.sandbox_problem is None:
                target = landing.staging / name
                try:
                    with open(plain, "rb") as source, open(target, "wb") as sink:
                        local = clean_isolated(source, sink, name_hint=name,
                                               must_not_see=self.must_not_see)
                except CleaningRefused as refused:
                    target.unlink(missing_ok=True)
                    if refused.code != "unavailable":
                        landing.place(plain, NOT_CLEANED, name)
                        report.not_cleaned_here(refused.code)
                        return name
                    landing.unopened_because = refused.detail or refused.code
                else:
                    report.cleaned_here(local)
                    if "." not in name and local.kind in EXTENSIONS:
                        extended = landing.claim("", f"{name}.{EXTENSIONS[local.kind]}", name)
                        target.rename(landing.staging / extended)
                        name = extended
                    return name
            # No sandbox here: not parsed at all, only decrypted and checked.
            landing.unopened_because = self.sandbox_problem or landing.unopened_because
            landing.place(plain, UNOPENED, name)
            report.not_opened_here(UNOPENED)
            return name
        finally:
            plain.unlink(missing_ok=True)

    def _safe_copy(self, detail: dict[str, Any], remote: dict[str, Any], entry: dict[str, Any],
                   original: str, number: int, landing: Landing) -> None:
        """The server's page-image PDF of `original`, checked, into safe/<its stem>.pdf."""
        stem = original.rsplit(".", 1)[0] if "." in original else original
        name = landing.claim(SAFE, f"{stem}.pdf", f"{number}.pdf")
        report = landing.report
        try:
            plain = self._receive(detail, remote, entry, f"the safe copy of {original}")
        except SyncProblem as problem:
            report.safe_copy_damaged()
            landing.problems.append(str(problem))
            return
        refused_as = f"{name.removesuffix('.pdf')}.safe-copy.pdf"
        try:
            with open(plain, "rb") as head:
                looks_like_pdf = head.read(5) == b"%PDF-"
            if self.sandbox_problem is None:
                (landing.staging / SAFE).mkdir(exist_ok=True)
                target = landing.staging / SAFE / name
                try:
                    with open(plain, "rb") as source, open(target, "wb") as sink:
                        local = clean_isolated(source, sink, name_hint="safe-copy.pdf",
                                               must_not_see=self.must_not_see)
                except CleaningRefused as refused:
                    target.unlink(missing_ok=True)
                    if refused.code != "unavailable":
                        landing.place(plain, NOT_CLEANED, refused_as)
                        report.safe_copy_not_cleaned(refused.code)
                        return
                else:
                    if local.kind == "pdf":
                        report.safe_copy(name, entry, checked_here=True)
                        return
                    target.unlink()
                    looks_like_pdf = False
            if not looks_like_pdf:
                landing.place(plain, NOT_CLEANED, refused_as)
                report.safe_copy_not_cleaned(not_a_pdf=True)
                return
            # No sandbox here: made and checked in the server's, placed as it came.
            landing.place(plain, SAFE, name)
            report.safe_copy(name, entry, checked_here=False)
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
