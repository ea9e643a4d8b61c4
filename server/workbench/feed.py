"""The workbench's Kafka side: one thread reads ``alerts``, ``alert-dispositions`` and ``customer-risk``
(``read_committed``, so an aborted batch's alerts never reach an officer) into the ``Inbox``, and one
idempotent producer writes the officers' dispositions to ``alert-dispositions``.

The consumer assigns every partition itself and commits nothing: each ``serve`` process rebuilds its view
from the topics (from the start of ``alerts`` up to ``workbench.inbox_max_alerts`` newest), so several can
run side by side behind a load balancer.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from typing import Any

from config.settings import Settings
from server.workbench.inbox import Inbox

log = logging.getLogger("riskwatch.workbench")
POLL_SECONDS = 0.1
DELIVERY_TIMEOUT_SECONDS = 10.0


class DispositionError(Exception):
    """A disposition could not be written to Kafka; the message names the cause."""


class AlertFeed(threading.Thread):
    def __init__(self, settings: Settings, inbox: Inbox) -> None:
        super().__init__(name="riskwatch-workbench-feed", daemon=True)
        self.settings = settings
        self.inbox = inbox
        self._stop_event = threading.Event()
        self.ready = threading.Event()  # every partition assigned
        t = settings.topics
        self.roles = {t.alerts: "alert", t.alert_dispositions: "disposition", t.customer_risk: "risk"}
        self.error: str | None = None

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        from confluent_kafka import Consumer, KafkaException, TopicPartition

        from streams.kafka_clients import quiet_client_config

        conf = quiet_client_config(self.settings.kafka.client_config(), "riskwatch-workbench")
        consumer = Consumer(
            {
                **conf,
                "group.id": f"riskwatch-workbench-{uuid.uuid4().hex[:8]}",  # assign() only, never commits
                "isolation.level": "read_committed",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
            }
        )
        try:
            while not self._stop_event.is_set():
                try:
                    metadata = consumer.list_topics(timeout=1)
                except KafkaException as exc:
                    self.error = f"Kafka at {self.settings.kafka.bootstrap_servers}: {exc}"
                    continue
                missing = [t for t in self.roles if t not in metadata.topics]
                if missing:
                    self.error = f"topics {', '.join(missing)} do not exist; run `riskwatch stack topics`"
                    self._stop_event.wait(2)
                    continue
                consumer.assign(
                    [
                        TopicPartition(topic, p, -2)  # OFFSET_BEGINNING
                        for topic in self.roles
                        for p in metadata.topics[topic].partitions
                    ]
                )
                self.error = None
                break
            self.ready.set()
            while not self._stop_event.is_set():
                for msg in consumer.consume(1000, POLL_SECONDS):
                    if msg.error() is None:
                        self._apply(str(msg.topic()), msg.key(), msg.value())
        finally:
            consumer.close()

    def _apply(self, topic: str, key: bytes | None, value: bytes | None) -> None:
        role = self.roles.get(topic)
        if value is None:
            if role == "risk" and key is not None:
                self.inbox.forget_customer(key.decode("utf-8", "replace"))
            return
        try:
            doc: Any = json.loads(value)
        except ValueError:
            log.warning("skipped a record on %s that is not JSON", topic)
            return
        if not isinstance(doc, dict):
            return
        if role == "alert":
            self.inbox.add_alert(doc)
        elif role == "disposition":
            self.inbox.add_disposition(doc)
        elif role == "risk":
            self.inbox.add_risk(doc)


class DispositionWriter:
    """Writes AlertDisposition messages, keyed by customer id, and waits for the broker's ack."""

    def __init__(self, settings: Settings) -> None:
        from confluent_kafka import Producer

        from streams.kafka_clients import quiet_client_config

        self.topic = settings.topics.alert_dispositions
        self.bootstrap = settings.kafka.bootstrap_servers
        conf = quiet_client_config(settings.kafka.client_config(), "riskwatch-workbench")
        self._producer = Producer(
            {**conf, "enable.idempotence": True, "acks": "all", "partitioner": "murmur2_random"}
        )
        self._lock = threading.Lock()

    def write(self, customer_id: str, payload: bytes) -> None:
        errors: list[str] = []

        def on_delivery(err: Any, msg: Any) -> None:
            if err is not None:
                errors.append(str(err))

        with self._lock:
            self._producer.produce(
                self.topic, key=customer_id.encode(), value=payload, on_delivery=on_delivery
            )
            remaining = self._producer.flush(DELIVERY_TIMEOUT_SECONDS)
        if remaining or errors:
            cause = errors[0] if errors else f"no acknowledgement within {DELIVERY_TIMEOUT_SECONDS:.0f}s"
            raise DispositionError(f"the disposition was not saved: Kafka at {self.bootstrap}: {cause}")
