"""The editor's own GnuPG (GNUPGHOME respected, so smartcards work: gpg decrypts)."""

from __future__ import annotations

import os
from pathlib import Path

import gnupg


class DecryptionFailed(Exception):
    """The ciphertext did not decrypt with any of this editor's keys, or was damaged."""


class LocalGpg:
    def __init__(self, gpg_binary: str = "gpg") -> None:
        self._gpg = gnupg.GPG(gpgbinary=gpg_binary, gnupghome=os.environ.get("GNUPGHOME"))
        self._gpg.encoding = "utf-8"

    def decrypt_file(self, source: Path, output: Path) -> None:
        """Decrypt `source` into the new file `output`; on any failure `output` is removed.

        With hidden recipients and several editors gpg 2.2 may exit non-zero after
        trying someone else's session key first, so success is read from its
        status lines: DECRYPTION_OKAY and an intact integrity check.
        """
        output.unlink(missing_ok=True)
        with open(source, "rb") as handle:
            result = self._gpg.decrypt_file(handle, output=str(output))
        status = result.stderr or ""
        ok = ("[GNUPG:] DECRYPTION_OKAY" in status and "[GNUPG:] DECRYPTION_FAILED" not in status
              and "[GNUPG:] BADMDC" not in status)
        if not ok or not output.exists():
            output.unlink(missing_ok=True)
            raise DecryptionFailed("gpg could not decrypt it (damaged, truncated, or not for "
                                   "your key)")

    def import_keys(self, armored: str) -> list[str]:
        return list(self._gpg.import_keys(armored).fingerprints)

    def encrypt_file(self, source: Path, output: Path, recipients: list[str]) -> None:
        output.unlink(missing_ok=True)
        with open(source, "rb") as handle:
            result = self._gpg.encrypt_file(
                handle, recipients=recipients, armor=False, always_trust=True,
                output=str(output), extra_args=["--throw-keyids"])
        if not result.ok or not output.exists():
            output.unlink(missing_ok=True)
            raise DecryptionFailed(f"gpg could not encrypt: {result.status}")
