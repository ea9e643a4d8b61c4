"""The restore's watermark query across a broker restart (on the private stack). It restarts that broker, so
it runs last in the session (``conftest.RUN_LAST``): a broker recovering its logs and warming up loads the
shared box while later tests' workers start, and nothing else waits on it afterwards."""

from __future__ import annotations

import pytest
from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient
from kafka_harness import PrivateStack, topic_factory_on

from config.settings import load_settings
from detectors.engine import RiskEngine
from streams.worker.health import Health
from streams.worker.metrics import WorkerMetrics
from streams.worker.recovery import Recovery, end_reader_config
from streams.worker.state_store import PartitionState

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.chaos]


def test_the_changelog_end_is_asked_again_with_fresh_leaders_after_a_broker_restart(
    private_stack: PrivateStack,
) -> None:
    """A restarted broker leads its partitions in a later leader epoch. The watermark query's admin client
    still holds the epoch it saw before, and librdkafka sends it again on every retry (the broker answers
    FENCED_LEADER_EPOCH for as long as the client is not told otherwise: over 15 s when measured), so a
    worker restored after the restart stopped with "reading the state changelog's end failed" (met in CI
    by the broker chaos test). Between retries the restore asks for the changelog's leaders again."""
    conf = dict(private_stack.conf)
    engine = RiskEngine(load_settings().detection)
    with topic_factory_on(AdminClient(conf)) as new_topic:
        changelog = new_topic(partitions=3)
        restorer = Consumer({**conf, "group.id": f"rw-test-{changelog}", "client.id": "h-restorer"})
        end_reader = AdminClient(end_reader_config(conf, "h"))
        restore = Recovery(
            restorer, changelog, lambda: PartitionState(engine), WorkerMetrics.create(), Health(), end_reader
        )
        try:
            assert restore._ends([0, 1, 2]) == {0: 0, 1: 0, 2: 0}  # the client now holds the epochs
            private_stack.kill_broker()
            private_stack.up()
            assert restore._ends([0, 1, 2]) == {0: 0, 1: 0, 2: 0}
        finally:
            restorer.close()
    # left as found: the private stack answers (the SASL_SSL tests use it too)
    assert AdminClient(conf).list_topics(timeout=30).topics
