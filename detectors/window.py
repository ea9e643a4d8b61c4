"""A time-ordered window of events that tolerates slightly out-of-order arrival.

Entries are kept sorted by event time (bisect insertion), so a late event lands where it belongs and is
counted in every window evaluated after it arrives. Eviction is by the customer's newest event time.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from typing import Any


class EventWindow:
    """Sorted ``(ts, event_id, payload)`` entries; ``payload`` is any JSON-able value."""

    __slots__ = ("_entries", "_keys", "max_entries")

    def __init__(self, max_entries: int, entries: list[tuple[float, str, Any]] | None = None) -> None:
        self.max_entries = max_entries
        if entries:
            self._entries: list[tuple[float, str, Any]] = sorted(entries, key=lambda e: (e[0], e[1]))
            self._keys: list[tuple[float, str]] = [(e[0], e[1]) for e in self._entries]
        else:
            self._entries, self._keys = [], []

    def add(self, ts: float, event_id: str, payload: Any = None) -> None:
        key = (ts, event_id)
        i = bisect.bisect_right(self._keys, key)
        self._keys.insert(i, key)
        self._entries.insert(i, (ts, event_id, payload))
        if len(self._entries) > self.max_entries:
            # Bounded state: the oldest entries go first.
            excess = len(self._entries) - self.max_entries
            del self._entries[:excess]
            del self._keys[:excess]

    def evict_before(self, ts: float) -> None:
        i = bisect.bisect_left(self._keys, (ts, ""))
        if i:
            del self._entries[:i]
            del self._keys[:i]

    def between(self, start_exclusive: float, end_inclusive: float) -> list[tuple[float, str, Any]]:
        lo = bisect.bisect_right(self._keys, (start_exclusive, "\U0010ffff"))
        hi = bisect.bisect_right(self._keys, (end_inclusive, "\U0010ffff"))
        return self._entries[lo:hi]

    def count_between(self, start_exclusive: float, end_inclusive: float) -> int:
        lo = bisect.bisect_right(self._keys, (start_exclusive, "\U0010ffff"))
        hi = bisect.bisect_right(self._keys, (end_inclusive, "\U0010ffff"))
        return hi - lo

    def latest(self, default: float) -> float:
        """The newest event time held, or ``default``: each detector's own clock, so that its decisions
        depend only on the order of its own topic, not on how the topics interleave."""
        return max(self._keys[-1][0], default) if self._keys else default

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
        return cls(max_entries, [(float(ts), str(eid), payload) for ts, eid, payload in data])
