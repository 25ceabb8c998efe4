"""The attack mix of bench/load.py: what a state adversary does to the open authors' site.

Three kinds, each over Tor circuits of its own (tests/torrelay.py), run as
greenlets beside the normal authors so that their latency can be compared with
and without them in one run:

- slow bodies: connections that start a POST on every author route and send one
  byte of its body a second, for as long as the server keeps them (a new one
  when it does not), the attack that took both sites down before issue 16;
- malformed logins: the codename "x", as fast as the server answers;
- new codenames: `POST /author/new/`, as fast as the server answers.

Every answer is counted by its status, so the report says what each kind got.
"""

from __future__ import annotations

import re
import socket
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.cookiejar import CookieJar

import gevent

from tests.torrelay import CircuitRelay

_SUBMISSION = f"/author/submission/{uuid.uuid4()}"
# The routes of portal/authors/urls.py that take a POST (tests/test_flood_edge.py walks
# the URLconf itself; this list only feeds the benchmark).
AUTHOR_POSTS = ["/author/new/", "/author/login/", "/author/logout/", "/author/pen-name/",
                "/author/submit/", "/author/submit/confirm/", "/author/submit/cancel/",
                f"{_SUBMISSION}/withdraw/", f"{_SUBMISSION}/delete/", f"{_SUBMISSION}/message/",
                "/author/reply-key/own/", "/author/reply-key/generated/",
                "/author/reply-key/secret.asc", "/language/"]
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
DECLARED_LENGTH = 4000  # bytes each slow body promises (under every route's bound)


@dataclass
class Flood:
    tor: CircuitRelay
    slow_bodies: int = 50
    login_floods: int = 4
    new_floods: int = 4
    first_circuit: int = 0x00F0_0000
    answers: dict[str, Counter[str]] = field(default_factory=dict)
    _greenlets: list[gevent.Greenlet] = field(default_factory=list)

    def start(self) -> None:
        circuit = iter(range(self.first_circuit, self.first_circuit + 1_000_000))
        for i in range(self.slow_bodies):
            self._spawn(self._slow_body, AUTHOR_POSTS[i % len(AUTHOR_POSTS)], next(circuit))
        for _ in range(self.login_floods):
            self._spawn(self._post_loop, "malformed login", "/author/login/",
                        {"codename": "x"}, next(circuit))
        for _ in range(self.new_floods):
            self._spawn(self._post_loop, "new codename", "/author/new/", {"pen_name": ""},
                        next(circuit))

    def stop(self) -> None:
        gevent.killall(self._greenlets, timeout=10)

    def _spawn(self, function, *args) -> None:  # type: ignore[no-untyped-def]
        self._greenlets.append(gevent.spawn(function, *args))

    def _count(self, kind: str, answer: str) -> None:
        self.answers.setdefault(kind, Counter())[answer] += 1

    def _visitor(self, circuit: int) -> tuple[urllib.request.OpenerDirector, str, str, str]:
        """A client on `circuit` with a CSRF cookie and token, as any visitor gets them:
        the client, the site's address, the token and the cookie."""
        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        base = self.tor.url(circuit)
        page = opener.open(base + "/", timeout=120).read().decode()
        match = TOKEN.search(page)
        if not match:
            raise RuntimeError("no CSRF token on the start page")
        return opener, base, match.group(1), "; ".join(f"{c.name}={c.value}" for c in jar)

    def _post_loop(self, kind: str, path: str, fields: dict[str, str], circuit: int) -> None:
        while True:
            try:
                opener, base, token, _ = self._visitor(circuit)
            except (OSError, urllib.error.URLError) as error:
                self._count(kind, type(error).__name__)
                gevent.sleep(1)
                continue
            data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
            for _ in range(100):  # then a fresh visitor, as a script would
                request = urllib.request.Request(base + path, data=data,
                                                 headers={"Referer": base + "/"})
                try:
                    with opener.open(request, timeout=120) as response:
                        response.read()
                        self._count(kind, str(response.status))
                except urllib.error.HTTPError as error:
                    self._count(kind, str(error.code))
                except OSError as error:
                    self._count(kind, type(error).__name__)
                    gevent.sleep(1)

    def _slow_body(self, path: str, circuit: int) -> None:
        kind = "slow body"
        cookie = ""
        while not cookie:
            try:
                cookie = self._visitor(circuit)[3]
            except (OSError, urllib.error.URLError):
                gevent.sleep(1)
        content = ("multipart/form-data; boundary=b" if path == "/author/submit/"
                   else "application/x-www-form-urlencoded")
        head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
                f"Content-Type: {content}\r\nContent-Length: {DECLARED_LENGTH}\r\n\r\n").encode()
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.tor.port(circuit)),
                                              timeout=1) as conn:
                    conn.sendall(head)
                    self._count(kind, "started")
                    for _ in range(DECLARED_LENGTH - 1):  # never the last byte
                        try:
                            if conn.recv(1024):
                                self._count(kind, "answered early")
                                break
                            self._count(kind, "closed by the server")
                            break
                        except TimeoutError:
                            pass  # still waiting for the rest of the body: as hoped
                        conn.sendall(b"x")
            except OSError as error:
                self._count(kind, type(error).__name__)
                gevent.sleep(1)
