"""The payees a customer is known to pay: how often, and the most each was paid, least recently paid first.

Held as one string of ids (``detectors.id_text``) and two arrays of numbers rather than a dict of a list
per payee: a customer taken out of its changelog record gets its payees as three objects built straight
from the record's columns, instead of a hundred strings, lists and floats (about a seventh of decoding a
customer), and writing them back is three copies. Finding a payee is one search of the id string, a
few per debit.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from typing import Final

from detectors.cents import amounts_of, cents, cents_of
from detectors.id_text import SEP, escape, split

#: how many of the least recently paid payees eviction looks at for a one-off payee
EVICTION_SCAN: Final = 16


class Payees:
    """Remembered payees, least recently paid first, at most ``max_payees`` (beyond it, the least recently
    paid one-off payee among the oldest ``EVICTION_SCAN`` leaves: a payee paid more than once (rent, a
    loan, family) outlives one-off merchants, so a monthly payee is still known after a month of card
    purchases).

    >>> payees = Payees(2)
    >>> payees.remember("rent", 900.0)
    -1.0
    >>> payees.remember("rent", 950.0)
    -1.0
    >>> payees.remember("shop", 20.0)
    -1.0
    >>> payees.remember("cafe", 4.5)  # over the bound: the one-off "shop" leaves, not "rent"
    20.0
    >>> payees.get("rent"), "shop" in payees, len(payees)
    ((2.0, 950.0), False, 2)
    """

    __slots__ = (
        "_cents",
        "_largest",
        "_memo_at",
        "_memo_char",
        "_memo_payee",
        "counts",
        "max_payees",
        "text",
    )

    def __init__(
        self,
        max_payees: int,
        text: str = SEP,
        counts: array[float] | None = None,
        largest: array[float] | None = None,
        largest_cents: array[int] | None = None,
    ) -> None:
        """``largest`` as doubles, or ``largest_cents`` in whole cents (taken first when given, as a state
        record holds them when every amount is one)."""
        self.max_payees = max_payees
        # "\0id\0id\0": least recently paid first (see ``detectors.id_text``)
        self.text = text
        # per payee, in the order of ``text``: payments so far
        self.counts: array[float] = array("d") if counts is None else counts
        # the largest amount paid to each, held one of two ways: in whole cents while every one is a whole
        # number of cents (the usual case: what the state record writes, so writing it is a copy and
        # reading it takes the column as it is, ``detectors.cents``), else as doubles; the other is None
        self._cents: array[int] | None = None
        self._largest: array[float] | None = None
        if largest_cents is not None:
            self._cents = largest_cents
        elif largest is not None:
            self._largest = largest
        else:
            self._cents = array("q")
        # the payee last looked up, its position and where its id starts in ``text`` (-1 when not there): a
        # debit asks several detectors about the same payee, then ``remember``s it
        self._memo_payee: str | None = None
        self._memo_at = -1
        self._memo_char = -1

    @classmethod
    def from_rows(cls, max_payees: int, rows: Iterable[tuple[str, float, float]]) -> Payees:
        """From (id, payments, largest) rows, least recently paid first (a repeated id keeps its first
        place and its last figures, as a dict built from them would)."""
        by_id: dict[str, tuple[float, float]] = {}
        for payee, n, most in rows:
            by_id[payee] = (n, most)
        return cls(
            max_payees,
            SEP + "".join(escape(k) + SEP for k in by_id),
            array("d", [v[0] for v in by_id.values()]),
            array("d", [v[1] for v in by_id.values()]),
        )

    def _find(self, payee: str) -> int:
        """The position of ``payee``, or -1."""
        if payee == self._memo_payee:
            return self._memo_at
        text = self.text
        at = text.find(SEP + escape(payee) + SEP)
        found = -1 if at < 0 else text.count(SEP, 0, at)
        self._memo_payee, self._memo_at, self._memo_char = payee, found, at
        return found

    def __contains__(self, payee: str) -> bool:
        return self._find(payee) >= 0

    def get(self, payee: str) -> tuple[float, float] | None:
        """(payments so far, the largest amount paid), or None for a payee never paid (or forgotten)."""
        i = self._find(payee)
        if i < 0:
            return None
        held = self._cents
        return self.counts[i], held[i] / 100 if held is not None else self._doubles()[i]

    def _doubles(self) -> array[float]:
        """``_largest`` where it is the one held."""
        doubles = self._largest
        if doubles is None:
            raise AssertionError("the payees' largest amounts are held in cents")
        return doubles

    @property
    def largest(self) -> array[float]:
        """The largest amount paid to each payee, in the order of ``text`` (a copy when held in cents)."""
        held = self._cents
        return amounts_of(held) if held is not None else self._doubles()

    def __len__(self) -> int:
        return len(self.counts)

    def __iter__(self) -> Iterator[str]:
        return iter(split(self.text))

    def values(self) -> list[tuple[float, float]]:
        return list(zip(self.counts, self.largest, strict=True))

    def items(self) -> list[tuple[str, tuple[float, float]]]:
        return list(zip(split(self.text), self.values(), strict=True))

    def most_paid(self) -> float:
        """The largest amount paid to any remembered payee (0 with none)."""
        held = self._cents
        if held is not None:
            # ``c / 100`` is monotonic in ``c``: the largest in cents is the largest amount
            return max(held, default=0) / 100
        return max(self._doubles(), default=0.0)

    def remember(self, payee: str, amount: float) -> float:
        """One more payment to ``payee``, now the most recently paid. Returns the largest amount paid to
        the payee this pushed out (the most of them, were there several), or -1 when none left."""
        text = self.text
        key = escape(payee) + SEP
        if payee == self._memo_payee:  # the detectors have just looked it up: no second search
            at, i = self._memo_char, self._memo_at
        else:
            at = text.find(SEP + key)
            i = -1 if at < 0 else text.count(SEP, 0, at)
        self._memo_payee = None
        if at < 0:
            n, most = 1.0, amount
        else:
            text = text[:at] + text[at + len(key) :]
            n = self.counts.pop(i) + 1
            most = max(self._pop_largest(i), amount)
        self.text = text + key
        self.counts.append(n)
        held = self._cents
        if held is not None:
            c = cents(most)
            if c is not None:
                held.append(c)
            else:  # an amount that is not whole cents: doubles from now on
                doubles = self._largest = amounts_of(held)
                self._cents = None
                doubles.append(most)
        else:
            self._doubles().append(most)
        evicted = -1.0
        while len(self.counts) > self.max_payees:
            evicted = max(evicted, self._evict())
        return evicted

    def _evict(self) -> float:
        counts = self.counts
        victim = 0
        for k in range(min(EVICTION_SCAN, len(counts))):
            if counts[k] < 2:
                victim = k
                break
        text = self.text
        start = 0
        for _ in range(victim):
            start = text.index(SEP, start + 1)
        end = text.index(SEP, start + 1)
        self.text = text[:start] + text[end:]
        del counts[victim]
        return self._pop_largest(victim)

    def _pop_largest(self, i: int) -> float:
        held = self._cents
        if held is not None:
            return held.pop(i) / 100
        return self._doubles().pop(i)

    def in_cents(self) -> array[int] | None:
        """``largest`` in whole cents (the array held, not a copy), or None when one is not."""
        held = self._cents
        if held is None:
            held = cents_of(self._doubles())
            if held is not None:  # every amount not in whole cents has left: back to cents
                self._cents, self._largest = held, None
        return held

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Payees):
            return NotImplemented
        return (
            self.max_payees == other.max_payees
            and self.text == other.text
            and self.counts == other.counts
            and self.largest == other.largest
        )

    def __repr__(self) -> str:
        return f"Payees({self.max_payees}, {self.items()!r})"
