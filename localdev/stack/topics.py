"""The contract's topics, created through the Admin API so ``up`` (and ``stack topics`` in compose) agree.

Brokers run with ``auto.create.topics.enable=false``, so partitions and compaction come only from here.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, ClusterMetadata, NewTopic  # type: ignore[attr-defined]

from config.settings import Settings
from localdev.stack.errors import StackError

ClientConf = dict[str, str | int | float | bool]
ADMIN_TIMEOUT_SECONDS = 30.0


def probe_config(conf: Mapping[str, str]) -> ClientConf:
    """A client config for waiting on a broker that may not be listening yet.

    librdkafka backs off reconnects up to 10 s by default and logs every refused connection; a probe
    wants to notice the broker within a fraction of a second and stay quiet while it waits.
    """
    return {**conf, "reconnect.backoff.max.ms": 500, "log_level": 2}


def wait_for_kafka(conf: Mapping[str, str], timeout: float) -> ClusterMetadata:
    """Metadata from the cluster once it answers, or StackError after ``timeout`` seconds."""
    admin = AdminClient(probe_config(conf))
    deadline = time.monotonic() + timeout
    last_error = "no answer"
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise StackError(
                f"Kafka at {conf.get('bootstrap.servers')} did not answer a metadata request "
                f"within {timeout:.0f}s ({last_error})"
            )
        try:
            metadata = admin.list_topics(timeout=min(remaining, 2.0))
        except KafkaException as exc:
            last_error = str(exc.args[0]) if exc.args else repr(exc)
            continue
        if metadata.brokers:
            return metadata


def topic_partitions(conf: Mapping[str, str], timeout: float = 10.0) -> dict[str, int]:
    """Topic -> partition count, leaving out Kafka's internal ``__`` topics."""
    client_conf: ClientConf = dict(conf)
    metadata = AdminClient(client_conf).list_topics(timeout=timeout)
    return {
        name: len(topic.partitions)
        for name, topic in sorted(metadata.topics.items())
        if not name.startswith("__") and topic.error is None
    }


def ensure_topics(settings: Settings, conf: Mapping[str, str] | None = None) -> list[str]:
    """Create whichever contract topics are missing; returns the names it created (empty when none)."""
    client_conf: ClientConf = dict(conf if conf is not None else settings.kafka.client_config())
    admin = AdminClient(client_conf)
    wanted = settings.topics.all_topics()
    compacted_config = settings.kafka.compacted_topic_config()
    existing = set(admin.list_topics(timeout=ADMIN_TIMEOUT_SECONDS).topics)
    new = [
        NewTopic(
            name,
            num_partitions=settings.topics.partitions,
            replication_factor=settings.topics.replication_factor,
            config=compacted_config if compacted else {},
        )
        for name, compacted in wanted.items()
        if name not in existing
    ]
    if not new:
        return []
    created: list[str] = []
    for name, future in admin.create_topics(new, request_timeout=ADMIN_TIMEOUT_SECONDS).items():
        try:
            future.result(timeout=ADMIN_TIMEOUT_SECONDS)
        except KafkaException as exc:
            error = exc.args[0] if exc.args else None
            if isinstance(error, KafkaError) and error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                continue  # another `up` or a worker got there first
            raise StackError(f"creating topic {name} failed: {error}") from exc
        created.append(name)
    _wait_until_visible(admin, {t.topic: t.num_partitions for t in new}, ADMIN_TIMEOUT_SECONDS)
    return sorted(created)


def _wait_until_visible(admin: AdminClient, expected: Mapping[str, int], timeout: float) -> None:
    """Creation returns before metadata shows every partition with a leader; producers need the latter."""
    deadline = time.monotonic() + timeout
    while True:
        topics = admin.list_topics(timeout=max(0.5, min(5.0, deadline - time.monotonic()))).topics
        pending = [
            name
            for name, count in expected.items()
            if name not in topics
            or len(topics[name].partitions) != count
            or any(p.leader < 0 for p in topics[name].partitions.values())
        ]
        if not pending:
            return
        if time.monotonic() >= deadline:
            raise StackError(f"topics {', '.join(pending)} still have no leader after {timeout:.0f}s")
        time.sleep(0.1)
