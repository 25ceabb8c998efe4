"""Real Chromium obeys the Content-Security-Policy, and our pages still work under it.

Pages are rendered by the Django test client (the real views, headers and
templates) and handed to Chromium through request interception, with static
files from Django's finders, so no server is started. Chromium reports every
blocked load, inline style or script as a console error; there must be none.
"""

from __future__ import annotations

import mimetypes
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from tests.browser import browser_page
from tests.editorial.editors import current_code, make_editor, verified_client

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

    from portal.editorial.models import Editor

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
