"""The faust-streaming app of the worker: built by ``build_app`` (nothing at module scope but imports).

One agent over the three co-partitioned input topics runs every message through the shared ``Processor``
and emits through the shared ``emit``, as the confluent-kafka worker does; customer state lives in one
in-memory table whose changelog is ``{group}-customer-state-changelog``.

Exactly once. faust's ``exactly_once`` gives one transactional producer per input partition number
(``{app_id}-{topic group}-{partition}``) and commits the acked input offsets in it with
``send_offsets_to_transaction``. faust 0.15.3 does not by itself put an agent's outputs and table changes
in the transaction of the event they come from: it picks the transaction by the *destination* topic's
partition (``KeyError`` for a topic nobody consumes) and writes table changes through a background buffer
that its exactly-once commit does not flush. So the agent sends its outputs and the changed customer
states itself, into the transaction of the input partition, and a lock keeps faust's commit from landing
between an event's first send and its ack.

Order. Events leave a per-partition buffer in record-timestamp order across the three topics (the
confluent worker's ``TimestampOrderer``); a held-back event is not acked, so no committed offset passes it.

Recovery. Two faust 0.15.3 defects around table recovery under exactly_once are worked around in
``_transport`` (see ``Consumer.highwaters``).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, cast

import faust
from faust.transport.consumer import TransactionManager as FaustTransactionManager
from faust.transport.drivers import aiokafka as aiokafka_driver
from faust.types import TP
from mode import CrashingSupervisor

from config.settings import KafkaSettings, Settings
from detectors.engine import RiskEngine
from streams.emit import emit
from streams.faust_worker.changelog_tail import committed_data_ends
from streams.faust_worker.table_store import TableStateStore
from streams.partitioning import kafka_partition
from streams.processor import Processor, utc_now
from streams.worker.health import Health
from streams.worker.metrics import WorkerMetrics
from streams.worker.ordering import TimestampOrderer

log = logging.getLogger("riskwatch.worker")

TABLE_NAME = "customer-state"  # faust names its changelog topic ``{app_id}-{table}-changelog``


def broker_credentials(kafka: KafkaSettings) -> Any:
    """``settings.kafka`` as faust's ``broker_credentials`` (aiokafka): PLAINTEXT, SSL (CA, client
    certificate and key), SASL_PLAINTEXT / SASL_SSL with PLAIN or SCRAM-SHA-256/512."""
    ssl_context = None
    if kafka.security_protocol in ("SSL", "SASL_SSL"):
        ssl_context = ssl.create_default_context(cafile=kafka.ssl_ca_location)
        if kafka.ssl_certificate_location:
            ssl_context.load_cert_chain(kafka.ssl_certificate_location, kafka.ssl_key_location)
    if kafka.security_protocol == "PLAINTEXT":
        return None
    if kafka.security_protocol == "SSL":
        return faust.SSLCredentials(ssl_context)
    if kafka.sasl_mechanism is None or kafka.sasl_username is None or kafka.sasl_password is None:
        raise ValueError(
            f"{kafka.security_protocol} needs kafka.sasl_mechanism, sasl_username and sasl_password"
        )
    return faust.SASLCredentials(
        username=kafka.sasl_username,
        password=kafka.sasl_password.get_secret_value(),
        ssl_context=ssl_context,
        mechanism=kafka.sasl_mechanism,
    )


def _transport(
    commit_lock: asyncio.Lock,
    on_revoke: Callable[[], Awaitable[None]],
    client_config: dict[str, str],
    group: str,
) -> type[aiokafka_driver.Transport]:
    """faust's aiokafka transport with two hooks. Its consumer commits only while ``commit_lock`` is free
    (the agent holds it from an event's first send to its ack, so no transaction carries half an event).
    Its transaction manager runs ``on_revoke`` when a rebalance takes partitions away, inside faust's
    revocation callback and before faust stops the revoked partitions' transactional producers."""

    class Consumer(aiokafka_driver.Consumer):
        async def commit(self, topics: Any = None, start_new_transaction: bool = True) -> bool:
            async with commit_lock:
                return bool(await super().commit(topics, start_new_transaction=start_new_transaction))

        async def highwaters(self, *partitions: TP) -> Mapping[TP, int]:
            # Changelog end offsets for table recovery, which reads each partition until it has applied
            # the record before the offset given here. faust 0.15.3 under exactly_once gives aiokafka's
            # last_stable_offset(tp): known only after a fetch of tp in the current assignment, so None
            # (-> -1) right after a rebalance -- recovery then skips the changelog or, for a partition this
            # worker keeps, crashes with ConsistencyError ("persisted offset ... higher than ... highwater
            # (N > -1)"). Ask the broker for the last stable offset instead (read_committed ListOffsets),
            # then find the last committed data record before it (changelog_tail): the records after it
            # are transaction markers or aborted records that recovery never sees, and faust would wait
            # for them until its aborted-transaction check after two idle 5 s polls.
            thread = self._thread

            async def end_offsets(tps: tuple[TP, ...]) -> Mapping[TP, int]:
                return cast(Mapping[TP, int], await thread._ensure_consumer().end_offsets(list(tps)))

            stable = cast(Mapping[TP, int], await thread.call_thread(end_offsets, partitions))
            ends = await asyncio.to_thread(
                committed_data_ends,
                client_config,
                group,
                {(tp.topic, tp.partition): end for tp, end in stable.items()},
            )
            return {tp: ends[(tp.topic, tp.partition)] for tp in stable}

    class TransactionManager(FaustTransactionManager):
        async def on_partitions_revoked(self, revoked: set[TP]) -> None:
            await on_revoke()
            await super().on_partitions_revoked(revoked)

    class Transport(aiokafka_driver.Transport):
        pass

    Transport.Consumer = Consumer
    Transport.TransactionManager = TransactionManager
    return Transport


class _Record:
    """A faust event as the shared ``TimestampOrderer`` reads a record (``ordering.Timestamped``)."""

    __slots__ = ("event",)

    def __init__(self, event: Any) -> None:
        self.event = event

    def topic(self) -> str:
        return str(self.event.message.topic)

    def partition(self) -> int:
        return int(self.event.message.partition)

    def timestamp(self) -> tuple[int, int]:
        message = self.event.message
        if not message.timestamp:
            return (0, 0)
        return (message.timestamp_type or 1, int(message.timestamp * 1000))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build_app(
    settings: Settings,
    *,
    group: str,
    instance_id: str,
    partitions: int,
    metrics: WorkerMetrics,
    health: Health,
    datadir: str,
    clock: Callable[[], datetime] = utc_now,
) -> faust.App:
    topics = settings.topics
    expected_type = topics.input_types()
    brokers = [f"kafka://{host.strip()}" for host in settings.kafka.bootstrap_servers.split(",")]
    app = faust.App(
        group,
        broker=brokers,
        broker_credentials=broker_credentials(settings.kafka),
        broker_client_id=instance_id,
        processing_guarantee="exactly_once",
        store="memory://",
        datadir=datadir,
        web_enabled=False,
        web_port=_free_port(),  # the web server is off; the setting still wants a free port
        topic_partitions=partitions,
        topic_replication_factor=topics.replication_factor,
        topic_allow_declare=True,
        table_standby_replicas=0,
        consumer_auto_offset_reset="earliest",
        # as the confluent worker (worker.session_timeout_ms, 10 s), not faust's 60 s: a crashed member's
        # partitions move on soon
        broker_session_timeout=settings.worker.session_timeout_ms / 1000.0,
        # held-back events are never acked: a rebalance must not wait for them (before_revocation())
        stream_wait_empty=False,
        # a transaction per worker.batch_max_events acked events, or per batch wait (at least 100 ms)
        broker_commit_every=settings.worker.batch_max_events,
        broker_commit_interval=max(0.1, settings.worker.batch_max_wait_ms / 1000.0),
        autodiscover=False,
        # an agent that fails stops the worker (exit 1; the next owner aborts the open transactions)
        # instead of being restarted behind an event that is half sent and never acked
        agent_supervisor=CrashingSupervisor,
    )
    commit_lock = asyncio.Lock()

    async def on_revoke() -> None:
        await before_revocation()

    transport = _transport(commit_lock, on_revoke, settings.kafka.client_config(), group)
    app.transport = transport(app.conf.broker_consumer, app)

    # raw bytes in and out: the JSON is the Processor's business, and a table value is the engine state's
    # record (detectors/state_codec.py; ``key_type=bytes`` makes faust use its "raw" codec; nothing is pickled)
    source = app.topic(
        *expected_type, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
    )
    table = app.Table(TABLE_NAME, partitions=partitions, key_type=bytes, value_type=bytes)
    changelog = table.changelog_topic.get_topic_name()
    engine = RiskEngine(settings.detection)
    store = TableStateStore(
        engine,
        cast(Any, table.data).data,
        settings.worker.max_decoded_customers_per_partition * partitions,
        settings.worker.state_record_format,
    )
    processor = Processor(
        engine,
        store,
        clock,
        partition_of=lambda cid: kafka_partition(cid.encode(), partitions),
        dead_letter_max_bytes=settings.worker.dead_letter_max_bytes,
        redact_contact_values=settings.dead_letter.redact_contact_values,
    )

    async def process_one(event: Any) -> None:
        message = event.message
        topic, partition, offset = message.topic, message.partition, message.offset
        key: bytes | None = message.key
        async with commit_lock:
            result = processor.handle(
                message.value or b"",
                source=topic,
                partition=partition,
                offset=offset,
                key=key or b"",
                expected_type=expected_type.get(topic),
            )
            records: list[tuple[str, bytes | None, bytes | None, int | None]] = []
            alerted = emit(result, key, topics, metrics, lambda t, k, v: records.append((t, k, v, None)))
            for customer_key, blob in store.take_dirty():
                records.append((changelog, customer_key, blob, partition))
                metrics.state_bytes_written.inc(len(blob or b""))
            transactional_id = f"{app.conf.id}-{app.assignor.group_for_topic(topic)}-{partition}"
            for out_topic, out_key, value, out_partition in records:
                await app.producer.send(
                    out_topic, out_key, value, out_partition, None, None, transactional_id=transactional_id
                )
            event.ack()
        ts = message.timestamp if message.timestamp else time.time()
        done = time.time()
        metrics.events_consumed.labels(topic).inc()
        metrics.processing_latency.labels("event").observe(max(0.0, done - ts))
        if alerted:
            metrics.processing_latency.labels("alert").observe(max(0.0, done - ts))
        metrics.customers_in_state.set(len(store))
        health.beat()

    # Cross-topic order, as the confluent worker keeps it (streams/worker/ordering.py): events wait in one
    # buffer per partition number and leave it in record-timestamp order, holding a partition back while
    # another of its topics has unread data (see caught_up). A waiting event is not acked, so
    # faust commits no offset at or past it: a crash loses nothing, the events are consumed again.
    orderer: TimestampOrderer[_Record] = TimestampOrderer(
        list(expected_type), settings.worker.max_idle_ms / 1000.0
    )
    seen: dict[tuple[str, int], int] = {}
    drain_lock = asyncio.Lock()
    commit_every = settings.worker.batch_max_events
    processed = [0]

    def caught_up(topic: str, partition: int) -> bool | None:
        """Whether everything written to this input partition so far has reached the agent (True): the
        next offset to see (after the last one seen, else the committed one faust sought to) is at the end
        (the last stable offset under exactly_once). Not yet (False): the orderer waits however long it
        takes (KIP-695), as the confluent worker does. Offsets that aiokafka has fetched but faust has not
        passed on yet are either in the batch faust is handing out or transaction markers, which no record
        ever reveals: cannot tell (None), so that wait is bounded by worker.max_idle_ms."""
        tp = TP(topic, partition)
        high = app.consumer.highwater(tp)
        if high is None:
            return False  # no fetch response since the assignment yet
        last = seen.get((topic, partition))
        # faust keeps the committed offsets it seeks to after each rebalance (None for 0)
        committed = cast(Any, app.consumer)._committed_offset.get(tp)
        following = last + 1 if last is not None else (committed or 0)
        if following >= high:
            return True
        handed = cast(Any, app.consumer)._read_offset.get(tp)  # the last offset faust passed on
        if handed is not None and handed >= following:
            return False  # in faust's buffers, on its way to the agent
        fetched = fetch_position(tp)
        return None if fetched is None or fetched >= high else False

    def fetch_position(tp: TP) -> int | None:
        """aiokafka's position of ``tp``: past every record it handed to faust, transaction markers
        included (a read of the consumer thread's state; plain attributes under the GIL)."""
        try:
            aiokafka_consumer = cast(Any, app.consumer)._thread._ensure_consumer()
            state = aiokafka_consumer._subscription.subscription.assignment.state_value(tp)
        except Exception:  # not started, not assigned (a rebalance): cannot tell
            return None
        return int(state.position) if state is not None and state.has_valid_position else None

    async def drain() -> None:
        async with drain_lock:
            # Events of partitions revoked meanwhile are not ours any more: never acked, so the next owner
            # consumes them again from the committed offset.
            assigned = {tp.partition for tp in app.consumer.assignment() if tp.topic in expected_type}
            orderer.drop([p for p in list(orderer.buffers) if p not in assigned])
            for key in [k for k in seen if k[1] not in assigned]:
                del seen[key]
            while len(orderer) and not (app.rebalancing or app.should_stop):
                ready = orderer.drain(caught_up, 500)
                if not ready:
                    return
                now = time.monotonic()
                forced = [
                    p
                    for p in {r.partition() for r in ready}
                    if (b := orderer.buffers.get(p)) is not None
                    and b.blocked_since is not None
                    and now - b.blocked_since >= orderer.max_idle_seconds
                ]
                if forced:
                    log.info("partitions %s: processed ahead of a topic still being read", sorted(forced))
                for record in ready:
                    if app.rebalancing or app.should_stop:
                        # before_revocation() or faust's final commit takes it from here; held-back
                        # events stay unacked and are consumed again from the committed offset
                        return
                    event = record.event
                    if event.message.generation_id != app.consumer_generation_id:
                        continue  # fetched before a rebalance: never acked, faust delivers it again
                    await process_one(event)
                    processed[0] += 1
                    if processed[0] >= commit_every:
                        # one transaction per worker.batch_max_events events, as the confluent worker: the
                        # agent rarely yields to faust's own commit trigger while it has events in hand
                        processed[0] = 0
                        await app.consumer.commit()

    async def drain_shielded() -> None:
        task = asyncio.ensure_future(drain())
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            await task  # finish the events in hand (sent and acked together), then stop
            raise

    @app.agent(source)
    async def process(stream: Any) -> None:
        async for event in stream.noack().events():
            message = event.message
            if message.generation_id != app.consumer_generation_id:
                # Fetched before a rebalance and yielded while it ran: faust seeks every partition it
                # keeps back to the committed offset and delivers this again. Processing the stale copy
                # would apply it out of order and let faust's commit (it commits the first run of acked
                # offsets, checking its start only loosely) move past events not yet processed.
                continue
            seen[(message.topic, message.partition)] = message.offset
            orderer.add([_Record(event)])
            await drain_shielded()

    async def before_revocation() -> None:
        """Rebalance: finish the event in hand, forget every held-back event (none is acked; after the
        rebalance faust seeks each kept partition back to its committed offset and they come again, the
        others go to their new owner), and commit what was acked, before faust stops the transactions."""
        async with drain_lock:
            orderer.clear()
            seen.clear()
            processed[0] = 0
        await app.consumer.commit()

    async def tick() -> None:
        health.beat()
        if len(orderer) and not drain_lock.locked():
            await drain_shielded()

    app.timer(interval=0.1)(tick)  # releases partitions held back by an idle topic; keeps /healthz green

    inputs = set(expected_type)

    async def on_revoked(sender: Any, revoked: set[TP], **kwargs: Any) -> None:
        metrics.rebalances.labels("revoke").inc()
        health.ready = False
        store.decoded.clear()

    async def on_rebalance_complete(sender: Any, **kwargs: Any) -> None:
        assigned = [tp for tp in app.consumer.assignment() if tp.topic in inputs]
        active = {tp.partition for tp in assigned}
        dropped = store.drop_partitions(set(range(partitions)) - active, partitions)
        metrics.rebalances.labels("assign").inc()
        metrics.assigned_partitions.set(len(assigned))
        metrics.customers_in_state.set(len(store))
        log.info(
            "assigned %d input partitions (state of %d customers restored, %d dropped)",
            len(assigned),
            len(store),
            dropped,
        )
        health.ready = True
        health.beat()

    app.on_partitions_revoked.connect(on_revoked)  # type: ignore[arg-type]
    app.on_rebalance_complete.connect(on_rebalance_complete)  # type: ignore[arg-type]
    return app
