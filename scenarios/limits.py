"""The detection settings seen from the generator's side: where each detector's bar lies for a customer.

Patterns are placed clearly past these bars and near-miss noise clearly short of them, so the scenario
stays meaningful when thresholds are tuned. The robust baseline mirrors the contract's description of
``amount_spike`` (median and MAD of log debit amounts over the last N debits).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from config.detection import DetectionSettings


def log_median_sigma(amounts: Sequence[float], min_log_mad: float) -> tuple[float, float]:
    """Median of log amounts and the robust sigma (1.4826 x MAD, floored) of the amounts given."""
    if not amounts:
        return 0.0, min_log_mad
    logs = sorted(math.log(a) for a in amounts if a > 0)
    med = _median(logs)
    mad = _median(sorted(abs(x - med) for x in logs))
    return med, max(1.4826 * mad, min_log_mad)


def _median(values: list[float]) -> float:
    n = len(values)
    mid = n // 2
    return values[mid] if n % 2 else (values[mid - 1] + values[mid]) / 2.0


@dataclass(frozen=True)
class Limits:
    s: DetectionSettings

    # ------------------------------------------------------------------ amount_spike / account_takeover
    def spike_bar(self, tier: str, debits: Sequence[float]) -> float:
        """The smallest new debit that ``amount_spike`` would flag after these debits (inf if too few)."""
        a = self.s.amount_spike
        recent = debits[-a.baseline_window_events :]
        if len(recent) < a.min_history_events:
            return math.inf
        log_med, sigma = log_median_sigma(recent, a.min_log_mad)
        median = math.exp(log_med)
        return max(
            float(a.min_amount_base.for_tier(tier)),
            median * a.min_ratio_to_median.for_tier(tier),
            math.exp(log_med + a.min_robust_z.for_tier(tier) * sigma),
        )

    def ato_bar(self, tier: str, debits: Sequence[float]) -> float:
        a = self.s.account_takeover
        bar = float(a.min_amount_base.for_tier(tier))
        recent = debits[-self.s.amount_spike.baseline_window_events :]
        if len(recent) >= a.min_history_events:
            median = math.exp(log_median_sigma(recent, self.s.amount_spike.min_log_mad)[0])
            bar = max(bar, a.min_ratio_to_median.for_tier(tier) * median)
        return bar

    # ------------------------------------------------------------------------------------ velocity
    def velocity_bar(self, tier: str, daily_rate: float) -> float:
        v = self.s.velocity_spike
        usual = daily_rate / v.active_hours_per_day * (v.window_seconds / 3600.0)
        return max(v.min_window_count.for_tier(tier), v.rate_multiplier.for_tier(tier) * usual)

    def velocity_floor(self, tier: str) -> float:
        return self.s.velocity_spike.min_window_count.for_tier(tier)

    # ---------------------------------------------------------------------------- contact changes
    def burst_min_changes(self, tier: str) -> int:
        return int(self.s.contact_change_burst.min_changes.for_tier(tier))

    # --------------------------------------------------------------------- cash and large value
    @property
    def cash_threshold(self) -> float:
        return float(self.s.large_value.cash_threshold_base)

    @property
    def structuring_floor(self) -> float:
        return self.cash_threshold * self.s.structuring.near_threshold_ratio

    def structuring_min_count(self, tier: str) -> int:
        return int(self.s.structuring.min_transactions.for_tier(tier))

    def transfer_threshold(self, segment: str, cross_border: bool) -> float:
        lv = self.s.large_value
        if segment == "corporate":
            return float(lv.corporate_transfer_threshold_base)
        if cross_border:
            return float(lv.individual_transfer_cross_border_threshold_base)
        return float(lv.individual_transfer_domestic_threshold_base)

    # ---------------------------------------------------------------------------------- tier limits
    def _factor(self, segment: str) -> float:
        return float(self.s.tier_limit.corporate_limit_multiplier) if segment == "corporate" else 1.0

    def per_tx_limit(self, tier: str, segment: str) -> float:
        return float(self.s.tier_limit.per_transaction_limit_base.for_tier(tier)) * self._factor(segment)

    def daily_limit(self, tier: str, segment: str) -> float:
        return float(self.s.tier_limit.daily_limit_base.for_tier(tier)) * self._factor(segment)

    def fx(self, currency: str) -> float:
        return float(self.s.fx_rates_to_base[currency])
