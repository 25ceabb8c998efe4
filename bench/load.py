"""Load run: 50 authors at once, first alone and then beside an attack, through the production edge.

Starts a real server (deploy/gunicorn.conf.py: two gthread workers sharing
Redis, the production Argon2id cost, DEBUG off) with a fresh data directory
and database, the production nginx site in front of it (tests/edge.py) and a
stand-in for tor that gives every client its own Tor circuit
(tests/torrelay.py), then runs locust headless: authors reading their pages and
logging in again with their codename, and authors uploading a draft and
confirming it (cleaned, encrypted with real gpg, fsynced), all at the same
time. /health/ is requested by a few clients in the same run: a bare Django
view with one database query, the baseline the author pages are compared to.

The run has two halves of `--duration` seconds each: the authors alone, then
the authors beside the attack mix of bench/flood.py (slow bodies on every
author route, malformed logins, new-codename floods), each attacker on circuits
of its own. `--attack slow` sends the slow bodies alone (what nginx answers by itself,
without the portal's per-circuit budgets); `--attack none` runs the first half only.

Figures: requests served, errors (target 0), p50 and p99 latency per kind of
request, in each half, next to the baseline; what each kind of attack got; and
the resident memory of gunicorn and every process under it (cleaner children
and gpg included), sampled every few seconds (target: flat after warm-up). Not
part of `make test`. Usage:

    .venv/bin/python bench/load.py [--users 50] [--duration 120] [--attack all|slow|none] \
        [--redis redis://127.0.0.1:6379/13]
"""

from __future__ import annotations

import argparse
import itertools
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

from bench.flood import Flood
from bench.upload import tree_rss
from tests.edge import running_edge
from tests.gpgkeys import make_keypair, stop_agent
from tests.httpauthor import HttpAuthor
from tests.liveserver import live_server
from tests.torrelay import CircuitRelay

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
# Every client comes over a Tor circuit of its own (set before the run starts).
TOR: list[CircuitRelay] = []
CIRCUITS = itertools.count(0x0001_0001)


def own_circuit(user: HttpUser) -> None:
    """This client's requests go through nginx as tor would hand them over from one circuit."""
    user.client.base_url = TOR[0].url(next(CIRCUITS))


def why(page: str) -> str:
    match = ERROR.search(page)
    return match.group(1).strip() if match else page[:160].replace("\n", " ")


class Author(HttpUser):
    """Someone with a codename, coming back to their page (most visits are returns)."""

    abstract = True
    wait_time = between(0.2, 1.0)
    codename = ""

    def on_start(self) -> None:
        own_circuit(self)
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
        # A new visitor: a browser without this author's session, on a circuit of its own.
        client = self.client.__class__(TOR[0].url(next(CIRCUITS)),
                                       request_event=self.client.request_event, user=self)
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

    def on_start(self) -> None:
        own_circuit(self)

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


Snapshot = dict[str, tuple[int, int, float, float]]  # name: served, errors, p50, p99 (ms)


def snapshot(environment: Any) -> tuple[Snapshot, list[str]]:
    """The figures of the half just run, and its errors."""
    stats = environment.stats
    figures = {entry.name: (entry.num_requests, entry.num_failures,
                            entry.get_response_time_percentile(0.5),
                            entry.get_response_time_percentile(0.99))
               for entry in stats.entries.values()}
    total = stats.total
    figures["all requests"] = (total.num_requests, total.num_failures,
                               total.get_response_time_percentile(0.5),
                               total.get_response_time_percentile(0.99))
    errors = [f"{e.method} {e.name}: {e.error} (x{e.occurrences})" for e in stats.errors.values()]
    return figures, errors


def run(users: int, duration: float, redis: str, work: Path, attack: str) -> int:
    editor = make_keypair(work / "editor-gnupg", "Load Editor <load@penname.invalid>")
    shared = redis_url(redis)
    workers = 2 if shared else 1
    env = {
        # The production Argon2id cost (the test helper's default is a cheap one).
        "PORTAL_KDF_TIME_COST": "3", "PORTAL_KDF_MEMORY_KIB": str(64 * 1024),
        "PORTAL_WORKERS": str(workers), "PORTAL_THREADS": "8",
        # The production budgets per circuit (tests/liveserver.py lifts them for tests)...
        # the ones the attack meets...
        "PORTAL_LOGIN_FAILURES_PER_CIRCUIT": "10", "PORTAL_NEW_CODENAMES_PER_CIRCUIT": "3",
        "PORTAL_CODENAME_FAILURES_PER_MINUTE": "60",
        # ...but upload budgets and the new-codename ceiling sized to this run: its 50
        # authors upload and make codenames more in two minutes than a magazine's in a month.
        "PORTAL_UPLOADS_PER_CIRCUIT": "100000", "PORTAL_UPLOADS_PER_HOUR": "100000",
        "PORTAL_NEW_CODENAMES_PER_HOUR": "100000",
        **({"REDIS_URL": shared} if shared else {}),
    }
    if not shared:
        print(f"Redis is not answering at {redis}: one worker instead of the production two")
    halves: list[tuple[str, Snapshot, list[str]]] = []
    try:
        with live_server(work / "data", editor.public, env, workers=workers) as server, \
                running_edge(work / "nginx", f"127.0.0.1:{server.port}") as edge:
            assert server.process is not None
            TOR[:] = [edge.tor]
            # Codenames to come back with, made before the clock starts (four at a time).
            with ThreadPoolExecutor(4) as pool:
                CODENAMES[:] = pool.map(lambda _: HttpAuthor(edge.tor.url(next(CIRCUITS)))
                                        .new_author("load"), range(8))
            environment = Environment(user_classes=[Reader, Uploader, Monitor], host=edge.authors)
            runner = environment.create_local_runner()
            samples: list[tuple[float, int]] = []
            started = time.monotonic()
            sampler = gevent.spawn(sample_memory, server.process.pid, 5.0, samples, started)
            runner.start(users, spawn_rate=10)
            gevent.sleep(duration)
            halves.append(("authors alone", *snapshot(environment)))
            flood = Flood(edge.tor, **({"login_floods": 0, "new_floods": 0}
                                       if attack == "slow" else {}))
            if attack != "none":
                environment.stats.reset_all()
                flood.start()
                gevent.sleep(duration)
                halves.append(("beside the attack", *snapshot(environment)))
            runner.quit()
            flood.stop()
            sampler.kill()
            samples.append((time.monotonic() - started, tree_rss(server.process.pid)))
            report(halves, flood, samples, users, workers, duration)
            stored = len(list((work / "data" / "store").rglob("*.gpg")))
            print(f"ciphertext files stored: {stored}")
    finally:
        if shared:
            redis_url(shared)  # empty it again
        stop_agent(editor.home)
    return 1 if halves[0][1]["all requests"][1] else 0


def report(halves: list[tuple[str, Snapshot, list[str]]], flood: Flood,
           samples: list[tuple[float, int]], users: int, workers: int, duration: float) -> None:
    print(f"\n{users} clients, {duration:.0f} s each half, gunicorn {workers} worker(s) x 8 "
          "threads behind the production nginx site, each client on its own Tor circuit, "
          "production settings, loopback")
    names = sorted({name for _, figures, _ in halves for name in figures},
                   key=lambda n: (n == "all requests", n != BASELINE, n))
    print(f"{'request':<48}" + "".join(f" | {label:^34}" for label, _, _ in halves))
    print(" " * 48 + " | served errors      p50      p99" * len(halves))
    for name in names:
        cells = []
        for _, figures, _ in halves:
            served, failed, p50, p99 = figures.get(name, (0, 0, 0.0, 0.0))
            cells.append(f" | {served:>6} {failed:>6} {p50:>6.0f}ms {p99:>6.0f}ms")
        print(f"{name:<48}" + "".join(cells))
    for label, _, errors in halves:
        for error in errors:
            print(f"  error ({label}): {error}")
    for kind, answers in flood.answers.items():
        print(f"attack, {kind}: " + ", ".join(f"{answer} x{count}"
                                              for answer, count in answers.most_common()))
    # Memory: the whole process tree, every few seconds; flat means no growth after warm-up.
    line = "  ".join(f"{t:.0f}s {rss / MiB:.0f}" for t, rss in samples[:: max(1, len(samples) // 12)])
    print(f"server memory (MiB, gunicorn and all children): {line}")
    warm = [rss for t, rss in samples if t >= duration / 4]  # (both halves)
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
    parser.add_argument("--attack", choices=("all", "slow", "none"), default="all",
                        help="the second half's attack: the whole mix, slow bodies only, or none")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13",
                        help="Redis database the workers share (emptied before and after)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="penname-load-") as tmp:
        return run(args.users, args.duration, args.redis, Path(tmp), args.attack)


if __name__ == "__main__":
    sys.exit(main())
