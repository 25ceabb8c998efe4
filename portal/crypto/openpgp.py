"""The one OpenPGP wrapper: editors' public keys in, ciphertext out.

Promise: the server's keyring (a GnuPG home directory of its own) holds only
public keys; this module refuses to import anything secret. Every message is
encrypted to recipients pinned by full fingerprint (`--trust-model always`,
since the admin vouched for each key when adding it), with `--throw-keyids` so a
seized ciphertext does not say whose key opens it. Keys that cannot encrypt,
are expired or revoked, or are weaker than RSA-3072 / 128-bit elliptic curves
are refused with a reason a person can act on.

gpg runs with `--no-random-seed-file`: otherwise it rewrites `random_seed` in
the keyring's home at every encryption, and that file's time would give the
second of the latest upload or message.

Used by the server (Django-free) and by the editors' client.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import BinaryIO

import gnupg

MIN_RSA_BITS = 3072
# Curves with at least 128-bit security (Curve25519's level).
STRONG_CURVES = frozenset({
    "cv25519", "curve25519", "x25519", "ed25519", "x448", "ed448", "nistp256", "nistp384",
    "nistp521", "brainpoolp256r1", "brainpoolp384r1", "brainpoolp512r1",
})
RSA_ALGOS = frozenset({"1", "2"})
ECDH_ALGOS = frozenset({"18", "25"})  # 25 = X25519 in RFC 9580 terms
ALGO_NAMES = {"1": "RSA", "2": "RSA", "16": "ElGamal", "17": "DSA", "18": "ECDH", "19": "ECDSA",
              "22": "EdDSA", "25": "X25519", "27": "Ed25519"}
# The largest public key file anyone needs (a key with many signatures is ~100 KB).
MAX_KEY_BYTES = 512 * 1024


class KeyUnusable(Exception):
    """A key the portal will not encrypt to; the message says why."""


class EncryptionFailed(Exception):
    """gpg could not produce the ciphertext; nothing was written."""


class GpgUnavailable(EncryptionFailed):
    """The gpg program is missing or does not run."""


@dataclass(frozen=True)
class KeyContents:
    """What a key file holds, read without importing it (`Keyring.inspect_key`)."""

    fingerprints: tuple[str, ...]  # primary keys
    user_ids: tuple[str, ...]
    attributes: int  # photo IDs and other user attributes
    secret: bool


@dataclass(frozen=True)
class KeyInfo:
    fingerprint: str
    user_ids: tuple[str, ...]
    algorithm: str
    created: date | None
    expires: date | None
    usable: bool
    reason: str = ""

    def expires_within(self, days: int, today: date | None = None) -> bool:
        today = today or date.today()
        return self.expires is not None and (self.expires - today).days <= days


def _day(epoch: str) -> date | None:
    if not epoch:
        return None
    if "T" in epoch:  # ISO form some gpg versions print
        return datetime.strptime(epoch[:8], "%Y%m%d").replace(tzinfo=UTC).date()
    return datetime.fromtimestamp(int(epoch), tz=UTC).date()


class Keyring:
    """A GnuPG home directory holding public keys only."""

    @classmethod
    @contextmanager
    def throwaway(cls, parent: Path, gpg_binary: str = "gpg") -> Iterator[Keyring]:
        """A keyring in a new directory under `parent`, deleted afterwards.

        For keys the server must use once but not keep: an author's own reply
        key never enters the server's keyring, whose file times would date it.
        """
        home = Path(tempfile.mkdtemp(prefix="keyring-", dir=parent))
        try:
            yield cls(home, gpg_binary)
        finally:
            shutil.rmtree(home, ignore_errors=True)

    def __init__(self, home: Path, gpg_binary: str = "gpg") -> None:
        self.home = Path(home)
        self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.home, 0o700)
        try:
            self._gpg = gnupg.GPG(
                gnupghome=str(self.home), gpgbinary=gpg_binary,
                options=["--no-autostart", "--no-greeting", "--no-random-seed-file"],
            )
        except (OSError, ValueError, RuntimeError) as exc:
            raise GpgUnavailable(f"gpg cannot run: {exc}") from exc
        self._gpg.encoding = "utf-8"

    # --- keys -------------------------------------------------------------------

    def import_public_key(self, armored: str | bytes) -> KeyInfo:
        """Import exactly one usable public key and return its description.

        Raises KeyUnusable (and imports nothing) for secret keys, several keys,
        no key, or a key the portal would refuse to encrypt to.
        """
        data = armored.encode("ascii", "replace") if isinstance(armored, str) else armored
        if len(data) > MAX_KEY_BYTES:
            raise KeyUnusable("the key file is larger than any public key needs to be")
        if b"PRIVATE KEY BLOCK" in data:
            raise KeyUnusable("this is a private key; send only the public key")
        scan = self._gpg.scan_keys_mem(data) if hasattr(self._gpg, "scan_keys_mem") else None
        if scan is not None:
            if any(k.get("type") == "sec" for k in scan):
                raise KeyUnusable("this is a private key; send only the public key")
            if len(scan) != 1:
                raise KeyUnusable(f"the file holds {len(scan)} keys; add one key at a time")
        result = self._gpg.import_keys(data, extra_args=["--import-options", "import-minimal"])
        fingerprints = sorted(set(result.fingerprints))
        if len(fingerprints) != 1:
            raise KeyUnusable("no OpenPGP public key was found in the file")
        info = self.key_info(fingerprints[0])
        if not info.usable:
            self.delete_key(info.fingerprint)
            raise KeyUnusable(info.reason)
        return info

    def inspect_key(self, data: bytes) -> KeyContents:
        """List what `data` holds (keys, user IDs, photos) without importing any of it."""
        if len(data) > MAX_KEY_BYTES:
            raise KeyUnusable("the key file is larger than any public key needs to be")
        try:
            completed = subprocess.run(
                [self._gpg.gpgbinary, "--homedir", str(self.home), "--batch", "--no-tty",
                 "--no-random-seed-file", "--with-colons", "--import-options", "show-only",
                 "--import"],
                input=data, capture_output=True, check=False, timeout=60,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise GpgUnavailable(f"gpg did not run: {exc}") from exc
        fingerprints: list[str] = []
        user_ids: list[str] = []
        attributes, secret, primary = 0, False, False
        for line in completed.stdout.decode("utf-8", "replace").splitlines():
            fields = line.split(":")
            if fields[0] in ("pub", "sec", "sub", "ssb"):
                primary = fields[0] in ("pub", "sec")
                secret = secret or fields[0] in ("sec", "ssb")
            elif fields[0] == "fpr" and primary and len(fields) > 9:
                fingerprints.append(fields[9])
                primary = False
            elif fields[0] == "uid" and len(fields) > 9:
                user_ids.append(_unescape_colons(fields[9]))
            elif fields[0] == "uat":
                attributes += 1
        return KeyContents(tuple(fingerprints), tuple(user_ids), attributes, secret)

    def export_minimal(self, fingerprint: str) -> str:
        """The key as stored: ASCII armor with only its self-signatures (no third parties)."""
        exported = self._gpg.export_keys(fingerprint, armor=True, minimal=True)
        if not exported:
            raise KeyUnusable("the key could not be read back from the keyring")
        return str(exported)

    def delete_key(self, fingerprint: str) -> None:
        self._gpg.delete_keys(fingerprint, expect_passphrase=False)

    def key_info(self, fingerprint: str, today: date | None = None) -> KeyInfo:
        """Describe a key in the keyring and decide whether the portal may use it."""
        keys = self._gpg.list_keys(keys=[fingerprint])
        if len(keys) != 1:
            return KeyInfo(fingerprint, (), "", None, None, False, "the key is not in the keyring")
        key = keys[0]
        return _judge(key, today or date.today())

    def usable_keys(self, fingerprints: list[str], today: date | None = None) -> list[KeyInfo]:
        return [k for k in (self.key_info(f, today) for f in fingerprints) if k.usable]

    # --- encryption ---------------------------------------------------------------

    def encrypt_stream(self, source: BinaryIO, output: Path, recipients: list[str],
                       compress: bool = True) -> None:
        """Encrypt `source` to `recipients` into the new file `output` (binary OpenPGP).

        `compress=False` skips gpg's compression, for sources that are mostly
        ciphertext already (backups), where it would only cost time.
        On any failure `output` does not exist afterwards and EncryptionFailed is raised.
        """
        if not recipients:
            raise EncryptionFailed("no recipients")
        if output.exists():
            raise EncryptionFailed("output already exists")
        extra_args = ["--throw-keyids", "--no-encrypt-to", "--compliance", "gnupg"]
        if not compress:
            extra_args += ["--compress-algo", "none"]
        try:
            result = self._gpg.encrypt_file(
                source, recipients=list(recipients), armor=False, always_trust=True,
                output=str(output), extra_args=extra_args,
            )
        except (OSError, ValueError) as exc:
            output.unlink(missing_ok=True)
            raise EncryptionFailed(f"gpg failed: {exc}") from exc
        if not result.ok or not output.exists():
            output.unlink(missing_ok=True)
            raise EncryptionFailed(f"gpg failed: {result.status or 'no status'}")

    def encrypt_bytes(self, data: bytes, output: Path, recipients: list[str]) -> None:
        import io

        self.encrypt_stream(io.BytesIO(data), output, recipients)

    def is_encrypted_message(self, path: Path) -> bool:
        """True if `path` holds exactly one OpenPGP message encrypted to public keys.

        The server cannot decrypt, but it can check the packet structure: one or
        more public-key session-key packets followed by one integrity-protected
        encrypted-data packet, and nothing else. Plaintext, signatures, keys and
        password-encrypted messages are refused.
        """
        completed = subprocess.run(
            [self._gpg.gpgbinary, "--homedir", str(self.home), "--batch", "--no-autostart",
             "--no-random-seed-file", "--list-packets", str(path)],
            capture_output=True, text=True, check=False, timeout=120,
        )
        tags = [int(line.split("tag=")[1].split()[0]) for line in completed.stdout.splitlines()
                if line.startswith("# off=") and "tag=" in line]
        if len(tags) < 2 or tags[-1] not in (18, 20) or set(tags[:-1]) != {1}:
            return False
        return tags[-1] == 20 or "mdc_method: 2" in completed.stdout

    def version(self) -> str:
        completed = subprocess.run(
            [self._gpg.gpgbinary, "--version"], capture_output=True, text=True, check=False
        )
        return completed.stdout.splitlines()[0] if completed.stdout else ""


def _judge(key: dict, today: date) -> KeyInfo:
    fingerprint = key["fingerprint"]
    uids = tuple(key.get("uids") or ())
    created = _day(key.get("date", ""))
    expires = _day(key.get("expires", ""))
    algo = ALGO_NAMES.get(key.get("algo", ""), f"algorithm {key.get('algo')}")
    base = dict(fingerprint=fingerprint, user_ids=uids, created=created, expires=expires)
    validity = key.get("trust", "")
    if validity == "r":
        return KeyInfo(**base, algorithm=algo, usable=False, reason="the key has been revoked")
    if validity == "e" or (expires is not None and expires <= today):
        return KeyInfo(**base, algorithm=algo, usable=False, reason="the key has expired")
    if validity in ("i", "d"):
        return KeyInfo(**base, algorithm=algo, usable=False, reason="the key is invalid or disabled")
    candidates = []
    primary_can_encrypt = "e" in (key.get("cap") or "")
    if primary_can_encrypt:
        candidates.append(key)
    candidates += list((key.get("subkey_info") or {}).values())
    best_reason = "the key has no subkey that can encrypt"
    for sub in candidates:
        if "e" not in (sub.get("cap") or sub.get("capability") or ""):
            continue
        sub_expires = _day(sub.get("expires", ""))
        if sub.get("trust") in ("r", "e", "i", "d") or (sub_expires and sub_expires <= today):
            best_reason = "its encryption subkey is expired or revoked"
            continue
        sub_algo = sub.get("algo", "")
        if sub_algo in RSA_ALGOS:
            bits = int(sub.get("length") or 0)
            if bits < MIN_RSA_BITS:
                best_reason = f"its RSA encryption key has {bits} bits; at least {MIN_RSA_BITS} are needed"
                continue
            algorithm = f"RSA {bits}"
        elif sub_algo in ECDH_ALGOS:
            curve = (sub.get("curve") or "").lower() or "x25519"
            if curve not in STRONG_CURVES:
                best_reason = f"its encryption curve {curve} is too weak"
                continue
            algorithm = f"ECDH {curve}"
        else:
            best_reason = (
                f"its encryption key uses {ALGO_NAMES.get(sub_algo, sub_algo)}, which is not "
                "accepted; use RSA-3072 or stronger, or Curve25519"
            )
            continue
        return KeyInfo(**base, algorithm=algorithm, usable=True)
    return KeyInfo(**base, algorithm=algo, usable=False, reason=best_reason)


def _unescape_colons(field: str) -> str:
    """gpg's --with-colons escapes (\\x3a and the like) back into text."""
    import re

    raw = re.sub(rb"\\x([0-9a-fA-F]{2})", lambda m: bytes([int(m.group(1), 16)]),
                 field.encode("utf-8", "surrogateescape"))
    return raw.decode("utf-8", "replace")


def armor_message(data: bytes) -> str:
    """ASCII armor (RFC 4880 §6) for a binary OpenPGP message, without decrypting it.

    The server hands stored ciphertext to authors as a `.asc` any OpenPGP tool
    opens. Armored input is returned as it is.
    """
    import base64

    if data.lstrip().startswith(b"-----BEGIN PGP MESSAGE-----"):
        return data.decode("ascii")
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    body = base64.b64encode(data).decode("ascii")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    checksum = base64.b64encode((crc & 0xFFFFFF).to_bytes(3, "big")).decode("ascii")
    return "\n".join(["-----BEGIN PGP MESSAGE-----", "", *lines, f"={checksum}",
                      "-----END PGP MESSAGE-----", ""])
