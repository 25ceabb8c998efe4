"""`portal setup` in a real terminal, answered as a volunteer would, mistakes included.

The command runs as its own process on a pseudo-terminal (so it asks, as on a
server's console), against a running portal. A mistyped onion client key and a
wrong key path are explained and asked again, never the end of the session; the
editor it adds then logs in to the running portal with the password and TOTP
secret it printed.
"""

from __future__ import annotations

import base64
import json
import os
import pty
import select
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from tests.liveserver import BIN, LiveServer, live_server, totp_once
from tests.test_setup_command import installed_layout

pytestmark = pytest.mark.slow


class Terminal:
    """A program on a pseudo-terminal: wait for what it prints, type answers."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.fd, child = pty.openpty()
        self.process = subprocess.Popen(argv, stdin=child, stdout=child, stderr=child, env=env,
                                        start_new_session=True)
        os.close(child)
        self.screen = ""
        self.read_to = 0

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the program ended and closed the terminal
            data = b""
        self.screen += data.decode(errors="replace")
        return bool(data)

    def expect(self, text: str, timeout: float = 120) -> str:
        """Wait until `text` appears after what was already expected; what came before it."""
        deadline = time.monotonic() + timeout
        while (found := self.screen.find(text, self.read_to)) < 0:
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(left):
                self.process.kill()
                raise AssertionError(f"waited for {text!r}; the terminal shows:\n"
                                     f"{self.screen[-3000:]}")
        before = self.screen[self.read_to:found]
        self.read_to = found + len(text)
        return before

    def type(self, line: str) -> None:
        os.write(self.fd, (line + "\n").encode())

    def finish(self, timeout: float = 120) -> int:
        """Its exit status, once it ended (killed after `timeout`), and all it printed."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            self._read(0.2)
        if self.process.poll() is None:
            self.process.kill()
        # What is left to read; bounded, as a program it started may hold the terminal open.
        while time.monotonic() < deadline + 10 and select.select([self.fd], [], [], 0.2)[0]:
            if not self._read(0):
                break
        os.close(self.fd)
        return self.process.wait(timeout=5)


def token_for(server: LiveServer, username: str, password: str, code: str) -> tuple[int, Any]:
    body = json.dumps({"username": username, "password": password, "otp_token": code}).encode()
    request = urllib.request.Request(server.url + "/api/v1/token/", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_a_volunteer_answers_setup_in_a_terminal_and_the_editor_logs_in(
    tmp_path: Path, editor_keypair, second_editor_keypair
):
    env_file, tor = installed_layout(tmp_path)
    alice_key = tmp_path / "alice.asc"
    alice_key.write_text(second_editor_keypair.public)
    client_key = base64.b32encode(
        X25519PrivateKey.generate().public_key().public_bytes_raw()).decode().rstrip("=")
    with live_server(tmp_path / "data", editor_keypair.public) as server:
        terminal = Terminal([str(BIN / "portal"), "setup", "--env-file", str(env_file),
                             "--tor-dir", str(tor)], server.env)
        terminal.expect("Press Enter to skip a part.")
        terminal.expect("[Y/n] ")
        terminal.type("")  # yes: the hosts from tor's files
        terminal.expect("Enter when done: ")
        terminal.type("alice=not-a-key")  # a copy-paste gone wrong
        terminal.expect("problem: client key for alice: expected the 52-character public key")
        terminal.expect("Enter when done: ")
        terminal.type(f"alice={client_key}")
        terminal.expect("Enter when done: ")
        terminal.type("")
        terminal.expect("First editor's user name: ")
        terminal.type("alice")
        terminal.expect("Path to their public key (.asc): ")
        terminal.type(str(tmp_path / "alcie.asc"))  # a typo in the path
        terminal.expect("problem: cannot read")
        terminal.expect("Path to their public key (.asc): ")
        terminal.type(str(alice_key))
        shown = terminal.expect("Path to your admin public key for backups (.asc): ")
        terminal.type("")  # the admin key another day
        assert terminal.finish() == 0, terminal.screen
        # What the volunteer saw: the addresses, the editor's password, TOTP secret, QR code.
        assert f"authors' address (publish it): {'a' * 56}.onion" in terminal.screen
        assert "█" in shown  # the QR code, drawn in the terminal
        password = next(line.split(":", 1)[1].strip() for line in shown.splitlines()
                        if line.startswith("password:"))
        otpauth = next(line.strip() for line in shown.splitlines()
                       if line.startswith("otpauth://"))
        secret = urllib.parse.parse_qs(urllib.parse.urlparse(otpauth).query)["secret"][0]
        # What it did: hosts for Django, the client key for tor, an editor who can log in.
        assert f"PORTAL_ALLOWED_HOSTS={'a' * 56}.onion,{'e' * 56}.onion" in env_file.read_text()
        auth = tor / "penname-editors" / "authorized_clients" / "alice.auth"
        assert auth.read_text() == f"descriptor:x25519:{client_key}\n"
        status, issued = token_for(server, "alice", password, totp_once(secret))
        assert status == 201, issued
