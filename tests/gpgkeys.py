"""Real OpenPGP keys for tests, made with the real gpg in separate home directories.

Editors' private keys live only in their own GnuPG homes here, never in the
server's keyring, exactly as in production.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class EditorKeypair:
    home: Path
    fingerprint: str
    public: str

    def gpg(self, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["gpg", "--homedir", str(self.home), "--batch", "--pinentry-mode", "loopback",
             "--passphrase", "", *args],
            input=input, capture_output=True, check=False, timeout=120,
        )

    def decrypt(self, path: Path) -> bytes:
        """Decrypt like an editor would, judging success by gpg's status lines.

        With hidden recipients (--throw-keyids) and several editors, gpg 2.2 tries
        each session-key packet in turn and exits 2 after a wrong one even when a
        later one decrypts; DECRYPTION_OKAY without DECRYPTION_FAILED is the truth.
        """
        result = self.gpg("--status-fd", "2", "--decrypt", str(path))
        status = result.stderr.decode()
        if "[GNUPG:] DECRYPTION_OKAY" not in status or "[GNUPG:] DECRYPTION_FAILED" in status:
            raise AssertionError(f"gpg could not decrypt {path.name}: {status}")
        return result.stdout


def make_keypair(home: Path, uid: str, *, primary: str = "ed25519", sub: str | None = "cv25519",
                 expire: str = "2y", faked_time: str | None = None) -> EditorKeypair:
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    base = ["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback",
            "--passphrase", ""]
    if faked_time:
        base += ["--faked-system-time", faked_time]
    subprocess.run([*base, "--quick-gen-key", uid, primary, "cert,sign", expire],
                   capture_output=True, check=True, timeout=300)
    fpr = fingerprint_in(home)
    if sub:
        subprocess.run([*base, "--quick-add-key", fpr, sub, "encr", expire],
                       capture_output=True, check=True, timeout=300)
    public = subprocess.run(["gpg", "--homedir", str(home), "--armor", "--export", fpr],
                            capture_output=True, text=True, check=True).stdout
    return EditorKeypair(home, fpr, public)


def fingerprint_in(home: Path) -> str:
    listing = subprocess.run(["gpg", "--homedir", str(home), "--list-keys", "--with-colons"],
                             capture_output=True, text=True, check=True).stdout
    return next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))


def revoke(pair: EditorKeypair) -> str:
    """Revoke the key with the certificate gpg made at creation; return the public key."""
    cert = (pair.home / "openpgp-revocs.d" / f"{pair.fingerprint}.rev").read_text()
    cert = cert.replace(":-----BEGIN PGP PUBLIC KEY BLOCK-----", "-----BEGIN PGP PUBLIC KEY BLOCK-----")
    pair.gpg("--import", input=cert.encode())
    return subprocess.run(["gpg", "--homedir", str(pair.home), "--armor", "--export",
                           pair.fingerprint], capture_output=True, text=True, check=True).stdout


def stop_agent(home: Path) -> None:
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], capture_output=True,
                   check=False)
