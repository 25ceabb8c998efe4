"""`portal unlock_editor USERNAME`: let an editor who locked themselves out log in again now.

Five failed attempts lock an account for 15 minutes (portal.editors.throttle).
An editor who mistyped their way into the lock can wait, or the admin lifts
it: this clears the lock and the count of earlier failures, records it in the
audit log (managing editors see who was unlocked), and says what it did. It
refuses a name that is no account, in a sentence. The lock lives in the
shared cache (Redis, REDIS_URL); without one each server process keeps its
own in memory, which no command can reach, and it says so.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.editors.throttle import COOL_OFF_SECONDS, MAX_FAILURES, Throttle
from portal.submissions import audit


class Command(BaseCommand):
    help = "Lift an editor's login lock (after failed attempts) and forget their earlier failures."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="the editor's user name")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["username"]
        user = get_user_model().objects.filter(username=name).first()
        if user is None:
            raise CommandError(f"there is no account named {name!r}; user names are exact "
                               "(the editors' page of a managing editor lists them)")
        if "redis" not in settings.CACHES["default"]["BACKEND"].lower():
            raise CommandError(
                "REDIS_URL is not set, so each server process keeps its count of failed logins in "
                "its own memory, which this command cannot reach: restart the editors' server "
                "(systemctl restart penname-editors.service) to lift every lock, or wait "
                f"{COOL_OFF_SECONDS // 60} minutes")
        throttle = Throttle(user.get_username())
        was_locked = throttle.is_locked()
        throttle.succeed()
        audit.record(None, "unlocked", user.get_username(), via="shell", was_locked=was_locked)
        if was_locked:
            self.stdout.write(f"{user.get_username()} was locked out after {MAX_FAILURES} failed "
                              "attempts; the lock is lifted and those attempts are forgotten: "
                              "they can log in now")
        else:
            self.stdout.write(f"{user.get_username()} was not locked out; any failed attempts "
                              "so far are forgotten")
        if not user.is_active:
            self.stdout.write(f"note: the account {user.get_username()} is deactivated, so it "
                              "still cannot log in")
