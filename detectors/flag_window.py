"""A time-ordered window of events held as three columns: times, event ids and one flag byte each.

``EventWindow`` holds a tuple per event besides its time and id; a customer's window of a day of
transactions taken out of a changelog record was a few hundred objects to build. This window holds the
same entries as a list of times, a list of ids and a ``bytearray`` of flags, and a record holds them as
doubles, one ``detectors.id_text`` string and the flags, each read and written in one C call. The
times and ids stay lists, not an ``array('d')`` and one id text: the searches and appends on every
event touch them, and compiled, a list's item is a native read where an array's is a boxed float per
read, and appending to an id text copies it (velocity_spike's update was slower with them). The order is
``EventWindow``'s (event time, then event id among equal times), and so is every answer.
"""

from __future__ import annotations

import bisect
from typing import Any

from detectors import id_text
from detectors.columns import doubles_column, from_column


class FlagWindow:
    """Sorted ``(ts, event_id, flag)`` entries, ``flag`` a byte (0 to 255)."""

    __slots__ = ("flags", "ids", "max_entries", "times")

    def __init__(
        self,
        max_entries: int,
        times: list[float] | None = None,
        ids: list[str] | None = None,
        flags: bytearray | None = None,
    ) -> None:
        """A window of the columns given (taken, not copied, and already in order), or an empty one."""
        self.max_entries = max_entries
        self.times: list[float] = [] if times is None else times
        self.ids: list[str] = [] if ids is None else ids
        self.flags = bytearray() if flags is None else flags

    def add(self, ts: float, event_id: str, flag: int) -> None:
        times = self.times
        if not times or ts > times[-1]:  # in order, as nearly every event is: an append
            times.append(ts)
            self.ids.append(event_id)
            self.flags.append(flag)
        else:
            i = bisect.bisect_right(times, ts)
            ids = self.ids
            while i > 0 and times[i - 1] == ts and ids[i - 1] > event_id:
                i -= 1
            times.insert(i, ts)
            ids.insert(i, event_id)
            self.flags.insert(i, flag)
        excess = len(times) - self.max_entries
        if excess > 0:  # bounded state: the oldest entries go first
            self._drop_first(excess)

    def _drop_first(self, n: int) -> None:
        del self.times[:n]
        del self.flags[:n]
        del self.ids[:n]

    def evict_before(self, ts: float) -> None:
        times = self.times
        if times and times[0] < ts:
            self._drop_first(bisect.bisect_left(times, ts))

    def count_after(self, start_exclusive: float) -> int:
        """How many entries are later than ``start_exclusive``."""
        times = self.times
        return len(times) - bisect.bisect_right(times, start_exclusive)

    def flagged_between(self, start_exclusive: float, end_inclusive: float, flag: int) -> int:
        """How many entries in the span carry ``flag``."""
        times = self.times
        i = bisect.bisect_right(times, start_exclusive)
        return self.flags.count(flag, i, bisect.bisect_right(times, end_inclusive))

    def ids_between(self, start_exclusive: float, end_inclusive: float) -> list[str]:
        times = self.times
        i = bisect.bisect_right(times, start_exclusive)
        return self.ids[i : bisect.bisect_right(times, end_inclusive)]

    def latest(self, default: float) -> float:
        """The newest event time held, or ``default`` (as ``EventWindow.latest``)."""
        times = self.times
        return max(times[-1], default) if times else default

    def __len__(self) -> int:
        return len(self.times)

    def to_json(self) -> list[list[Any]]:
        return [[t, e, f] for t, e, f in zip(self.times, self.ids, self.flags, strict=True)]

    def columns(self) -> tuple[bytes, bytes, bytes]:
        """The three columns as bytes (copies): the times as little-endian doubles, the id text, the
        flags."""
        return doubles_column(self.times), id_text.join(self.ids).encode(), bytes(self.flags)

    @classmethod
    def from_columns(
        cls, max_entries: int, times: memoryview, ids: memoryview, flags: memoryview
    ) -> FlagWindow:
        """The window whose ``columns`` these are; ``ValueError`` if they differ in length."""
        held: list[float] = from_column("d", times).tolist()
        text = str(ids, "utf-8")
        if not id_text.check(text) == len(held) == len(flags):
            raise ValueError("a window's columns differ in length")
        return FlagWindow(max_entries, held, id_text.split(text), bytearray(flags))

    @classmethod
    def from_entries(cls, entries: list[tuple[float, str, int]], max_entries: int) -> FlagWindow:
        """A window of ``entries`` (their JSON form), in order: sorted as ``EventWindow`` sorts them if
        they are not."""
        for i in range(1, len(entries)):
            if (entries[i][0], entries[i][1]) < (entries[i - 1][0], entries[i - 1][1]):
                entries = sorted(entries, key=lambda e: (e[0], e[1]))
                break
        return cls(
            max_entries,
            [e[0] for e in entries],
            [e[1] for e in entries],
            bytearray([e[2] for e in entries]),
        )
