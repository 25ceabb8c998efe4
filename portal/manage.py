"""`portal`: Django's management commands for this project (like manage.py)."""

from __future__ import annotations

import os
import sys


def main() -> None:
    # Like the web workers: no core dumps, no ptrace or /proc/PID/mem of this process.
    from portal.sanitize.sandbox.confine import undumpable

    undumpable()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
