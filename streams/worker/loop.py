"""The worker's hot path on confluent-kafka: micro-batches, each one Kafka transaction.

Per batch: consume up to N messages, run them through the shared ``Processor``, produce alerts, tier
changes, dead letters and the changed customers' state to the changelog, add the input offsets to the same
transaction and commit. A crash anywhere before the commit aborts all of it; the next owner of the
partitions restores the state committed with the offsets and reprocesses from there, producing the same
alerts with the same ids, which read_committed consumers see exactly once.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    ConfigResource,
    NewTopic,
)

from config.settings import (
    DEAD_LETTER_MIN_BYTES,
    DEAD_LETTER_RECORD_RESERVE_BYTES,
    PRODUCER_MESSAGE_MAX_BYTES,
    Settings,
)
from detectors.engine import RiskEngine
from streams.broker import wait_for_broker
from streams.co_partitioning import TopologyError, WorkerError, input_partition_count
from streams.emit import emit
from streams.errors import Fault, Fenced, from_kafka_error, kafka_error_of
from streams.logging_setup import with_kafka_logger
from streams.partitioning import kafka_partition
from streams.processor import Processor, Result, utc_now
from streams.worker.health import Health
from streams.worker.metrics import WorkerMetrics
from streams.worker.ordering import TimestampOrderer, coordinates
from streams.worker.state_store import (
    PartitionState,
    changelog_topic,
    deadline_from_headers,
    deadline_header,
)
from streams.worker.txn_watchdog import TxnWatchdog

log = logging.getLogger("riskwatch.worker")

RESTORE_TIMEOUT_SECONDS = 300.0
LAG_INTERVAL_SECONDS = 2.0
TRANSACTION_TIMEOUT_SECONDS = 30.0


@dataclass
class WorkerOptions:
    instance_id: str
    group: str
    batch_max_events: int = 2000
    batch_max_wait_seconds: float = 0.05
    batch_linger_seconds: float = 0.0
    session_timeout_ms: int = 10000
    max_idle_seconds: float = 1.0
    ordering_buffer_max_messages: int = 5000
    max_decoded_customers_per_partition: int = 20000
    # wall-clock punctuation of quiet customers (0: off); see WorkerSettings.punctuate_interval_ms
    punctuate_interval_seconds: float = 10.0
    punctuate_wall_clock_after_idle_seconds: float = 60.0
    extra_consumer_config: dict[str, str] = field(default_factory=dict)


class Worker:
    def __init__(
        self,
        settings: Settings,
        options: WorkerOptions,
        metrics: WorkerMetrics,
        health: Health,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self.options = options
        self.metrics = metrics
        self.health = health
        self.clock = clock
        self.engine = RiskEngine(settings.detection)
        topics = settings.topics
        self.expected_type = topics.input_types()
        self.changelog = changelog_topic(options.group)
        # lowered at start if the dead-letter topic takes less (_bound_dead_letters)
        self.dead_letter_max_bytes = settings.worker.dead_letter_max_bytes
        self.partitions: dict[int, PartitionState] = {}
        self.processors: dict[int, Processor] = {}
        self.stop_requested = threading.Event()
        # librdkafka's own timeout plus room for the call's retries and a loaded machine
        self._txn_watchdog = TxnWatchdog(TRANSACTION_TIMEOUT_SECONDS + 15)
        self.orderer = TimestampOrderer(list(self.expected_type), options.max_idle_seconds)
        # where each assigned input partition starts (committed offset, or 0): "caught up" before any fetch
        self._committed: dict[tuple[str, int], int] = {}
        # where librdkafka last reported the end of an input partition (read_committed: its last stable
        # offset, after any transaction markers): "caught up" although an open upstream transaction's
        # records already count in the high watermark
        self._eof: dict[tuple[str, int], int] = {}
        self.assigned: set[tuple[str, int]] = set()
        self._rebalances = 0  # assignments and revocations so far: tells _consume that one ran
        self.partition_count = 0  # of every input topic, known once the topics are checked at start
        self._next_lag_update = 0.0
        self._next_punctuation = 0.0
        # per input partition: the latest event time processed (stream time) and when (monotonic) the last
        # event was processed, or the partition assigned
        self._stream_time: dict[int, float] = {}
        self._last_event: dict[int, float] = {}
        base = with_kafka_logger(settings.kafka.client_config())
        self._base = base
        self.consumer = Consumer(
            {
                **base,
                "group.id": options.group,
                "client.id": f"{options.instance_id}-consumer",
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "isolation.level": "read_committed",
                "auto.offset.reset": "earliest",
                "enable.partition.eof": True,
                # range puts partition i of every co-partitioned input topic on the same worker
                "partition.assignment.strategy": "range",
                "session.timeout.ms": options.session_timeout_ms,
                "heartbeat.interval.ms": max(1000, options.session_timeout_ms // 5),
                **options.extra_consumer_config,
            }
        )
        self.producer = Producer(
            {
                **base,
                "client.id": f"{options.instance_id}-producer",
                # a stable id per instance: a restarted instance fences its crashed self at once
                "transactional.id": f"{options.group}-{options.instance_id}",
                "enable.idempotence": True,
                "partitioner": "murmur2_random",
                "linger.ms": 5,
                # stated, not left to librdkafka's default: worker.dead_letter_max_bytes is bounded below it
                "message.max.bytes": PRODUCER_MESSAGE_MAX_BYTES,
                "compression.type": settings.kafka.producer_compression,
                # A transaction begun right after the previous commit finds that one's markers still being
                # written (CONCURRENT_TRANSACTIONS) and is retried after retry.backoff.ms, 100 ms by default:
                # that retry was most of the end-to-end latency (send_offsets_to_transaction back to back:
                # p50 83 ms, with 5 ms: 0.7 ms; bench/txn_backoff.py)
                "retry.backoff.ms": 5,
                "retry.backoff.max.ms": 200,
                "queue.buffering.max.messages": 1000000,
                "transaction.timeout.ms": int(TRANSACTION_TIMEOUT_SECONDS * 1000),
            }
        )
        self.restorer = Consumer(
            {
                **base,
                "group.id": f"{options.group}-restore",
                "client.id": f"{options.instance_id}-restore",
                "enable.auto.commit": False,
                "enable.partition.eof": True,
                "isolation.level": "read_committed",
                "auto.offset.reset": "earliest",
            }
        )

    # ----------------------------------------------------------------------------------- lifecycle
    def run(self) -> None:
        """Until ``stop()``; a Kafka fault ends it as the ``Fault`` that names it (one line, exit code)."""
        try:
            self._run()
        except KafkaException as exc:
            raise self._fault(exc, "running the worker") from None

    def _fault(self, exc: KafkaException, doing: str) -> Fault:
        err = kafka_error_of(exc)
        if err is None:
            return WorkerError(f"Kafka error while {doing}: {exc}", "see the log above")
        fault = from_kafka_error(err, self.settings.kafka.bootstrap_servers, doing)
        if isinstance(fault, Fenced):
            return self._fenced(err)
        return fault

    def _fenced(self, err: KafkaError) -> Fenced:
        """Name who took over: the group's members whose client id carries this instance id."""
        instance = self.options.instance_id
        others = ""
        try:
            admin = AdminClient(dict(self._base))
            described = admin.describe_consumer_groups([self.options.group])[self.options.group].result(5)
            hosts = [m.host for m in described.members if m.client_id == f"{instance}-consumer"]
            if hosts:
                others = f" (now running at {', '.join(hosts)})"
        except Exception as exc:  # naming the other process is a courtesy; the fence is what matters
            log.debug("could not describe group %s: %s", self.options.group, exc)
        return Fenced(
            f"worker {instance} was fenced: another worker with instance id {instance}{others} took over "
            f"transactional id {self.options.group}-{instance} ({err.str()}); this one stops",
            "give every worker of a group its own --instance-id, or leave it out for a unique default",
        )

    def _run(self) -> None:
        self._ensure_changelog()
        self._bound_dead_letters()
        self.producer.init_transactions(TRANSACTION_TIMEOUT_SECONDS)
        self.consumer.subscribe(
            list(self.expected_type),
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_lost,
        )
        log.info("worker %s started in group %s", self.options.instance_id, self.options.group)
        full_batch = False
        try:
            while not self.stop_requested.is_set():
                # after a full batch more may be buffered and ready: look for new input without waiting
                consumed = self._consume(0.0 if full_batch else self.options.batch_max_wait_seconds)
                # a message fetched before a revocation is not ours to process any more
                self.orderer.add(
                    m for m in consumed if m.error() is None and (m.topic(), m.partition()) in self.assigned
                )
                for m in consumed:
                    err = m.error()
                    if err is None:
                        continue
                    if err.code() == KafkaError._PARTITION_EOF:
                        topic, partition, offset = coordinates(m)
                        self._eof[(topic, partition)] = offset
                    else:
                        log.warning("consume error: %s", err)
                msgs = (
                    self.orderer.drain(self._caught_up, self.options.batch_max_events)
                    if len(self.orderer)
                    else []
                )
                self._flow_control()
                if consumed or msgs or not len(self.orderer):
                    # alive means moving: input arrives, a batch goes out, or there is nothing to do. A loop
                    # that turns while its buffered input waits and nothing arrives is stuck (/healthz)
                    self.health.beat()
                full_batch = len(msgs) >= self.options.batch_max_events
                punctuate = self._punctuation_due()
                if msgs or punctuate:
                    self._process_batch(msgs, punctuate)
                if time.monotonic() >= self._next_lag_update:
                    self._update_lag()
        finally:
            self.health.ready = False
            log.info("worker %s stopping: leaving the group", self.options.instance_id)
            self._close_clients()

    def _close_clients(self) -> None:
        """Leave the group and drop the clients; an error here (a fenced producer's flush raises _FENCED)
        must not hide the error that ended the loop, which is the one to report."""
        for what, close in (
            ("consumer", self.consumer.close),
            ("restorer", self.restorer.close),
            ("producer", lambda: self.producer.flush(10)),
        ):
            try:
                close()
            except KafkaException as exc:
                log.debug("closing the %s: %s", what, exc)

    def _consume(self, wait_seconds: float) -> list[Message]:
        """A batch as soon as there is input: block (``wait_seconds``) for the first message only, then take
        whatever has been fetched meanwhile (waiting ``batch_linger_seconds`` for more). Batches thus grow
        with the load by themselves -- small and prompt when traffic is light, large (cheap per event) under
        a backlog -- instead of every batch waiting out a fixed timeout."""
        first = self.consumer.poll(wait_seconds)
        if first is None:
            return []
        if self.options.batch_max_events <= 1:
            return [first]
        rebalances = self._rebalances
        rest = self.consumer.consume(
            num_messages=self.options.batch_max_events - 1, timeout=self.options.batch_linger_seconds
        )
        if self._rebalances != rebalances:
            # A rebalance ran inside consume(): ``first`` was fetched before it. Even if its partition came
            # back to us, consumption restarts there from the committed offset, so ``first`` would be
            # processed ahead of the records before it (librdkafka drops such stale records itself, but
            # only those it has not handed out yet).
            return rest
        return [first, *rest]

    def stop(self) -> None:
        """Finish the batch in hand, commit it, leave the group."""
        self.stop_requested.set()

    # ----------------------------------------------------------------------------------- the batch
    def _punctuation_due(self) -> bool:
        """Whether a punctuation is due now and has something to do (no empty transactions)."""
        interval = self.options.punctuate_interval_seconds
        if interval <= 0 or time.monotonic() < self._next_punctuation:
            return False
        self._next_punctuation = time.monotonic() + interval
        wall = self.clock().timestamp()
        return any(store.due(self._punctuation_time(p, wall)) for p, store in self.partitions.items())

    def _punctuation_time(self, partition: int, wall: float) -> float:
        """Stream time while the partition has traffic (its event times may lag the clock: a backfill must
        not be overtaken), the wall clock once it has been idle for a while (a quiet partition still moves)."""
        idle = time.monotonic() - self._last_event.get(partition, 0.0)
        if idle >= self.options.punctuate_wall_clock_after_idle_seconds:
            return wall
        stream = self._stream_time.get(partition)
        return -math.inf if stream is None else min(wall, stream)

    def _punctuate(self, produce: Callable[..., None]) -> None:
        """Move quiet customers on by the clock (see ``_punctuation_time``), inside the open transaction:
        their outputs and their state (the emitted-review marker included) commit together, so a restart
        never repeats them. Only partitions read to the end take part: a backlog's events come first."""
        wall = self.clock().timestamp()
        for partition, store in self.partitions.items():
            now_ts = self._punctuation_time(partition, wall)
            due = store.due(now_ts)
            if not due or not all(self._caught_up(t, partition) for t in self.expected_type):
                continue
            processor = self._processor(partition)
            now = datetime.fromtimestamp(now_ts, UTC)
            for customer_id in due:
                result = processor.punctuate(customer_id, now)
                if result is None:
                    store.deadlines.pop(customer_id, None)  # stale: nothing due after all
                    continue
                emit(
                    result,
                    customer_id.encode(),
                    self.settings.topics,
                    self.metrics,
                    lambda topic, key, value: produce(topic, key=key, value=value),
                )

    def _process_batch(self, msgs: list[Message], punctuate: bool = False) -> None:
        started = time.perf_counter()
        produce = self._produce
        offsets: dict[tuple[str, int], int] = {}
        alert_timestamps: list[float] = []
        event_timestamps: list[float] = []
        consumed: dict[str, int] = {}
        self.producer.begin_transaction()
        try:
            for msg in msgs:
                topic, partition, offset = coordinates(msg)
                offsets[(topic, partition)] = offset + 1
                consumed[topic] = consumed.get(topic, 0) + 1
                result = self._processor(partition).handle(
                    msg.value() or b"",
                    source=topic,
                    partition=partition,
                    offset=offset,
                    key=msg.key() or b"",
                    expected_type=self.expected_type.get(topic),
                )
                if result.event_ts is not None:
                    self._stream_time[partition] = max(self._stream_time.get(partition, 0.0), result.event_ts)
                    self._last_event[partition] = time.monotonic()
                ts_type, ts_ms = msg.timestamp()
                ts = ts_ms / 1000.0 if ts_type != 0 else time.time()
                event_timestamps.append(ts)
                if self._emit(result, msg, produce):
                    alert_timestamps.append(ts)
            if punctuate:
                self._punctuate(produce)
            for partition, store in self.partitions.items():
                for customer_id, blob in store.take_dirty():
                    produce(
                        self.changelog,
                        key=customer_id.encode(),
                        value=blob,
                        partition=partition,
                        headers=deadline_header(store.deadlines.get(customer_id)),
                    )
                    self.metrics.state_bytes_written.inc(len(blob or b""))
            if offsets:
                group_metadata = self.consumer.consumer_group_metadata()
                self._retrying(
                    "sending the offsets to the transaction",
                    lambda: self.producer.send_offsets_to_transaction(
                        [TopicPartition(t, p, o) for (t, p), o in offsets.items()],
                        group_metadata,
                        TRANSACTION_TIMEOUT_SECONDS,
                    ),
                )
            self._retrying(
                "committing the transaction",
                lambda: self.producer.commit_transaction(TRANSACTION_TIMEOUT_SECONDS),
            )
        except KafkaException as exc:
            self._recover(exc)
            return
        # Customer states live long and hold no reference cycles (refcounting frees them): keep the cyclic
        # collector off them. A full collection over 100k customers' objects measured 2.4 s, which was the
        # whole p99 latency tail. Young garbage cycles are collected first (cheap: only this batch's objects
        # are not frozen), then freeze() moves the survivors out of the collector's way in O(1).
        gc.collect(1)
        gc.freeze()
        done = time.time()
        for ts in alert_timestamps:
            self.metrics.processing_latency.labels("alert").observe(max(0.0, done - ts))
        for topic, n in consumed.items():
            self.metrics.events_consumed.labels(topic).inc(n)
        hist = self.metrics.processing_latency.labels("event")
        for ts in event_timestamps:
            hist.observe(max(0.0, done - ts))
        self.metrics.batch_duration.observe(time.perf_counter() - started)
        self.metrics.batch_size.observe(len(msgs))
        self.metrics.customers_in_state.set(sum(len(s) for s in self.partitions.values()))

    def _emit(self, result: Result, msg: Message, produce: Callable[..., None]) -> bool:
        return emit(
            result,
            msg.key(),
            self.settings.topics,
            self.metrics,
            lambda topic, key, value: produce(topic, key=key, value=value),
        )

    def _produce(
        self,
        topic: str,
        *,
        key: bytes | None,
        value: bytes | None,
        partition: int = -1,
        headers: list[tuple[str, str | bytes | None]] | None = None,
    ) -> None:
        while True:
            try:
                if partition >= 0:
                    self.producer.produce(topic, key=key, value=value, partition=partition, headers=headers)
                else:
                    self.producer.produce(topic, key=key, value=value)
                return
            except BufferError:
                self.producer.poll(0.05)

    def _caught_up(self, topic: str, partition: int) -> bool | None:
        """Whether everything written to this input partition so far has been consumed (True) or not yet
        (False: the fetcher will bring it, however long the orderer has to wait). librdkafka moves the position past transaction markers
        and aborted records, so a position below the high watermark means data still to come -- or an
        upstream transaction still open, which the end-of-partition event at the last stable offset tells
        apart."""
        tp = TopicPartition(topic, partition)
        _, high = self.consumer.get_watermark_offsets(tp, cached=True)
        if high < 0:
            return False  # no fetch response yet: the fetcher will tell (KIP-695 waits here too)
        position = self.consumer.position([tp])[0].offset
        if position < 0:
            position = self._committed.get((topic, partition), 0)
        return position >= high or self._eof.get((topic, partition)) == position

    def _flow_control(self) -> None:
        """Pause the input partitions whose ordering buffer is full -- they are ahead in event time, and
        fetching more of them would only grow memory -- so the fetcher serves the ones being waited for;
        resume them once half drained."""
        pause, resume = self.orderer.flow(self.options.ordering_buffer_max_messages)
        if pause:
            self.consumer.pause([TopicPartition(t, p) for t, p in pause])
        if resume:
            self._resume(resume)

    def _resume(self, keys: list[tuple[str, int]]) -> None:
        if keys:
            self.consumer.resume([TopicPartition(t, p) for t, p in keys])

    def _new_partition_state(self) -> PartitionState:
        return PartitionState(self.engine, self.options.max_decoded_customers_per_partition)

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
            store = self.partitions.setdefault(partition, self._new_partition_state())
            processor = self.processors[partition] = self._new_processor(store)
        return processor

    def _retrying(self, doing: str, call: Callable[[], None]) -> None:
        """A transactional call whose error is retriable (a timeout while the broker is away) leaves the
        transaction as it was: librdkafka's contract is to call it again, not to abort. Errors that
        require an abort or are fatal go to ``_recover``."""
        while True:
            try:
                self._txn_watchdog.guard(doing, call)
                return
            except KafkaException as exc:
                err = kafka_error_of(exc)
                if err is None or err.fatal() or err.txn_requires_abort() or not err.retriable():
                    raise
                log.warning("%s failed (%s); the broker may be away: retrying", doing, err.str())

    def _recover(self, exc: KafkaException) -> None:
        """A failed transaction: abort it, forget uncommitted state, rewind to the committed offsets."""
        err = exc.args[0] if exc.args else None
        if not isinstance(err, KafkaError) or err.fatal() or not err.txn_requires_abort():
            raise self._fault(exc, "committing a batch") from None
        log.warning("transaction aborted, rewinding to the committed offsets: %s", err)
        self.metrics.transactions_aborted.inc()
        self.producer.abort_transaction(TRANSACTION_TIMEOUT_SECONDS)
        self._resume(self.orderer.clear())
        self._eof.clear()
        assignment = self.consumer.assignment()
        partitions = sorted({tp.partition for tp in assignment})
        self._restore(partitions)
        committed = self.consumer.committed(assignment, timeout=TRANSACTION_TIMEOUT_SECONDS)
        for tp in committed:
            self.consumer.seek(
                TopicPartition(tp.topic, tp.partition, tp.offset if tp.offset >= 0 else OFFSET_BEGINNING)
            )

    # -------------------------------------------------------------------------- rebalance and state
    def _on_assign(self, consumer: Consumer, assigned: list[TopicPartition]) -> None:
        self._rebalances += 1
        self.metrics.rebalances.labels("assign").inc()
        self.assigned = {(tp.topic, tp.partition) for tp in assigned}
        new = sorted({tp.partition for tp in assigned} - set(self.partitions))
        for p in new:  # a partition taken over counts as busy until it has been idle for a while
            self._last_event[p] = time.monotonic()
            self._stream_time.pop(p, None)
        log.info("assigned %d input partitions; restoring state of partitions %s", len(assigned), new)
        self._restore(new)
        for tp in consumer.committed(assigned, timeout=TRANSACTION_TIMEOUT_SECONDS):
            self._committed[(tp.topic, tp.partition)] = max(tp.offset, 0)
        self.metrics.assigned_partitions.set(len(assigned))
        self.health.ready = True

    def _on_revoke(self, consumer: Consumer, revoked: list[TopicPartition]) -> None:
        self._rebalances += 1
        self.metrics.rebalances.labels("revoke").inc()
        # No transaction is open while consume() runs callbacks, so everything here is committed already.
        revoked_partitions = {tp.partition for tp in revoked}
        self.assigned -= {(tp.topic, tp.partition) for tp in revoked}
        # still assigned inside this callback: resume what we paused, so the next assignment starts clean
        with contextlib.suppress(KafkaException):  # a lost assignment may refuse it; it is gone anyway
            self._resume(self.orderer.drop(revoked_partitions))
        for key in [k for k in self._eof if k[1] in revoked_partitions]:
            del self._eof[key]
        for p in revoked_partitions:
            self.partitions.pop(p, None)
            self.processors.pop(p, None)
        self.metrics.assigned_partitions.set(len(self.assigned))
        if not self.assigned:
            # not ready until a new assignment is restored (_on_assign): a worker cut off from the group
            # (a broker outage past the session timeout) must not look ready while it owns nothing
            self.health.ready = False
        log.info("revoked %d input partitions", len(revoked))

    def _on_lost(self, consumer: Consumer, lost: list[TopicPartition]) -> None:
        log.warning(
            "lost the assignment of %d input partitions (no contact with the group coordinator for the "
            "session timeout); not ready until the group assigns partitions again",
            len(lost),
        )
        self._on_revoke(consumer, lost)

    def _restore(self, partitions: list[int]) -> None:
        if not partitions:
            return
        started = time.perf_counter()
        stores = {p: self._new_partition_state() for p in partitions}
        self.restorer.assign([TopicPartition(self.changelog, p, OFFSET_BEGINNING) for p in partitions])
        pending = set(partitions)
        deadline = time.monotonic() + RESTORE_TIMEOUT_SECONDS
        records = 0
        while pending:
            if time.monotonic() > deadline:
                raise WorkerError(
                    f"restoring state of partitions {sorted(pending)} took over {RESTORE_TIMEOUT_SECONDS}s"
                )
            for msg in self.restorer.consume(num_messages=10000, timeout=0.5):
                err = msg.error()
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF:
                        pending.discard(msg.partition())
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
        for p, store in stores.items():
            self.partitions[p] = store
            self.processors[p] = self._new_processor(store)
        gc.freeze()
        elapsed = time.perf_counter() - started
        self.metrics.state_restore_seconds.observe(elapsed)
        log.info("restored %d state records for partitions %s in %.2fs", records, partitions, elapsed)

    def _ensure_changelog(self) -> None:
        admin = AdminClient(dict(self._base))
        metadata = wait_for_broker(
            self._base, wait_seconds=self.settings.kafka.broker_wait_seconds, doing="starting the worker"
        )
        self.partition_count = input_partition_count(metadata, list(self.expected_type), self.changelog)
        outputs = self.settings.topics.output_topics()
        missing = [t for t in outputs if t not in metadata.topics or metadata.topics[t].error is not None]
        if missing:
            raise TopologyError(
                f"output topics missing: {', '.join(missing)}",
                "create them (`riskwatch stack topics`) or fix the topics.* names",
            )
        existing = metadata.topics.get(self.changelog)
        if existing is not None and existing.error is None:
            return
        topic = NewTopic(
            self.changelog,
            num_partitions=self.partition_count,
            replication_factor=self.settings.topics.replication_factor,
            config=self.settings.kafka.compacted_topic_config(),
        )
        for fut in admin.create_topics([topic]).values():
            try:
                fut.result(30)
            except KafkaException as exc:
                if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                    raise WorkerError(f"cannot create {self.changelog}: {exc}") from exc

    def _bound_dead_letters(self) -> None:
        """Dead letters must fit the dead-letter topic too: a topic whose max.message.bytes is below
        worker.dead_letter_max_bytes (plus the record's key and framing) would refuse them in the broker,
        after produce() returned, and fail every transaction holding one. Lower the bound to fit."""
        topic = self.settings.topics.dead_letter
        admin = AdminClient(dict(self._base))
        try:
            futures = admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, topic)])
            entries = next(iter(futures.values())).result(30)
            topic_max = int(entries["max.message.bytes"].value)
        except (KafkaException, KeyError, ValueError, TypeError) as exc:
            log.warning(
                "could not read max.message.bytes of %s (%s); assuming the broker default", topic, exc
            )
            return
        fits = topic_max - DEAD_LETTER_RECORD_RESERVE_BYTES
        if fits < self.dead_letter_max_bytes:
            self.dead_letter_max_bytes = max(DEAD_LETTER_MIN_BYTES, fits)
            log.warning(
                "topic %s takes messages of at most %d bytes: dead letters bounded to %d bytes (not %d); "
                "raise its max.message.bytes to keep more of a bad message",
                topic,
                topic_max,
                self.dead_letter_max_bytes,
                self.settings.worker.dead_letter_max_bytes,
            )

    def _update_lag(self) -> None:
        self._next_lag_update = time.monotonic() + LAG_INTERVAL_SECONDS
        try:
            assignment = self.consumer.assignment()
            if not assignment:
                return
            for tp in self.consumer.position(assignment):
                _, hi = self.consumer.get_watermark_offsets(tp, cached=True)
                if hi < 0 or tp.offset < 0:
                    continue
                self.metrics.consumer_lag.labels(tp.topic, str(tp.partition)).set(max(0, hi - tp.offset))
        except KafkaException as exc:
            log.debug("lag update skipped: %s", exc)
