"""``velocity_spike``: far more transactions in a sliding window than the customer's usual rate.

Two windows: an hour (against the usual rate spread over the customer's active hours) and a day (against
the usual daily count). The usual rate comes from whole days before the current one, so today's burst does
not raise its own bar. Two bars in each window, each a multiple of the customer's own rate and at least a
minimum count: debits to counterparties the customer has never paid, which is what card testing, a
gift-card cash-out and a hijacked session paying out to mule accounts are made of; and any transactions,
at a much higher minimum, for a card run at merchants the customer knows. A payday evening at the
customer's usual shops, however busy, is their own spending. In the cold start every payee is new, so
only the any-transaction count of the hour applies.
"""

from __future__ import annotations

from typing import Any

from config.detection import VelocitySpikeSettings
from detectors.base import NO_FINDINGS, Detector, per_tier
from detectors.context import CustomerContext
from detectors.findings import Finding, past_threshold_score, severity_by_ratio
from detectors.flag_window import FlagWindow
from detectors.observation import Observation, TxObservation
from detectors.velocity_state import (
    DAY_SECONDS,
    VelocityState,
    count_day,
    state_bytes,
    state_from_bytes,
    state_from_json,
    state_to_json,
    usual_per_day,
)


class VelocitySpike(Detector[VelocityState]):
    """A burst of debits to payees the customer has never paid, far above their own rate; as many at
    their usual shop is their own spending.

    >>> from decimal import Decimal
    >>> from config.detection import VelocitySpikeSettings
    >>> from detectors.context import CustomerContext, DebitBaseline
    >>> from detectors.observation import TxObservation
    >>> ctx = CustomerContext("c", "medium", 100, DebitBaseline(60))
    >>> ctx.remember_counterparty("shop", 30.0)
    >>> velocity = VelocitySpike(VelocitySpikeSettings(), allowed_lateness_seconds=0)
    >>> def evening(payees):  # a week of three card payments a day at the shop, then an evening's debits
    ...     state = velocity.new_state()
    ...     for i in range(21):
    ...         tx = TxObservation(f"d{i}", i // 3 * 86400 + 36000.0 + i % 3 * 3600, "", Decimal(30), 30.0, True, "card", "shop", False)
    ...         velocity.update(state, tx, ctx)
    ...     txs = [TxObservation(f"e{i}", 7 * 86400 + 72000.0 + i * 300, "", Decimal(50), 50.0, True, "online", p, False) for i, p in enumerate(payees)]
    ...     return [f.evidence["new_counterparty_count"] for tx in txs for f in velocity.update(state, tx, ctx)]
    >>> evening([f"gift-card-{i}" for i in range(8)]), evening(["shop"] * 8)
    ([8], [])
    """

    name = "velocity_spike"
    kinds = frozenset({"transaction"})

    def __init__(self, settings: VelocitySpikeSettings, allowed_lateness_seconds: int) -> None:
        self.s = settings
        self.lateness = allowed_lateness_seconds
        self.cooldown_seconds = settings.cooldown_seconds
        s = settings
        hour_scale = s.window_seconds / (s.active_hours_per_day * 3600.0)
        day_scale = s.day_window_seconds / DAY_SECONDS
        # per tier, resolved once: (window, any-transaction floor, new-counterparty floor, rate multiple,
        # usual-per-day to usual-per-window) for the hour and the day
        self._tiers: dict[str, tuple[tuple[int, float, float, float, float], ...]] = per_tier(
            lambda t: (
                (s.window_seconds, s.min_window_count.for_tier(t), s.min_new_counterparty_count.for_tier(t),
                 s.rate_multiplier.for_tier(t), hour_scale),
                (s.day_window_seconds, s.min_day_window_count.for_tier(t),
                 s.min_day_new_counterparty_count.for_tier(t), s.day_rate_multiplier.for_tier(t), day_scale),
            )
        )  # fmt: skip
        self._cold = per_tier(s.cold_start_min_window_count.for_tier)
        # the settings read on every event, as plain attributes (a pydantic attribute costs several times
        # as much to read)
        self._hour = s.window_seconds
        self._baseline_days = s.baseline_days
        self._kept_seconds = max(s.window_seconds, s.day_window_seconds) + allowed_lateness_seconds
        self._min_history_days = max(s.min_history_days, 1)
        self._payday_seconds = s.payday_window_seconds
        self._payday_factor = s.payday_floor_factor
        self._payday_ratio = s.payday_credit_min_ratio_to_median

    def new_state(self) -> VelocityState:
        return VelocityState(window=FlagWindow(self.s.max_window_events))

    def update(self, state: VelocityState, obs: Observation, ctx: CustomerContext) -> list[Finding]:
        if not isinstance(obs, TxObservation):
            return NO_FINDINGS
        window, tier, hour_span, baseline_days = state.window, ctx.tier, self._hour, self._baseline_days
        now = window.latest(obs.ts)
        today, day = int(now // DAY_SECONDS), int(obs.ts // DAY_SECONDS)
        first_ts = state.first_ts
        new = obs.debit and obs.counterparty_id is not None and obs.counterparty_id not in ctx.counterparties
        count_day(state, day, new, today, baseline_days)
        state.first_ts = obs.ts if first_ts is None else min(first_ts, obs.ts)
        if not obs.debit and ctx.segment == "individual" and self._large_credit(obs.amount_f, ctx):
            state.payday_ts = obs.ts if state.payday_ts is None else max(state.payday_ts, obs.ts)
        window.add(obs.ts, obs.event_id, 1 if new else 0)
        window.evict_before(now - self._kept_seconds)
        if obs.ts <= now - hour_span:
            return NO_FINDINGS  # a late event outside the current hour: judged when it came is enough
        for span, floor, new_floor, m, scale in self._tiers[tier]:
            count = window.count_after(now - span)  # cheap test first: most are far below both floors
            if count < min(floor, new_floor):
                continue
            hour = span == hour_span
            usual = usual_per_day(
                state, first_ts, today, now, baseline_days, self._min_history_days, day < today, new
            )
            if usual is None:  # no usual rate yet, and every payee is new: only a large count in the hour
                cold = self._cold[tier]
                if hour and count >= cold:
                    return [self._finding(state, obs, tier, count, None, None, cold, span)]
                continue
            n_new = window.flagged_between(now - span, now, 1) if new else 0
            payday = state.payday_ts is not None and 0 <= obs.ts - state.payday_ts <= self._payday_seconds
            factor = self._payday_factor if payday else 1.0
            if n_new >= (bar := factor * max(new_floor, m * usual[1] * scale)):
                found = (n_new, usual[1] * scale, bar)
            elif count >= (bar := max(floor, m * usual[0] * scale)):
                found = (count, usual[0] * scale, bar)
                n_new = -1
            else:
                continue
            if not hour:
                if state.day_alert_ts is not None and abs(obs.ts - state.day_alert_ts) < span:
                    continue
                state.day_alert_ts = obs.ts
            return [self._finding(state, obs, tier, count, None if n_new < 0 else n_new, *found[1:], span)]
        return NO_FINDINGS

    def _finding(
        self,
        state: VelocityState,
        obs: TxObservation,
        tier: str,
        count: int,
        n_new: int | None,
        usual: float | None,
        threshold: float,
        window_seconds: int,
    ) -> Finding:
        now = state.window.latest(obs.ts)
        in_window = tuple(state.window.ids_between(now - window_seconds, now))
        judged = count if n_new is None else n_new
        span = (
            f"{window_seconds // 60} minutes" if window_seconds < 7200 else f"{window_seconds / 3600:g} hours"
        )
        what = f"{count} transactions" if n_new is None else f"{n_new} payments to new counterparties"
        among = "" if n_new is None else f" (among {count} transactions)"
        return Finding(
            detector=self.name,
            severity=severity_by_ratio(judged / threshold, (1.5, 2.5)),
            score=past_threshold_score(judged, threshold),
            trigger_event_ids=in_window,
            reason=(
                f"{what} within {span}{among}, against a usual "
                f"{'(not yet known)' if usual is None else f'{usual:.1f}'} per window "
                f"(threshold {threshold:.0f} for a {tier}-risk customer)."
            ),
            evidence={
                "window_count": count,
                "new_counterparty_count": n_new,
                "window_seconds": window_seconds,
                "usual_per_window": None if usual is None else round(usual, 3),
                "threshold_count": round(threshold, 3),
                "rate_multiplier": self._tiers[tier][window_seconds != self.s.window_seconds][3],
            },
            dedup_key="velocity",
            # an hour's burst (often tiny, card-testing debits) must not drag the amount baseline down; a
            # busy day is taken back out of it only if another detector finds its amounts anomalous
            anomalous_amount=True,
            unlearn_event_ids=in_window if window_seconds == self.s.window_seconds else (),
        )

    def _large_credit(self, amount: float, ctx: CustomerContext) -> bool:
        baseline = ctx.debit_baseline
        return len(baseline) >= 1 and amount >= self._payday_ratio * baseline.median()

    def state_to_json(self, state: VelocityState) -> Any:
        return state_to_json(state)

    def state_from_json(self, data: Any) -> VelocityState:
        return state_from_json(data, self.s.max_window_events)

    def state_bytes(self, state: VelocityState) -> bytes | None:
        return state_bytes(state)

    def state_from_bytes(self, data: memoryview) -> VelocityState:
        return state_from_bytes(data, self.s.max_window_events)
