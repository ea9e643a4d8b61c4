"""The worker's latency and throughput settings reach its Kafka clients, under librdkafka's names."""

from __future__ import annotations

from config import load_settings
from streams.worker.checkpoint import producer_config
from streams.worker.loop import consumer_config


def test_the_fetch_and_linger_settings_reach_the_clients() -> None:
    settings = load_settings(
        worker={"fetch_min_bytes": 32768, "fetch_wait_max_ms": 7, "producer_linger_ms": 3}
    )
    consumer = consumer_config({}, settings, "g", "host-0")
    producer = producer_config({}, settings, "g", "host-0")
    assert (consumer["fetch.min.bytes"], consumer["fetch.wait.max.ms"]) == (32768, 7)
    assert producer["linger.ms"] == 3
