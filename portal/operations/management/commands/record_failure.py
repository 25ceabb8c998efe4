"""`portal record_failure UNIT`: note that a systemd unit failed, for `portal status` and the dashboard.

Run by deploy/systemd/penname-failure@.service, which every Penname unit names
in `OnFailure=`: a timer's job (purge, backup, notification) or a server that
fails is then shown to the admin (`portal status`) and to managing editors
(a line on the dashboard) instead of only in the journal. What is kept and
why it is a file, not a row: `portal.jobs`.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal import jobs


class Command(BaseCommand):
    help = "Record that a Penname systemd unit failed (run by penname-failure@.service)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("unit", help="the unit that failed, e.g. penname-backup.service")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            what = jobs.failed(options["unit"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        except OSError as exc:
            raise CommandError(f"cannot record the failure of {options['unit']} in the data "
                               f"directory: {exc.strerror or exc}") from exc
        self.stdout.write(f"recorded: {what} failed today; `penname status` shows it, and the "
                          "managing editors' dashboard")
