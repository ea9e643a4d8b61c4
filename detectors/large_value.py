"""``large_value``: regulatory large-value transaction reports (defaults after PBoC 2016, Order No. 3).

A report is due for a transaction at or above the threshold of its kind, or for a customer's same-day total
of one kind and direction reaching it (the day is the calendar day in the reporting time zone). The first
time a day's total reaches the threshold, one alert covers all of that day's transactions of the kind; after
that, each further transaction at or above the threshold on its own is reported by itself. Nothing here is
deduplicated by cooldown: recall must be exactly 1.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from config.detection import LargeValueSettings
from detectors.base import NO_FINDINGS, Detector
from detectors.context import CustomerContext
from detectors.day_totals import DayTotals, day_number, day_text, evidence, from_dated_json
from detectors.findings import Finding, past_threshold_score
from detectors.observation import Observation, TxObservation

MAX_IDS_PER_DAY: Final = 200
#: the report kinds, in the order of their slots (``2 * kind + debit``)
KINDS = ("cash", "corporate_transfer", "individual_transfer_cross_border", "individual_transfer_domestic")
KIND_WORDS = {
    "cash": "cash",
    "corporate_transfer": "corporate transfer",
    "individual_transfer_domestic": "domestic individual transfer",
    "individual_transfer_cross_border": "cross-border individual transfer",
}
DIRECTIONS = ("credit", "debit")


class LargeValue(Detector[DayTotals]):
    """A report due for one large transaction, or for a day's total of one kind reaching the threshold.
    State: a ``DayTotals`` row per reporting day, kind and direction (slot ``2 * kind + debit``), for the
    last few days only; the flag marks a day total already reported.

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
        thresholds = (
            settings.cash_threshold_base,
            settings.corporate_transfer_threshold_base,
            settings.individual_transfer_cross_border_threshold_base,
            settings.individual_transfer_domestic_threshold_base,
        )
        self._kinds = tuple(zip(KINDS, thresholds, strict=True))
        # the last reporting day seen and its day number shifted for the key, worked out once per day
        self._day = ""
        self._day_key = 0

    def new_state(self) -> DayTotals:
        return DayTotals()

    def kind_index(self, obs: TxObservation, ctx: CustomerContext) -> int:
        """The report kind, as its place in ``KINDS``."""
        if obs.channel in self._cash:
            return 0
        if ctx.segment == "corporate":
            return 1
        if obs.cross_border:
            return 2
        return 3

    def update(self, state: DayTotals, obs: Observation, ctx: CustomerContext) -> list[Finding]:
        if not isinstance(obs, TxObservation):
            return NO_FINDINGS
        index = self.kind_index(obs, ctx)
        kind, threshold = self._kinds[index]
        if obs.day != self._day:
            self._day, self._day_key = obs.day, day_number(obs.day) << 3
        key = self._day_key + 2 * index + obs.debit
        row = state.find(key)
        if row < 0:
            state.add_row(key)
            self._expire(state, key >> 3)
            row = len(state) - 1  # the new row, kept last
        total = state.add(row, obs.amount, obs.event_id, MAX_IDS_PER_DAY)
        mark = state.marks[row]  # the count, times two, plus one once the day total is reported
        count = mark >> 1
        direction = "debit" if obs.debit else "credit"
        if not mark & 1 and total >= threshold:
            state.flag(row)
            ids = evidence(state.ids[row], obs.event_id)
            dedup_key = f"{kind}|{direction}|{obs.day}"
            return [self._finding(obs, ctx, kind, direction, threshold, total, ids, count, dedup_key)]
        if mark & 1 and obs.amount >= threshold and count > 1:
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

    def _expire(self, state: DayTotals, current_day: int) -> None:
        limit = self._max_days
        if len(state) <= limit:
            return  # every tracked day has at least one row: nothing can be over the limit
        days = state.days()
        if len(days) > limit:
            days.sort()
            state.keep_days([*days[-limit:], current_day])

    def state_to_json(self, state: DayTotals) -> Any:
        return state.to_dated_json(_name_of, counted=True)

    def state_bytes(self, state: DayTotals) -> bytes | None:
        return state.to_bytes()

    def state_from_bytes(self, data: memoryview) -> DayTotals:
        return DayTotals.from_bytes(data)

    def state_from_json(self, data: Any) -> DayTotals:
        return from_dated_json(data, _key_of)


def _name_of(key: int) -> str:
    """The JSON's name of a row: ``"kind|direction|date"``."""
    return f"{KINDS[(key & 7) >> 1]}|{DIRECTIONS[key & 1]}|{day_text(key >> 3)}"


def _key_of(name: str) -> int:
    """The row key of a ``"kind|direction|date"`` name."""
    kind, direction, day = name.split("|")
    return (day_number(day) << 3) + 2 * KINDS.index(kind) + DIRECTIONS.index(direction)
