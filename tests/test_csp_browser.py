"""Real Chromium obeys the Content-Security-Policy, and our pages still work under it.

Pages are rendered by the Django test client (the real views, headers and
templates) and handed to Chromium through request interception, with static
files from Django's finders, so no server is started. Chromium reports every
blocked load, inline style or script as a console error; there must be none.

The referrer policy is checked against a real server instead: Chromium does
not apply a Referrer-Policy header that arrives through request interception.
"""

from __future__ import annotations

import http.client
import mimetypes
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

from tests.browser import browser_page
from tests.editorial.editors import current_code, make_editor, verified_client
from tests.liveserver import live_server

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

# WebAuthn needs a secure context: http://localhost is one (and is the test
# settings' configured origin), as https:// is in production.
ORIGIN = "http://localhost:8000"
PASSED_HEADERS = ("Content-Type", "Content-Security-Policy", "Cross-Origin-Opener-Policy",
                  "Cross-Origin-Embedder-Policy", "Cross-Origin-Resource-Policy",
                  "Permissions-Policy", "Referrer-Policy", "X-Content-Type-Options")


def serve(page: Any, client: Client, first: Any) -> list[str]:
    """Answer Chromium from `first` (the page), static files and `client`; return CSP complaints."""
    complaints: list[str] = []
    page.on("console", lambda message: complaints.append(message.text)
            if message.type == "error" else None)
    page.on("pageerror", lambda error: complaints.append(str(error)))
    served = {"done": False}

    def answer(route: Any) -> None:
        url = route.request.url
        if not url.startswith(ORIGIN + "/"):
            complaints.append(f"request to another origin: {url}")
            route.abort()
            return
        path = url[len(ORIGIN):]
        if path.startswith("/static/"):
            found = finders.find(path[len("/static/"):].split("?")[0])
            if not found:
                route.fulfill(status=404, body="")
                return
            kind = mimetypes.guess_type(str(found))[0] or "application/octet-stream"
            route.fulfill(status=200, body=open(found, "rb").read(), headers={"Content-Type": kind})
            return
        response = first if not served["done"] else client.get(path, HTTP_HOST="localhost:8000")
        served["done"] = True
        headers = {name: response[name] for name in PASSED_HEADERS if response.has_header(name)}
        route.fulfill(status=response.status_code, body=response.content, headers=headers)

    page.route("**/*", answer)
    return complaints


def test_author_start_page_renders_under_its_policy_without_javascript(data_dir):
    client = Client()
    with browser_page(javascript=False) as page:
        complaints = serve(page, client, client.get("/", HTTP_HOST="localhost:8000"))
        page.goto(ORIGIN + "/")
        # The stylesheet applied: the layout rule from portal.css is in force.
        assert page.evaluate("getComputedStyle(document.querySelector('main')).display") != ""
        assert page.evaluate("document.styleSheets.length") >= 1
        assert page.evaluate("document.styleSheets[0].cssRules.length") > 0
    assert complaints == []


def test_enrolment_qr_code_renders_under_the_editor_policy(data_dir):
    from django.contrib.auth import get_user_model

    from portal.editors.models import Editor

    user = get_user_model().objects.create_user("newcomer", password="correct horse battery 9")
    Editor.objects.create(user=user)
    client = Client()
    client.force_login(user)
    session = client.session
    session["editor_epoch"] = user.editor.session_epoch
    session.save()
    enrol = client.get("/editor/enrol/", HTTP_HOST="localhost:8000")
    assert enrol.status_code == 200 and b"<svg" in enrol.content
    with browser_page(javascript=False) as page:
        complaints = serve(page, client, enrol)
        page.goto(ORIGIN + "/editor/enrol/")
        box = page.locator("figure.qr svg").bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100
    assert complaints == []


def test_security_key_script_runs_under_the_editor_policy(data_dir):
    user = make_editor("keyholder")
    client = verified_client(user)
    page_response = client.post("/editor/account/security-key/add/",
                                {"otp_token": current_code(user)}, HTTP_HOST="localhost:8000")
    assert page_response.status_code == 200
    assert b"otp_webauthn_register.js" in page_response.content
    with browser_page(javascript=True) as page:
        complaints = serve(page, client, page_response)
        page.goto(ORIGIN + "/editor/account/security-key/add/")
        # The module script filled the placeholder from one of its templates.
        page.wait_for_selector("#passkey-register-button, #passkey-registration-placeholder p",
                               timeout=10_000)
    assert complaints == []



# --- the referrer policy ----------------------------------------------------------------

# Hop-by-hop and per-connection headers the relay sets itself.
NOT_RELAYED = {"connection", "keep-alive", "transfer-encoding", "content-length", "date", "server",
               "referrer-policy"}
META_REFERRER = re.compile(rb'<meta name="referrer" content="[^"]*">')


@contextmanager
def relay_with_referrer_policy(upstream_port: int, policy: str) -> Iterator[tuple[str, list]]:
    """An HTTP relay to a live portal whose pages carry `policy` as their referrer policy.

    Both places a page states it are rewritten: the Referrer-Policy header and
    the `<meta name="referrer">` element of the templates.

    Yields the relay's URL and a list that receives (Origin header, status) for
    every form post that passed through it.
    """
    posts: list[tuple[str, int]] = []

    class Relay(BaseHTTPRequestHandler):
        def relay(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=60)
            try:
                upstream.request(self.command, self.path, body=body, headers={
                    name: value for name, value in self.headers.items()
                    if name.lower() not in NOT_RELAYED})
                response = upstream.getresponse()
                data = META_REFERRER.sub(f'<meta name="referrer" content="{policy}">'.encode(),
                                         response.read())
            finally:
                upstream.close()
            if self.command == "POST":
                posts.append((self.headers.get("Origin", ""), response.status))
            self.send_response(response.status)
            for name, value in response.getheaders():
                if name.lower() not in NOT_RELAYED:
                    self.send_header(name, value)
            self.send_header("Referrer-Policy", policy)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = relay

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Relay)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", posts
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.mark.slow
def test_referrer_policy_lets_our_own_forms_through_the_csrf_check(tmp_path, editor_keypair):
    """Why the policy is same-origin, not no-referrer (SECURITY.md, invariant 4).

    Under the portal's own policy Chromium sends this site's origin with a form
    post and the portal's CSRF check accepts it; under no-referrer Chromium sends
    `Origin: null`, which the CSRF check has to refuse: no author could even get
    a codename.
    """
    assert settings.SECURE_REFERRER_POLICY == "same-origin"
    outcomes = {}
    with live_server(tmp_path / "data", editor_keypair.public) as portal:
        for policy in ("same-origin", "no-referrer"):
            with relay_with_referrer_policy(portal.port, policy) as (url, posts), \
                    browser_page(javascript=False) as page:
                page.goto(url + "/")
                page.click("form[action='/author/new/'] button[type=submit]")
                page.wait_for_load_state()
                outcomes[policy] = (posts, page.locator("#codename").count(), url)
    posts, codenames, url = outcomes["same-origin"]
    assert posts == [(url, 200)] and codenames == 1
    posts, codenames, _ = outcomes["no-referrer"]
    assert posts == [("null", 403)] and codenames == 0
