"""WSGI entry point for gunicorn (see deploy/).

Each worker process makes itself undumpable first (no core dump, no ptrace or
/proc/PID/mem by another process of the same user, such as a cleaner that
escaped its sandbox), then checks once that the cleaners' sandbox holds: if
not, the log says why, uploads are refused and /health/ says "down".
"""

from __future__ import annotations

import logging
import os

from django.core.wsgi import get_wsgi_application

from portal.sanitize.sandbox.confine import undumpable

undumpable()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_wsgi_application()

from portal.health import sandbox_problem  # noqa: E402 - needs the settings loaded above

if problem := sandbox_problem():
    logging.getLogger("portal.health").error("uploads will be refused: %s", problem)
