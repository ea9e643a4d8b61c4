"""The worker's side of a rebalance: assigned partitions are restored from the changelog before any of
their records is processed; revoked or lost ones are dropped with everything buffered for them; /readyz
follows (ready once an assignment is restored, not while the worker owns nothing)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition

from streams.worker.batch import BatchStep
from streams.worker.health import Health
from streams.worker.metrics import WorkerMetrics
from streams.worker.ordering import TimestampOrderer, TopicPartitionKey
from streams.worker.positions import InputPositions
from streams.worker.recovery import Recovery

log = logging.getLogger("riskwatch.worker")


class Assignment:
    """The consumer's rebalance callbacks (``on_assign``, ``on_revoke``, ``on_lost``) and what they leave:
    the input topic partitions owned now, and how many rebalances ran."""

    def __init__(
        self,
        step: BatchStep,
        recovery: Recovery,
        positions: InputPositions,
        orderer: TimestampOrderer[Message],
        resume: Callable[[list[TopicPartitionKey]], None],
        metrics: WorkerMetrics,
        health: Health,
    ) -> None:
        self.step = step
        self.recovery = recovery
        self.positions = positions
        self.orderer = orderer
        self.resume = resume
        self.metrics = metrics
        self.health = health
        self.assigned: set[TopicPartitionKey] = set()
        self.rebalances = 0  # assignments and revocations so far: tells the loop's consume that one ran

    def on_assign(self, consumer: Consumer, assigned: list[TopicPartition]) -> None:
        self.rebalances += 1
        self.metrics.rebalances.labels("assign").inc()
        self.assigned = {(tp.topic, tp.partition) for tp in assigned}
        new = sorted({tp.partition for tp in assigned} - set(self.step.partitions))
        self.step.taken_over(new)
        log.info("assigned %d input partitions; restoring state of partitions %s", len(assigned), new)
        self.step.adopt(self.recovery.restore(new))
        self.positions.assigned(assigned)
        self.metrics.assigned_partitions.set(len(assigned))
        self.health.ready = True

    def on_revoke(self, consumer: Consumer, revoked: list[TopicPartition]) -> None:
        self.rebalances += 1
        self.metrics.rebalances.labels("revoke").inc()
        # No transaction is open while consume() runs callbacks, so everything here is committed already.
        revoked_partitions = {tp.partition for tp in revoked}
        self.assigned -= {(tp.topic, tp.partition) for tp in revoked}
        # still assigned inside this callback: resume what we paused, so the next assignment starts clean
        with contextlib.suppress(KafkaException):  # a lost assignment may refuse it; it is gone anyway
            self.resume(self.orderer.drop(revoked_partitions))
        self.positions.forget_ends(revoked_partitions)
        self.step.drop(revoked_partitions)
        self.metrics.assigned_partitions.set(len(self.assigned))
        if not self.assigned:
            # not ready until a new assignment is restored (on_assign): a worker cut off from the group
            # (a broker outage past the session timeout) must not look ready while it owns nothing
            self.health.ready = False
        log.info("revoked %d input partitions", len(revoked))

    def on_lost(self, consumer: Consumer, lost: list[TopicPartition]) -> None:
        log.warning(
            "lost the assignment of %d input partitions (no contact with the group coordinator for the "
            "session timeout); not ready until the group assigns partitions again",
            len(lost),
        )
        self.on_revoke(consumer, lost)
