"""``account_takeover``: a change of phone, email or device, then within hours a large outgoing transfer.

"Large" is large for that customer: a multiple of their median debit and beyond the largest debit they are
known to make (a debit their history already has the like of is not news), whatever the sum (an absolute
floor decides alone only before there is a median); the longer after the change, the further beyond it
must be. The sum sets the severity: a new payee and a sum at or above the segment's severity floor is
critical, the classic takeover cash-out. A takeover is done remotely, so a change made in person at a
branch opens no window; and it is cashed out by moving money, so a purchase from a merchant (a car, a
sofa) does not count unless its merchant category moves money on (quasi-cash, money transfer, betting).

Contact changes and transactions arrive on different topics, so the transfer may be consumed before the
change that precedes it in event time. Large transfers are therefore remembered for the window too, and a
late change completes the pattern just as a timely one would, with the same trigger events and alert id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from config.detection import AccountTakeoverSettings
from detectors.base import NO_FINDINGS, Detector, per_tier
from detectors.context import CustomerContext
from detectors.findings import Finding, past_threshold_score
from detectors.observation import ContactObservation, Observation
from detectors.takeover_state import TakeoverState


@dataclass(frozen=True, slots=True)
class _TierBars:
    """The settings of one risk tier, resolved once; money per segment as (individual, corporate)."""

    min_ratio_to_median: float
    cold_start_min_amount: tuple[float, float]
    severity_floor: tuple[float, float]


class AccountTakeover(Detector[TakeoverState]):
    """A remote change of phone, email or device, then within hours a debit large for this customer.

    Contact changes and transfers are matched in event time, whichever is consumed first.

    >>> from decimal import Decimal
    >>> from config.detection import AccountTakeoverSettings
    >>> from detectors.context import CustomerContext, DebitBaseline
    >>> from detectors.observation import ContactObservation, TxObservation
    >>> ctx = CustomerContext("c", "medium", 100, DebitBaseline(60))
    >>> for i in range(20):
    ...     ctx.debit_baseline.add(40.0 + i, f"d{i}")
    >>> ato = AccountTakeover(AccountTakeoverSettings(), allowed_lateness_seconds=0)
    >>> def after_change(change_channel, amount, mcc=None):
    ...     state = ato.new_state()
    ...     ato.update(state, ContactObservation("c1", 0.0, "phone", None, change_channel), ctx)
    ...     tx = TxObservation("t1", 7200.0, "2025-01-01", Decimal(amount), float(amount), True, "online", "new", False, mcc)
    ...     return [f.severity for f in ato.update(state, tx, ctx)]
    >>> after_change("app", 900), after_change("branch", 900), after_change("app", 900, "5511"), after_change("app", 900, "6051")
    (['high'], [], [], ['high'])
    """

    name = "account_takeover"

    def __init__(self, settings: AccountTakeoverSettings, allowed_lateness_seconds: int) -> None:
        self.s = settings
        self.cooldown_seconds = settings.cooldown_seconds
        self._fields = frozenset(settings.trigger_fields)
        self._channels = frozenset(settings.transfer_channels)
        self._in_person = frozenset(settings.in_person_channels)
        self._cash_out_categories = frozenset(settings.cash_out_merchant_categories)
        # read on every debit: plain attributes (a pydantic one costs several times as much to read)
        self._window_seconds = settings.window_seconds
        # what is remembered: the window, and the lateness a change or transfer may still arrive with
        self._keep_seconds = settings.window_seconds + allowed_lateness_seconds
        self._min_history_events = settings.min_history_events
        self._min_amount = (settings.min_amount_base.individual, settings.min_amount_base.corporate)
        segments = ("individual", "corporate")
        self._tiers = per_tier(
            lambda tier: _TierBars(
                settings.min_ratio_to_median.for_tier(tier),
                (
                    float(settings.cold_start_min_amount_base.get(segments[0], tier)),
                    float(settings.cold_start_min_amount_base.get(segments[1], tier)),
                ),
                (
                    float(settings.severity_floor_base.get(segments[0], tier)),
                    float(settings.severity_floor_base.get(segments[1], tier)),
                ),
            )
        )

    def new_state(self) -> TakeoverState:
        return TakeoverState()

    def update(self, state: TakeoverState, obs: Observation, ctx: CustomerContext) -> list[Finding]:
        w = self._window_seconds
        if isinstance(obs, ContactObservation):
            if obs.field not in self._fields or obs.channel in self._in_person:
                return NO_FINDINGS
            state.add_change(obs.ts, obs.event_id, obs.field)
            state.evict(obs.ts, self._keep_seconds)
            for ts, eid, pending in state.transfers_between(obs.ts, obs.ts + w):
                if not pending[5] and self._large_after(pending, ts - obs.ts):
                    pending[5] = True
                    return [self._finding(state, ts, eid, pending, ctx)]
            return NO_FINDINGS
        if not obs.debit or obs.channel not in self._channels:
            return NO_FINDINGS
        if obs.merchant_category is not None and obs.merchant_category not in self._cash_out_categories:
            return NO_FINDINGS  # goods bought from a merchant: not money moved on to a mule
        if obs.amount < self._min_amount[ctx.segment == "corporate"]:
            return NO_FINDINGS  # small change: no baseline needed
        median = None
        if len(ctx.debit_baseline) >= self._min_history_events:
            # Large for this customer, whatever the sum: a multiple of their own median debit.
            median, largest = ctx.debit_baseline.median(), ctx.largest_payment()
            threshold = max(
                self._tiers[ctx.tier].min_ratio_to_median * median, self.s.min_ratio_to_largest * largest
            )
            late_threshold = max(threshold, self.s.late_min_ratio_to_largest * largest)
        else:  # too little history for a median: only an absolutely large sum counts
            threshold = late_threshold = self._tiers[ctx.tier].cold_start_min_amount[
                ctx.segment == "corporate"
            ]
        if obs.amount_f < threshold:
            return NO_FINDINGS
        payee = ctx.counterparties.get(obs.counterparty_id) if obs.counterparty_id is not None else None
        if (
            payee is not None
            and payee[0] >= self.s.known_payee_min_payments
            and obs.amount_f < self.s.known_payee_min_ratio_to_largest * payee[1]
        ):
            return NO_FINDINGS  # an ordinary payment to a payee the customer already pays this much
        new_payee = payee is None
        payload: list[Any] = [
            str(obs.amount),
            obs.channel,
            threshold,
            median,
            new_payee,
            False,
            late_threshold,
        ]
        state.add_transfer(obs.ts, obs.event_id, payload)
        state.evict(obs.ts, self._keep_seconds)
        changes = state.changes_between(obs.ts - w, obs.ts)
        if not changes or not self._large_after(payload, obs.ts - changes[-1][0]):
            return NO_FINDINGS
        payload[5] = True
        return [self._finding(state, obs.ts, obs.event_id, payload, ctx)]

    def _large_after(self, payload: list[Any], seconds_since_change: float) -> bool:
        """Beyond the late bar too when the debit comes later than ``prompt_seconds`` after the change."""
        return seconds_since_change <= self.s.prompt_seconds or float(payload[0]) >= float(payload[6])

    def _finding(
        self, state: TakeoverState, tx_ts: float, tx_id: str, payload: list[Any], ctx: CustomerContext
    ) -> Finding:
        amount, channel, threshold, median, new_payee = payload[:5]
        changes = state.changes_between(tx_ts - self.s.window_seconds, tx_ts)
        fields = sorted({str(f) for _, _, f in changes})
        first_change_ts = changes[0][0]
        large = float(amount) >= self._tiers[ctx.tier].severity_floor[ctx.segment == "corporate"]
        return Finding(
            detector=self.name,
            severity=("critical" if large else "high") if new_payee else ("high" if large else "medium"),
            score=past_threshold_score(float(amount), threshold),
            trigger_event_ids=(*(eid for _, eid, _ in changes), tx_id),
            reason=(
                f"Outgoing {channel} of {float(amount):.2f} to {'a new' if new_payee else 'a known'} payee "
                f"{(tx_ts - first_change_ts) / 3600:.1f} hours after a change of {', '.join(fields)}."
            ),
            evidence={
                "amount_base": amount,
                "threshold_base": round(threshold, 2),
                "baseline_median_base": None if median is None else round(median, 2),
                "fields_changed": fields,
                "seconds_since_change": round(tx_ts - first_change_ts, 3),
                "new_counterparty": new_payee,
                "window_seconds": self.s.window_seconds,
            },
            dedup_key="ato",
            anomalous_amount=True,
            completed_at=tx_ts,
        )

    def state_to_json(self, state: TakeoverState) -> Any:
        return state.to_json()

    def state_view(self, state: TakeoverState) -> Any:
        return state.view()

    def state_from_json(self, data: Any) -> TakeoverState:
        return TakeoverState.from_json(data)
