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


def test_same_time_events_are_in_event_id_order_whichever_came_first() -> None:
    """Replay and the stream may receive events of the same second in either order; the window (and so
    every count and trigger list) must not show which."""
    w = EventWindow(10)
    for eid in ("c", "b", "a"):
        w.add(7.0, eid)
    w.add(1.0, "z")
    w.add(7.0, "bb")
    assert ids(list(w)) == ["z", "a", "b", "bb", "c"]


def test_counts_and_the_latest_time() -> None:
    w = EventWindow(10)
    for ts in (1, 2, 3, 4):
        w.add(ts, f"e{ts}")
    assert (w.count_between(1, 3), w.count_after(2)) == (2, 2)
    assert (w.latest(0.0), w.latest(9.0), EventWindow(3).latest(5.0)) == (4, 9.0, 5.0)
    empty = EventWindow(3)
    empty.evict_before(10.0)
    assert len(empty) == 0


def test_a_window_restored_or_built_from_unordered_entries_is_put_in_order() -> None:
    """A state record holds its entries in order and is taken as it is; one that is not (an older
    writer, a hand-made record) is sorted, by time and then event id, never trusted."""
    for entries in (
        [(1.0, "a", None), (3.0, "c", None), (2.0, "b", None)],
        [(2.0, "b", None), (1.0, "a", None)],
    ):
        for w in (EventWindow.from_entries(list(entries), 5), EventWindow(5, list(entries))):
            assert ids(list(w)) == sorted(ids(entries))
            assert w.count_after(1.5) == len(entries) - 1
    same_time = EventWindow.from_entries([(1.0, "b", None), (1.0, "a", None)], 5)
    assert ids(list(same_time)) == ["a", "b"]
