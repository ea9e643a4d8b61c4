"""``riskwatch worker``: builds the worker from settings in ``run()`` (nothing at import time) and runs it
until SIGTERM/SIGINT, then finishes the batch in hand, commits and leaves the group."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
from types import FrameType

from config.settings import Settings
from streams.co_partitioning import WorkerError
from streams.logging_setup import configure_logging
from streams.worker.health import Health, serve
from streams.worker.loop import Worker, WorkerOptions
from streams.worker.metrics import WorkerMetrics

log = logging.getLogger("riskwatch.worker")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--instance-id",
        default=os.environ.get("RISKWATCH_INSTANCE_ID") or socket.gethostname(),
        help="stable name of this worker instance (its Kafka transactional id derives from it); "
        "a restarted instance must keep its name",
    )
    parser.add_argument("--group", help="consumer group (default: settings kafka.consumer_group)")
    parser.add_argument("--metrics-port", type=int, help="port of /metrics, /healthz, /readyz (0: none)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    configure_logging(settings.worker.log_level, settings.worker.log_json)
    metrics = WorkerMetrics.create(input_topics=tuple(settings.topics.input_topics()))
    health = Health()
    port = settings.worker.metrics_port if args.metrics_port is None else args.metrics_port
    server = serve(settings.worker.metrics_host, port, metrics.registry, health) if port else None
    group = args.group or settings.kafka.consumer_group
    try:
        if settings.worker.runtime == "faust":
            return _run_faust(args, settings, group, metrics, health)
        return _run_confluent(args, settings, group, metrics, health)
    except WorkerError as exc:
        log.error("%s", exc)
        print(f"riskwatch worker: {exc}", file=sys.stderr)
        return 1
    finally:
        if server is not None:
            server.shutdown()


def _run_confluent(
    args: argparse.Namespace, settings: Settings, group: str, metrics: WorkerMetrics, health: Health
) -> int:
    options = WorkerOptions(
        instance_id=args.instance_id,
        group=group,
        batch_max_events=settings.worker.batch_max_events,
        batch_max_wait_seconds=settings.worker.batch_max_wait_ms / 1000.0,
        batch_linger_seconds=settings.worker.batch_linger_ms / 1000.0,
        max_idle_seconds=settings.worker.max_idle_ms / 1000.0,
        ordering_buffer_max_messages=settings.worker.ordering_buffer_max_messages,
        max_decoded_customers_per_partition=settings.worker.max_decoded_customers_per_partition,
        punctuate_interval_seconds=settings.worker.punctuate_interval_ms / 1000.0,
    )
    worker = Worker(settings, options, metrics, health)

    def _stop(signum: int, frame: FrameType | None) -> None:
        log.info("signal %s: finishing the current batch", signal.Signals(signum).name)
        worker.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    worker.run()
    return 0


def _run_faust(
    args: argparse.Namespace, settings: Settings, group: str, metrics: WorkerMetrics, health: Health
) -> int:
    """The faust-streaming runtime (``worker.runtime = "faust"``); faust is imported only here."""
    from streams.faust_worker.runner import run_faust_worker

    return run_faust_worker(
        settings, instance_id=args.instance_id, group=group, metrics=metrics, health=health
    )
