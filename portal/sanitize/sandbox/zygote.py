"""A pre-loaded parent for cleaning children: fork instead of starting Python anew.

Starting a fresh interpreter and importing the parsers costs about 90 ms per
file, which dominates cleaning small files (an editor syncing a hundred
drafts). The zygote imports the cleaners once, never reads any document
itself, and forks one child per file on request. Each child closes every
descriptor but its own three pipes, confines itself exactly as
`sandbox/worker.py` does (it runs worker.main), and cleans one file; so each file
still has a process of its own, as with a fresh interpreter.

The zygote itself runs inside the sandbox (`sandbox.launch`: its namespaces,
read-only file system and base seccomp filter), and before importing anything
it makes itself undumpable and drops exec (`sandbox.confine_zygote`), so its
children start confined and only add the cleaner's own filter and limits.

Protocol on the Unix socket (SOCK_SEQPACKET) given in PORTAL_ZYGOTE_FD: the
caller sends the cleaning arguments (JSON) with four descriptors (input,
output, result, status); the zygote answers with the child's pid in its own
PID namespace and a pidfd of the child (by which the caller can kill it and
learn its pid as the server sees it) and, once the child has been reaped,
writes its wait status to the status pipe and closes it.
"""

from __future__ import annotations

import importlib
import json
import os
import select
import signal
import socket
import sys

from ..kinds import module_path
from .confine import confine_zygote


def preload() -> None:
    from ..kinds import CLEANERS, VERIFIERS

    # Every cleaner and verifier the kinds table names, and the stream verifiers.
    targets = {*CLEANERS.values(), *VERIFIERS.values(), "verify:verify", "verify.audio:"}
    for target in targets - {"stream"}:
        try:
            importlib.import_module(module_path(target)[0])
        except Exception:  # noqa: S112 - a missing optional parser is loaded (and refused) later
            continue
    # pillow-heif is imported by the HEIC cleaner only when needed: loaded here,
    # its libraries (libheif, libde265, x265) are mapped once, outside the
    # children's memory limit, which they would otherwise have to fit under.
    try:
        from ..formats.images import _register_heif

        _register_heif()
    except Exception:  # noqa: S110 - without pillow-heif, HEIC is refused later
        pass
    # Tables built on first use are built here once, not in every child.
    from ..formats.text import _bidi_pattern, _removal_pattern

    _removal_pattern()
    _bidi_pattern()


def run_child(args: str, fds: list[int]) -> None:
    """In the forked child: keep only our pipes, then behave exactly like sandbox/worker.py."""
    stdin, stdout, result, _status = fds
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(stdin, 0)
    os.dup2(stdout, 1)
    os.dup2(devnull, 2)
    os.dup2(result, 3)
    os.closerange(4, os.sysconf("SC_OPEN_MAX"))
    parsed = json.loads(args)
    parsed["result_fd"] = 3
    os.environ["PORTAL_CLEAN_ARGS"] = json.dumps(parsed)
    sys.stdin = open(0, closefd=False)
    sys.stdout = open(1, "w", closefd=False)
    from .worker import main

    code = 1
    try:
        code = main()
    finally:
        os._exit(code)


def serve(control: socket.socket) -> None:
    running: dict[int, int] = {}  # pid -> status pipe
    # A child's exit wakes the loop at once (SIGCHLD written to a pipe), so the
    # caller learns the exit status without polling delays.
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    while True:
        ready: list[object] = select.select([control, wake_read], [], [], 1.0)[0]  # type: ignore[type-var]
        if wake_read in ready:
            try:
                os.read(wake_read, 4096)
            except BlockingIOError:
                pass
        _reap(running)
        if control not in ready:
            continue
        try:
            message, fds, _, _ = socket.recv_fds(control, 64 * 1024, 4)
        except OSError:
            return
        if not message:
            return
        if len(fds) != 4:
            for fd in fds:
                os.close(fd)
            continue
        pid = os.fork()
        if pid == 0:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.close(wake_read)
            os.close(wake_write)
            control.close()
            for other in running.values():
                os.close(other)
            run_child(message.decode("utf-8"), fds)
        for fd in fds[:3]:
            os.close(fd)
        running[pid] = fds[3]
        pidfd = os.pidfd_open(pid)
        try:
            socket.send_fds(control, [f"{pid}\n".encode()], [pidfd])
        finally:
            os.close(pidfd)


def _reap(running: dict[int, int]) -> None:
    while running:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        status_fd = running.pop(pid, None)
        if status_fd is not None:
            try:
                os.write(status_fd, f"{os.waitstatus_to_exitcode(status)}\n".encode())
            finally:
                os.close(status_fd)


def main() -> int:
    control = socket.socket(fileno=int(os.environ["PORTAL_ZYGOTE_FD"]))
    confine_zygote()
    preload()
    control.sendall(b"ready\n")
    serve(control)
    return 0


if __name__ == "__main__":
    sys.exit(main())
