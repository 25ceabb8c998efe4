"""Proof on a real init: Debian 13 boots with systemd as PID 1 and Penname is installed on it.

systemd-nspawn boots a debootstrapped trixie tree (cached under
/var/cache/penname-test, so reruns take minutes) in its own network namespace;
deploy/install runs inside as root, then the journey: a second install changes
nothing, both onion services exist, an author submits through nginx (with the
PROXY line tor sends), a backup is written, and the editor decrypts the
submission with a private key that never entered the machine.

Not part of `make test` (marker `system`, deselected by default). CI runs it as
root: `.venv/bin/pytest -m system tests/system`. Needs the Debian packages
systemd-container and debootstrap, and the Debian mirror and PyPI once (to fill
the cache: the tree, the .deb files, the wheels); after that it runs offline.

Host quirks (docs: /work/shared, none of them the project's): the host may not
run systemd itself (--register=no --keep-unit), /run may not be a tmpfs (one is
mounted on /run/systemd/nspawn) and cgroups may be the v1 hybrid
(SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=0).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gpgkeys import EditorKeypair

pytestmark = [pytest.mark.system, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("PENNAME_TEST_CACHE", "/var/cache/penname-test"))
SUITE = "trixie"
MIRROR = "http://deb.debian.org/debian"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def sh(*argv: str, timeout: int = 900, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, text=True, capture_output=True, timeout=timeout, check=True,
                          **kwargs)  # type: ignore[call-overload]


def core_packages() -> list[str]:
    """The installer's packages without the safe-copy ones (the boot test skips those)."""
    everything = sh(str(ROOT / "deploy" / "install"), "--print-packages").stdout.split()
    return everything[:everything.index("libreoffice-core-nogui")]


def ready_tree() -> Path:
    """trixie with systemd, its package lists and the installer's .deb files downloaded."""
    tree = CACHE / f"{SUITE}-ready"
    if tree.exists():
        return tree
    CACHE.mkdir(parents=True, exist_ok=True)
    work = CACHE / f"{SUITE}-ready.tmp"
    shutil.rmtree(work, ignore_errors=True)
    sh("debootstrap", "--variant=minbase", "--include=systemd,systemd-sysv,dbus,ca-certificates",
       SUITE, str(work), MIRROR, timeout=1200)
    shutil.copy("/etc/resolv.conf", work / "etc" / "resolv.conf")
    sh("chroot", str(work), "sh", "-c",
       "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --download-only "
       "--no-install-recommends " + " ".join(core_packages()), timeout=1200)
    work.rename(tree)
    return tree


def wheelhouse() -> Path:
    """The server's Python dependencies (the machine has no network): the locked files."""
    lock = ROOT / "requirements" / "server.lock"
    if lock.exists():
        digest = hashlib.sha256(lock.read_bytes()).hexdigest()[:12]
        wheels = CACHE / f"wheels-{digest}"
        if not wheels.exists():
            sh(sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--require-hashes",
               "-r", str(lock), "-d", f"{wheels}.tmp", timeout=1200)
            Path(f"{wheels}.tmp").rename(wheels)
        return wheels
    wheels = CACHE / "wheels"
    if not any(wheels.glob("Django-*.whl")) and not any(wheels.glob("django-*.whl")):
        wheels.mkdir(parents=True, exist_ok=True)
        sh(sys.executable, "-m", "pip", "wheel", "--quiet", "-w", str(wheels), f"{ROOT}[server]",
           timeout=1200)
    if not any(wheels.glob("setuptools-*.whl")):  # to build the portal's own wheel
        sh(sys.executable, "-m", "pip", "download", "--quiet", "-d", str(wheels), "setuptools",
           "wheel", timeout=600)
    for own in wheels.glob("penname-*.whl"):
        own.unlink()
    return wheels


def ancestors(pid: int) -> list[int]:
    chain = []
    while pid > 1:
        stat = Path(f"/proc/{pid}/stat").read_text()
        pid = int(stat.rsplit(")", 1)[1].split()[1])
        chain.append(pid)
    return chain


class Machine:
    """A booted container: systemd is PID 1 inside; commands enter its namespaces."""

    def __init__(self, tree: Path, name: str, source: Path, wheels: Path, newer: Path,
                 broken: Path) -> None:
        self.tree, self.name = tree, name
        env = {**os.environ, "SYSTEMD_NSPAWN_UNIFIED_HIERARCHY": "0"}
        self.process = subprocess.Popen(
            ["systemd-nspawn", "--quiet", "-D", str(tree), "-M", name, "--register=no",
             "--keep-unit", "--private-network", "-b", "--console=read-only",
             f"--bind-ro={source}:/opt/penname/src", f"--bind-ro={newer}:/opt/penname/src-next",
             f"--bind-ro={broken}:/opt/penname/src-broken",
             f"--bind-ro={wheels}:/wheels"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            self.leader = self._find_leader()
            self.run("systemctl is-system-running --wait || true", timeout=300)
        except BaseException:
            self.stop()
            raise

    def _find_leader(self) -> int:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"systemd-nspawn stopped: {self.process.stdout.read()}")  # type: ignore[union-attr]
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    if (entry / "comm").read_text().strip() == "systemd" and \
                            self.process.pid in ancestors(int(entry.name)):
                        return int(entry.name)
                except OSError:
                    continue
            time.sleep(0.5)
        raise AssertionError("the container's systemd did not appear")

    def enter(self, *namespaces: str) -> list[str]:
        return ["nsenter", "-t", str(self.leader), *namespaces]

    def run(self, script: str, *, input: str | None = None, timeout: int = 600,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [*self.enter("-m", "-u", "-i", "-n", "-p", "-r", "-w"), "/usr/bin/env", "-i",
                f"PATH={PATH}", "HOME=/root", "LANG=C.UTF-8", "PIP_NO_INDEX=1",
                "PIP_FIND_LINKS=/wheels", "/bin/bash", "-c", script]
        result = subprocess.run(argv, input=input, text=True, capture_output=True, timeout=timeout,
                                check=False)
        if check and result.returncode != 0:
            journal = subprocess.run([*argv[:-1], "journalctl -b --no-pager -n 80 -p warning"],
                                     text=True, capture_output=True, check=False).stdout
            raise AssertionError(f"`{script}` failed ({result.returncode}):\n{result.stdout[-4000:]}"
                                 f"\n{result.stderr[-4000:]}\njournal:\n{journal}")
        return result

    def python_in_its_network(self, code: str, timeout: int = 600) -> str:
        """This host's Python (with the test helpers) inside the machine's network namespace."""
        result = subprocess.run([*self.enter("-n"), sys.executable, "-c", code], cwd=ROOT,
                                text=True, capture_output=True, timeout=timeout, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def file(self, path: str) -> bytes:
        return (self.tree / path.lstrip("/")).read_bytes()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # nspawn asks the container's systemd to power off
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def nspawn_ready() -> Iterator[None]:
    if os.geteuid() != 0:
        pytest.fail("the boot test needs root (systemd-nspawn, debootstrap)")
    for program, package in (("debootstrap", "debootstrap"), ("systemd-nspawn", "systemd-container"),
                             ("nsenter", "util-linux")):
        if shutil.which(program) is None:
            pytest.fail(f"{program} is missing: apt-get install {package}")
    target = Path("/run/systemd/nspawn")
    target.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mountpoint", "-q", str(target)], check=False).returncode == 0
    if not mounted:
        sh("mount", "-t", "tmpfs", "tmpfs", str(target))
    yield
    if not mounted:
        subprocess.run(["umount", str(target)], check=False)


@pytest.fixture
def machine_factory(nspawn_ready: None, tmp_path: Path) -> Iterator[callable]:  # type: ignore[valid-type]
    tree, wheels = ready_tree(), wheelhouse()
    machines: list[Machine] = []
    # The checkout as committed (no .venv, no local files), with this test's version of it.
    source = tmp_path / "src"
    # PENNAME_TEST_SOURCE: another checkout to install (e.g. one with a change under trial).
    origin = Path(os.environ.get("PENNAME_TEST_SOURCE", ROOT))
    sh("git", "clone", "--quiet", "--no-hardlinks", str(origin), str(source))
    sh("git", "-C", str(source), "checkout", "--quiet", sh("git", "-C", str(origin), "rev-parse",
                                                          "HEAD").stdout.strip())

    def make(name: str) -> Machine:
        copy = tmp_path / name
        sh("cp", "-a", "--reflink=auto", str(tree), str(copy), timeout=600)
        machine = Machine(copy, f"penname-{name}-{os.getpid()}", source, wheels,
                          make.newer, make.broken)  # type: ignore[attr-defined]
        machines.append(machine)
        return machine

    make.source = source  # type: ignore[attr-defined]
    make.newer = newer_build(source, tmp_path / "src-next")  # type: ignore[attr-defined]
    # A release whose migration fails half-way: the upgrade must roll back.
    make.broken = newer_build(source, tmp_path / "src-broken",  # type: ignore[attr-defined]
                              ("CREATE TABLE penname_half_done (id integer)",
                               "SELECT no_such_thing"))
    yield make
    for machine in machines:
        machine.stop()
        shutil.rmtree(machine.tree, ignore_errors=True)


def newer_build(source: Path, target: Path,
                sql: tuple[str, ...] = ("CREATE TABLE penname_upgrade_probe (id integer)",)) -> Path:
    """A throwaway commit on a copy of the source: a release that adds a migration."""
    from django.apps import apps
    from django.db.migrations.loader import MigrationLoader

    label = apps.get_containing_app_config("portal.submissions").label  # type: ignore[union-attr]
    leaf = next(name for app, name in MigrationLoader(None, ignore_no_migrations=True)
                .graph.leaf_nodes() if app == label)
    sh("git", "clone", "--quiet", "--no-hardlinks", str(source), str(target))
    number = int(leaf.split("_")[0]) + 1
    (target / "portal" / "submissions" / "migrations" / f"{number:04d}_upgrade_probe.py").write_text(
        textwrap.dedent(f"""\
            from django.db import migrations


            class Migration(migrations.Migration):
                atomic = False  # each statement commits: a failure leaves the first one done
                dependencies = [("{label}", "{leaf}")]
                operations = [{", ".join(f"migrations.RunSQL({s!r})" for s in sql)}]
            """))
    sh("git", "-C", str(target), "add", "-A")
    sh("git", "-C", str(target), "-c", "user.name=Test", "-c", "user.email=test@penname.invalid",
       "commit", "--quiet", "-m", "a release with a migration")
    return target


AUTHOR_SCRIPT = """
import http.client, io, socket, sys, urllib.parse
from tests.httpauthor import HttpAuthor
from tests.torrelay import CircuitRelay
onion = sys.argv[1] if len(sys.argv) > 1 else {onion!r}
relay = CircuitRelay(8080)  # adds the PROXY line, as tor does for the authors' service
port = relay.port(7)
real = socket.create_connection
def to_relay(address, *args, **kwargs):
    host, _ = address
    return real(("127.0.0.1", port) if host == onion else address, *args, **kwargs)
http.client.socket.create_connection = to_relay
author = HttpAuthor(f"http://{{onion}}")
{body}
relay.close()
"""


def as_author(machine: Machine, onion: str, body: str) -> str:
    return machine.python_in_its_network(AUTHOR_SCRIPT.format(onion=onion, body=textwrap.dedent(body)))


def test_install_submit_backup_on_systemd(machine_factory, editor_keypair: EditorKeypair,
                                          keys_root: Path) -> None:
    started = time.monotonic()
    server = machine_factory("server")
    assert server.run("readlink /proc/1/exe").stdout.strip().endswith("systemd")

    # --- install, and a second run that changes nothing
    first = server.run("/opt/penname/src/deploy/install --no-safe-copies", timeout=1500)
    assert "Penname is installed and running" in first.stdout, first.stdout
    marker = server.run("touch /root/second-run; systemctl show -p MainPID --value penname.service")
    second = server.run("/opt/penname/src/deploy/install --no-safe-copies", timeout=600)
    assert "changed:" not in second.stdout, second.stdout
    assert "nothing needed to change" in second.stdout
    touched = server.run("find /etc /opt/penname /usr/local/sbin /var/lib/tor/penname-editors "
                         "-newer /root/second-run -not -type d").stdout
    assert touched == "", touched
    assert server.run("systemctl show -p MainPID --value penname.service").stdout == marker.stdout

    # --- the services, on a real init
    for unit in ("penname.service", "penname-editors.service", "penname.socket", "nginx.service",
                 "tor@default.service", "redis-server.service", "postgresql.service",
                 "penname-purge.timer"):
        assert server.run(f"systemctl is-active {unit}").stdout.strip() == "active", unit
    hosts = {service: server.file(f"/var/lib/tor/penname-{service}/hostname").decode().strip()
             for service in ("authors", "editors")}
    assert all(host.endswith(".onion") and len(host) == 62 for host in hosts.values())
    env = server.file("/etc/penname/penname.env").decode()
    assert f"PORTAL_ALLOWED_HOSTS={hosts['authors']},{hosts['editors']}" in env
    assert server.run("ls /var/lib/tor/penname-editors/authorized_clients").stdout.split() == \
        ["admin.auth"]
    assert server.run("stat -c '%a %U:%G' /etc/penname/secret_key").stdout.strip() == "640 root:penname"
    # Redis: memory only, no TCP port; the SOCKS port torsocks needs, on loopback only.
    assert server.run("redis-cli -s /run/redis/redis-server.sock config get save").stdout.split() \
        == ["save"]
    assert server.run("redis-cli -h 127.0.0.1 ping", check=False).returncode != 0
    assert "127.0.0.1:9050" in server.run("ss -ltnH").stdout
    # Translations are built in: a Chinese page is Chinese.
    page = server.run(f"curl -s --haproxy-protocol -H 'Host: {hosts['authors']}' "
                      "-H 'Accept-Language: zh-Hans' http://127.0.0.1:8080/").stdout
    assert re.search("[\u4e00-\u9fff]", page), page[:2000]

    # --- the human parts: keys from stdin (kept under /root, mode 0700)
    (Path(server.tree) / "root" / "editor.asc").write_text(editor_keypair.public)
    admin = keys_root / "admin"
    from tests.gpgkeys import make_keypair
    admin_keypair = make_keypair(admin, "Admin <admin@penname.invalid>")
    (Path(server.tree) / "root" / "admin.asc").write_text(admin_keypair.public)
    server.run("chmod 0700 /root && chmod 0600 /root/*.asc")
    editor = server.run("penname setup --editor alice --editor-key - < /root/editor.asc")
    assert "otpauth://" in editor.stdout and "█" in editor.stdout, editor.stdout
    backup_key = server.run("penname setup --admin-key - < /root/admin.asc")
    assert admin_keypair.fingerprint in server.file("/etc/penname/penname.env").decode(), \
        backup_key.stdout
    assert server.run("systemctl is-enabled penname-backup.timer").stdout.strip() == "enabled"
    health = server.run(f"curl -s --haproxy-protocol -H 'Host: {hosts['authors']}' "
                        "http://127.0.0.1:8080/health/").stdout.strip()
    assert health == "ok"

    # --- an author submits through nginx
    codename = as_author(server, hosts["authors"], """
        codename = author.new_author()
        text = "Snow on the border, a draft.\\n".encode() * 40
        status, review = author.upload("Border", [("border.txt", io.BytesIO(text), len(text))])
        assert status == 200 and 'id="confirm"' in review, (status, review[:2000])
        status, url, page = author.confirm(review)
        assert status == 200 and "Received" in page, page[:2000]
        print(codename, urllib.parse.urlsplit(url).path.rstrip("/").split("/")[-1])
    """).strip().rsplit(" ", 1)
    codename, public_id = codename
    assert codename and public_id

    # --- the nightly backup, started as its timer would
    server.run("systemctl start penname-backup.service", timeout=600)
    archives = server.run("ls /var/backups/penname").stdout.split()
    assert len(archives) >= 2 and all(name.endswith(".tar.gpg") for name in archives), archives
    admin_keypair_result = admin_keypair.gpg(
        "--decrypt", str(server.tree / "var/backups/penname" / sorted(archives)[-1]))
    assert admin_keypair_result.returncode == 0, admin_keypair_result.stderr

    # --- the editor decrypts the submission on their own machine
    blobs = [path for path in (server.tree / "var/lib/penname/store").rglob("*") if path.is_file()]
    texts = []
    for blob in blobs:
        result = editor_keypair.gpg("--decrypt", str(blob))
        if result.returncode == 0:
            texts.append(result.stdout)
    assert any(b"Snow on the border" in text for text in texts), [blob.name for blob in blobs]

    # The author comes back with their codename.
    as_author(server, hosts["authors"], f"""
        status, url, page = author.login({codename!r})
        assert status == 200 and "/author/" in url, (status, url)
        assert {public_id[:8]!r} in page, page[:2000]
    """)
    # --- a release whose migration fails: the upgrade puts everything back and says so
    build_before = server.file("/opt/penname/venv/.penname-build")
    failed = server.run("/opt/penname/src-broken/deploy/upgrade --no-safe-copies", timeout=1500,
                        check=False)
    assert failed.returncode != 0
    said = failed.stdout + failed.stderr
    assert "checked:" in said and "The upgrade failed" in said, said[-3000:]
    assert "The database is as it was before the upgrade" in said
    assert "The portal runs the previous code again" in said
    assert server.file("/opt/penname/venv/.penname-build") == build_before
    tables = server.run("runuser -u postgres -- psql -tAc '\\dt' penname").stdout
    assert "penname_half_done" not in tables and "penname_before_upgrade" not in \
        server.run("runuser -u postgres -- psql -tAl").stdout
    assert server.run(f"curl -s --haproxy-protocol -H 'Host: {hosts['authors']}' "
                      "http://127.0.0.1:8080/health/").stdout.strip() == "ok"

    # --- upgrade to a release with a migration: backup with the old code first
    upgrade = server.run("/opt/penname/src-next/deploy/upgrade --no-safe-copies", timeout=1500)
    assert "checked:" in upgrade.stdout and "Upgraded to" in upgrade.stdout, upgrade.stdout
    assert upgrade.stdout.index("checked:") < upgrade.stdout.index("Upgraded to")
    assert "upgrade_probe" in server.run("penname showmigrations").stdout
    assert next(line for line in server.run("penname showmigrations").stdout.splitlines()
                if "upgrade_probe" in line).split()[0] == "[X]"
    assert server.run(f"curl -s --haproxy-protocol -H 'Host: {hosts['authors']}' "
                      "http://127.0.0.1:8080/health/").stdout.strip() == "ok"
    server.run("systemctl start penname-backup.service", timeout=600)
    newest = sorted(server.run("ls /var/backups/penname").stdout.split())[-1]
    archive = server.file(f"/var/backups/penname/{newest}")
    server.stop()

    # --- restore into a fresh machine, installed from the newer release
    fresh = machine_factory("fresh")
    fresh.run("/opt/penname/src-next/deploy/install --no-safe-copies", timeout=1500)
    (fresh.tree / "var/backups/penname" / newest).write_bytes(archive)
    (fresh.tree / "root" / "admin-secret.asc").write_bytes(
        admin_keypair.gpg("--armor", "--export-secret-keys", admin_keypair.fingerprint).stdout)
    fresh.run(f"""
        chown penname: /var/backups/penname/{newest}
        install -d -o penname -g penname -m 0700 /var/lib/penname/restore-gnupg
        runuser -u penname -- gpg --homedir /var/lib/penname/restore-gnupg --batch \\
            --import < /root/admin-secret.asc
        GNUPGHOME=/var/lib/penname/restore-gnupg penname restore /var/backups/penname/{newest}
        runuser -u penname -- gpgconf --homedir /var/lib/penname/restore-gnupg --kill all
        rm -rf /var/lib/penname/restore-gnupg /root/admin-secret.asc
        systemctl restart penname.service penname-editors.service
    """, timeout=900)
    fresh_authors = fresh.file("/var/lib/tor/penname-authors/hostname").decode().strip()
    # The author logs in with the old codename; the editor decrypts what was restored.
    as_author(fresh, fresh_authors, f"""
        status, url, page = author.login({codename!r})
        assert status == 200 and "/author/" in url, (status, url)
        assert {public_id[:8]!r} in page, page[:2000]
    """)
    restored = [path for path in (fresh.tree / "var/lib/penname/store").rglob("*") if path.is_file()]
    assert any(b"Snow on the border" in editor_keypair.gpg("--decrypt", str(blob)).stdout
               for blob in restored)
    assert time.monotonic() - started < 40 * 60
