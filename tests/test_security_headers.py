"""Every author page carries the security headers, loads nothing from elsewhere, and sets safe cookies.

The walk covers the whole author journey (start, codename, home, review,
received, language switch, log in and out) and the pages an author can run
into by mistake (wrong codename, expired form, missing page); a second walk
visits every route outside /editor/ and /api/ in the URLconf, so a new author
page is checked without being listed here. Editor pages get the same headers
and a policy that adds only same-origin scripts.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils.csp import build_policy

from portal.middleware import DENIED_FEATURES
from tests.authoring import confirm, new_author, review_of, upload
from tests.editorial.editors import make_editor, verified_client
from tests.routes import all_routes

pytestmark = pytest.mark.django_db

AUTHOR_POLICY = build_policy(settings.SECURE_CSP)
# The one script an author page may run, by its full URL: it only reveals the warning
# that scripts are on (Tor Browser at "Safest" never runs it).
WARNING_SCRIPT_URL = "http://testserver/static/portal/noscript-warning.js"
WARNING_SCRIPT_TAG = '<script src="/static/portal/noscript-warning.js"></script>'
PAGE_POLICY = build_policy({**settings.SECURE_CSP, "script-src": [WARNING_SCRIPT_URL]})
HEADERS = {
    "Content-Security-Policy": PAGE_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
# Attributes that make a browser fetch or send something.
URL_ATTRIBUTE = re.compile(r'\b(?:src|href|action|formaction|srcset|poster|data|background)\s*=\s*'
                           r'["\']?([^"\'\s>]*)', re.I)


def author_journey() -> list[tuple[str, Any]]:
    """(label, response) for every page an author sees, in order."""
    client = Client()
    pages: list[tuple[str, Any]] = [("start", client.get("/"))]
    codename_page = client.post("/author/new/", {"pen_name": "夜莺"})
    pages.append(("codename", codename_page))
    codename = re.search(r'id="codename">([^<]+)<', codename_page.content.decode()).group(1).strip()
    pages.append(("home", client.get("/author/")))
    review = upload(client, [("draft.txt", "女工的夜班。\n".encode())], title="夜班")
    pages.append(("review", review))
    sent = confirm(client, review_of(review))
    pages.append(("sent", sent))
    pages.append(("received", client.get(sent["Location"])))
    pages.append(("language", client.post("/language/", {"language": "zh-hans", "next": "/author/"})))
    pages.append(("home in Chinese", client.get("/author/")))
    pages.append(("logout", client.post("/author/logout/", follow=True)))
    pages.append(("wrong codename", client.post("/author/login/", {"codename": "wrong " * 7})))
    pages.append(("login", client.post("/author/login/", {"codename": codename}, follow=True)))
    pages.append(("missing page", client.get("/no-such-page/")))
    strict = Client(enforce_csrf_checks=True)
    pages.append(("expired form", strict.post("/author/login/", {"codename": codename})))
    pages.append(("health", client.get("/health/")))
    return pages


def test_every_author_page_carries_the_security_headers(data_dir, editor):
    for label, response in author_journey():
        for name, value in HEADERS.items():
            assert response.get(name) == value, (label, name, response.get(name))
        assert "no-store" in response["Cache-Control"], label
        policy = response["Permissions-Policy"]
        for feature in ("camera", "microphone", "geolocation", "usb", "payment"):
            assert f"{feature}=()" in policy, (label, feature)
        script_src = [d for d in response["Content-Security-Policy"].split(";")
                      if d.strip().startswith("script-src")]
        assert [d.strip() for d in script_src] == [f"script-src {WARNING_SCRIPT_URL}"], label


def test_author_policy_is_strict():
    directives = dict(part.strip().split(" ", 1) for part in AUTHOR_POLICY.split(";"))
    assert directives == {
        "default-src": "'none'", "style-src": "'self'", "img-src": "'self' data:",
        "form-action": "'self'", "frame-ancestors": "'none'", "base-uri": "'none'",
    }
    page = dict(part.strip().split(" ", 1) for part in PAGE_POLICY.split(";"))
    assert page == {**directives, "script-src": WARNING_SCRIPT_URL}  # one file, no 'self'


def assert_loads_nothing_from_another_origin(label: str, response: Any) -> None:
    if not response["Content-Type"].startswith("text/html"):
        return
    page = response.content.decode()
    assert page.count("<script") <= 1 and "<script" not in page.replace(WARNING_SCRIPT_TAG, ""), \
        label
    assert "style=" not in page.lower(), label  # inline styles are refused by the policy
    for url in URL_ATTRIBUTE.findall(page):
        assert url == "" or (url.startswith(("/", "#", "?")) and not url.startswith("//")), \
            (label, url)
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", page), label


def test_author_pages_load_nothing_from_another_origin_and_run_no_script(data_dir, editor):
    for label, response in author_journey():
        assert_loads_nothing_from_another_origin(label, response)


def test_author_cookies_are_httponly_and_samesite_strict(data_dir, editor):
    seen = set()
    for label, response in author_journey():
        for name, morsel in response.cookies.items():
            seen.add(name)
            assert morsel["httponly"], (label, name)
            assert morsel["samesite"] == "Strict", (label, name)
    assert {"penname", "csrftoken", "penname_language"} <= seen


def test_every_author_cookie_ends_with_the_browser(data_dir, editor):
    """No cookie outlives the visit: a lasting one marks the browser as one that came here."""
    for label, response in author_journey():
        for name, morsel in response.cookies.items():
            deleted = morsel["max-age"] == 0 or "1970" in morsel["expires"]
            assert deleted or (not morsel["max-age"] and not morsel["expires"]), (label, name,
                                                                                 morsel.output())


def every_author_route(client: Client) -> list[tuple[str, Any]]:
    """(route, response) for a GET of every route outside /editor/ and /api/, as a logged-in author.

    Parameters get the author's own submission and its first message number, so
    a page that exists for them is shown rather than refused.
    """
    new_author(client, "夜莺")
    sent = confirm(client, review_of(upload(client, [("draft.txt", "第一章\n".encode())])))
    assert sent.status_code == 302, sent.content[:500]
    public_id = sent["Location"].split("/author/submission/")[1].split("/")[0]
    values = {"public_id": public_id, "number": 1}
    visited = []
    for route in all_routes():
        if route.pattern.startswith(("editor/", "api/")):
            continue
        visited.append((route.name, client.get(route.path(values))))
    return visited


def test_every_author_route_carries_the_headers_and_loads_nothing_from_elsewhere(data_dir, editor):
    visited = every_author_route(Client())
    assert {"authors:start", "authors:home", "authors:received", "health"} <= {n for n, _ in visited}
    for name, response in visited:
        for header, value in HEADERS.items():
            assert response.get(header) == value, (name, header, response.get(header))
        assert "no-store" in response["Cache-Control"], name
        assert response["Permissions-Policy"], name
        assert_loads_nothing_from_another_origin(name, response)
        for cookie, morsel in response.cookies.items():
            assert morsel["httponly"] and morsel["samesite"] == "Strict", (name, cookie)


def test_editor_pages_may_run_same_origin_scripts_only(data_dir):
    editor = verified_client(make_editor("headers-editor"))
    for path in ("/editor/login/", "/editor/", "/editor/account/"):
        response = (Client() if path == "/editor/login/" else editor).get(path)
        policy = response["Content-Security-Policy"]
        assert policy == build_policy(settings.PORTAL_EDITOR_CSP), path
        assert "script-src 'self'" in policy and "connect-src 'self'" in policy
        assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
        for name in ("Cross-Origin-Opener-Policy", "Cross-Origin-Embedder-Policy",
                     "Permissions-Policy"):
            assert response.get(name), (path, name)


def test_permissions_policy_denies_every_listed_feature_but_keeps_security_keys(client):
    policy = client.get("/")["Permissions-Policy"]
    assert policy == ", ".join(f"{feature}=()" for feature in DENIED_FEATURES)
    assert "publickey-credentials" not in policy


def test_static_files_are_not_marked_no_store(client):
    # Only pages are no-store; the stylesheet may be cached like any public file.
    response = client.get("/static/portal/portal.css")
    assert "no-store" not in response.get("Cache-Control", "")
