"""The worker's consume loop on confluent-kafka: micro-batches, each one Kafka transaction.

Per turn: consume what has been fetched, let the orderer release it in record-timestamp order, run the
batch step (``batch``) into the batch's transaction (``checkpoint``) and commit. A failed transaction is
aborted and the partitions rewound to the committed offsets with their state restored from the changelog
(``recovery``); rebalances restore and drop partitions the same way (``assignment``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient

from config.settings import Settings
from detectors.engine import RiskEngine
from streams.errors import Fault
from streams.logging_setup import with_kafka_logger
from streams.processor import utc_now
from streams.worker.assignment import Assignment
from streams.worker.batch import (
    BatchStep,
    BatchTally,
    collector_paused,
    coordinates,
    freeze_survivors,
)
from streams.worker.checkpoint import (
    TRANSACTION_TIMEOUT_SECONDS,
    WATCHDOG_MARGIN_SECONDS,
    Checkpoint,
    producer_config,
)
from streams.worker.faults import worker_fault
from streams.worker.health import Health
from streams.worker.metrics import WorkerMetrics
from streams.worker.ordering import TimestampOrderer
from streams.worker.positions import InputPositions
from streams.worker.recovery import Recovery, end_reader_config, restorer_config
from streams.worker.state_store import changelog_topic
from streams.worker.topology import dead_letter_bound, ensure_changelog
from streams.worker.txn_watchdog import TxnWatchdog

log = logging.getLogger("riskwatch.worker")

LAG_INTERVAL_SECONDS = 2.0


def consumer_config(base: dict[str, Any], settings: Settings, group: str, instance_id: str) -> dict[str, Any]:
    session_timeout_ms = settings.worker.session_timeout_ms
    return {
        **base,
        "group.id": group,
        "client.id": f"{instance_id}-consumer",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "isolation.level": "read_committed",
        "auto.offset.reset": "earliest",
        "enable.partition.eof": True,
        # range puts partition i of every co-partitioned input topic on the same worker
        "partition.assignment.strategy": "range",
        "session.timeout.ms": session_timeout_ms,
        "heartbeat.interval.ms": max(1000, session_timeout_ms // 5),
        "fetch.min.bytes": settings.worker.fetch_min_bytes,
        "fetch.wait.max.ms": settings.worker.fetch_wait_max_ms,
    }


class Worker:
    """The consume loop, and the one place the confluent runtime's parts are made and wired: the batch
    step (partition state and processing), a ``Checkpoint`` per batch (the transaction), ``Recovery``
    (restore), the ``Assignment`` (rebalances), the input positions and the orderer."""

    def __init__(
        self,
        settings: Settings,
        instance_id: str,
        group: str,
        metrics: WorkerMetrics,
        health: Health,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self.instance_id = instance_id
        self.group = group
        self.metrics = metrics
        self.health = health
        self.expected_type = settings.topics.input_types()
        self.changelog = changelog_topic(group)
        worker = settings.worker
        self.batch_max_events = worker.batch_max_events
        self.batch_max_wait_seconds = worker.batch_max_wait_ms / 1000.0
        self.batch_linger_seconds = worker.batch_linger_ms / 1000.0
        self.stop_requested = threading.Event()
        self.step = BatchStep(settings, RiskEngine(settings.detection), metrics, self.changelog, clock)
        self.orderer: TimestampOrderer[Message] = TimestampOrderer(
            list(self.expected_type), worker.max_idle_ms / 1000.0
        )
        self._next_lag_update = 0.0
        self._txn_call_timeout = worker.transaction_call_timeout_seconds
        self._txn_watchdog = TxnWatchdog(self._txn_call_timeout + WATCHDOG_MARGIN_SECONDS)
        self._base = with_kafka_logger(settings.kafka.client_config())
        self.consumer = Consumer(consumer_config(self._base, settings, group, instance_id))
        self.producer = Producer(producer_config(self._base, settings, group, instance_id))
        self.positions = InputPositions(self.consumer)
        self.recovery = Recovery(
            Consumer(restorer_config(self._base, group, instance_id)),
            self.changelog,
            self.step.new_store,
            metrics,
            health,
            AdminClient(end_reader_config(self._base, instance_id)),
        )
        self.assignment = Assignment(
            self.step, self.recovery, self.positions, self.orderer, self._resume, metrics, health
        )

    # ----------------------------------------------------------------------------------- lifecycle
    def run(self) -> None:
        """Until ``stop()``; a Kafka fault ends it as the ``Fault`` that names it (one line, exit code)."""
        try:
            self._run()
        except KafkaException as exc:
            raise self._fault(exc, "running the worker") from None

    def _fault(self, exc: KafkaException, doing: str) -> Fault:
        servers = self.settings.kafka.bootstrap_servers
        return worker_fault(exc, doing, servers, self._base, self.group, self.instance_id)

    def stop(self) -> None:
        """Finish the batch in hand, commit it, leave the group."""
        self.stop_requested.set()

    def _run(self) -> None:
        self.step.partition_count = ensure_changelog(self.settings, self._base, self.changelog)
        self.recovery.connect()
        self.step.dead_letter_max_bytes = dead_letter_bound(self.settings, self._base)
        self.producer.init_transactions(TRANSACTION_TIMEOUT_SECONDS)
        self.consumer.subscribe(
            list(self.expected_type),
            on_assign=self.assignment.on_assign,
            on_revoke=self.assignment.on_revoke,
            on_lost=self.assignment.on_lost,
        )
        log.info("worker %s started in group %s", self.instance_id, self.group)
        full_batch = False
        try:
            while not self.stop_requested.is_set():
                # after a full batch more may be buffered and ready: look for new input without waiting
                consumed = self._consume(0.0 if full_batch else self.batch_max_wait_seconds)
                records = []
                for m in consumed:
                    err = m.error()
                    if err is None:
                        records.append(m)
                    elif err.code() == KafkaError._PARTITION_EOF:
                        self.positions.end_reached(*coordinates(m))
                    else:
                        log.warning("consume error: %s", err)
                # a message fetched before a revocation is not ours to process any more
                self.orderer.add(records, only=self.assignment.assigned)
                msgs = (
                    self.orderer.drain(self.positions.caught_up, self.batch_max_events)
                    if len(self.orderer)
                    else []
                )
                self._flow_control()
                if consumed or msgs or not len(self.orderer):
                    # alive means moving: input arrives, a batch goes out, or there is nothing to do. A loop
                    # that turns while its buffered input waits and nothing arrives is stuck (/healthz)
                    self.health.beat()
                full_batch = len(msgs) >= self.batch_max_events
                punctuate = self.step.punctuation_due()
                if msgs or punctuate:
                    self._process_batch(msgs, punctuate)
                if time.monotonic() >= self._next_lag_update:
                    self._next_lag_update = time.monotonic() + LAG_INTERVAL_SECONDS
                    self.positions.update_lag(self.metrics)
        finally:
            self.health.ready = False
            log.info("worker %s stopping: leaving the group", self.instance_id)
            self._close_clients()

    def _consume(self, wait_seconds: float) -> list[Message]:
        """A batch as soon as there is input: block (``wait_seconds``) for the first message only, then take
        whatever has been fetched meanwhile (waiting ``batch_linger_seconds`` for more). Batches thus grow
        with the load by themselves -- small and prompt when traffic is light, large (cheap per event) under
        a backlog -- instead of every batch waiting out a fixed timeout."""
        first = self.consumer.poll(wait_seconds)
        if first is None:
            return []
        if self.batch_max_events <= 1:
            return [first]
        rebalances = self.assignment.rebalances
        rest = self.consumer.consume(
            num_messages=self.batch_max_events - 1, timeout=self.batch_linger_seconds
        )
        if self.assignment.rebalances != rebalances:
            # A rebalance ran inside consume(): ``first`` was fetched before it. Even if its partition came
            # back to us, consumption restarts there from the committed offset, so ``first`` would be
            # processed ahead of the records before it (librdkafka drops such stale records itself, but
            # only those it has not handed out yet).
            return rest
        return [first, *rest]

    def _close_clients(self) -> None:
        """Leave the group and drop the clients; an error here (a fenced producer's flush raises _FENCED)
        must not hide the error that ended the loop, which is the one to report."""
        for what, close in (
            ("consumer", self.consumer.close),
            ("restorer", self.recovery.restorer.close),
            ("producer", lambda: self.producer.flush(10)),
        ):
            try:
                close()
            except KafkaException as exc:
                log.debug("closing the %s: %s", what, exc)

    # ----------------------------------------------------------------------------------- the batch
    def _process_batch(self, msgs: list[Message], punctuate: bool = False) -> None:
        with collector_paused():
            self._run_batch(msgs, punctuate)

    def _run_batch(self, msgs: list[Message], punctuate: bool) -> None:
        started = time.perf_counter()
        checkpoint = Checkpoint(self.producer, self.consumer, self._txn_watchdog, self._txn_call_timeout)
        checkpoint.begin()
        try:
            tally = self.step.run(msgs, checkpoint, punctuate, self.positions.caught_up)
            committing = time.perf_counter()
            checkpoint.commit()
        except KafkaException as exc:
            self._recover(exc, checkpoint)
            return
        self.metrics.commit_duration.observe(time.perf_counter() - committing)
        freeze_survivors()
        self._committed(tally, started)

    def _committed(self, tally: BatchTally, started: float) -> None:
        self.metrics.observe_batch(
            tally.consumed, tally.event_timestamps, tally.alert_timestamps, time.time()
        )
        self.metrics.batch_duration.observe(time.perf_counter() - started)
        self.metrics.batch_size.observe(tally.records)
        self.metrics.customers_in_state.set(self.step.customers())
        records, decoded = self.step.state_memory()
        self.metrics.state_memory.labels("records").set(records)
        self.metrics.state_memory.labels("decoded").set(decoded)
        self.metrics.state_memory.labels("budget").set(self.step.state_memory_budget_bytes)

    def _flow_control(self) -> None:
        """Pause the input partitions whose ordering buffer is full -- they are ahead in event time, and
        fetching more of them would only grow memory -- so the fetcher serves the ones being waited for;
        resume them once half drained."""
        pause, resume = self.orderer.flow(self.settings.worker.ordering_buffer_max_messages)
        if pause:
            self.consumer.pause([TopicPartition(t, p) for t, p in pause])
        if resume:
            self._resume(resume)

    def _resume(self, keys: list[tuple[str, int]]) -> None:
        if keys:
            self.consumer.resume([TopicPartition(t, p) for t, p in keys])

    def _recover(self, exc: KafkaException, checkpoint: Checkpoint) -> None:
        """A failed transaction: abort it, forget uncommitted state, rewind to the committed offsets."""
        err = exc.args[0] if exc.args else None
        if not isinstance(err, KafkaError) or err.fatal() or not err.txn_requires_abort():
            raise self._fault(exc, "committing a batch") from None
        log.warning("transaction aborted, rewinding to the committed offsets: %s", err)
        self.metrics.transactions_aborted.inc()
        checkpoint.abort()
        self._resume(self.orderer.clear())
        self.positions.forget_ends()
        assignment = self.consumer.assignment()
        self.step.adopt(self.recovery.restore(sorted({tp.partition for tp in assignment})))
        committed = self.consumer.committed(assignment, timeout=TRANSACTION_TIMEOUT_SECONDS)
        for tp in committed:
            self.consumer.seek(
                TopicPartition(tp.topic, tp.partition, tp.offset if tp.offset >= 0 else OFFSET_BEGINNING)
            )
