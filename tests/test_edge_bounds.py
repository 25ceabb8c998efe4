"""What nginx lets through to the portal on the authors' site: bodies within their route's
bound, held in memory only, and the Tor circuit as tor named it, never as a client claims.

The bounds are sized from the real forms (portal/authors, portal/correspondence):
every form at its longest fits its route's bound, a body at the bound passes and one
byte more is refused by nginx, and no body ever reaches a temporary file (where a
message would lie in plaintext): the tests' nginx has a plain file where that
directory would be, so any attempt to write one fails its request loudly.
A stand-in upstream echoes what reached it.
"""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import subprocess
import urllib.parse
import urllib.request
import uuid

import pytest
from django.conf import settings
from django.urls import reverse

from portal.crypto.codenames import MAX_INPUT_CHARS
from portal.crypto.openpgp import MAX_KEY_BYTES
from tests.edge import DEPLOY, Edge, echo_upstream, require, running_edge
from tests.routes import all_routes
from tests.torrelay import circuit_address

WIDEST = "\U00020000"  # 𠀀: four bytes in UTF-8, twelve once form-encoded
CSRF = "x" * 64


def authors_site() -> str:
    site = (DEPLOY / "nginx" / "penname.conf").read_text()
    return site[:site.index("listen 127.0.0.1:8081;")]


def _bytes(size: str) -> int:
    number, unit = int(size[:-1]), size[-1]
    return number * {"k": 1024, "m": 1024 * 1024}[unit]


def body_limit(path: str) -> int:
    """client_max_body_size for `path` on the authors' site, as nginx chooses the location
    (an exact match first, then regular expressions in order, else the server's own)."""
    site = authors_site()
    blocks = re.findall(r"location (=|~) (\S+) \{(.*?)\n    \}", site, re.S)
    exact = [body for kind, where, body in blocks if kind == "=" and where == path]
    regex = [body for kind, where, body in blocks if kind == "~" and re.search(where, path)]
    chosen = (exact + regex)[:1]
    if chosen and (found := re.search(r"client_max_body_size (\d+[km]);", chosen[0])):
        return _bytes(found[1])
    return _bytes(re.findall(r"^    client_max_body_size (\d+[km]);", site, re.M)[0])


def longest_forms() -> tuple[dict[str, dict[str, str]], dict[str, uuid.UUID]]:
    """Every author form that is posted, at its longest, by the route it is posted to."""
    files = range(settings.DATA_UPLOAD_MAX_NUMBER_FILES)
    # An armoured public key of the largest size accepted: base64 in lines of 64, CRLF.
    armour = base64.b64encode(os.urandom(MAX_KEY_BYTES * 3 // 4)).decode()
    key = "\r\n".join(armour[i:i + 64] for i in range(0, len(armour), 64))[:MAX_KEY_BYTES]
    submission = {"public_id": uuid.uuid4()}
    return {
        "authors:new": {"pen_name": WIDEST * settings.PORTAL_MAX_PEN_NAME_CHARS, "style": "english"},
        "authors:login": {"codename": WIDEST * MAX_INPUT_CHARS, "show": "yes"},
        "authors:check_codename": {"check-codename": WIDEST * MAX_INPUT_CHARS, "show": "yes"},
        "authors:logout": {},
        "authors:pen_name": {"pen_name": WIDEST * settings.PORTAL_MAX_PEN_NAME_CHARS},
        "authors:confirm": {"pending": "0" * 32, "key": "k" * 64,
                            **{f"keep_name_{i}": "yes" for i in files},
                            **{f"send_uncleaned_{i}": "yes" for i in files}},
        "authors:cancel": {"pending": "0" * 32},
        "authors:withdraw": {"confirm": "yes"},
        "authors:delete": {"confirm": "yes"},
        "authors:write": {"text": WIDEST * settings.PORTAL_MAX_MESSAGE_CHARS},
        "authors:own_key": {"public_key": key},
        "authors:generated_key": {},
        "authors:secret_key": {"codename": WIDEST * MAX_INPUT_CHARS},
        "authors:language": {"language": "zh-hant",
                             "next": reverse("authors:received", kwargs=submission)},
    }, submission


# Routes that only answer GET; their bodies get the site's smallest bound all the same.
READ_ONLY = {"authors:start", "authors:home", "authors:received", "authors:message_asc",
             "authors:reply_key", "authors:logged_out", "authors:codename"}
# Uploads stream to the portal with their own bound (tests/test_deploy.py).
STREAMED = {"authors:submit"}


def test_every_author_form_at_its_longest_fits_the_bound_of_its_route():
    forms, submission = longest_forms()
    routes = {route.name: route for route in all_routes() if route.namespace == "authors"}
    # A new route must be placed here, and so be given a thought about its bound.
    assert set(routes) == set(forms) | READ_ONLY | STREAMED, set(routes) ^ (
        set(forms) | READ_ONLY | STREAMED)
    for name, fields in forms.items():
        path = routes[name].path({"number": 1, **submission})
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": CSRF, **fields}).encode()
        assert len(body) <= body_limit(path), (name, len(body), body_limit(path))
    # The bounds are no larger than they need be: the smallest covers every short form,
    # and only a message and a pasted key get more.
    assert body_limit("/author/login/") == 8 * 1024
    assert body_limit(reverse("authors:write", kwargs=submission)) == 256 * 1024
    assert body_limit("/author/reply-key/own/") == settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def post(edge: Edge, path: str, body: bytes, chunked: bool = False) -> tuple[int, dict]:  # type: ignore[type-arg]
    """POST `body` over a circuit, as it is or in chunks; the status and what the echo saw."""
    if chunked:
        framed = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 1000]), body[i:i + 1000])
                          for i in range(0, len(body), 1000)) + b"0\r\n\r\n"
        length = "Transfer-Encoding: chunked"
    else:
        framed, length = body, f"Content-Length: {len(body)}"
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{length}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", edge.tor.port(7)), timeout=30) as conn:
        conn.sendall(head)
        try:
            conn.sendall(framed)
        except OSError:
            pass  # nginx refused early and closed
        answer = b""
        try:
            while chunk := conn.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
    status = int(answer.split(b" ", 2)[1])
    seen = json.loads(answer.split(b"\r\n\r\n", 1)[1]) if status == 200 else {}
    return status, seen


@pytest.mark.parametrize("path", ["/author/login/", "/language/", "/author/logout/",
                                  "/author/submission/8d2c8e0e-3f4a-4c1b-9e55-0a1b2c3d4e5f/message/",
                                  "/author/reply-key/own/"])
def test_a_body_at_its_bound_passes_in_memory_and_one_byte_more_is_refused(tmp_path, path):
    limit = body_limit(path)
    with echo_upstream() as upstream, \
            running_edge(tmp_path / "nginx", upstream, body_files_fail=True) as edge:
        for chunked in (False, True):
            status, seen = post(edge, path, b"a" * limit, chunked)
            assert status == 200 and seen["body_length"] == limit, (chunked, status)
            status, seen = post(edge, path, b"a" * (limit + 1), chunked)
            assert status == 413 and seen == {}, (chunked, status)
    assert (tmp_path / "nginx" / "client_body").is_file()  # never a directory of bodies


def test_a_body_larger_than_nginx_s_buffer_would_reach_its_disk(tmp_path):
    """The check above can fail: with a buffer smaller than the bound, nginx writes the body
    to a temporary file, and the tests' nginx fails that request."""
    def small_buffer(site: str) -> str:
        assert "client_body_buffer_size 16k;" in site
        return site.replace("client_body_buffer_size 16k;", "client_body_buffer_size 4k;")

    with echo_upstream() as upstream, running_edge(tmp_path / "nginx", upstream, small_buffer,
                                                   body_files_fail=True) as edge:
        assert post(edge, "/author/login/", b"a" * 8192)[0] == 500


def circuit_headers(seen: dict) -> list[str]:  # type: ignore[type-arg]
    return [value for name, value in seen["headers"]
            if name.lower().replace("_", "-") == "x-penname-circuit"]


def test_the_circuit_reaching_the_portal_is_tor_s_never_the_client_s(tmp_path):
    forged = {"X-Penname-Circuit": circuit_address(6), "X_Penname_Circuit": circuit_address(6)}

    def get(url: str) -> dict:  # type: ignore[type-arg]
        request = urllib.request.Request(url + "/author/", headers=forged)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    with echo_upstream() as upstream, running_edge(tmp_path / "nginx", upstream) as edge:
        for circuit in (0x0000_0001, 0x2A00_029A, 0xFFFF_FFFF):
            assert circuit_headers(get(edge.tor.url(circuit))) == [circuit_address(circuit)]
        assert circuit_address(0x2A00_029A) == "fc00:dead:beef:4dad::2a00:29a"
        # The editors' service names no circuit, whatever the client says.
        assert circuit_headers(get(edge.editors)) == []
        # Nothing reaches the authors' site without tor's line first.
        with socket.create_connection(("127.0.0.1", edge.authors_port), timeout=10) as conn:
            conn.sendall(b"GET /author/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = conn.recv(65536)
        assert b"x-penname-circuit" not in answer.lower() and not answer.startswith(b"HTTP/1.1 200")
        # deploy/README.md's check of the site, by hand: curl speaking the PROXY protocol gets
        # through, as the loopback address, which is no circuit.
        curl = require("curl", "curl")
        shown = subprocess.run([curl, "-s", "--haproxy-protocol", "-H", "Host: authors",
                                f"http://127.0.0.1:{edge.authors_port}/health/"],
                               capture_output=True, text=True, timeout=30, check=True).stdout
        assert circuit_headers(json.loads(shown)) == ["127.0.0.1"]
    assert 'curl -s --haproxy-protocol -H "Host: <authors address>" http://127.0.0.1:8080/health/' \
        in (DEPLOY / "README.md").read_text()
