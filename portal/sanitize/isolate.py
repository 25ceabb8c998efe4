"""Run the cleaner in a confined child process, streaming bytes in and out.

The server never parses an uploaded document in its own process: a parser bug
or a bomb costs one child, which is killed at its time limit, and the portal
keeps serving. Plaintext crosses only pipes, never a file. Callers get either a
Report (and the cleaned bytes written to their sink) or CleaningRefused; on
refusal whatever reached the sink must be discarded.

Children come from a pre-loaded zygote process (see zygote.py) when it can be
started, which saves ~90 ms of interpreter start-up per file; otherwise (or
with PORTAL_CLEAN_ZYGOTE=0) each child is a fresh `python -m
portal.sanitize.worker`. Either way every file gets its own confined process.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
from typing import Any, BinaryIO

from .errors import CleaningRefused, LimitExceeded
from .limits import DEFAULT_LIMITS, Limits
from .report import Report

CHUNK = 64 * 1024


def clean_isolated(
    src: BinaryIO,
    dst: BinaryIO,
    *,
    name_hint: str = "",
    type_hint: str = "",
    limits: Limits = DEFAULT_LIMITS,
) -> Report:
    """Clean `src` into `dst` in a child process; raise CleaningRefused on any failure."""
    args = json.dumps({
        "limits": limits.to_json(), "name": _extension_only(name_hint),
        "type": _printable(type_hint),
    })
    child, result_read = _start(args)
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
    return _outcome(returncode, b"".join(result_chunks))


# Arguments travel in the environment (or over the zygote's socket), which only
# this user can read; the command line is world-readable in /proc. Only the
# name's extension is passed.
#
# One malloc arena: glibc otherwise reserves 64 MiB of address space for each
# thread a parser starts (libheif, x265), which the memory limit counts.
_CHILD_ENV = {"LANG": "C.UTF-8", "TMPDIR": "/nonexistent", "MALLOC_ARENA_MAX": "1"}


def _start(args: str) -> tuple[Any, int]:
    """Start a cleaning child; return it (Popen-like) and the result pipe's read end."""
    if os.environ.get("PORTAL_CLEAN_ZYGOTE", "1") != "0":
        try:
            return _Zygote.shared().spawn(args)
        except OSError:
            _Zygote.forget()
    result_read, result_write = os.pipe()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **_CHILD_ENV,
           "PORTAL_CLEAN_ARGS": json.dumps({**json.loads(args), "result_fd": result_write})}
    try:
        child = subprocess.Popen(
            [sys.executable, "-I", "-B", "-m", "portal.sanitize.worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            pass_fds=(result_write,), env=env, close_fds=True,
        )
    finally:
        os.close(result_write)
    return child, result_read


class _ForkedChild:
    """A child forked by the zygote, with the subset of Popen the caller uses."""

    def __init__(self, pid: int, stdin_fd: int, stdout_fd: int, status_fd: int) -> None:
        self.pid = pid
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

    def kill(self) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class _Zygote:
    """The per-process zygote: started on first use, restarted if it died."""

    _lock = threading.Lock()
    _shared: _Zygote | None = None

    @classmethod
    def shared(cls) -> _Zygote:
        with cls._lock:
            if cls._shared is None or cls._shared.process.poll() is not None:
                cls._shared = cls()
            return cls._shared

    @classmethod
    def forget(cls) -> None:
        with cls._lock:
            if cls._shared is not None:
                cls._shared.process.kill()
            cls._shared = None

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **_CHILD_ENV,
               "PORTAL_ZYGOTE_FD": str(theirs.fileno())}
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-B", "-m", "portal.sanitize.zygote"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),), env=env, close_fds=True,
            )
        finally:
            theirs.close()
        self.socket = ours
        self.socket.settimeout(60)
        self._pending = b""
        if self._line() != "ready":
            raise OSError("the cleaning zygote did not start")
        self._spawn_lock = threading.Lock()

    def _line(self) -> str:
        while b"\n" not in self._pending:
            chunk = self.socket.recv(256)
            if not chunk:
                raise OSError("the cleaning zygote went away")
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line.decode("ascii")

    def spawn(self, args: str) -> tuple[_ForkedChild, int]:
        stdin_r, stdin_w = os.pipe()
        stdout_r, stdout_w = os.pipe()
        result_r, result_w = os.pipe()
        status_r, status_w = os.pipe()
        theirs = [stdin_r, stdout_w, result_w, status_w]
        try:
            with self._spawn_lock:
                socket.send_fds(self.socket, [args.encode("utf-8")], theirs)
                pid = int(self._line())
        except (OSError, ValueError):
            for fd in (stdin_w, stdout_r, result_r, status_r):
                os.close(fd)
            raise OSError("the cleaning zygote failed") from None
        finally:
            for fd in theirs:
                os.close(fd)
        return _ForkedChild(pid, stdin_w, stdout_r, status_r), result_r


def _outcome(returncode: int, raw_result: bytes) -> Report:
    try:
        outcome = json.loads(raw_result.decode("utf-8")) if raw_result else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        outcome = None
    if returncode != 0 or not isinstance(outcome, dict):
        if returncode in (-9, -24, 152, 137):  # SIGKILL / SIGXCPU: a resource limit
            raise CleaningRefused("limit", "CPU time")
        raise CleaningRefused("crashed")
    if not outcome.get("ok"):
        raise CleaningRefused(str(outcome.get("code", "crashed")), str(outcome.get("detail", "")))
    return Report.from_dict(outcome["report"])


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
    with os.fdopen(fd, "rb") as result:
        chunks.append(result.read(1024 * 1024))


def _extension_only(name: str) -> str:
    return "file." + _printable(name.rsplit(".", 1)[-1])[:16] if "." in name else ""


def _printable(hint: str) -> str:
    """Hints travel on the command line: keep them short and free of control characters."""
    return "".join(ch for ch in hint if ch.isprintable())[:200]
