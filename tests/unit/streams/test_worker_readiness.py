"""/readyz follows the assignment: a worker whose partitions are revoked or lost, and not assigned
again, is not ready (issue #9: it stayed ready through a 40 s broker outage that took its assignment).
No broker: the rebalance callbacks are called as librdkafka would call them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from confluent_kafka import TopicPartition

from config.settings import KafkaSettings, Settings, load_settings
from streams.worker.health import Health
from streams.worker.loop import Worker
from streams.worker.metrics import WorkerMetrics


@pytest.fixture
def worker() -> Iterator[Worker]:
    base = load_settings()
    # a port nothing listens on: the clients are built, never used against a broker
    settings = Settings(kafka=KafkaSettings(bootstrap_servers="127.0.0.1:9"), detection=base.detection)
    w = Worker(settings, "t", "g", WorkerMetrics.create(), Health())
    yield w
    w.consumer.close()
    w.recovery.restorer.close()


def _tps(worker: Worker, partitions: list[int]) -> list[TopicPartition]:
    return [TopicPartition(t, p) for t in worker.expected_type for p in partitions]


def test_revoking_every_partition_makes_the_worker_unready(worker: Worker) -> None:
    worker.assignment.assigned = {(tp.topic, tp.partition) for tp in _tps(worker, [0, 1])}
    worker.health.ready = True
    worker.assignment.on_revoke(worker.consumer, _tps(worker, [0]))
    assert worker.health.ready, "partition 1 is still ours"
    worker.assignment.on_revoke(worker.consumer, _tps(worker, [1]))
    assert not worker.health.ready


def test_a_lost_assignment_makes_the_worker_unready(worker: Worker) -> None:
    worker.assignment.assigned = {(tp.topic, tp.partition) for tp in _tps(worker, [0])}
    worker.health.ready = True
    worker.assignment.on_lost(worker.consumer, _tps(worker, [0]))
    assert not worker.health.ready
    assert worker.assignment.assigned == set()
