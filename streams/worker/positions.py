"""Where each assigned input partition stands against its end: what the orderer asks (``caught_up``, the
KIP-695 rule in ``ordering``) and what the lag metric shows."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from confluent_kafka import Consumer, KafkaException, TopicPartition

from streams.worker.metrics import WorkerMetrics

log = logging.getLogger("riskwatch.worker")


class InputPositions:
    def __init__(self, consumer: Consumer) -> None:
        self.consumer = consumer
        # where each assigned input partition starts (committed offset, or 0): "caught up" before any fetch
        self.committed: dict[tuple[str, int], int] = {}
        # where librdkafka last reported the end of an input partition (read_committed: its last stable
        # offset, after any transaction markers): "caught up" although an open upstream transaction's
        # records already count in the high watermark
        self.eof: dict[tuple[str, int], int] = {}

    def starting_at(self, committed: Iterable[TopicPartition]) -> None:
        for tp in committed:
            self.committed[(tp.topic, tp.partition)] = max(tp.offset, 0)

    def end_reached(self, topic: str, partition: int, offset: int) -> None:
        self.eof[(topic, partition)] = offset

    def forget_ends(self, partitions: set[int] | None = None) -> None:
        """The ends seen of ``partitions`` (of every partition when None): they are no longer ours, or the
        consumer is being rewound."""
        if partitions is None:
            self.eof.clear()
            return
        for key in [k for k in self.eof if k[1] in partitions]:
            del self.eof[key]

    def caught_up(self, topic: str, partition: int) -> bool | None:
        """Whether everything written to this input partition so far has been consumed (True) or not yet
        (False: the fetcher will bring it, however long the orderer has to wait). librdkafka moves the
        position past transaction markers and aborted records, so a position below the high watermark
        means data still to come -- or an upstream transaction still open, which the end-of-partition
        event at the last stable offset tells apart."""
        tp = TopicPartition(topic, partition)
        _, high = self.consumer.get_watermark_offsets(tp, cached=True)
        if high < 0:
            return False  # no fetch response yet: the fetcher will tell (KIP-695 waits here too)
        position = self.consumer.position([tp])[0].offset
        if position < 0:
            position = self.committed.get((topic, partition), 0)
        return position >= high or self.eof.get((topic, partition)) == position

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
