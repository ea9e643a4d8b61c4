"""Fixtures for tests against the real broker and Redis of ``riskwatch stack up``.

Built as factories (as in quix-streams' test suite): each test gets its own fresh topic and consumer
group, so tests never see each other's messages and can run in any order against a long-lived stack.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from config.settings import Settings, load_settings

REACHABLE_TIMEOUT_SECONDS = 15.0
TOPIC_TIMEOUT_SECONDS = 30.0
_HERE = Path(__file__).parent

TopicFactory = Callable[..., str]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse integration tests without the marker, so ``-m 'not integration'`` really skips them all."""
    unmarked = [
        item.nodeid
        for item in items
        if _HERE in Path(str(item.path)).parents and item.get_closest_marker("integration") is None
    ]
    if unmarked:
        raise pytest.UsageError(
            "tests under tests/integration must be marked `pytestmark = pytest.mark.integration`: "
            + ", ".join(unmarked)
        )


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="session")
def kafka_conf(settings: Settings) -> dict[str, str]:
    """The librdkafka config of the stack, after checking the broker answers a metadata request."""
    conf = settings.kafka.client_config()
    admin = AdminClient({**conf, "reconnect.backoff.max.ms": 500, "log_level": 2})
    deadline = time.monotonic() + REACHABLE_TIMEOUT_SECONDS
    while True:
        try:
            if admin.list_topics(timeout=2.0).brokers:
                return conf
        except KafkaException:
            pass
        if time.monotonic() >= deadline:
            pytest.fail(
                f"Kafka at {conf['bootstrap.servers']} did not answer within "
                f"{REACHABLE_TIMEOUT_SECONDS:.0f}s; run `riskwatch stack up` first",
                pytrace=False,
            )


@pytest.fixture(scope="session")
def admin_client(kafka_conf: dict[str, str]) -> AdminClient:
    return AdminClient(dict(kafka_conf))


@pytest.fixture
def redis_client(settings: Settings) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(
        settings.redis.url.get_secret_value(), socket_timeout=5.0, socket_connect_timeout=5.0
    )
    problem = ""
    try:
        client.ping()
    except redis.RedisError as exc:
        problem = str(exc)
    if problem:
        client.close()
        pytest.fail(f"Redis did not answer PING ({problem}); run `riskwatch stack up` first", pytrace=False)
    yield client
    client.close()


def _wait_for_topic(admin: AdminClient, name: str, partitions: int, *, present: bool) -> None:
    """Creation and deletion return before metadata agrees; wait for leaders (or absence) explicitly."""
    deadline = time.monotonic() + TOPIC_TIMEOUT_SECONDS
    while True:
        topics = admin.list_topics(timeout=5.0).topics
        topic = topics.get(name)
        if present:
            done = (
                topic is not None
                and topic.error is None
                and len(topic.partitions) == partitions
                and all(p.leader >= 0 for p in topic.partitions.values())
            )
        else:
            done = topic is None
        if done:
            return
        if time.monotonic() >= deadline:
            state = "ready" if present else "deleted"
            raise TimeoutError(f"topic {name} not {state} within {TOPIC_TIMEOUT_SECONDS:.0f}s")
        time.sleep(0.05)


@pytest.fixture
def topic_factory(admin_client: AdminClient) -> Iterator[TopicFactory]:
    """``topic_factory(partitions=3, config={...}) -> name``: a fresh topic, deleted after the test."""
    created: list[str] = []

    def factory(partitions: int = 3, config: dict[str, str] | None = None, prefix: str = "rw-test") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        futures = admin_client.create_topics(
            [NewTopic(name, num_partitions=partitions, replication_factor=1, config=config or {})]
        )
        futures[name].result(timeout=TOPIC_TIMEOUT_SECONDS)
        created.append(name)
        _wait_for_topic(admin_client, name, partitions, present=True)
        return name

    yield factory
    if created:
        for future in admin_client.delete_topics(created, operation_timeout=TOPIC_TIMEOUT_SECONDS).values():
            future.result(timeout=TOPIC_TIMEOUT_SECONDS)


@pytest.fixture
def group_id() -> str:
    """A consumer group nobody else uses, so offsets from earlier runs never leak in."""
    return f"rw-test-{uuid.uuid4().hex[:12]}"
