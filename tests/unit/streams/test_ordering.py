"""Timestamp synchronisation of co-partitioned topics, without a broker: fake records, a fake clock."""

from __future__ import annotations

from dataclasses import dataclass

from streams.worker.ordering import TimestampOrderer

TOPICS = ["transactions", "contact-changes", "customer-profiles"]


@dataclass
class FakeRecord:
    """The part of confluent_kafka.Message the orderer reads."""

    _topic: str
    _partition: int
    _offset: int
    _ts: int

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def timestamp(self) -> tuple[int, int]:
        return (1, self._ts)  # TIMESTAMP_CREATE_TIME


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def ids(records: list[FakeRecord]) -> list[tuple[str, int]]:
    return [(r.topic(), r.offset()) for r in records]


def test_oldest_head_first_across_topics_when_all_topics_are_read_to_the_end() -> None:
    orderer = TimestampOrderer(TOPICS, max_idle_seconds=1.0, clock=Clock())
    orderer.add(
        [
            FakeRecord("transactions", 0, 0, 30),
            FakeRecord("transactions", 0, 1, 50),
            FakeRecord("contact-changes", 0, 0, 40),
            FakeRecord("customer-profiles", 0, 0, 10),
        ]
    )
    out = orderer.drain(lambda topic, partition: True, limit=100)
    assert ids(out) == [
        ("customer-profiles", 0),
        ("transactions", 0),
        ("contact-changes", 0),
        ("transactions", 1),
    ]
    assert len(orderer) == 0


def test_a_topic_with_unread_data_holds_the_partition_back_until_the_idle_limit() -> None:
    clock = Clock()
    orderer = TimestampOrderer(TOPICS, max_idle_seconds=1.0, clock=clock)
    orderer.add([FakeRecord("transactions", 0, 0, 50)])

    def contact_changes_lagging(topic: str, partition: int) -> bool:
        return topic != "contact-changes"

    assert orderer.drain(contact_changes_lagging, limit=100) == []
    clock.now += 0.5
    assert orderer.drain(contact_changes_lagging, limit=100) == []
    # the older contact change arrives: it goes first
    orderer.add([FakeRecord("contact-changes", 0, 0, 40)])
    assert ids(orderer.drain(lambda t, p: True, limit=100)) == [("contact-changes", 0), ("transactions", 0)]
    # a lagging topic never blocks for longer than max_idle_seconds
    orderer.add([FakeRecord("transactions", 0, 1, 60)])
    assert orderer.drain(contact_changes_lagging, limit=100) == []
    clock.now += 1.0
    assert ids(orderer.drain(contact_changes_lagging, limit=100)) == [("transactions", 1)]


def test_partitions_are_independent_and_the_limit_is_respected() -> None:
    orderer = TimestampOrderer(TOPICS, max_idle_seconds=1.0, clock=Clock())
    orderer.add([FakeRecord("transactions", p, o, o) for p in (0, 1) for o in range(5)])
    first = orderer.drain(lambda t, p: True, limit=3)
    assert len(first) == 3
    rest = orderer.drain(lambda t, p: True, limit=100)
    assert len(first) + len(rest) == 10
    for p in (0, 1):
        offsets = [r.offset() for r in first + rest if r.partition() == p]
        assert offsets == sorted(offsets)


def test_dropping_a_revoked_partition_forgets_its_buffered_records() -> None:
    orderer = TimestampOrderer(TOPICS, max_idle_seconds=1.0, clock=Clock())
    orderer.add([FakeRecord("transactions", 0, 0, 1), FakeRecord("transactions", 1, 0, 1)])
    orderer.drop([0])
    assert [r.partition() for r in orderer.drain(lambda t, p: True, limit=100)] == [1]
