"""`portal approve_key FINGERPRINT`: the admin, on the server's shell, approves a proposed key.

A proposed key receives nothing until a second person approves it. Normally
that is a second managing editor on the keys page; this command lets the
admin with a root shell on the server be that second person, which is how a
one-person magazine runs (README "Editors", SECURITY.md "Key changes"). Compare
the full fingerprint with the key's owner before running it.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.editors.keys import ApprovalRefused, approve_key
from portal.submissions.models import EditorKey


class Command(BaseCommand):
    help = "Approve a proposed editor key (the admin on the server's shell as the second person)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("fingerprint", nargs="+",
                            help="the key's full fingerprint (spaces allowed)")

    def handle(self, *args: Any, **options: Any) -> None:
        fingerprint = "".join(options["fingerprint"]).replace(" ", "").upper()
        if len(fingerprint) not in (40, 64):
            raise CommandError("give the key's full fingerprint (40 or 64 hex digits), as "
                               "`portal check_keys` prints it")
        key = EditorKey.objects.select_related("user", "proposed_by") \
            .filter(fingerprint=fingerprint).first()
        if key is None:
            raise CommandError("no key with this fingerprint is registered")
        try:
            approve_key(key, None, via="shell")
        except ApprovalRefused as refused:
            raise CommandError(str(refused)) from None
        proposer = key.proposed_by.get_username() if key.proposed_by else "the server's shell"
        self.stdout.write(f"approved {key.spaced_fingerprint} of {key.user.get_username()} "
                          f"(proposed by {proposer}); new submissions are encrypted to it. "
                          f"Run `portal-editor reencrypt` to let it read older ones.")
