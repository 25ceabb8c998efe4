"""deploy/: the real nginx, tor and systemd accept the files, and the files keep their promises.

Paths that belong to a production server (/var/log/nginx, /var/lib/tor,
/opt/penname/venv, ...) are moved into a temporary directory; nothing else
in the files is changed (tests/edge.py runs nginx that way). The programs
come from Debian packages that .ci/run installs; without them these tests
fail (never skip), naming the package.
"""

from __future__ import annotations

import io
import os
import re
import runpy
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from tests.edge import DEPLOY, ROOT, nginx_conf, require, running_edge, running_nginx, silent_upstream
from tests.httpauthor import HttpAuthor
from tests.liveserver import free_port, live_server

UNITS = DEPLOY / "systemd"
SERVICES = ("penname.service", "penname-editors.service", "penname-purge.service",
            "penname-backup.service", "penname-notify.service", "penname-failure@.service")


def test_nginx_accepts_the_site(tmp_path):
    nginx = require("nginx", "nginx")
    result = subprocess.run([nginx, "-t", "-c", str(nginx_conf(tmp_path)), "-p", str(tmp_path)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_nginx_upload_limit_fits_the_portal_limits():
    site = (DEPLOY / "nginx" / "penname.conf").read_text()
    upload = site[site.index("location = /author/submit/"):]
    upload = upload[:upload.index("}")]
    editors = site[site.index("listen 127.0.0.1:8081;"):]
    limits = {re.search(r"client_max_body_size\s+(\d+)m;", block)[1] for block in (upload, editors)}
    assert len(limits) == 1, "uploads and the editors' site must share one limit"
    nginx_bytes = int(limits.pop()) * 1024 * 1024
    portal_bytes = settings.PORTAL_MAX_SUBMISSION_BYTES + settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    # Above the portal's own limit (so authors get its message), but not by much.
    assert portal_bytes < nginx_bytes <= portal_bytes * 1.1
    # Uploads and the editors' bodies stream through; nothing is kept in nginx's files.
    assert "proxy_request_buffering off;" in upload and "proxy_request_buffering off;" in editors
    snippet = (DEPLOY / "nginx" / "penname-proxy.conf").read_text()
    assert "proxy_request_buffering" not in snippet
    assert "proxy_max_temp_file_size 0;" in snippet
    assert site.count("access_log off;") == site.count("server {") == 2
    assert site.count("server_tokens off;") == 2


def stalled_uploads(port: int, count: int) -> list[socket.socket]:
    head = (b"POST /author/submit/ HTTP/1.1\r\nHost: portal\r\nContent-Length: 1000000\r\n"
            b"Content-Type: multipart/form-data; boundary=b\r\n\r\n--b\r\n")
    stalled = []
    for _ in range(count):
        connection = socket.create_connection(("127.0.0.1", port), timeout=10)
        connection.sendall(head)
        stalled.append(connection)
    return stalled


def answer_to(connection: socket.socket) -> bytes:
    answer = b""
    while b"</html>" not in answer:
        chunk = connection.recv(65536)
        if not chunk:
            break
        answer += chunk
    return answer


def test_uploads_in_flight_are_capped_so_pages_keep_their_threads(tmp_path):
    """Stalled uploads take at most 8 of gunicorn's threads, at most 2 of them from one Tor
    circuit; the next one hears "busy" at once."""
    site = (DEPLOY / "nginx" / "penname.conf").read_text()
    cap = int(re.search(r"limit_conn penname_uploads (\d+);", site).group(1))
    per_circuit = int(re.search(r"limit_conn penname_circuit_uploads (\d+);", site).group(1))
    config = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert cap <= config["workers"] * config["threads"] // 2
    assert per_circuit == 2 and cap % per_circuit == 0
    root = tmp_path / "nginx"
    stalled: list[socket.socket] = []
    with silent_upstream() as upstream, running_edge(root, upstream) as edge:
        try:
            # One circuit: its third upload is refused, while there is room for others.
            stalled += stalled_uploads(edge.tor.port(1), per_circuit)
            time.sleep(0.5)  # both are under way
            stalled += stalled_uploads(edge.tor.port(1), 1)
            third = answer_to(stalled[-1])
            # Other circuits fill the site-wide cap, each within its own.
            for circuit in range(2, 1 + cap // per_circuit):
                stalled += stalled_uploads(edge.tor.port(circuit), per_circuit)
            time.sleep(0.5)  # let nginx pass each one on to the upstream
            stalled += stalled_uploads(edge.tor.port(99), 1)
            answer = answer_to(stalled[-1])
        finally:
            for connection in stalled:
                connection.close()
    for refused in (third, answer):
        assert refused.startswith(b"HTTP/1.1 503"), refused[:200]
        assert "请返回，几分钟后再发送一次".encode() in refused and b"Nothing was kept" in refused


def status_and_headers(url: str) -> tuple[int, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def slow_upload(base: str, author: HttpAuthor, pause: callable) -> str:  # type: ignore[valid-type]
    """A multipart upload sent in two halves with `pause()` in between; returns the answer."""
    token = author.token(author.get("/author/"))
    cookies = "; ".join(f"{c.name}={c.value}" for c in author.jar)
    boundary = "----penname" + secrets.token_hex(8)
    data = ("第一章\n" * 200_000).encode()  # 2 MiB: far beyond nginx's in-memory body buffer
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n'
            f'{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\n'
            f'slow\r\n--{boundary}\r\nContent-Disposition: form-data; name="files"; '
            f'filename="slow.txt"\r\nContent-Type: text/plain\r\n\r\n').encode() + data + \
        f"\r\n--{boundary}--\r\n".encode()
    host, port = base.removeprefix("http://").split(":")
    head = (f"POST /author/submit/ HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: {cookies}\r\n"
            f"Referer: {base}/author/\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    half = len(body) // 2
    with socket.create_connection((host, int(port)), timeout=60) as conn:
        conn.sendall(head + body[:half])
        pause()
        conn.sendall(body[half:])
        answer = io.BytesIO()
        while chunk := conn.recv(65536):
            answer.write(chunk)
    return answer.getvalue().decode("utf-8", "replace")


@pytest.mark.slow
def test_nginx_streams_uploads_logs_nothing_and_keeps_editors_apart(tmp_path, editor_keypair):
    data = tmp_path / "data"
    with live_server(data, editor_keypair.public) as server, \
            running_nginx(tmp_path / "nginx", f"127.0.0.1:{server.port}") as (authors, editors):
        nginx_root = tmp_path / "nginx"
        # Authors' service: author pages, never editors' pages or the API.
        status, headers = status_and_headers(authors + "/")
        assert status == 200
        assert headers["Server"] == "nginx"  # no version
        assert "default-src 'none'" in headers["Content-Security-Policy"]
        assert headers["Cross-Origin-Embedder-Policy"] == "require-corp"
        assert status_and_headers(authors + "/editor/login/")[0] == 404
        assert status_and_headers(authors + "/api/v1/openapi.json")[0] == 404
        # Editors' service: the editors' pages.
        assert status_and_headers(editors + "/editor/login/")[0] == 200
        assert status_and_headers(editors + "/")[0] == 200  # redirected to /editor/

        # An upload reaches the portal's encrypted spool while it is still arriving,
        # and nginx keeps no copy of it on disk.
        author = HttpAuthor(authors)
        author.new_author()
        seen_midway: dict[str, list[Path]] = {}

        def look() -> None:
            deadline = time.monotonic() + 10
            spool = data / "spool" / "uploads"
            while time.monotonic() < deadline and not any(
                    p.stat().st_size > 0 for p in spool.glob("*") if p.is_file()):
                time.sleep(0.05)
            seen_midway["spool"] = [p for p in spool.glob("*") if p.is_file()]
            seen_midway["nginx"] = [p for p in nginx_root.rglob("*")
                                    if p.is_file() and p.parent.name in ("client_body", "proxy")]

        answer = slow_upload(authors, author, look)
        assert " 200 " in answer.split("\r\n", 1)[0] and 'id="confirm"' in answer, answer[:300]
        assert seen_midway["spool"], "the first half did not reach the application"
        assert seen_midway["nginx"] == [], "nginx spooled the upload to disk"

    # Nothing was logged about any of these requests.
    access_log = nginx_root / "access.log"
    assert not access_log.exists() or access_log.stat().st_size == 0
    site_errors = nginx_root / "penname-error.log"
    assert not site_errors.exists() or site_errors.stat().st_size == 0


# --- tor ---------------------------------------------------------------------------------


def test_tor_accepts_the_torrc(tmp_path):
    tor = require("tor", "tor")
    torrc = tmp_path / "torrc"
    torrc.write_text((DEPLOY / "tor" / "torrc").read_text().replace("/var/lib/tor/", f"{tmp_path}/"))
    (tmp_path / "data").mkdir(mode=0o700)
    result = subprocess.run([tor, "--verify-config", "-f", str(torrc), "--defaults-torrc", os.devnull,
                             "--DataDirectory", str(tmp_path / "data")],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Configuration was valid" in result.stdout


# The client-key recipe from deploy/README.md ("Editors' onion keys"), word for word.
CLIENT_KEY_RECIPE = [
    "openssl genpkey -algorithm x25519 -out penname-onion.pem",
    "openssl pkey -in penname-onion.pem -outform DER | tail -c 32 | base32 | tr -d '='",
    "openssl pkey -in penname-onion.pem -pubout -outform DER | tail -c 32 | base32 | tr -d '='",
]


def test_tor_loads_an_editor_client_key_made_as_the_guide_says(tmp_path):
    """Tor starts both services (network off) and accepts the key the guide's commands make."""
    tor = require("tor", "tor")
    require("openssl", "openssl")
    guide = (DEPLOY / "README.md").read_text()
    assert all(line in guide for line in CLIENT_KEY_RECIPE)
    outputs = [subprocess.run(["bash", "-c", line], cwd=tmp_path, capture_output=True, text=True,
                              check=True).stdout.strip() for line in CLIENT_KEY_RECIPE]
    private, public = outputs[1], outputs[2]
    assert len(private) == len(public) == 52
    clients = tmp_path / "penname-editors" / "authorized_clients"
    clients.mkdir(parents=True)
    for directory in (clients.parent, clients):
        directory.chmod(0o700)
    (clients / "alice.auth").write_text(f"descriptor:x25519:{public}\n")
    torrc = tmp_path / "torrc"
    # The SOCKS port moves to a free one: a system tor may hold 9050.
    torrc.write_text((DEPLOY / "tor" / "torrc").read_text().replace("/var/lib/tor/", f"{tmp_path}/")
                     .replace("127.0.0.1:9050", f"127.0.0.1:{free_port()}"))
    (tmp_path / "data").mkdir(mode=0o700)
    process = subprocess.Popen(
        [tor, "-f", str(torrc), "--defaults-torrc", os.devnull, "--DataDirectory",
         str(tmp_path / "data"), "--DisableNetwork", "1", "--Log", "info stdout"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log = []
    try:
        deadline = time.monotonic() + 30
        for line in process.stdout:  # type: ignore[union-attr]
            log.append(line)
            if "Loaded a client authorization key file alice.auth" in line or \
                    time.monotonic() > deadline:
                break
    finally:
        process.terminate()
        process.wait(timeout=30)
    text = "".join(log)
    assert "Loaded a client authorization key file alice.auth" in text, text[-3000:]
    assert "[warn] Client authorization" not in text
    for service in ("penname-authors", "penname-editors"):
        hostname = (tmp_path / service / "hostname").read_text().strip()
        assert re.fullmatch(r"[a-z2-7]{56}\.onion", hostname)


def test_torrc_has_two_services_with_proof_of_work():
    lines = [line.split() for line in (DEPLOY / "tor" / "torrc").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    services = [words[1] for words in lines if words[0] == "HiddenServiceDir"]
    assert services == ["/var/lib/tor/penname-authors/", "/var/lib/tor/penname-editors/"]
    assert sum(words == ["HiddenServicePoWDefensesEnabled", "1"] for words in lines) == 2
    ports = [words[2] for words in lines if words[0] == "HiddenServicePort"]
    site = (DEPLOY / "nginx" / "penname.conf").read_text()
    assert ports == re.findall(r"listen (127\.0\.0\.1:\d+)[ ;]", site)
    # torsocks (penname-notify.service) needs Tor's SOCKS port, and only on loopback.
    assert ["SocksPort", "0"] not in lines
    assert [words for words in lines if words[0] == "SocksPort"] == [["SocksPort", "127.0.0.1:9050"]]
    assert [words[1:] for words in lines if words[0] == "SocksPolicy"] == [
        ["accept", "127.0.0.1"], ["reject", "*"]]
    # ... where Debian's torsocks looks for it.
    torsocks = Path("/etc/tor/torsocks.conf")
    if torsocks.exists():
        conf = dict(line.split(None, 1) for line in torsocks.read_text().splitlines()
                    if line.strip() and not line.lstrip().startswith("#"))
        assert conf.get("TorAddress", "127.0.0.1").strip() == "127.0.0.1"
        assert conf.get("TorPort", "9050").strip() == "9050"


def test_only_the_authors_service_names_circuits_and_nginx_reads_them_there():
    """Tor's PROXY line reaches the authors' server, which expects it; the editors' has none."""
    text = (DEPLOY / "tor" / "torrc").read_text()
    authors, editors = text.split("HiddenServiceDir /var/lib/tor/penname-editors/")
    assert re.search(r"^HiddenServiceExportCircuitID haproxy$", authors, re.M)
    assert "HiddenServiceExportCircuitID" not in editors
    site = (DEPLOY / "nginx" / "penname.conf").read_text()
    assert re.findall(r"listen [^;]*;", site) == ["listen 127.0.0.1:8080 proxy_protocol;",
                                                  "listen 127.0.0.1:8081;"]
    assert re.findall(r"set \$penname_circuit ([^;]*);", site) == ["$proxy_protocol_addr", '""']
    snippet = (DEPLOY / "nginx" / "penname-proxy.conf").read_text()
    assert "proxy_set_header X-Penname-Circuit $penname_circuit;" in snippet


# --- install, upgrade, the guide ---------------------------------------------------------
# (tests/system/test_systemd_boot.py runs them on a booted Debian 13; these are the quick checks.)


@pytest.mark.parametrize("script", ["install", "upgrade", "penname"])
def test_the_scripts_parse(script):
    shell = "bash" if script != "penname" else "sh"
    result = subprocess.run([shell, "-n", str(DEPLOY / script)], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert os.access(DEPLOY / script, os.X_OK)


def test_the_installer_installs_what_the_guide_and_the_units_use():
    packages = subprocess.run([str(DEPLOY / "install"), "--print-packages"], capture_output=True,
                              text=True, check=True).stdout.split()
    # sudo: the restore steps use it; torsocks: penname-notify.service; openssl: onion keys.
    for needed in ("sudo", "torsocks", "openssl", "bubblewrap", "gettext", "python3-venv"):
        assert needed in packages, needed


def test_the_guide_installs_exactly_the_tag_it_verified():
    guide = (DEPLOY / "README.md").read_text()
    assert re.search(r"git verify-tag (v[\d.]+) && git checkout --detach \1\b", guide)
    assert "git tag -s" in guide
    # No step installs from a branch or by hand any more.
    assert "pip install" not in guide and "git checkout <release>" not in guide
    steps = re.findall(r"^(\d+)\. ", guide, re.M)
    assert steps == [str(n) for n in range(1, len(steps) + 1)]
    assert f"**{len(steps)} steps**" in guide


def test_the_upgrade_backs_up_with_the_old_code_before_installing_the_new():
    script = (DEPLOY / "upgrade").read_text()
    order = [script.index(step) for step in (
        '--venv-only="$VENV.new"',          # built beside the running code
        'systemctl stop "${UNITS[@]}"',     # stop
        "penname backup --key",             # the old code backs up
        "--list-packets",                   # ... and the archive is checked
        'mv "$VENV.new" "$VENV"',           # the new code goes in
        '\n"$SRC/deploy/install" "$@"\n',   # migrate, start, /health/
    )]
    assert order == sorted(order)
    assert "trap rollback EXIT" in script


# --- systemd -----------------------------------------------------------------------------


def test_systemd_accepts_the_units(tmp_path):
    analyze = require("systemd-analyze", "systemd")
    bin_dir = str(Path(sys.executable).parent) + "/"
    copies = []
    for unit in sorted(UNITS.iterdir()):
        copy = tmp_path / unit.name
        copy.write_text(unit.read_text().replace("/opt/penname/venv/bin/", bin_dir))
        copies.append(str(copy))
    result = subprocess.run([analyze, "verify", "--man=no", *copies], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120, check=False)
    complaints = [line for line in (result.stdout + result.stderr).splitlines()
                  if "penname" in line]
    assert result.returncode == 0 and complaints == [], result.stdout + result.stderr
    assert {Path(c).suffix for c in copies} == {".service", ".socket", ".timer"}


# penname.service alone may create the namespaces and mounts bubblewrap needs to build
# the cleaners' sandbox (systemd-analyze counts 0.9 for them); PrivateMounts= and a
# list of three mount calls instead of @mount win back 0.4. Netlink and RestrictSUIDSGID=no,
# which bubblewrap 0.12 needs (see the unit), cost 0.3.
EXPOSURE_CEILING = {"penname.service": 2.4}


def test_systemd_rates_every_service_well_sandboxed(tmp_path):
    """`systemd-analyze security` scores each service's sandbox: at most 2.0 ("OK"), out of 10,
    and 2.1 for the one that builds the cleaners' sandbox."""
    analyze = require("systemd-analyze", "systemd")
    bin_dir = str(Path(sys.executable).parent) + "/"
    for template in SERVICES:
        # A template is rated as the instance systemd starts for a failed unit.
        unit = template.replace("@.", "@penname-backup.service.")
        text = (UNITS / template).read_text()
        (tmp_path / unit).write_text(text.replace("/opt/penname/venv/bin/", bin_dir))
        result = subprocess.run([analyze, "security", "--offline=yes", "--no-pager", unit],
                                cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
        score = re.search(rf"Overall exposure level for {re.escape(unit)}: (\d+\.\d+)", result.stdout)
        assert score, result.stdout + result.stderr
        print(unit, score[1])
        assert float(score[1]) <= EXPOSURE_CEILING.get(template, 2.0), result.stdout


def sandbox(unit: str) -> list[str]:
    text = (UNITS / unit).read_text()
    block = text[text.index("# --- sandbox"):text.index("# --- end of sandbox ---")]
    return [line for line in block.splitlines() if line and not line.startswith("#")]


def test_every_service_runs_in_the_same_sandbox():
    first = sandbox(SERVICES[0])
    for unit in SERVICES[1:]:
        assert sandbox(unit) == first, unit
    for directive in ("User=penname", "ProtectSystem=strict", "PrivateTmp=yes",
                      "NoNewPrivileges=yes", "ReadWritePaths=/var/lib/penname",
                      "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "CapabilityBoundingSet=",
                      "LimitCORE=0", "UMask=0077"):
        assert directive in first, directive
    # The only other writable place: the backup directory, for the backup alone.
    for unit in SERVICES:
        writable = re.findall(r"^ReadWritePaths=(.*)$", (UNITS / unit).read_text(), re.M)
        expected = ["/var/lib/penname"] + (["/var/backups/penname"] if "backup" in unit else [])
        assert sorted(writable) == sorted(expected), unit


def test_timers_start_purge_backup_and_notifications():
    for name in ("penname-purge", "penname-backup", "penname-notify"):
        assert (UNITS / f"{name}.timer").exists()
        assert "Type=oneshot" in (UNITS / f"{name}.service").read_text()
    assert "OnCalendar=hourly" in (UNITS / "penname-purge.timer").read_text()
    # Notifications leave through Tor, hourly, never when an author acts.
    assert "OnCalendar=hourly" in (UNITS / "penname-notify.timer").read_text()
    assert "ExecStart=/usr/bin/torsocks " in (UNITS / "penname-notify.service").read_text()


def test_every_unit_reports_its_failure_and_the_record_reaches_portal_status(tmp_path):
    """OnFailure= in every unit starts penname-failure@<unit>.service; its ExecStart, run as
    systemd would run it for a failed backup, records what `portal status` then shows."""
    for unit in sorted(UNITS.iterdir()):
        failure = re.findall(r"^OnFailure=(.*)$", unit.read_text(), re.M)
        if unit.name == "penname-failure@.service":
            assert failure == [], "the failure unit must not start itself"
        else:
            assert failure == ["penname-failure@%n.service"], unit.name
    text = (UNITS / "penname-failure@.service").read_text()
    [exec_start] = re.findall(r"^ExecStart=(.*)$", text, re.M)
    bin_dir = str(Path(sys.executable).parent) + "/"
    argv = exec_start.replace("/opt/penname/venv/bin/", bin_dir).replace(
        "%i", "penname-backup.service").split()
    env = {"PATH": os.environ["PATH"], "PORTAL_DATA_DIR": str(tmp_path / "data"),
           "PORTAL_SECRET_KEY": secrets.token_urlsafe(32), "PORTAL_SAFE_COPIES": "False",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}"}
    recorded = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120,
                              check=False)
    assert recorded.returncode == 0, recorded.stderr
    subprocess.run([bin_dir + "portal", "migrate", "--no-input"], env=env, capture_output=True,
                   timeout=300, check=True)
    status = subprocess.run([bin_dir + "portal", "status"], env=env, capture_output=True,
                            text=True, timeout=120, check=False)
    assert status.returncode == 1
    assert "attention: backup (penname-backup.service) failed today" in status.stdout


# --- gunicorn ----------------------------------------------------------------------------


@pytest.mark.parametrize("pool", ["penname", "penname-editors"])
def test_gunicorn_config_logs_no_access_and_listens_where_nginx_connects(monkeypatch, pool):
    for name in ("PORTAL_WORKERS", "PORTAL_THREADS", "PORTAL_EDITOR_WORKERS",
                 "PORTAL_EDITOR_THREADS"):
        monkeypatch.delenv(name, raising=False)
    unit = (UNITS / f"{pool}.service").read_text()
    config_file = re.search(r"^ExecStart=\S+/gunicorn --config /etc/penname/(\S+)$", unit, re.M)[1]
    config = runpy.run_path(str(DEPLOY / config_file))
    assert config["accesslog"] is None and config["post_fork"] and config["on_starting"]
    assert config["worker_class"] == "gthread" and config["threads"] >= 2
    assert config["timeout"] >= 60 and config["keepalive"] <= 10
    assert f"Requires={pool}.socket" in unit
    socket_path = re.search(r"^ListenStream=(.*)$", (UNITS / f"{pool}.socket").read_text(), re.M)[1]
    assert config["bind"] == [f"unix:{socket_path}"]
    site = (DEPLOY / "nginx" / "penname.conf").read_text()
    upstream = {"penname": "penname_authors", "penname-editors": "penname_editors"}[pool]
    assert re.search(rf"upstream {upstream} {{[^}}]*server unix:{socket_path} ", site)
    # Each pool its own size: the authors' 2 x 8, the editors' 1 x 8 unless told otherwise.
    assert (config["workers"], config["threads"]) == {"penname": (2, 8),
                                                      "penname-editors": (1, 8)}[pool]
    monkeypatch.setenv("PORTAL_EDITOR_THREADS", "3")
    monkeypatch.setenv("PORTAL_THREADS", "5")
    assert runpy.run_path(str(DEPLOY / config_file))["threads"] == {"penname": 5,
                                                                   "penname-editors": 3}[pool]


def test_each_site_goes_to_its_own_pool():
    """Authors' requests never reach the editors' pool, nor editors' the authors' (but /health/,
    which only the pool that cleans can answer)."""
    site = (DEPLOY / "nginx" / "penname.conf").read_text()
    authors, editors = site.split("listen 127.0.0.1:8081;")
    assert set(re.findall(r"proxy_pass (\S+);", authors)) == {"http://penname_authors"}
    health = editors[editors.index("location = /health/"):]
    assert re.findall(r"proxy_pass (\S+);", health) == ["http://penname_authors",
                                                          "http://penname_editors"]


def test_gunicorn_refuses_several_workers_without_a_shared_cache(tmp_path):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PORTAL_DATA_DIR": str(tmp_path),
           "PORTAL_SECRET_KEY": "x" * 50, "PORTAL_WORKERS": "3"}
    result = subprocess.run([str(Path(sys.executable).parent / "gunicorn"), "--config",
                             str(DEPLOY / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{free_port()}"],
                            env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0
    assert "REDIS_URL" in result.stderr


DUMPABLE = "import ctypes; print(ctypes.CDLL(None).prctl(3, 0, 0, 0, 0))"  # PR_GET_DUMPABLE


def test_gunicorn_workers_and_portal_commands_are_undumpable(tmp_path):
    """No other process of the service user (a cleaner that got out) may ptrace a worker
    or read its /proc/PID/mem and environ, and no worker leaves a core dump."""
    hook = (f"import runpy; runpy.run_path({str(DEPLOY / 'gunicorn.conf.py')!r})"
            f"['post_fork'](None, None); {DUMPABLE}")
    before = subprocess.run([sys.executable, "-c", DUMPABLE], capture_output=True, text=True,
                            timeout=60, check=True)
    after = subprocess.run([sys.executable, "-c", hook], capture_output=True, text=True,
                           timeout=60, check=True, cwd=ROOT)
    assert (before.stdout, after.stdout) == ("1\n", "0\n")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PORTAL_DATA_DIR": str(tmp_path),
           "PORTAL_DEBUG": "True"}
    shell = subprocess.run([str(Path(sys.executable).parent / "portal"), "shell", "-c", DUMPABLE],
                           env=env, capture_output=True, text=True, timeout=120, check=True)
    assert shell.stdout.splitlines()[-1] == "0"


def test_the_service_lets_bubblewrap_build_the_cleaners_sandbox_and_caps_memory():
    """penname.service alone may create the namespaces and mounts bwrap needs; every unit
    still shares the same sandbox block (checked above), and the service has a memory cap."""
    text = (UNITS / "penname.service").read_text()
    extra = text[text.index("# --- end of sandbox ---"):]
    assert re.search(r"^RestrictNamespaces=user pid net mnt ipc uts$", extra, re.M)
    assert re.search(r"^SystemCallFilter=mount umount2 pivot_root$", extra, re.M)
    assert re.search(r"^MemoryMax=\d+[MG]$", extra, re.M)
    assert re.search(r"^OOMPolicy=continue$", extra, re.M)
    for unit in SERVICES[1:]:
        assert "RestrictNamespaces=user" not in (UNITS / unit).read_text()


def test_redis_is_reached_only_through_a_private_socket():
    """A cleaner that escaped, or any other local process, finds no Redis on loopback."""
    env = (DEPLOY / "penname.env.example").read_text()
    assert re.search(r"^REDIS_URL=unix:///run/redis/redis-server\.sock\?db=0$", env, re.M)
    drop_in = (DEPLOY / "redis" / "penname.conf").read_text().splitlines()
    for line in ("port 0", "unixsocket /run/redis/redis-server.sock", "unixsocketperm 770",
                 'save ""', "appendonly no"):
        assert line in drop_in, line
    # deploy/install includes it last in redis.conf, where it overrides Debian's defaults.
    install = (DEPLOY / "install").read_text()
    assert "include /etc/redis/penname.conf" in install


def test_no_author_reaches_new_code_before_it_is_seen_healthy():
    """nginx is tor's only way to the portal: the upgrade stops it, and install starts it last.

    Otherwise an author could send a draft to a portal that then fails /health/, and the
    upgrade's rollback of the database would undo the submission she was told had arrived.
    """
    install = (DEPLOY / "install").read_text()
    asked = install.index("http://penname/health/")
    assert install.index('[ "$health" = ok ] || die') < install.index("systemctl restart nginx")
    assert asked < install.index("systemctl restart nginx")
    assert install.count("systemctl restart nginx") == 1
    upgrade = (DEPLOY / "upgrade").read_text()
    order = [upgrade.index(step) for step in (
        'systemctl stop "${UNITS[@]}"',
        "systemctl stop nginx",
        "penname backup --key",
        '\n"$SRC/deploy/install" "$@"\n',
    )]
    assert order == sorted(order)
    rollback = upgrade[upgrade.index("rollback() {"):upgrade.index("trap rollback EXIT")]
    assert "systemctl start nginx" in rollback  # a failed upgrade leaves the site reachable
