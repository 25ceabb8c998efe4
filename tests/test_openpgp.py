"""The OpenPGP wrapper: only usable public keys, only ciphertext, hidden recipients."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from portal.crypto.openpgp import EncryptionFailed, GpgUnavailable, Keyring, KeyUnusable


def test_usable_key_is_imported_with_full_fingerprint(tmp_path: Path, editor_keypair):
    ring = Keyring(tmp_path / "ring")
    info = ring.import_public_key(editor_keypair.public)
    assert info.fingerprint == editor_keypair.fingerprint and len(info.fingerprint) == 40
    assert info.usable and info.algorithm == "ECDH cv25519"


@pytest.mark.parametrize("fixture, reason", [
    ("expired_keypair", "expired"),
    ("weak_rsa_keypair", "2048 bits"),
    ("sign_only_keypair", "no subkey that can encrypt"),
])
def test_unusable_keys_are_refused_with_a_reason(tmp_path: Path, request, fixture, reason):
    pair = request.getfixturevalue(fixture)
    ring = Keyring(tmp_path / "ring")
    with pytest.raises(KeyUnusable, match=reason):
        ring.import_public_key(pair.public)
    assert not ring.key_info(pair.fingerprint).usable  # and it was not left in the keyring


def test_revoked_key_is_refused(tmp_path: Path, revoked_public_key):
    with pytest.raises(KeyUnusable, match="revoked"):
        Keyring(tmp_path / "ring").import_public_key(revoked_public_key)


def test_private_keys_are_never_imported(tmp_path: Path, editor_keypair):
    secret = editor_keypair.gpg("--armor", "--export-secret-keys").stdout
    ring = Keyring(tmp_path / "ring")
    with pytest.raises(KeyUnusable, match="private key"):
        ring.import_public_key(secret)
    listing = ring._gpg.list_keys(secret=True)
    assert len(listing) == 0
    assert not (tmp_path / "ring" / "private-keys-v1.d").exists() or not any(
        (tmp_path / "ring" / "private-keys-v1.d").iterdir()
    )


def test_garbage_and_several_keys_are_refused(tmp_path: Path, editor_keypair, outsider_keypair):
    ring = Keyring(tmp_path / "ring")
    with pytest.raises(KeyUnusable):
        ring.import_public_key("not a key")
    with pytest.raises(KeyUnusable, match="2 keys"):
        ring.import_public_key(editor_keypair.public + outsider_keypair.public)
    with pytest.raises(KeyUnusable, match="larger"):
        ring.import_public_key("x" * (600 * 1024))


def test_stream_encrypts_to_exact_bytes(tmp_path: Path, editor_keypair):
    ring = Keyring(tmp_path / "ring")
    ring.import_public_key(editor_keypair.public)
    data = bytes(range(256)) * 5000
    ring.encrypt_stream(io.BytesIO(data), tmp_path / "out.gpg", [editor_keypair.fingerprint])
    assert editor_keypair.decrypt(tmp_path / "out.gpg") == data
    assert data[:1000] not in (tmp_path / "out.gpg").read_bytes()


def test_failed_encryption_leaves_no_output(tmp_path: Path, editor_keypair, outsider_keypair):
    ring = Keyring(tmp_path / "ring")
    ring.import_public_key(editor_keypair.public)
    with pytest.raises(EncryptionFailed):
        ring.encrypt_stream(io.BytesIO(b"x"), tmp_path / "out.gpg", [outsider_keypair.fingerprint])
    assert not (tmp_path / "out.gpg").exists()
    with pytest.raises(EncryptionFailed):
        ring.encrypt_stream(io.BytesIO(b"x"), tmp_path / "out.gpg", [])


def test_missing_gpg_is_a_clear_error(tmp_path: Path):
    with pytest.raises(GpgUnavailable):
        Keyring(tmp_path / "ring", gpg_binary="/nonexistent/gpg")
