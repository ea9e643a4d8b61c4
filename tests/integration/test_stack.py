"""Smoke tests of the local stack: what every other integration test silently relies on."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections import defaultdict

import pytest
import redis
from confluent_kafka import Consumer, KafkaError, Producer
from confluent_kafka.admin import AdminClient, ConfigResource

from config.settings import Settings

pytestmark = pytest.mark.integration

CONSUME_TIMEOUT_SECONDS = 30.0


def murmur2_partition(key: bytes, partitions: int) -> int:
    """Kafka's Java ``Utils.murmur2`` partitioner, which aiokafka/faust share; librdkafka must match it."""
    m, r, mask = 0x5BD1E995, 24, 0xFFFFFFFF
    length = len(key)
    h = (0x9747B28C ^ length) & mask
    for i in range(0, length - length % 4, 4):
        k = int.from_bytes(key[i : i + 4], "little")
        k = (k * m) & mask
        k ^= k >> r
        k = (k * m) & mask
        h = (h * m) & mask
        h ^= k
    tail = key[length - length % 4 :]
    if len(tail) == 3:
        h ^= tail[2] << 16
    if len(tail) >= 2:
        h ^= tail[1] << 8
    if tail:
        h ^= tail[0]
        h = (h * m) & mask
    h ^= h >> 13
    h = (h * m) & mask
    h ^= h >> 15
    return (h & 0x7FFFFFFF) % partitions


def test_keyed_json_round_trip_keeps_per_key_order(
    kafka_conf: dict[str, str], topic_factory, group_id: str
) -> None:
    partitions = 3
    topic = topic_factory(partitions=partitions)
    keys = [f"cust-{i}" for i in range(12)]
    per_key = 25
    delivery_errors: list[KafkaError] = []

    def on_delivery(err: KafkaError | None, _msg: object) -> None:
        if err is not None:
            delivery_errors.append(err)

    producer = Producer({**kafka_conf, "partitioner": "murmur2_random", "enable.idempotence": True})
    for seq in range(per_key):
        for key in keys:
            value = json.dumps({"customer_id": key, "seq": seq, "event_id": str(uuid.uuid4())}).encode()
            producer.produce(topic, key=key.encode(), value=value, on_delivery=on_delivery)
    assert producer.flush(CONSUME_TIMEOUT_SECONDS) == 0
    assert delivery_errors == []

    consumer = Consumer(
        {**kafka_conf, "group.id": group_id, "auto.offset.reset": "earliest", "enable.auto.commit": False}
    )
    consumer.subscribe([topic])
    seen: dict[str, list[int]] = defaultdict(list)
    partitions_of: dict[str, set[int]] = defaultdict(set)
    expected = len(keys) * per_key
    received = 0
    deadline = time.monotonic() + CONSUME_TIMEOUT_SECONDS
    try:
        while received < expected and time.monotonic() < deadline:
            for msg in consumer.consume(num_messages=500, timeout=0.5):
                assert msg.error() is None, msg.error()
                key = msg.key().decode()
                seen[key].append(json.loads(msg.value())["seq"])
                partitions_of[key].add(msg.partition())
                received += 1
    finally:
        consumer.close()

    assert received == expected
    assert all(seen[key] == list(range(per_key)) for key in keys)
    # Same placement as the Java client and aiokafka, so faust workers see co-partitioned input.
    assert {key: partitions_of[key] for key in keys} == {
        key: {murmur2_partition(key.encode(), partitions)} for key in keys
    }


def test_contract_topics_exist_with_configured_partitions_and_compaction(
    settings: Settings, admin_client: AdminClient
) -> None:
    wanted = settings.topics.all_topics()
    metadata = admin_client.list_topics(timeout=10.0)
    missing = sorted(set(wanted) - set(metadata.topics))
    assert missing == [], "run `riskwatch stack up` to create them"
    assert {name: len(metadata.topics[name].partitions) for name in wanted} == dict.fromkeys(
        wanted, settings.topics.partitions
    )

    resources = [ConfigResource(ConfigResource.Type.TOPIC, name) for name in wanted]
    policies = {
        resource.name: future.result(timeout=10.0)["cleanup.policy"].value
        for resource, future in admin_client.describe_configs(resources).items()
    }
    assert policies == {name: "compact" if compacted else "delete" for name, compacted in wanted.items()}


def test_redis_set_get_round_trip(redis_client: redis.Redis, settings: Settings) -> None:
    key = f"{settings.redis.key_prefix}:test:{uuid.uuid4().hex}"
    try:
        assert redis_client.set(key, "value-1", ex=60)
        assert redis_client.get(key) == b"value-1"
    finally:
        redis_client.delete(key)


def test_stack_status_exits_zero_while_up(kafka_conf: dict[str, str], redis_client: redis.Redis) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "streams.cli", "stack", "status"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "transactions" in result.stdout
