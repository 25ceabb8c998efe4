"""First-time enrolment, backup codes, password change and "log out everywhere"."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.editorial.devices import BACKUP_CODE_COUNT
from portal.editors.models import Editor
from portal.submissions.models import AuditEvent
from tests.editorial.auth import (
    PASSWORD,
    backup_codes_from_page,
    code_for,
    fresh_cache,  # noqa: F401 - autouse fixture
    is_editor_session,
    log_in,
    logged_in_client,
    secret_from_page,
)
from tests.editorial.editors import current_code, make_editor

pytestmark = pytest.mark.django_db

EDITOR_PAGES = ["/editor/", "/editor/keys/", "/editor/account/", "/editor/audit/",
                "/editor/editors/", "/editor/admin/"]


@pytest.fixture
def newcomer(data_dir):  # type: ignore[no-untyped-def]
    """An editor added on the web: a password, no second factor yet."""
    user = get_user_model().objects.create_user("newcomer", password=PASSWORD)
    Editor.objects.create(user=user)
    return user


def test_first_login_opens_only_the_enrolment_page(newcomer):
    client = Client()
    response = log_in(client, "newcomer")
    assert response.status_code == 302 and response["Location"] == "/editor/enrol/"
    for path in EDITOR_PAGES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(("/editor/enrol/", "/editor/login/")), path
    assert client.get("/editor/enrol/").status_code == 200


def test_enrolment_without_a_password_is_refused(newcomer):
    response = Client().get("/editor/enrol/")
    assert response.status_code == 302 and response["Location"] == "/editor/login/"


def test_enrolment_end_to_end_then_a_backup_code_works_exactly_once(newcomer):
    client = Client()
    log_in(client, "newcomer")
    page = client.get("/editor/enrol/").content.decode()
    assert "<svg" in page and "<img" not in page and "<script" not in page
    key = secret_from_page(page)
    assert secret_from_page(client.get("/editor/enrol/").content.decode()) == key  # stable on reload
    refused = client.post("/editor/enrol/", {"otp_token": "000000"})
    assert refused.status_code == 400 and not is_editor_session(client)

    shown = client.post("/editor/enrol/", {"otp_token": code_for(key)})
    assert shown.status_code == 200
    codes = backup_codes_from_page(shown.content.decode())
    assert len(codes) == BACKUP_CODE_COUNT == len(set(codes))
    assert is_editor_session(client)
    assert TOTPDevice.objects.get(user=newcomer).confirmed
    assert AuditEvent.objects.filter(action="devices-changed", actor=newcomer).exists()
    assert client.get("/editor/enrol/")["Location"] == "/editor/"  # enrolment is over

    client.post("/editor/logout/")
    assert log_in(client, "newcomer", code=codes[0]).status_code == 302
    assert is_editor_session(client)
    client.post("/editor/logout/")
    assert log_in(Client(), "newcomer", code=codes[0]).status_code == 400
    assert log_in(Client(), "newcomer", code=codes[1]).status_code == 302


def test_password_change_needs_the_current_password_and_a_fresh_code(data_dir):
    alice = make_editor("alice")
    client, other = logged_in_client(alice), logged_in_client(alice)
    new = "a whole new passphrase 42"

    def change(current: str, code: str):  # type: ignore[no-untyped-def]
        return client.post("/editor/account/password/", {
            "current_password": current, "new_password1": new, "new_password2": new,
            "otp_token": code})

    assert change(PASSWORD, "").status_code == 400
    assert change(PASSWORD, "000000").status_code == 400
    assert change("not my password", current_code(alice)).status_code == 400
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)

    assert change(PASSWORD, current_code(alice)).status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(new)
    assert is_editor_session(client)
    assert not is_editor_session(other)  # every other session ends
    assert AuditEvent.objects.filter(action="password-changed", actor=alice).exists()


def test_new_backup_codes_need_a_fresh_code_and_replace_the_old_ones(data_dir):
    alice = make_editor("alice")
    client = logged_in_client(alice)
    assert client.post("/editor/account/backup-codes/", {"otp_token": "000000"}).status_code == 400
    first = backup_codes_from_page(client.post(
        "/editor/account/backup-codes/", {"otp_token": current_code(alice)}).content.decode())
    second = backup_codes_from_page(client.post(
        "/editor/account/backup-codes/", {"otp_token": first[0]}).content.decode())
    assert len(second) == BACKUP_CODE_COUNT and not set(first) & set(second)
    assert is_editor_session(client)  # verified by a backup code that is now gone: still in
    assert log_in(Client(), "alice", code=first[1]).status_code == 400
    assert log_in(Client(), "alice", code=second[0]).status_code == 302
    assert StaticDevice.objects.filter(user=alice).count() == 1


def test_account_page_lists_devices_and_works_without_javascript(data_dir):
    alice = make_editor("alice")
    client = logged_in_client(alice)
    page = client.get("/editor/account/").content.decode()
    assert "Authenticator app" in page and "0 backup codes left" in page
    assert "<script" not in page
    for action in ("/editor/account/password/", "/editor/account/backup-codes/",
                   "/editor/logout/everywhere/"):
        assert f'action="{action}"' in page
    ids = re.findall(r' id="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "every label must point at exactly one field"


def test_log_out_everywhere_ends_a_second_clients_session(data_dir):
    alice = make_editor("alice")
    laptop, phone = logged_in_client(alice), logged_in_client(alice)
    assert is_editor_session(laptop) and is_editor_session(phone)
    assert phone.get("/editor/logout/everywhere/").status_code == 405
    assert phone.post("/editor/logout/everywhere/").status_code == 302
    assert not is_editor_session(laptop)
    assert not is_editor_session(phone)
    assert AuditEvent.objects.filter(action="logout-everywhere", actor=alice).exists()
    assert log_in(Client(), "alice", code=current_code(alice)).status_code == 302


def test_refused_codes_are_announced_on_the_field_they_concern(newcomer):
    client = Client()
    log_in(client, "newcomer")
    enrol = client.post("/editor/enrol/", {"otp_token": "000000"}).content.decode()
    assert 'aria-describedby="id_otp_token_error"' in enrol
    assert 'id="id_otp_token_error"' in enrol and "That code was not accepted" in enrol

    alice = make_editor("alice")
    account = logged_in_client(alice)
    page = account.post("/editor/account/backup-codes/", {"otp_token": "000000"}).content.decode()
    assert 'aria-describedby="backup_otp_token_error"' in page
    assert 'id="backup_otp_token_error"' in page and "The code was not accepted." in page
