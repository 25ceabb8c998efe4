"""Issue 14's attacks, replayed against a running server (gunicorn, real HTTP, real gpg).

- An ordinary editor cannot add, move or deactivate a key; a colleague's key cannot be
  taken over by adding it again; a managing editor's new key receives nothing until a
  second managing editor approves it, and its proposer cannot approve it.
- An ordinary editor's token cannot replace any blob; a replacement that drops a
  recipient is refused by that recipient's portal-editor and the old blob still
  decrypts for everyone; thread messages and notes cannot be replaced.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.gpgkeys import EditorKeypair, make_keypair
from tests.httpauthor import HttpAuthor
from tests.liveserver import EDITOR_PASSWORD, totp_now, totp_secret
from tests.liveserver import live_server as start_live_server
from tests.storage import blob_files
from tests.test_editor_client_live import login as editor_login
from tests.test_editor_client_live import run_editor, submit

pytestmark = pytest.mark.slow


class HttpEditor(HttpAuthor):
    """An editor's browser without a browser: cookies, CSRF tokens, the real login form."""

    def log_in(self, username: str, secret: str, step: int) -> None:
        status, _, page = self.post("/editor/login/", {
            "username": username, "password": EDITOR_PASSWORD,
            "otp_token": totp_now(secret, step)}, token_from="/editor/login/")
        assert status == 200 and "Log out" in page, page[:800]

    def act(self, path: str, fields: dict[str, str] | None = None) -> tuple[int, str]:
        status, _, page = self.post(path, fields or {}, token_from="/editor/")
        return status, html.unescape(page)


@pytest.fixture(scope="module")
def third_keypair(keys_root: Path) -> EditorKeypair:
    return make_keypair(keys_root / "third", "Third Editor <third@penname.invalid>")


def add_editor(server, tmp_path: Path, name: str, pair: EditorKeypair, *extra: str) -> str:  # type: ignore[no-untyped-def]
    key_file = tmp_path / f"{name}.asc"
    key_file.write_text(pair.public)
    return server.portal("add_editor", name, "--key", str(key_file), "--password-stdin", *extra,
                         stdin=EDITOR_PASSWORD + "\n")


def widen_code_window(server) -> None:  # type: ignore[no-untyped-def]
    """Let each account use several codes within one 30-second step, as if time passed
    between its logins and approvals (each later step number stands for a later code)."""
    server.portal("shell", "-c", "from django_otp.plugins.otp_totp.models import TOTPDevice; "
                                 "TOTPDevice.objects.update(tolerance=6)")


def key_rows(page: str) -> dict[str, tuple[int, str]]:
    """Fingerprint (no spaces) → (key id, owner) from the keys page."""
    rows = re.findall(r'<tr id="key-(\d+)"><td>([^<]+)</td><td class="fingerprint">([^<]+)</td>',
                      page)
    return {fpr.replace(" ", ""): (int(pk), owner) for pk, owner, fpr in rows}


def user_id(page: str, username: str) -> str:
    return re.search(rf'<option value="(\d+)"[^>]*>{username}</option>', page).group(1)


def decrypts(pair: EditorKeypair, path: Path) -> bool:
    status = pair.gpg("--status-fd", "2", "--decrypt", str(path)).stderr.decode()
    return "[GNUPG:] DECRYPTION_OKAY" in status and "[GNUPG:] DECRYPTION_FAILED" not in status


def test_keys_change_only_with_two_people_on_a_running_server(
        tmp_path: Path, editor_keypair, second_editor_keypair, outsider_keypair, third_keypair):
    with start_live_server(tmp_path / "data", editor_keypair.public) as live:
        deputy_added = add_editor(live, tmp_path, "deputy", second_editor_keypair, "--managing")
        assert "waiting for approval" in deputy_added
        assert "approved" in live.portal("approve_key", second_editor_keypair.fingerprint)
        plain_added = add_editor(live, tmp_path, "plain", third_keypair)
        live.portal("approve_key", third_keypair.fingerprint)
        widen_code_window(live)
        secrets = {"editor": live.editor_totp_secret, "deputy": totp_secret(deputy_added),
                   "plain": totp_secret(plain_added)}
        browsers = {name: HttpEditor(live.url) for name in secrets}
        for name, browser in browsers.items():
            browser.log_in(name, secrets[name], 0)
        editor, deputy, plain = browsers["editor"], browsers["deputy"], browsers["plain"]
        rows = key_rows(plain.get("/editor/keys/"))
        editor_key = rows[editor_keypair.fingerprint][0]

        # An ordinary editor: no adding (not even a colleague's key as their own), no
        # approving, no deactivating; the keys stay as they were.
        page = deputy.get("/editor/keys/")
        for owner in ("plain", "editor"):
            status, _ = plain.act("/editor/keys/add/", {
                "owner": user_id(page, owner), "armored": editor_keypair.public,
                "otp_token": totp_now(secrets["plain"], 1)})
            assert status == 403
        assert plain.act(f"/editor/keys/{editor_key}/deactivate/")[0] == 403
        assert plain.act(f"/editor/keys/{editor_key}/approve/",
                         {"otp_token": totp_now(secrets["plain"], 2)})[0] == 403
        assert key_rows(plain.get("/editor/keys/"))[editor_keypair.fingerprint] == (
            editor_key, "editor")

        # A managing editor re-adding a colleague's key, for themselves or anyone: refused.
        for owner in ("deputy", "plain"):
            status, answer = deputy.act("/editor/keys/add/", {
                "owner": user_id(page, owner), "armored": editor_keypair.public,
                "otp_token": totp_now(secrets["deputy"], 1 if owner == "deputy" else 2)})
            assert status == 400 and "already registered to another editor" in answer
        assert key_rows(editor.get("/editor/keys/"))[editor_keypair.fingerprint][1] == "editor"

        # A managing editor's new key: proposed, and receiving nothing.
        status, _ = editor.act("/editor/keys/add/", {
            "owner": user_id(page, "editor"), "armored": outsider_keypair.public,
            "otp_token": totp_now(secrets["editor"], 1)})
        assert status == 200  # redirected back to the keys page
        new_key = key_rows(editor.get("/editor/keys/"))[outsider_keypair.fingerprint][0]
        before = {p.name for p in blob_files(tmp_path / "data")}
        submit(live, [("a.txt", b"before the approval")])
        first = [p for p in blob_files(tmp_path / "data") if p.name not in before]
        assert len(first) == 2  # the file and the manifest
        assert all(decrypts(editor_keypair, p) for p in first)
        assert not any(decrypts(outsider_keypair, p) for p in first)

        # Its proposer cannot approve it; a second managing editor can, with a fresh code.
        status, answer = editor.act(f"/editor/keys/{new_key}/approve/",
                                    {"otp_token": totp_now(secrets["editor"], 2)})
        assert status == 403 and "second managing editor must approve" in answer
        status, answer = deputy.act(f"/editor/keys/{new_key}/approve/",
                                    {"otp_token": "000000"})
        assert status == 400
        time.sleep(1.5)  # django-otp makes a device wait a second after a wrong code
        status, _ = deputy.act(f"/editor/keys/{new_key}/approve/",
                               {"otp_token": totp_now(secrets["deputy"], 3)})
        assert status == 200
        seen = {p.name for p in blob_files(tmp_path / "data")}
        submit(live, [("b.txt", b"after the approval")])
        second = [p for p in blob_files(tmp_path / "data") if p.name not in seen]
        assert second and all(decrypts(outsider_keypair, p) for p in second)
        assert not any(decrypts(outsider_keypair, p) for p in first)

        # Every editor is told, on their next page; the admin's check lists it too.
        notice = plain.get("/editor/")
        assert "editor proposed a key for editor" in html.unescape(notice)
        assert "deputy approved the key" in html.unescape(notice)
        checked = live.portal("check_keys")
        assert "keys waiting for approval: 0" in checked
        assert "deputy approved the key" in checked


def test_replacement_needs_every_editor_and_thread_messages_are_never_replaced(
        tmp_path: Path, editor_keypair, second_editor_keypair):
    with start_live_server(tmp_path / "data", editor_keypair.public) as live:
        added = add_editor(live, tmp_path, "second", second_editor_keypair)
        live.portal("approve_key", second_editor_keypair.fingerprint)
        widen_code_window(live)
        author = HttpAuthor(live.url)
        author.new_author("Ah Mei")
        import io

        status, review = author.upload("夜班", [("a.txt", io.BytesIO(b"words for both"), 14)])
        assert status == 200
        status, where, _ = author.confirm(review)
        page = "/author/submission/" + where.split("/author/submission/")[1].split("/")[0] + "/"
        assert author.post(f"{page}message/", {"text": "from the author"}, token_from=page)[0] == 200

        editor_config, second_config = tmp_path / "editor.json", tmp_path / "second.json"
        assert editor_login(live, editor_config, editor_keypair.home,
                            live.editor_totp_secret).returncode == 0
        assert editor_login(live, second_config, second_editor_keypair.home,
                            totp_secret(added), username="second").returncode == 0
        noted = run_editor(editor_config, editor_keypair.home, "note", page.split("/")[3][:8],
                           stdin="a note")
        assert noted.returncode == 0, noted.stderr

        def token(config: Path) -> str:
            return str(json.loads(config.read_text())["token"])

        def call(method: str, path: str, bearer: str, body: bytes | None = None,
                 headers: dict[str, str] | None = None) -> tuple[int, dict]:
            request = urllib.request.Request(
                f"{live.url}/api/v1{path}", data=body, method=method,
                headers={"Authorization": f"Bearer {bearer}", **(headers or {})})
            try:
                with urllib.request.urlopen(request, timeout=120) as response:
                    return response.status, json.loads(response.read() or b"{}")
            except urllib.error.HTTPError as error:
                return error.code, json.loads(error.read() or b"{}")

        _, listing = call("GET", "/submissions/?detail=1", token(editor_config))
        [detail] = listing["submissions"]
        blob = detail["files"][0]["name"]
        message = detail["messages"][0]["name"]
        note = detail["notes"][0]["name"]
        blob_path = next(p for p in blob_files(tmp_path / "data") if p.name == blob)
        before = blob_path.read_bytes()
        dropped = editor_keypair.gpg("--encrypt", "--trust-model", "always", "--throw-keyids",
                                     "-r", editor_keypair.fingerprint,
                                     input=b"words for both").stdout
        sha = {"X-Penname-Plaintext-SHA256": hashlib.sha256(b"words for both").hexdigest(),
               "Content-Type": "application/octet-stream"}
        url = f"/submissions/{detail['id']}/blobs/"

        # An ordinary editor's token, and an everyday token, cannot replace anything.
        for bearer in (token(second_config), token(editor_config)):
            assert call("PUT", url + blob, bearer, dropped, sha)[0] == 403
        scoped = run_editor(second_config, second_editor_keypair.home, "login", "--server",
                            live.url, "--username", "second", "--password-stdin", "--otp",
                            totp_now(totp_secret(added), 1), "--scope", "reencrypt",
                            stdin=EDITOR_PASSWORD + "\n")
        assert scoped.returncode == 1 and "managing editors" in scoped.stderr
        scoped = run_editor(editor_config, editor_keypair.home, "login", "--server", live.url,
                            "--username", "editor", "--password-stdin", "--otp",
                            totp_now(live.editor_totp_secret, 1), "--scope", "reencrypt",
                            stdin=EDITOR_PASSWORD + "\n")
        assert scoped.returncode == 0, scoped.stderr
        reencrypt_token = json.loads(editor_config.read_text())["reencrypt_token"]

        # Thread messages and notes: never, not even with the reencrypt scope.
        for name in (message, note):
            stored = next(p for p in blob_files(tmp_path / "data") if p.name == name)
            old = stored.read_bytes()
            assert call("PUT", url + name, reencrypt_token, dropped, sha)[0] == 403
            assert stored.read_bytes() == old

        # A copy that drops the colleague: stored beside, confirmed by its proposer, refused
        # by the colleague's portal-editor; the old blob stays and decrypts for both.
        status, proposed = call("PUT", url + blob, reencrypt_token, dropped, sha)
        assert status == 202 and proposed["state"] == "pending"
        mine = run_editor(editor_config, editor_keypair.home, "confirm")
        assert mine.returncode == 0 and "confirmed → pending" in mine.stdout, mine.stdout
        assert blob_path.read_bytes() == before
        synced = run_editor(second_config, second_editor_keypair.home, "sync",
                            str(tmp_path / "second-drafts"))
        assert "cannot-decrypt → discarded" in synced.stdout, synced.stdout + synced.stderr
        assert blob_path.read_bytes() == before
        assert editor_keypair.decrypt(blob_path) == b"words for both"
        assert second_editor_keypair.decrypt(blob_path) == b"words for both"
        assert proposed["candidate"] not in {p.name for p in blob_files(tmp_path / "data")}
        listed = run_editor(second_config, second_editor_keypair.home, "list")
        assert "discarded" in listed.stdout and "* " in listed.stdout
