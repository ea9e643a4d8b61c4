"""Running money totals by reporting day, as ``large_value`` and ``tier_limit`` hold them per customer.

Each row is one key (a day number shifted left by three bits, plus a slot of the detector's own, such as
the report kind and direction), its total, the ids of its first events (the evidence of an alert) and its
event count with a flag. Held as four columns in one object rather than as a dict of ``"kind|direction|
date"`` strings to lists of strings: a customer the worker takes out of the changelog builds four lists
instead of a few dozen strings and lists, and holds about two thirds of the bytes (the decoded cache that fits the
memory target is larger, so fewer events pay for a decode). The keys and counts are lists of integers
(arrays of them, a few bytes smaller, cost the event path a boxed read and write for each use), the ids
one ``detectors.id_text`` string per row. Totals stay ``Decimal``: they are regulatory figures, exact
to the digit the events gave (``large_value`` is checked against a brute-force oracle), and the alerts
print them as the events wrote them.

The changelog holds the rows as ``to_bytes`` packs them (format 9, ``Detector.state_bytes``). Their JSON
keeps the shape formats 1 to 8 wrote (``to_dated_json``, a dict from a key naming the day to its total
and id list), so that format 8, written for a rolling upgrade, is read by the version before, and every
older state reads as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import orjson

from detectors import money
from detectors.id_text import EMPTY, SEP, escape, join, split

ZERO = Decimal(0)
#: ``date(1970, 1, 1).toordinal()``: day numbers count from the Unix epoch
_EPOCH_ORDINAL = 719163
#: the first byte of ``to_bytes``: its layout, so that a later one can still read these
LAYOUT = 1
_LAYOUT_BYTE = bytes((LAYOUT,))


def day_number(day: str) -> int:
    """Days since 1970-01-01 of an ISO date (``"2025-03-25"``)."""
    return date.fromisoformat(day).toordinal() - _EPOCH_ORDINAL


def day_text(number: int) -> str:
    """The ISO date of a day number (``day_number``'s inverse)."""
    return date.fromordinal(number + _EPOCH_ORDINAL).isoformat()


def evidence(ids: str, event_id: str) -> tuple[str, ...]:
    """The ids of a row with ``event_id`` last: the event completing the pattern closes the list."""
    return (*(e for e in split(ids) if e != event_id), event_id)


class DayTotals:
    """Rows of (key, total, id text, mark); a mark is the row's event count times two, plus one once its
    owner has flagged it (``large_value``: reported). A total read from a record (or written to one) stays
    the string it was written as until an event adds to it (``add``): most rows of a customer are days
    that get no more events before it is written again, unchanged."""

    __slots__ = ("ids", "keys", "marks", "totals")

    def __init__(
        self,
        keys: list[int] | None = None,
        totals: list[Decimal | str] | None = None,
        ids: list[str] | None = None,
        marks: list[int] | None = None,
    ) -> None:
        self.keys: list[int] = [] if keys is None else keys
        self.totals: list[Decimal | str] = [] if totals is None else totals
        self.ids: list[str] = [] if ids is None else ids
        self.marks: list[int] = [] if marks is None else marks
        if not len(self.keys) == len(self.totals) == len(self.ids) == len(self.marks):
            raise ValueError("day totals: columns of different lengths")
        for text in self.ids:
            if not text.startswith(SEP) or not text.endswith(SEP):
                raise ValueError("day totals: an id text must start and end with the separator")

    def __len__(self) -> int:
        return len(self.keys)

    def find(self, key: int) -> int:
        """The row of ``key``, or -1; the newest rows, the likeliest, are looked at first."""
        keys = self.keys
        i = len(keys) - 1
        while i >= 0 and keys[i] != key:
            i -= 1
        return i

    def add_row(self, key: int) -> int:
        self.keys.append(key)
        self.totals.append(ZERO)
        self.ids.append(EMPTY)
        self.marks.append(0)
        return len(self.keys) - 1

    def add(self, row: int, amount: Decimal, event_id: str, max_ids: int) -> Decimal:
        """Count one event of ``amount`` in ``row`` (its id kept while fewer than ``max_ids`` are) and
        return the new total."""
        held = self.totals[row]
        total = money.add(Decimal(held) if isinstance(held, str) else held, amount)
        self.totals[row] = total
        mark = self.marks[row]
        if mark >> 1 < max_ids:
            ids = self.ids
            ids[row] = f"{ids[row]}{escape(event_id)}{SEP}"
        self.marks[row] = mark + 2
        return total

    def count(self, row: int) -> int:
        return self.marks[row] >> 1

    def flagged(self, row: int) -> bool:
        return bool(self.marks[row] & 1)

    def flag(self, row: int) -> None:
        self.marks[row] |= 1

    def days(self) -> list[int]:
        """The distinct days held, in the order of their first rows (a few at most: no set, no sort)."""
        days: list[int] = []
        for key in self.keys:
            day = key >> 3
            if day not in days:
                days.append(day)
        return days

    def keep_days(self, keep: list[int]) -> None:
        """Drop every row whose day is not in ``keep`` (the rest keep their order), in place."""
        keys = self.keys
        for i in range(len(keys) - 1, -1, -1):
            if keys[i] >> 3 not in keep:
                del keys[i]
                del self.totals[i]
                del self.ids[i]
                del self.marks[i]

    def put(self, key: int, total: Decimal, ids: str, count: int, flagged: bool) -> None:
        """Append a row as it was held (migrating an older state)."""
        self.keys.append(key)
        self.totals.append(total)
        self.ids.append(ids)
        self.marks.append(2 * count + flagged)

    def total_texts(self) -> list[str]:
        return [t if isinstance(t, str) else str(t) for t in self.totals]

    def to_dated_json(self, name_of: Callable[[int], str], counted: bool) -> dict[str, list[Any]]:
        """The JSON of formats 1 to 8: ``name_of(key)`` -> ``[total, ids]``, or ``[total, ids, count,
        flag]`` if ``counted``."""
        out: dict[str, list[Any]] = {}
        for row, total in enumerate(self.total_texts()):
            value: list[Any] = [total, split(self.ids[row])]
            if counted:
                value += [self.marks[row] >> 1, bool(self.marks[row] & 1)]
            out[name_of(self.keys[row])] = value
        return out

    def to_bytes(self) -> bytes:
        """The layout byte, then the four columns as one compact JSON array (the totals as their strings,
        the id texts as they are held): one call each way, where a ``struct`` of the numbers and one UTF-8
        string of the texts is slower to read and to write on parts of a few rows (each of its steps a call
        of its own), for bytes that compress to about the same. The totals are kept as the texts written,
        as a table read from a record holds them (``add`` reads either): the next encode of the customer
        formats only the rows an event added to since, not every row again."""
        totals = self.totals
        for row, total in enumerate(totals):
            if not isinstance(total, str):
                totals[row] = str(total)
        return _LAYOUT_BYTE + orjson.dumps([self.keys, totals, self.ids, self.marks])

    @classmethod
    def from_bytes(cls, data: memoryview) -> DayTotals:
        """Inverse of ``to_bytes``; raises ``ValueError`` for bytes of another layout or shape."""
        if not data or data[0] != LAYOUT:
            raise ValueError(f"day totals: not bytes of layout {LAYOUT}")
        keys, totals, ids, marks = orjson.loads(data[1:])
        return DayTotals(keys, totals, ids, marks)


def from_dated_json(data: dict[str, list[Any]], key_of: Callable[[str], int]) -> DayTotals:
    """A table from its JSON (``to_dated_json``, the shape of formats 1 to 8 too): a dict from a key naming
    the day (``key_of`` gives the row key) to ``[total, ids]`` (``tier_limit``; the count is the ids') or
    ``[total, ids, count, flag]`` (``large_value``)."""
    table = DayTotals()
    for name, (total, ids, *rest) in data.items():
        count, flagged = (int(rest[0]), bool(rest[1])) if rest else (len(ids), False)
        table.put(key_of(name), Decimal(str(total)), join([str(i) for i in ids]), count, flagged)
    return table
