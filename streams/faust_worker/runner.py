"""Runs the faust-streaming worker until SIGTERM/SIGINT (faust's worker handles both: it stops the agent,
commits what was acked and leaves the group). faust is imported here only when this runtime is chosen."""

from __future__ import annotations

import logging
import tempfile

from confluent_kafka.admin import AdminClient

from config.settings import Settings
from streams.co_partitioning import input_partition_count
from streams.worker.health import Health
from streams.worker.metrics import WorkerMetrics

log = logging.getLogger("riskwatch.worker")


def run_faust_worker(
    settings: Settings, *, instance_id: str, group: str, metrics: WorkerMetrics, health: Health
) -> int:
    from faust.worker import Worker as FaustWorker

    from streams.faust_worker.app import TABLE_NAME, build_app

    admin = AdminClient(dict(settings.kafka.client_config()))
    partitions = input_partition_count(
        admin.list_topics(timeout=30), settings.topics.input_topics(), f"{group}-{TABLE_NAME}-changelog"
    )
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
