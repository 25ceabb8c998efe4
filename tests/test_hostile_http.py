"""Hostile input over HTTP: file names, malformed multipart, huge headers, slow loris, downloads.

Threats answered: an upload whose file name walks out of the store or hides its
real extension; a request body built to confuse the multipart parser; requests
that tie up the server by being huge or by never finishing; an uploaded HTML or
SVG file that a browser would run if the server ever served it inline; guessable
secrets; a key-derivation function fed a megabyte.

Most of these go over real HTTP to a real gunicorn with the production
configuration (tests/liveserver.py), and the slow-loris tests go through the
production nginx site in front of it, as deployed. The cleaner's own fuzz and
property tests are in tests/sanitize/.
"""

from __future__ import annotations

import ast
import io
import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client

from tests.authoring import confirm, new_author, review_of, upload
from tests.editorial.editors import make_editor, verified_client
from tests.httpauthor import HttpAuthor
from tests.liveserver import LiveServer, live_server

ROOT = Path(__file__).resolve().parent.parent
CIPHERTEXT_NAME = re.compile(r"^[0-9a-f]{32}\.gpg$")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, editor_keypair) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    """One gunicorn for this module, with its own data directory and temp directory."""
    root = tmp_path_factory.mktemp("hostile")
    (root / "tmp").mkdir()
    with live_server(root / "data", editor_keypair.public,
                     extra_env={"TMPDIR": str(root / "tmp")}) as live:
        yield live


def files_under(*roots: Path) -> set[Path]:
    return {p for root in roots for p in root.rglob("*") if p.is_file()}


def spool_files(server: LiveServer) -> list[Path]:
    return [p for p in (server.data_dir / "spool" / "uploads").glob("*") if p.is_file()]


def raw_request(server: LiveServer, data: bytes, timeout: float = 30) -> bytes:
    """Send bytes as they are and return everything the server answers until it closes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as conn:
        try:
            conn.sendall(data)
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server stopped reading (and may have answered already)
        answer = io.BytesIO()
        try:
            while chunk := conn.recv(65536):
                answer.write(chunk)
        except ConnectionResetError:
            pass
    return answer.getvalue()


def status_of(answer: bytes) -> int:
    match = re.match(rb"HTTP/1\.[01] (\d{3}) ", answer)
    return int(match.group(1)) if match else 0


def assert_still_serving(server: LiveServer) -> None:
    """The server answers the next request, and nothing so far crashed inside it."""
    answer = raw_request(server, b"GET /health/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    assert status_of(answer) == 200, answer[:300]
    log = (server.data_dir / server.log_name).read_text(errors="replace")
    assert "Traceback" not in log and "Error handling request" not in log, log[-3000:]


# --- File names -------------------------------------------------------------------------

HOSTILE_NAMES = {
    "../../etc/passwd": "passwd",
    "..\\..\\..\\windows\\win.ini": "win.ini",
    "draft\x00.exe.txt": "draft.exe.txt",
    "holiday\u202egpj.exe": "holidaygpj.exe",  # shows as "holidayexe.jpg" with the override
    '<img src=x onerror="alert(1)">.txt': '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;.txt',
}


def test_hostile_file_names_never_reach_the_disk_and_are_shown_escaped(server, editor_keypair):
    author = HttpAuthor(server.url)
    author.new_author()
    before = files_under(server.data_dir.parent)
    passwd = Path("/etc/passwd").stat().st_mtime_ns
    body = b"plain words, nothing more\n"
    status, page = author.upload("names", [(name, io.BytesIO(body), len(body))
                                           for name in HOSTILE_NAMES])
    assert status == 200 and 'id="confirm"' in page, page[:2000]
    for hostile, shown in HOSTILE_NAMES.items():
        # Her file's name is in plain type under a heading that names the file by number.
        assert f'class="file-facts">{shown} · ' in page, f"{hostile!r} should be shown as {shown!r}"
    for forbidden in ("../", "..\\", "\x00", "\u202e", "<img", 'onerror="'):
        assert forbidden not in page

    # A name that ends in .exe (behind its override) is a program: never sent, no tick.
    program = list(HOSTILE_NAMES).index("holiday\u202egpj.exe")
    assert f'name="send_uncleaned_{program}"' not in page
    # The author keeps every name, and ticks the program in: the hostile names still
    # reach editors only made safe, and the program not at all.
    status, where, _ = author.confirm(page, **{f"keep_name_{i}": "yes"
                                               for i in range(len(HOSTILE_NAMES))},
                                      **{f"send_uncleaned_{program}": "yes"})
    assert status == 200 and "/author/submission/" in where, (status, where)
    assert Path("/etc/passwd").stat().st_mtime_ns == passwd
    new = files_under(server.data_dir.parent) - before
    store = server.data_dir / "store"
    written = {p for p in new if p.parent in (store, store / ".batch")}
    assert len(written) == len(HOSTILE_NAMES)  # one ciphertext per file sent, and the manifest
    assert all(CIPHERTEXT_NAME.match(p.name) for p in written)
    # Nothing else appeared except the database, the server's log and key material.
    for path in new - written:
        assert path.is_relative_to(server.data_dir), path
        assert not any(part in path.name for part in ("passwd", "win.ini", "draft", "holiday",
                                                      "img")), path

    manifests = []
    for path in written:
        plain = editor_keypair.decrypt(path)
        if plain.startswith(b"{"):
            manifests.append(json.loads(plain))
    assert len(manifests) == 1
    names = [f["name"] for f in manifests[0]["files"]]
    assert sorted(names) == sorted(
        ["passwd", "win.ini", "draft.exe.txt", '<img src=x onerror="alert(1)">.txt'])


def test_a_ten_thousand_character_file_name_is_refused_cleanly(server):
    author = HttpAuthor(server.url)
    author.new_author()
    body = b"words\n"
    status, page = author.upload("long", [("x" * 10_000 + ".txt", io.BytesIO(body), len(body))])
    # Django reads at most 1 KiB of a part's headers: a longer one is refused as a whole.
    assert status == 400
    assert "The request could not be understood." in page
    assert 'id="confirm"' not in page
    assert "x" * 300 not in page
    assert spool_files(server) == []
    # A long name that still fits is shortened to the limit for display and the manifest.
    status, page = author.upload("long", [("y" * 900 + ".txt", io.BytesIO(body), len(body))])
    assert status == 200
    shown = re.search(r'class="file-facts">(y+…\.txt) · ', page)
    assert shown and len(shown.group(1)) <= 200


# --- Malformed multipart ------------------------------------------------------------------


def multipart_post(server: LiveServer, author: HttpAuthor, content_type: str, body: bytes,
                   declared_length: int | None = None) -> bytes:
    cookies = "; ".join(f"{c.name}={c.value}" for c in author.jar)
    length = len(body) if declared_length is None else declared_length
    head = (f"POST /author/submit/ HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Cookie: {cookies}\r\nReferer: {server.url}/author/\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {length}\r\n"
            f"Connection: close\r\n\r\n").encode()
    return raw_request(server, head + body)


def form_head(boundary: str, token: str) -> bytes:
    return (f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n'
            f'{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\n'
            f'malformed\r\n').encode()


def file_part(boundary: str, disposition: str = 'name="files"; filename="a.txt"') -> bytes:
    return (f"--{boundary}\r\nContent-Disposition: form-data; {disposition}\r\n"
            f"Content-Type: text/plain\r\n\r\n").encode() + b"words in a file\n" * 1000


UNDERSTOOD = "The request could not be understood."
NO_FILE = "Please choose at least one file."
CSRF = "was not sent from this site"
# case: (Content-Type, status, the sentence the author reads); the boundary is "b0undary".
MALFORMED = {
    "no boundary": ("multipart/form-data", 400, UNDERSTOOD),
    "boundary too long": ("multipart/form-data; boundary=" + "b" * 5000, 400, UNDERSTOOD),
    # The CSRF token is in a part that is never found.
    "boundary that never appears": ("multipart/form-data; boundary=neverthere", 403, CSRF),
    "final boundary missing": ("multipart/form-data; boundary=b0undary", 400, NO_FILE),
    "part without a name": ("multipart/form-data; boundary=b0undary", 400, NO_FILE),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_multipart_is_refused_with_a_plain_page(server, case):
    author = HttpAuthor(server.url)
    author.new_author()
    token = author.token(author.get("/author/"))
    boundary = "b0undary"
    body = form_head(boundary, token)
    if case == "part without a name":
        body += file_part(boundary, 'filename="a.txt"') + f"\r\n--{boundary}--\r\n".encode()
    elif case == "final boundary missing":
        body += file_part(boundary)
    else:
        body += file_part(boundary) + f"\r\n--{boundary}--\r\n".encode()
    content_type, status, sentence = MALFORMED[case]
    answer = multipart_post(server, author, content_type, body)
    text = answer.decode("utf-8", "replace")
    assert status_of(answer) == status, text[:500]
    assert sentence in text
    assert "Traceback" not in text and "MultiPart" not in text and "Invalid boundary" not in text
    assert spool_files(server) == []
    assert_still_serving(server)


def test_a_truncated_upload_leaves_nothing_behind(server):
    author = HttpAuthor(server.url)
    author.new_author()
    token = author.token(author.get("/author/"))
    boundary = "b0undary"
    body = form_head(boundary, token) + file_part(boundary) + f"\r\n--{boundary}--\r\n".encode()
    # The client promises more than it sends, then closes its side.
    multipart_post(server, author, f"multipart/form-data; boundary={boundary}",
                   body[: len(body) // 2], declared_length=len(body))
    deadline = time.monotonic() + 10
    while spool_files(server) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert spool_files(server) == []
    assert_still_serving(server)


# --- Huge headers -------------------------------------------------------------------------


HUGE = {
    "long request line": (f"GET /{'a' * 100_000} HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    "huge header": (f"GET / HTTP/1.1\r\nHost: x\r\nX-Big: {'a' * 1_000_000}\r\n\r\n", 431),
    "many headers": ("GET / HTTP/1.1\r\nHost: x\r\n"
                     + "".join(f"X-H{i}: v\r\n" for i in range(1000)) + "\r\n", 431),
}


@pytest.mark.parametrize("case", sorted(HUGE))
def test_huge_headers_are_refused_before_the_application(server, case):
    request, status = HUGE[case]
    started = time.monotonic()
    answer = raw_request(server, request.encode())
    assert time.monotonic() - started < 10
    assert status_of(answer) == status, answer[:300]
    assert b"Traceback" not in answer and b"Penname" not in answer  # gunicorn's, not Django's
    assert_still_serving(server)


# --- Slow loris ---------------------------------------------------------------------------
#
# In production nginx stands in front of gunicorn (deploy/nginx/penname.conf) and is what
# cuts slow clients off: on the authors' site a request's headers must arrive within
# client_header_timeout (20 s), a small form's body may pause at most client_body_timeout
# (20 s) and an upload's 300 s between two pieces. gunicorn's gthread worker has no
# deadline of its own for a request it has started to read, so these limits (and nginx
# reading small bodies whole before passing them on: tests/test_flood_edge.py) are the
# protection. The tests run the production site with these limits shortened to SHORT
# seconds (nothing else changed) in front of the real gunicorn, reached as tor reaches it.

SHORT = 2


def test_production_slow_client_limits_are_the_documented_ones():
    site = (ROOT / "deploy" / "nginx" / "penname.conf").read_text()
    authors, editors = site.split("listen 127.0.0.1:8081;")
    upload = authors[authors.index("location = /author/submit/"):]
    upload = upload[:upload.index("}")]
    assert re.findall(r"client_header_timeout (\w+);", authors) == ["20s"]
    assert re.findall(r"client_body_timeout (\w+);", authors) == ["20s", "300s"]
    assert "client_body_timeout 300s;" in upload
    assert re.findall(r"client_header_timeout (\w+);", editors) == ["60s"]
    assert re.findall(r"client_body_timeout (\w+);", editors) == ["300s"]


@pytest.fixture(scope="module")
def nginx(server, tmp_path_factory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The authors' nginx site in front of the module's gunicorn, with SHORT timeouts."""
    from tests.edge import running_nginx

    def shorten(site: str) -> str:
        shortened = re.sub(r"client_(header|body)_timeout \d+s;",
                           lambda m: f"client_{m[1]}_timeout {SHORT}s;", site)
        assert shortened.count(f"_timeout {SHORT}s;") == 5
        return shortened

    with running_nginx(tmp_path_factory.mktemp("nginx"), f"127.0.0.1:{server.port}",
                       shorten) as (authors, _):
        yield authors


def seconds_until_closed(conn: socket.socket, trickle: bytes = b"", limit: float = 30) -> float:
    """Send `trickle` a byte every 0.2 s (then nothing) until the server closes; the time taken."""
    started = time.monotonic()
    conn.settimeout(0.2)
    sent = 0
    while time.monotonic() - started < limit:
        try:
            if conn.recv(65536) == b"":
                return time.monotonic() - started
        except TimeoutError:
            pass
        except ConnectionResetError:
            return time.monotonic() - started
        if sent < len(trickle):
            try:
                conn.send(trickle[sent : sent + 1])
            except OSError:
                return time.monotonic() - started
            sent += 1
    raise AssertionError(f"still open after {limit} s")


def test_slow_loris_headers_are_cut_off_at_the_header_limit(nginx):
    host, port = nginx.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        trickle = b"GET / HTTP/1.1\r\nHost: " + host.encode() + b"\r\nX-Slow: " + b"a" * 500
        taken = seconds_until_closed(conn, trickle)
    assert SHORT - 0.5 <= taken <= SHORT + 3, taken


def test_a_stalled_form_body_is_cut_off_at_the_body_limit(nginx):
    """A login form that stops halfway: nginx, which reads it whole before gunicorn sees it,
    gives up after the body limit."""
    host, port = nginx.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(f"POST /author/login/ HTTP/1.1\r\nHost: {host}\r\nContent-Length: 500\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\n\r\ncodename=".encode())
        taken = seconds_until_closed(conn)
    assert SHORT - 0.5 <= taken <= SHORT + 3, taken


def test_a_stalled_upload_is_cut_off_and_leaves_nothing_behind(nginx, server):
    author = HttpAuthor(nginx)
    author.new_author()
    token = author.token(author.get("/author/"))
    cookies = "; ".join(f"{c.name}={c.value}" for c in author.jar)
    boundary = "b0undary"
    body = form_head(boundary, token) + file_part(boundary) + b"more words\n" * 30_000  # unfinished
    host, port = nginx.removeprefix("http://").split(":")
    head = (f"POST /author/submit/ HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: {cookies}\r\n"
            f"Referer: {nginx}/author/\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(body) * 2}\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(head + body)
        deadline = time.monotonic() + 10  # the first part reaches the application's spool
        while not spool_files(server) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert spool_files(server), "the upload never reached the application"
        taken = seconds_until_closed(conn)
    assert SHORT - 1 <= taken <= SHORT + 3, taken
    deadline = time.monotonic() + 10
    while spool_files(server) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert spool_files(server) == [], "the cut-off upload left its spool behind"
    assert_still_serving(server)


# --- Nothing uploaded is served inline ----------------------------------------------------

ATTACHMENT_TYPES = ("application/octet-stream", "application/pgp-encrypted", "application/pgp-keys")


def assert_attachment(response) -> bytes:  # type: ignore[no-untyped-def]
    assert response.status_code in (200, 206), response.status_code
    assert response["Content-Disposition"].startswith("attachment;"), response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"].split(";")[0] in ATTACHMENT_TYPES, response["Content-Type"]
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.django_db
def test_every_download_is_an_attachment_never_inline(data_dir, editor_keypair):
    """Uploaded HTML and SVG with scripts, and everything else that can be downloaded."""
    from portal.editors.models import Editor
    from portal.submissions.models import Submission
    from portal.submissions.tokens import ApiToken

    editor = make_editor("ed", Editor.Role.MANAGING, key=editor_keypair.public)
    author = Client()
    codename = new_author(author)
    html = b"<!doctype html><html><body><script>alert('inline')</script></body></html>"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
    review = review_of(upload(author, [("page.html", html), ("image.svg", svg)]))
    include = {f"send_uncleaned_{i}": "yes" for i in range(2)}  # whatever the cleaner made of them
    assert confirm(author, review, **include).status_code == 302
    submission = Submission.objects.get()
    assert author.post(f"/author/submission/{submission.public_id}/message/",
                       {"text": "a question"}).status_code == 302

    web = verified_client(editor)
    _, token = ApiToken.issue(editor, label="test")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    blobs = [submission.manifest_blob, *submission.files.values_list("blob", flat=True)]
    assert len(blobs) == 3
    for blob in blobs:
        for body in (assert_attachment(web.get(f"/editor/ciphertext/{submission.public_id}/{blob}")),
                     assert_attachment(api.get(f"/api/v1/submissions/{submission.public_id}/blobs/{blob}")),
                     assert_attachment(api.get(f"/api/v1/submissions/{submission.public_id}/blobs/{blob}",
                                               HTTP_RANGE="bytes=10-"))):
            assert b"<script" not in body and b"<svg" not in body
    message = assert_attachment(author.get(f"/author/submission/{submission.public_id}/message/1.asc"))
    assert message.startswith(b"-----BEGIN PGP MESSAGE-----")
    secret = assert_attachment(author.post("/author/reply-key/secret.asc", {"codename": codename}))
    assert secret.startswith(b"-----BEGIN PGP PRIVATE KEY BLOCK-----")


# --- Secrets and the codename KDF ----------------------------------------------------------


def test_no_security_code_uses_a_predictable_random_generator():
    """Secrets come from `secrets` (the OS CSPRNG); `random` and time-based UUIDs never appear."""
    uses_secrets = set()
    for path in (ROOT / "portal").rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert not any(a.name.split(".")[0] == "random" for a in node.names), path
            elif isinstance(node, ast.ImportFrom):
                assert (node.module or "").split(".")[0] != "random", path
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                assert (node.value.id, node.attr) not in (("uuid", "uuid1"), ("os", "getrandom")), path
                if node.value.id == "secrets":
                    uses_secrets.add(path.relative_to(ROOT).as_posix())
    # Codenames, spool keys, ciphertext and pending-upload names, API tokens.
    assert {"portal/crypto/codenames.py", "portal/crypto/spool.py", "portal/store.py",
            "portal/authors/pending.py", "portal/submissions/tokens.py"} <= uses_secrets


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/author/login/", "/author/reply-key/secret.asc"])
def test_a_megabyte_codename_is_refused_before_the_kdf(monkeypatch, data_dir, editor, path):
    from portal.crypto import codenames

    calls = []
    real = codenames.hash_secret_raw

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(codenames, "hash_secret_raw", counted)
    client = Client()
    codename = new_author(client)
    if path == "/author/login/":
        client = Client()
    calls.clear()
    wrong = " ".join(codename.split()[::-1])  # well formed, not this author's
    assert client.post(path, {"codename": wrong}).status_code == 403
    assert calls, "a well-formed codename goes through the KDF (or this test measures nothing)"
    calls.clear()
    started = time.monotonic()
    response = client.post(path, {"codename": "word " * 200_000})  # 1 MB
    taken = time.monotonic() - started
    assert response.status_code == 403
    assert calls == [], "the KDF ran on a megabyte of input"
    assert taken < 1.0, taken
