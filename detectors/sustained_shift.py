"""``sustained_shift``: over days, several debits moderately but persistently above the customer's baseline."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from config.detection import SustainedShiftSettings
from detectors.base import NO_FINDINGS, Detector, per_tier
from detectors.context import CustomerContext
from detectors.findings import Finding, severity_by_ratio
from detectors.observation import Observation, TxObservation
from detectors.window import EventWindow

DAY = 86400


@dataclass(slots=True)
class ShiftState:
    elevated: EventWindow  # (ts, event_id, [amount, payee]) of elevated debits in the window
    days: dict[int, int] = field(default_factory=dict)  # UTC day -> debits, for days inside the window


@dataclass(frozen=True, slots=True)
class _TierBars:
    """The settings of one risk tier, resolved once."""

    min_ratio_to_median: float
    log_min_ratio: float
    min_robust_z: float
    false_alert_budget_per_check: float


class SustainedShift(Detector[ShiftState]):
    """A compromised card or account drained in steps: no single debit is extreme, but more of them sit well
    above the customer's median than their own history makes likely.

    Elevated debits (a multiple of the median and of the customer's robust spread) are counted over the
    window, at most ``max_elevated_per_day`` a day, and tested against a binomial with the customer's own
    rate of debits that high in their baseline (shrunk towards a prior), within a stated false-alert budget
    (see ``SustainedShiftSettings``).

    >>> from decimal import Decimal
    >>> from config.detection import SustainedShiftSettings
    >>> from detectors.context import CustomerContext, DebitBaseline
    >>> from detectors.observation import TxObservation
    >>> ctx = CustomerContext("c", "medium", 100, DebitBaseline(60))
    >>> for i in range(30):
    ...     ctx.debit_baseline.add(40.0 + i % 7, f"d{i}")
    >>> shift, state = SustainedShift(SustainedShiftSettings()), None
    >>> state = shift.new_state()
    >>> def debit(i, amount):
    ...     obs = TxObservation(f"t{i}", i * 43200.0, "", Decimal(amount), float(amount), True, "card", None, False)
    ...     return shift.update(state, obs, ctx)
    >>> [f.evidence["elevated_debits"] for i in range(24) for f in debit(i, 200 if i % 3 == 0 else 42)]
    [5]
    """

    name = "sustained_shift"
    kinds = frozenset({"transaction"})

    def __init__(self, settings: SustainedShiftSettings) -> None:
        self.s = settings
        self.cooldown_seconds = settings.cooldown_seconds
        # (individual, corporate) noise floors as floats: compared on every debit
        self._min_amount = (
            float(settings.min_amount_base.individual),
            float(settings.min_amount_base.corporate),
        )
        self._window_days = max(1, settings.window_seconds // DAY)
        self._tiers = per_tier(
            lambda tier: _TierBars(
                settings.min_ratio_to_median.for_tier(tier),
                math.log(settings.min_ratio_to_median.for_tier(tier)),
                settings.min_robust_z.for_tier(tier),
                settings.false_alert_budget_per_check.for_tier(tier),
            )
        )

    def new_state(self) -> ShiftState:
        return ShiftState(EventWindow(self.s.max_elevated_events))

    def update(self, state: ShiftState, obs: Observation, ctx: CustomerContext) -> list[Finding]:
        if not isinstance(obs, TxObservation) or not obs.debit:
            return NO_FINDINGS
        s, baseline = self.s, ctx.debit_baseline
        bars = self._tiers[ctx.tier]
        days = state.days
        day = int(obs.ts // DAY)
        # Day keys are inserted in time order (a late event on a day not yet seen is the odd exception): the
        # last is the newest, the first the oldest, and days leave the window whole.
        newest = max(day, next(reversed(days))) if days else day
        first_day = newest - self._window_days + 1
        if days and next(iter(days)) < first_day:
            self._settle(state, first_day)
        if day < first_day:
            return NO_FINDINGS  # too late to belong to the window
        if len(baseline) < s.min_history_events:
            return NO_FINDINGS  # counted neither way: its rate of elevated debits would be understated
        state.days[day] = state.days.get(day, 0) + 1
        if obs.amount_f < self._min_amount[ctx.segment == "corporate"]:
            return NO_FINDINGS
        log_median = baseline.log_median()
        log_amount = math.log(obs.amount_f)
        log_min_ratio = bars.log_min_ratio
        if log_amount - log_median < log_min_ratio:
            return NO_FINDINGS  # the cheap test first: most debits are nowhere near
        sigma = max(1.4826 * baseline.log_median_and_mad()[1], s.min_log_mad)
        log_bar = log_median + max(log_min_ratio, bars.min_robust_z * sigma)
        if (
            log_amount < log_bar
            or ctx.is_repeat_payment(obs.counterparty_id, obs.amount_f, s.repeat_tolerance_ratio)
            or self._habitual(state, obs.counterparty_id, ctx)
        ):
            return NO_FINDINGS  # not elevated, rent to a payee already paid this much, or a habitual payee
        state.elevated.add(obs.ts, obs.event_id, [str(obs.amount), obs.counterparty_id])
        entries = list(state.elevated)
        # The customer's own rate of debits this far up, from their baseline without the window's elevated
        # debits (a drained card would otherwise raise its own bar), shrunk towards the prior.
        ids = {eid for _, eid, _ in entries}
        own = sum(1 for e in baseline.event_ids if e in ids)
        above = max(0.0, baseline.share_at_or_above(log_bar) * len(baseline) - own)
        w = s.prior_weight_debits
        rate = (above + s.prior_elevated_rate * w) / (len(baseline) - own + w)
        best = self._scan(state, entries, rate)
        if best is None:
            return NO_FINDINGS
        tail, k, n, entries = best
        budget = bars.false_alert_budget_per_check
        if tail > budget:
            return NO_FINDINGS
        state.elevated = EventWindow(s.max_elevated_events)  # reported: they never count as ordinary history
        surprise = math.log(max(tail, 1e-300)) / math.log(budget)
        return [
            Finding(
                detector=self.name,
                severity=severity_by_ratio(surprise, (2.0, 4.0)),
                score=round(min(1.0, 1.0 - 1.0 / surprise), 6),
                trigger_event_ids=tuple(eid for _, eid, _ in entries),
                reason=(
                    f"{len(entries)} outgoing payments over {(entries[-1][0] - entries[0][0]) / DAY:.1f} days "
                    f"at {bars.min_ratio_to_median:g}x or more of this customer's median of "
                    f"{math.exp(log_median):.2f}, among {n} debits; {n * rate:.1f} expected from their history."
                ),
                evidence={
                    "elevated_debits": k,
                    "window_debits": n,
                    "expected_elevated": round(n * rate, 3),
                    "history_elevated_rate": round(rate, 5),
                    "tail_probability": float(f"{tail:.3g}"),
                    "false_alert_budget_per_check": budget,
                    "baseline_median_base": round(math.exp(log_median), 2),
                    "amounts_base": [_amount(a) for _, _, a in entries],
                    "window_seconds": s.window_seconds,
                },
                dedup_key="shift",
                anomalous_amount=True,
                unlearn_event_ids=tuple(eid for _, eid, _ in entries),
            )
        ]

    def _habitual(self, state: ShiftState, payee: str | None, ctx: CustomerContext) -> bool:
        """Paid ``habit_min_payments`` times before, not counting the window's own elevated debits to it
        (repeated drains to one new payee must not make it a habit of the customer's)."""
        paid = None if payee is None else ctx.counterparties.get(payee)
        if paid is None:
            return False
        drained = sum(1 for _, _, p in state.elevated if not isinstance(p, str) and p[1] == payee)
        return paid[0] - drained >= self.s.habit_min_payments

    def _scan(
        self, state: ShiftState, entries: list[tuple[float, str, Any]], rate: float
    ) -> tuple[float, int, int, list[tuple[float, str, Any]]] | None:
        """The most surprising run of elevated debits that ends now: from each elevated debit on, the
        binomial tail of their count (at most ``max_elevated_per_day`` a day) among all debits since that
        day, times the number of runs tried (a Bonferroni bound, so scanning does not spend the budget)."""
        s = self.s
        best: tuple[float, int, int, list[tuple[float, str, Any]]] | None = None
        for j in range(len(entries)):
            run = entries[j:]
            per_day: dict[int, int] = {}
            for ts, _, _ in run:
                d = int(ts // DAY)
                per_day[d] = min(s.max_elevated_per_day, per_day.get(d, 0) + 1)
            k = sum(per_day.values())
            if k < s.min_elevated_debits or len(per_day) < s.min_elevated_days:
                break  # later starts hold fewer elevated debits still
            first = int(run[0][0] // DAY)
            n = sum(c for d, c in state.days.items() if d >= first)
            tail = min(1.0, binomial_tail(k, n, rate) * len(entries))
            if best is None or tail < best[0]:
                best = (tail, k, n, run)
        return best

    def _settle(self, state: ShiftState, first_day: int) -> None:
        """Days that left the window are forgotten (the baseline keeps the history)."""
        for d in [d for d in state.days if d < first_day]:
            del state.days[d]
        state.elevated.evict_before(first_day * DAY)

    def state_to_json(self, state: ShiftState) -> Any:
        return {
            "elevated": state.elevated.to_json(),
            "days": [[d, c] for d, c in state.days.items()],
        }

    def state_view(self, state: ShiftState) -> Any:
        return {"elevated": state.elevated.view(), "days": list(state.days.items())}

    def state_from_json(self, data: Any) -> ShiftState:
        return ShiftState(
            EventWindow.from_json(data["elevated"], self.s.max_elevated_events),
            {int(d): int(c) for d, c in data["days"]},
        )


def _amount(payload: Any) -> str:
    """An elevated debit's amount; states written before payees were kept hold the amount alone."""
    return payload if isinstance(payload, str) else str(payload[0])


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    below = sum(math.comb(n, i) * p**i * (1.0 - p) ** (n - i) for i in range(k))
    return max(0.0, 1.0 - below)
