"""A consumed Kafka record held in memory, for running the worker's batch step and orderer without a broker.

Shared by the unit tests of ``streams.worker`` and by ``bench/worker_profile.py``: each had its own copy
of the same six accessors, and a copy that drifted from ``confluent_kafka.Message`` would test the wrong
thing in one place only.
"""

from __future__ import annotations

#: confluent-kafka's timestamp types: none, and the producer's create time
TIMESTAMP_NOT_AVAILABLE = 0
TIMESTAMP_CREATE_TIME = 1


class FakeRecord:
    """What ``streams.worker.batch.ConsumedRecord`` and ``streams.worker.ordering.Timestamped`` read of a
    ``confluent_kafka.Message``. Without ``ts_ms`` the record has no timestamp, as a message whose
    producer set none."""

    __slots__ = ("_key", "_offset", "_partition", "_timestamp", "_topic", "_value")

    def __init__(
        self,
        topic: str,
        partition: int,
        offset: int,
        ts_ms: int | None = None,
        *,
        key: bytes = b"",
        value: bytes = b"",
    ) -> None:
        self._topic, self._partition, self._offset = topic, partition, offset
        self._key, self._value = key, value
        self._timestamp = (TIMESTAMP_NOT_AVAILABLE, 0) if ts_ms is None else (TIMESTAMP_CREATE_TIME, ts_ms)

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes:
        return self._key

    def value(self) -> bytes:
        return self._value

    def timestamp(self) -> tuple[int, int]:
        return self._timestamp
