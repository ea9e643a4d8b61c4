"""``large_value``: regulatory large-value transaction reports (defaults after PBoC 2016, Order No. 3).

A report is due for a transaction at or above the threshold of its kind, or for a customer's same-day total
of one kind and direction reaching it (the day is the calendar day in the reporting time zone). The first
time a day's total reaches the threshold, one alert covers all of that day's transactions of the kind; after
that, each further transaction at or above the threshold on its own is reported by itself. Nothing here is
deduplicated by cooldown: recall must be exactly 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from config.detection import LargeValueSettings
from detectors import money
from detectors.base import NO_FINDINGS, Detector
from detectors.context import CustomerContext
from detectors.findings import Finding, past_threshold_score
from detectors.observation import Observation, TxObservation

MAX_IDS_PER_DAY = 200
ZERO = Decimal(0)
KIND_WORDS = {
    "cash": "cash",
    "corporate_transfer": "corporate transfer",
    "individual_transfer_domestic": "domestic individual transfer",
    "individual_transfer_cross_border": "cross-border individual transfer",
}


@dataclass(slots=True)
class DayTotal:
    total: Decimal
    event_ids: list[str]
    count: int
    reported: bool
    # the day of its key (the key's last 10 characters), cut out once rather than on each expiry check
    # (not part of the state: the key holds it)
    day: str = field(repr=False, compare=False)

    def __init__(  # written out: compiled (see ``detectors.observation``)
        self, total: Decimal, event_ids: list[str], count: int, reported: bool, day: str
    ) -> None:
        self.total = total
        self.event_ids = event_ids
        self.count = count
        self.reported = reported
        self.day = day


class LargeValue(Detector[dict[str, DayTotal]]):
    """A report due for one large transaction, or for a day's total of one kind reaching the threshold.
    State: ``"kind|direction|day"`` -> that day's running total, for the last few days only.

    >>> from decimal import Decimal
    >>> from config.detection import LargeValueSettings
    >>> from detectors.context import CustomerContext, DebitBaseline
    >>> from detectors.observation import TxObservation
    >>> ctx = CustomerContext("c", "medium", 100, DebitBaseline(60))
    >>> large = LargeValue(LargeValueSettings())
    >>> def cash_deposits(*days_and_amounts):  # the cash threshold is 50,000
    ...     state = large.new_state()
    ...     txs = [TxObservation(f"t{i}", 0.0, d, Decimal(a), float(a), False, "cash", None, False) for i, (d, a) in enumerate(days_and_amounts)]
    ...     return [(f.trigger_event_ids, f.evidence["amount_base"]) for tx in txs for f in large.update(state, tx, ctx)]
    >>> cash_deposits(("2025-01-01", 30000), ("2025-01-01", 25000))
    [(('t0', 't1'), '55000')]
    >>> cash_deposits(("2025-01-01", 30000), ("2025-01-02", 25000))  # the same sums on two days
    []
    """

    name = "large_value"
    kinds = frozenset({"transaction"})

    def __init__(self, settings: LargeValueSettings) -> None:
        self.s = settings
        self.cooldown_seconds = 0
        self._cash = frozenset(settings.cash_channels)
        self._max_days = settings.max_tracked_days
        # (kind, threshold) resolved once: a pydantic settings attribute costs several times a plain one
        self._kinds = (
            ("cash", settings.cash_threshold_base),
            ("corporate_transfer", settings.corporate_transfer_threshold_base),
            ("individual_transfer_cross_border", settings.individual_transfer_cross_border_threshold_base),
            ("individual_transfer_domestic", settings.individual_transfer_domestic_threshold_base),
        )
        self._day_keys: tuple[str, list[str]] | None = None

    def new_state(self) -> dict[str, DayTotal]:
        return {}

    def kind_index(self, obs: TxObservation, ctx: CustomerContext) -> int:
        """The report kind, as its place in ``_kinds``."""
        if obs.channel in self._cash:
            return 0
        if ctx.segment == "corporate":
            return 1
        if obs.cross_border:
            return 2
        return 3

    def update(self, state: dict[str, DayTotal], obs: Observation, ctx: CustomerContext) -> list[Finding]:
        if not isinstance(obs, TxObservation):
            return NO_FINDINGS
        index = self.kind_index(obs, ctx)
        kind, threshold = self._kinds[index]
        direction = "debit" if obs.debit else "credit"
        day_keys = self._day_keys
        if day_keys is None or day_keys[0] != obs.day:
            # the day's eight keys, made once per day of the stream rather than per event; the same key
            # object each time also keeps its hash for the dictionary
            day_keys = (obs.day, [f"{k}|{d}|{obs.day}" for k, _ in self._kinds for d in ("credit", "debit")])
            self._day_keys = day_keys
        key = day_keys[1][2 * index + obs.debit]
        day = state.get(key)
        if day is None:
            day = state[key] = DayTotal(ZERO, [], 0, False, key[-10:])
            self._expire(state, obs.day)
        day.total = money.add(day.total, obs.amount)
        day.count += 1
        if len(day.event_ids) < MAX_IDS_PER_DAY:
            day.event_ids.append(obs.event_id)
        if not day.reported and day.total >= threshold:
            day.reported = True
            ids = [e for e in day.event_ids if e != obs.event_id] + [obs.event_id]
            return [
                self._finding(obs, ctx, kind, direction, threshold, day.total, tuple(ids), day.count, key)
            ]
        if day.reported and obs.amount >= threshold and day.count > 1:
            return [
                self._finding(
                    obs, ctx, kind, direction, threshold, obs.amount, (obs.event_id,), 1, obs.event_id
                )
            ]
        return NO_FINDINGS

    def _finding(
        self,
        obs: TxObservation,
        ctx: CustomerContext,
        kind: str,
        direction: str,
        threshold: Decimal,
        amount: Decimal,
        ids: tuple[str, ...],
        count: int,
        dedup_key: str,
    ) -> Finding:
        single = count == 1
        what = f"{KIND_WORDS[kind]} {direction}"
        if single:
            reason = (
                f"{what[0].upper()}{what[1:]} of {amount:.2f} on {obs.day} is at or above the large-value "
                f"reporting threshold of {threshold:.0f}."
            )
        else:
            reason = (
                f"Same-day total of {what}s on {obs.day}, {amount:.2f} over {count} transactions, is at or "
                f"above the large-value reporting threshold of {threshold:.0f}."
            )
        return Finding(
            detector=self.name,
            severity="high" if amount >= 4 * threshold else "medium",
            score=past_threshold_score(float(amount), float(threshold)),
            trigger_event_ids=ids,
            reason=reason,
            evidence={
                "report_kind": kind,
                "direction": direction,
                "reporting_day": obs.day,
                "amount_base": str(amount),
                "threshold_base": str(threshold),
                "transaction_count": count,
                "aggregate": not single,
                "timezone": self.s.reporting_timezone,
            },
            dedup_key=dedup_key,
        )

    def _expire(self, state: dict[str, DayTotal], current_day: str) -> None:
        limit = self._max_days
        if len(state) <= limit:
            return  # every tracked day has at least one key: nothing can be over the limit
        days: list[str] = []  # keys end in the ISO date; a few days at most
        for total in state.values():
            if total.day not in days:
                days.append(total.day)
        if len(days) <= limit:
            return
        days.sort()
        keep = days[-limit:]
        keep.append(current_day)
        for k in [k for k, total in state.items() if total.day not in keep]:
            del state[k]

    def state_to_json(self, state: dict[str, DayTotal]) -> Any:
        return {k: [str(d.total), list(d.event_ids), d.count, d.reported] for k, d in state.items()}

    def state_from_json(self, data: Any) -> dict[str, DayTotal]:
        return {
            k: DayTotal(Decimal(t), list(ids), int(c), bool(r), k[-10:]) for k, (t, ids, c, r) in data.items()
        }
