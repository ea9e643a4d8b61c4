"""Runs the faust-streaming worker until SIGTERM/SIGINT (faust's worker handles both: it stops the agent,
commits what was acked and leaves the group). faust is imported here only when this runtime is chosen.

The runtime is restricted to what its tests prove (README, "Choosing the runtime"): it starts only when
``worker.faust_experimental_ack`` says the operator knows it is experimental, and only as the single member
of its consumer group. Handing partitions between live members is not exactly once on aiokafka 0.14.0: its
OffsetFetch stops at v3, so the new owner cannot ask for stable offsets (KIP-447 ``require_stable``, v7),
and its TxnOffsetCommit is v0 (generation and member id came in v3), so a commit from a member that lost
its partitions carries no generation for the coordinator to fence; the scale-out/in test lost or repeated
events about one run in three.
"""

from __future__ import annotations

import logging
import tempfile

from confluent_kafka.admin import AdminClient

from config.settings import Settings
from streams.broker import wait_for_broker
from streams.co_partitioning import input_partition_count
from streams.errors import Refused
from streams.logging_setup import with_kafka_logger
from streams.worker.health import Health
from streams.worker.metrics import WorkerMetrics

log = logging.getLogger("riskwatch.worker")


def run_faust_worker(
    settings: Settings, *, instance_id: str, group: str, metrics: WorkerMetrics, health: Health
) -> int:
    from faust.worker import Worker as FaustWorker

    from streams.faust_worker.app import TABLE_NAME, build_app

    if not settings.worker.faust_experimental_ack:
        raise Refused(
            "worker.runtime is faust, which is experimental: its restart after a crash can stall and its "
            "scale-out/in is not exactly once (aiokafka 0.14 lacks KIP-447)",
            "use worker.runtime = confluent, or run one faust worker per group knowingly with "
            "worker.faust_experimental_ack = true (RISKWATCH_WORKER__FAUST_EXPERIMENTAL_ACK=true)",
        )
    conf = with_kafka_logger(settings.kafka.client_config())
    metadata = wait_for_broker(
        conf, wait_seconds=settings.kafka.broker_wait_seconds, doing="starting the faust worker"
    )
    partitions = input_partition_count(
        metadata, settings.topics.input_topics(), f"{group}-{TABLE_NAME}-changelog"
    )
    refuse_if_group_has_members(AdminClient(conf), group)
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


GROUP_DESCRIBE_TIMEOUT_SECONDS = 10.0


def refuse_if_group_has_members(admin: AdminClient, group: str) -> None:
    """The faust runtime runs only as the single member of its group (see the module docstring)."""
    described = admin.describe_consumer_groups([group])[group].result(GROUP_DESCRIBE_TIMEOUT_SECONDS)
    members = list(described.members)
    if members:
        who = ", ".join(sorted(f"{m.client_id} at {m.host}" for m in members))
        raise Refused(
            f"consumer group {group} already has {len(members)} active member(s) ({who}); the faust runtime "
            "runs only as the single worker of its group: handing partitions over is not exactly once on it",
            "stop the other worker (a crashed one leaves the group after the 10 s session timeout), or use "
            "worker.runtime = confluent to scale out",
        )
