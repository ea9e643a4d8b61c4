"""Timestamp synchronisation of co-partitioned input topics, as Kafka Streams does it.

A customer's transactions, contact changes and profile updates arrive on three topics. Consumed as they
come, a transfer can be processed before the contact change that preceded it, and the stream would then
disagree with ``riskwatch replay`` (and miss or misattribute an account takeover). So consumed messages wait
in one buffer per partition number and leave it in record-timestamp order: the oldest head goes first, but
only while every topic of that partition either has buffered messages or has been read to its end.

How long to wait for a topic with nothing buffered follows Kafka Streams (KIP-695), because a time bound
alone loses order exactly when it matters most: a worker catching up a backlog. One fetch brings a month of
contact changes but only hours of transactions; a worker that stops waiting for the transactions after a
second processes the contact changes days of event time ahead, and an account takeover's change has left
its window before the transfer arrives. So the runtime says, per empty topic partition:

- ``True``: read to its end (position at the end offset): no wait, the partition goes on;
- ``False``: it has unread data (position below the end offset), or its end is not known yet (no fetch
  response since the assignment): wait, with no time bound -- the fetcher is bringing it, and ``flow``
  pauses the topics that are ahead so that it can;
- ``None``: the runtime cannot tell (faust: offsets past the last record seen that may be transaction
  markers rather than data): wait at most ``max_idle_seconds``.

Every queue is bounded: ``flow`` names the topic partitions whose buffer reached ``max_buffered`` (the
runtime pauses them, so the fetcher serves the others and memory stays bounded) and those that drained to
half of it (resumed).

Upstream producers should set the record timestamp to the event time (the Kafka default, the time of
producing, is a fine approximation when events are produced as they happen).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Container, Iterable
from typing import Generic, Protocol, TypeVar

# True: read to its end; False: unread data or end unknown (wait, unbounded); None: cannot tell (bounded wait)
CaughtUp = Callable[[str, int], bool | None]
TopicPartitionKey = tuple[str, int]


class Timestamped(Protocol):
    """What the orderer reads of a record. confluent-kafka's ``Message`` has it as it is; another runtime
    (faust) gives its own record type these three methods instead of dressing it up as a ``Message``."""

    def topic(self) -> str | None: ...

    def partition(self) -> int | None: ...

    def timestamp(self) -> tuple[int, int]: ...  # (timestamp type, milliseconds); type 0: none


R = TypeVar("R", bound=Timestamped)


class PartitionBuffer(Generic[R]):
    __slots__ = ("blocked_since", "queues")

    def __init__(self, topics: Iterable[str]) -> None:
        self.queues: dict[str, deque[R]] = {t: deque() for t in topics}
        self.blocked_since: float | None = None

    def __len__(self) -> int:
        return sum(len(q) for q in self.queues.values())


class TimestampOrderer(Generic[R]):
    def __init__(
        self, topics: list[str], max_idle_seconds: float, clock: Callable[[], float] = time.monotonic
    ):
        self.topics = topics
        self.rank = {t: i for i, t in enumerate(topics)}
        self.max_idle_seconds = max_idle_seconds
        self.clock = clock
        self.buffers: dict[int, PartitionBuffer[R]] = {}
        self.paused: set[TopicPartitionKey] = set()

    def add(self, msgs: Iterable[R], only: Container[TopicPartitionKey] | None = None) -> None:
        """Buffer ``msgs``; with ``only``, those of these topic partitions (the ones still assigned)."""
        for msg in msgs:
            topic, partition = msg.topic(), msg.partition()
            if topic is None or partition is None:
                raise ValueError("a consumed record without topic or partition")
            if only is not None and (topic, partition) not in only:
                continue
            buffer = self.buffers.get(partition)
            if buffer is None:
                buffer = self.buffers[partition] = PartitionBuffer(self.topics)
            buffer.queues[topic].append(msg)

    def drain(self, caught_up: CaughtUp, limit: int) -> list[R]:
        """Messages ready to process, oldest first within each partition, at most ``limit`` of them."""
        out: list[R] = []
        now = self.clock()
        for partition, buffer in self.buffers.items():
            queues = buffer.queues
            # nothing is consumed while draining: an empty topic's caught-up state is asked once (it costs
            # two librdkafka calls), and a lone non-empty queue is taken whole, not compared message by message
            empty_caught_up: dict[str, bool | None] = {}
            while len(out) < limit:
                filled = [(topic, queue) for topic, queue in queues.items() if queue]
                if not filled:
                    buffer.blocked_since = None
                    break
                unread_known = unread_unknown = False
                for topic, queue in queues.items():
                    if not queue:
                        if topic in empty_caught_up:
                            known = empty_caught_up[topic]
                        else:
                            known = empty_caught_up[topic] = caught_up(topic, partition)
                        if known is False:
                            unread_known = True
                            break
                        if known is None:
                            unread_unknown = True
                if unread_known:
                    # the data is there to be fetched: wait for it however long it takes (KIP-695)
                    buffer.blocked_since = None
                    break
                if unread_unknown:
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
                # The oldest head goes first, and so does every record behind it that is still older than
                # the other queues' heads: those do not move meanwhile, so this run is what choosing one
                # record at a time would give, for one timestamp read per record instead of a comparison
                # of every head per record.
                keyed = sorted(((self._head_key(t, q), q) for t, q in filled), key=lambda kq: kq[0])
                ((_, rank), oldest), (next_key, _) = keyed[0], keyed[1]
                out.append(oldest.popleft())
                while oldest and len(out) < limit:
                    ts_type, ts = oldest[0].timestamp()
                    if ((ts if ts_type else 0), rank) > next_key:
                        break
                    out.append(oldest.popleft())
        return out

    def _head_key(self, topic: str, queue: deque[R]) -> tuple[int, int]:
        ts_type, ts = queue[0].timestamp()
        return (ts if ts_type else 0, self.rank[topic])

    def flow(self, max_buffered: int) -> tuple[list[TopicPartitionKey], list[TopicPartitionKey]]:
        """Topic partitions to pause (their buffer reached ``max_buffered``) and to resume (a paused one
        drained to half of it), after an ``add`` and a ``drain``. The runtime pauses and resumes them on its
        consumer; the orderer remembers what it asked to be paused."""
        pause: list[TopicPartitionKey] = []
        resume: list[TopicPartitionKey] = []
        for partition, buffer in self.buffers.items():
            for topic, queue in buffer.queues.items():
                key = (topic, partition)
                if key in self.paused:
                    if len(queue) <= max_buffered // 2:
                        resume.append(key)
                elif len(queue) >= max_buffered:
                    pause.append(key)
        self.paused.update(pause)
        self.paused.difference_update(resume)
        return pause, resume

    def drop(self, partitions: Iterable[int]) -> list[TopicPartitionKey]:
        """Forget revoked partitions; the paused ones among them (to resume before they go)."""
        gone = set(partitions)
        for p in gone:
            self.buffers.pop(p, None)
        paused = sorted(k for k in self.paused if k[1] in gone)
        self.paused.difference_update(paused)
        return paused

    def clear(self) -> list[TopicPartitionKey]:
        """Forget everything buffered (the consumer is rewound); the paused topic partitions to resume."""
        self.buffers.clear()
        paused = sorted(self.paused)
        self.paused.clear()
        return paused

    def __len__(self) -> int:
        return sum(len(b) for b in self.buffers.values())
