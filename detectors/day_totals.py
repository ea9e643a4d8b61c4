"""Running money totals by reporting day, as ``large_value`` and ``tier_limit`` hold them per customer.

Each row is one key (a day number shifted left by three bits, plus a slot of the detector's own, such as
the report kind and direction), its total, the ids of its first events (the evidence of an alert) and its
event count with a flag. Held as four columns in one object rather than as a dict of ``"kind|direction|
date"`` strings to lists of strings: a customer the worker takes out of the changelog builds four lists
instead of a few dozen strings and lists, and holds a third of the bytes (the decoded cache that fits the
memory target is larger, so fewer events pay for a decode). The keys and counts are lists of integers
(arrays of them, a few bytes smaller, cost the event path a boxed read and write for each use), the ids
one ``detectors.id_text`` string per row. Totals stay ``Decimal``: they are regulatory figures, exact
to the digit the events gave (``large_value`` is checked against a brute-force oracle), and the alerts
print them as the events wrote them.

JSON (``to_json``): ``[keys, totals as strings, id texts, marks]``, a list where formats 1 to 8 wrote a
dict, so that the detectors tell the shapes apart and read both.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from detectors import money
from detectors.id_text import EMPTY, SEP, escape, join, split

ZERO = Decimal(0)
#: ``date(1970, 1, 1).toordinal()``: day numbers count from the Unix epoch
_EPOCH_ORDINAL = 719163
#: the first byte of ``to_bytes``: its layout, so that a later one can still read these
LAYOUT = 1
_BIG_ENDIAN = sys.byteorder == "big"


def day_number(day: str) -> int:
    """Days since 1970-01-01 of an ISO date (``"2025-03-25"``)."""
    return date.fromisoformat(day).toordinal() - _EPOCH_ORDINAL


def evidence(ids: str, event_id: str) -> tuple[str, ...]:
    """The ids of a row with ``event_id`` last: the event completing the pattern closes the list."""
    return (*(e for e in split(ids) if e != event_id), event_id)


class DayTotals:
    """Rows of (key, total, id text, mark); a mark is the row's event count times two, plus one once its
    owner has flagged it (``large_value``: reported). A total read from a record stays the string it was
    written as until an event adds to it (``total``): most rows of a customer taken out of the changelog
    are days that get no more events before it is written back, unchanged."""

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
        total = money.add(held if isinstance(held, Decimal) else Decimal(held), amount)
        self.totals[row] = total
        mark = self.marks[row]
        if mark >> 1 < max_ids:
            ids = self.ids
            ids[row] = f"{ids[row]}{escape(event_id)}{SEP}"
        self.marks[row] = mark + 2
        return total

    def total(self, row: int) -> Decimal:
        held = self.totals[row]
        if isinstance(held, str):
            held = self.totals[row] = Decimal(held)
        return held

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

    def to_json(self) -> list[Any]:
        return [list(self.keys), self.total_texts(), list(self.ids), list(self.marks)]

    def view(self) -> list[Any]:
        """``to_json`` sharing the id list (see ``Detector.state_view``)."""
        return [self.keys, self.total_texts(), self.ids, self.marks]

    def to_bytes(self) -> bytes:
        """The layout byte, the row count (32-bit), the keys and marks (64-bit), the length in characters
        of each row's total and id text (32-bit, two per row), then those texts in UTF-8, one after
        another: numbers taken as they are held, and one string decoded for all the texts."""
        texts = self.total_texts()
        lengths = array("I")
        for total, ids in zip(texts, self.ids, strict=True):
            lengths.append(len(total))
            lengths.append(len(ids))
        columns = [array("q", self.keys), array("q", self.marks), lengths]
        if _BIG_ENDIAN:
            for c in columns:
                c.byteswap()
        head = bytes((LAYOUT,)) + len(self.keys).to_bytes(4, "little")
        body = "".join(t + i for t, i in zip(texts, self.ids, strict=True))
        return head + b"".join(c.tobytes() for c in columns) + body.encode()

    @classmethod
    def from_bytes(cls, data: memoryview) -> DayTotals:
        """Inverse of ``to_bytes``; raises ``ValueError`` for bytes of another layout or length."""
        if len(data) < 5 or data[0] != LAYOUT:
            raise ValueError("day totals: not bytes of layout 1")
        n = int.from_bytes(data[1:5], "little")
        at = 5 + 16 * n + 8 * n
        if len(data) < at:
            raise ValueError("day totals: fewer bytes than their rows")
        keys, marks, lengths = array("q"), array("q"), array("I")
        keys.frombytes(data[5 : 5 + 8 * n])
        marks.frombytes(data[5 + 8 * n : 5 + 16 * n])
        lengths.frombytes(data[5 + 16 * n : at])
        if _BIG_ENDIAN:
            for c in (keys, marks, lengths):
                c.byteswap()
        text = str(data[at:], "utf-8")
        totals: list[Decimal | str] = []
        ids: list[str] = []
        i = 0
        for row in range(n):
            end = i + lengths[2 * row]
            totals.append(text[i:end])
            i, end = end, end + lengths[2 * row + 1]
            ids.append(text[i:end])
            i = end
        if i != len(text):
            raise ValueError("day totals: texts of other lengths than their rows say")
        return cls(keys.tolist(), totals, ids, marks.tolist())

    @classmethod
    def from_json(cls, data: list[Any]) -> DayTotals:
        keys, totals, ids, marks = data
        for total in totals:
            if not isinstance(total, str):
                raise ValueError("day totals: a total must be a decimal string")
        return cls([int(k) for k in keys], list(totals), list(ids), [int(m) for m in marks])


def from_dated_json(data: dict[str, list[Any]], key_of: Callable[[str], int]) -> DayTotals:
    """A table from the JSON of formats 1 to 8: a dict from a key naming the day (``key_of`` gives the
    row key) to ``[total, ids]`` (``tier_limit``; the count is the ids') or ``[total, ids, count,
    flag]`` (``large_value``)."""
    table = DayTotals()
    for name, (total, ids, *rest) in data.items():
        count, flagged = (int(rest[0]), bool(rest[1])) if rest else (len(ids), False)
        table.put(key_of(name), Decimal(str(total)), join([str(i) for i in ids]), count, flagged)
    return table
