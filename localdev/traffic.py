"""A paced Kafka producer of generated traffic, as upstream systems would write it.

Each line goes to the topic of its event type, keyed by ``customer_id`` with the ``murmur2_random``
partitioner (the contract's co-partitioning), with record timestamps strictly increasing in production
order. Runs in its own thread so the caller can read the outputs while traffic flows.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from config.settings import TopicSettings

TYPE_TO_ROLE = {
    "transaction": "transactions",
    "contact_change": "contact_changes",
    "customer_profile": "customer_profiles",
}
FLUSH_TIMEOUT_SECONDS = 30.0


def route(line: bytes, topics: TopicSettings) -> tuple[str, bytes]:
    """(topic, key) of one line: by its type and customer_id; unparseable lines go to transactions."""
    try:
        event = json.loads(line)
        topic = str(getattr(topics, TYPE_TO_ROLE[event["type"]]))
        customer = event["customer_id"]
        if not isinstance(customer, str) or not customer:
            raise TypeError("customer_id")
        return topic, customer.encode()
    except (ValueError, KeyError, TypeError):
        return topics.transactions, b"malformed"


class PacedProducer(threading.Thread):
    """Produces ``lines`` at ``rate`` per second until done or ``stop()``; counters are read live."""

    def __init__(
        self,
        conf: dict[str, Any],
        topics: TopicSettings,
        lines: Sequence[bytes],
        rate: float,
        unpaced: int = 0,
    ):
        """The first ``unpaced`` lines (history before the live part) go as fast as the broker takes them;
        pacing at ``rate`` starts with the line after them."""
        super().__init__(name="riskwatch-demo-producer", daemon=True)
        self.lines = lines
        self.rate = rate
        self.unpaced = unpaced
        self.topics = topics
        self.produced = 0
        self.delivered = 0
        self.failed = 0
        self.by_topic: Counter[str] = Counter()
        #: (topic, partition) -> offset after the last delivered message: where consumers are "done"
        self.end_offsets: dict[tuple[str, int], int] = {}
        self.error: str | None = None
        self.finished = threading.Event()
        #: set when the unpaced lines are delivered; the live part waits for ``go_live``
        self.history_done = threading.Event()
        self.go_live = threading.Event()
        self._stop_event = threading.Event()
        self._producer: Producer | None = Producer(
            {
                **conf,
                "client.id": "riskwatch-demo-producer",
                "partitioner": "murmur2_random",
                "enable.idempotence": True,
                "linger.ms": 5,
            }
        )

    def stop(self) -> None:
        self._stop_event.set()

    @property
    def complete(self) -> bool:
        """Every line was produced and delivered (not stopped early)."""
        return self.finished.is_set() and self.produced == len(self.lines) and self.failed == 0

    def _on_delivery(self, err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            self.failed += 1
            if self.error is None:
                self.error = f"delivery to {msg.topic()} failed: {err}"
            return
        self.delivered += 1
        tp = (str(msg.topic()), int(msg.partition() or 0))
        self.end_offsets[tp] = max(self.end_offsets.get(tp, 0), int(msg.offset() or 0) + 1)

    def run(self) -> None:
        try:
            self._run()
        except Exception as exc:  # reported to the main thread, which prints it
            self.error = f"producer failed: {exc}"
        finally:
            self._producer = None  # closes the client now: the caller may stop the broker next
            self.finished.set()

    def _run(self) -> None:
        producer = self._producer
        if producer is None:
            return
        started = time.monotonic()
        last_ts = 0
        for i, line in enumerate(self.lines):
            if i == self.unpaced:
                if i:
                    self._wait_for_go_live(producer)
                started = time.monotonic()
            # wait for this line's turn in short steps, so stop() is noticed and delivery reports flow
            ahead = (i - self.unpaced) / self.rate - (time.monotonic() - started)
            while ahead > 0 and not self._stop_event.is_set():
                producer.poll(min(ahead, 0.05))
                ahead = (i - self.unpaced) / self.rate - (time.monotonic() - started)
            if self._stop_event.is_set():
                break
            topic, key = route(line, self.topics)
            last_ts = max(int(time.time() * 1000), last_ts + 1)  # strictly increasing record time
            while True:
                try:
                    producer.produce(
                        topic, key=key, value=line, timestamp=last_ts, on_delivery=self._on_delivery
                    )
                    break
                except BufferError:
                    producer.poll(0.1)
            self.produced += 1
            self.by_topic[topic] += 1
            producer.poll(0)
        remaining = producer.flush(FLUSH_TIMEOUT_SECONDS)
        self.history_done.set()  # (all of it was history, or there was none)
        if remaining and self.error is None:
            self.error = f"{remaining} messages were not delivered within {FLUSH_TIMEOUT_SECONDS:.0f}s"

    def _wait_for_go_live(self, producer: Producer) -> None:
        remaining = producer.flush(FLUSH_TIMEOUT_SECONDS)
        if remaining and self.error is None:
            self.error = f"{remaining} messages were not delivered within {FLUSH_TIMEOUT_SECONDS:.0f}s"
        self.history_done.set()
        while not self.go_live.is_set() and not self._stop_event.is_set():
            producer.poll(0.05)


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
