"""Timestamp synchronisation of co-partitioned input topics, as Kafka Streams does it.

A customer's transactions, contact changes and profile updates arrive on three topics. Consumed as they
come, a transfer can be processed before the contact change that preceded it, and the stream would then
disagree with ``riskwatch replay`` (and miss or misattribute an account takeover). So consumed messages wait
in one buffer per partition number and leave it in record-timestamp order: the oldest head goes first, but
only while every topic of that partition either has buffered messages or has been read to its end. A topic
that still has unread data holds the partition back for at most ``max_idle_seconds``.

Upstream producers should set the record timestamp to the event time (the Kafka default, the time of
producing, is a fine approximation when events are produced as they happen).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable

from confluent_kafka import Message

CaughtUp = Callable[[str, int], bool]


def coordinates(msg: Message) -> tuple[str, int, int]:
    """Topic, partition and offset of a consumed record (always set on a message without an error)."""
    topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
    if topic is None or partition is None or offset is None:
        raise ValueError("a consumed record without topic, partition or offset")
    return topic, partition, offset


class PartitionBuffer:
    __slots__ = ("blocked_since", "queues")

    def __init__(self, topics: Iterable[str]) -> None:
        self.queues: dict[str, deque[Message]] = {t: deque() for t in topics}
        self.blocked_since: float | None = None

    def __len__(self) -> int:
        return sum(len(q) for q in self.queues.values())


class TimestampOrderer:
    def __init__(
        self, topics: list[str], max_idle_seconds: float, clock: Callable[[], float] = time.monotonic
    ):
        self.topics = topics
        self.rank = {t: i for i, t in enumerate(topics)}
        self.max_idle_seconds = max_idle_seconds
        self.clock = clock
        self.buffers: dict[int, PartitionBuffer] = {}

    def add(self, msgs: Iterable[Message]) -> None:
        for msg in msgs:
            topic, partition, _ = coordinates(msg)
            buffer = self.buffers.get(partition)
            if buffer is None:
                buffer = self.buffers[partition] = PartitionBuffer(self.topics)
            buffer.queues[topic].append(msg)

    def drain(self, caught_up: CaughtUp, limit: int) -> list[Message]:
        """Messages ready to process, oldest first within each partition, at most ``limit`` of them."""
        out: list[Message] = []
        now = self.clock()
        for partition, buffer in self.buffers.items():
            queues = buffer.queues
            # nothing is consumed while draining: an empty topic's caught-up state is asked once (it costs
            # two librdkafka calls), and a lone non-empty queue is taken whole, not compared message by message
            empty_caught_up: dict[str, bool] = {}
            while len(out) < limit:
                filled = [(topic, queue) for topic, queue in queues.items() if queue]
                if not filled:
                    buffer.blocked_since = None
                    break
                waiting = False
                for topic, queue in queues.items():
                    if not queue:
                        known = empty_caught_up.get(topic)
                        if known is None:
                            known = empty_caught_up[topic] = caught_up(topic, partition)
                        if not known:
                            waiting = True
                            break
                if waiting:
                    if buffer.blocked_since is None:
                        buffer.blocked_since = now
                    if now - buffer.blocked_since < self.max_idle_seconds:
                        break
                else:
                    buffer.blocked_since = None
                if len(filled) == 1:
                    queue = filled[0][1]
                    for _ in range(min(limit - len(out), len(queue))):
                        out.append(queue.popleft())
                    continue
                _, oldest = min(filled, key=lambda tq: self._head_key(*tq))
                out.append(oldest.popleft())
        return out

    def _head_key(self, topic: str, queue: deque[Message]) -> tuple[int, int]:
        ts_type, ts = queue[0].timestamp()
        return (ts if ts_type else 0, self.rank[topic])

    def drop(self, partitions: Iterable[int]) -> None:
        for p in partitions:
            self.buffers.pop(p, None)

    def clear(self) -> None:
        self.buffers.clear()

    def __len__(self) -> int:
        return sum(len(b) for b in self.buffers.values())
