"""Load run: 50 authors at once against gunicorn with the production configuration, on loopback.

Starts a real server (deploy/gunicorn.conf.py: two gthread workers sharing
Redis, the production Argon2id cost, DEBUG off) with a fresh data directory
and database, then runs locust headless: authors reading their pages and
logging in again with their codename, and authors uploading a draft and
confirming it (cleaned, encrypted with real gpg, fsynced), all at the same
time. /health/ is requested by a few clients in the same run: a bare Django
view with one database query, the baseline the author pages are compared to.

Figures: requests served, errors (target 0), p50 and p99 latency per kind of
request next to the baseline, and the resident memory of gunicorn and every
process under it (cleaner children and gpg included), sampled every few
seconds (target: flat after warm-up). Not part of `make test`. Usage:

    .venv/bin/python bench/load.py [--users 50] [--duration 120] [--redis redis://127.0.0.1:6379/13]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import gevent

# Importing locust patches the standard library for gevent (before anything opens a socket).
from locust import HttpUser, between, task
from locust.env import Environment

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.upload import tree_rss
from tests.gpgkeys import make_keypair, stop_agent
from tests.httpauthor import HttpAuthor
from tests.liveserver import live_server

MiB = 1024 * 1024
BASELINE = "GET /health/ (baseline)"
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CODENAME = re.compile(r'id="codename">([^<]+)<')
PENDING = re.compile(r'name="pending" value="([0-9a-f]{32})"')
KEY = re.compile(r'name="key" value="([A-Za-z0-9_-]+)"')
# A short draft with Chinese text, as most submissions are: a few pages.
DRAFT = ("第一章 夜班\n女工们在凌晨三点换班，机器的声音从不停下。\n"
         "Chapter one: the night shift, and what the women said to each other.\n" * 120).encode()


def token(page: str) -> str:
    match = TOKEN.search(page)
    if not match:
        raise ValueError("no CSRF token on the page")
    return match.group(1)


ERROR = re.compile(r'class="error"[^>]*>([^<]{0,160})')
CODENAMES: list[str] = []  # made before the measured run, shared by the clients


def why(page: str) -> str:
    match = ERROR.search(page)
    return match.group(1).strip() if match else page[:160].replace("\n", " ")


class Author(HttpUser):
    """Someone with a codename, coming back to their page (most visits are returns)."""

    abstract = True
    wait_time = between(0.2, 1.0)
    codename = ""

    def on_start(self) -> None:
        self.codename = CODENAMES[id(self) % len(CODENAMES)]
        self.log_in()

    def log_in(self) -> None:
        start = self.client.get("/", name="GET /").text
        with self.client.post("/author/login/", name="POST /author/login/", catch_response=True,
                              data={"csrfmiddlewaretoken": token(start), "codename": self.codename}) as r:
            if not r.url.endswith("/author/"):
                r.failure(f"login refused ({r.status_code}): {why(r.text)}")


class Reader(Author):
    weight = 6

    @task(5)
    def home(self) -> None:
        with self.client.get("/author/", name="GET /author/", catch_response=True) as response:
            if 'id="submit"' not in response.text and "closed" not in response.text:
                response.failure("not the author's page")

    @task(2)
    def start_page(self) -> None:
        self.client.get("/", name="GET /")

    @task(1)
    def log_in_again(self) -> None:
        page = self.client.get("/author/", name="GET /author/").text
        self.client.post("/author/logout/", data={"csrfmiddlewaretoken": token(page)},
                         name="POST /author/logout/")
        self.log_in()

    @task(1)
    def new_codename(self) -> None:
        """Someone new: a fresh codename (Argon2id and the author's reply key)."""
        client = self.client.__class__(self.host, request_event=self.client.request_event,
                                       user=self)  # a browser without this author's session
        start = client.get("/", name="GET /").text
        with client.post("/author/new/", data={"csrfmiddlewaretoken": token(start), "pen_name": "load"},
                         name="POST /author/new/", catch_response=True) as response:
            if response.status_code != 200 or not CODENAME.search(response.text):
                response.failure(f"no codename ({response.status_code}): {why(response.text)}")


class Uploader(Author):
    weight = 3

    @task
    def send_a_draft(self) -> None:
        page = self.client.get("/author/", name="GET /author/").text
        with self.client.post(
            "/author/submit/", name="POST /author/submit/ (upload + clean)", catch_response=True,
            data={"csrfmiddlewaretoken": token(page), "title": "夜班", "message": "load run"},
            files={"files": ("chapter.txt", DRAFT, "text/plain")},
        ) as response:
            pending, key = PENDING.search(response.text), KEY.search(response.text)
            if response.status_code != 200 or not pending or not key:
                response.failure(f"no review page ({response.status_code}): {why(response.text)}")
                return
            review = response.text
        with self.client.post(
            "/author/submit/confirm/", name="POST /author/submit/confirm/ (encrypt + store)",
            data={"csrfmiddlewaretoken": token(review), "pending": pending.group(1),
                  "key": key.group(1)},
            catch_response=True,
        ) as response:
            if "/author/submission/" not in response.url:
                response.failure(f"not received ({response.status_code}): {why(response.text)}")


class Monitor(HttpUser):
    """The baseline: a bare view (one database query, one look at the disk)."""

    weight = 1
    wait_time = between(0.2, 1.0)

    @task
    def health(self) -> None:
        with self.client.get("/health/", name=BASELINE, catch_response=True) as response:
            if response.text.strip() != "ok":
                response.failure("not ok")


def sample_memory(pid: int, every: float, samples: list[tuple[float, int]], started: float) -> None:
    while True:
        samples.append((time.monotonic() - started, tree_rss(pid)))
        gevent.sleep(every)


def redis_url(url: str) -> str:
    """The Redis database to share between workers, emptied; '' if Redis is not running."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        return ""
    client.flushdb()
    return url


def run(users: int, duration: float, redis: str, work: Path) -> int:
    editor = make_keypair(work / "editor-gnupg", "Load Editor <load@penname.invalid>")
    shared = redis_url(redis)
    workers = 2 if shared else 1
    env = {
        # The production Argon2id cost (the test helper's default is a cheap one).
        "PORTAL_KDF_TIME_COST": "3", "PORTAL_KDF_MEMORY_KIB": str(64 * 1024),
        "PORTAL_WORKERS": str(workers), "PORTAL_THREADS": "8",
        **({"REDIS_URL": shared} if shared else {}),
    }
    if not shared:
        print(f"Redis is not answering at {redis}: one worker instead of the production two")
    try:
        with live_server(work / "data", editor.public, env, workers=workers) as server:
            assert server.process is not None
            # Codenames to come back with, made before the clock starts (four at a time).
            with ThreadPoolExecutor(4) as pool:
                CODENAMES[:] = pool.map(lambda _: HttpAuthor(server.url).new_author("load"), range(8))
            environment = Environment(user_classes=[Reader, Uploader, Monitor], host=server.url)
            runner = environment.create_local_runner()
            samples: list[tuple[float, int]] = []
            started = time.monotonic()
            sampler = gevent.spawn(sample_memory, server.process.pid, 5.0, samples, started)
            runner.start(users, spawn_rate=10)
            gevent.sleep(duration)
            runner.quit()
            sampler.kill()
            samples.append((time.monotonic() - started, tree_rss(server.process.pid)))
            report(environment, samples, users, workers, duration)
            stored = len(list((work / "data" / "store").glob("*.gpg")))
            print(f"ciphertext files stored: {stored}")
            errors = environment.stats.total.num_failures
    finally:
        if shared:
            redis_url(shared)  # empty it again
        stop_agent(editor.home)
    return 1 if errors else 0


def report(environment: Any, samples: list[tuple[float, int]], users: int, workers: int,
           duration: float) -> None:
    stats = environment.stats
    print(f"\n{users} clients for {duration:.0f} s, gunicorn {workers} worker(s) x 8 threads, "
          "production settings, loopback")
    print(f"{'request':<48} {'served':>7} {'errors':>6} {'p50':>8} {'p99':>8} {'req/s':>6}")
    entries = sorted(stats.entries.values(), key=lambda e: (e.name != BASELINE, e.name))
    for entry in entries:
        print(f"{entry.name:<48} {entry.num_requests:>7} {entry.num_failures:>6} "
              f"{entry.get_response_time_percentile(0.5):>6.0f}ms "
              f"{entry.get_response_time_percentile(0.99):>6.0f}ms {entry.total_rps:>6.1f}")
    total = stats.total
    print(f"{'all requests':<48} {total.num_requests:>7} {total.num_failures:>6} "
          f"{total.get_response_time_percentile(0.5):>6.0f}ms "
          f"{total.get_response_time_percentile(0.99):>6.0f}ms {total.total_rps:>6.1f}")
    for error in stats.errors.values():
        print(f"  error: {error.method} {error.name}: {error.error} (x{error.occurrences})")
    # Memory: the whole process tree, every few seconds; flat means no growth after warm-up.
    line = "  ".join(f"{t:.0f}s {rss / MiB:.0f}" for t, rss in samples[:: max(1, len(samples) // 12)])
    print(f"server memory (MiB, gunicorn and all children): {line}")
    warm = [rss for t, rss in samples if t >= duration / 4]
    if len(warm) >= 4:
        quarter = len(warm) // 4
        first, last = statistics.median(warm[:quarter]), statistics.median(warm[-quarter:])
        print(f"after warm-up: median {first / MiB:.0f} MiB in the first quarter, "
              f"{last / MiB:.0f} MiB in the last (growth {(last - first) / MiB:+.0f} MiB), "
              f"peak {max(warm) / MiB:.0f} MiB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50, help="concurrent clients (default 50)")
    parser.add_argument("--duration", type=float, default=120, help="seconds of load (default 120)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13",
                        help="Redis database the workers share (emptied before and after)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="penname-load-") as tmp:
        return run(args.users, args.duration, args.redis, Path(tmp))


if __name__ == "__main__":
    sys.exit(main())
