"""The production edge in a temporary directory: the real nginx with deploy/nginx's site,
reached the way tor reaches it (tests/torrelay.py), in front of a real or stand-in upstream.

Paths that belong to a production server (/var/log/nginx, /etc/nginx/snippets,
/opt/penname/static, the gunicorn sockets, the loopback ports) are moved into
the temporary directory; nothing else in the files is changed. The programs
come from Debian packages that .ci/run installs; without them the tests fail
(never skip), naming the package.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.liveserver import free_port
from tests.torrelay import CircuitRelay, circuit_relay

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
# The circuit that tests which do not care about circuits come over.
DEFAULT_CIRCUIT = 0x0001_0203


def require(program: str, package: str) -> str:
    """The program's path. A missing program fails the test: a skip would pass unchecked files."""
    found = shutil.which(program) or shutil.which(program, path="/usr/sbin:/sbin")
    if found is None:
        pytest.fail(f"DEPLOYMENT TEST NEEDS {program}: apt-get install {package} (.ci/run does)")
    return found


def nginx_conf(root: Path, upstream: str | None = None, ports: tuple[int, int] = (8080, 8081),
               editors_upstream: str | None = None, body_files_fail: bool = False) -> Path:
    """The site and its proxy snippet, moved into `root`, inside a minimal nginx.conf.

    Like Debian's nginx.conf, it turns an access log on for the whole http
    block, so the site has to turn it off itself. With `body_files_fail`, the
    place for request bodies nginx would keep on disk is a plain file: any
    attempt to write one fails that request with 500 instead of passing unseen.
    """
    moves = {"/var/log/nginx/": f"{root}/", "/etc/nginx/snippets/": f"{root}/",
             "/opt/penname/static/": f"{root}/static/",
             "127.0.0.1:8080": f"127.0.0.1:{ports[0]}", "127.0.0.1:8081": f"127.0.0.1:{ports[1]}"}
    if upstream:
        moves["unix:/run/penname/gunicorn.sock"] = upstream
        moves["unix:/run/penname/editors.sock"] = editors_upstream or upstream
    for name in ("penname.conf", "penname-proxy.conf"):
        text = (DEPLOY / "nginx" / name).read_text()
        for old, new in moves.items():
            text = text.replace(old, new)
        (root / name).write_text(text)
    # The portal's own static files, as collectstatic puts them (the "busy" page among them).
    shutil.copytree(ROOT / "portal" / "static", root / "static", dirs_exist_ok=True)
    if body_files_fail:
        (root / "client_body").write_text("not a directory: nginx may not keep a body on disk\n")
    conf = root / "nginx.conf"
    conf.write_text(f"""
{"user root;" if os.geteuid() == 0 else ""}
pid {root}/nginx.pid;
error_log {root}/error.log;
# As in Debian's nginx.conf.
worker_processes auto;
events {{ worker_connections 768; }}
http {{
    include /etc/nginx/mime.types;
    access_log {root}/access.log;
    client_body_temp_path {root}/client_body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    include {root}/penname.conf;
}}
""")
    return conf


@dataclass
class Edge:
    """A running nginx: `authors` comes over DEFAULT_CIRCUIT; `tor.url(n)` over circuit n."""

    root: Path
    authors: str
    editors: str
    tor: CircuitRelay
    authors_port: int


@contextmanager
def running_edge(root: Path, upstream: str, edit: Callable[[str], str] | None = None,
                 editors_upstream: str | None = None,
                 body_files_fail: bool = False) -> Iterator[Edge]:
    """The production site in front of `upstream` (and the editors' site in front of
    `editors_upstream`, the same one if not given); `edit` may change the site's text first."""
    nginx = require("nginx", "nginx")
    ports = (free_port(), free_port())
    root.mkdir(exist_ok=True)
    conf = nginx_conf(root, upstream, ports, editors_upstream, body_files_fail)
    if edit is not None:
        site = root / "penname.conf"
        site.write_text(edit(site.read_text()))
    process = subprocess.Popen([nginx, "-c", str(conf), "-p", str(root), "-g", "daemon off;"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", ports[1]), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not start: {process.stderr.read()!r}") from None
                time.sleep(0.1)
        with circuit_relay(ports[0]) as tor:
            yield Edge(root, tor.url(DEFAULT_CIRCUIT), f"http://127.0.0.1:{ports[1]}", tor,
                       ports[0])
    finally:
        process.terminate()
        process.wait(timeout=20)


@contextmanager
def running_nginx(root: Path, upstream: str,
                  edit: Callable[[str], str] | None = None) -> Iterator[tuple[str, str]]:
    """The authors' (over one Tor circuit) and editors' addresses of `running_edge`."""
    with running_edge(root, upstream, edit) as edge:
        yield edge.authors, edge.editors


@contextmanager
def silent_upstream() -> Iterator[str]:
    """A stand-in for gunicorn that accepts every connection and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in held:
            connection.close()
        listener.close()


class _Echo(BaseHTTPRequestHandler):
    """Answers every request with what reached it: its headers (as a list) and body length."""

    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        answer = json.dumps({"path": self.path, "headers": list(self.headers.items()),
                             "body_length": len(body)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def echo_upstream() -> Iterator[str]:
    """A stand-in for gunicorn that shows what nginx passed on (tests of headers and bodies)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
