"""Runs the faust-streaming worker until SIGTERM/SIGINT (faust's worker handles both: it stops the agent,
commits what was acked and leaves the group). faust is imported here only when this runtime is chosen."""

from __future__ import annotations

import logging
import tempfile

from confluent_kafka.admin import AdminClient

from config.settings import Settings
from streams.worker.health import Health
from streams.worker.metrics import WorkerMetrics

log = logging.getLogger("riskwatch.worker")


class FaustWorkerError(RuntimeError):
    """The faust worker cannot start (input topics missing or not co-partitioned, ...)."""


def input_partitions(settings: Settings, changelog: str) -> int:
    """The partition count shared by the three input topics (and the state changelog, if it exists)."""
    admin = AdminClient(dict(settings.kafka.client_config()))
    metadata = admin.list_topics(timeout=30)
    names = settings.topics.input_topics()
    found = {t: metadata.topics.get(t) for t in names}
    missing = [t for t, m in found.items() if m is None or m.error is not None]
    if missing:
        raise FaustWorkerError(
            f"input topics missing: {', '.join(missing)} (run `riskwatch stack up` or create them)"
        )
    counts = {len(m.partitions) for m in found.values() if m is not None}
    if len(counts) != 1:
        raise FaustWorkerError(f"input topics are not co-partitioned: partition counts {sorted(counts)}")
    partitions = counts.pop()
    existing = metadata.topics.get(changelog)
    if existing is not None and existing.error is None and len(existing.partitions) != partitions:
        raise FaustWorkerError(
            f"{changelog} has {len(existing.partitions)} partitions, the inputs {partitions}"
        )
    return partitions


def run_faust_worker(
    settings: Settings, *, instance_id: str, group: str, metrics: WorkerMetrics, health: Health
) -> int:
    from faust.worker import Worker as FaustWorker

    from streams.faust_worker.app import TABLE_NAME, build_app

    partitions = input_partitions(settings, f"{group}-{TABLE_NAME}-changelog")
    with tempfile.TemporaryDirectory(prefix="riskwatch-faust-") as datadir:
        app = build_app(
            settings,
            group=group,
            instance_id=instance_id,
            partitions=partitions,
            metrics=metrics,
            health=health,
            datadir=datadir,
        )
        log.info("faust worker %s starting in group %s", instance_id, group)
        worker = FaustWorker(
            app,
            loglevel=settings.worker.log_level,
            quiet=True,
            redirect_stdouts=False,
            override_logging=False,
        )
        try:
            worker.execute_from_commandline()
        except SystemExit as exc:
            code = exc.code
            return code if isinstance(code, int) else (0 if code is None else 1)
        finally:
            health.ready = False
    return 0
