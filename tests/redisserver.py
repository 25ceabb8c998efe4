"""A real, throwaway redis-server (memory only) on a free port, for tests that need Redis."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.liveserver import free_port


@contextmanager
def redis_server(directory: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """(the process, its URL); stopped at the end if the test did not stop it."""
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(directory)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield process, url
    finally:
        client.close()
        process.terminate()
        process.wait()
