"""One walk over the whole URLconf: every route says who may call it, and it holds.

A new route fails here until its view carries an access mark from
`portal.access`; a route marked public must be on the short list below; every
editor route refuses anonymous visitors, author sessions and editors without a
verified device, and every managing-editor route refuses plain editors.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from portal.editorial.models import Editor
from tests.authoring import new_author
from tests.editorial.editors import make_editor, unverified_client, verified_client

MARKS = {"public", "author", "editor", "managing", "enrolment", "api-editor", "api-public"}
PUBLIC = {
    "authors:start", "authors:new", "authors:login", "authors:logout", "authors:language",
    "editorial:login", "editorial:logout", "editorial:webauthn_login_begin",
    "editorial:webauthn_login_complete", "editorial:webauthn_jsi18n", "admin:login",
    "api:token", "api:openapi", "health",
}


def routes(resolver: URLResolver | None = None, namespace: str = "") -> list[tuple[str, Any, Any]]:
    resolver = resolver or get_resolver()
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found += routes(entry, inner)
        elif isinstance(entry, URLPattern):
            found.append((f"{namespace}{entry.name}", entry.callback, entry))
    return found


DUMMY = {"uuid": uuid.uuid4(), "str": "0" * 32 + ".gpg", "int": 1, "path": "x"}


def url_for(name: str, pattern: URLPattern) -> str | None:
    converters = getattr(pattern.pattern, "converters", {})
    kwargs = {key: DUMMY.get(type(conv).__name__.replace("Converter", "").lower(), "x")
              for key, conv in converters.items()}
    try:
        return reverse(name, kwargs=kwargs)
    except Exception:
        return None


def test_every_route_carries_an_access_mark():
    unmarked = [name for name, view, _ in routes() if getattr(view, "access", None) not in MARKS]
    assert unmarked == [], "mark these views with a portal.access decorator"


def test_public_routes_are_only_the_listed_ones():
    public = {name for name, view, _ in routes() if view.access in ("public", "api-public")}
    assert public == PUBLIC


def guarded_urls(*marks: str) -> list[str]:
    urls = []
    for name, view, pattern in routes():
        if view.access in marks:
            url = url_for(name, pattern)
            if url is not None:
                urls.append(url)
    return urls


@pytest.mark.django_db
def test_editor_routes_refuse_everyone_without_a_verified_device(data_dir):
    author = Client()
    new_author(author)
    unverified = unverified_client(make_editor("half"))
    urls = guarded_urls("editor", "managing")
    assert len(urls) > 15
    for url in urls:
        for who, client in (("anonymous", Client()), ("author", author),
                            ("unverified editor", unverified)):
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                assert response.status_code in (302, 403, 405), (who, method, url)
                if response.status_code == 302:
                    assert "/editor/login/" in response["Location"] or \
                        "/editor/enrol/" in response["Location"], (who, url)


@pytest.mark.django_db
def test_managing_routes_refuse_plain_editors(data_dir):
    plain = verified_client(make_editor("plain", Editor.Role.EDITOR))
    for url in guarded_urls("managing"):
        for method in ("get", "post"):
            assert getattr(plain, method)(url).status_code in (403, 405), url


@pytest.mark.django_db
def test_api_routes_refuse_requests_without_a_token(data_dir):
    author = Client()
    new_author(author)
    for url in guarded_urls("api-editor"):
        for client in (Client(), author, verified_client(make_editor(f"e{uuid.uuid4().hex[:6]}"))):
            for method in ("get", "post", "put", "delete"):
                assert getattr(client, method)(url).status_code == 401, (method, url)


@pytest.mark.django_db
def test_author_routes_refuse_editors_and_strangers(data_dir):
    editor = verified_client(make_editor("ed"))
    for url in guarded_urls("author"):
        for client in (Client(), editor):
            response = client.get(url)
            assert response.status_code in (302, 405), url
            if response.status_code == 302:
                assert response["Location"] == "/"
