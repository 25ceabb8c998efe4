"""portal-editor against a live server: sync, note, reencrypt, refusals.

Server: gunicorn with its own keyring (public keys only). Editors: their own
GnuPG homes with private keys, used by portal-editor through GNUPGHOME.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.httpauthor import HttpAuthor
from tests.liveserver import EDITOR_PASSWORD, totp_now, totp_secret
from tests.liveserver import live_server as start_live_server
from tests.storage import blob_files

pytestmark = pytest.mark.slow
EDITOR = [sys.executable, "-m", "portal.editor_client.cli"]


def run_editor(config: Path, gnupghome: Path, *args: str,
               stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GNUPGHOME": str(gnupghome)}
    return subprocess.run([*EDITOR, "--config", str(config), *args], input=stdin, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def login(server, config: Path, home: Path, secret: str, username: str = "editor",  # type: ignore[no-untyped-def]
          step: int = 0) -> subprocess.CompletedProcess[str]:
    return run_editor(config, home, "login", "--server", server.url, "--username", username,
                      "--password-stdin", "--otp", totp_now(secret, step),
                      stdin=EDITOR_PASSWORD + "\n")


@pytest.fixture
def live(tmp_path: Path, editor_keypair):  # type: ignore[no-untyped-def]
    with start_live_server(tmp_path / "data", editor_keypair.public) as server:
        yield server


def submit(server, files: list[tuple[str, bytes]], title: str = "夜班",  # type: ignore[no-untyped-def]
           **ticks: str) -> None:
    author = HttpAuthor(server.url)
    author.new_author("Ah Mei")
    status, review = author.upload(title, [(n, io.BytesIO(d), len(d)) for n, d in files],
                                   message="please read")
    assert status == 200, review[:500]
    assert author.confirm(review, **ticks)[0] == 200


def test_sync_brings_cleaned_plaintext_and_notes_stay_with_editors(
    live, tmp_path: Path, editor_keypair, outsider_keypair
):
    draft = "第一段。\u200b\n".encode()
    sealed = editor_keypair.gpg("--encrypt", "--trust-model", "always", "-r",
                                editor_keypair.fingerprint,
                                input="inner words\u200b".encode()).stdout
    submit(live, [("草稿.txt", draft), ("notes.md", b"# heading\n"), ("sealed.txt.gpg", sealed)],
           keep_name_0="yes")
    config = tmp_path / "editor.json"
    wrong = run_editor(config, editor_keypair.home, "login", "--server", live.url, "--username",
                       "editor", "--password-stdin", "--otp", "000000", stdin=EDITOR_PASSWORD + "\n")
    assert wrong.returncode == 1 and not config.exists()
    time.sleep(1.5)  # django-otp makes a device wait a second after a wrong code
    assert login(live, config, editor_keypair.home, live.editor_totp_secret).returncode == 0
    assert oct(config.stat().st_mode & 0o777) == "0o600"
    listed = run_editor(config, editor_keypair.home, "list")
    assert "Ah Mei" in listed.stdout and "* " in listed.stdout
    out = tmp_path / "drafts"
    synced = run_editor(config, editor_keypair.home, "sync", str(out))
    assert synced.returncode == 0, synced.stderr
    [folder] = list((out / "Ah Mei").iterdir())
    # The author kept the first name; the others arrive named by their place.
    assert (folder / "草稿.txt").read_bytes() == "第一段。\n".encode()
    assert (folder / "2.md").read_bytes() == b"# heading\n"
    # Encrypted by the author: decrypted and cleaned on the editor's machine.
    assert (folder / "3.txt").read_bytes() == b"inner words"
    message = (folder / "message.txt").read_text()
    assert "夜班" in message and "please read" in message
    report = (folder / "cleaning-report.txt").read_text()
    assert "1 invisible character" in report and "the author" in report and " you" not in report
    partial = out / ".penname" / "partial"
    assert not partial.exists() or not list(partial.iterdir())
    assert synced.stdout.splitlines()[-1] == "1 new piece"
    again = run_editor(config, editor_keypair.home, "sync", str(out))
    assert again.returncode == 0 and again.stdout == "Nothing new.\n"

    short_id = folder.name.split("-")[-1]
    noted = run_editor(config, editor_keypair.home, "note", short_id, stdin="cut the ending")
    assert noted.returncode == 0, noted.stderr
    notes = blob_files(tmp_path / "data")
    readable = [p for p in notes if editor_keypair.gpg("--decrypt", str(p)).stdout == b"cut the ending"]
    assert len(readable) == 1
    assert outsider_keypair.gpg("--decrypt", str(readable[0])).returncode != 0


def test_tampered_ciphertext_is_reported_and_nothing_written(live, tmp_path: Path, editor_keypair):
    submit(live, [("a.txt", b"original words")])
    config = tmp_path / "editor.json"
    assert login(live, config, editor_keypair.home, live.editor_totp_secret).returncode == 0
    for blob in blob_files(tmp_path / "data"):
        if editor_keypair.gpg("--decrypt", str(blob)).stdout == b"original words":
            data = bytearray(blob.read_bytes())
            data[len(data) // 2] ^= 0xFF
            blob.write_bytes(bytes(data))
    out = tmp_path / "drafts"
    result = run_editor(config, editor_keypair.home, "sync", str(out))
    assert result.returncode == 1 and "problem:" in result.stderr
    assert not (out / "Ah Mei").exists()
    plaintext = [p for p in out.rglob("*") if p.is_file() and b"original words" in p.read_bytes()]
    assert plaintext == []


def test_revoked_token_gets_401(live, tmp_path: Path, editor_keypair):
    config = tmp_path / "editor.json"
    assert login(live, config, editor_keypair.home, live.editor_totp_secret).returncode == 0
    token = json.loads(config.read_text())["token"]
    import urllib.request

    request = urllib.request.Request(live.url + "/api/v1/token/", method="DELETE",
                                     headers={"Authorization": f"Bearer {token}"})
    assert urllib.request.urlopen(request).status == 204
    result = run_editor(config, editor_keypair.home, "list")
    assert result.returncode == 1 and "401" in result.stderr


def test_reencrypt_lets_a_new_editor_read_once_every_editor_confirmed_and_leaves_no_old_copy(
    live, tmp_path: Path, editor_keypair, second_editor_keypair
):
    submit(live, [("a.txt", b"for the newcomer")])
    before = {p.name: p.read_bytes() for p in blob_files(tmp_path / "data")}
    key_file = tmp_path / "second.asc"
    key_file.write_text(second_editor_keypair.public)
    added = live.portal("add_editor", "second", "--key", str(key_file), "--password-stdin",
                        stdin=EDITOR_PASSWORD + "\n")
    assert "waiting for approval" in added
    live.portal("approve_key", second_editor_keypair.fingerprint)  # the admin as second person
    second_secret = totp_secret(added)
    config = tmp_path / "editor.json"
    assert login(live, config, editor_keypair.home, live.editor_totp_secret).returncode == 0
    refused = run_editor(config, editor_keypair.home, "reencrypt")
    assert refused.returncode == 2 and "--scope reencrypt" in refused.stderr
    scoped = run_editor(config, editor_keypair.home, "login", "--server", live.url, "--username",
                        "editor", "--password-stdin", "--otp",
                        totp_now(live.editor_totp_secret, 1), "--scope", "reencrypt",
                        stdin=EDITOR_PASSWORD + "\n")
    assert scoped.returncode == 0 and "reencrypt" in scoped.stdout, scoped.stderr
    result = run_editor(config, editor_keypair.home, "reencrypt")
    assert result.returncode == 0, result.stderr
    assert "2 re-encrypted copies proposed to 2 key(s); 0 already confirmed" in result.stdout
    # Proposed and confirmed by this editor's key: the old ciphertext is still what is stored.
    stored = {p.name: p.read_bytes() for p in blob_files(tmp_path / "data")}
    for name, old in before.items():
        assert stored[name] == old
    second_config = tmp_path / "second.json"
    assert login(live, second_config, second_editor_keypair.home, second_secret,
                 username="second").returncode == 0
    confirmed = run_editor(second_config, second_editor_keypair.home, "confirm")
    assert confirmed.returncode == 0, confirmed.stderr
    assert confirmed.stdout.count("→ completed") == 2
    after = {p.name: p.read_bytes() for p in blob_files(tmp_path / "data")}
    assert set(after) == set(before)  # the candidates are gone once they took the old names
    for name, old in before.items():
        assert after[name] != old
        assert all(old not in blob for blob in after.values())
    out = tmp_path / "second-drafts"
    synced = run_editor(second_config, second_editor_keypair.home, "sync", str(out))
    assert synced.returncode == 0, synced.stderr
    assert [p.read_bytes() for p in out.rglob("1.txt")] == [b"for the newcomer"]


def test_reply_end_to_end_and_each_version_syncs_into_its_own_folder(
    live, tmp_path: Path, editor_keypair
):
    secret_words = "END-TO-END-reply-7c41-姐妹"
    author = HttpAuthor(live.url)
    codename = author.new_author("Xiao Yu")
    status, review = author.upload("初稿", [("draft.md", io.BytesIO(b"# one\n"), 6)])
    assert status == 200, review[:500]
    status, where, _ = author.confirm(review)
    assert status == 200
    submission = where.split("/author/submission/")[1].split("/")[0]
    page = f"/author/submission/{submission}/"
    assert author.post(f"{page}message/", {"text": "Is the length right?"}, token_from=page)[0] == 200
    config = tmp_path / "editor.json"
    assert login(live, config, editor_keypair.home, live.editor_totp_secret).returncode == 0
    reply_file = tmp_path / "reply.txt"
    reply_file.write_text(f"Yes. {secret_words}\n", encoding="utf-8")
    sent = run_editor(config, editor_keypair.home, "reply", submission[:8], "--file",
                      str(reply_file))
    assert sent.returncode == 0, sent.stderr
    reply_file.unlink()
    # The server never had the text: it is nowhere in its data directory...
    from tests.leaks import found_in_files

    assert found_in_files(secret_words, tmp_path / "data") == []
    # ...yet the author, logged in with the codename, reads it.
    fresh = HttpAuthor(live.url)
    assert fresh.login(codename)[0] == 200
    assert secret_words in fresh.get(page)
    status, review = fresh.upload("二稿", [("draft.md", io.BytesIO(b"# two\n"), 6)],
                                  revision_of=submission)
    assert status == 200 and 'id="confirm"' in review
    assert fresh.confirm(review)[0] == 200
    out = tmp_path / "drafts"
    synced = run_editor(config, editor_keypair.home, "sync", str(out))
    assert synced.returncode == 0, synced.stderr
    folders = sorted(p.name for p in (out / "Xiao Yu").iterdir())
    assert len(folders) == 2 and folders[1] == f"{folders[0]}-v2"
    first, second = (out / "Xiao Yu" / f for f in folders)
    assert (first / "1.md").read_bytes() == b"# one\n"
    assert (second / "1.md").read_bytes() == b"# two\n"
    thread = sorted((first / "thread").iterdir())
    assert [p.name.split("-")[-1] for p in thread] == ["author.txt", "editor.txt"]
    assert thread[0].read_text(encoding="utf-8") == "Is the length right?"
    assert secret_words in thread[1].read_text(encoding="utf-8")


def test_an_older_manifest_with_removed_values_syncs_without_them(live, tmp_path: Path,
                                                                  editor_keypair):
    """Manifests from before penname-manifest/2 hold removed values and original names."""
    submit(live, [("a.txt", b"the words\n")])
    [manifest_path] = [p for p in blob_files(tmp_path / "data")
                       if editor_keypair.decrypt(p).startswith(b"{")]
    manifest = json.loads(editor_keypair.decrypt(manifest_path))
    manifest["format"] = "penname-manifest/1"
    [entry] = manifest["files"]
    entry.pop("name_kept")
    entry["name"] = "流水线上的她们-初稿-陈晓梅.txt"
    entry["report"] = {"kind": "text", "claimed": "", "notes": [], "removed": [
        {"code": "author-name", "detail": "陈晓梅 Chen Xiaomei", "count": 1},
        {"code": "file-path", "detail": "C:/Users/xiaomei/Desktop", "count": 1}]}
    old = editor_keypair.gpg("--encrypt", "--trust-model", "always", "-r",
                             editor_keypair.fingerprint,
                             input=json.dumps(manifest, ensure_ascii=False).encode()).stdout
    manifest_path.write_bytes(old)
    config = tmp_path / "editor.json"
    assert login(live, config, editor_keypair.home, live.editor_totp_secret).returncode == 0
    out = tmp_path / "drafts"
    synced = run_editor(config, editor_keypair.home, "sync", str(out))
    assert synced.returncode == 0, synced.stderr
    [folder] = list((out / "Ah Mei").iterdir())
    assert (folder / "1.txt").read_bytes() == b"the words\n"
    for path in [p for p in out.rglob("*") if p.is_file()]:
        for value in ("陈晓梅", "Chen Xiaomei", "xiaomei", "流水线"):
            assert value.encode() not in path.read_bytes() and value not in path.name, path
    report = (folder / "cleaning-report.txt").read_text()
    assert "1 author name(s)" in report and "1 folder or file location(s)" in report


def test_portal_editor_speaks_the_editors_language_with_the_servers_sentences_too(
    live, tmp_path: Path, editor_keypair, second_editor_keypair
):
    """An editor in Hong Kong: her own lines and the server's key-change sentences, in 繁體中文."""
    submit(live, [("a.txt", b"words")])
    key_file = tmp_path / "second.asc"
    key_file.write_text(second_editor_keypair.public)
    live.portal("add_editor", "second", "--key", str(key_file), "--password-stdin",
                stdin=EDITOR_PASSWORD + "\n")  # a key proposed by the admin, not yet approved
    config = tmp_path / "editor.json"
    assert login(live, config, editor_keypair.home, live.editor_totp_secret).returncode == 0
    listed = run_editor(config, editor_keypair.home, "--language", "zh_Hant", "list")
    assert listed.returncode == 0, listed.stderr
    out = listed.stdout
    assert "等待另一位主編核准的金鑰" in out and "由 管理員（在伺服器的命令列上） 於" in out
    # The change itself is the server's sentence, asked for in the editor's language.
    assert "為 second 提議了一把金鑰" in out
    for english in ("proposed", "waiting", "changes of the last", "the server shell"):
        assert english not in out, out
    # The language is saved: the next commands speak it without being told again.
    piece = re.findall(r"^[ *] ([0-9a-f]{8})  ", out, flags=re.MULTILINE)[0]
    empty = run_editor(config, editor_keypair.home, "reply", piece, stdin="  \n")
    assert empty.returncode == 2 and "文字是空的" in empty.stderr, empty.stderr
    sent = run_editor(config, editor_keypair.home, "reply", piece, stdin="謝謝\n")
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.startswith("回覆已送出給") and "金鑰" in sent.stdout, sent.stdout
