"""What every detector may read about a customer: tier, profile facts, the debit baseline, known payees.

The engine updates the context *after* the detectors have seen an event, so a detector always compares
the event against the history before it.
"""

from __future__ import annotations

import bisect
import math
from array import array
from dataclasses import dataclass, field
from typing import Any

from detectors.cents import amounts_of, cents, cents_of
from detectors.id_text import SEP, escape, split
from detectors.id_text import check as check_ids
from detectors.id_text import join as join_ids
from detectors.payees import Payees


@dataclass(slots=True)
class DebitBaseline:
    """The last N debit amounts (base currency); robust statistics on the log scale.

    The amounts are also kept sorted as they come and go, so the median (asked on nearly every debit)
    costs a logarithm or two and the MAD (asked only of a debit already far above the median) is computed
    on demand. Sorted amounts, not their logarithms: the logarithm is monotonic, so the order is the same,
    and a customer taken from its state record sorts its amounts without taking fifty logarithms first.
    Amounts are arrays of doubles (8 bytes a value, where a float object and its pointer take 32). While
    every amount is a whole number of cents, the cents are what is held (what the state record writes, so
    writing it is a copy: ``detectors.cents``), and the amounts in event order as doubles only once
    something asks for them: the sorted copy answers every statistic, and the amount leaving the window is
    its cents over 100, the same float.
    """

    max_events: int
    # the amounts in event order as doubles, or None while ``_cents`` holds them (see ``amounts``)
    _amounts: array[float] | None = None
    # the event ids of the amounts, in the same order, as one text (``detectors.id_text``): only ``forget``
    # and the state record read them
    ids_text: str = SEP
    _sorted: array[float] = field(default_factory=lambda: array("d"))
    _log_median: float | None = None
    _mad: float | None = None
    # the amounts in whole cents, or None when one is not (or not yet known): see ``in_cents``
    _cents: array[int] | None = None

    def __init__(self, max_events: int) -> None:
        # written out: compiled, where the one ``dataclasses`` generates is interpreted (see
        # ``detectors.observation``); one per customer decoded
        self.max_events = max_events
        self._amounts = None
        self.ids_text = SEP
        self._sorted = array("d")
        self._log_median = None
        self._mad = None
        self._cents = array("q")

    @property
    def amounts(self) -> array[float]:
        """The amounts in event order. While the cents hold them, built on the first ask and then kept in
        step by ``add``: only ``forget``, a non-cent amount and the JSON forms (old formats, views) ask, so
        most decoded customers never hold them twice."""
        held = self._amounts
        if held is None:
            in_cents = self._cents
            held = self._amounts = array("d") if in_cents is None else amounts_of(in_cents)
        return held

    def add(self, amount: float, event_id: str) -> None:
        if amount <= 0:
            return
        held = self._cents
        if held is not None:
            c = cents(amount)
            if c is None:
                self._amounts = self.amounts  # the doubles, before the cents that hold them go
                self._cents = None
            else:
                held.append(c)
        doubles = self._amounts
        if doubles is not None:
            doubles.append(amount)
        self.ids_text = f"{self.ids_text}{escape(event_id)}{SEP}"  # one copy, no piece built first
        ordered = self._sorted
        # not ``bisect.insort``: on anything but a list it calls ``insert`` through a format string
        ordered.insert(bisect.bisect_right(ordered, amount), amount)
        if len(ordered) > self.max_events:
            old = 0.0
            held = self._cents
            if held is not None:
                old = held.pop(0) / 100
            if doubles is not None:
                old = doubles.pop(0)
            self.ids_text = self.ids_text[self.ids_text.index(SEP, 1) :]
            del ordered[bisect.bisect_left(ordered, old)]
        self._log_median = None
        self._mad = None

    def restore(self, event_ids: list[str], amounts: list[float]) -> None:
        """Refill an empty baseline in one go (a decoded state): as ``add`` of each pair in order."""
        if len(event_ids) == len(amounts) <= self.max_events and min(amounts, default=1.0) > 0:
            self._fill(join_ids(event_ids), array("d", amounts), None)
            return
        kept = [(e, a) for e, a in zip(event_ids, amounts, strict=True) if a > 0][-self.max_events :]
        self._fill(join_ids([e for e, _ in kept]), array("d", [a for _, a in kept]), None)

    def restore_text(
        self, ids_text: str, amounts: array[float] | None, amount_cents: array[int] | None
    ) -> None:
        """``restore`` from a state record's columns: the ids as a text, and the amounts as doubles or
        their whole cents or both (one of them not None); raises ``ValueError`` for a text that is not one."""
        if amounts is None:
            values = amounts_of(amount_cents).tolist() if amount_cents is not None else []
        else:
            values = amounts.tolist()
        ordered = array("d", sorted(values))
        if check_ids(ids_text) == len(values) <= self.max_events and (not ordered or ordered[0] > 0):
            self._fill(ids_text, amounts, amount_cents, ordered)
            return
        self.restore(split(ids_text), values)

    def _fill(
        self,
        ids_text: str,
        amounts: array[float] | None,
        amount_cents: array[int] | None,
        ordered: array[float] | None = None,
    ) -> None:
        """``amounts`` or ``amount_cents`` (or both) not None."""
        self.ids_text = ids_text
        self._amounts = amounts
        self._cents = amount_cents  # before ``amounts`` is asked: it builds the doubles from these
        if ordered is None:
            ordered = array("d", sorted(self.amounts))
        self._sorted = ordered
        self._log_median = None
        self._mad = None

    def in_cents(self) -> array[int] | None:
        """The amounts in whole cents (the array held, not a copy), or None when one is not."""
        held = self._cents
        if held is None:
            held = self._cents = cents_of(self.amounts)
        return held

    def _amount_at(self, i: int) -> float:
        doubles = self._amounts
        if doubles is not None:
            return doubles[i]
        held = self._cents
        return held[i] / 100 if held is not None else 0.0

    @property
    def event_ids(self) -> list[str]:
        """The event ids of ``amounts``, in the same order."""
        return split(self.ids_text)

    def forget(self, event_ids: set[str]) -> None:
        """Take amounts back out once they turn out to belong to an anomaly (e.g. a card-testing burst)."""
        ids = self.event_ids
        if not event_ids.intersection(ids):
            return
        kept = [(e, a) for e, a in zip(ids, self.amounts, strict=True) if e not in event_ids]
        self._fill(join_ids([e for e, _ in kept]), array("d", [a for _, a in kept]), None)

    def __len__(self) -> int:
        return len(self._sorted)

    def sorted_without(self, event_ids: set[str]) -> list[float]:
        """The amounts in ascending order, less those of ``event_ids`` (each time one is held): the sorted
        copy kept, with no list of the ids built, as a few ids to leave out are searched in their text."""
        ordered = self._sorted.tolist()
        text = self.ids_text
        for event_id in event_ids:
            key = SEP + escape(event_id) + SEP
            at = text.find(key)
            while at >= 0:
                ordered.remove(self._amount_at(text.count(SEP, 0, at)))
                at = text.find(key, at + len(key) - 1)
        return ordered

    def log_median(self) -> float:
        """The median of the log amounts (of the two middle ones' logs, for an even number)."""
        med = self._log_median
        if med is None:
            ordered = self._sorted
            n = len(ordered)
            mid = n // 2
            if n == 0:
                med = 0.0
            elif n % 2:
                med = math.log(ordered[mid])
            else:
                med = (math.log(ordered[mid - 1]) + math.log(ordered[mid])) / 2.0
            self._log_median = med
        return med

    def log_median_and_mad(self) -> tuple[float, float]:
        """Median and median absolute deviation of log amounts: one outlier moves neither."""
        med = self.log_median()
        if self._mad is None:
            self._mad = median_of_sorted(sorted([abs(math.log(a) - med) for a in self._sorted]))
        return med, self._mad

    def median(self) -> float:
        """The median debit itself (for an even number, the geometric mean of the two middle ones: the
        exponential of ``log_median``), not ``exp(log_median())``: a round trip through the logarithm can
        land an ulp low, and a payment of exactly the bar's multiple then misses a "≥" bar."""
        ordered = self._sorted
        n = len(ordered)
        if n == 0:
            return 1.0
        mid = n // 2
        return ordered[mid] if n % 2 else math.sqrt(ordered[mid - 1] * ordered[mid])

    def largest(self) -> float:
        """The largest debit of the baseline."""
        ordered = self._sorted
        return ordered[len(ordered) - 1] if ordered else 0.0

    def share_at_or_above(self, log_amount: float) -> float:
        """Fraction of the baseline's debits at or above ``exp(log_amount)``."""
        n = len(self._sorted)
        return (n - bisect.bisect_left(self._sorted, log_amount, key=math.log)) / n if n else 0.0


def median_of_sorted(sorted_values: list[float]) -> float:
    n = len(sorted_values)
    if n == 0:
        return 0.0
    mid = n // 2
    return sorted_values[mid] if n % 2 else (sorted_values[mid - 1] + sorted_values[mid]) / 2.0


@dataclass(slots=True)
class CustomerContext:
    customer_id: str
    tier: str
    max_counterparties: int
    debit_baseline: DebitBaseline
    segment: str = "individual"
    home_country: str = "CN"
    score: float | None = None
    factors: dict[str, float] = field(default_factory=dict)
    has_profile: bool = False
    profile_ts: float | None = None
    # event time of the customer's first transaction seen: how long the history is, in time
    first_tx_ts: float | None = None
    # the payees paid so far: payments and largest amount paid each, least recently paid first. (Format 5
    # also kept the last amount and time: nothing read them.)
    counterparties: Payees = field(default_factory=lambda: Payees(0))  # (``__init__`` sizes it)
    # the largest amount paid to a remembered counterparty, or -1 when it must be found again: asked of
    # most large debits, it was a scan of every remembered payee each time (not part of the state)
    _largest_paid: float = field(default=-1.0, repr=False, compare=False)

    def __init__(  # written out: compiled (see ``DebitBaseline.__init__``)
        self,
        customer_id: str,
        tier: str,
        max_counterparties: int,
        debit_baseline: DebitBaseline,
        segment: str = "individual",
        home_country: str = "CN",
        score: float | None = None,
        factors: dict[str, float] | None = None,
        has_profile: bool = False,
        profile_ts: float | None = None,
        first_tx_ts: float | None = None,
        counterparties: Payees | None = None,
    ) -> None:
        self.customer_id = customer_id
        self.tier = tier
        self.max_counterparties = max_counterparties
        self.debit_baseline = debit_baseline
        self.segment = segment
        self.home_country = home_country
        self.score = score
        self.factors = {} if factors is None else factors
        self.has_profile = has_profile
        self.profile_ts = profile_ts
        self.first_tx_ts = first_tx_ts
        self.counterparties = Payees(max_counterparties) if counterparties is None else counterparties
        self._largest_paid = -1.0

    def knows_counterparty(self, counterparty_id: str | None) -> bool:
        return counterparty_id is not None and counterparty_id in self.counterparties

    def history_days(self, now: float) -> float:
        return 0.0 if self.first_tx_ts is None else max(0.0, now - self.first_tx_ts) / 86400.0

    def largest_payment(self) -> float:
        """The largest debit the customer is known to make: of the baseline, or to a payee still remembered."""
        paid = self._largest_paid
        if paid < 0.0:
            paid = self.counterparties.most_paid()
            self._largest_paid = paid
        return max(self.debit_baseline.largest(), paid)

    def is_repeat_payment(self, counterparty_id: str | None, amount: float, tolerance_ratio: float) -> bool:
        """Within tolerance of the largest amount already paid to this payee: rent, an invoice, not news."""
        entry = None if counterparty_id is None else self.counterparties.get(counterparty_id)
        return entry is not None and amount <= (1.0 + tolerance_ratio) * entry[1]

    def remember_counterparty(self, counterparty_id: str, amount: float) -> None:
        evicted = self.counterparties.remember(counterparty_id, amount)
        if 0.0 <= self._largest_paid < amount:
            self._largest_paid = amount
        if evicted >= 0.0 and evicted >= self._largest_paid:
            self._largest_paid = -1.0

    def to_json(self) -> dict[str, Any]:
        """A snapshot: ``view`` with every shared or tuple part copied into lists of its own."""
        data = self.view()
        data["factors"] = dict(self.factors)
        data["debits"] = [list(d) for d in data["debits"]]
        data["counterparties"] = [list(c) for c in data["counterparties"]]
        return data

    def view(self) -> dict[str, Any]:
        """``to_json`` sharing what it can with the live context (see ``Detector.state_view``)."""
        return {
            "customer_id": self.customer_id,
            "tier": self.tier,
            "segment": self.segment,
            "home_country": self.home_country,
            "score": self.score,
            "factors": self.factors,
            "has_profile": self.has_profile,
            "profile_ts": self.profile_ts,
            "first_tx_ts": self.first_tx_ts,
            "debits": list(zip(self.debit_baseline.event_ids, self.debit_baseline.amounts, strict=True)),
            "counterparties": [(k, *v) for k, v in self.counterparties.items()],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], *, max_debits: int, max_counterparties: int) -> CustomerContext:
        baseline = DebitBaseline(max_debits)
        debits = data["debits"]
        baseline.restore([str(e) for e, _ in debits], [float(a) for _, a in debits])
        return cls(
            customer_id=data["customer_id"],
            tier=data["tier"],
            max_counterparties=max_counterparties,
            debit_baseline=baseline,
            segment=data["segment"],
            home_country=data["home_country"],
            score=data["score"],
            factors=dict(data["factors"]),
            has_profile=data["has_profile"],
            profile_ts=data["profile_ts"],
            first_tx_ts=data["first_tx_ts"],
            # [id, payments, largest]; format 5 had the last amount and time between them
            counterparties=Payees.from_rows(
                max_counterparties, ((r[0], float(r[1]), float(r[-1])) for r in data["counterparties"])
            ),
        )
