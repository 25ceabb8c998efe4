"""The child process that cleans one file: stdin in, stdout out, result on a pipe.

Run as `python -I -B -m portal.sanitize.worker` by `isolate.py` only, with its
arguments (limits, name hint, type hint, result pipe) in PORTAL_CLEAN_ARGS.
Before it reads a byte of the (possibly hostile) input it caps its own address
space, CPU time and open files, forbids itself from writing any file (so no
plaintext can reach a disk from here) and from dumping core. The outcome is one
JSON object written to the result pipe: the report, or the refusal code. Any
crash leaves the parent with no result, which is a refusal.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys

from .errors import CleaningRefused, import_refusal
from .limits import Limits


def confine(limits: Limits) -> None:
    """Apply the resource limits to this process; called before any input is read."""
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    # Writing a file then fails with an error instead of killing us silently.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def main() -> int:
    args = json.loads(os.environ["PORTAL_CLEAN_ARGS"])
    limits = Limits.from_json(args["limits"])
    name_hint, type_hint, result_fd = args["name"], args["type"], args["result_fd"]
    confine(limits)
    from .core import clean  # imported after confinement: parsers load under the limits

    result = os.fdopen(int(result_fd), "w", encoding="utf-8")
    out = sys.stdout.buffer
    try:
        report = clean(
            sys.stdin.buffer, out, name_hint=name_hint, type_hint=type_hint, limits=limits
        )
        out.flush()
        outcome = {"ok": True, "report": report.to_dict()}
    except CleaningRefused as exc:
        outcome = {"ok": False, "code": exc.code, "detail": exc.detail}
    except MemoryError:
        outcome = {"ok": False, "code": "limit", "detail": "memory"}
    except RecursionError:
        outcome = {"ok": False, "code": "limit", "detail": "nesting"}
    except ImportError as exc:  # a parser's library that could not be loaded under the limits
        refusal = import_refusal(exc, "")
        outcome = {"ok": False, "code": refusal.code, "detail": refusal.detail}
    except Exception as exc:  # a parser bug on hostile input is a refusal, not a crash
        outcome = {"ok": False, "code": "malformed", "detail": type(exc).__name__}
    json.dump(outcome, result, ensure_ascii=False)
    result.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
