"""portal-editor on the editor's laptop: no received file parsed unconfined, safe copies first.

The editor's laptop holds the private key, the gpg-agent socket, every
decrypted draft and the API token. A draft made to exploit a parser must meet,
there too, a sandbox with no network and none of those in sight; where no
sandbox can be had, sync opens nothing and says so. The safe copy (a PDF of
page images the server made) lands in safe/, checked, for the editor to read
first.

Real server (gunicorn), real gpg, the real portal-editor. The first test has
the server make the safe copy of a real Chinese document; the others add one
by hand to a stored submission, as the server does (an encrypted image-only
PDF, a SubmissionFile row with safe_copy_of, a manifest entry with status
"safe-copy"), to shape what the client receives.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import subprocess
import time
import zlib
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from PIL import Image, ImageDraw

from portal.sanitize.sandbox import confine as sandbox
from portal.sanitize.sandbox import isolate
from portal.store import Store
from tests.liveserver import live_server
from tests.sanitize.safe_copies import (
    SIMPLIFIED,
    TRADITIONAL,
    images_only,
    needs_renderer,
    pdftotext,
    share,
)
from tests.sanitize.test_safe_copy import word
from tests.sanitize.test_sandbox import LIMITS, command, listeners  # noqa: F401 (a fixture)
from tests.storage import blob_files
from tests.test_editor_client_live import EDITOR, login, run_editor, submit

pytestmark = pytest.mark.slow
UNOPENED = "UNOPENED-not-checked-on-this-computer"
# What a sync process may start outside the sandbox, none of which reads a received
# file as the author sent it: the editor's own gpg (decryption), ldconfig (pyseccomp finding
# libseccomp to build the filters) and bubblewrap's monitor (which stays in the editor's
# namespaces; checked apart).
EDITOR_HELPERS = {"gpg", "gpg-agent", "scdaemon", "keyboxd", "dirmngr", "gpgconf", "ldconfig"}


@pytest.fixture
def live(tmp_path: Path, editor_keypair):  # type: ignore[no-untyped-def]
    with live_server(tmp_path / "data", editor_keypair.public) as server:
        yield server


def image_only_pdf(pages: int = 1, words: str = "the words of the draft") -> bytes:
    """A PDF as the server's safe copies are: a picture per page, its text invisible (Tr 3)."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font,
                                                Subtype=pikepdf.Name.Type1,
                                                BaseFont=pikepdf.Name.Helvetica))
    for number in range(1, pages + 1):
        picture = Image.new("L", (210, 297), 255)
        ImageDraw.Draw(picture).text((20, 20), f"{words} ({number})", fill=0)
        image = pikepdf.Stream(pdf, zlib.compress(picture.tobytes()))
        image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
        image.Width, image.Height = picture.size
        image.ColorSpace, image.BitsPerComponent = pikepdf.Name.DeviceGray, 8
        image.Filter = pikepdf.Name.FlateDecode
        content = (b"q 210 0 0 297 0 0 cm /Im0 Do Q BT 3 Tr /F0 10 Tf 20 270 Td ("
                   + words.encode("ascii") + b") Tj ET")
        pdf.pages.append(pikepdf.Page(pikepdf.Dictionary(
            Type=pikepdf.Name.Page, MediaBox=[0, 0, 210, 297],
            Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image),
                                         Font=pikepdf.Dictionary(F0=font)),
            Contents=pikepdf.Stream(pdf, content))))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def the_manifest(server: Any, keypair: Any) -> tuple[Path, dict[str, Any]]:
    [path] = [p for p in blob_files(server.data_dir) if keypair.decrypt(p).startswith(b"{")]
    return path, json.loads(keypair.decrypt(path))


def encrypt(keypair: Any, data: bytes) -> bytes:
    return keypair.gpg("--encrypt", "--trust-model", "always", "-r", keypair.fingerprint,
                       input=data).stdout  # type: ignore[no-any-return]


def add_safe_copy(server: Any, keypair: Any, pdf: bytes, of: int = 1, *, sha256: str = "",
                  problems: dict[int, str] | None = None) -> None:
    """What the server will do: store the safe copy of file `of` (1-based) with the others,
    list it in the manifest, and give it a row of its own; `problems`: file → code."""
    manifest_path, manifest = the_manifest(server, keypair)
    name = secrets.token_hex(16) + ".gpg"
    Store(server.data_dir / "store").final_path(name).write_bytes(encrypt(keypair, pdf))
    for number, code in (problems or {}).items():
        manifest["files"][number - 1]["safe_copy"] = {"problem": code}
    manifest["files"].append({
        "blob": name, "name": f"{of}.pdf", "size": len(pdf),
        "sha256": sha256 or hashlib.sha256(pdf).hexdigest(), "kind": "pdf", "cleaned": True,
        "status": "safe-copy", "safe_copy_of": of, "pages": 1, "text": "ocr",
        "report": None, "refusal": None})
    manifest_path.write_bytes(encrypt(keypair, json.dumps(manifest, ensure_ascii=False).encode()))
    size = Store(server.data_dir / "store").size(name)
    server.portal("shell", "-c", (
        "from portal.submissions.models import Submission, SubmissionFile\n"
        "s = Submission.objects.get()\n"
        f"SubmissionFile.objects.create(submission=s, position=s.files.count(), blob={name!r}, "
        f"ciphertext_bytes={size}, kind='pdf', cleaned=True, safe_copy_of={of - 1})\n"))


def logged_in(server: Any, tmp_path: Path, keypair: Any) -> Path:
    config = tmp_path / "editor.json"
    assert login(server, config, keypair.home, server.editor_totp_secret).returncode == 0
    return config


def the_folder(out: Path, pen_name: str = "Ah Mei") -> Path:
    [folder] = list((out / pen_name).iterdir())
    return folder


# --- Safe copies ----------------------------------------------------------------------------


@needs_renderer
def test_the_servers_safe_copy_of_a_real_document_reaches_safe_first(
    tmp_path: Path, editor_keypair
):
    """From the author's upload to the editor's folder: the server makes the copy in its
    renderer's sandbox, sync checks it in the editor's and puts it first."""
    body = [SIMPLIFIED, TRADITIONAL]
    with live_server(tmp_path / "data", editor_keypair.public,
                     {"PORTAL_SAFE_COPIES": "True"}) as server:
        submit(server, [("稿子.docx", word(body)), ("notes.txt", "笔记\n".encode())])
        config = logged_in(server, tmp_path, editor_keypair)
        out = tmp_path / "drafts"
        synced = run_editor(config, editor_keypair.home, "sync", str(out))
    assert synced.returncode == 0, synced.stderr
    folder = the_folder(out)
    assert sorted(p.name for p in folder.iterdir() if p.is_file()) == [
        "1.docx", "2.txt", "OPEN-FIRST.txt", "cleaning-report.txt", "message.txt"]
    assert sorted(p.name for p in (folder / "safe").iterdir()) == ["1.pdf", "2.pdf"]
    copy = (folder / "safe" / "1.pdf").read_bytes()
    assert images_only(copy) == []
    assert share("".join(body), pdftotext(copy)) >= 0.97
    assert "Safe copy: safe/1.pdf" in (folder / "cleaning-report.txt").read_text()


def test_the_safe_copy_lands_in_safe_checked_with_the_original_beside_it(
    live, tmp_path: Path, editor_keypair
):
    submit(live, [("a.txt", b"the draft itself\n"), ("b.md", b"# notes\n")])
    pdf = image_only_pdf()
    add_safe_copy(live, editor_keypair, pdf, of=1, problems={2: "pages"})
    config = logged_in(live, tmp_path, editor_keypair)
    listed = run_editor(config, editor_keypair.home, "list")
    assert "  2 files\n" in listed.stdout, listed.stdout  # the author sent two, not three
    out = tmp_path / "drafts"
    synced = run_editor(config, editor_keypair.home, "sync", str(out))
    assert synced.returncode == 0, synced.stderr
    folder = the_folder(out)
    assert (folder / "1.txt").read_bytes() == b"the draft itself\n"
    assert (folder / "2.md").read_bytes() == b"# notes\n"
    assert sorted(p.name for p in (folder / "safe").iterdir()) == ["1.pdf"]
    # Checked here by the sandboxed PDF cleaner (which writes the PDF anew), and still
    # one page of one picture.
    with pikepdf.open(folder / "safe" / "1.pdf") as checked:
        [page] = checked.pages
        assert list(page.get_images()) == ["/Im0"]
    assert not (folder / "NOT-CLEANED").exists() and not (folder / UNOPENED).exists()
    report = (folder / "cleaning-report.txt").read_text()
    assert "Open the safe copies in safe/ first" in report
    one, two = report.split("\n1.txt")[1].split("\n2.md")
    assert "Safe copy: safe/1.pdf (1 page(s) of pictures)" in one
    assert "read from the pictures (OCR)" in one and "not checked on this computer" not in one
    assert "No safe copy: the document has more pages than the server makes pictures of." in two
    assert "attack" in (folder / "OPEN-FIRST.txt").read_text()


def test_a_tampered_safe_copy_is_reported_and_not_placed(live, tmp_path: Path, editor_keypair):
    submit(live, [("a.txt", b"the draft itself\n")])
    add_safe_copy(live, editor_keypair, image_only_pdf(), of=1, sha256="0" * 64)
    config = logged_in(live, tmp_path, editor_keypair)
    out = tmp_path / "drafts"
    synced = run_editor(config, editor_keypair.home, "sync", str(out))
    assert synced.returncode == 1
    assert "problem:" in synced.stderr and "safe copy of 1.txt" in synced.stderr
    assert "SHA-256" in synced.stderr
    folder = the_folder(out)
    assert (folder / "1.txt").read_bytes() == b"the draft itself\n"
    assert not (folder / "safe").exists() and not (folder / "OPEN-FIRST.txt").exists()
    assert "The safe copy arrived altered or damaged" in (folder / "cleaning-report.txt").read_text()
    assert not [p for p in out.rglob("*.pdf")]
    # Not counted as synced: the next sync tries again, and says so again.
    again = run_editor(config, editor_keypair.home, "sync", str(out))
    assert again.returncode == 1 and "safe copy of 1.txt" in again.stderr


# --- No sandbox: nothing is parsed ---------------------------------------------------------


def test_without_a_sandbox_sync_opens_nothing_and_still_places_the_safe_copies(
    live, tmp_path: Path, editor_keypair
):
    picture = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(picture, "PNG")
    submit(live, [("a.txt", b"the draft itself\n"), ("b.png", picture.getvalue())])
    pdf = image_only_pdf()
    add_safe_copy(live, editor_keypair, pdf, of=1)
    _, manifest = the_manifest(live, editor_keypair)
    config = logged_in(live, tmp_path, editor_keypair)
    out = tmp_path / "drafts"
    env = {**os.environ, "GNUPGHOME": str(editor_keypair.home), "PORTAL_BWRAP": "/nonexistent"}
    synced = subprocess.run([*EDITOR, "--config", str(config), "sync", str(out)], env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    assert synced.returncode == 0, synced.stderr
    said = synced.stderr
    assert said.count("Nothing the authors sent was opened on this computer") == 1
    assert "bubblewrap (bwrap) is not installed" in said and f"{UNOPENED}/" in said
    assert "safe/" in said and str(out) in said
    folder = the_folder(out)
    # Each file as it arrived: the bytes the manifest's SHA-256 names, nothing cleaned here.
    unopened = folder / UNOPENED
    assert sorted(p.name for p in unopened.iterdir()) == ["1.txt", "2.png"]
    for entry in manifest["files"][:2]:
        data = (unopened / entry["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    assert (unopened / "1.txt").read_bytes() == b"the draft itself\n"
    assert (folder / "safe" / "1.pdf").read_bytes() == pdf
    assert sorted(p.name for p in folder.iterdir()) == sorted([
        "cleaning-report.txt", "message.txt", "OPEN-FIRST.txt", "safe", UNOPENED,
        f"{UNOPENED}.txt"])
    note = (folder / f"{UNOPENED}.txt").read_text()
    assert "bubblewrap (bwrap) is not installed" in note and "safe/" in note
    report = (folder / "cleaning-report.txt").read_text()
    assert report.count("NOT OPENED on this computer") == 2 and "NOT CLEANED" not in report
    assert "Removed again on this computer" not in report
    assert "not checked on this computer" in report
    # Once the sandbox holds, the next sync brings it again, cleaned.
    again = run_editor(config, editor_keypair.home, "sync", str(out))
    assert again.returncode == 0 and "opened on this computer" not in again.stderr
    assert (folder / "1.txt").read_bytes() == b"the draft itself\n"
    assert not (folder / UNOPENED).exists() and not (folder / f"{UNOPENED}.txt").exists()
    with pikepdf.open(folder / "safe" / "1.pdf") as checked:
        assert len(checked.pages) == 1


# --- Every parse sandboxed ---------------------------------------------------------------


def _snapshot(root: int, seen: dict[int, dict[str, str]]) -> None:
    """The processes below `root` as they are now; each keeps its latest state and peak memory."""
    for pid in sandbox.descendants(root):
        status = sandbox._status(pid)
        if "VmHWM" not in status:  # gone, a zombie, or exiting without its memory
            continue
        try:
            state = {**status, "cmdline": Path(f"/proc/{pid}/cmdline").read_text(),
                     **{kind: os.readlink(f"/proc/{pid}/ns/{kind}") for kind in ("net", "mnt")}}
        except OSError:  # gone meanwhile
            continue
        before = seen.get(pid, {})
        if before.get("cmdline") == state["cmdline"]:  # not since exec'd: the same memory
            peak = max(_kib(state.get("VmHWM", "")), _kib(before.get("VmHWM", "")))
            state["VmHWM"] = f"{peak} kB"
        seen[pid] = state


def _kib(value: str) -> int:
    return int(value.split()[0]) if value else 0


# Decoding the picture holds 108 MB of pixels; sync itself, with every cleaner
# imported, stays well below.
HELD_THE_PICTURE_KIB = 150 * 1024


def test_every_parse_during_sync_is_confined_and_off_the_editors_network(
    live, tmp_path: Path, editor_keypair
):
    """A picture that takes seconds to decode and encode again (36 megapixels, 118 KB),
    watched from /proc while the real portal-editor cleans it: the process that held its
    pixels, and every other process sync started (gpg, bubblewrap's monitor and sync's own
    forks before they exec aside), run under seccomp in network and mount namespaces of
    their own; sync's own process never held the pixels."""
    picture = io.BytesIO()
    Image.linear_gradient("L").resize((6000, 6000)).convert("RGB").save(picture, "PNG")
    submit(live, [("slow.png", picture.getvalue()), ("a.txt", b"words\n")])
    config = logged_in(live, tmp_path, editor_keypair)
    out = tmp_path / "drafts"
    env = {**os.environ, "GNUPGHOME": str(editor_keypair.home)}
    sync = subprocess.Popen([*EDITOR, "--config", str(config), "sync", str(out)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    editor_cmdline = "\0".join([*EDITOR, "--config", str(config), "sync", str(out)]) + "\0"
    seen: dict[int, dict[str, str]] = {}
    editor_peak = "0 kB"
    while sync.poll() is None:
        _snapshot(sync.pid, seen)
        editor_peak = sandbox._status(sync.pid).get("VmHWM", editor_peak)
        time.sleep(0.005)
    _, stderr = sync.communicate()
    assert sync.returncode == 0, stderr
    assert (the_folder(out) / "1.png").exists()
    own = {kind: os.readlink(f"/proc/self/ns/{kind}") for kind in ("net", "mnt")}
    parsers = {pid: s for pid, s in seen.items() if _kib(s["VmHWM"]) > HELD_THE_PICTURE_KIB}
    others = {pid: s for pid, s in seen.items()
              if s["Name"] not in EDITOR_HELPERS and s["cmdline"] != editor_cmdline
              and not (s["Name"] == "bwrap" and s["mnt"] == own["mnt"])}
    assert parsers, [(s["Name"], s["VmHWM"]) for s in seen.values()]
    for pid, status in {**others, **parsers}.items():
        assert status["Seccomp"] == "2", (pid, status["Name"], status["cmdline"])
        assert status["NoNewPrivs"] == "1" and status["CapEff"].strip("0") == ""
        assert status["net"] != own["net"] and status["mnt"] != own["mnt"], pid
    # The start-up probe, the zygote and the children that cleaned the two files.
    assert len([s for s in others.values() if s["Name"] != "bwrap"]) >= 3, others
    assert _kib(editor_peak) < HELD_THE_PICTURE_KIB, editor_peak


# --- A parser taken over, in the editor's sync -------------------------------------------


@pytest.fixture
def editors_laptop(tmp_path: Path, editor_keypair, monkeypatch, listeners) -> dict[str, Any]:  # noqa: F811
    """What an exploit wants on the editor's laptop: the keys, the gpg-agent, the drafts,
    the home directory, the token, the portal and any listener; the editor's own process."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("a private SSH key\n")
    drafts = tmp_path / "drafts"
    (drafts / "earlier").mkdir(parents=True)
    (drafts / "earlier" / "1.txt").write_text("an earlier draft\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GNUPGHOME", str(editor_keypair.home))
    agent = subprocess.run(["gpgconf", "--list-dirs", "agent-socket"], capture_output=True,
                           text=True, check=True, env={**os.environ}).stdout.strip()
    return {"home": home, "drafts": drafts, "agent": agent, **listeners}


def test_an_exploited_parser_in_sync_reaches_neither_keys_nor_network(
    live, tmp_path: Path, editor_keypair, editors_laptop, monkeypatch
):
    """The hostile payload of tests/sanitize/exploited_parser.py stands in for the parser
    that sync's sandbox starts (the same bubblewrap, zygote and confinement), fed a received
    file naming its targets; what worked comes back as the "cleaned" file. Unconfined, every
    one of those attempts works."""
    from portal.editor_client import cli

    config = logged_in(live, tmp_path, editor_keypair)
    gnupghome = Path(editor_keypair.home)
    private_key = next((gnupghome / "private-keys-v1.d").iterdir())
    sleeper = subprocess.Popen(["sleep", "120"])
    address = next(int(line.split("-")[0], 16) for line in Path("/proc/self/maps").read_text()
                   .splitlines() if line.split()[1].startswith("r"))
    targets = {
        "read": {"private key": str(private_key), "keyring": str(gnupghome / "pubring.kbx"),
                 "an earlier draft": str(editors_laptop["drafts"] / "earlier" / "1.txt"),
                 "a file in home": str(editors_laptop["home"] / ".ssh" / "id_ed25519"),
                 "the API token": str(config)},
        "server_pid": os.getpid(), "server_address": address, "ptrace_pid": sleeper.pid,
        "tcp": {"the portal": ["127.0.0.1", live.port], **editors_laptop["tcp"]},
        "unix": {"gpg-agent": editors_laptop["agent"], **editors_laptop["unix"]},
        "write": {"in the drafts": str(editors_laptop["drafts"] / "escaped"),
                  "in GNUPGHOME": str(gnupghome / "escaped")},
    }
    submit(live, [("targets.txt", json.dumps(targets).encode())])
    real = isolate.run_in_sandbox

    def taken_over(src: Any, dst: Any, **options: Any) -> Any:
        return real(src, dst, **{**options, "limits": LIMITS,
                                 "zygote_command": command("zygote"),
                                 "worker_command": command("worker")})

    monkeypatch.setattr(isolate, "run_in_sandbox", taken_over)
    try:
        assert cli.main(["--config", str(config), "sync", str(editors_laptop["drafts"])]) == 0
    finally:
        isolate._Zygote.forget(command("zygote"))
    [inside_file] = (editors_laptop["drafts"] / "Ah Mei").rglob("1.txt")
    inside = json.loads(inside_file.read_text())
    try:
        must_fail = ([f"read {name}" for name in targets["read"]]
                     + [f"connect {name}" for name in [*targets["tcp"], *targets["unix"]]]
                     + [f"write {name}" for name in targets["write"]]
                     + ["read server environ", "read server memory", "signal the server",
                        "ptrace", "run a program"])
        assert sorted(name for name in must_fail if inside[name] == "ok") == [], inside
        for path in targets["write"].values():
            assert not Path(path).exists()
        assert "proc" not in inside["root_listing"].split()
        assert inside["fork_bomb_children"] == "0" and inside["memory_bomb"] == "MemoryError"
        # The same attempts from an ordinary process of the editor: every one works.
        free = json.loads(subprocess.run(command("unconfined"), input=json.dumps(targets).encode(),
                                         capture_output=True, timeout=120, check=True).stdout)
        assert {name: free[name] for name in must_fail} == dict.fromkeys(must_fail, "ok")
    finally:
        sleeper.kill()
        sleeper.wait()
        for path in targets["write"].values():
            Path(path).unlink(missing_ok=True)

