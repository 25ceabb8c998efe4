"""What the cleaners' sandbox costs per file, against the same cleaning unconfined.

For a few small files (where start-up dominates; a large file's cost is the
parsing, the same either way) it times `isolate.run_in_sandbox()`, the whole
path the portal takes (pipes, feeder threads, the zygote's protocol, the
checked answer), two ways in one run on one machine:

- before: as the portal ran until the sandbox came, with resource limits only:
  the same zygote and worker code started as plain processes, their
  confinement replaced by the old rlimits;
- sandboxed: as the portal runs now: bubblewrap's namespaces and seccomp filter
  around the zygote or the fresh worker, and each cleaning process's own filter,
  no_new_privs and PR_SET_DUMPABLE=0 on top of the same limits;

each with the zygote (the default) and with a fresh interpreter per file
(PORTAL_CLEAN_ZYGOTE=0). `python -c pass` is the floor of any fresh process.
Each figure is the median of --runs runs (default 20), in milliseconds per file;
the runs of the two ways alternate, so load from elsewhere falls on both alike.

Usage: .venv/bin/python bench/sandbox.py [--runs 20]
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal.sanitize.sandbox import confine as sandbox
from portal.sanitize.sandbox import isolate
from tests.sanitize import dirty_media, dirty_office

# The production zygote and worker, with the sandbox's confinement swapped for
# what they did before it: the rlimits alone.
_BEFORE = """
import sys
import portal.sanitize.sandbox.confine as sandbox

sandbox.confine_zygote = lambda: None
sandbox.confine_cleaner = sandbox.apply_limits
if sys.argv[1] == "zygote":
    from portal.sanitize.sandbox.zygote import main
else:
    from portal.sanitize.sandbox.worker import main
sys.exit(main())
"""
BEFORE_ZYGOTE = (sys.executable, "-I", "-B", "-c", _BEFORE, "zygote")
BEFORE_WORKER = (sys.executable, "-I", "-B", "-c", _BEFORE, "worker")
SANDBOXED_LAUNCH = sandbox.launch


def plain_launch(argv: Sequence[str], *, env: dict[str, str], pass_fds: Sequence[int] = (),
                 stdin: Any = subprocess.DEVNULL, stdout: Any = subprocess.DEVNULL,
                 stderr: Any = subprocess.DEVNULL,
                 die_with_parent: bool = True) -> subprocess.Popen[bytes]:
    """`sandbox.launch` without bubblewrap: the same process, unconfined (the baseline)."""
    return subprocess.Popen(list(argv), env=env, pass_fds=pass_fds, stdin=stdin,
                            stdout=stdout, stderr=stderr, close_fds=True)


def samples() -> dict[str, tuple[str, bytes]]:
    return {
        "UTF-8 text, 2 KB": ("draft.txt", "夜班的记录 a night shift\n".encode() * 60),
        "JPEG picture, 64×48": ("photo.jpg", dirty_media.dirty_jpeg()[0]),
        "Word document with comments and an embedded workbook":
            ("draft.docx", dirty_office.dirty_docx()[0]),
    }


def median_ms(action: Callable[[], object], runs: int) -> float:
    action()  # warm caches (and start the zygote) first
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def paired_ms(first: Callable[[], object], second: Callable[[], object],
              runs: int) -> tuple[float, float]:
    """Both medians, their runs interleaved, so that load from elsewhere on the machine
    falls on both alike."""
    first()
    second()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for action, kept in ((first, times[0]), (second, times[1])):
            started = time.perf_counter()
            action()
            kept.append(time.perf_counter() - started)
    return statistics.median(times[0]) * 1000, statistics.median(times[1]) * 1000


def bare_start() -> None:
    subprocess.run([sys.executable, "-c", "pass"], check=True)


def cleaning(name: str, data: bytes, *, sandboxed: bool, zygote: bool) -> Callable[[], object]:
    commands = ({} if sandboxed else
                {"zygote_command": BEFORE_ZYGOTE, "worker_command": BEFORE_WORKER})

    def clean_once() -> object:
        sandbox.launch = SANDBOXED_LAUNCH if sandboxed else plain_launch  # type: ignore[assignment]
        try:
            return isolate.run_in_sandbox(io.BytesIO(data), io.BytesIO(), name_hint=name,
                                          use_zygote=zygote, **commands)
        finally:
            sandbox.launch = SANDBOXED_LAUNCH  # type: ignore[assignment]

    return clean_once


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    if problem := sandbox.problem():
        sys.exit(f"the sandbox does not hold here: {problem}")
    floor = median_ms(bare_start, runs)
    print(f"python -c pass: {floor:.1f} ms  (median of {runs})\n")
    print("| input | zygote, before | zygote, sandboxed | cost | fresh, before "
          "| fresh, sandboxed | cost |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for label, (name, data) in samples().items():
        row = []
        for zygote in (True, False):
            before, after = paired_ms(cleaning(name, data, sandboxed=False, zygote=zygote),
                                      cleaning(name, data, sandboxed=True, zygote=zygote), runs)
            row += [f"{before:.1f} ms", f"{after:.1f} ms", f"{after - before:+.1f} ms"]
        print(f"| {label} | " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
