"""Management commands: add_editor, check_keys, purge."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command

import portal.store as store_module
from portal.submissions.models import EditorKey

pytestmark = pytest.mark.django_db


def write_key(tmp_path: Path, text: str) -> str:
    path = tmp_path / "key.asc"
    path.write_text(text)
    return str(path)


def test_add_editor_registers_key_and_prints_otpauth(tmp_path, data_dir, editor_keypair, monkeypatch):
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough passphrase 42\n"))
    out = io.StringIO()
    call_command("add_editor", "mei", "--key", write_key(tmp_path, editor_keypair.public),
                 "--password-stdin", stdout=out)
    text = out.getvalue()
    assert "otpauth://totp/" in text
    assert "password:" not in text  # it came from stdin, so it is not echoed
    user = get_user_model().objects.get(username="mei")
    assert user.check_password("a long enough passphrase 42")
    assert user.password.startswith("argon2")
    assert TOTPDevice.objects.get(user=user).confirmed
    assert EditorKey.objects.get(user=user).fingerprint == editor_keypair.fingerprint
    fpr = editor_keypair.fingerprint
    assert " ".join(fpr[i : i + 4] for i in range(0, 40, 4)) in text


def test_add_editor_refuses_an_unusable_key_and_creates_nothing(tmp_path, data_dir, weak_rsa_keypair):
    from django.contrib.auth import get_user_model

    with pytest.raises(CommandError, match="2048 bits"):
        call_command("add_editor", "weak", "--key", write_key(tmp_path, weak_rsa_keypair.public),
                     stdout=io.StringIO())
    assert not get_user_model().objects.filter(username="weak").exists()


def test_add_editor_refuses_weak_password(tmp_path, data_dir, editor_keypair, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    with pytest.raises(CommandError):
        call_command("add_editor", "x", "--key", write_key(tmp_path, editor_keypair.public),
                     "--password-stdin", stdout=io.StringIO())


def test_check_keys_passes_with_a_good_key_and_fails_without(data_dir, editor, expired_keypair):
    out = io.StringIO()
    call_command("check_keys", stdout=out)
    assert " ok" in out.getvalue()
    EditorKey.objects.create(user=editor, fingerprint=expired_keypair.fingerprint,
                             armored=expired_keypair.public, algorithm="x")
    with pytest.raises(CommandError, match="1 active key"):
        call_command("check_keys", stdout=io.StringIO())
    EditorKey.objects.all().delete()
    with pytest.raises(CommandError, match="submissions are closed"):
        call_command("check_keys", stdout=io.StringIO())


def test_check_keys_restores_the_keyring_from_the_registry(data_dir, editor):
    import shutil

    from portal.submissions.recipients import recipients

    shutil.rmtree(data_dir / "gnupg")
    call_command("check_keys", stdout=io.StringIO())
    assert len(recipients()) == 1


def test_purge_removes_stray_ciphertext_and_old_spools(data_dir, editor, monkeypatch):
    store = data_dir / "store"
    (store / ".incoming").mkdir(parents=True)
    (store / ".batch").mkdir(parents=True)
    stray = store / ("ab" * 16 + ".gpg")
    stray.write_bytes(b"x")
    waiting = store / ".batch" / ("ef" * 16 + ".gpg")
    waiting.write_bytes(b"x")
    partial = store / ".incoming" / "half"
    partial.write_bytes(b"x")
    spool = data_dir / "spool" / "uploads"
    spool.mkdir(parents=True)
    (spool / "old").write_bytes(b"x")
    old = time.time() - 7200
    os.utime(spool / "old", (old, old))
    out = io.StringIO()
    call_command("purge", stdout=out)
    # Ciphertext is judged by its change time: just written, it may belong to a
    # confirmation in progress, whatever its modification time says.
    assert stray.exists() and waiting.exists() and partial.exists()
    assert not (spool / "old").exists()
    assert "1 abandoned upload" in out.getvalue()
    # Two hours later by the store's clock, nothing refers to them: they go.
    later = time.time() + 7200
    monkeypatch.setattr(store_module, "time", SimpleNamespace(time=lambda: later))
    call_command("purge", stdout=io.StringIO())
    assert not stray.exists() and not waiting.exists() and not partial.exists()
