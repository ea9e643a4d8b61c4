"""A time-ordered window of events that tolerates slightly out-of-order arrival.

Entries are kept sorted by event time (bisect insertion), so a late event lands where it belongs and is
counted in every window evaluated after it arrives. Eviction is by the customer's newest event time.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from typing import Any


class EventWindow:
    """Sorted ``(ts, event_id, payload)`` entries; ``payload`` is any JSON-able value.

    The event times are also kept as a list of floats beside the entries, for the binary searches: floats
    compare several times faster than ``(ts, event_id)`` tuples, and cost no tuple per entry. Entries of
    the same time stay in event-id order (a rare tie, settled by a short walk back)."""

    __slots__ = ("_entries", "_times", "max_entries")

    def __init__(self, max_entries: int, entries: list[tuple[float, str, Any]] | None = None) -> None:
        self.max_entries = max_entries
        if entries:
            self._entries: list[tuple[float, str, Any]] = sorted(entries, key=_time_and_id)
            self._times: list[float] = [e[0] for e in self._entries]
        else:
            self._entries, self._times = [], []

    def add(self, ts: float, event_id: str, payload: Any = None) -> None:
        times, entries = self._times, self._entries
        if not times or ts > times[-1]:  # in order, as nearly every event is: no search
            times.append(ts)
            entries.append((ts, event_id, payload))
        else:
            i = bisect.bisect_right(times, ts)
            while i > 0 and times[i - 1] == ts and entries[i - 1][1] > event_id:
                i -= 1
            times.insert(i, ts)
            entries.insert(i, (ts, event_id, payload))
        if len(entries) > self.max_entries:
            # Bounded state: the oldest entries go first.
            excess = len(entries) - self.max_entries
            del entries[:excess]
            del times[:excess]

    def evict_before(self, ts: float) -> None:
        times = self._times
        if not times or times[0] >= ts:
            return
        i = bisect.bisect_left(times, ts)
        if i:
            del self._entries[:i]
            del self._times[:i]

    def between(self, start_exclusive: float, end_inclusive: float) -> list[tuple[float, str, Any]]:
        times = self._times
        return self._entries[
            bisect.bisect_right(times, start_exclusive) : bisect.bisect_right(times, end_inclusive)
        ]

    def count_between(self, start_exclusive: float, end_inclusive: float) -> int:
        times = self._times
        return bisect.bisect_right(times, end_inclusive) - bisect.bisect_right(times, start_exclusive)

    def count_after(self, start_exclusive: float) -> int:
        """``count_between(start_exclusive, end)`` for an ``end`` at or after every event time held (the
        window's own clock, ``latest``): one search instead of two."""
        times = self._times
        return len(times) - bisect.bisect_right(times, start_exclusive)

    def latest(self, default: float) -> float:
        """The newest event time held, or ``default``: each detector's own clock, so that its decisions
        depend only on the order of its own topic, not on how the topics interleave."""
        times = self._times
        return max(times[-1], default) if times else default

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[tuple[float, str, Any]]:
        return iter(self._entries)

    def to_json(self) -> list[list[Any]]:
        return [[ts, eid, payload] for ts, eid, payload in self._entries]

    def view(self) -> list[tuple[float, str, Any]]:
        """``to_json`` without the copy (see ``Detector.state_view``)."""
        return self._entries

    @classmethod
    def from_json(cls, data: list[list[Any]], max_entries: int) -> EventWindow:
        if not data:
            return EventWindow(max_entries)
        return EventWindow.from_entries(
            [(float(ts), str(eid), payload) for ts, eid, payload in data], max_entries
        )

    @classmethod
    def from_entries(cls, entries: list[tuple[float, str, Any]], max_entries: int) -> EventWindow:
        """A window holding ``entries`` (taken, not copied): as the constructor, but a list already in
        order (what a state record holds) is checked rather than sorted again, one pass of float
        comparisons instead of a key tuple per entry."""
        window = EventWindow(max_entries)
        times = [e[0] for e in entries]
        for i in range(1, len(times)):
            if times[i] < times[i - 1] or (times[i] == times[i - 1] and entries[i][1] < entries[i - 1][1]):
                entries = sorted(entries, key=_time_and_id)
                times = [e[0] for e in entries]
                break
        window._entries = entries
        window._times = times
        return window


def _time_and_id(entry: tuple[float, str, Any]) -> tuple[float, str]:
    return entry[0], entry[1]
