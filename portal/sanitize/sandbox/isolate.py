"""Run the cleaner in a sandboxed child process, streaming bytes in and out.

The server never parses an uploaded document in its own process: a parser bug
or a bomb costs one child, which is killed at its time limit, and the portal
keeps serving. Every child runs in the sandbox of `sandbox/confine.py` (no network, no
view of the data, seccomp, no ptrace, its own limits); when the sandbox cannot
be established the file is refused ("unavailable"), never cleaned unconfined.
Plaintext crosses only pipes, never a file. Callers get either a Report (and
the cleaned bytes written to their sink) or CleaningRefused; on refusal
whatever reached the sink must be discarded. The child's answer is checked
(`result.py`) before it becomes a Report.

Children come from a pre-loaded zygote process (see sandbox/zygote.py), itself inside
the sandbox, when it can be started, which saves ~90 ms of interpreter
start-up per file; otherwise (or with PORTAL_CLEAN_ZYGOTE=0) each child is a
fresh `python -I` running portal.sanitize.sandbox.worker in a sandbox of its own.
Either way every file gets its own confined process, and imports the very `portal`
its parent runs (`command.python_command`), not whichever copy is installed.
With `slots`, at most that many children run at once across the server
(`sandbox/slots.py`).
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import threading
from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any, BinaryIO

from .. import result
from ..errors import CleaningRefused, LimitExceeded
from ..limits import DEFAULT_LIMITS, Limits
from ..report import Report
from . import confine as sandbox
from .command import python_command
from .slots import CleanerSlots

CHUNK = 64 * 1024
# What the sandbox starts: the zygote, or a one-file worker.
ZYGOTE_COMMAND = python_command("portal.sanitize.sandbox.zygote")
WORKER_COMMAND = python_command("portal.sanitize.sandbox.worker")


def clean_isolated(
    src: BinaryIO,
    dst: BinaryIO,
    *,
    name_hint: str = "",
    type_hint: str = "",
    limits: Limits = DEFAULT_LIMITS,
    slots: CleanerSlots | None = None,
    must_not_see: Sequence[str] = (),
) -> Report:
    """Clean `src` into `dst` in a sandboxed child; raise CleaningRefused on any failure.

    `must_not_see`: paths (the data directory) the start-up check of the
    sandbox proves invisible to a child.
    """
    sandbox.require(must_not_see)
    with slots.hold() if slots is not None else nullcontext():
        return run_in_sandbox(src, dst, name_hint=name_hint, type_hint=type_hint,
                              limits=limits)


def run_in_sandbox(
    src: BinaryIO,
    dst: BinaryIO,
    *,
    name_hint: str = "",
    type_hint: str = "",
    limits: Limits = DEFAULT_LIMITS,
    zygote_command: Sequence[str] = ZYGOTE_COMMAND,
    worker_command: Sequence[str] = WORKER_COMMAND,
    use_zygote: bool | None = None,
) -> Report:
    """One child, from the zygote or fresh, fed `src`, its output copied to `dst`.

    The commands are the interpreter commands the sandbox starts; tests start
    one that behaves like an exploited parser, inside the very same sandbox.
    """
    args = json.dumps({
        "limits": limits.to_json(), "name": _extension_only(name_hint),
        "type": _printable(type_hint),
    })
    if use_zygote is None:
        use_zygote = os.environ.get("PORTAL_CLEAN_ZYGOTE", "1") != "0"
    child, result_read = _start(args, tuple(zygote_command) if use_zygote else None,
                                tuple(worker_command))
    feeder_error: list[BaseException] = []
    feeder = threading.Thread(target=_feed, args=(src, child.stdin, feeder_error), daemon=True)
    feeder.start()
    result_chunks: list[bytes] = []
    collector = threading.Thread(
        target=_collect, args=(result_read, result_chunks), daemon=True
    )
    collector.start()
    timed_out = threading.Event()

    def stop_child() -> None:
        timed_out.set()
        child.kill()

    timer = threading.Timer(limits.wall_seconds, stop_child)
    timer.start()
    try:
        written = 0
        while chunk := child.stdout.read(CHUNK):
            written += len(chunk)
            if written > limits.max_output_bytes:
                child.kill()
                raise LimitExceeded("cleaned output too large")
            dst.write(chunk)
        returncode = child.wait()
    finally:
        timer.cancel()
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
        feeder.join(timeout=5)
        collector.join(timeout=5)
    if feeder_error and not isinstance(feeder_error[0], BrokenPipeError):
        raise feeder_error[0]
    if timed_out.is_set():
        raise CleaningRefused("timeout")
    return result.outcome(returncode, b"".join(result_chunks))


# Arguments travel in the environment (or over the zygote's socket), which only
# this user can read; the command line is world-readable in /proc. Only the
# name's extension is passed.
#
# One malloc arena: glibc otherwise reserves 64 MiB of address space for each
# thread a parser starts (libheif, x265), which the memory limit counts.
_CHILD_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "TMPDIR": "/nonexistent",
              "MALLOC_ARENA_MAX": "1"}


def _start(args: str, zygote_command: tuple[str, ...] | None,
           worker_command: tuple[str, ...]) -> tuple[Any, int]:
    """Start a cleaning child; return it (Popen-like) and the result pipe's read end."""
    if zygote_command is not None:
        try:
            return _Zygote.shared(zygote_command).spawn(args)
        except OSError:
            _Zygote.forget(zygote_command)
    result_read, result_write = os.pipe()
    env = {**_CHILD_ENV,
           "PORTAL_CLEAN_ARGS": json.dumps({**json.loads(args), "result_fd": result_write})}
    try:
        child = sandbox.launch(worker_command, env=env, pass_fds=(result_write,),
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    except BaseException:
        os.close(result_read)
        raise
    finally:
        os.close(result_write)
    return child, result_read


class _ForkedChild:
    """A child forked by the zygote, with the subset of Popen the caller uses.

    `pid` is its pid as this process sees it (the zygote lives in a PID
    namespace of its own); it is killed through its pidfd, which can never
    name another process.
    """

    def __init__(self, pidfd: int, stdin_fd: int, stdout_fd: int, status_fd: int) -> None:
        self.pidfd = pidfd
        self.pid = _pid_of(pidfd)
        self.stdin = os.fdopen(stdin_fd, "wb")
        self.stdout = os.fdopen(stdout_fd, "rb")
        self._status = os.fdopen(status_fd, "rb")
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self._status], [], [], 0)[0]:
            self._read_status()
        return self.returncode

    def wait(self) -> int:
        if self.returncode is None:
            self._read_status()
        return self.returncode  # type: ignore[return-value]

    def _read_status(self) -> None:
        line = self._status.readline()
        self._status.close()
        self.returncode = int(line) if line.strip() else -signal.SIGKILL
        os.close(self.pidfd)
        self.pidfd = -1

    def kill(self) -> None:
        if self.poll() is None:
            try:
                signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _pid_of(pidfd: int) -> int:
    with open(f"/proc/self/fdinfo/{pidfd}", encoding="ascii") as info:
        for line in info:
            if line.startswith("Pid:"):
                return int(line.split()[1])
    return -1


class _Zygote:
    """The per-process zygote (one per command): started on first use, restarted if it died."""

    _lock = threading.Lock()
    _shared: dict[tuple[str, ...], _Zygote] = {}

    @classmethod
    def shared(cls, command: tuple[str, ...] = ZYGOTE_COMMAND) -> _Zygote:
        with cls._lock:
            zygote = cls._shared.get(command)
            if zygote is None or zygote.process.poll() is not None:
                zygote = cls._shared[command] = cls(command)
            return zygote

    @classmethod
    def forget(cls, command: tuple[str, ...] = ZYGOTE_COMMAND) -> None:
        with cls._lock:
            zygote = cls._shared.pop(command, None)
            if zygote is not None:
                zygote.socket.close()  # the zygote ends when its socket closes
                zygote.process.kill()
                zygote.process.wait()

    def __init__(self, command: tuple[str, ...]) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {**_CHILD_ENV, "PORTAL_ZYGOTE_FD": str(theirs.fileno())}
        try:
            # Not tied to the thread that happens to start it (a request's): the
            # zygote ends when this process closes its socket, or dies.
            self.process = sandbox.launch(command, env=env, pass_fds=(theirs.fileno(),),
                                          die_with_parent=False)
        finally:
            theirs.close()
        self.socket = ours
        self.socket.settimeout(60)
        try:
            ready, _ = self._answer()
        except OSError:
            self.socket.close()
            self.process.kill()
            self.process.wait()
            raise
        if ready != "ready":
            raise OSError("the cleaning zygote did not start")
        self._spawn_lock = threading.Lock()

    def _answer(self) -> tuple[str, list[int]]:
        message, fds, _, _ = socket.recv_fds(self.socket, 256, 1)
        if not message:
            raise OSError("the cleaning zygote went away")
        return message.decode("ascii").strip(), fds

    def spawn(self, args: str) -> tuple[_ForkedChild, int]:
        stdin_r, stdin_w = os.pipe()
        stdout_r, stdout_w = os.pipe()
        result_r, result_w = os.pipe()
        status_r, status_w = os.pipe()
        theirs = [stdin_r, stdout_w, result_w, status_w]
        try:
            with self._spawn_lock:
                socket.send_fds(self.socket, [args.encode("utf-8")], theirs)
                _, pidfds = self._answer()
            if len(pidfds) != 1:
                raise ValueError("no pidfd")
        except (OSError, ValueError):
            for fd in (stdin_w, stdout_r, result_r, status_r):
                os.close(fd)
            raise OSError("the cleaning zygote failed") from None
        finally:
            for fd in theirs:
                os.close(fd)
        return _ForkedChild(pidfds[0], stdin_w, stdout_r, status_r), result_r


def _feed(src: BinaryIO, sink: BinaryIO, errors: list[BaseException]) -> None:
    try:
        while chunk := src.read(CHUNK):
            sink.write(chunk)
    except BaseException as exc:  # reported to the caller after the child ends
        errors.append(exc)
    finally:
        try:
            sink.close()
        except OSError:
            pass


def _collect(fd: int, chunks: list[bytes]) -> None:
    with os.fdopen(fd, "rb") as answer:
        chunks.append(answer.read(result.MAX_ANSWER_BYTES + 1))


def _extension_only(name: str) -> str:
    return "file." + _printable(name.rsplit(".", 1)[-1])[:16] if "." in name else ""


def _printable(hint: str) -> str:
    """Hints travel on the command line: keep them short and free of control characters."""
    return "".join(ch for ch in hint if ch.isprintable())[:200]
