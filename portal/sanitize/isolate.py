"""Run the cleaner in a confined child process, streaming bytes in and out.

The server never parses an uploaded document in its own process: a parser bug
or a bomb costs one child, which is killed at its time limit, and the portal
keeps serving. Plaintext crosses only pipes, never a file. Callers get either a
Report (and the cleaned bytes written to their sink) or CleaningRefused; on
refusal whatever reached the sink must be discarded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from typing import BinaryIO

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
    result_read, result_write = os.pipe()
    # Arguments travel in the environment, which only this user can read; the
    # command line is world-readable in /proc. Only the name's extension is passed.
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
        "TMPDIR": "/nonexistent",
        "PORTAL_CLEAN_ARGS": json.dumps({
            "limits": limits.to_json(), "name": _extension_only(name_hint),
            "type": _printable(type_hint), "result_fd": result_write,
        }),
    }
    try:
        child = subprocess.Popen(
            [sys.executable, "-I", "-B", "-m", "portal.sanitize.worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            pass_fds=(result_write,), env=env, close_fds=True,
        )
    finally:
        os.close(result_write)
    if child.stdin is None or child.stdout is None:  # pipes were requested above
        raise CleaningRefused("crashed")
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
