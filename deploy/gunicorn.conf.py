"""gunicorn settings for Penname in production (installed as /etc/penname/gunicorn.conf.py).

This is the authors' pool (penname.service); the editors' pool
(penname-editors.service, gunicorn-editors.conf.py) takes everything here but
its size, socket and name.

Promise: the application server writes no access log, listens only on a Unix
socket that nginx alone may open, keeps slow uploads over Tor alive for as
long as they keep moving, and refuses to start several worker processes
without a shared cache (sessions and the editor login throttle would otherwise
be per process: an author would be logged out at random and an attacker would
get MAX_FAILURES guesses per worker instead of per account).

Values come from the environment file (/etc/penname/penname.env) so one file
serves every application server:

- PORTAL_WORKERS (default 2): worker processes; more than one needs REDIS_URL.
- PORTAL_THREADS (default 8): threads per worker, i.e. uploads in flight per
  worker. A Tor upload of a large recording can take an hour on a slow bridge,
  so threads, not processes, absorb the waiting.

Workers are made undumpable as soon as they are forked (post_fork).
"""

from __future__ import annotations

import os
from typing import Any


def _count(name: str, default: int, maximum: int) -> int:
    raw = os.environ.get(name, "") or str(default)
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise SystemExit(f"{name} must be a whole number from 1 to {maximum}, not {raw!r}")
    return int(raw)


wsgi_app = "portal.wsgi:application"

# systemd passes the socket in (deploy/systemd/penname.socket, owned by nginx's
# user, mode 0600); gunicorn then ignores `bind`. Started by hand, it binds here.
bind = ["unix:/run/penname/gunicorn.sock"]
umask = 0o077

# gthread: a worker's main thread keeps answering the arbiter while other
# threads read slow request bodies, so `timeout` below is a liveness check of
# the worker, not a limit on how long an upload may take.
worker_class = "gthread"
workers = _count("PORTAL_WORKERS", 2, 64)
threads = _count("PORTAL_THREADS", 8, 256)
timeout = 120
# On restart, requests in flight get this long to finish (systemd waits longer).
graceful_timeout = 60
keepalive = 5

# No access log at all: a line per request would record when someone used the
# portal. Errors go to stderr (the journal) through Django's filtered logging.
accesslog = None
disable_redirect_access_to_syslog = True
errorlog = "-"
loglevel = "warning"
capture_output = False
# gunicorn's own error lines go through the portal's filter too: a request it
# could not handle is named by its path ("Error handling request /author/…"),
# which for an author page is counted instead, and ids are blanked elsewhere.
logconfig_dict: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"no_request": {"()": "portal.logfilter.DropRequestDetails"}},
    "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain",
                             "filters": ["no_request"], "stream": "ext://sys.stderr"}},
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "gunicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
    },
}

# nginx is the only client; it strips X-Forwarded-* headers, and nothing here
# should believe a client that claims to have come over HTTPS.
secure_scheme_headers: dict[str, str] = {}
forwarded_allow_ips = ""
# The runtime control socket is not needed: systemd restarts and reloads.
control_socket_disable = True
proc_name = "penname"


def post_fork(server: Any, worker: Any) -> None:
    """PR_SET_DUMPABLE=0 in every worker before it serves anything: no core dump of a
    worker holding a draft, and no other process of this user (a cleaner that escaped
    its sandbox) may ptrace it or read its /proc/PID/mem or environ. portal.wsgi does
    the same for any other WSGI server."""
    from portal.sanitize.sandbox import undumpable

    undumpable()


def on_starting(server: Any) -> None:
    """Refuse several workers without a shared cache (see the module docstring)."""
    if server.cfg.workers > 1 and not os.environ.get("REDIS_URL"):
        raise SystemExit(
            "gunicorn: several workers need REDIS_URL (sessions and the login throttle "
            "must be shared); set REDIS_URL or run one worker (PORTAL_WORKERS=1, "
            "PORTAL_EDITOR_WORKERS=1)"
        )
