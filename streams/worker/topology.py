"""What the worker checks and creates on the cluster before it joins the group: the input topics
co-partitioned, the output topics present, its state changelog (created with the inputs' partition
count, compacted), and dead letters bounded to what the dead-letter topic accepts."""

from __future__ import annotations

import logging
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AdminClient,
    ConfigResource,
    NewTopic,
)

from config.settings import DEAD_LETTER_MIN_BYTES, DEAD_LETTER_RECORD_RESERVE_BYTES, Settings
from streams.broker import wait_for_broker
from streams.co_partitioning import TopologyError, WorkerError, input_partition_count

log = logging.getLogger("riskwatch.worker")


def ensure_changelog(settings: Settings, base: dict[str, Any], changelog: str) -> int:
    """The input topics' common partition count, once the topics are checked and the changelog exists."""
    admin = AdminClient(dict(base))
    metadata = wait_for_broker(
        base, wait_seconds=settings.kafka.broker_wait_seconds, doing="starting the worker"
    )
    partition_count = input_partition_count(metadata, list(settings.topics.input_types()), changelog)
    outputs = settings.topics.output_topics()
    missing = [t for t in outputs if t not in metadata.topics or metadata.topics[t].error is not None]
    if missing:
        raise TopologyError(
            f"output topics missing: {', '.join(missing)}",
            "create them (`riskwatch stack topics`) or fix the topics.* names",
        )
    existing = metadata.topics.get(changelog)
    if existing is not None and existing.error is None:
        return partition_count
    topic = NewTopic(
        changelog,
        num_partitions=partition_count,
        replication_factor=settings.topics.replication_factor,
        config=settings.kafka.compacted_topic_config(),
    )
    for fut in admin.create_topics([topic]).values():
        try:
            fut.result(30)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise WorkerError(f"cannot create {changelog}: {exc}") from exc
    return partition_count


def dead_letter_bound(settings: Settings, base: dict[str, Any]) -> int:
    """Dead letters must fit the dead-letter topic too: a topic whose max.message.bytes is below
    worker.dead_letter_max_bytes (plus the record's key and framing) would refuse them in the broker,
    after produce() returned, and fail every transaction holding one. The bound lowered to fit."""
    bound = settings.worker.dead_letter_max_bytes
    topic = settings.topics.dead_letter
    admin = AdminClient(dict(base))
    try:
        futures = admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, topic)])
        entries = next(iter(futures.values())).result(30)
        topic_max = int(entries["max.message.bytes"].value)
    except (KafkaException, KeyError, ValueError, TypeError) as exc:
        log.warning("could not read max.message.bytes of %s (%s); assuming the broker default", topic, exc)
        return bound
    fits = topic_max - DEAD_LETTER_RECORD_RESERVE_BYTES
    if fits >= bound:
        return bound
    lowered = max(DEAD_LETTER_MIN_BYTES, fits)
    log.warning(
        "topic %s takes messages of at most %d bytes: dead letters bounded to %d bytes (not %d); "
        "raise its max.message.bytes to keep more of a bad message",
        topic,
        topic_max,
        lowered,
        bound,
    )
    return lowered
