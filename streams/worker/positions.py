"""Where each assigned input partition stands against its end: what the orderer asks (``caught_up``, the
KIP-695 rule in ``ordering``) and what the lag metric shows."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from confluent_kafka import Consumer, KafkaException, TopicPartition

from streams.worker.metrics import WorkerMetrics

log = logging.getLogger("riskwatch.worker")

# how long the batch waits for the broker to confirm an end-of-partition event (``caught_up``): unanswered,
# the partition counts as not caught up and is asked again at the next drain, so a slow broker delays and
# never reorders
END_QUERY_TIMEOUT_SECONDS = 5.0


class InputPositions:
    def __init__(self, consumer: Consumer) -> None:
        self.consumer = consumer
        # where librdkafka reported the end of an input partition since it was assigned or rewound
        # (read_committed: its last stable offset, after any transaction markers)
        self.eof: dict[tuple[str, int], int] = {}
        # the broker's answer for an end seen: (position, high watermark) asked at, caught up then
        self._confirmed: dict[tuple[str, int], tuple[int, int, bool]] = {}

    def assigned(self, partitions: Iterable[TopicPartition]) -> None:
        """A new assignment: ends seen of these partitions belong to an earlier one."""
        numbers = {tp.partition for tp in partitions}
        if numbers:
            self.forget_ends(numbers)

    def end_reached(self, topic: str, partition: int, offset: int) -> None:
        self.eof[(topic, partition)] = offset

    def forget_ends(self, partitions: set[int] | None = None) -> None:
        """The ends seen of ``partitions`` (of every partition when None): they are no longer ours, or the
        consumer is being rewound."""
        for seen in (self.eof, self._confirmed):
            for key in [k for k in seen if partitions is None or k[1] in partitions]:
                del seen[key]

    def caught_up(self, topic: str, partition: int) -> bool | None:
        """Whether everything written to this input partition so far has been consumed (True) or not yet
        (False: the fetcher will bring it, however long the orderer has to wait).

        - Until a record or the end of the partition has been consumed since it was assigned (or rewound),
          the fetcher has not answered for it: librdkafka's cached high watermark may still be the one of
          an earlier assignment of the same partition, and new records lie beyond it (KIP-695 waits here).
        - librdkafka moves the position past transaction markers and aborted records, so a position below
          the high watermark means data still to come -- or an upstream transaction still open. The
          end-of-partition event at the position tells the two apart only as of its fetch: a record
          appended since may already be fetched and queued behind it, unconsumed. So that end is confirmed
          with the broker (the consumer's read_committed query answers the last stable offset), once per
          position and high watermark: an open upstream transaction costs a query per record it appends."""
        key = (topic, partition)
        tp = TopicPartition(topic, partition)
        position = self.consumer.position([tp])[0].offset
        end = self.eof.get(key)
        if position < 0:
            if end is None:
                return False
            position = end  # nothing consumed since the end was seen: that is where the fetcher stands
        _, high = self.consumer.get_watermark_offsets(tp, cached=True)
        if high < 0:
            return False
        if position >= high:
            return True
        if end != position:
            return False
        confirmed = self._confirmed.get(key)
        if confirmed is not None and confirmed[:2] == (position, high):
            return confirmed[2]
        try:
            _, stable = self.consumer.get_watermark_offsets(tp, timeout=END_QUERY_TIMEOUT_SECONDS)
        except KafkaException as exc:  # asked again on the next drain; meanwhile the partition waits
            log.debug("asking the last stable offset of %s[%d]: %s", topic, partition, exc)
            return False
        caught_up = stable <= position
        self._confirmed[key] = (position, high, caught_up)
        return caught_up

    def update_lag(self, metrics: WorkerMetrics) -> None:
        try:
            assignment = self.consumer.assignment()
            if not assignment:
                return
            for tp in self.consumer.position(assignment):
                _, hi = self.consumer.get_watermark_offsets(tp, cached=True)
                if hi < 0 or tp.offset < 0:
                    continue
                metrics.consumer_lag.labels(tp.topic, str(tp.partition)).set(max(0, hi - tp.offset))
        except KafkaException as exc:
            log.debug("lag update skipped: %s", exc)
