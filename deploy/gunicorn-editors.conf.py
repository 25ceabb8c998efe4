"""gunicorn settings for the editors' pool (installed as /etc/penname/gunicorn-editors.conf.py).

Promise: the editors' onion service is served by processes of its own
(deploy/systemd/penname-editors.service), so no number of authors' requests,
slow or fast, can take the threads that editors' pages need; and the other way
round. Everything but the pool's size, its socket and its name is
gunicorn.conf.py's, read from the same directory (no access log, undumpable
workers, several workers only with REDIS_URL).

- PORTAL_EDITOR_WORKERS (default 1): worker processes. A small team of editors
  needs one; more than one needs REDIS_URL, like the authors' pool.
- PORTAL_EDITOR_THREADS (default 8): threads per worker, i.e. editors' requests
  at once (a download of a large submission's ciphertext holds one).
"""

from __future__ import annotations

import runpy
from pathlib import Path

_shared = runpy.run_path(str(Path(__file__).with_name("gunicorn.conf.py")))
globals().update({name: value for name, value in _shared.items() if not name.startswith("__")})

workers = _shared["_count"]("PORTAL_EDITOR_WORKERS", 1, 16)
threads = _shared["_count"]("PORTAL_EDITOR_THREADS", 8, 64)
# systemd passes deploy/systemd/penname-editors.socket in; started by hand, it binds here.
bind = ["unix:/run/penname/editors.sock"]
proc_name = "penname-editors"
