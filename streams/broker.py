"""Waiting for Kafka the way a Kafka client should: a bounded, logged backoff, then one clear line.

A worker started while the broker is down (a restart of the whole site, a compose start) should wait for
it rather than exit; a broker that never answers (a typo in ``bootstrap_servers``) should be named within
seconds, not after a minute of librdkafka's own log. Credentials the broker refuses are reported at once:
waiting does not fix them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, ClusterMetadata  # type: ignore[attr-defined]

from streams.errors import AuthFailed, Fault, Unreachable, from_kafka_error, kafka_error_of
from streams.logging_setup import with_kafka_logger

log = logging.getLogger("riskwatch.kafka.wait")

PROBE_TIMEOUT_SECONDS = 2.0
FIRST_RETRY_SECONDS = 0.5
MAX_RETRY_SECONDS = 10.0
_REFUSED = {KafkaError._AUTHENTICATION, KafkaError.SASL_AUTHENTICATION_FAILED, KafkaError._SSL}


def wait_for_broker(
    conf: Mapping[str, Any],
    *,
    wait_seconds: float,
    doing: str,
    sleep: Callable[[float], None] = time.sleep,
) -> ClusterMetadata:
    """Cluster metadata once Kafka answers; ``Unreachable`` after ``wait_seconds`` (retrying with a backoff
    from 0.5 s doubling to 10 s, each retry logged), ``AuthFailed`` as soon as it refuses the credentials."""
    servers = str(conf.get("bootstrap.servers"))
    errors: list[KafkaError] = []
    # librdkafka's own log of this probe is off (log_level 2): its errors come through error_cb and are
    # reported in the retry lines below, once, instead of twice in two formats
    admin = AdminClient(
        with_kafka_logger(
            {**conf, "error_cb": errors.append, "reconnect.backoff.max.ms": 1000, "log_level": 2}
        )
    )
    deadline = time.monotonic() + wait_seconds
    delay = FIRST_RETRY_SECONDS
    last: KafkaError | None = None
    while True:
        try:
            metadata = admin.list_topics(timeout=PROBE_TIMEOUT_SECONDS)
            if metadata.brokers:
                return metadata
        except KafkaException as exc:
            last = kafka_error_of(exc) or last
        admin.poll(0)  # serves error_cb
        refused = next((e for e in errors if e.code() in _REFUSED), None)
        if refused is not None:
            raise from_kafka_error(refused, servers, doing)
        if errors:
            last = errors[-1]
        errors.clear()
        remaining = deadline - time.monotonic()
        reason = last.str() if last is not None else "no answer"
        if remaining <= 0:
            raise _unreachable(last, servers, doing, wait_seconds)
        pause = min(delay, remaining)
        log.warning(
            "Kafka at %s does not answer (%s); retrying in %.1fs, giving up in %.1fs (kafka.broker_wait_seconds)",
            servers,
            reason,
            pause,
            remaining,
        )
        sleep(pause)
        delay = min(delay * 2, MAX_RETRY_SECONDS)


def _unreachable(last: KafkaError | None, servers: str, doing: str, waited: float) -> Fault:
    fault = from_kafka_error(last, servers, doing) if last is not None else None
    if not isinstance(fault, AuthFailed):  # whatever else went wrong, no Kafka broker answered
        reason = f"; last error: {last.str()}" if last is not None else ""
        return Unreachable(
            f"cannot reach Kafka at {servers} while {doing} (no answer within {waited:.0f}s{reason})",
            "check kafka.bootstrap_servers (RISKWATCH_KAFKA__BOOTSTRAP_SERVERS) and that the brokers are up; "
            "kafka.broker_wait_seconds sets how long to wait",
        )
    return fault
