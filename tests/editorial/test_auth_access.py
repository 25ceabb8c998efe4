"""Every editor route is marked and guarded: authors, strangers and half-logged-in editors stay out."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.editors.models import Editor
from tests.authoring import new_author
from tests.editorial.auth import fresh_cache  # noqa: F401 - autouse fixture
from tests.editorial.editors import make_editor, unverified_client, verified_client

pytestmark = pytest.mark.django_db

AUTH_ROUTES = {
    "login": "public",
    "logout": "public",
    "logout_everywhere": "editor",
    "enrol": "enrolment",
    "account": "editor",
    "password_change": "editor",
    "backup_codes": "editor",
    "security_key_add": "editor",
    "security_key_remove": "editor",
    "webauthn_register_begin": "editor",
    "webauthn_register_complete": "editor",
    # Run during login, before the session is verified; they check the password step themselves.
    "webauthn_login_begin": "public",
    "webauthn_login_complete": "public",
    "webauthn_jsi18n": "public",
}
GUARDED = {"editor", "managing", "enrolment"}


def editor_routes() -> list[tuple[str, str, Any]]:
    """(name, example path, view) of every route under /editor/, the admin included."""
    found: list[tuple[str, str, Any]] = []

    def walk(patterns: list[Any], prefix: str, namespace: str) -> None:
        for entry in patterns:
            route = str(entry.pattern)
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, prefix + route, inner)
            elif isinstance(entry, URLPattern):
                found.append((f"{namespace}{entry.name}", example(prefix + route), entry.callback))

    walk(get_resolver().url_patterns, "/", "")
    return [(name, path, view) for name, path, view in found if path.startswith("/editor/")]


def example(route: str) -> str:
    for marker, value in (("<uuid:public_id>", str(uuid.uuid4())), ("<int:pk>", "1"),
                          ("<str:name>", "x"), ("<path:object_id>", "1"), ("<id>", "1"),
                          ("<path:content_type_id>", "1"), ("<path:app_label>", "auth")):
        route = route.replace(marker, value)
    return route.replace("^", "").replace("$", "").replace("(?P<app_label>auth|editorial|"
                                                           "otp_totp|otp_static|"
                                                           "django_otp_webauthn)/", "auth/")


def test_authentication_routes_carry_their_access_marks():
    marks = {name: getattr(view, "access", None) for name, _, view in editor_routes()}
    for name, level in AUTH_ROUTES.items():
        assert marks[f"editorial:{name}"] == level, name


def test_every_editor_route_carries_an_access_mark():
    for name, path, view in editor_routes():
        assert getattr(view, "access", None) in GUARDED | {"public"}, (name, path)
    public = {name for name, _, view in editor_routes() if view.access == "public"}
    expected = {f"editorial:{name}" for name, level in AUTH_ROUTES.items() if level == "public"}
    assert public == expected | {"admin:login"}


def test_every_admin_view_requires_an_editor_session():
    admin = [(name, view) for name, path, view in editor_routes() if name.startswith("admin:")]
    assert len(admin) > 20
    for name, view in admin:
        assert view.access == ("public" if name == "admin:login" else "editor"), name


def assert_kept_out(client: Client, name: str, path: str) -> None:
    for method in (client.get, client.post):
        response = method(path)
        assert response.status_code in (302, 404, 405), (name, path, response.status_code)
        if response.status_code == 302:
            assert response["Location"].startswith(("/editor/login/", "/editor/enrol/")), \
                (name, path, response["Location"])


def test_author_session_is_redirected_from_every_editor_page(data_dir):
    author = Client()
    new_author(author)
    assert author.session.get("author_id")
    for name, path, view in editor_routes():
        if view.access != "public":
            assert_kept_out(author, name, path)


def test_password_without_verified_device_reaches_no_editor_page(data_dir):
    client = unverified_client(make_editor("alice"))
    for name, path, view in editor_routes():
        if view.access != "public":
            assert_kept_out(client, name, path)


def test_webauthn_login_steps_refuse_a_session_without_a_password(data_dir):
    author = Client()
    new_author(author)
    for client in (Client(), author):
        response = client.post("/editor/webauthn/login/begin/")
        assert response.status_code == 403 and "challenge" not in response.content.decode()
        assert client.post("/editor/webauthn/login/complete/", {}).status_code == 403


def test_admin_requires_staff_and_a_verified_device(data_dir):
    staff = make_editor("root")
    get_user_model().objects.filter(pk=staff.pk).update(is_staff=True, is_superuser=True)
    staff.refresh_from_db()
    anonymous = Client().get("/editor/admin/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/editor/login/")
    assert unverified_client(staff).get("/editor/admin/").status_code == 302
    admin = verified_client(staff)
    assert admin.get("/editor/admin/").status_code == 200
    page = admin.get("/editor/admin/otp_totp/totpdevice/").content.decode()
    assert "root" in page and "qrcode" not in page  # secrets stay hidden
    device = TOTPDevice.objects.get(user=staff)
    assert admin.get(f"/editor/admin/otp_totp/totpdevice/{device.pk}/config/").status_code == 403
    assert device.key not in admin.get(
        f"/editor/admin/otp_totp/totpdevice/{device.pk}/change/").content.decode()
    assert admin.get("/editor/admin/authors/").status_code == 404  # no author data here

    plain_editor = verified_client(make_editor("ed"))
    response = plain_editor.get("/editor/admin/", follow=True)
    assert response.status_code == 403


def test_admin_has_no_login_form_of_its_own(data_dir):
    response = Client().get("/editor/admin/login/?next=/editor/admin/auth/user/")
    assert response.status_code == 302
    assert response["Location"] == "/editor/login/?next=%2Feditor%2Fadmin%2Fauth%2Fuser%2F"
    assert Client().post("/editor/admin/login/", {"username": "x", "password": "y"}) \
        .status_code == 302


def test_removing_an_editor_profile_closes_every_page(data_dir):
    alice = make_editor("alice")
    client = verified_client(alice)
    assert client.get("/editor/account/").status_code == 200
    Editor.objects.filter(user=alice).delete()
    assert client.get("/editor/account/").status_code == 302
