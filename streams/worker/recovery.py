"""Restoring partitions' state from the changelog (quix-streams' ``RecoveryManager``): on assignment, and
after an aborted transaction. The changelog is read read_committed from its start to its end, so the
state is exactly what was committed together with the input offsets the consumer resumes from.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    IsolationLevel,
    KafkaError,
    KafkaException,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, OffsetSpec  # type: ignore[attr-defined]

from streams.co_partitioning import WorkerError
from streams.errors import kafka_error_of
from streams.worker.batch import coordinates
from streams.worker.health import Health
from streams.worker.metrics import WorkerMetrics
from streams.worker.state_store import PartitionState, deadline_from_headers

log = logging.getLogger("riskwatch.worker")

RESTORE_TIMEOUT_SECONDS = 300.0
# The restorer reads to the changelog's end and stops: the broker answers its fetch at the end at once
# instead of holding it for librdkafka's 500 ms long poll, and each consume call (which waits its whole
# timeout unless it fills the batch) returns soon after the end is seen, so an empty or small partition
# does not wait out a long poll on every assignment.
RESTORE_FETCH_WAIT_MS = 10
RESTORE_POLL_SECONDS = 0.05
END_TIMEOUT_SECONDS = 10.0
# A partition's leader can move or not be known yet (a changelog topic just made, a broker restarting: its
# leader epoch then moves too) as a worker is assigned its partitions: the watermark query is asked again,
# backing off, until its timeout, each time after the changelog's leaders are asked again: librdkafka's
# admin client otherwise sends the leader epoch it last knew, and a restarted broker answers
# FENCED_LEADER_EPOCH to it for as long as the client is not told of the new one (longer than the
# restore's timeout).
END_RETRY_FIRST_BACKOFF_SECONDS = 0.05
END_RETRY_MAX_BACKOFF_SECONDS = 1.0
_END_RETRIABLE = frozenset(
    {
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.FENCED_LEADER_EPOCH,
        KafkaError.UNKNOWN_LEADER_EPOCH,
        KafkaError.UNKNOWN_TOPIC_OR_PART,
        KafkaError.REQUEST_TIMED_OUT,
        KafkaError.NOT_ENOUGH_REPLICAS,
        KafkaError._TRANSPORT,
        KafkaError._NOENT,  # "no leaders found": the metadata of a broker still electing them
    }
)
HIGH_WATERMARK = OffsetSpec.latest()  # type: ignore[no-untyped-call]


def restorer_config(base: dict[str, Any], group: str, instance_id: str) -> dict[str, Any]:
    """A consumer of its own for the changelog: assigned by hand, never part of the input group."""
    return {
        **base,
        "group.id": f"{group}-restore",
        "client.id": f"{instance_id}-restore",
        "enable.auto.commit": False,
        "enable.partition.eof": True,
        "isolation.level": "read_committed",
        "auto.offset.reset": "earliest",
        "fetch.wait.max.ms": RESTORE_FETCH_WAIT_MS,
    }


def end_reader_config(base: dict[str, Any], instance_id: str) -> dict[str, Any]:
    """The client that asks for the changelog's high watermarks (an admin client: one ListOffsets request
    per broker for every assigned partition, where a consumer asks one partition at a time)."""
    return {**base, "client.id": f"{instance_id}-restore-end"}


def end_retriable(exc: KafkaException) -> bool:
    """A fault of the watermark query that passes once the cluster settles (a partition's leader moving or
    not yet known), as librdkafka flags it or as the partition's own answer codes it (those come unflagged)."""
    error = kafka_error_of(exc)
    return error is not None and (error.retriable() or error.code() in _END_RETRIABLE)


class Recovery:
    def __init__(
        self,
        restorer: Consumer,
        changelog: str,
        new_store: Callable[[], PartitionState],
        metrics: WorkerMetrics,
        health: Health,
        end_reader: AdminClient,
    ) -> None:
        self.restorer = restorer
        self.end_reader = end_reader
        self.changelog = changelog
        self.new_store = new_store
        self.metrics = metrics
        self.health = health

    def connect(self) -> None:
        """Connects the restorer and learns the changelog's partition leaders before the first assignment,
        which a cold consumer otherwise spends 0.5-1.5 s on while the group waits for this worker."""
        try:
            self.restorer.list_topics(self.changelog, timeout=10)
        except KafkaException as exc:  # the restore itself will meet the fault, if it lasts
            log.debug("connecting the changelog restorer: %s", exc)

    def _ends(self, partitions: list[int]) -> dict[int, int]:
        """Each changelog partition's high watermark now: every record the previous owner wrote before
        giving the partition up lies below it. Asked read_uncommitted: read_committed is told the last
        stable offset, which stops before a transaction not yet marked."""
        asked = {TopicPartition(self.changelog, p): HIGH_WATERMARK for p in partitions}
        deadline = time.monotonic() + END_TIMEOUT_SECONDS
        backoff = END_RETRY_FIRST_BACKOFF_SECONDS
        try:
            while True:
                try:
                    answers = self.end_reader.list_offsets(
                        asked,
                        isolation_level=IsolationLevel.READ_UNCOMMITTED,
                        request_timeout=max(0.1, deadline - time.monotonic()),
                    )
                    return {tp.partition: answer.result().offset for tp, answer in answers.items()}
                except KafkaException as exc:
                    if not end_retriable(exc) or time.monotonic() + backoff >= deadline:
                        raise WorkerError(f"reading the state changelog's end failed: {exc}") from exc
                    log.info("reading the state changelog's end: %s; asking again in %.2fs", exc, backoff)
                    time.sleep(backoff)
                    self._refresh_leaders(deadline)
                    backoff = min(2 * backoff, END_RETRY_MAX_BACKOFF_SECONDS)
        finally:
            # an admin client's log waits in its queue until polled: what it met reaches the worker's log
            self.end_reader.poll(0)

    def _refresh_leaders(self, deadline: float) -> None:
        """Asks the cluster for the changelog's partition leaders, so that the next watermark query carries
        their current leader epochs (see ``END_RETRY_FIRST_BACKOFF_SECONDS``)."""
        try:
            self.end_reader.list_topics(self.changelog, timeout=max(0.1, deadline - time.monotonic()))
        except KafkaException as exc:  # the query after it meets the fault again, and says it
            log.debug("asking for the changelog's leaders: %s", exc)

    def restore(self, partitions: list[int]) -> dict[int, PartitionState]:
        """The committed state of ``partitions``, each in a fresh store."""
        if not partitions:
            return {}
        started = time.perf_counter()
        stores = {p: self.new_store() for p in partitions}
        ends = self._ends(partitions)
        self.restorer.assign([TopicPartition(self.changelog, p, OFFSET_BEGINNING) for p in partitions])
        pending = set(partitions)
        deadline = time.monotonic() + RESTORE_TIMEOUT_SECONDS
        records = 0
        while pending:
            if time.monotonic() > deadline:
                raise WorkerError(
                    f"restoring state of partitions {sorted(pending)} took over {RESTORE_TIMEOUT_SECONDS}s"
                )
            for msg in self.restorer.consume(num_messages=10000, timeout=RESTORE_POLL_SECONDS):
                err = msg.error()
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF:
                        # read_committed stops at the last stable offset: the previous owner's last
                        # transaction may be committed with its markers not yet written here, so the end
                        # is the high watermark taken before reading, once that transaction has settled
                        at = msg.partition()
                        if at is not None and (msg.offset() or 0) >= ends[at]:
                            pending.discard(at)
                        continue
                    raise WorkerError(f"reading the state changelog failed: {err}")
                key = msg.key()
                if key is None:
                    continue
                _, partition, _ = coordinates(msg)
                stores[partition].load(key.decode(), msg.value(), deadline_from_headers(msg.headers()))
                records += 1
            self.health.beat()
        self.restorer.unassign()
        gc.freeze()  # long-lived: out of the cyclic collector's way (batch.freeze_survivors)
        elapsed = time.perf_counter() - started
        self.metrics.state_restore_seconds.observe(elapsed)
        log.info("restored %d state records for partitions %s in %.2fs", records, partitions, elapsed)
        return stores
