"""``velocity_spike``: far more transactions in a sliding window than the customer's usual rate.

The usual rate comes from whole days before the current one (so today's burst does not raise its own bar),
spread over the customer's active hours. A floor per tier stops quiet customers alerting on a handful of
purchases; in the cold start only the floor applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from config.detection import VelocitySpikeSettings
from detectors.base import NO_FINDINGS, Detector
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


class VelocitySpike(Detector[VelocityState]):
    name = "velocity_spike"
    kinds = frozenset({"transaction"})

    def __init__(self, settings: VelocitySpikeSettings, allowed_lateness_seconds: int) -> None:
        self.s = settings
        self.lateness = allowed_lateness_seconds
        self.cooldown_seconds = settings.cooldown_seconds

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
        window.evict_before(now - s.window_seconds - self.lateness)
        # Cheap test first: most transactions are nowhere near even the tier's floor.
        floor = s.min_window_count.for_tier(ctx.tier)
        count = window.count_between(now - s.window_seconds, now)
        if count < floor or obs.ts <= now - s.window_seconds:
            return NO_FINDINGS  # below the floor, or a late event outside the current window
        # The usual rate is that of whole days before today, as it stood before this event.
        usual = self._usual_per_window(state, first_ts, today, now, late_today=day < today)
        threshold = max(floor, s.rate_multiplier.for_tier(ctx.tier) * usual) if usual is not None else floor
        if count < threshold:
            return NO_FINDINGS
        in_window = window.between(now - s.window_seconds, now)
        ratio = count / threshold
        return [
            Finding(
                detector=self.name,
                severity=severity_by_ratio(ratio, (1.5, 2.5)),
                score=past_threshold_score(count, threshold),
                trigger_event_ids=tuple(eid for _, eid, _ in in_window),
                reason=(
                    f"{count} transactions within {s.window_seconds // 60} minutes, against a usual "
                    f"{'(not yet known)' if usual is None else f'{usual:.1f}'} per window "
                    f"(threshold {threshold:.0f} for a {ctx.tier}-risk customer)."
                ),
                evidence={
                    "window_count": count,
                    "window_seconds": s.window_seconds,
                    "usual_per_window": None if usual is None else round(usual, 3),
                    "threshold_count": round(threshold, 3),
                    "min_window_count": floor,
                    "rate_multiplier": s.rate_multiplier.for_tier(ctx.tier),
                },
                dedup_key="velocity",
                # a burst's (often tiny, card-testing) debits must not drag the amount baseline down
                anomalous_amount=True,
                unlearn_event_ids=tuple(eid for _, eid, _ in in_window),
            )
        ]

    def _usual_per_window(
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
        per_active_second = past / full_days / (self.s.active_hours_per_day * 3600.0)
        return per_active_second * self.s.window_seconds

    def state_to_json(self, state: VelocityState) -> Any:
        return {
            "window": state.window.to_json(),
            "daily_counts": [[d, c] for d, c in state.daily_counts.items()],
            "first_ts": state.first_ts,
        }

    def state_view(self, state: VelocityState) -> Any:
        return {
            "window": state.window.view(),
            "daily_counts": list(state.daily_counts.items()),
            "first_ts": state.first_ts,
        }

    def state_from_json(self, data: Any) -> VelocityState:
        return VelocityState(
            window=EventWindow.from_json(data["window"], self.s.max_window_events),
            daily_counts={int(d): int(c) for d, c in data["daily_counts"]},
            first_ts=data["first_ts"],
        )
