"""librdkafka settings shared by riskwatch's command-line clients (send, tail, the demo's reader).

librdkafka writes its own log lines (``%3|1712...|FAIL|...``) straight to stderr unless it is given a Python
logger; in a command whose output is meant for people those lines are noise, and the failures that matter
reach the command as exceptions or delivery errors anyway. So the clients log to ``riskwatch.kafka.client``,
which keeps only the last line (for an error message) unless the command was asked to be verbose.
"""

from __future__ import annotations

import logging
from typing import Any

CLIENT_LOGGER = "riskwatch.kafka.client"


class _LastLine(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.last: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.last = record.getMessage()


_last = _LastLine()


def quiet_client_config(conf: dict[str, str], client_id: str, *, verbose: bool = False) -> dict[str, Any]:
    """``conf`` with librdkafka's log routed to a Python logger that prints only when ``verbose``."""
    logger = logging.getLogger(CLIENT_LOGGER)
    logger.propagate = verbose
    if _last not in logger.handlers:
        logger.addHandler(_last)
    return {**conf, "client.id": client_id, "logger": logger}


def last_client_error() -> str | None:
    """The last warning or error the routed client log saw (librdkafka's own words), if any."""
    return _last.last
