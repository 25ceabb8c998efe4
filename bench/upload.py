"""End-to-end upload benchmark: a large file over HTTP through confirm, against raw gpg.

Starts a real server (gunicorn, one worker) with a fresh data directory, uploads
a file of the given size as an author would (streamed multipart over HTTP),
confirms it, and measures the wall time and the server's peak memory (the sum
of the resident memory of gunicorn and every process under it: the cleaner
child and gpg included). In the same run it times `gpg --encrypt` of the same
bytes to the same key, and prints the ratio. Usage:

    .venv/bin/python bench/upload.py [--sizes 200,1024] [--kind wav|text]
"""

from __future__ import annotations

import argparse
import os
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.gpgkeys import make_keypair, stop_agent
from tests.httpauthor import HttpAuthor
from tests.liveserver import live_server

MiB = 1024 * 1024


def make_input(path: Path, size: int, kind: str) -> None:
    """A WAV recording of `size` bytes (a long talk), or UTF-8 text with CJK."""
    with open(path, "wb") as out:
        if kind == "wav":
            data_size = size - 44
            out.write(b"RIFF" + struct.pack("<I", 36 + data_size) + b"WAVE")
            out.write(b"fmt " + struct.pack("<IHHIIHH", 16, 1, 2, 44100, 44100 * 4, 4, 16))
            out.write(b"data" + struct.pack("<I", data_size))
            block = os.urandom(MiB)
        else:
            data_size = size
            line = "女工夜班的故事 the night shift story, told again and again.\n".encode()
            block = (line * (MiB // len(line) + 1))[:MiB]
        left = data_size
        while left > 0:
            out.write(block[: min(left, MiB)])
            left -= min(left, MiB)


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants."""
    total = 0
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        stack += [int(c) for c in children]
    return total


class PeakSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.running = True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, tree_rss(self.pid))
            time.sleep(0.02)


def gpg_baseline(keys_home: Path, fingerprint: str, source: Path, work: Path) -> float:
    home = work / "baseline-gnupg"
    home.mkdir(mode=0o700)
    exported = subprocess.run(["gpg", "--homedir", str(keys_home), "--export", fingerprint],
                              capture_output=True, check=True).stdout
    subprocess.run(["gpg", "--homedir", str(home), "--import"], input=exported,
                   capture_output=True, check=True)
    out = work / "baseline.gpg"
    started = time.perf_counter()
    subprocess.run(["gpg", "--homedir", str(home), "--batch", "--trust-model", "always",
                    "--throw-keyids", "-r", fingerprint, "-o", str(out), "--encrypt", str(source)],
                   check=True, capture_output=True)
    elapsed = time.perf_counter() - started
    out.unlink()
    return elapsed


def run_once(size_mib: int, kind: str, work: Path, editor) -> dict[str, float]:  # type: ignore[no-untyped-def]
    source = work / f"input-{size_mib}.{kind}"
    make_input(source, size_mib * MiB, kind)
    limit = str(size_mib + 64)
    env = {"PORTAL_MAX_UPLOAD_MB": limit, "PORTAL_MAX_SUBMISSION_MB": limit}
    with live_server(work / f"data-{size_mib}", editor.public, env) as server:
        assert server.process is not None
        author = HttpAuthor(server.url)
        author.new_author("bench")
        time.sleep(0.5)
        baseline_rss = tree_rss(server.process.pid)
        sampler = PeakSampler(server.process.pid)
        sampler.start()
        started = time.perf_counter()
        with open(source, "rb") as stream:
            status, review = author.upload("bench", [(source.name, stream, source.stat().st_size)])
        uploaded = time.perf_counter()
        if status != 200 or 'id="confirm"' not in review:
            raise RuntimeError(f"upload failed ({status}): {review[:2000]}")
        status, url, _ = author.confirm(review)
        finished = time.perf_counter()
        sampler.running = False
        sampler.join()
        if "/author/submission/" not in url:
            raise RuntimeError(f"confirm failed ({status})")
    gpg_seconds = gpg_baseline(editor.home, editor.fingerprint, source, work)
    source.unlink()
    return {
        "size_mib": size_mib, "upload_s": uploaded - started, "confirm_s": finished - uploaded,
        "total_s": finished - started, "gpg_s": gpg_seconds,
        "ratio": (finished - started) / gpg_seconds,
        "peak_growth_mib": (sampler.peak - baseline_rss) / MiB,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200,1024", help="sizes in MiB, comma-separated")
    parser.add_argument("--kind", choices=["wav", "text"], default="wav")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="penname-bench-") as tmp:
        work = Path(tmp)
        editor = make_keypair(work / "editor-gnupg", "Bench Editor <bench@penname.invalid>")
        try:
            print(f"{'size':>8} {'upload':>8} {'confirm':>8} {'total':>8} {'raw gpg':>8} "
                  f"{'ratio':>6} {'peak mem growth':>16}")
            for size in (int(s) for s in args.sizes.split(",")):
                r = run_once(size, args.kind, work, editor)
                print(f"{r['size_mib']:>5} MiB {r['upload_s']:>7.1f}s {r['confirm_s']:>7.1f}s "
                      f"{r['total_s']:>7.1f}s {r['gpg_s']:>7.1f}s {r['ratio']:>6.2f} "
                      f"{r['peak_growth_mib']:>12.1f} MiB", flush=True)
        finally:
            stop_agent(editor.home)
    return 0


if __name__ == "__main__":
    sys.exit(main())
