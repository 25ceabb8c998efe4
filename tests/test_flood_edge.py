"""Slow clients cannot silence the portal: nginx holds every author's body until it is whole.

Threat (issue 16): 24 POSTs to /author/login/, each sending a byte every 10 s,
took every gunicorn thread, and with them both onion services, because nginx
streamed every body to gunicorn as it came. Now nginx reads a small form's
body into memory in full before gunicorn sees it, only uploads stream (capped
in number, overall and per Tor circuit), and the editors' site has its own
gunicorn pool.

Everything runs as deployed: the production nginx site (paths moved only),
reached as tor reaches it (a PROXY line naming a circuit, tests/torrelay.py),
in front of gunicorn with the production configurations: the authors' pool
(2 workers x 8 threads, sharing Redis) and the editors' pool. The same attack
against the settings from before shows that the defence is what matters.
"""

from __future__ import annotations

import io
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from tests.edge import DEPLOY, Edge, running_edge
from tests.httpauthor import HttpAuthor
from tests.liveserver import BIN, LiveServer, free_port, live_server
from tests.routes import all_routes
from tests.services import Service

SLOW_CLIENTS = 50
# Each slow client says its body is this long, sends one byte a second, and never ends.
DECLARED_LENGTH = 4000
PATIENCE = 2.0  # seconds: how long GET / may take while they dribble
# Tor circuits of the attacker (one per slow client: the worst case for per-circuit caps)
# and of the author who only wants the start page.
ATTACKER_CIRCUITS = range(0x00AA_0001, 0x00AA_0001 + SLOW_CLIENTS)
AUTHOR_CIRCUIT = 0x0000_BEEF


def author_paths() -> list[str]:
    """Every route of the authors' pages, from portal/authors/urls.py: a new one is covered
    without touching this test. Routes that only answer GET get the body all the same."""
    values = {"public_id": uuid.uuid4(), "number": 1}
    paths = [route.path(values) for route in all_routes() if route.namespace == "authors"]
    assert "/author/login/" in paths and "/author/submit/" in paths and len(paths) >= 15
    return paths


@pytest.fixture(scope="module")
def redis_db(redis_server: Service) -> Iterator[str]:
    """Redis database 11 of the tests' Redis, empty before and after."""
    import redis

    url = redis_server.url + "/11"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()


@contextmanager
def editors_pool(authors: LiveServer) -> Iterator[LiveServer]:
    """gunicorn with deploy/gunicorn-editors.conf.py (its own size) on the same data."""
    pool = authors.twin()
    pool.port = free_port()
    log = authors.data_dir / pool.log_name
    pool.process = subprocess.Popen(
        [str(BIN / "gunicorn"), "--config", str(DEPLOY / "gunicorn-editors.conf.py"),
         "--bind", f"127.0.0.1:{pool.port}"],
        env=pool.env, stdout=subprocess.DEVNULL, stderr=open(log, "ab"))
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(pool.url + "/editor/login/", timeout=2).read()
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if pool.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(log.read_text()) from None
                time.sleep(0.2)
        yield pool
    finally:
        pool.stop()


@dataclass
class Pools:
    authors: LiveServer
    editors: LiveServer


@pytest.fixture(scope="module")
def pools(tmp_path_factory: pytest.TempPathFactory, editor_keypair, redis_db) -> Iterator[Pools]:  # type: ignore[no-untyped-def]
    data = tmp_path_factory.mktemp("flood") / "data"
    env = {"REDIS_URL": redis_db, "PORTAL_WORKERS": "2", "PORTAL_THREADS": "8"}
    with live_server(data, editor_keypair.public, env, workers=2) as authors, \
            editors_pool(authors) as editors:
        yield Pools(authors, editors)


class SlowClients:
    """Connections that each start a POST and then send one byte of its body a second."""

    def __init__(self, targets: list[tuple[str, int]], cookie: str) -> None:
        self.connections: list[tuple[str, socket.socket]] = []
        self.answered: dict[str, bytes] = {}  # path: the first bytes of the answer
        self._stop = threading.Event()
        for path, port in targets:
            conn = socket.create_connection(("127.0.0.1", port), timeout=10)
            kind = ("multipart/form-data; boundary=b" if path == "/author/submit/"
                    else "application/x-www-form-urlencoded")
            conn.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
                         f"Content-Type: {kind}\r\nContent-Length: {DECLARED_LENGTH}\r\n\r\n"
                         .encode())
            conn.setblocking(False)
            self.connections.append((path, conn))
        self._thread = threading.Thread(target=self._dribble, daemon=True)
        self._thread.start()

    def _dribble(self) -> None:
        while not self._stop.wait(1.0):
            for path, conn in self.connections:
                if path in self.answered:  # (several clients share a path)
                    continue
                try:
                    if answer := conn.recv(65536):  # the server answered instead of waiting
                        self.answered[path] = answer[:80]
                        continue
                except BlockingIOError:
                    pass
                except OSError as error:
                    self.answered[path] = str(error).encode()
                    continue
                try:
                    conn.send(b"x")
                except OSError as error:
                    self.answered[path] = str(error).encode()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for _, conn in self.connections:
            conn.close()


def seconds_for(url: str, limit: float = 10.0) -> float:
    """How long a GET takes to be answered in full (`limit` if it is not answered by then)."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=limit) as response:
            response.read()
            assert response.status == 200, url
    except (TimeoutError, urllib.error.URLError) as error:
        if "timed out" not in str(error):
            raise
        return limit
    return time.monotonic() - started


def attack_and_measure(edge: Edge, rounds: int = 5) -> tuple[dict[str, list[float]], SlowClients]:
    """50 slow clients over every author route, each on its own circuit; while they dribble,
    the start page of both sites and the editors' login page, once a second."""
    paths = author_paths()
    targets = [(paths[i % len(paths)], edge.tor.port(circuit))
               for i, circuit in enumerate(ATTACKER_CIRCUITS)]
    # A CSRF cookie, as any visitor gets one: without it Django refuses a POST before
    # reading its body, and the attack would measure nothing.
    visitor = HttpAuthor(edge.tor.url(ATTACKER_CIRCUITS[0]))
    visitor.get("/")
    cookie = "; ".join(f"{c.name}={c.value}" for c in visitor.jar)
    assert "csrftoken=" in cookie
    attack = SlowClients(targets, cookie)
    time.sleep(3)  # every slow client is in, and has sent a few bytes
    pages = {"authors GET /": edge.tor.url(AUTHOR_CIRCUIT) + "/",
             "editors GET /": edge.editors + "/",
             "editors GET /editor/login/": edge.editors + "/editor/login/"}
    taken: dict[str, list[float]] = {name: [] for name in pages}
    try:
        for _ in range(rounds):
            for name, url in pages.items():
                taken[name].append(seconds_for(url, limit=3 * PATIENCE))
            time.sleep(1)
    except BaseException:
        attack.close()
        raise
    return taken, attack


def test_fifty_slow_clients_on_every_author_route_leave_both_sites_answering(pools, tmp_path):
    """The issue's measured attack, doubled and spread over every author route: nginx holds
    every small body, at most 8 uploads reach gunicorn, and both sites answer in time."""
    with running_edge(tmp_path / "nginx", f"127.0.0.1:{pools.authors.port}",
                      editors_upstream=f"127.0.0.1:{pools.editors.port}",
                      body_files_fail=True) as edge:
        taken, attack = attack_and_measure(edge)
        try:
            print({name: [round(t, 3) for t in times] for name, times in taken.items()})
            for name, times in taken.items():
                assert max(times) < PATIENCE, (name, times)
            # The slow clients were still dribbling all along: nginx neither answered nor
            # dropped them (their bodies are not late yet), it just kept them from gunicorn.
            # Only uploads stream to the portal, which may answer one early.
            print(attack.answered)
            assert set(attack.answered) <= {"/author/submit/"}, attack.answered
        finally:
            attack.close()
    assert not list((tmp_path / "nginx").glob("client_body/*")), "a body reached nginx's disk"


def before_issue_16(site: str) -> str:
    """The authors' site as it was: every body streamed to gunicorn as it arrived."""
    assert site.count("proxy_request_buffering on;") == 1
    return site.replace("proxy_request_buffering on;", "proxy_request_buffering off;")


def test_without_the_defence_the_same_attack_stalls_both_sites(pools, tmp_path):
    """THE ATTACK WITHOUT THE DEFENCE: bodies streamed to gunicorn, and one pool for both
    sites, as before. The same 50 slow clients take every thread, and neither site answers
    its start page in time. (If this passes no more, the test above proves nothing.)"""
    with running_edge(tmp_path / "nginx", f"127.0.0.1:{pools.authors.port}",
                      before_issue_16) as edge:
        taken, attack = attack_and_measure(edge, rounds=2)
        attack.close()
    print({name: [round(t, 3) for t in times] for name, times in taken.items()})
    assert min(taken["authors GET /"]) >= PATIENCE, taken
    assert min(taken["editors GET /editor/login/"]) >= PATIENCE, taken
    # Once they stop, the server recovers by itself.
    deadline = time.monotonic() + 30
    while seconds_for(pools.authors.url + "/", limit=2) >= 2:
        assert time.monotonic() < deadline, "gunicorn did not recover after the attack"


def test_a_message_at_its_longest_goes_through_nginx_and_is_accepted(pools, tmp_path):
    """The largest body a real form makes on a buffered route: 20,000 four-byte characters."""
    from django.conf import settings

    with running_edge(tmp_path / "nginx", f"127.0.0.1:{pools.authors.port}",
                      editors_upstream=f"127.0.0.1:{pools.editors.port}",
                      body_files_fail=True) as edge:
        author = HttpAuthor(edge.authors)
        author.new_author()
        draft = b"a draft\n"
        status, review = author.upload("longest", [("a.txt", io.BytesIO(draft), len(draft))])
        assert status == 200, review[:300]
        status, where, _ = author.confirm(review)
        assert status == 200 and "/author/submission/" in where, (status, where)
        path = urllib.parse.urlsplit(where).path.lstrip("/")
        longest = "\U00020000" * settings.PORTAL_MAX_MESSAGE_CHARS  # 𠀀, four bytes in UTF-8
        status, where, page = author.post(f"/{path}message/", {"text": longest},
                                          token_from=f"/{path}")
        assert status == 200 and f"/{path}" in where, (status, where, page[:300])
        status, _, page = author.post(f"/{path}message/", {"text": longest + "x"},
                                      token_from=f"/{path}")
        assert "at most" in page, page[:500]  # the portal's own sentence, not nginx's 413
    assert not list((tmp_path / "nginx").glob("client_body/*"))
