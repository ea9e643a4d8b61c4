"""Log set-up for long-running commands: plain text for people, one JSON object per line for collectors.

Nothing riskwatch logs carries event payloads: only ids, topics, partitions, offsets and counts.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            entry.update(extra)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO", json_lines: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RateLimitFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


KAFKA_LOGGER = "riskwatch.kafka"
RATE_LIMIT_INTERVAL_SECONDS = 10.0
_DIGITS = re.compile(r"\d+")


class RateLimitFilter(logging.Filter):
    """At most one line per kind of message every ``interval_seconds`` for librdkafka's log and for every
    warning or error; the next line of that kind says how many were left out.

    An unreachable broker makes librdkafka log a failed connect per broker and per client about 50 times a
    second; a flood of bad input repeats the same warning. Lines differing only in numbers are one kind.
    riskwatch's own info lines pass untouched.
    """

    def __init__(self, interval_seconds: float = RATE_LIMIT_INTERVAL_SECONDS) -> None:
        super().__init__()
        self.interval_seconds = interval_seconds
        self._last: dict[tuple[str, str], float] = {}
        self._suppressed: dict[tuple[str, str], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING and not record.name.startswith(KAFKA_LOGGER):
            return True
        key = (record.name, _DIGITS.sub("#", record.getMessage())[:160])
        now = record.created
        last = self._last.get(key)
        if last is not None and now - last < self.interval_seconds:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return False
        self._last[key] = now
        skipped = self._suppressed.pop(key, 0)
        if skipped:
            record.msg = f"{record.getMessage()} ({skipped} similar lines left out)"
            record.args = None
        if len(self._last) > 1000:  # kinds seen long ago
            self._last = {k: t for k, t in self._last.items() if now - t < self.interval_seconds}
        return True


def kafka_logger() -> logging.Logger:
    """The logger librdkafka writes through (confluent-kafka's ``logger`` client setting)."""
    return logging.getLogger(KAFKA_LOGGER)


def with_kafka_logger(conf: Mapping[str, Any]) -> dict[str, Any]:
    """A librdkafka client config whose log goes through riskwatch's logging (and so its rate limit)
    instead of straight to stderr."""
    return {**conf, "logger": kafka_logger()}
