"""Keys change only with two people: the web pages, the shell commands, the admin, the notice.

Threat (issue 14): one ordinary editor, one coerced managing editor or one seized phone
made every future draft readable by a key of their own. Each test here is one way of
trying that, and shows it fails, with real gpg keys and real ciphertext.
"""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from portal.editors.models import Editor
from portal.submissions.models import AuditEvent, EditorKey, Submission
from tests.authoring import confirm, new_author, review_of, upload
from tests.editorial.editors import current_code, make_editor, verified_client
from tests.storage import blob_path

pytestmark = pytest.mark.django_db


def propose(client: Client, user, armored: str, owner=None, code: str | None = None):  # type: ignore[no-untyped-def]
    return client.post("/editor/keys/add/", {
        "owner": (owner or user).pk, "armored": armored,
        "otp_token": current_code(user) if code is None else code})


def approve(client: Client, user, key: EditorKey, code: str | None = None):  # type: ignore[no-untyped-def]
    return client.post(f"/editor/keys/{key.pk}/approve/", {
        "otp_token": current_code(user) if code is None else code})


def submit(words: bytes) -> Submission:
    author = Client()
    new_author(author)
    confirm(author, review_of(upload(author, [("a.txt", words)])))
    return Submission.objects.order_by("-id").first()  # type: ignore[return-value]


def can_decrypt(pair, data_dir, submission: Submission) -> bool:  # type: ignore[no-untyped-def]
    path = blob_path(data_dir, submission.files.get().blob)
    result = pair.gpg("--status-fd", "2", "--decrypt", str(path))
    status = result.stderr.decode()
    return "[GNUPG:] DECRYPTION_OKAY" in status and "[GNUPG:] DECRYPTION_FAILED" not in status


@pytest.fixture
def team(data_dir, editor_keypair, second_editor_keypair):  # type: ignore[no-untyped-def]
    """Two managing editors and an ordinary editor; the managing editors' keys approved."""
    boss = make_editor("boss", Editor.Role.MANAGING, key=editor_keypair.public)
    deputy = make_editor("deputy", Editor.Role.MANAGING, key=second_editor_keypair.public)
    plain = make_editor("plain")
    return boss, deputy, plain


def test_an_ordinary_editor_cannot_add_approve_move_or_deactivate_a_key(team, outsider_keypair,
                                                                        editor_keypair):
    boss, _, plain = team
    client = verified_client(plain)
    boss_key = EditorKey.objects.get(user=boss)
    assert propose(client, plain, outsider_keypair.public).status_code == 403
    # Not even by naming a colleague's key as their own: that is how it was moved.
    assert propose(client, plain, editor_keypair.public).status_code == 403
    assert client.post(f"/editor/keys/{boss_key.pk}/deactivate/").status_code == 403
    assert approve(client, plain, boss_key).status_code == 403
    boss_key.refresh_from_db()
    assert boss_key.user == boss and boss_key.active and boss_key.approved
    assert not EditorKey.objects.filter(fingerprint=outsider_keypair.fingerprint).exists()
    # They see every key, read-only.
    page = client.get("/editor/keys/").content.decode()
    assert boss_key.spaced_fingerprint in page
    assert "/editor/keys/add/" not in page and "/deactivate/" not in page


def test_readding_a_colleagues_key_is_refused_and_the_colleague_keeps_it(team, data_dir,
                                                                        editor_keypair):
    boss, deputy, plain = team
    client = verified_client(deputy)
    for owner in (deputy, plain):
        refused = propose(client, deputy, editor_keypair.public, owner=owner)
        assert refused.status_code == 400
        assert "already registered to another editor" in refused.content.decode()
    key = EditorKey.objects.get(fingerprint=editor_keypair.fingerprint)
    assert key.user == boss and key.active and key.approved
    # The shell refuses it too.
    key_file = data_dir / "colleague.asc"
    key_file.write_text(editor_keypair.public)
    with pytest.raises(CommandError, match="already registered to another editor"):
        call_command("add_editor", "thief", "--key", str(key_file), stdout=io.StringIO())
    assert EditorKey.objects.get(fingerprint=editor_keypair.fingerprint).user == boss
    assert editor_keypair.fingerprint in submit(b"still for boss").recipients


def test_a_new_key_receives_nothing_until_a_second_managing_editor_approves_it(
        team, data_dir, outsider_keypair):
    boss, deputy, _ = team
    client = verified_client(boss)
    assert propose(client, boss, outsider_keypair.public).status_code == 302
    key = EditorKey.objects.get(fingerprint=outsider_keypair.fingerprint)
    assert key.pending and key.proposed_by == boss and key.user == boss
    before = submit(b"before approval")
    assert outsider_keypair.fingerprint not in before.recipients
    assert not can_decrypt(outsider_keypair, data_dir, before)
    # The proposer cannot approve, whatever the code.
    refused = approve(client, boss, key)
    assert refused.status_code == 403 and "second managing editor" in refused.content.decode()
    assert EditorKey.objects.get(pk=key.pk).pending
    # A second managing editor needs a fresh code.
    deputy_client = verified_client(deputy)
    assert approve(deputy_client, deputy, key, code="000000").status_code == 400
    assert EditorKey.objects.get(pk=key.pk).pending
    assert approve(deputy_client, deputy, key).status_code == 302
    key.refresh_from_db()
    assert key.approved and key.approved_by == deputy and key.approved_on == date.today()
    after = submit(b"after approval")
    assert outsider_keypair.fingerprint in after.recipients
    assert can_decrypt(outsider_keypair, data_dir, after)
    assert not can_decrypt(outsider_keypair, data_dir, before)
    actions = list(AuditEvent.objects.filter(target=key.fingerprint).values_list("action", "actor"))
    assert ("key-proposed", boss.pk) in actions and ("key-approved", deputy.pk) in actions


def test_the_owner_cannot_approve_a_key_proposed_for_them(team, outsider_keypair):
    boss, deputy, _ = team
    assert propose(verified_client(deputy), deputy, outsider_keypair.public,
                   owner=boss).status_code == 302
    key = EditorKey.objects.get(fingerprint=outsider_keypair.fingerprint)
    refused = approve(verified_client(boss), boss, key)
    assert refused.status_code == 403 and "your own key" in refused.content.decode()
    assert EditorKey.objects.get(pk=key.pk).pending


def test_a_new_editors_key_from_the_editors_page_waits_for_a_second_person(team,
                                                                          outsider_keypair):
    boss, deputy, _ = team
    response = verified_client(boss).post("/editor/editors/", {
        "username": "newbie", "role": "editor", "armored": outsider_keypair.public,
        "otp_token": current_code(boss)})
    assert response.status_code == 200
    key = EditorKey.objects.get(fingerprint=outsider_keypair.fingerprint)
    assert key.pending and key.proposed_by == boss
    assert outsider_keypair.fingerprint not in submit(b"words").recipients
    assert approve(verified_client(deputy), deputy, key).status_code == 302


def test_same_key_sent_again_renews_it_and_a_deactivated_one_waits_again(team, editor_keypair):
    boss, deputy, _ = team
    key = EditorKey.objects.get(user=boss)
    same = propose(verified_client(deputy), deputy, editor_keypair.public, owner=boss)
    assert same.status_code == 400 and "already registered" in same.content.decode()
    # A renewal (another export of the same key) keeps its approval.
    EditorKey.objects.filter(pk=key.pk).update(armored="(the export it was added with)")
    assert propose(verified_client(deputy), deputy, editor_keypair.public,
                   owner=boss).status_code == 302
    assert EditorKey.objects.get(pk=key.pk).approved
    # Deactivated, then proposed again: a new proposal, not a way around approval.
    assert verified_client(deputy).post(f"/editor/keys/{key.pk}/deactivate/").status_code == 302
    assert propose(verified_client(deputy), deputy, editor_keypair.public,
                   owner=boss).status_code == 302
    key.refresh_from_db()
    assert key.active and key.pending and key.proposed_by == deputy
    assert editor_keypair.fingerprint not in submit(b"words").recipients


def test_every_editor_sees_key_changes_until_they_mark_them_seen(team, outsider_keypair):
    boss, deputy, plain = team
    client = verified_client(plain)
    client.post("/editor/changes/seen/", {"through": AuditEvent.objects.first().pk, "next": "/editor/"})
    assert "changes-heading" not in client.get("/editor/").content.decode()
    propose(verified_client(boss), boss, outsider_keypair.public)
    page = client.get("/editor/").content.decode()
    assert "boss proposed a key for boss" in page and outsider_keypair.fingerprint in page
    # On every editor page, not only the dashboard.
    assert "boss proposed a key for boss" in client.get("/editor/account/").content.decode()
    through = re.search(r'name="through" value="(\d+)"', page).group(1)
    seen = client.post("/editor/changes/seen/", {"through": through, "next": "/editor/keys/"})
    assert seen.status_code == 302 and seen["Location"] == "/editor/keys/"
    assert "changes-heading" not in client.get("/editor/").content.decode()
    # Managing editors are also told a key waits for them.
    boss_page = verified_client(deputy).get("/editor/").content.decode()
    assert "1 key waits for a second managing editor" in boss_page
    key = EditorKey.objects.get(fingerprint=outsider_keypair.fingerprint)
    approve(verified_client(deputy), deputy, key)
    assert "deputy approved the key" in client.get("/editor/").content.decode()
    # "next" only ever leads back to an editor page.
    away = client.post("/editor/changes/seen/", {"through": "0", "next": "https://evil.example/"})
    assert away["Location"] == "/editor/"


def test_the_notice_shows_the_oldest_changes_first_and_never_skips_one(team, outsider_keypair):
    _, _, plain = team
    Editor.objects.filter(user=plain).update(changes_seen=0)
    from portal.submissions import audit

    for n in range(25):
        audit.record(None, "key-deactivated", f"{n:040d}", owner="ghost")
    client = verified_client(plain)
    page = client.get("/editor/").content.decode()
    assert "more changes follow once you mark these as seen" in page
    through = int(re.search(r'name="through" value="(\d+)"', page).group(1))
    client.post("/editor/changes/seen/", {"through": through})
    page = client.get("/editor/").content.decode()
    assert f"{24:040d}" in page and f"{0:040d}" not in page


def test_add_editor_approves_only_the_first_managing_key_at_install(data_dir, editor_keypair,
                                                                   second_editor_keypair,
                                                                   outsider_keypair):
    def add(name: str, pair, *extra: str) -> str:  # type: ignore[no-untyped-def]
        key_file = data_dir / f"{name}.asc"
        key_file.write_text(pair.public)
        out = io.StringIO()
        call_command("add_editor", name, "--key", str(key_file), *extra, stdout=out)
        return out.getvalue()

    first = add("founder", editor_keypair, "--managing")
    assert "approved at once" in first and "no other managing editor" in first
    assert EditorKey.objects.get(fingerprint=editor_keypair.fingerprint).approved
    second = add("colleague", second_editor_keypair, "--managing")
    assert "waiting for approval" in second and "portal approve_key" in second
    key = EditorKey.objects.get(fingerprint=second_editor_keypair.fingerprint)
    assert key.pending and key.proposed_by is None
    assert second_editor_keypair.fingerprint not in submit(b"w").recipients
    # The admin's shell as the second person.
    out = io.StringIO()
    spaced = " ".join(key.fingerprint[i:i + 4] for i in range(0, 40, 4))
    call_command("approve_key", *spaced.split(), stdout=out)
    assert "approved" in out.getvalue()
    assert second_editor_keypair.fingerprint in submit(b"w").recipients
    with pytest.raises(CommandError, match="not waiting"):
        call_command("approve_key", key.fingerprint, stdout=io.StringIO())
    # Running add_editor again for the same editor and key resets the account, nothing else.
    again = add("colleague", second_editor_keypair, "--managing")
    assert "updated editor" in again and EditorKey.objects.get(pk=key.pk).approved
    event = AuditEvent.objects.filter(action="key-approved", target=key.fingerprint).get()
    assert event.actor is None and event.detail["via"] == "shell"


def test_check_keys_lists_pending_keys_and_recent_changes(team, outsider_keypair):
    boss, _, _ = team
    propose(verified_client(boss), boss, outsider_keypair.public)
    old = AuditEvent.objects.create(actor=boss, action="key-deactivated", target="F" * 40,
                                    detail={"owner": "long ago"})
    AuditEvent.objects.filter(pk=old.pk).update(at=old.at - timedelta(days=31))
    out = io.StringIO()
    call_command("check_keys", stdout=out)
    text = out.getvalue()
    assert "keys waiting for approval: 1" in text and outsider_keypair.fingerprint in text
    assert "WAITING FOR APPROVAL" in text
    assert "boss proposed a key for boss" in text and "long ago" not in text


def test_set_role_is_the_shells_and_is_shown_to_everyone(team):
    _, _, plain = team
    out = io.StringIO()
    call_command("set_role", "plain", "managing", stdout=out)
    assert Editor.objects.get(user=plain).is_managing
    event = AuditEvent.objects.get(action="editor-role-changed")
    assert event.actor is None and event.target == "plain"


@pytest.fixture
def staff(team):  # type: ignore[no-untyped-def]
    from django.contrib.auth import get_user_model

    root = make_editor("root")
    get_user_model().objects.filter(pk=root.pk).update(is_staff=True, is_superuser=True)
    root.refresh_from_db()
    return root


def test_admin_actions_are_audited_and_shown_to_every_editor(team, staff):
    boss, _, plain = team
    admin = verified_client(staff)
    url = f"/editor/admin/auth/user/{plain.pk}/change/"
    page = admin.get(url)
    assert page.status_code == 200
    form = {"username": "plain", "first_name": "", "last_name": "Renamed", "email": "",
            "is_active": "on", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
            "initial-date_joined_0": "2026-01-01", "initial-date_joined_1": "00:00:00"}
    assert admin.post(url, form).status_code == 302
    changed = AuditEvent.objects.get(action="admin-changed")
    assert changed.actor == staff and "plain" in changed.target
    assert "Last name" in changed.detail["fields"]
    device = plain.totpdevice_set.get()
    deleted = admin.post(f"/editor/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    assert AuditEvent.objects.filter(action="admin-deleted", actor=staff).exists()
    notice = verified_client(boss).get("/editor/").content.decode()
    assert "root changed user plain in the admin" in notice
    assert "root deleted totpdevice" in notice


def test_the_admin_cannot_change_a_role_or_touch_keys(team, staff):
    _, _, plain = team
    admin = verified_client(staff)
    profile = Editor.objects.get(user=plain)
    url = f"/editor/admin/editorial/editor/{profile.pk}/change/"
    page = admin.get(url).content.decode()
    assert 'name="role"' not in page and 'name="user"' not in page
    admin.post(url, {"role": "managing", "user": staff.pk, "notify_address": ""})
    profile.refresh_from_db()
    assert profile.role == Editor.Role.EDITOR and profile.user == plain
    assert admin.get("/editor/admin/editorial/editorkey/").status_code == 404
    from django.contrib.auth import get_user_model

    newcomer = get_user_model().objects.create_user("newcomer")
    added = admin.post("/editor/admin/editorial/editor/add/", {
        "user": newcomer.pk, "role": "managing", "notify_address": ""})
    assert added.status_code == 302
    assert Editor.objects.get(user=newcomer).role == Editor.Role.EDITOR
    assert AuditEvent.objects.filter(action="admin-added", actor=staff).exists()


def test_the_migration_keeps_keys_in_use_approved(transactional_db, data_dir, editor_keypair):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("editorial", "0002_notifications")])
    old_apps = executor.loader.project_state([("editorial", "0002_notifications")]).apps
    user = old_apps.get_model("auth", "User").objects.create(username="old-timer")
    old_apps.get_model("editorial", "EditorKey").objects.create(
        user=user, fingerprint=editor_keypair.fingerprint, armored=editor_keypair.public,
        algorithm="ECDH cv25519")
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    key = EditorKey.objects.get(fingerprint=editor_keypair.fingerprint)
    assert key.approved and key.approved_by is None
    assert editor_keypair.fingerprint in submit(b"still open").recipients
