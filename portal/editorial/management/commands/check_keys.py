"""`portal check_keys`: validate every registered editor key.

Prints each key with its full fingerprint and state, warns 30 days before a
key expires, and exits non-zero if any active key is unusable (expired,
revoked, missing from the keyring, too weak) or if no key can receive
submissions at all. Then it lists the keys waiting for a second person's
approval (they receive nothing yet) and every key, editor, admin and
re-encryption change of the last 30 days, so the admin sees them too.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from portal.crypto.openpgp import KeyUnusable
from portal.editors import changes
from portal.editors.keys import pending_keys
from portal.submissions.models import EditorKey
from portal.submissions.recipients import keyring

WARN_DAYS = 30


class Command(BaseCommand):
    help = "Check that every editor key can still receive submissions."

    def handle(self, *args: Any, **options: Any) -> None:
        ring = keyring()
        problems = 0
        usable = 0
        for key in EditorKey.objects.select_related("user"):
            info = ring.key_info(key.fingerprint)
            if not info.usable and info.reason == "the key is not in the keyring":
                try:
                    info = ring.import_public_key(key.armored)
                except KeyUnusable as exc:
                    info = info.__class__(**{**info.__dict__, "reason": str(exc)})
            active = key.active and key.user.is_active
            state = "ok" if info.usable else f"UNUSABLE: {info.reason}"
            if info.usable and info.expires_within(WARN_DAYS):
                state = f"ok, but expires on {info.expires}"
            if not active:
                state += " (inactive)"
            elif not key.approved:
                state += " (WAITING FOR APPROVAL: receives nothing yet)"
            self.stdout.write(f"{key.user.username:20} {key.spaced_fingerprint}  {state}")
            if active and not info.usable:
                problems += 1
            if active and info.usable and key.approved:
                usable += 1
        self.list_changes()
        if usable == 0:
            raise CommandError("no usable editor key: submissions are closed")
        if problems:
            raise CommandError(f"{problems} active key(s) cannot be used")

    def list_changes(self) -> None:
        waiting = pending_keys()
        self.stdout.write("")
        self.stdout.write(f"keys waiting for approval: {len(waiting)}")
        for key in waiting:
            proposer = key.proposed_by.get_username() if key.proposed_by else "the server's shell"
            self.stdout.write(f"  {key.user.username:20} {key.fingerprint}  proposed by "
                              f"{proposer} on {key.added_on}; approve with "
                              f"`portal approve_key {key.fingerprint}` after comparing it")
        recent = changes.recent(WARN_DAYS)
        self.stdout.write(f"key, editor, re-encryption and hiding changes in the last {WARN_DAYS} days: "
                          f"{len(recent)}")
        for event in recent:
            self.stdout.write(f"  {event.at.date()}  {changes.describe(event)}")
