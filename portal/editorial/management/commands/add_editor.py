"""`portal add_editor USERNAME --key FILE.asc [--password-stdin]`

Creates (or updates) an editor account, proposes their OpenPGP public key after
checking it, and enrols a TOTP device, printing the `otpauth://` line to scan.
Without --password-stdin a strong password is generated and printed once.

The key is *proposed* by the admin's shell: it receives nothing until a second
person approves it (a managing editor on the keys page, or `portal approve_key`).
The one exception is install time: the first managing editor's key, when no
approved key and no other managing editor exist, is approved at once, because
there is nobody else who could approve it.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.crypto.openpgp import MAX_KEY_BYTES, KeyUnusable
from portal.editors import changes
from portal.editors.keys import KeyAlreadyRegistered, add_key, approve_key, may_bootstrap
from portal.editors.models import Editor
from portal.submissions import audit
from portal.submissions.models import EditorKey


class Command(BaseCommand):
    help = "Add an editor with an OpenPGP public key and a TOTP second factor."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--key", required=True, help="the editor's public key (.asc)")
        parser.add_argument("--password-stdin", action="store_true",
                            help="read the password from standard input")
        parser.add_argument("--managing", action="store_true",
                            help="make the editor a managing editor")

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"].strip()
        if not username or len(username) > 150:
            raise CommandError("the username must be 1 to 150 characters")
        key_path = Path(options["key"])
        try:
            if key_path.stat().st_size > MAX_KEY_BYTES:
                raise CommandError(f"{key_path} is too large to be a public key")
            armored = key_path.read_text(encoding="ascii", errors="replace")
        except OSError as exc:
            raise CommandError(f"cannot read {key_path}: {exc.strerror}") from exc
        generated = not options["password_stdin"]
        if generated:
            password = secrets.token_urlsafe(18)
        else:
            password = sys.stdin.readline().rstrip("\n")
            try:
                validate_password(password)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
        user_model = get_user_model()
        with transaction.atomic():
            user, created = user_model.objects.get_or_create(username=username)
            user.set_password(password)
            user.is_active = True
            user.save()
            role = Editor.Role.MANAGING if options["managing"] else Editor.Role.EDITOR
            bootstrap = role == Editor.Role.MANAGING and may_bootstrap(user)
            editor = Editor.objects.filter(user=user).first()
            if editor is None:
                Editor.objects.create(user=user, role=role,
                                      changes_seen=changes.newest_event_id())
                audit.record(None, "editor-added", username, role=role, via="shell")
            elif editor.role != role:
                editor.role = role
                editor.save(update_fields=["role"])
                audit.record(None, "editor-role-changed", username, role=role, via="shell")
            try:
                key = add_key(user, armored, proposed_by=None)
            except KeyAlreadyRegistered as exc:
                # Run again for the same editor and key (to reset a password or device).
                same = EditorKey.objects.filter(fingerprint=exc.fingerprint, user=user).first()
                if same is None:
                    raise CommandError(f"key refused: {exc}") from exc
                key = same
            except KeyUnusable as exc:
                raise CommandError(f"key refused: {exc}") from exc
            if bootstrap and key.pending:
                key = approve_key(key, None, via="install")
            TOTPDevice.objects.filter(user=user).delete()
            device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
        self.stdout.write(f"{'added' if created else 'updated'} editor {username}")
        self.stdout.write(f"key {key.spaced_fingerprint} ({key.algorithm})")
        if bootstrap and key.approved:
            self.stdout.write("approved at once: this is the first managing editor's key, and no "
                              "other managing editor exists who could approve it (the server's "
                              "shell stands in for the second person)")
        elif key.pending:
            self.stdout.write("waiting for approval: it receives nothing until a second managing "
                              "editor approves it on the keys page, or the admin runs "
                              f"`portal approve_key {key.fingerprint}`")
        if generated:
            self.stdout.write(f"password: {password}")
        self.stdout.write(device.config_url)
