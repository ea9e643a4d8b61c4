"""A Kafka error that ends the worker, named as one ``Fault`` line: a fence names who took over."""

from __future__ import annotations

import logging
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient

from streams.co_partitioning import WorkerError
from streams.errors import Fault, Fenced, from_kafka_error, kafka_error_of

log = logging.getLogger("riskwatch.worker")


def worker_fault(
    exc: KafkaException, doing: str, servers: str, base: dict[str, Any], group: str, instance_id: str
) -> Fault:
    """``servers``: the configured bootstrap servers, to name; ``base``: the client config, to ask the group
    who took over after a fence."""
    err = kafka_error_of(exc)
    if err is None:
        return WorkerError(f"Kafka error while {doing}: {exc}", "see the log above")
    fault = from_kafka_error(err, servers, doing)
    if isinstance(fault, Fenced):
        return fenced(err, base, group, instance_id)
    return fault


def fenced(err: KafkaError, base: dict[str, Any], group: str, instance_id: str) -> Fenced:
    """Name who took over: the group's members whose client id carries this instance id."""
    others = ""
    try:
        admin = AdminClient(dict(base))
        described = admin.describe_consumer_groups([group])[group].result(5)
        hosts = [m.host for m in described.members if m.client_id == f"{instance_id}-consumer"]
        if hosts:
            others = f" (now running at {', '.join(hosts)})"
    except Exception as exc:  # naming the other process is a courtesy; the fence is what matters
        log.debug("could not describe group %s: %s", group, exc)
    return Fenced(
        f"worker {instance_id} was fenced: another worker with instance id {instance_id}{others} took over "
        f"transactional id {group}-{instance_id} ({err.str()}); this one stops",
        "give every worker of a group its own --instance-id, or leave it out for a unique default",
    )
