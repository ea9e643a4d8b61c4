"""``account_takeover``: a change of phone, email or device, then within hours a large outgoing transfer.

"Large" is an absolute floor per tier and, once the customer has a debit history, a multiple of the median
debit. A payee never paid before makes it critical: that is the classic takeover cash-out.
"""

from __future__ import annotations

from typing import Any

from config.detection import AccountTakeoverSettings
from detectors.base import NO_FINDINGS, Detector
from detectors.context import CustomerContext
from detectors.findings import Finding, past_threshold_score
from detectors.observation import ContactObservation, Observation, TxObservation
from detectors.window import EventWindow

MAX_RECENT_CHANGES = 20


class AccountTakeover(Detector[EventWindow]):
    name = "account_takeover"

    def __init__(self, settings: AccountTakeoverSettings, allowed_lateness_seconds: int) -> None:
        self.s = settings
        self.lateness = allowed_lateness_seconds
        self.cooldown_seconds = settings.cooldown_seconds
        self._fields = frozenset(settings.trigger_fields)
        self._channels = frozenset(settings.transfer_channels)

    def new_state(self) -> EventWindow:
        return EventWindow(MAX_RECENT_CHANGES)

    def update(self, state: EventWindow, obs: Observation, ctx: CustomerContext) -> list[Finding]:
        if isinstance(obs, ContactObservation):
            if obs.field in self._fields:
                state.add(obs.ts, obs.event_id, obs.field)
            return NO_FINDINGS
        if not obs.debit or obs.channel not in self._channels or not len(state):
            return NO_FINDINGS
        now = obs.ts if ctx.watermark is None else max(ctx.watermark, obs.ts)
        state.evict_before(now - self.s.window_seconds - self.lateness)
        changes = state.between(obs.ts - self.s.window_seconds, obs.ts)
        if not changes:
            return NO_FINDINGS
        threshold = float(self.s.min_amount_base.for_tier(ctx.tier))
        median = None
        if len(ctx.debit_baseline) >= self.s.min_history_events:
            median = ctx.debit_baseline.median()
            threshold = max(threshold, self.s.min_ratio_to_median.for_tier(ctx.tier) * median)
        if obs.amount_f < threshold:
            return NO_FINDINGS
        new_payee = not ctx.knows_counterparty(obs.counterparty_id)
        first_change_ts = changes[0][0]
        return [
            Finding(
                detector=self.name,
                severity="critical" if new_payee else "high",
                score=past_threshold_score(obs.amount_f, threshold),
                trigger_event_ids=(*(eid for _, eid, _ in changes), obs.event_id),
                reason=(
                    f"Outgoing {obs.channel} of {obs.amount:.2f} to "
                    f"{'a new' if new_payee else 'a known'} payee "
                    f"{(obs.ts - first_change_ts) / 3600:.1f} hours after a change of "
                    f"{', '.join(sorted({str(f) for _, _, f in changes}))}."
                ),
                evidence={
                    "amount_base": str(obs.amount),
                    "threshold_base": round(threshold, 2),
                    "baseline_median_base": None if median is None else round(median, 2),
                    "fields_changed": sorted({str(f) for _, _, f in changes}),
                    "seconds_since_change": round(obs.ts - first_change_ts, 3),
                    "new_counterparty": new_payee,
                    "window_seconds": self.s.window_seconds,
                },
                dedup_key="ato",
                anomalous_amount=True,
            )
        ]

    def state_to_json(self, state: EventWindow) -> Any:
        return state.to_json()

    def state_from_json(self, data: Any) -> EventWindow:
        return EventWindow.from_json(data, MAX_RECENT_CHANGES)
