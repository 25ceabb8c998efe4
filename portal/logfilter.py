"""A logging filter that keeps authors out of the logs: no request details, no paths, no times.

Threat answered: logs are copied, shipped and kept, and every line carries the
second it was written. Django attaches the request (with the client address,
User-Agent and Referer) to error records and names the path, which holds a
submission's id; gunicorn names the path of a request it could not handle.

So this filter, on every handler (Django's and gunicorn's):

- removes the request object and its details from every record;
- drops records about a request for an author page (anything outside /editor/
  and /api/) and counts them instead (`portal.counters`: the hourly summary
  says how many, and where a bug is, without the moment);
- replaces submission ids, stored file names and request paths in every other
  record with placeholders.
"""

from __future__ import annotations

import logging
import re
import traceback
from types import TracebackType

EDITOR_PREFIXES = ("/editor/", "/api/")
_UUID = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
                   r"[0-9a-fA-F]{12}")
_BLOB = re.compile(r"\b[0-9a-f]{32}(\.gpg)?\b")
_SHORT_ID = re.compile(r"(?<=/)[0-9a-f]{8}(?=[/\s]|$)")
# The loggers whose records are about one request.
_REQUEST_LOGGERS = ("django.request", "django.security", "django.server", "gunicorn.error")


def is_author_path(path: str) -> bool:
    return not path.startswith(EDITOR_PREFIXES)


def scrub(text: str) -> str:
    """The text with submission ids and stored file names replaced by placeholders."""
    text = _UUID.sub("<id>", text)
    text = _BLOB.sub("<file>", text)
    return _SHORT_ID.sub("<id>", text)


def _request_path(record: logging.LogRecord) -> str:
    request = getattr(record, "request", None)
    path = getattr(request, "path", None)
    if isinstance(path, str):
        return path
    if record.name.startswith(_REQUEST_LOGGERS) and isinstance(record.args, tuple):
        for arg in record.args:
            if isinstance(arg, str) and arg.startswith("/"):
                return arg.split("?", 1)[0]
    return ""


def where_it_failed(exc_info: tuple[type[BaseException], BaseException, TracebackType | None]
                    ) -> str:
    """`ExceptionType at portal/…/module.py:line`: the innermost frame of our own code."""
    kind, _, trace = exc_info
    place = ""
    for frame in traceback.extract_tb(trace):
        marker = frame.filename.rfind("/portal/")
        if marker >= 0:
            place = f" at {frame.filename[marker + 1:]}:{frame.lineno}"
    return f"{kind.__name__}{place}"


def _describe(record: logging.LogRecord) -> str:
    if record.exc_info and record.exc_info[0] is not None:
        return f"error on an author page: {where_it_failed(record.exc_info)}"  # type: ignore[arg-type]
    status = getattr(record, "status_code", None)
    if status:
        return f"{status} answer on an author page"
    return f"{record.levelname.lower()} from {record.name} on an author page"


class DropRequestDetails(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        path = _request_path(record)
        if path and is_author_path(path):
            from portal.counters import count

            count(_describe(record))
            return False
        for attribute in ("request", "server_time", "status_code"):
            if hasattr(record, attribute):
                delattr(record, attribute)
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(
                "<request>" if type(arg).__name__.endswith("Request") else arg
                for arg in record.args
            )
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg, record.args = scrub(message), ()
        return True
