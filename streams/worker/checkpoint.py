"""One batch's Kafka transaction (quix-streams' ``Checkpoint``): the outputs, the changed customers' state
on the changelog and the input offsets commit together, or none of them does.

A crash anywhere before ``commit`` returns leaves nothing of the batch visible to read_committed
consumers; the next owner of the partitions restores the state committed with the offsets
(``recovery``) and reprocesses from there, producing the same alerts with the same ids.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

from config.settings import PRODUCER_MESSAGE_MAX_BYTES, Settings
from streams.errors import kafka_error_of
from streams.worker.txn_watchdog import TxnWatchdog

log = logging.getLogger("riskwatch.worker")

TRANSACTION_TIMEOUT_SECONDS = 30.0
# how far past its own timeout (worker.transaction_call_timeout_seconds) a transactional call may stay
# inside librdkafka before the watchdog ends the worker: room for the call's retries and a loaded machine
WATCHDOG_MARGIN_SECONDS = 15.0

Headers = list[tuple[str, str | bytes | None]]


def producer_config(base: dict[str, Any], settings: Settings, group: str, instance_id: str) -> dict[str, Any]:
    """The worker's one transactional producer: every batch's outputs and changelog records go through it."""
    return {
        **base,
        "client.id": f"{instance_id}-producer",
        # a stable id per instance: a restarted instance fences its crashed self at once
        "transactional.id": f"{group}-{instance_id}",
        "enable.idempotence": True,
        "partitioner": "murmur2_random",
        "linger.ms": settings.worker.producer_linger_ms,
        # stated, not left to librdkafka's default: worker.dead_letter_max_bytes is bounded below it
        "message.max.bytes": PRODUCER_MESSAGE_MAX_BYTES,
        "compression.type": settings.kafka.producer_compression,
        # A transaction begun right after the previous commit finds that one's markers still being
        # written (CONCURRENT_TRANSACTIONS) and is retried after retry.backoff.ms, 100 ms by default:
        # that retry was most of the end-to-end latency (bench/txn_backoff.py measures it)
        "retry.backoff.ms": 5,
        "retry.backoff.max.ms": 200,
        "queue.buffering.max.messages": 1000000,
        "transaction.timeout.ms": int(TRANSACTION_TIMEOUT_SECONDS * 1000),
    }


class Checkpoint:
    """Made per batch: ``begin``, ``produce`` and ``consumed`` as the batch goes, then ``commit`` (or
    ``abort``, when a Kafka error asks for it)."""

    def __init__(
        self, producer: Producer, consumer: Consumer, watchdog: TxnWatchdog, call_timeout_seconds: float
    ) -> None:
        self.producer = producer
        self.consumer = consumer
        self.watchdog = watchdog
        self.call_timeout_seconds = call_timeout_seconds
        # next offset to consume per input topic partition: what the commit stores for the group
        self.offsets: dict[tuple[str, int], int] = {}

    def begin(self) -> None:
        self.producer.begin_transaction()

    def produce(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int = -1,
        headers: Headers | None = None,
    ) -> None:
        """Into the open transaction; a full local queue is drained (delivery reports served) first."""
        while True:
            try:
                if partition >= 0:
                    self.producer.produce(topic, key=key, value=value, partition=partition, headers=headers)
                else:
                    self.producer.produce(topic, key=key, value=value)
                return
            except BufferError:
                self.producer.poll(0.05)

    def consumed(self, topic: str, partition: int, offset: int) -> None:
        self.offsets[(topic, partition)] = offset + 1

    def commit(self) -> None:
        """The input offsets into the transaction, then the commit; a ``KafkaException`` that escapes
        leaves the transaction to ``abort``."""
        offsets = self.offsets
        timeout = self.call_timeout_seconds
        if offsets:
            group_metadata = self.consumer.consumer_group_metadata()
            retrying(
                self.watchdog,
                "sending the offsets to the transaction",
                lambda: self.producer.send_offsets_to_transaction(
                    [TopicPartition(t, p, o) for (t, p), o in offsets.items()],
                    group_metadata,
                    timeout,
                ),
            )
        retrying(
            self.watchdog,
            "committing the transaction",
            lambda: self.producer.commit_transaction(timeout),
        )

    def abort(self) -> None:
        self.producer.abort_transaction(TRANSACTION_TIMEOUT_SECONDS)


def retrying(watchdog: TxnWatchdog, doing: str, call: Callable[[], None]) -> None:
    """A transactional call whose error is retriable (a timeout while the broker is away) leaves the
    transaction as it was: librdkafka's contract is to call it again, not to abort. Errors that require an
    abort or are fatal are raised, for the worker's abort-and-rewind or its exit."""
    while True:
        try:
            watchdog.guard(doing, call)
            return
        except KafkaException as exc:
            err = kafka_error_of(exc)
            if err is None or err.fatal() or err.txn_requires_abort() or not err.retriable():
                raise
            log.warning("%s failed (%s); the broker may be away: retrying", doing, err.str())
