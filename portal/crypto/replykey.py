"""Author reply keys the server makes: usable only with the author's codename.

Promise: a generated reply key is an ordinary OpenPGP key (Ed25519 primary,
Curve25519 encryption subkey, user ID "reply key", created 2020-01-01 at
midnight, so it says nothing about who, where or when: a key found on an
author's device names neither them nor the portal) whose secret part exists on
the server only protected by a passphrase the server cannot produce on its
own: a secret derived from the author's codename (`codenames.derive_secret`
with its own purpose, so it is unrelated to the login lookup). The server
can therefore decrypt a reply only inside a request that carries that derived
secret, i.e. from the logged-in author.

Every operation runs in a throw-away GnuPG home (its own short-lived agent)
that is deleted afterwards; secret keys in it are passphrase-protected, and
decrypted messages travel through a pipe into memory, never to a file.
Passphrases reach gpg through a pipe, never through the command line or a
file.

No Django imports: the editors' client and tests use it too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

# A fixed creation time for every generated key and its self-signatures: the
# real one would be a precise timestamp of the author's first visit.
FIXED_TIME = "20200101T000000"
USER_ID = "reply key"
# Keys generated before USER_ID was neutral said "Penname author": on a seized
# device that names the portal. Authors with such a key get a new one at login.
OLD_USER_ID = "Penname author"
# The only user IDs an author's own reply key may carry: a label that says
# nothing about who owns it. Compared after folding case and spaces.
NEUTRAL_USER_IDS = frozenset({
    "reply key", "reply", "author", "key", "anonymous", "回复", "回覆", "作者", "匿名", "密钥",
    "金鑰",
})


def is_neutral_user_id(user_id: str) -> bool:
    """True when a user ID is one of the neutral labels (no name, no email, no comment)."""
    return " ".join(user_id.split()).casefold() in NEUTRAL_USER_IDS
# gpg refuses passphrases longer than this in loopback mode.
MAX_PASSPHRASE_CHARS = 100
# The agent normally tunes its key-protection cost to ~100 ms on first use,
# which costs seconds here for every throw-away home. Generated keys are
# protected by 256-bit derived secrets, so a shorter tuning loses nothing.
AGENT_CONF = "s2k-calibration 50\nallow-loopback-pinentry\n"
GPG_TIMEOUT = 60


class ReplyKeyError(Exception):
    """gpg could not make, open or export a reply key (the message says which)."""


class WrongPassphrase(ReplyKeyError):
    """The passphrase does not open this secret key."""


@dataclass(frozen=True)
class GeneratedKey:
    fingerprint: str
    public: str  # ASCII-armored public key
    secret: str  # ASCII-armored secret key, protected by the passphrase it was made with


class _Home:
    """One throw-away GnuPG home directory."""

    def __init__(self, path: Path, gpg_binary: str) -> None:
        self.path = path
        self.gpg_binary = gpg_binary

    def run(self, args: list[str], stdin: bytes = b"",
            check: bool = True) -> subprocess.CompletedProcess[bytes]:
        command = [self.gpg_binary, "--homedir", str(self.path), "--batch", "--no-tty",
                   "--no-greeting", "--pinentry-mode", "loopback", *args]
        try:
            completed = subprocess.run(command, input=stdin, capture_output=True,
                                       timeout=GPG_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ReplyKeyError(f"gpg did not run: {exc}") from exc
        if check and completed.returncode != 0:
            if b"Bad passphrase" in completed.stderr:
                raise WrongPassphrase("the passphrase does not open this key")
            raise ReplyKeyError(f"gpg failed: {completed.stderr.decode(errors='replace')[-300:]}")
        return completed

    def import_key(self, armored: str) -> None:
        self.run(["--import"], armored.encode("ascii"))

    def fingerprint(self) -> str:
        listing = self.run(["--with-colons", "--list-keys"]).stdout.decode()
        prints = [line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:")]
        if not prints:
            raise ReplyKeyError("no key in the reply keyring")
        return prints[0]


@contextmanager
def _home(workdir: Path, gpg_binary: str) -> Iterator[_Home]:
    workdir.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Short names: the agent's socket path must stay under 108 characters.
    path = Path(tempfile.mkdtemp(prefix="rk", dir=workdir))
    try:
        (path / "gpg-agent.conf").write_text(AGENT_CONF)
        _start_agent(path)
        yield _Home(path, gpg_binary)
    finally:
        # Stop this home's agent now (it would notice its socket gone, but only later).
        gpgconf = shutil.which("gpgconf")
        if gpgconf:
            with suppress(OSError, subprocess.SubprocessError):
                subprocess.run([gpgconf, "--homedir", str(path), "--kill", "gpg-agent"],
                               capture_output=True, timeout=10, check=False)
        shutil.rmtree(path, ignore_errors=True)


def _start_agent(home: Path) -> None:
    """Start the home's agent and return once it listens.

    gpg would start one itself, but then polls for it for at most a few seconds,
    which a busy machine can miss; `gpg-agent --daemon` returns when the socket is
    ready. If this fails, gpg still tries on its own.
    """
    agent = shutil.which("gpg-agent")
    if agent:
        with suppress(OSError, subprocess.SubprocessError):
            # No pipes: the daemon keeps its output open, and reading it would wait for it.
            subprocess.run([agent, "--homedir", str(home), "--daemon"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=GPG_TIMEOUT, check=False)


def _check_passphrase(passphrase: str) -> bytes:
    if not passphrase or len(passphrase) > MAX_PASSPHRASE_CHARS or "\n" in passphrase:
        raise ReplyKeyError("unusable passphrase")
    return passphrase.encode("utf-8")


def generate(passphrase: str, workdir: Path, gpg_binary: str = "gpg") -> GeneratedKey:
    """Make a new reply key whose secret part is protected by `passphrase`.

    Tried twice: a first failure is most often an agent that did not come up in time.
    """
    try:
        return _generate(passphrase, workdir, gpg_binary)
    except ReplyKeyError:
        return _generate(passphrase, workdir, gpg_binary)


def _generate(passphrase: str, workdir: Path, gpg_binary: str) -> GeneratedKey:
    secret = _check_passphrase(passphrase)
    parameters = (
        "Key-Type: EDDSA\nKey-Curve: ed25519\nKey-Usage: cert\n"
        "Subkey-Type: ECDH\nSubkey-Curve: cv25519\nSubkey-Usage: encrypt\n"
        f"Name-Real: {USER_ID}\nExpire-Date: 0\nCreation-Date: {FIXED_TIME}\n"
        f"Passphrase: {secret.decode()}\n%commit\n"
    ).encode()
    with _home(workdir, gpg_binary) as home:
        # The parameters (with the passphrase) go through stdin, never a file.
        home.run(["--faked-system-time", f"{FIXED_TIME}!", "--gen-key"], parameters)
        fingerprint = home.fingerprint()
        public = home.run(["--armor", "--export", fingerprint]).stdout.decode("ascii")
        exported = home.run(["--passphrase-fd", "0", "--armor", "--export-secret-keys",
                             fingerprint], secret).stdout.decode("ascii")
    if "PRIVATE KEY BLOCK" not in exported or "PUBLIC KEY BLOCK" not in public:
        raise ReplyKeyError("gpg did not export the new key")
    return GeneratedKey(fingerprint, public, exported)


def decrypt_messages(secret_key: str, passphrase: str, messages: list[bytes], workdir: Path,
                     gpg_binary: str = "gpg") -> list[bytes | None]:
    """Decrypt each OpenPGP message with the reply key; None for one it cannot open.

    Raises WrongPassphrase when the passphrase does not open the key at all.
    """
    secret = _check_passphrase(passphrase)
    results: list[bytes | None] = []
    with _home(workdir, gpg_binary) as home:
        home.import_key(secret_key)
        for message in messages:
            # The message comes in on a file descriptor of its own; stdin carries the passphrase.
            results.append(_decrypt_one(home, secret, message))
        if messages and all(r is None for r in results) and not _opens(home, secret):
            raise WrongPassphrase("the passphrase does not open this key")
    return results


def _decrypt_one(home: _Home, secret: bytes, message: bytes) -> bytes | None:
    # The passphrase goes through a pipe of its own (written before gpg starts, and
    # far below the pipe's capacity); the message goes through stdin.
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, secret + b"\n")
        os.close(write_end)
        write_end = -1
        command = [home.gpg_binary, "--homedir", str(home.path), "--batch", "--no-tty",
                   "--pinentry-mode", "loopback", "--passphrase-fd", str(read_end),
                   "--status-fd", "2", "--decrypt"]
        try:
            completed = subprocess.run(command, input=message, capture_output=True,
                                       pass_fds=(read_end,), timeout=GPG_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ReplyKeyError(f"gpg did not run: {exc}") from exc
    finally:
        for fd in (read_end, write_end):
            if fd >= 0:
                os.close(fd)
    status = completed.stderr
    ok = (b"[GNUPG:] DECRYPTION_OKAY" in status and b"DECRYPTION_FAILED" not in status
          and b"BADMDC" not in status)
    return completed.stdout if ok else None


def _opens(home: _Home, secret: bytes) -> bool:
    """True if the passphrase unlocks the key (checked by signing nothing with it)."""
    completed = home.run(["--passphrase-fd", "0", "--armor", "--export-secret-keys"], secret,
                         check=False)
    return completed.returncode == 0 and b"PRIVATE KEY BLOCK" in completed.stdout


def export_for_author(secret_key: str, passphrase: str, new_passphrase: str, workdir: Path,
                      gpg_binary: str = "gpg") -> str:
    """The secret key re-protected by `new_passphrase` (the codename), for the author to keep."""
    old = _check_passphrase(passphrase)
    new = _check_passphrase(new_passphrase)
    with _home(workdir, gpg_binary) as home:
        home.import_key(secret_key)
        fingerprint = home.fingerprint()
        if not _opens(home, old):
            raise WrongPassphrase("the passphrase does not open this key")
        # --passwd asks for the old passphrase, then the new one, on the command channel.
        home.run(["--command-fd", "0", "--passwd", fingerprint], old + b"\n" + new + b"\n")
        exported = home.run(["--passphrase-fd", "0", "--armor", "--export-secret-keys",
                             fingerprint], new).stdout.decode("ascii")
    if "PRIVATE KEY BLOCK" not in exported:
        raise ReplyKeyError("gpg did not export the key")
    return exported
