"""`penname setup`: the human parts of an install, after deploy/install.

    penname setup                                   # asks for each part in turn
    penname setup --editor alice --editor-key - < /root/alice.asc
    penname setup --admin-key - < /root/admin.asc
    penname setup --onion-client alice=<PUBLIC KEY>  # editors' onion client key
    penname setup --hosts                           # PORTAL_ALLOWED_HOSTS from tor

Keys come from a file or from standard input (`-`): the root shell opens a key
kept under /root (mode 0700), which the service user could never read. The
`penname` wrapper runs this command as root, because it writes root's files
(/etc/penname/penname.env, tor's authorized_clients); everything that touches
the database, the keyrings or the data directory it hands back to the service
user through the same wrapper (`add_editor`, `backup`), so nothing there ever
belongs to root. Without the wrapper (a development checkout) those commands
run in this process.

Each part can be run again: the editor is updated (new password, new TOTP), a
client key file is replaced, the hosts line is rewritten.
"""

from __future__ import annotations

import functools
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import qrcode
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

WRAPPER = Path("/usr/local/sbin/penname")
BACKUPS = "/var/backups/penname"
PLACEHOLDER_KEY = "0" * 40
ONION = re.compile(r"^[a-z2-7]{56}\.onion$")
CLIENT_KEY = re.compile(r"^[A-Z2-7]{52}$")
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
MAX_KEY_BYTES = 1024 * 1024


class Command(BaseCommand):
    help = "Editors' and admin keys, onion client keys, allowed hosts: the human parts of an install."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--editor", help="the first (or another) editor's user name")
        parser.add_argument("--editor-key", help="their OpenPGP public key: a file, or - for stdin")
        parser.add_argument("--admin-key", help="the admin's OpenPGP public key for backups: a "
                                                "file, or - for stdin")
        parser.add_argument("--onion-client", action="append", default=[], metavar="NAME=KEY",
                            help="a client key for the editors' onion (public half, base32)")
        parser.add_argument("--hosts", action="store_true",
                            help="set PORTAL_ALLOWED_HOSTS from tor's hostname files")
        parser.add_argument("--env-file", default="/etc/penname/penname.env")
        parser.add_argument("--tor-dir", default="/var/lib/tor")

    def handle(self, *args: Any, **options: Any) -> None:
        self.env_file = Path(options["env_file"])
        self.tor_dir = Path(options["tor_dir"])
        asked = any(options[name] for name in ("editor", "editor_key", "admin_key",
                                                "onion_client", "hosts"))
        if not asked:
            if not sys.stdin.isatty():
                raise CommandError("nothing to do: give --editor/--editor-key, --admin-key, "
                                   "--onion-client or --hosts (or run it in a terminal to be asked)")
            self.interactive()
            return
        if options["editor_key"] == "-" and options["admin_key"] == "-":
            raise CommandError("only one key can come from standard input at a time: run setup "
                               "once for the editor and once for the admin")
        if options["hosts"]:
            self.set_hosts()
        for entry in options["onion_client"]:
            name, _, key = entry.partition("=")
            self.add_onion_client(name, key)
        if options["editor"] or options["editor_key"]:
            if not (options["editor"] and options["editor_key"]):
                raise CommandError("--editor and --editor-key go together")
            self.add_editor(options["editor"], read_key(options["editor_key"]))
        if options["admin_key"]:
            self.set_admin_key(read_key(options["admin_key"]))

    # --- the parts ------------------------------------------------------------------------

    def set_hosts(self) -> None:
        hosts = []
        for service in ("penname-authors", "penname-editors"):
            path = self.tor_dir / service / "hostname"
            try:
                host = path.read_text(encoding="ascii").strip()
            except OSError as exc:
                raise CommandError(f"cannot read {path}: {exc.strerror}; is tor running with "
                                   "deploy/tor/torrc (deploy/install sets it up)?") from exc
            if not ONION.match(host):
                raise CommandError(f"{path} does not hold an onion address")
            hosts.append(host)
        self.set_env("PORTAL_ALLOWED_HOSTS", ",".join(hosts))
        self.stdout.write(f"authors' address (publish it): {hosts[0]}")
        self.stdout.write(f"editors' address (editors only): {hosts[1]}")

    def add_onion_client(self, name: str, key: str) -> None:
        key = key.strip().removeprefix("descriptor:x25519:")
        if not NAME.match(name):
            raise CommandError(f"client name {name!r}: use lower-case letters, digits, - and _")
        if not CLIENT_KEY.match(key):
            raise CommandError(f"client key for {name}: expected the 52-character public key "
                               "that the guide's second openssl line prints")
        clients = self.tor_dir / "penname-editors" / "authorized_clients"
        if not clients.is_dir():
            raise CommandError(f"{clients} does not exist: run deploy/install first")
        path = clients / f"{name}.auth"
        fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(f"descriptor:x25519:{key}\n")
        if os.geteuid() == 0:
            shutil.chown(path.with_suffix(".tmp"), "debian-tor", "debian-tor")
        path.with_suffix(".tmp").replace(path)
        self.stdout.write(f"editors' onion: client key {name} written to {path}")
        reload_service("tor")

    def add_editor(self, username: str, armored: bytes) -> None:
        output = self.portal("add_editor", username, "--managing", key=armored)
        url = next((line for line in output.splitlines() if line.startswith("otpauth://")), None)
        self.stdout.write(output.rstrip("\n"))
        if url:
            self.stdout.write("Scan this with the editor's authenticator app, in person:")
            self.stdout.write(terminal_qr(url))

    def set_admin_key(self, armored: bytes) -> None:
        """Import the key with a first backup (which proves it works), then name it for the nightly one."""
        output = self.portal("backup", BACKUPS, key=armored)
        self.stdout.write(output.rstrip("\n"))
        match = re.search(r"encrypted to ([0-9A-F]{40})", output)
        if not match:
            raise CommandError("the first backup did not say which key it used")
        self.set_env("PORTAL_BACKUP_KEY", match.group(1))
        self.stdout.write("nightly backups now go to this key: systemctl enable --now "
                          "penname-backup.timer")
        if os.geteuid() == 0 and shutil.which("systemctl"):
            subprocess.run(["systemctl", "enable", "--now", "penname-backup.timer"],  # noqa: S607
                           check=False)

    def interactive(self) -> None:
        """Each part in turn. A mistyped answer is explained and asked again; Enter skips."""
        self.stdout.write("Penname setup. Press Enter to skip a part.")
        self.retrying(self.ask_hosts)
        while entry := input("Editors' onion client (NAME=PUBLIC KEY), Enter when done: ").strip():
            name, _, key = entry.partition("=")
            self.retrying(functools.partial(self.add_onion_client, name, key),
                          once=True)  # the loop asks again
        self.retrying(self.ask_editor)
        self.retrying(self.ask_admin_key)

    def retrying(self, part: Callable[[], None], once: bool = False) -> None:
        while True:
            try:
                part()
                return
            except CommandError as problem:
                self.stderr.write(f"problem: {problem}")
                if once:
                    return

    def ask_hosts(self) -> None:
        if input("Fill PORTAL_ALLOWED_HOSTS from tor's hostname files? [Y/n] ").strip().lower() \
                in ("", "y", "yes"):
            self.set_hosts()

    def ask_editor(self) -> None:
        if username := input("First editor's user name: ").strip():
            if key := self.ask_key("Path to their public key (.asc): "):
                self.add_editor(username, key)

    def ask_admin_key(self) -> None:
        if key := self.ask_key("Path to your admin public key for backups (.asc): "):
            self.set_admin_key(key)

    def ask_key(self, question: str) -> bytes | None:
        """A key file named at the prompt, asked again until it holds a key; None on Enter."""
        while path := input(question).strip():
            try:
                return read_key(path)
            except CommandError as problem:
                self.stderr.write(f"problem: {problem}")
        return None

    # --- helpers --------------------------------------------------------------------------

    def set_env(self, name: str, value: str) -> None:
        try:
            lines = self.env_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise CommandError(f"cannot read {self.env_file}: {exc.strerror}") from exc
        new = [f"{name}={value}" if line.startswith(f"{name}=") else line for line in lines]
        if f"{name}={value}" not in new:
            new.append(f"{name}={value}")
        if new != lines:
            mode = self.env_file.stat().st_mode & 0o777
            stat = self.env_file.stat()
            tmp = self.env_file.with_suffix(".tmp")
            tmp.write_text("\n".join(new) + "\n", encoding="utf-8")
            os.chmod(tmp, mode)
            if os.geteuid() == 0:
                os.chown(tmp, stat.st_uid, stat.st_gid)
            tmp.replace(self.env_file)
            self.stdout.write(f"{self.env_file}: {name} set")
            restart_portal()

    def portal(self, *args: str, key: bytes) -> str:
        """Run `portal ARGS --key FILE` as the service user, the key in a file it can read."""
        scratch = Path(tempfile.mkdtemp(prefix="penname-setup-"))
        try:
            key_file = scratch / "key.asc"
            key_file.write_bytes(key)
            scratch.chmod(0o755)
            key_file.chmod(0o644)  # a public key: nothing secret in it
            argv = [*args, "--key", str(key_file)]
            if os.geteuid() == 0 and WRAPPER.exists():
                result = subprocess.run([str(WRAPPER), *argv], capture_output=True, text=True,
                                        check=False, timeout=600)
                if result.returncode != 0:
                    raise CommandError(f"`penname {args[0]}` failed: {result.stderr.strip()}")
                return result.stdout
            out = io.StringIO()
            call_command(*argv, stdout=out)
            return out.getvalue()
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def read_key(source: str) -> bytes:
    """A public key from a file, or from standard input when source is '-'."""
    if source == "-":
        data = sys.stdin.buffer.read(MAX_KEY_BYTES + 1)
        where = "standard input"
    else:
        try:
            with open(source, "rb") as handle:
                data = handle.read(MAX_KEY_BYTES + 1)
        except OSError as exc:
            raise CommandError(f"cannot read {source}: {exc.strerror}") from exc
        where = source
    if len(data) > MAX_KEY_BYTES:
        raise CommandError(f"{where} is too large to be a public key")
    if b"-----BEGIN PGP PUBLIC KEY BLOCK-----" not in data:
        raise CommandError(f"{where} holds no OpenPGP public key (an armored .asc file)")
    return data


def terminal_qr(text: str) -> str:
    code = qrcode.QRCode(border=2)
    code.add_data(text)
    buffer = io.StringIO()
    code.print_ascii(out=buffer, invert=True)
    return buffer.getvalue().rstrip("\n")


def reload_service(name: str) -> None:
    if os.geteuid() == 0 and WRAPPER.exists() and shutil.which("systemctl"):
        subprocess.run(["systemctl", "reload-or-restart", name], check=False)  # noqa: S607


def restart_portal() -> None:
    if os.geteuid() == 0 and WRAPPER.exists() and shutil.which("systemctl"):
        subprocess.run(["systemctl", "try-restart", "penname.service",  # noqa: S607
                        "penname-editors.service"], check=False)
