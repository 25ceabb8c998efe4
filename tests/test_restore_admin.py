"""`portal restore` as a real admin does it: a passphrase-protected key, a file only root can read.

The admin's private key has a passphrase (keys/README.md asks for one):
`portal restore` asks for it on the terminal (a real pseudo-terminal here)
and gives it to gpg through a pipe, never on a command line or in the
environment. The archive comes on standard input, opened by the admin's own
shell, because the service user cannot read /root. The admin keyring comes
back with the data, so the restored server's nightly backup works. Every
failure is a sentence, never a traceback. Archives made before admin keys
were kept (format 1) still restore.
"""

from __future__ import annotations

import io
import json
import os
import pty
import select
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from tests.gpgkeys import EditorKeypair, fingerprint_in
from tests.liveserver import BIN, LiveServer, server_database, server_env

pytestmark = pytest.mark.slow
PASSPHRASE = "correct horse battery staple 7"
# Root without the power to ignore file modes: reads no more than the service user would.
WITHOUT_OVERRIDE = ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
                    "--bounding-set=-dac_override,-dac_read_search"]


@pytest.fixture(scope="module")
def protected_admin(tmp_path_factory) -> EditorKeypair:
    """The admin's key, with a passphrase, as keys/README.md asks."""
    home = tmp_path_factory.mktemp("admin-protected")
    home.chmod(0o700)
    base = ["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback",
            "--passphrase", PASSPHRASE]
    subprocess.run([*base, "--quick-gen-key", "Admin <admin@penname.invalid>", "ed25519",
                    "cert,sign", "2y"], capture_output=True, check=True, timeout=120)
    fingerprint = fingerprint_in(home)
    subprocess.run([*base, "--quick-add-key", fingerprint, "cv25519", "encr", "2y"],
                   capture_output=True, check=True, timeout=120)
    public = subprocess.run(["gpg", "--homedir", str(home), "--armor", "--export", fingerprint],
                            capture_output=True, text=True, check=True).stdout
    yield EditorKeypair(home, fingerprint, public)
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)


def forget_passphrase(home: Path) -> None:
    """gpg-agent caches a passphrase once given; each restore starts as a new session would."""
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], check=False)


def run_at_terminal(argv: list[str], env: dict[str, str], stdin: object,
                    typed: str | None) -> tuple[int, str, str]:
    """Run `argv` with a pseudo-terminal as its controlling terminal; type `typed` at its prompt.

    Returns (exit code, stdout and stderr, what the terminal showed).
    """
    master, slave = pty.openpty()
    slave_name = os.ttyname(slave)

    def take_the_terminal() -> None:
        os.setsid()  # a new session: the first terminal it opens becomes its controlling one
        os.close(os.open(slave_name, os.O_RDWR))

    process = subprocess.Popen(argv, env=env, stdin=stdin, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, preexec_fn=take_the_terminal)
    shown = b""
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            shown += os.read(master, 4096)
            if typed is not None and b"Passphrase" in shown:
                os.write(master, typed.encode() + b"\n")
                typed = None
    if process.poll() is None:
        process.kill()
    output = process.communicate(timeout=300)[0].decode()
    os.close(slave)  # kept open until now, so reading the terminal never fails in between
    os.close(master)
    return process.returncode, output, shown.decode(errors="replace")


@pytest.fixture(scope="module")
def old_server(tmp_path_factory, editor_keypair, protected_admin, outsider_keypair):
    """A set-up server, backed up to the protected admin key and to an unprotected one."""
    root = tmp_path_factory.mktemp("old")
    with server_database(root / "data") as database_url:
        (root / "data").mkdir()
        server = LiveServer(root / "data", database_url, server_env(root / "data", database_url))
        server.set_up(editor_keypair.public)
        # The admin's files live where only root may go (/root is 0700).
        private = root / "root"
        private.mkdir(mode=0o700)
        for name, pair in (("admin.asc", protected_admin), ("unprotected.asc", outsider_keypair)):
            (private / name).write_text(pair.public)
        server.portal("backup", "--key", str(private / "admin.asc"),
                      str(private / "penname.tar.gpg"))
        server.portal("backup", "--key", str(private / "unprotected.asc"),
                      str(private / "unprotected.tar.gpg"))
        yield server, private


def fresh(root: Path, gnupg: Path) -> tuple[LiveServer, dict[str, str]]:
    data = root / "data"
    data.mkdir(parents=True)
    database_url = f"sqlite:///{data / 'portal.sqlite3'}"
    env = server_env(data, database_url, {"GNUPGHOME": str(gnupg)})
    return LiveServer(data, database_url, env), env


def test_restore_asks_for_the_passphrase_reads_stdin_and_brings_back_the_admin_key(
        old_server, protected_admin, tmp_path):
    _, private = old_server
    archive = private / "penname.tar.gpg"
    new, env = fresh(tmp_path, protected_admin.home)
    portal = str(BIN / "portal")

    # A wrong passphrase: a sentence, nothing restored (the real restore below still works).
    forget_passphrase(protected_admin.home)
    with open(archive, "rb") as stdin:
        code, output, shown = run_at_terminal([portal, "restore", "-"], env, stdin, "wrong")
    assert code == 1 and "Passphrase of the admin key" in shown
    assert "CommandError: the passphrase is wrong" in output and "nothing was restored" in output
    assert "Traceback" not in output

    # No terminal to ask on (a cron job, a pipe): a sentence, not a hang or a traceback.
    forget_passphrase(protected_admin.home)
    with open(archive, "rb") as stdin:
        result = subprocess.run([portal, "restore", "-"], env=env, stdin=stdin,
                                capture_output=True, text=True, timeout=300,
                                start_new_session=True, check=False)
    assert result.returncode == 1
    assert "there is no terminal to ask for it on" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr

    # The admin's way: the shell opens the file, the command asks for the passphrase.
    forget_passphrase(protected_admin.home)
    with open(archive, "rb") as stdin:
        code, output, shown = run_at_terminal([portal, "restore", "-"], env, stdin, PASSPHRASE)
    assert code == 0, output
    assert PASSPHRASE not in shown  # not echoed
    assert f"restored the admin key {protected_admin.fingerprint}" in output
    # The passphrase went through a pipe: no process ever had it in its arguments.
    assert PASSPHRASE not in output

    # The restored server's nightly backup works, to the restored admin key.
    backups = tmp_path / "backups"
    backups.mkdir()
    written = new.portal("backup", "--key", protected_admin.fingerprint, str(backups))
    assert f"encrypted to {protected_admin.fingerprint}" in written
    status = new.portal("shell", "--no-imports", "-c",
                        "from portal import jobs; print(jobs.job_results()['backup'].succeeded)")
    assert status.strip() == "True"


def test_an_unreadable_or_missing_archive_is_a_sentence(old_server, outsider_keypair,
                                                        second_editor_keypair, tmp_path):
    _, private = old_server
    new, env = fresh(tmp_path, outsider_keypair.home)
    archive = private / "unprotected.tar.gpg"
    locked = tmp_path / "locked.tar.gpg"
    locked.write_bytes(archive.read_bytes())
    locked.chmod(0)
    # As the service user, who cannot read it (root without the power to ignore file modes).
    result = subprocess.run([*WITHOUT_OVERRIDE, str(BIN / "portal"), "restore", str(locked)],
                            env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 1
    assert f"{locked} cannot be read by the user" in result.stderr
    assert f"penname restore - < {locked}" in result.stderr
    assert "Traceback" not in result.stderr
    with pytest.raises(RuntimeError, match=r"there is no file .*nowhere\.tar\.gpg"):
        new.portal("restore", str(tmp_path / "nowhere.tar.gpg"))
    with pytest.raises(RuntimeError, match="is a directory; give the penname"):
        new.portal("restore", str(tmp_path))
    # A private key that does not match: says which GnuPG home to fix.
    stranger, _ = fresh(tmp_path / "s", second_editor_keypair.home)
    with pytest.raises(RuntimeError, match="whose private key is not in"):
        stranger.portal("restore", str(archive))


def test_a_backup_made_before_admin_keys_were_kept_still_restores(old_server, outsider_keypair,
                                                                   tmp_path):
    """Format 1 (no admin/ members): restored, with a note to import the admin key."""
    _, private = old_server
    plain = outsider_keypair.decrypt(private / "unprotected.tar.gpg")
    old = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(plain)) as source, \
            tarfile.open(fileobj=old, mode="w", format=tarfile.PAX_FORMAT) as target:
        for member in source.getmembers():
            if member.name.startswith("admin/"):
                continue
            data = source.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "meta.json":
                data = json.dumps({**json.loads(data), "format": 1}).encode()
                member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    sealed = outsider_keypair.gpg("--encrypt", "--trust-model", "always", "-r",
                                  outsider_keypair.fingerprint, input=old.getvalue()).stdout
    archive = tmp_path / "format1.tar.gpg"
    archive.write_bytes(sealed)
    new, _ = fresh(tmp_path / "new", outsider_keypair.home)
    said = new.portal("restore", str(archive))
    assert "restored" in said and "restored the admin key" not in said
    assert "note: this backup was made before backups kept the admin key" in said



def test_the_backup_key_can_come_on_standard_input(tmp_path, outsider_keypair):
    """`penname backup --key /root/admin.asc` cannot read /root as the service user: a sentence,
    and `--key - < /root/admin.asc` works."""
    new, env = fresh(tmp_path, outsider_keypair.home)
    new.portal("migrate", "--no-input")
    key = tmp_path / "admin.asc"
    key.write_text(outsider_keypair.public)
    key.chmod(0)
    portal = str(BIN / "portal")
    refused = subprocess.run([*WITHOUT_OVERRIDE, portal, "backup", "--key", str(key),
                              str(tmp_path / "one.tar.gpg")],
                             env=env, capture_output=True, text=True, timeout=300, check=False)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert f"give the key on standard input instead: --key - < {key}" in refused.stderr
    with open(key, "rb") as stdin:  # the admin's shell (root) opens it
        written = subprocess.run([*WITHOUT_OVERRIDE, portal, "backup", "--key", "-",
                                  str(tmp_path / "two.tar.gpg")], env=env, stdin=stdin,
                                 capture_output=True, text=True, timeout=300, check=False)
    assert written.returncode == 0, written.stderr
    assert f"encrypted to {outsider_keypair.fingerprint}" in written.stdout
