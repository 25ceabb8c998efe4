"""Encrypt on the editor's machine to the portal's current editor keys.

The public keys come from the API and go into a throw-away keyring, so the
editor's own keyring is not filled with colleagues' keys; decryption (for
re-encryption) uses the editor's own GnuPG, and the plaintext travels between
the two gpg processes through pipes and this process's memory only, hashed on
the way (the server needs its SHA-256 to know when every editor has confirmed
the new copy).
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, BinaryIO, cast

from .localgpg import DecryptionFailed
from .transport import Api


@contextmanager
def recipient_keyring(api: Api, also: dict[str, str] | None = None
                      ) -> Iterator[tuple[Path, list[str]]]:
    """A throw-away keyring with every editor key, plus `also` (fingerprint → armored key).

    Yields the keyring and the fingerprints to encrypt to (editors first).
    """
    keys = api.get_json("/keys/")["keys"]
    if not keys:
        raise DecryptionFailed("the portal has no usable editor key to encrypt to")
    extra = also or {}
    with tempfile.TemporaryDirectory(prefix="penname-keys-") as home:
        subprocess.run(["gpg", "--homedir", home, "--batch", "--import"],
                       input="".join([*(k["armored"] for k in keys), *extra.values()]).encode(),
                       capture_output=True, check=True)
        yield Path(home), [*(k["fingerprint"] for k in keys), *extra]


def encrypt_command(home: Path, recipients: list[str], output: Path) -> list[str]:
    command = ["gpg", "--homedir", str(home), "--batch", "--no-autostart", "--trust-model",
               "always", "--throw-keyids", "--yes", "-o", str(output)]
    for fingerprint in recipients:
        command += ["-r", fingerprint]
    return [*command, "--encrypt"]


def encrypt_bytes(home: Path, recipients: list[str], data: bytes, output: Path) -> None:
    result = subprocess.run(encrypt_command(home, recipients, output), input=data,
                            capture_output=True, check=False)
    if result.returncode != 0:
        output.unlink(missing_ok=True)
        raise DecryptionFailed(f"gpg could not encrypt: {result.stderr.decode(errors='replace')}")


def reencrypt_file(source: Path, home: Path, recipients: list[str], output: Path) -> str:
    """Decrypt with the editor's own key and encrypt anew; return the plaintext's SHA-256.

    The plaintext passes from one gpg to the other through this process's
    memory, a chunk at a time, and is hashed on the way: it is never written.
    """
    decrypt = subprocess.Popen(["gpg", "--batch", "--status-fd", "2", "--decrypt", str(source)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    encrypt = subprocess.Popen(encrypt_command(home, recipients, output), stdin=subprocess.PIPE,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    errors: dict[str, bytes] = {}

    def drain(name: str, stream: Any) -> None:
        errors[name] = stream.read()

    threads = [threading.Thread(target=drain, args=("decrypt", decrypt.stderr)),
               threading.Thread(target=drain, args=("encrypt", encrypt.stderr))]
    for thread in threads:
        thread.start()
    digest = hashlib.sha256()
    plaintext, sink = cast(BinaryIO, decrypt.stdout), cast(BinaryIO, encrypt.stdin)
    try:
        while chunk := plaintext.read(64 * 1024):
            digest.update(chunk)
            sink.write(chunk)
    except BrokenPipeError:
        pass
    finally:
        with suppress(BrokenPipeError):
            sink.close()
    decrypt.wait()
    encrypt.wait()
    for thread in threads:
        thread.join()
    status = errors.get("decrypt", b"").decode(errors="replace")
    if ("[GNUPG:] DECRYPTION_OKAY" not in status or "[GNUPG:] DECRYPTION_FAILED" in status
            or "[GNUPG:] BADMDC" in status or encrypt.returncode != 0):
        output.unlink(missing_ok=True)
        raise DecryptionFailed("could not re-encrypt (is this submission readable with your key?)")
    return digest.hexdigest()
