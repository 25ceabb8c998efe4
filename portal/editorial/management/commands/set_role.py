"""`portal set_role USERNAME editor|managing`: change an editor's role on the server's shell.

Managing editors add, approve and deactivate keys, so a role is as powerful
as a key approval: it is read-only in the Django admin and changes only here,
from a root shell on the server. The change is audited and shown to every editor.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.editors.models import Editor
from portal.submissions import audit


class Command(BaseCommand):
    help = "Make an editor a managing editor, or an editor again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("role", choices=[Editor.Role.EDITOR, Editor.Role.MANAGING])

    def handle(self, *args: Any, **options: Any) -> None:
        editor = Editor.objects.select_related("user").filter(
            user__username=options["username"]).first()
        if editor is None:
            raise CommandError(f"no editor {options['username']}")
        if editor.role == options["role"]:
            self.stdout.write(f"{editor.user.get_username()} is already {editor.role}")
            return
        editor.role = options["role"]
        editor.save(update_fields=["role"])
        audit.record(None, "editor-role-changed", editor.user.get_username(), role=editor.role,
                     via="shell")
        self.stdout.write(f"{editor.user.get_username()} is now {editor.role}")
