"""When the orderer may stop waiting for an input topic with nothing buffered (``positions.caught_up``),
asked of a real consumer: only when every record appended so far has been handed to the worker.

A wrong "caught up" lets one topic's later records be processed ahead of another's earlier ones. The
churn chaos test lost an account takeover that way: right after a rebalance gave a worker back a partition
it had read to its end before, librdkafka still held that earlier end, the transfers appended meanwhile were
not fetched yet, and the customer's contact change of the next day went first and pushed the transfer and
its change out of the detector's window (replay with that one line moved gives the same loss)."""

from __future__ import annotations

import time
import uuid

import pytest
from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition

from streams.worker.positions import InputPositions

pytestmark = pytest.mark.integration

TIMEOUT_SECONDS = 30.0
STALE_END_TRIES = 20


def consume_to_end(consumer: Consumer, positions: InputPositions, topic: str) -> list[Message]:
    """Consume ``topic``'s partition 0 up to its end-of-partition event, as the worker's loop does."""
    got: list[Message] = []
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        msg = consumer.poll(0.1)
        if msg is None:
            continue
        err = msg.error()
        if err is not None and err.code() == KafkaError._PARTITION_EOF:
            positions.end_reached(topic, 0, msg.offset())
            return got
        assert err is None, err
        got.append(msg)
    raise AssertionError(f"no end of {topic} within {TIMEOUT_SECONDS}s")


def new_consumer(kafka_conf: dict[str, str]) -> Consumer:
    return Consumer(
        {
            **kafka_conf,
            "group.id": f"rw-test-{uuid.uuid4().hex[:12]}",
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
            "enable.auto.commit": False,
            "fetch.wait.max.ms": 10,
        }
    )


def rebalance_meets_the_old_end(kafka_conf: dict[str, str], transfers: str, producer: Producer) -> bool:
    """A consumer reads ``transfers`` to its end, is given the partition back after a record was appended
    meanwhile, and is asked at once: whether the question met the earlier end (librdkafka keeps it across
    assignments). The partition stays paused across the reassignment (librdkafka keeps the flag), so the
    fetcher does not answer first; a fetch already in flight can still bring the new end."""
    consumer = new_consumer(kafka_conf)
    positions = InputPositions(consumer)
    tp = TopicPartition(transfers, 0)
    try:
        consumer.assign([TopicPartition(transfers, 0, 0)])
        positions.assigned([tp])
        end = len(consume_to_end(consumer, positions, transfers))
        assert positions.caught_up(transfers, 0) is True
        consumer.pause([tp])
        consumer.unassign()
        positions.forget_ends({0})  # what the revocation does
        while consumer.assignment():  # unassigned once the consumer has served the op
            consumer.poll(0.05)

        producer.produce(transfers, key=b"C1", value=b"during the rebalance", partition=0)
        assert producer.flush(10) == 0
        consumer.assign([TopicPartition(transfers, 0, end)])  # where the last assignment ended
        positions.assigned([tp])
        met = consumer.get_watermark_offsets(tp, cached=True)[1] == end
        assert positions.caught_up(transfers, 0) is False, "an earlier assignment's end counted"

        consumer.resume([tp])
        assert [m.value() for m in consume_to_end(consumer, positions, transfers)] == [
            b"during the rebalance"
        ]
        assert positions.caught_up(transfers, 0) is True
        return met
    finally:
        consumer.close()


def test_a_partition_assigned_again_waits_for_its_new_end(kafka_conf, topic_factory) -> None:
    """Given back a partition it had read to its end (a rebalance in a churning group), the worker must
    wait for the fetcher's new answer: the records appended while the group rebalanced lie beyond the old
    end. Repeated until the question has met the old end (most tries do); every try must wait."""
    transfers = topic_factory(1, prefix="rw-tx")
    producer = Producer({**kafka_conf, "enable.idempotence": True})
    producer.produce(transfers, key=b"C1", value=b"before the rebalance", partition=0)
    assert producer.flush(10) == 0
    tries = 0
    while not rebalance_meets_the_old_end(kafka_conf, transfers, producer):
        tries += 1
        assert tries < STALE_END_TRIES, f"the fetcher answered first in all {tries} tries: nothing shown"


def test_a_record_fetched_after_the_end_was_seen_is_not_caught_up(kafka_conf, topic_factory) -> None:
    """The end-of-partition event says where the end was then. A record appended since, fetched by
    librdkafka but not yet consumed, must hold the partition back: otherwise a customer's transfer is
    processed ahead of the contact change before it (an account takeover missed while a worker catches up
    after a rebalance, when one consume call hands out the transfers and leaves the change queued)."""
    changes = topic_factory(1, prefix="rw-cc")
    producer = Producer({**kafka_conf, "enable.idempotence": True})
    producer.produce(changes, key=b"C1", value=b"an earlier change", partition=0)
    assert producer.flush(10) == 0
    consumer = new_consumer(kafka_conf)
    positions = InputPositions(consumer)
    try:
        tp = TopicPartition(changes, 0, 0)
        consumer.assign([tp])
        assert len(consume_to_end(consumer, positions, changes)) == 1
        assert positions.caught_up(changes, 0) is True  # everything appended so far is consumed

        producer.produce(changes, key=b"C1", value=b"the change before the transfer", partition=0)
        assert producer.flush(10) == 0
        # librdkafka's fetcher brings the new record (and the new end) without the app consuming it
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while consumer.get_watermark_offsets(tp, cached=True)[1] < 2:
            assert time.monotonic() < deadline, "the consumer never learnt of the new record"
            time.sleep(0.05)  # polling for a condition the fetcher thread sets
        assert positions.caught_up(changes, 0) is False, "a fetched, unconsumed record counted as read"

        assert len(consume_to_end(consumer, positions, changes)) == 1
        assert positions.caught_up(changes, 0) is True
    finally:
        consumer.close()


def test_an_open_upstream_transaction_does_not_hold_the_partition(kafka_conf, topic_factory) -> None:
    """An upstream transaction still open has its records in the high watermark but not yet readable: the
    partition is read to its end (its last stable offset), and the other topics go on meanwhile."""
    changes = topic_factory(1, prefix="rw-cc")
    upstream = Producer({**kafka_conf, "transactional.id": f"rw-test-{uuid.uuid4().hex[:12]}"})
    upstream.init_transactions(10)
    upstream.begin_transaction()
    upstream.produce(changes, key=b"C1", value=b"committed", partition=0)
    upstream.commit_transaction(10)
    upstream.begin_transaction()
    upstream.produce(changes, key=b"C1", value=b"not yet committed", partition=0)
    assert upstream.flush(10) == 0
    consumer = new_consumer(kafka_conf)
    positions = InputPositions(consumer)
    try:
        tp = TopicPartition(changes, 0, 0)
        consumer.assign([tp])
        assert [m.value() for m in consume_to_end(consumer, positions, changes)] == [b"committed"]
        high = consumer.get_watermark_offsets(tp, cached=True)[1]
        assert consumer.position([tp])[0].offset < high, "the open transaction's record counts in the end"
        assert positions.caught_up(changes, 0) is True

        upstream.commit_transaction(10)
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while consumer.get_watermark_offsets(tp, cached=True)[1] <= high:
            assert time.monotonic() < deadline, "the consumer never learnt of the commit"
            time.sleep(0.05)  # polling for a condition the fetcher thread sets
        assert positions.caught_up(changes, 0) is False, "the committed record is not consumed yet"
        assert [m.value() for m in consume_to_end(consumer, positions, changes)] == [b"not yet committed"]
        assert positions.caught_up(changes, 0) is True
    finally:
        consumer.close()
