"""The worker's batch step, Kafka-free: each record through its partition's ``Processor``, the outputs and
the changed customers' state handed to the batch's transaction (a ``BatchOutput``: the ``Checkpoint``,
or a counting sink in bench/worker_profile.py), quiet customers moved on by the clock.

It owns the assigned partitions' state stores and processors and the stream time of each partition; the
loop (``loop.Worker``) owns the clients, the order records arrive in and the rebalances.
"""

from __future__ import annotations

import gc
import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from config.settings import Settings
from detectors.engine import RiskEngine
from streams.emit import emit
from streams.partitioning import kafka_partition
from streams.processor import Processor
from streams.worker.metrics import WorkerMetrics
from streams.worker.ordering import CaughtUp
from streams.worker.state_store import (
    PartitionState,
    deadline_header,
    evict_to_budget,
    held_bytes,
    records_over_budget,
)

log = logging.getLogger("riskwatch.worker")


class ConsumedRecord(Protocol):
    """What the batch step reads of a consumed record; confluent-kafka's ``Message`` has it."""

    def topic(self) -> str | None: ...

    def partition(self) -> int | None: ...

    def offset(self) -> int | None: ...

    def key(self) -> bytes | None: ...

    def value(self) -> bytes | None: ...

    def timestamp(self) -> tuple[int, int]: ...


class BatchOutput(Protocol):
    """Where a batch's records go and where it notes what it consumed: the batch's transaction."""

    def produce(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int = -1,
        headers: list[tuple[str, str | bytes | None]] | None = None,
    ) -> None: ...

    def consumed(self, topic: str, partition: int, offset: int) -> None: ...


def coordinates(msg: ConsumedRecord) -> tuple[str, int, int]:
    """Topic, partition and offset of a consumed record (always set on a message without an error)."""
    topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
    if topic is None or partition is None or offset is None:
        raise ValueError("a consumed record without topic, partition or offset")
    return topic, partition, offset


@dataclass
class BatchTally:
    """What the worker's metrics take from a committed batch."""

    records: int = 0
    consumed: dict[str, int] = field(default_factory=dict)  # per input topic
    event_timestamps: list[float] = field(default_factory=list)  # record times, seconds
    alert_timestamps: list[float] = field(default_factory=list)  # of the records that raised alerts


@contextmanager
def collector_paused() -> Iterator[None]:
    """Around a batch: the cyclic collector's automatic runs off, ``freeze_survivors`` collects once at its
    end instead. A batch of sparse traffic decodes thousands of customers, hundreds of objects each; the
    automatic runs scanned each new object several times over (young, then middle generation, then the
    full collections that the growth since the last freeze sets off), a share of every decode
    (docs/performance.md). Garbage cycles of a batch (few: customer states hold none) wait for its end; the
    collector runs again after the batch whatever ended it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def freeze_survivors() -> None:
    """After a committed batch. Customer states live long and hold no reference cycles (refcounting frees
    them): keep the cyclic collector off them. A full collection over 100k customers' objects takes
    seconds, which was the whole p99 latency tail (docs/performance.md). Young garbage cycles are
    collected first (cheap: only this batch's objects are not frozen), then freeze() moves the survivors
    out of the collector's way in O(1)."""
    gc.collect(1)
    gc.freeze()


class BatchStep:
    def __init__(
        self,
        settings: Settings,
        engine: RiskEngine,
        metrics: WorkerMetrics,
        changelog: str,
        clock: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.metrics = metrics
        self.changelog = changelog
        self.clock = clock
        self.expected_type = settings.topics.input_types()
        self.partitions: dict[int, PartitionState] = {}
        self.processors: dict[int, Processor] = {}
        self.partition_count = 0  # of every input topic, known once the topics are checked at start
        # lowered at start if the dead-letter topic takes less (topology.dead_letter_bound)
        self.dead_letter_max_bytes = settings.worker.dead_letter_max_bytes
        self.state_memory_budget_bytes = settings.worker.state_memory_budget_mib << 20
        self._warned_budget = False  # once per worker: the records alone over the budget
        self.punctuate_interval_seconds = settings.worker.punctuate_interval_ms / 1000.0
        self.wall_clock_after_idle_seconds = settings.worker.punctuate_wall_clock_after_idle_ms / 1000.0
        self._next_punctuation = 0.0
        # per input partition: the latest event time processed (stream time) and when (monotonic) the last
        # event was processed, or the partition assigned
        self._stream_time: dict[int, float] = {}
        self._last_event: dict[int, float] = {}

    # ------------------------------------------------------------------------------- the partitions
    def new_store(self) -> PartitionState:
        worker = self.settings.worker
        return PartitionState(self.engine, None, worker.state_record_format)

    def taken_over(self, partitions: Iterable[int]) -> None:
        """Newly assigned partitions count as busy until they have been idle for a while."""
        for p in partitions:
            self._last_event[p] = time.monotonic()
            self._stream_time.pop(p, None)

    def adopt(self, stores: dict[int, PartitionState]) -> None:
        """Restored stores replace whatever was held for their partitions."""
        for p, store in stores.items():
            self.partitions[p] = store
            self.processors[p] = self._new_processor(store)

    def drop(self, partitions: Iterable[int]) -> None:
        for p in partitions:
            self.partitions.pop(p, None)
            self.processors.pop(p, None)

    def customers(self) -> int:
        return sum(len(s) for s in self.partitions.values())

    def state_memory(self) -> tuple[int, int]:
        """The estimated bytes of every customer's record and of the decoded customers, for the operator
        to see how close the budget is (a full budget means events pay decodes)."""
        return held_bytes(self.partitions.values())

    def _new_processor(self, store: PartitionState) -> Processor:
        count = self.partition_count
        return Processor(
            self.engine,
            store,
            self.clock,
            partition_of=lambda cid: kafka_partition(cid.encode(), count),
            dead_letter_max_bytes=self.dead_letter_max_bytes,
            redact_contact_values=self.settings.dead_letter.redact_contact_values,
        )

    def _processor(self, partition: int) -> Processor:
        processor = self.processors.get(partition)
        if processor is None:
            store = self.partitions.setdefault(partition, self.new_store())
            processor = self.processors[partition] = self._new_processor(store)
        return processor

    # ------------------------------------------------------------------------------------ the batch
    def run(
        self, msgs: Sequence[ConsumedRecord], out: BatchOutput, punctuate: bool, caught_up: CaughtUp
    ) -> BatchTally:
        """One batch into ``out``: every record, then (``punctuate``) the quiet customers moved on by the
        clock, then the changelog record of every customer changed."""
        tally = self.process(msgs, out)
        if punctuate:
            self.punctuate(out, caught_up)
        self.write_changelog(out)
        return tally

    def process(self, msgs: Sequence[ConsumedRecord], out: BatchOutput) -> BatchTally:
        """Every record through its partition's processor. Written for the per-record cost (tens of
        thousands of records a second): what is per partition or per batch (the positions handed to ``out``,
        when each partition last saw an event) is noted once per batch, and a record without outputs (most
        of them) does not go through ``emit``."""
        tally = BatchTally(records=len(msgs))
        consumed = tally.consumed
        event_times = tally.event_timestamps
        alert_times = tally.alert_timestamps
        stream_time = self._stream_time
        processors = self.processors
        expected_type = self.expected_type
        topics, metrics, produce = self.settings.topics, self.metrics, out.produce
        # (topic, partition) -> the last offset taken: records of one topic partition come in offset order
        positions: dict[tuple[str, int], int] = {}
        with_events: set[int] = set()
        now = time.time()
        for msg in msgs:
            topic, partition, offset = coordinates(msg)
            positions[(topic, partition)] = offset
            consumed[topic] = consumed.get(topic, 0) + 1
            processor = processors.get(partition)
            if processor is None:
                processor = self._processor(partition)
            key = msg.key()
            result = processor.handle(
                msg.value() or b"",
                source=topic,
                partition=partition,
                offset=offset,
                key=key or b"",
                expected_type=expected_type.get(topic),
            )
            event_ts = result.event_ts
            if event_ts is not None:
                latest = stream_time.get(partition, 0.0)
                stream_time[partition] = event_ts if event_ts > latest else latest
                with_events.add(partition)
            ts_type, ts_ms = msg.timestamp()
            ts = ts_ms / 1000.0 if ts_type != 0 else now
            event_times.append(ts)
            if (
                result.alerts
                or result.risks
                or result.reviews
                or result.dead_letter is not None
                or result.duplicate
                or result.erased
            ) and emit(result, key, topics, metrics, produce):
                alert_times.append(ts)
        for (topic, partition), offset in positions.items():
            out.consumed(topic, partition, offset)
        if with_events:
            done = time.monotonic()
            for partition in with_events:
                self._last_event[partition] = done
        return tally

    def write_changelog(self, out: BatchOutput) -> None:
        """The state of every customer changed in the batch, to its partition of the changelog; then the
        decoded customers that no longer fit the worker's state memory budget leave (their records stay)."""
        written = 0
        produce, changelog = out.produce, self.changelog
        for partition, store in self.partitions.items():
            deadlines = store.deadlines
            for customer_id, blob in store.take_dirty():
                produce(
                    changelog,
                    customer_id.encode(),
                    blob,
                    partition=partition,
                    headers=deadline_header(deadlines.get(customer_id)),
                )
                if blob is not None:
                    written += len(blob)
        self.metrics.state_bytes_written.inc(written)
        evict_to_budget(self.partitions.values(), self.state_memory_budget_bytes)
        if not self._warned_budget:
            line = records_over_budget(self.partitions.values(), self.state_memory_budget_bytes)
            if line is not None:
                log.warning("%s", line)
                self._warned_budget = True

    # ---------------------------------------------------------------------------- the wall clock
    def punctuation_due(self) -> bool:
        """Whether a punctuation is due now and has something to do (no empty transactions)."""
        interval = self.punctuate_interval_seconds
        if interval <= 0 or time.monotonic() < self._next_punctuation:
            return False
        self._next_punctuation = time.monotonic() + interval
        wall = self.clock().timestamp()
        return any(store.due(self._punctuation_time(p, wall)) for p, store in self.partitions.items())

    def _punctuation_time(self, partition: int, wall: float) -> float:
        """Stream time while the partition has traffic (its event times may lag the clock: a backfill must
        not be overtaken), the wall clock once it has been idle for a while (a quiet partition still moves)."""
        idle = time.monotonic() - self._last_event.get(partition, 0.0)
        if idle >= self.wall_clock_after_idle_seconds:
            return wall
        stream = self._stream_time.get(partition)
        return -math.inf if stream is None else min(wall, stream)

    def punctuate(self, out: BatchOutput, caught_up: CaughtUp) -> None:
        """Move quiet customers on by the clock (see ``_punctuation_time``), inside the open transaction:
        their outputs and their state (the emitted-review marker included) commit together, so a restart
        never repeats them. Only partitions read to the end take part: a backlog's events come first."""
        wall = self.clock().timestamp()
        for partition, store in self.partitions.items():
            now_ts = self._punctuation_time(partition, wall)
            due = store.due(now_ts)
            if not due or not all(caught_up(t, partition) for t in self.expected_type):
                continue
            processor = self._processor(partition)
            now = datetime.fromtimestamp(now_ts, UTC)
            for customer_id in due:
                result = processor.punctuate(customer_id, now)
                if result is None:
                    store.deadlines.pop(customer_id, None)  # stale: nothing due after all
                    continue
                emit(result, customer_id.encode(), self.settings.topics, self.metrics, out.produce)
