"""``riskwatch project [--rebuild]``: keep the Redis read model up to date with the output topics until
SIGTERM/SIGINT (the batch in hand is finished first)."""

from __future__ import annotations

import argparse
import logging
import signal
from types import FrameType

from config.settings import Settings
from readmodel.connection import UNREACHABLE, redis_fault, sync_client
from readmodel.projector import Projector
from readmodel.store import RedisStore
from streams.logging_setup import configure_logging

log = logging.getLogger("riskwatch.project")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="delete the read model first and rebuild it from the start of the topics",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Kafka errors propagate to ``riskwatch``'s fault line (``streams.errors``); Redis ones are named
    here with the URL."""
    configure_logging(settings.worker.log_level, settings.worker.log_json)
    client = sync_client(settings.redis)
    store = RedisStore.from_settings(client, settings)
    try:
        client.ping()
        if args.rebuild:
            log.info("rebuild: deleted %d keys of the read model", store.clear())
        projector = Projector(settings, store)

        def _stop(signum: int, frame: FrameType | None) -> None:
            log.info("signal %s: finishing the current batch", signal.Signals(signum).name)
            projector.stop()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        projector.run()
    except UNREACHABLE as exc:
        raise redis_fault(settings.redis, exc) from None
    finally:
        client.close()
    return 0
