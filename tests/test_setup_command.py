"""`portal setup`: keys from standard input, onion client keys, hosts from tor's files."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def stdin(text: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(text.encode()))


def installed_layout(root: Path) -> tuple[Path, Path]:
    """An /etc/penname/penname.env and a /var/lib/tor as deploy/install leaves them."""
    env = root / "penname.env"
    env.write_text((Path(__file__).parents[1] / "deploy" / "penname.env.example").read_text())
    env.chmod(0o640)
    tor = root / "tor"
    for service, letter in (("penname-authors", "a"), ("penname-editors", "e")):
        (tor / service).mkdir(parents=True, mode=0o700)
        (tor / service / "hostname").write_text(letter * 56 + ".onion\n")
    (tor / "penname-editors" / "authorized_clients").mkdir(mode=0o700)
    return env, tor


@pytest.fixture
def server(tmp_path: Path) -> dict[str, str]:
    env, tor = installed_layout(tmp_path)
    return {"env": str(env), "tor": str(tor)}


def setup(server: dict[str, str], *args: str) -> str:
    out = io.StringIO()
    call_command("setup", "--env-file", server["env"], "--tor-dir", server["tor"], *args, stdout=out)
    return out.getvalue()


def test_the_first_editor_comes_from_stdin_with_a_qr_code(server, data_dir, editor_keypair,
                                                          monkeypatch):
    from django.contrib.auth import get_user_model

    monkeypatch.setattr("sys.stdin", stdin(editor_keypair.public))
    out = setup(server, "--editor", "alice", "--editor-key", "-")
    assert "otpauth://totp/" in out and "password:" in out
    assert "█" in out  # the QR code, drawn in the terminal
    assert get_user_model().objects.get(username="alice").editor.role == "managing"


def test_a_key_that_is_not_a_public_key_is_refused(server, data_dir, monkeypatch):
    monkeypatch.setattr("sys.stdin", stdin("-----BEGIN PGP PRIVATE KEY BLOCK-----\n..."))
    with pytest.raises(CommandError, match="no OpenPGP public key"):
        setup(server, "--editor", "alice", "--editor-key", "-")
    with pytest.raises(CommandError, match="only one key"):
        setup(server, "--editor", "alice", "--editor-key", "-", "--admin-key", "-")


def test_the_admin_key_makes_a_first_backup_and_names_itself_for_the_nightly_one(
        server, data_dir, outsider_keypair, monkeypatch, tmp_path):
    monkeypatch.setattr("portal.operations.management.commands.setup.BACKUPS", str(tmp_path / "b"))
    (tmp_path / "b").mkdir()
    monkeypatch.setattr("sys.stdin", stdin(outsider_keypair.public))
    setup(server, "--admin-key", "-")
    assert f"PORTAL_BACKUP_KEY={outsider_keypair.fingerprint}\n" in Path(server["env"]).read_text()
    assert list((tmp_path / "b").glob("*.tar.gpg"))
    assert os.stat(server["env"]).st_mode & 0o777 == 0o640


def test_hosts_come_from_tors_hostname_files(server, data_dir):
    setup(server, "--hosts")
    env = Path(server["env"]).read_text()
    assert f"PORTAL_ALLOWED_HOSTS={'a' * 56}.onion,{'e' * 56}.onion\n" in env
    assert "authorsxxx" not in env


def test_an_editors_onion_client_key_is_written_for_tor(server, data_dir):
    key = "A" * 52
    setup(server, "--onion-client", f"alice={key}")
    path = Path(server["tor"]) / "penname-editors" / "authorized_clients" / "alice.auth"
    assert path.read_text() == f"descriptor:x25519:{key}\n"
    assert path.stat().st_mode & 0o777 == 0o600
    for bad in ("alice=short", "../x=" + key, "alice=" + "a" * 52):
        with pytest.raises(CommandError):
            setup(server, "--onion-client", bad)
