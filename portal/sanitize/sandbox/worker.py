"""The child process that cleans one file: stdin in, stdout out, result on a pipe.

Started inside the sandbox (`sandbox/confine.py`) by `sandbox/isolate.py` only, either as
`command.python_command("portal.sanitize.sandbox.worker")` or forked by the zygote, with its
arguments (limits, name hint, type hint, result pipe) in PORTAL_CLEAN_ARGS.
Before it reads a byte of the (possibly hostile) input it confines itself for
good (`sandbox.confine_cleaner`: address space, CPU time, open files, no file
writes, no core dumps, not dumpable, the cleaner's seccomp filter); if that
fails it cleans nothing. The outcome is one JSON object written to the result
pipe: the report, or the refusal code. Any crash leaves the parent with no
result, which is a refusal; and the parent trusts nothing in the result it
has not checked (`result.py`).
"""

from __future__ import annotations

import json
import os
import sys

from ..errors import CleaningRefused, import_refusal
from ..limits import Limits
from .confine import SandboxUnavailable, confine_cleaner


def main() -> int:
    args = json.loads(os.environ["PORTAL_CLEAN_ARGS"])
    limits = Limits.from_json(args["limits"])
    name_hint, type_hint, result_fd = args["name"], args["type"], args["result_fd"]
    result = os.fdopen(int(result_fd), "w", encoding="utf-8")
    try:
        confine_cleaner(limits)
    except (SandboxUnavailable, OSError, ValueError) as exc:
        detail = exc.detail if isinstance(exc, SandboxUnavailable) else type(exc).__name__
        json.dump({"ok": False, "code": "unavailable", "detail": detail}, result)
        result.close()
        return 0
    from .. import core  # imported after confinement: parsers load under the limits

    out = sys.stdout.buffer
    try:
        report = core.clean(
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
