"""portal-editor sync benchmark: 100 submissions of 1 MB against raw `gpg --decrypt`.

Starts a real server, submits N one-file submissions (1 MB WAV recordings, which
the cleaner streams), then times `portal-editor sync` into an empty folder, and
in the same run `gpg --decrypt` of the same ciphertext files (files and
manifests) with the same key. Prints both and the ratio. Usage:

    .venv/bin/python bench/sync.py [--count 100] [--size-kib 1024]
"""

from __future__ import annotations

import argparse
import io
import os
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.gpgkeys import make_keypair, stop_agent
from tests.httpauthor import HttpAuthor
from tests.liveserver import EDITOR_PASSWORD, live_server, totp_now

# Several workers share sessions and throttles through Redis, as in production.
REDIS = "redis://127.0.0.1:6379/14"


def wav(size: int) -> bytes:
    data = os.urandom(size - 44)
    return (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE"
            + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 2, 44100, 44100 * 4, 4, 16)
            + b"data" + struct.pack("<I", len(data)) + data)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--size-kib", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="penname-bench-sync-") as tmp:
        work = Path(tmp)
        editor = make_keypair(work / "editor-gnupg", "Bench Editor <bench@penname.invalid>")
        try:
            # Two workers, as a production server would run (deploy/gunicorn.conf.py).
            with live_server(work / "data", editor.public, {"REDIS_URL": REDIS},
                             workers=2) as server:
                author = HttpAuthor(server.url)
                author.new_author("bench")
                for i in range(args.count):
                    data = wav(args.size_kib * 1024)
                    status, review = author.upload(f"talk {i}", [(f"talk-{i}.wav",
                                                   io.BytesIO(data), len(data))])
                    assert status == 200 and author.confirm(review)[0] == 200
                config = work / "editor.json"
                env = {**os.environ, "GNUPGHOME": str(editor.home)}
                editor_cli = [sys.executable, "-m", "portal.editor_client.cli", "--config",
                              str(config)]
                subprocess.run([*editor_cli, "login", "--server", server.url, "--username",
                                "editor", "--password-stdin", "--otp",
                                totp_now(server.editor_totp_secret)],
                               input=EDITOR_PASSWORD + "\n", text=True, env=env, check=True,
                               capture_output=True)
                started = time.perf_counter()
                subprocess.run([*editor_cli, "sync", str(work / "out")], env=env, check=True,
                               capture_output=True)
                sync_seconds = time.perf_counter() - started
                blobs = sorted((work / "data" / "store").glob("*.gpg"))
            started = time.perf_counter()
            for blob in blobs:
                subprocess.run(["gpg", "--homedir", str(editor.home), "--batch", "--quiet",
                                "-o", os.devnull, "--yes", "--decrypt", str(blob)],
                               check=False, capture_output=True)
            gpg_seconds = time.perf_counter() - started
        finally:
            stop_agent(editor.home)
    total_mb = args.count * args.size_kib / 1024
    print(f"{'submissions':>11} {'data':>8} {'portal-editor sync':>19} {'raw gpg --decrypt':>18} "
          f"{'ratio':>6}")
    print(f"{args.count:>11} {total_mb:>5.0f} MB {sync_seconds:>18.1f}s {gpg_seconds:>17.1f}s "
          f"{sync_seconds / gpg_seconds:>6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
