"""EventWindow: a sorted, bounded window of (ts, event_id, payload)."""

from __future__ import annotations

import json

from detectors.window import EventWindow


def ids(entries: list) -> list[str]:
    return [e[1] for e in entries]


def test_out_of_order_insertion_is_sorted() -> None:
    w = EventWindow(10)
    for ts, eid in [(5, "c"), (1, "a"), (3, "b"), (3, "a2")]:
        w.add(ts, eid)
    assert ids(list(w)) == ["a", "a2", "b", "c"]


def test_between_is_start_exclusive_end_inclusive() -> None:
    w = EventWindow(10)
    for ts in (1, 2, 3, 4):
        w.add(ts, f"e{ts}")
    assert ids(w.between(1, 3)) == ["e2", "e3"]
    assert ids(w.between(0, 4)) == ["e1", "e2", "e3", "e4"]
    assert w.between(4, 10) == []


def test_evict_before_keeps_the_boundary() -> None:
    w = EventWindow(10)
    for ts in (1, 2, 3):
        w.add(ts, f"e{ts}")
    w.evict_before(2)
    assert ids(list(w)) == ["e2", "e3"]


def test_bounded_drops_oldest() -> None:
    w = EventWindow(3)
    for ts in (4, 1, 3, 2, 5):
        w.add(ts, f"e{ts}")
    assert len(w) == 3
    assert ids(list(w)) == ["e3", "e4", "e5"]


def test_json_round_trip() -> None:
    w = EventWindow(5)
    w.add(2.5, "b", ["phone", "hash"])
    w.add(1.0, "a", None)
    data = json.loads(json.dumps(w.to_json()))
    back = EventWindow.from_json(data, 5)
    assert list(back) == [(1.0, "a", None), (2.5, "b", ["phone", "hash"])]
    back.add(2.0, "m")
    assert ids(list(back)) == ["a", "m", "b"]
