"""The cleaners' sandbox holds against a parser that has been taken over.

`exploited_parser.py` stands in for code run by a hostile file: the sandbox
starts it exactly as it starts the real cleaner (the same bubblewrap command,
the same worker.main or zygote.main, the same confinement), and it tries to
read the data directory, the keyring, the secret key and the server's memory,
to reach PostgreSQL, Redis, an nginx-like listener and Unix sockets, to write
files, to ptrace, to run a program, to fork-bomb and to exhaust memory. The
same attempts run unconfined first: each one that must fail in the sandbox is
shown to succeed without it, so a test can fail.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from portal.sanitize import CleaningRefused, Limits, clean_isolated
from portal.sanitize.messages import REFUSED
from portal.sanitize.sandbox import confine as sandbox
from portal.sanitize.sandbox import isolate
from portal.sanitize.sandbox.command import python_command
from portal.sanitize.sandbox.slots import CleanerSlots
from tests.services import Service

PAYLOAD = (Path(__file__).parent / "exploited_parser.py").read_text()
LIMITS = Limits(memory_bytes=512 * 1024 * 1024, cpu_seconds=20, wall_seconds=60)


def command(mode: str) -> tuple[str, ...]:
    return (sys.executable, "-I", "-B", "-c", PAYLOAD, mode)


def reachable(family: socket.AddressFamily, address: Any) -> bool:
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.settimeout(2)
            probe.connect(address)
        return True
    except OSError:
        return False


@pytest.fixture
def listeners(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """An nginx-like TCP listener, a Unix socket file and an abstract Unix socket, all accepting."""
    tcp = socket.create_server(("127.0.0.1", 0))
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind(str(tmp_path / "app.sock"))
    unix.listen()
    abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    abstract.bind(f"\0penname-test-{os.getpid()}")
    abstract.listen()
    sockets = [tcp, unix, abstract]
    stop = threading.Event()

    def accept_all() -> None:
        while not stop.is_set():
            for server in sockets:
                server.settimeout(0.05)
                try:
                    server.accept()[0].close()
                except OSError:
                    pass

    acceptor = threading.Thread(target=accept_all, daemon=True)
    acceptor.start()
    yield {"tcp": {"nginx-like listener": ["127.0.0.1", tcp.getsockname()[1]]},
           "unix": {"unix socket file": str(tmp_path / "app.sock"),
                    "abstract unix socket": f"\0penname-test-{os.getpid()}"}}
    stop.set()
    acceptor.join()
    for server in sockets:
        server.close()


@pytest.fixture
def targets(data_dir: Path, editor: Any, settings: Any, tmp_path: Path,
            listeners: dict[str, Any], postgres_server: Service,
            redis_server: Service) -> Iterator[dict[str, Any]]:
    """What an attacker inside a cleaner wants, on this machine, with this test as the server
    (and the tests' own PostgreSQL and Redis, standing in for the production ones)."""
    secret = data_dir / "secrets" / "codename_pepper"
    secret.parent.mkdir(parents=True, exist_ok=True)
    if not secret.exists():
        secret.write_text("pepper\n")
    (data_dir / "store").mkdir(exist_ok=True)
    (data_dir / "store" / "draft.gpg").write_bytes(b"ciphertext")
    keyring = next(p for p in Path(settings.PORTAL_GNUPG_HOME).iterdir() if p.is_file())
    address = next(int(line.split("-")[0], 16) for line in Path("/proc/self/maps").read_text()
                   .splitlines() if line.split()[1].startswith("r"))
    sleeper = subprocess.Popen(["sleep", "120"])
    tcp = {"PostgreSQL": [postgres_server.host, postgres_server.port],
           "Redis": [redis_server.host, redis_server.port], **listeners["tcp"]}
    postgres_socket = postgres_server.unix_socket or f"/var/run/postgresql/.s.PGSQL.{postgres_server.port}"
    unix = {"PostgreSQL socket": postgres_socket, **listeners["unix"]}
    yield {
        "read": {"data dir file": str(data_dir / "store" / "draft.gpg"),
                 "secret key file": str(secret), "keyring": str(keyring),
                 "database": str(data_dir / "portal.sqlite3")},
        "server_pid": os.getpid(), "server_address": address,
        "tcp": tcp, "unix": unix, "ptrace_pid": sleeper.pid,
        "write": {"in /tmp": f"/tmp/penname-escape-{os.getpid()}",
                  "in the data dir": str(data_dir / "escaped"),
                  "in the test's directory": str(tmp_path / "escaped")},
    }
    sleeper.kill()
    sleeper.wait()
    for path in (f"/tmp/penname-escape-{os.getpid()}", data_dir / "escaped", tmp_path / "escaped"):
        Path(path).unlink(missing_ok=True)


def unconfined(targets: dict[str, Any]) -> dict[str, str]:
    ran = subprocess.run(command("unconfined"), input=json.dumps(targets).encode(),
                         capture_output=True, timeout=120, check=True)
    return json.loads(ran.stdout)


def confined(targets: dict[str, Any], mode: str) -> tuple[dict[str, str], float]:
    out = io.BytesIO()
    started = time.monotonic()
    isolate.run_in_sandbox(io.BytesIO(json.dumps(targets).encode()), out, limits=LIMITS,  # type: ignore[arg-type]
                           zygote_command=command("zygote"), worker_command=command("worker"),
                           use_zygote=mode == "zygote")
    return json.loads(out.getvalue()), time.monotonic() - started


@pytest.fixture(params=["zygote", "worker"])
def mode(request: pytest.FixtureRequest) -> Iterator[str]:
    yield request.param
    isolate._Zygote.forget(command("zygote"))


@pytest.mark.django_db
def test_an_exploited_parser_reaches_nothing_that_works_without_the_sandbox(targets, mode):
    free = unconfined(targets)
    services = {name for name, (host, port) in targets["tcp"].items()
                if reachable(socket.AF_INET, (host, port))}
    services |= {name for name, path in targets["unix"].items()
                 if reachable(socket.AF_UNIX, path)}
    must_fail = (
        [f"read {name}" for name in targets["read"] if Path(targets["read"][name]).exists()]
        + ["read server environ", "read server memory", "signal the server",
           "signal a neighbour", "ptrace", "run a program"]
        + [f"connect {name}" for name in sorted(services)]
        + [f"write {name}" for name in targets["write"]]
    )
    assert {"nginx-like listener", "unix socket file", "abstract unix socket",
            "PostgreSQL", "Redis"} <= services
    # Without the sandbox, every one of these works: the test can fail.
    assert {name: free[name] for name in must_fail} == dict.fromkeys(must_fail, "ok")
    for path in targets["write"].values():
        Path(path).unlink()

    inside, seconds = confined(targets, mode)
    worked = sorted(name for name in must_fail if inside[name] == "ok")
    assert worked == [], inside
    # Only the interpreter, the code and the libraries are there; no /proc, /tmp or data.
    # (The folders holding the interpreter, the virtual environment and the code, wherever
    # they are installed — a checkout under /tmp brings /tmp/<checkout> alone, read-only.)
    holders = {Path(path).parts[1] for path in sandbox.readable_paths()}
    assert set(inside["root_listing"].split()) <= {"bin", "dev", "etc", "lib", "lib32", "lib64",
                                                   "libx32", "sbin", "usr", *holders}
    assert "proc" not in inside["root_listing"].split()
    for name in targets["write"]:
        assert not Path(targets["write"][name]).exists()
    # The fork bomb started nothing; the memory bomb stopped at the limit; both ended quickly.
    assert inside["fork_bomb_children"] == "0", inside
    assert inside["memory_bomb"] == "MemoryError"
    assert int(inside["memory_bomb_mib"]) * 1024 * 1024 <= LIMITS.memory_bytes
    assert seconds < 30


def test_cleaning_processes_are_filtered_unprivileged_and_off_the_network() -> None:
    """While a real cleaning runs (a slowly arriving draft), every process of its sandbox
    (bubblewrap's reaper included) shows Seccomp: 2 and NoNewPrivs: 1, holds no capability
    and lives in network and PID namespaces of its own."""
    from tests.sanitize.test_hostile import TrickleReader

    for use_zygote in (True, False):
        seen: list[dict[str, str]] = []
        done = threading.Event()

        def clean(use_zygote: bool = use_zygote, done: threading.Event = done) -> None:
            try:
                isolate.run_in_sandbox(TrickleReader(b"a line of a draft\n", 0.1, 30),  # type: ignore[arg-type]
                                       io.BytesIO(), name_hint="slow.txt", use_zygote=use_zygote)
            finally:
                done.set()

        cleaner = threading.Thread(target=clean)
        cleaner.start()
        time.sleep(1.5)
        for pid in sandbox.descendants(os.getpid()):
            status = sandbox._status(pid)
            if not status or not _in_sandbox(pid):  # bubblewrap's monitor stays outside
                continue
            seen.append({**status, "net": os.readlink(f"/proc/{pid}/ns/net"),
                         "pidns": os.readlink(f"/proc/{pid}/ns/pid")})
        cleaner.join()
        assert done.is_set()
        # bubblewrap's reaper and the zygote and its child, or the one fresh worker.
        assert len([s for s in seen if s["Name"] != "bwrap"]) >= (2 if use_zygote else 1), seen
        assert any(s["Name"] == "bwrap" for s in seen)
        for status in seen:
            assert status["Seccomp"] == "2" and status["NoNewPrivs"] == "1", status
            assert status["CapEff"].strip("0") == ""
            assert status["net"] != os.readlink("/proc/self/ns/net")
            assert status["pidns"] != os.readlink("/proc/self/ns/pid")


def _in_sandbox(pid: int) -> bool:
    try:
        return os.readlink(f"/proc/{pid}/ns/mnt") != os.readlink("/proc/self/ns/mnt")
    except OSError:
        return False


ENTRY = '{"code": "author-name", "detail": "x", "count": 1}'
REPORT = '{"ok": true, "report": {"kind": "text", "notes": [], "removed": [%s]}}'
# (the answer, how often its middle repeats): what a child that was taken over might send.
FORGED = {
    "unknown code": (REPORT % '{"code": "leaked-secret", "detail": "pepper", "count": 1}', 1),
    "huge detail": (REPORT % ('{"code": "author-name", "detail": "%s", "count": 1}'
                              % ("A" * 100_000)), 1),
    "a million entries": (REPORT % (ENTRY + ",%s" + ENTRY), 10**6),
    "unknown key": ('{"ok": true, "leak": "pepper", "report": {"kind": "text"}}', 1),
    "unknown refusal": ('{"ok": false, "code": "see-evil.example", "detail": ""}', 1),
    "bad kind": ('{"ok": true, "report": {"kind": "<script>", "removed": [], "notes": []}}', 1),
    "bad count": (REPORT % '{"code": "author-name", "detail": "", "count": "many"}', 1),
}


@pytest.mark.parametrize("name", FORGED)
def test_a_forged_answer_from_the_child_is_a_refusal(name):
    answer, repeat = FORGED[name]
    head, _, tail = answer.partition("%s")
    message = {"forge": head + (ENTRY + ",") * repeat if repeat > 1 else answer,
               "forge_tail": tail if repeat > 1 else ""}
    try:
        with pytest.raises(CleaningRefused) as refused:
            isolate.run_in_sandbox(io.BytesIO(json.dumps(message).encode()), io.BytesIO(),
                                   limits=LIMITS, zygote_command=command("zygote"),
                                   use_zygote=True)
    finally:
        isolate._Zygote.forget(command("zygote"))
    assert refused.value.code == "crashed"


def test_the_start_up_check_finds_the_sandbox_holding(data_dir):
    assert sandbox.problem([str(data_dir)]) is None


@pytest.mark.parametrize("dropped, finding", [
    ("--unshare-net", "shares the server's net namespace"),
    ("--unshare-pid", "shares the server's pid namespace"),
    ("--seccomp", "no seccomp filter on a sandboxed process"),
])
def test_the_start_up_check_notices_a_sandbox_with_a_layer_missing(monkeypatch, dropped,
                                                                     finding):
    """The probe can fail: take one layer out of bubblewrap's command and it says which."""
    build = sandbox._bwrap_arguments

    def without(seccomp_fd: int, die_with_parent: bool, renderer: bool = False,
                scratch_bytes: int = 0) -> list[str]:
        arguments = build(seccomp_fd, die_with_parent, renderer, scratch_bytes)
        at = arguments.index(dropped)
        return arguments[:at] + arguments[at + (2 if dropped == "--seccomp" else 1):]

    monkeypatch.setattr(sandbox, "_bwrap_arguments", without)
    monkeypatch.setattr(sandbox, "_verdicts", {})
    assert finding in (sandbox.problem() or "")


def test_without_bubblewrap_nothing_is_cleaned(monkeypatch):
    monkeypatch.setenv("PORTAL_BWRAP", "/nonexistent/bwrap")
    assert "bubblewrap" in (sandbox.problem() or "")
    with pytest.raises(CleaningRefused) as refused:
        clean_isolated(io.BytesIO(b"a draft\n"), io.BytesIO(), name_hint="a.txt")
    assert refused.value.code == "unavailable" and "unavailable" in REFUSED
    monkeypatch.delenv("PORTAL_BWRAP")
    monkeypatch.setenv("PATH", "/nonexistent")
    assert sandbox.problem() is not None


def test_a_worker_started_outside_the_sandbox_cleans_nothing(tmp_path):
    """worker.main confines itself or refuses: run unconfined, it says "unavailable"."""
    read, write = os.pipe()
    env = {"PATH": "/usr/bin:/bin", "PORTAL_CLEAN_ARGS": json.dumps(
        {"limits": Limits().to_json(), "name": "a.txt", "type": "", "result_fd": write})}
    ran = subprocess.run([sys.executable, "-I", "-B", "-m", "portal.sanitize.sandbox.worker"],
                         input=b"a draft\n", capture_output=True, env=env, pass_fds=(write,),
                         timeout=60, check=False)
    os.close(write)
    with os.fdopen(read, "rb") as answer:
        assert json.loads(answer.read()) == {"ok": False, "code": "unavailable",
                                             "detail": "not started by sandbox.launch()"}
    assert ran.stdout == b""


def test_at_most_n_cleaners_at_once_across_processes(tmp_path):
    slots = CleanerSlots(tmp_path / "slots", 1, wait_seconds=0.3)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path;"
         "from portal.sanitize.sandbox.slots import CleanerSlots;"
         f"s = CleanerSlots(Path({str(tmp_path / 'slots')!r}), 1, 0)\n"
         "with s.hold():\n print('held', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, cwd=Path(__file__).parents[2])
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        started = time.monotonic()
        with pytest.raises(CleaningRefused) as refused, slots.hold():
            pass
        assert refused.value.code == "busy" and "busy" in REFUSED
        assert 0.3 <= time.monotonic() - started < 3
    finally:
        holder.kill()
        holder.wait()
    with slots.hold():  # a killed holder's slot is free at once
        pass


def test_a_confined_child_imports_the_parents_portal() -> None:
    """The child runs the code under test: the same portal/__init__.py as this process,
    through the real sandbox and the very command the cleaners start with."""
    import portal

    child = sandbox.launch(list(python_command("portal.sanitize.sandbox.origin")),
                           env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    out, _ = child.communicate(timeout=60)
    assert child.returncode == 0
    assert out.decode().strip() == str(Path(portal.__file__).resolve())
    assert isolate.WORKER_COMMAND[:-1] == isolate.ZYGOTE_COMMAND[:-1]
    assert isolate.WORKER_COMMAND[:-1] == python_command("x")[:-1]


def test_the_bootstrap_imports_the_root_it_is_given_not_the_installed_one(tmp_path: Path) -> None:
    """A copy of portal elsewhere, named as the root: the child imports the copy, so a
    child can never silently run an installed portal instead of the parent's."""
    import shutil

    import portal

    shutil.copytree(Path(portal.__file__).parent, tmp_path / "portal",
                    ignore=shutil.ignore_patterns("__pycache__", "locale", "static", "templates"))
    command = [*python_command("portal.sanitize.sandbox.origin")]
    command[-2] = str(tmp_path)
    ran = subprocess.run(command, capture_output=True, timeout=60, check=True,
                         env={"PATH": "/usr/bin:/bin"})
    assert ran.stdout.decode().strip() == str(tmp_path / "portal" / "__init__.py")
