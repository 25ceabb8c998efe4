"""A logging filter that strips request details from every record.

Threat answered: logs are copied, shipped and kept. Django attaches the request
(with the client address, User-Agent and Referer) to error records; this filter
removes it before any handler or formatter can print it.
"""

from __future__ import annotations

import logging


class DropRequestDetails(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for attribute in ("request", "server_time", "status_code"):
            if hasattr(record, attribute):
                delattr(record, attribute)
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(
                "<request>" if type(arg).__name__.endswith("Request") else arg
                for arg in record.args
            )
        return True
