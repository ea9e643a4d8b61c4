"""Timestamp synchronisation of co-partitioned topics, without a broker: fake records, a fake clock."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

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


def reference_drain(
    queues: dict[int, dict[str, list[FakeRecord]]], caught_up: dict[tuple[str, int], bool], limit: int
) -> list[tuple[str, int]]:
    """The rule, one record at a time: per partition, the oldest head (ties by topic rank) while no
    empty topic of that partition still has unread data (idle limit never reached here)."""
    out: list[tuple[str, int]] = []
    for partition, by_topic in queues.items():
        qs = {t: list(by_topic.get(t, [])) for t in TOPICS}
        while len(out) < limit:
            if any(not q and not caught_up[(t, partition)] for t, q in qs.items()):
                break
            filled = [(q[0]._ts, TOPICS.index(t), t) for t, q in qs.items() if q]
            if not filled:
                break
            topic = min(filled)[2]
            r = qs[topic].pop(0)
            out.append((r.topic(), r.offset()))
    return out


@given(
    data=st.lists(st.tuples(st.integers(0, 2), st.sampled_from(TOPICS), st.integers(0, 50)), max_size=60),
    caught=st.dictionaries(st.tuples(st.sampled_from(TOPICS), st.integers(0, 2)), st.booleans()),
    limit=st.integers(1, 70),
)
def test_drain_matches_the_one_record_at_a_time_rule(
    data: list[tuple[int, str, int]], caught: dict[tuple[str, int], bool], limit: int
) -> None:
    clock = Clock()
    orderer = TimestampOrderer(TOPICS, max_idle_seconds=10.0, clock=clock)
    queues: dict[int, dict[str, list[FakeRecord]]] = {}
    offsets: dict[tuple[str, int], int] = {}
    records = []
    for partition, topic, ts in data:
        offset = offsets[(topic, partition)] = offsets.get((topic, partition), -1) + 1
        record = FakeRecord(topic, partition, offset, ts)
        records.append(record)
        queues.setdefault(partition, {}).setdefault(topic, []).append(record)
    orderer.add(records)  # type: ignore[arg-type]
    caught_up = {(t, p): caught.get((t, p), True) for t in TOPICS for p in range(3)}
    asked: list[tuple[str, int]] = []

    def is_caught_up(topic: str, partition: int) -> bool:
        asked.append((topic, partition))
        return caught_up[(topic, partition)]

    assert ids(orderer.drain(is_caught_up, limit)) == reference_drain(queues, caught_up, limit)
    assert len(asked) == len(set(asked)), "an empty topic's position was asked twice in one drain"
