"""``velocity_spike``: far more transactions in a sliding window than the customer's usual rate.

Two windows: an hour (against the usual rate spread over the customer's active hours) and a day (against
the usual daily count). The usual rate comes from whole days before the current one, so today's burst does
not raise its own bar. A small minimum count per tier keeps a handful of purchases from alerting; the
multiple of the customer's own rate is the real bar, so a quiet customer's burst of tens of times their
rate alerts. In the cold start only the minimum counts apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from config.detection import VelocitySpikeSettings
from detectors.base import NO_FINDINGS, Detector, per_tier
from detectors.context import CustomerContext
from detectors.findings import Finding, past_threshold_score, severity_by_ratio
from detectors.observation import Observation, TxObservation
from detectors.window import EventWindow

DAY_SECONDS = 86400


@dataclass(slots=True)
class VelocityState:
    window: EventWindow
    # UTC day number -> transactions that day, for the last ``baseline_days`` days
    daily_counts: dict[int, int] = field(default_factory=dict)
    first_ts: float | None = None
    # event time of the last day-window finding: a busy day is one pattern, however long it stays busy
    day_alert_ts: float | None = None


@dataclass(frozen=True, slots=True)
class _TierBars:
    """The settings of one risk tier, resolved once."""

    min_window_count: float
    min_day_window_count: float
    cold_start_min_window_count: float
    rate_multiplier: float
    day_rate_multiplier: float


class VelocitySpike(Detector[VelocityState]):
    name = "velocity_spike"
    kinds = frozenset({"transaction"})

    def __init__(self, settings: VelocitySpikeSettings, allowed_lateness_seconds: int) -> None:
        self.s = settings
        self.lateness = allowed_lateness_seconds
        self.cooldown_seconds = settings.cooldown_seconds
        self._tiers = per_tier(
            lambda tier: _TierBars(
                settings.min_window_count.for_tier(tier),
                settings.min_day_window_count.for_tier(tier),
                settings.cold_start_min_window_count.for_tier(tier),
                settings.rate_multiplier.for_tier(tier),
                settings.day_rate_multiplier.for_tier(tier),
            )
        )

    def new_state(self) -> VelocityState:
        return VelocityState(window=EventWindow(self.s.max_window_events))

    def update(self, state: VelocityState, obs: Observation, ctx: CustomerContext) -> list[Finding]:
        if not isinstance(obs, TxObservation):
            return NO_FINDINGS
        s = self.s
        now = state.window.latest(obs.ts)
        today = int(now // DAY_SECONDS)
        day = int(obs.ts // DAY_SECONDS)
        first_ts = state.first_ts
        state.daily_counts[day] = state.daily_counts.get(day, 0) + 1
        if len(state.daily_counts) > s.baseline_days + 1:
            oldest_day = today - s.baseline_days
            for d in [d for d in state.daily_counts if d < oldest_day]:
                del state.daily_counts[d]
        state.first_ts = obs.ts if first_ts is None else min(first_ts, obs.ts)

        window = state.window
        window.add(obs.ts, obs.event_id)
        window.evict_before(now - max(s.window_seconds, s.day_window_seconds) - self.lateness)
        if obs.ts <= now - s.window_seconds:
            return NO_FINDINGS  # a late event outside the current hour: judged when it came is enough
        # Cheap tests first: most transactions are nowhere near even the minimum counts.
        tier = ctx.tier
        bars = self._tiers[tier]
        floor, day_floor = bars.min_window_count, bars.min_day_window_count
        count = window.count_between(now - s.window_seconds, now)
        day_count = window.count_between(now - s.day_window_seconds, now)
        if count < floor and day_count < day_floor:
            return NO_FINDINGS
        # The usual rate is that of whole days before today, as it stood before this event.
        per_day = self._usual_per_day(state, first_ts, today, now, late_today=day < today)
        if count >= floor:
            if per_day is None:
                usual, threshold = None, bars.cold_start_min_window_count
            else:
                usual = per_day / (s.active_hours_per_day * 3600.0) * s.window_seconds
                threshold = max(floor, bars.rate_multiplier * usual)
            if count >= threshold:
                return [self._finding(state, obs, tier, count, usual, threshold, s.window_seconds)]
        if day_count >= day_floor and per_day is not None:  # no day-scale judgement without a usual rate
            usual = per_day * s.day_window_seconds / DAY_SECONDS
            threshold = max(day_floor, bars.day_rate_multiplier * usual)
            last = state.day_alert_ts
            if day_count >= threshold and (last is None or abs(obs.ts - last) >= s.day_window_seconds):
                state.day_alert_ts = obs.ts
                return [self._finding(state, obs, tier, day_count, usual, threshold, s.day_window_seconds)]
        return NO_FINDINGS

    def _finding(
        self,
        state: VelocityState,
        obs: TxObservation,
        tier: str,
        count: int,
        usual: float | None,
        threshold: float,
        window_seconds: int,
    ) -> Finding:
        now = state.window.latest(obs.ts)
        in_window = state.window.between(now - window_seconds, now)
        ratio = count / threshold
        span = (
            f"{window_seconds // 60} minutes" if window_seconds < 7200 else f"{window_seconds / 3600:g} hours"
        )
        return Finding(
            detector=self.name,
            severity=severity_by_ratio(ratio, (1.5, 2.5)),
            score=past_threshold_score(count, threshold),
            trigger_event_ids=tuple(eid for _, eid, _ in in_window),
            reason=(
                f"{count} transactions within {span}, against a usual "
                f"{'(not yet known)' if usual is None else f'{usual:.1f}'} per window "
                f"(threshold {threshold:.0f} for a {tier}-risk customer)."
            ),
            evidence={
                "window_count": count,
                "window_seconds": window_seconds,
                "usual_per_window": None if usual is None else round(usual, 3),
                "threshold_count": round(threshold, 3),
                "rate_multiplier": (
                    self._tiers[tier].rate_multiplier
                    if window_seconds == self.s.window_seconds
                    else self._tiers[tier].day_rate_multiplier
                ),
            },
            dedup_key="velocity",
            # an hour's burst (often tiny, card-testing debits) must not drag the amount baseline down; a
            # busy day is taken back out of it only if another detector finds its amounts anomalous
            anomalous_amount=True,
            unlearn_event_ids=tuple(eid for _, eid, _ in in_window)
            if window_seconds == self.s.window_seconds
            else (),
        )

    def _usual_per_day(
        self, state: VelocityState, first_ts: float | None, today: int, now: float, *, late_today: bool
    ) -> float | None:
        if first_ts is None:
            return None
        history_days = min(float(self.s.baseline_days), (now - first_ts) / DAY_SECONDS)
        if history_days < max(self.s.min_history_days, 1):
            return None
        oldest = today - self.s.baseline_days
        past = sum(c for d, c in state.daily_counts.items() if oldest <= d < today) - (1 if late_today else 0)
        full_days = max(1.0, min(float(self.s.baseline_days), float(today - int(first_ts // DAY_SECONDS))))
        return past / full_days

    def state_to_json(self, state: VelocityState) -> Any:
        return {
            "window": state.window.to_json(),
            "daily_counts": [[d, c] for d, c in state.daily_counts.items()],
            "first_ts": state.first_ts,
            "day_alert_ts": state.day_alert_ts,
        }

    def state_view(self, state: VelocityState) -> Any:
        return {
            "window": state.window.view(),
            "daily_counts": list(state.daily_counts.items()),
            "first_ts": state.first_ts,
            "day_alert_ts": state.day_alert_ts,
        }

    def state_from_json(self, data: Any) -> VelocityState:
        return VelocityState(
            window=EventWindow.from_json(data["window"], self.s.max_window_events),
            daily_counts={int(d): int(c) for d, c in data["daily_counts"]},
            first_ts=data["first_ts"],
            day_alert_ts=data["day_alert_ts"],
        )
