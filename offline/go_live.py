"""``--alerts-from``: the go-live instant of ``riskwatch replay`` and ``riskwatch evaluate``.

The option sets ``detection.alerts_from`` for this run (the worker reads the same setting from its settings
file or ``RISKWATCH_DETECTION__ALERTS_FROM``), so a backfill replayed by hand and the stream agree.
"""

from __future__ import annotations

import argparse
from datetime import datetime

from config.settings import Settings


def instant(text: str) -> datetime:
    """An ISO 8601 instant with its UTC offset: a go-live without one would move with the machine's zone."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 instant; give one like 2025-03-03T00:00:00+08:00"
        ) from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no UTC offset; add one, e.g. {text}+08:00 or {text}Z")
    return value


def add_argument(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--alerts-from",
        type=instant,
        metavar="INSTANT",
        help=f"go-live (ISO 8601 with offset; default detection.alerts_from): {what}",
    )


def apply(settings: Settings, alerts_from: datetime | None) -> Settings:
    """``settings`` with the go-live of the command line, if one was given."""
    if alerts_from is None:
        return settings
    detection = settings.detection.model_copy(update={"alerts_from": alerts_from})
    return settings.model_copy(update={"detection": detection})
