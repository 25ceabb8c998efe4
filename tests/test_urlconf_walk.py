"""One walk over the whole URLconf: every route says who may call it, and it holds.

A new route fails here until its view carries an access mark from
`portal.access`; a route marked public must be on the short list below; every
editor route refuses anonymous visitors, author sessions and editors without a
verified device, and every managing-editor route refuses plain editors.
(tests/routes.py lists the routes; test_authorization_matrix.py states the
expected answer of every route, method and kind of visitor.)
"""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from portal.editors.models import Editor
from tests.authoring import new_author
from tests.editorial.editors import make_editor, unverified_client, verified_client
from tests.routes import all_routes

MARKS = {"public", "author", "editor", "managing", "enrolment", "api-editor", "api-public"}
PUBLIC = {
    "authors:start", "authors:new", "authors:login", "authors:logout", "authors:logged_out",
    "authors:language",
    "editorial:login", "editorial:logout", "editorial:webauthn_login_begin",
    "editorial:webauthn_login_complete", "editorial:webauthn_jsi18n", "admin:login",
    "api:token", "api:openapi", "health",
}


# Placeholder values: these tests only need each route's gate, not a real object.
DUMMY = {"public_id": uuid.uuid4(), "name": "0" * 32 + ".gpg", "pk": 1, "object_id": "1",
         "id": "1", "content_type_id": "1", "app_label": "auth", "number": 1}


def test_every_route_carries_an_access_mark():
    unmarked = [route.name for route in all_routes() if route.access not in MARKS]
    assert unmarked == [], "mark these views with a portal.access decorator"


def test_public_routes_are_only_the_listed_ones():
    public = {route.name for route in all_routes() if route.access in ("public", "api-public")}
    assert public == PUBLIC


def guarded_urls(*marks: str) -> list[str]:
    return [route.path(DUMMY) for route in all_routes() if route.access in marks]


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
