"""Timestamp synchronisation of co-partitioned topics, without a broker: fake records, a fake clock."""

from __future__ import annotations

from fake_records import FakeRecord
from hypothesis import given
from hypothesis import strategies as st

from streams.worker.ordering import TimestampOrderer

TOPICS = ["transactions", "contact-changes", "customer-profiles"]


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


def test_a_topic_with_unread_data_holds_the_partition_back_however_long_it_takes() -> None:
    """KIP-695: a backlog's slower topic is waited for, never overtaken after an idle time (the defect:
    contact changes processed days of event time ahead of the transactions still being fetched)."""
    clock = Clock()
    orderer = TimestampOrderer(TOPICS, max_idle_seconds=1.0, clock=clock)
    orderer.add([FakeRecord("contact-changes", 0, 0, 500)])

    def transactions_lagging(topic: str, partition: int) -> bool:
        return topic != "transactions"

    for _ in range(5):
        assert orderer.drain(transactions_lagging, limit=100) == []
        clock.now += 3600.0
    # the older transaction arrives at last: it goes first
    orderer.add([FakeRecord("transactions", 0, 0, 40)])
    assert ids(orderer.drain(lambda t, p: True, limit=100)) == [("transactions", 0), ("contact-changes", 0)]


def test_a_topic_the_runtime_cannot_tell_about_holds_the_partition_back_until_the_idle_limit() -> None:
    clock = Clock()
    orderer = TimestampOrderer(TOPICS, max_idle_seconds=1.0, clock=clock)
    orderer.add([FakeRecord("transactions", 0, 0, 50)])

    def contact_changes_unknown(topic: str, partition: int) -> bool | None:
        return None if topic == "contact-changes" else True

    assert orderer.drain(contact_changes_unknown, limit=100) == []
    clock.now += 0.5
    assert orderer.drain(contact_changes_unknown, limit=100) == []
    orderer.add([FakeRecord("contact-changes", 0, 0, 40)])
    assert ids(orderer.drain(lambda t, p: True, limit=100)) == [("contact-changes", 0), ("transactions", 0)]
    orderer.add([FakeRecord("transactions", 0, 1, 60)])
    assert orderer.drain(contact_changes_unknown, limit=100) == []
    clock.now += 1.0
    assert ids(orderer.drain(contact_changes_unknown, limit=100)) == [("transactions", 1)]


def test_a_known_lag_does_not_start_the_idle_clock() -> None:
    """Waiting on known unread data, then on a topic the runtime cannot tell about: the idle bound counts
    from the second wait only."""
    clock = Clock()
    orderer = TimestampOrderer(TOPICS, max_idle_seconds=1.0, clock=clock)
    orderer.add([FakeRecord("transactions", 0, 0, 50)])
    assert orderer.drain(lambda t, p: t != "contact-changes", limit=100) == []
    clock.now += 10.0
    assert orderer.drain(lambda t, p: None if t == "contact-changes" else True, limit=100) == []
    clock.now += 1.0
    assert len(orderer.drain(lambda t, p: None if t == "contact-changes" else True, limit=100)) == 1


def test_flow_pauses_a_full_queue_and_resumes_it_half_drained() -> None:
    orderer = TimestampOrderer(TOPICS, max_idle_seconds=1.0, clock=Clock())
    orderer.add([FakeRecord("contact-changes", 0, o, 100 + o) for o in range(4)])
    orderer.add([FakeRecord("transactions", 0, 0, 1)])
    assert orderer.flow(max_buffered=4) == ([("contact-changes", 0)], [])
    assert orderer.flow(max_buffered=4) == ([], []), "asked to pause once, not at every turn"
    assert orderer.paused == {("contact-changes", 0)}
    # the transaction goes, then the changes while transactions are read to the end, two at a time
    assert len(orderer.drain(lambda t, p: True, limit=2)) == 2
    assert orderer.flow(max_buffered=4) == ([], []), "3 of 4 left: still paused"
    assert len(orderer.drain(lambda t, p: True, limit=1)) == 1
    assert orderer.flow(max_buffered=4) == ([], [("contact-changes", 0)])
    assert orderer.paused == set()


def test_dropping_or_clearing_hands_back_the_paused_topic_partitions() -> None:
    orderer = TimestampOrderer(TOPICS, max_idle_seconds=1.0, clock=Clock())
    orderer.add([FakeRecord(t, p, o, o) for t in TOPICS[:2] for p in (0, 1) for o in range(3)])
    pause, _ = orderer.flow(max_buffered=3)
    assert sorted(pause) == sorted((t, p) for t in TOPICS[:2] for p in (0, 1))
    assert orderer.drop([1]) == [("contact-changes", 1), ("transactions", 1)]
    assert orderer.clear() == [("contact-changes", 0), ("transactions", 0)]
    assert orderer.paused == set()
    assert len(orderer) == 0


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


def test_records_of_a_partition_no_longer_assigned_are_not_buffered() -> None:
    orderer = TimestampOrderer(TOPICS, max_idle_seconds=1.0, clock=Clock())
    fetched = [FakeRecord("transactions", 0, 0, 1), FakeRecord("transactions", 1, 0, 1)]
    orderer.add(fetched, only={("transactions", 1)})
    assert len(orderer) == 1
    assert [r.partition() for r in orderer.drain(lambda t, p: True, limit=100)] == [1]


def reference_drain(
    queues: dict[int, dict[str, list[FakeRecord]]], caught_up: dict[tuple[str, int], bool | None], limit: int
) -> list[tuple[str, int]]:
    """The rule, one record at a time: per partition, the oldest head (ties by topic rank) while no
    empty topic of that partition has unread data or cannot be told about (idle limit never reached)."""
    out: list[tuple[str, int]] = []
    for partition, by_topic in queues.items():
        qs = {t: list(by_topic.get(t, [])) for t in TOPICS}
        while len(out) < limit:
            if any(not q and caught_up[(t, partition)] is not True for t, q in qs.items()):
                break
            filled = [(q[0].timestamp()[1], TOPICS.index(t), t) for t, q in qs.items() if q]
            if not filled:
                break
            topic = min(filled)[2]
            r = qs[topic].pop(0)
            out.append((r.topic(), r.offset()))
    return out


@given(
    data=st.lists(st.tuples(st.integers(0, 2), st.sampled_from(TOPICS), st.integers(0, 50)), max_size=60),
    caught=st.dictionaries(
        st.tuples(st.sampled_from(TOPICS), st.integers(0, 2)), st.sampled_from([True, False, None])
    ),
    limit=st.integers(1, 70),
)
def test_drain_matches_the_one_record_at_a_time_rule(
    data: list[tuple[int, str, int]], caught: dict[tuple[str, int], bool | None], limit: int
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
    caught_up: dict[tuple[str, int], bool | None] = {
        (t, p): caught.get((t, p), True) for t in TOPICS for p in range(3)
    }
    asked: list[tuple[str, int]] = []

    def is_caught_up(topic: str, partition: int) -> bool | None:
        asked.append((topic, partition))
        return caught_up[(topic, partition)]

    assert ids(orderer.drain(is_caught_up, limit)) == reference_drain(queues, caught_up, limit)
    assert len(asked) == len(set(asked)), "an empty topic's position was asked twice in one drain"
