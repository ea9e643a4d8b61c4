"""``structuring``: several cash transactions each just below the cash reporting threshold, within a window,
together above it — splitting one reportable amount into unreportable pieces.

Structuring is judged over days to a week, as AML practice does; over a week, a cash business whose daily
takings often come close to the line would look like it. So the count in the window is also held against
the customer's own: their near-threshold cash transactions of the weeks before, per window, times a
multiple. Those earlier ones are kept (bounded) for that, marked once part of a finding: structuring
repeated every week must not become the customer's usual.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from config.detection import StructuringSettings
from detectors import money
from detectors.base import NO_FINDINGS, Detector, per_tier
from detectors.context import CustomerContext
from detectors.findings import Finding, past_threshold_score
from detectors.observation import Observation, TxObservation
from detectors.window import EventWindow


class Structuring(Detector[dict[str, EventWindow]]):
    """Cash deposits (or withdrawals) each just under the reporting threshold, together over it, within a
    week. State: one window per direction (deposits and withdrawals are structured separately).

    >>> from decimal import Decimal
    >>> from config.detection import StructuringSettings
    >>> from detectors.context import CustomerContext, DebitBaseline
    >>> from detectors.observation import TxObservation
    >>> ctx = CustomerContext("c", "medium", 100, DebitBaseline(60))
    >>> structuring = Structuring(StructuringSettings(), Decimal(50000), allowed_lateness_seconds=0)
    >>> def deposits(*amounts):  # cash paid in, a day apart; 50,000 must be reported
    ...     state = structuring.new_state()
    ...     txs = [TxObservation(f"t{i}", i * 86400.0, "", Decimal(a), float(a), False, "cash", None, False) for i, a in enumerate(amounts)]
    ...     return [(f.severity, f.evidence["total_base"]) for tx in txs for f in structuring.update(state, tx, ctx)]
    >>> deposits(48000, 47500, 49000)
    [('high', '144500')]
    >>> deposits(30000, 25000, 20000)  # over the threshold together, but none of them near it
    []
    """

    name = "structuring"
    kinds = frozenset({"transaction"})

    def __init__(
        self, settings: StructuringSettings, cash_threshold_base: Decimal, allowed_lateness_seconds: int
    ) -> None:
        self.s = settings
        self.threshold = cash_threshold_base
        self.floor = cash_threshold_base * Decimal(str(settings.near_threshold_ratio))
        self.lateness = allowed_lateness_seconds
        self.cooldown_seconds = settings.cooldown_seconds
        self._channels = frozenset(settings.cash_channels)
        self._min_transactions = per_tier(settings.min_transactions.for_tier)
        self._usual_multiplier = per_tier(settings.usual_count_multiplier.for_tier)

    def new_state(self) -> dict[str, EventWindow]:
        return {}

    def update(self, state: dict[str, EventWindow], obs: Observation, ctx: CustomerContext) -> list[Finding]:
        if not isinstance(obs, TxObservation) or obs.channel not in self._channels:
            return NO_FINDINGS
        if not self.floor <= obs.amount < self.threshold:
            return NO_FINDINGS
        direction = "debit" if obs.debit else "credit"
        window = state.get(direction)
        if window is None:
            window = state[direction] = EventWindow(self.s.max_window_events)
        s = self.s
        now = window.latest(obs.ts)
        window.add(obs.ts, obs.event_id, [str(obs.amount), 0])  # [amount, 1 once part of a finding]
        window.evict_before(now - s.window_seconds - s.usual_lookback_seconds - self.lateness)
        in_window = window.between(now - s.window_seconds, now)
        if not any(eid == obs.event_id for _, eid, _ in in_window):
            return NO_FINDINGS
        count = len(in_window)
        total = money.total(Decimal(p[0]) for _, _, p in in_window)
        min_count = self._min_transactions[ctx.tier]
        if count < min_count or total < self.threshold:
            return NO_FINDINGS
        # the customer's own usual: near-threshold cash in the weeks before the window, per window
        start = now - s.window_seconds
        seen_since = start - s.usual_lookback_seconds if ctx.first_tx_ts is None else ctx.first_tx_ts
        lookback = min(float(s.usual_lookback_seconds), start - seen_since)
        usual = 0.0
        if lookback >= s.window_seconds:
            before = window.between(start - lookback, start)
            usual = sum(1 for _, _, p in before if not p[1]) / lookback * s.window_seconds
        required = max(float(min_count), self._usual_multiplier[ctx.tier] * usual)
        if count < required:
            return NO_FINDINGS
        for _, _, p in in_window:
            p[1] = 1
        ids = [eid for _, eid, _ in in_window if eid != obs.event_id] + [obs.event_id]
        return [
            Finding(
                detector=self.name,
                severity="critical" if total >= 3 * self.threshold else "high",
                score=past_threshold_score(float(total), float(self.threshold)),
                trigger_event_ids=tuple(ids),
                reason=(
                    f"{count} cash {'withdrawals' if obs.debit else 'deposits'} each between "
                    f"{self.floor:.0f} and {self.threshold:.0f} within {s.window_seconds / 86400:g} days, "
                    f"together {total:.2f}: just under the large-value cash reporting threshold each time "
                    f"(usually {usual:.1f} such transactions in {s.window_seconds / 86400:g} days)."
                ),
                evidence={
                    "transaction_count": count,
                    "total_base": str(total),
                    "cash_threshold_base": str(self.threshold),
                    "near_threshold_floor_base": str(self.floor),
                    "window_seconds": s.window_seconds,
                    "min_transactions": min_count,
                    "usual_per_window": round(usual, 3),
                    "required_count": round(required, 3),
                    "direction": direction,
                },
                dedup_key=f"structuring:{direction}",
            )
        ]

    def state_to_json(self, state: dict[str, EventWindow]) -> Any:
        return {direction: window.to_json() for direction, window in state.items()}

    def state_view(self, state: dict[str, EventWindow]) -> Any:
        return {direction: window.view() for direction, window in state.items()}

    def state_from_json(self, data: Any) -> dict[str, EventWindow]:
        # state written before findings were marked holds the bare amount
        return {
            d: EventWindow.from_json(
                [[t, e, [p, 0] if isinstance(p, str) else list(p)] for t, e, p in w], self.s.max_window_events
            )
            for d, w in data.items()
        }
