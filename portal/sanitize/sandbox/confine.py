"""The sandbox every parse of an uploaded file runs in, and the check that it holds.

Threat: a "draft" made to exploit a parser (Pillow, libheif, qpdf and lxml
have all had such bugs) runs code of its choosing in the cleaning process.
With resource limits alone that code was the server's own user: it could read
the data directory, the keyrings, the secret key and the database, reach
PostgreSQL, Redis and nginx on loopback, read other processes' memory through
/proc, and smuggle what it found out in its report.

Promise: a process started by `launch()` and confined by `confine_cleaner()`

- sees only the interpreter, the installed code and the system libraries,
  read-only (bubblewrap: new mount namespace on an empty read-only root): no
  data directory, keyring, secret, database file, socket file, /proc or /tmp;
- has no network at all: an empty network namespace of its own, and no
  socket(), connect() or sendmsg() in its system call filter;
- runs in new user, PID, IPC and UTS namespaces, without capabilities, with
  no_new_privs and PR_SET_DUMPABLE=0, so it can neither name, signal, trace nor
  read another process, and nothing can trace it;
- runs under the seccomp allow-lists of `sandbox/syscalls.py` (the base one loaded by
  bubblewrap before the interpreter starts, the cleaner's added before the
  first byte of input is read): no fork, no exec, no ptrace, no mount;
- has its own limits on address space, CPU time, open files and file size,
  and dies with the process that started it.

`problem()` starts one such process that tries what it must not be able to,
and inspects it from outside; `require()` raises SandboxUnavailable when the
sandbox cannot be established, so callers refuse the file instead of cleaning
it unconfined.

What it does not stop: a bug in the kernel reachable through the allowed
system calls; the cleaner reading (and lying about) the file it was given;
a cleaner spending its whole CPU, memory and time allowance.
"""

from __future__ import annotations

import base64
import ctypes
import json
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from ..errors import CleaningRefused
from ..limits import Limits
from .command import CODE_ROOT, python_command

# The bubblewrap program; PORTAL_BWRAP names another one (or a missing one, to
# see the portal refuse uploads).
BWRAP_VARIABLE = "PORTAL_BWRAP"
# Inside the sandbox the process is this user and group, mapped to the
# server's own; it owns nothing there.
SANDBOX_ID = "65534"
_LAYER_VARIABLES = {"zygote": "PORTAL_SECCOMP_ZYGOTE", "cleaner": "PORTAL_SECCOMP_CLEANER"}
# What the renderer of safe copies reads besides the system: font and
# LibreOffice configuration.
RENDERER_CONFIG = ("/etc/fonts", "/var/cache/fontconfig", "/etc/libreoffice")
# How long a verdict of problem() is trusted: a healthy sandbox rarely breaks,
# a broken one should be noticed soon after it is repaired.
HOLDS_FOR_SECONDS = 600.0
BROKEN_FOR_SECONDS = 10.0


class SandboxUnavailable(CleaningRefused):
    """The sandbox cannot be established, so nothing is cleaned (never unconfined)."""

    def __init__(self, detail: str) -> None:
        super().__init__("unavailable", detail)


# --- starting a confined process (in the server) ---------------------------------------


def bwrap_path() -> str | None:
    return shutil.which(os.environ.get(BWRAP_VARIABLE) or "bwrap")


def readable_paths() -> list[str]:
    """The directories a confined process may read: interpreter, installed code, libraries."""
    code = str(Path(CODE_ROOT) / "portal")  # this process's portal/, wherever it is
    wanted = sorted({"/usr", sys.base_prefix, sys.prefix, code})
    kept: list[str] = []
    for path in wanted:
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return kept


def _bwrap_arguments(seccomp_fd: int, die_with_parent: bool, renderer: bool = False,
                     scratch_bytes: int = 0) -> list[str]:
    arguments = [
        "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
        "--uid", SANDBOX_ID, "--gid", SANDBOX_ID, "--new-session", "--cap-drop", "ALL",
    ]
    if die_with_parent:
        arguments.append("--die-with-parent")
    if renderer:
        # The renderer's scratch folder (memory only, gone with the sandbox) comes first,
        # so that code installed under /tmp is still bound over it, read-only.
        if scratch_bytes:  # the scratch folder is memory: held to its share of it
            arguments += ["--size", str(scratch_bytes)]
        arguments += ["--tmpfs", "/tmp"]  # noqa: S108 - inside the sandbox
    for path in readable_paths():
        arguments += ["--ro-bind", path, path]
    # Debian's merged /usr: /lib, /bin ... are links into it.
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            arguments += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            arguments += ["--ro-bind", top, top]
    if os.path.exists("/etc/ld.so.cache"):
        arguments += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    if renderer:
        # LibreOffice, poppler and Tesseract need their configuration and fonts, the
        # scratch folder above and a /proc, which in the sandbox's own PID namespace
        # shows only its own processes.
        for config in RENDERER_CONFIG:
            if os.path.exists(config):
                arguments += ["--ro-bind", config, config]
        arguments += ["--proc", "/proc"]
    # /dev/null, zero, random, urandom and the like on a tmpfs, made read-only
    # like the root, so no file can be created anywhere (but the renderer's /tmp).
    arguments += ["--dev", "/dev", "--remount-ro", "/dev", "--remount-ro", "/",
                  "--chdir", "/", "--seccomp", str(seccomp_fd)]
    return arguments


def launch(argv: Sequence[str], *, env: dict[str, str], pass_fds: Sequence[int] = (),
           stdin: Any = subprocess.DEVNULL, stdout: Any = subprocess.DEVNULL,
           stderr: Any = subprocess.DEVNULL,
           die_with_parent: bool = True, renderer: bool = False,
           scratch_bytes: int = 0) -> subprocess.Popen[bytes]:
    """Start `argv` (an interpreter command) inside the sandbox; raise SandboxUnavailable.

    With `die_with_parent` the sandbox is killed when the thread that started it
    ends; a process that outlives the call (the zygote) ends instead when the
    socket it serves is closed. With `renderer`, the sandbox of safe copies:
    the same namespaces and read-only root, plus font configuration, a private
    /proc and a scratch /tmp in memory, under the renderer's deny-list filter
    (`syscalls.RENDERER_DENIED`) instead of the cleaner's allow-lists, and with
    `scratch_bytes` a /tmp that holds no more than that.
    """
    bwrap = bwrap_path()
    if bwrap is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed")
    try:
        from . import syscalls

        base = syscalls.program("renderer" if renderer else "base")
        layers = {variable: base64.b64encode(syscalls.program(role)).decode("ascii")
                  for role, variable in _LAYER_VARIABLES.items()}
    except (ImportError, OSError, RuntimeError) as exc:
        raise SandboxUnavailable(f"no seccomp filter ({type(exc).__name__})") from None
    seccomp_fd = os.memfd_create("penname-seccomp")  # bwrap reads it to its end
    try:
        os.write(seccomp_fd, base)
        os.lseek(seccomp_fd, 0, os.SEEK_SET)
        return subprocess.Popen(
            [bwrap, *_bwrap_arguments(seccomp_fd, die_with_parent, renderer, scratch_bytes),
             "--", *argv],
            stdin=stdin, stdout=stdout, stderr=stderr, env={**env, **layers},
            pass_fds=(*pass_fds, seccomp_fd), close_fds=True,
        )
    except OSError as exc:
        raise SandboxUnavailable(f"bubblewrap did not start ({exc.strerror})") from None
    finally:
        os.close(seccomp_fd)


# --- confining oneself (inside the sandbox) --------------------------------------------


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _prctl(option: int, value: int = 0, pointer: Any = None) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p,
                           ctypes.c_ulong, ctypes.c_ulong)
    libc.prctl.restype = ctypes.c_int
    ctypes.set_errno(0)
    if libc.prctl(option, value, pointer, 0, 0) != 0:
        code = ctypes.get_errno()
        raise SandboxUnavailable(f"prctl({option}): {os.strerror(code)}")


def undumpable() -> None:
    """PR_SET_DUMPABLE=0: no core dump, and no process of the same user may ptrace
    this one or read its /proc/PID/mem or environ. For the web workers too."""
    _prctl(4, 0)


def _add_filter(role: str) -> None:
    encoded = os.environ.get(_LAYER_VARIABLES[role], "")
    if not encoded:
        raise SandboxUnavailable("not started by sandbox.launch()")
    program = base64.b64decode(encoded)
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.addressof(buffer))
    _prctl(38, 1)  # no_new_privs (bubblewrap set it already; a filter requires it)
    _prctl(22, 2, ctypes.byref(fprog))  # PR_SET_SECCOMP, SECCOMP_MODE_FILTER


def confine_zygote() -> None:
    """The zygote, once its parsers are imported: never dumpable, no more exec."""
    undumpable()
    _add_filter("zygote")


def apply_limits(limits: Limits) -> None:
    """The resource limits of a cleaning process: memory, CPU, no file writes, no core."""
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    # Writing a file then fails with an error instead of killing us silently.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def confine_cleaner(limits: Limits) -> None:
    """Before a cleaning process reads its input: limits, then the cleaner's filter.

    Raises SandboxUnavailable when any step fails; the caller then cleans nothing.
    """
    apply_limits(limits)
    undumpable()
    _add_filter("cleaner")


# --- does it hold? ---------------------------------------------------------------------

_verdicts: dict[tuple[str | None, tuple[str, ...]], tuple[float, str | None]] = {}
_verdict_lock = threading.Lock()


def problem(must_not_see: Sequence[str] = ()) -> str | None:
    """None if a confined process really is confined; else what is wrong, for the log.

    The answer is kept for a while (see HOLDS_FOR_SECONDS); `must_not_see` are
    paths (the data directory) that the process must find missing.
    """
    key = (bwrap_path(), tuple(sorted(must_not_see)))
    with _verdict_lock:
        checked_at, verdict = _verdicts.get(key, (-1e9, "unchecked"))
        ttl = HOLDS_FOR_SECONDS if verdict is None else BROKEN_FOR_SECONDS
        if time.monotonic() - checked_at < ttl:
            return verdict
        verdict = _probe(list(must_not_see))
        _verdicts[key] = (time.monotonic(), verdict)
        return verdict


def require(must_not_see: Sequence[str] = ()) -> None:
    verdict = problem(must_not_see)
    if verdict is not None:
        raise SandboxUnavailable(verdict)


def _probe(must_not_see: list[str]) -> str | None:
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
           "PORTAL_PROBE_PATHS": json.dumps([*must_not_see, "/proc/1/environ", "/etc/passwd"])}
    try:
        child = launch(list(python_command("portal.sanitize.sandbox.confine")), env=env,
                       stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    except SandboxUnavailable as exc:
        return exc.detail
    if child.stdin is None or child.stdout is None:  # cannot happen with PIPE; for the types
        child.kill()
        return "the probe has no pipes"
    try:
        if not select.select([child.stdout], [], [], 30)[0]:
            return "the probe did not answer"
        line = child.stdout.readline()
        try:
            escaped = json.loads(line)
        except ValueError:
            return "the probe could not confine itself"
        if escaped:
            return "a confined process could: " + ", ".join(sorted(escaped))
        return _inspect(child.pid)
    finally:
        child.kill()
        child.wait()
        child.stdin.close()
        child.stdout.close()


def _inspect(bwrap_pid: int) -> str | None:
    """Look at the sandbox from outside: every process in it (bubblewrap's reaper and the
    probe) filtered, without privileges, in namespaces of its own; the probe with its own
    filter stacked on bubblewrap's."""
    inside = descendants(bwrap_pid)
    probes = [pid for pid in inside if _status(pid).get("Name") != "bwrap"]
    if not probes:
        return "the probe's process is gone"
    for pid in inside:
        status = _status(pid)
        if status.get("Seccomp") != "2":
            return "no seccomp filter on a sandboxed process"
        if status.get("NoNewPrivs") != "1":
            return "a sandboxed process may gain privileges"
        if status.get("CapEff", "").strip("0"):
            return "a sandboxed process holds capabilities"
        for kind in ("net", "pid", "mnt", "user"):
            if os.readlink(f"/proc/{pid}/ns/{kind}") == os.readlink(f"/proc/self/ns/{kind}"):
                return f"a sandboxed process shares the server's {kind} namespace"
    for pid in probes:
        if int(_status(pid).get("Seccomp_filters", "2")) < 2:
            return "the cleaner's own filter is missing"
    return None


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, parents first (from /proc, this PID namespace)."""
    found: list[int] = []
    parents = [pid]
    while parents:
        parent = parents.pop(0)
        children = []
        try:
            for task in Path(f"/proc/{parent}/task").iterdir():  # each thread's own children
                children += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
        found += children
        parents += children
    return found


def _status(pid: int) -> dict[str, str]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return {k: v.strip() for k, _, v in (line.partition(":") for line in text.splitlines())}


def _attempts(paths: list[str]) -> list[str]:
    """Inside: what a confined process must not be able to do. Returns what worked."""
    import socket

    worked = []
    for family in (socket.AF_INET, socket.AF_INET6, socket.AF_UNIX, socket.AF_NETLINK):
        try:
            socket.socket(family, socket.SOCK_STREAM if family != socket.AF_NETLINK
                          else socket.SOCK_RAW).close()
            worked.append(f"open a {family.name} socket")
        except OSError:
            pass
    for path in paths:
        try:
            os.close(os.open(path, os.O_RDONLY))
            worked.append(f"open {path}")
        except OSError:
            pass
    for path in ("/probe", "/dev/probe"):
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
            worked.append(f"create {path}")
        except OSError:
            pass
    try:
        os.kill(os.getppid(), 0)  # the zygote, or bubblewrap's reaper
        worked.append("signal another process")
    except OSError:
        pass
    try:
        pid = os.fork()
    except OSError:
        pass
    else:
        if pid == 0:
            os._exit(0)
        worked.append("fork")
    return worked


def _probe_main(stdin: IO[bytes], stdout: IO[bytes]) -> int:
    try:
        confine_cleaner(Limits(memory_bytes=1024 * 1024 * 1024, cpu_seconds=10))
    except (SandboxUnavailable, OSError):
        stdout.write(b"refused\n")
        stdout.flush()
        return 1
    stdout.write(json.dumps(_attempts(json.loads(os.environ["PORTAL_PROBE_PATHS"]))).encode()
                 + b"\n")
    stdout.flush()
    stdin.read(1)  # stay alive while the server looks at us from outside
    return 0


if __name__ == "__main__":
    sys.exit(_probe_main(sys.stdin.buffer, sys.stdout.buffer))
