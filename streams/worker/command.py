"""``riskwatch worker``: builds the worker from settings in ``run()`` (nothing at import time) and runs it
until SIGTERM/SIGINT, then finishes the batch in hand, commits and leaves the group.

Faults end the command as ``streams.errors.Fault`` (one line and an exit code, printed by ``streams.cli``).
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import signal
from http.server import ThreadingHTTPServer
from types import FrameType

from config.detection import PUBLIC_DEVELOPMENT_HASH_KEY
from config.settings import Settings
from streams.errors import LocalFault, Refused
from streams.logging_setup import configure_logging
from streams.worker.health import Health, serve
from streams.worker.instance import acquire_instance_id
from streams.worker.loop import Worker
from streams.worker.metrics import WorkerMetrics

log = logging.getLogger("riskwatch.worker")

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--instance-id",
        help="stable name of this worker instance (its Kafka transactional id derives from it; a restarted "
        "instance must keep its name); default: RISKWATCH_INSTANCE_ID, else <hostname>-<n> with n the "
        "lowest number no other worker of the group on this host holds",
    )
    parser.add_argument("--group", help="consumer group (default: settings kafka.consumer_group)")
    parser.add_argument("--metrics-port", type=int, help="port of /metrics, /healthz, /readyz (0: none)")


def brokers_are_local(bootstrap_servers: str) -> bool:
    hosts = [s.strip().rsplit(":", 1)[0] for s in bootstrap_servers.split(",") if s.strip()]
    return bool(hosts) and all(h in LOCAL_HOSTS for h in hosts)


def check_hash_key(settings: Settings) -> None:
    """Contact hashes made with the public built-in key can be reversed with a dictionary of candidate
    phone numbers and emails: refuse it where real data may flow, warn where it is a local try-out."""
    if settings.detection.contact_hash_key.get_secret_value() != PUBLIC_DEVELOPMENT_HASH_KEY:
        return
    servers = settings.kafka.bootstrap_servers
    if not brokers_are_local(servers):
        raise Refused(
            f"detection.contact_hash_key is the built-in public key and Kafka at {servers} is not local: "
            "contact hashes in alerts, state and dead letters could be reversed",
            "set RISKWATCH_DETECTION__CONTACT_HASH_KEY (or [detection] contact_hash_key) to a secret, "
            "e.g. `openssl rand -hex 32`",
        )
    log.warning(
        "detection.contact_hash_key is the built-in PUBLIC key: contact hashes can be reversed. Fine for a "
        "local try-out; set RISKWATCH_DETECTION__CONTACT_HASH_KEY to a secret before real data "
        "(a non-local broker is refused with this key)"
    )


def _serve_metrics(
    settings: Settings, port: int, metrics: WorkerMetrics, health: Health
) -> ThreadingHTTPServer:
    host = settings.worker.metrics_host
    try:
        return serve(host, port, metrics.registry, health)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise LocalFault(
                f"metrics port {port} on {host} is already in use (another worker on this host?)",
                "give this worker another one with --metrics-port or RISKWATCH_WORKER__METRICS_PORT "
                "(0 turns the endpoint off)",
            ) from None
        raise LocalFault(
            f"cannot serve metrics on {host}:{port} ({exc.strerror})",
            "fix worker.metrics_host / worker.metrics_port",
        ) from None


def run(args: argparse.Namespace, settings: Settings) -> int:
    configure_logging(settings.worker.log_level, settings.worker.log_json)
    check_hash_key(settings)
    group = args.group or settings.kafka.consumer_group
    instance = acquire_instance_id(group, args.instance_id or _env_instance_id())
    metrics = WorkerMetrics.create(input_topics=tuple(settings.topics.input_topics()))
    health = Health()
    port = settings.worker.metrics_port if args.metrics_port is None else args.metrics_port
    server = _serve_metrics(settings, port, metrics, health) if port else None
    try:
        if settings.worker.runtime == "faust":
            return _run_faust(instance.instance_id, settings, group, metrics, health)
        return _run_confluent(instance.instance_id, settings, group, metrics, health)
    finally:
        if server is not None:
            server.shutdown()
        instance.release()


def _env_instance_id() -> str | None:
    return os.environ.get("RISKWATCH_INSTANCE_ID") or None


def _run_confluent(
    instance_id: str, settings: Settings, group: str, metrics: WorkerMetrics, health: Health
) -> int:
    worker = Worker(settings, instance_id, group, metrics, health)

    def _stop(signum: int, frame: FrameType | None) -> None:
        log.info("signal %s: finishing the current batch", signal.Signals(signum).name)
        worker.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    worker.run()
    return 0


def _run_faust(
    instance_id: str, settings: Settings, group: str, metrics: WorkerMetrics, health: Health
) -> int:
    """The faust-streaming runtime (``worker.runtime = "faust"``); faust is imported only here."""
    from streams.faust_worker.runner import run_faust_worker

    return run_faust_worker(settings, instance_id=instance_id, group=group, metrics=metrics, health=health)
