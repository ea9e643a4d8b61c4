"""``riskwatch project``'s loop: read the committed output topics, apply each batch to Redis atomically with
its offsets, repeat.

The consumer is assigned every partition by hand (no group rebalancing: one projector per read model)
and positioned at the offsets stored in Redis, never at Kafka-committed ones, so where it resumes always
matches what the read model holds. ``read_committed`` hides aborted worker transactions: after a worker
crash the read model sees only what the worker's exactly-once run published.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Message, TopicPartition

from config.settings import Settings
from readmodel.records import ROLES, Record, Role, Skip
from readmodel.store import OffsetConflict, RedisStore
from readmodel.store import TopicPartition as TP
from streams.errors import from_kafka_error
from streams.logging_setup import with_kafka_logger

log = logging.getLogger("riskwatch.project")

# credentials refused or a permission missing: the projector stops with the fault instead of retrying
_REFUSED = frozenset(
    {
        KafkaError._AUTHENTICATION,
        KafkaError.SASL_AUTHENTICATION_FAILED,
        KafkaError.TOPIC_AUTHORIZATION_FAILED,
        KafkaError.GROUP_AUTHORIZATION_FAILED,
        KafkaError.CLUSTER_AUTHORIZATION_FAILED,
    }
)


class Projector:
    def __init__(self, settings: Settings, store: RedisStore):
        self.settings = settings
        self.store = store
        self.roles: dict[str, Role] = {getattr(settings.topics, role): role for role in ROLES}
        self.consumer = Consumer(
            {
                # librdkafka's own lines through riskwatch's logging, not raw onto stderr: an unreachable
                # broker is then one fault line, not a screenful of %3|...|FAIL| before it
                **with_kafka_logger(settings.kafka.client_config()),
                "group.id": settings.readmodel.consumer_group,
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "isolation.level": "read_committed",
                "auto.offset.reset": "earliest",
            }
        )
        # partition -> the offset Redis holds for it (None: nothing applied yet)
        self.positions: dict[TP, int | None] = {}
        self.applied = 0
        self.skipped = 0
        self._stopping = False
        self._next_refresh = 0.0

    def stop(self) -> None:
        self._stopping = True

    def run(self, until: Callable[[], bool] = lambda: False) -> None:
        rm = self.settings.readmodel
        next_report = time.monotonic() + 30.0
        try:
            while not self._stopping and not until():
                if time.monotonic() >= self._next_refresh:
                    self._assign_new_partitions()
                    self._next_refresh = time.monotonic() + rm.topic_refresh_seconds
                messages = self.consumer.consume(rm.batch_max_messages, rm.poll_timeout_ms / 1000.0)
                if messages:
                    self._apply(messages)
                if time.monotonic() >= next_report:
                    log.info("applied %d records, skipped %d so far", self.applied, self.skipped)
                    next_report = time.monotonic() + 30.0
        finally:
            self.consumer.close()

    def _assign_new_partitions(self) -> None:
        """Start reading partitions (of topics that may have been created since) not yet assigned."""
        metadata = self.consumer.list_topics(timeout=10.0)
        stored = self.store.offsets()
        new: list[TopicPartition] = []
        for topic in self.roles:
            meta = metadata.topics.get(topic)
            if meta is None or meta.error is not None:
                continue
            for partition in meta.partitions:
                tp = (topic, partition)
                if tp in self.positions:
                    continue
                self.positions[tp] = stored.get(tp)
                new.append(TopicPartition(topic, partition, stored.get(tp, OFFSET_BEGINNING)))
        if new:
            self.consumer.incremental_assign(new)
            log.info("reading %s", ", ".join(f"{tp.topic}[{tp.partition}]" for tp in new))

    def _apply(self, messages: list[Message]) -> None:
        records: list[Record] = []
        for m in messages:
            error = m.error()
            if error is not None:
                if error.fatal() or error.code() in _REFUSED:
                    # retrying cannot help: one fault line (streams.errors) instead of a log that never ends
                    raise from_kafka_error(
                        error, self.settings.kafka.bootstrap_servers, "projecting the read model"
                    )
                if error.code() != KafkaError._PARTITION_EOF:
                    log.warning("kafka: %s", error)
                continue
            topic, partition, offset = m.topic(), m.partition(), m.offset()
            if topic is None or partition is None or offset is None:
                continue
            held = self.positions.get((topic, partition))
            if held is not None and offset < held:
                continue  # applied before a re-seek
            _, timestamp_ms = m.timestamp()
            records.append(
                Record(self.roles[topic], topic, partition, offset, timestamp_ms, m.key(), m.value())
            )
        if not records:
            return
        expected = {(r.topic, r.partition): self.positions.get((r.topic, r.partition)) for r in records}
        try:
            batch = self.store.apply(records, expected)
        except OffsetConflict as exc:
            log.warning("%s; re-reading from the stored offsets", exc)
            self.consumer.unassign()  # reassigned from what Redis holds on the next turn
            self.positions.clear()
            self._next_refresh = 0.0
            return
        self.positions.update(batch.offsets)
        for op in batch.ops:
            if isinstance(op, Skip):
                self.skipped += 1
                log.warning("skipped %s[%d]@%d: %s", op.topic, op.partition, op.offset, op.reason)
        self.applied += len(records)
