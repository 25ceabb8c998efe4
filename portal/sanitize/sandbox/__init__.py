"""Process isolation for the cleaners and the renderer.

`confine` builds the sandbox (namespaces, seccomp from `syscalls`, resource
limits, no core dumps); `command` starts a child on the parent's own code;
`isolate` runs a cleaning in it, through a `zygote` that forks a `worker` per
file or a fresh worker of its own; `slots` bounds how many run at once across
the server; `origin` says which portal a child imported.
"""

from __future__ import annotations

# Installed gunicorn configurations (deploy/gunicorn.conf.py) import it from here.
from .confine import undumpable

__all__ = ["undumpable"]
