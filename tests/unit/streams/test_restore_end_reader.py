"""The restore's end reader (an admin client) against a broker that is not there: one clear error, and the
client's own log in the worker's log. An admin client queues its log until ``poll()``; one never polled
would keep the broker's faults it met to itself."""

from __future__ import annotations

import logging

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException
from confluent_kafka.admin import AdminClient

from config.settings import load_settings
from detectors.engine import RiskEngine
from streams.co_partitioning import WorkerError
from streams.logging_setup import KAFKA_LOGGER, with_kafka_logger
from streams.worker import recovery
from streams.worker.health import Health
from streams.worker.metrics import WorkerMetrics
from streams.worker.recovery import Recovery, end_reader_config
from streams.worker.state_store import PartitionState

NOWHERE = "127.0.0.1:1"  # nothing listens on port 1: every connection is refused at once


def test_a_restore_with_no_broker_fails_in_one_line_and_logs_why(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recovery, "END_TIMEOUT_SECONDS", 1.0)
    base = with_kafka_logger({"bootstrap.servers": NOWHERE})
    engine = RiskEngine(load_settings().detection)
    restorer = Consumer({**base, "group.id": "rw-test-restore", "client.id": "h-restorer"})
    end_reader = AdminClient(end_reader_config(base, "h"))
    restore = Recovery(
        restorer, "rw-changelog", lambda: PartitionState(engine), WorkerMetrics.create(), Health(), end_reader
    )
    try:
        with caplog.at_level(logging.INFO, logger=KAFKA_LOGGER), pytest.raises(WorkerError) as err:
            restore.restore([0, 1])
    finally:
        restorer.close()
    assert str(err.value).startswith("reading the state changelog's end failed: ")
    assert "\n" not in str(err.value)
    assert any("h-restore-end#producer" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("code", "retriable", "asked_again"),
    [
        (KafkaError.NOT_LEADER_FOR_PARTITION, False, True),  # a partition's answer: its code, unflagged
        (KafkaError.LEADER_NOT_AVAILABLE, False, True),
        (KafkaError.UNKNOWN_TOPIC_OR_PART, False, True),
        (KafkaError.FENCED_LEADER_EPOCH, False, True),  # met in CI as the broker restarted (chaos test)
        (KafkaError._NOENT, False, True),  # librdkafka's "no leaders found" while a broker elects them
        (KafkaError.TOPIC_AUTHORIZATION_FAILED, False, False),
        (KafkaError.INVALID_REQUEST, True, True),  # whatever librdkafka flags retriable
    ],
)
def test_the_watermark_query_is_asked_again_only_when_the_cluster_will_settle(
    code: int, retriable: bool, asked_again: bool
) -> None:
    """A restore assigned while a changelog partition's leader moves (a scale-out, a broker restart) met
    NOT_LEADER_FOR_PARTITION and stopped the worker; such faults pass, an authorisation fault does not."""
    exc = KafkaException(KafkaError(code, "test", retriable=retriable))
    assert recovery.end_retriable(exc) is asked_again
