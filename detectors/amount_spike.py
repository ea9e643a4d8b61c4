"""``amount_spike``: a debit far above the customer's own baseline of debits.

The baseline is the shared ``DebitBaseline`` (median and MAD of log amounts over the last N debits), so one
earlier spike moves it little, and the engine keeps alerted amounts out of it altogether. A debit must
clear three bars at once: an absolute floor, a ratio to the median, and a robust z-score; repeat payments
to a payee already paid a similar or larger amount (rent, tuition, invoices) are not spikes.
"""

from __future__ import annotations

import math
from typing import Any

from config.detection import AmountSpikeSettings
from detectors.base import NO_FINDINGS, Detector
from detectors.context import CustomerContext
from detectors.findings import Finding, past_threshold_score, severity_by_ratio
from detectors.observation import Observation, TxObservation


class AmountSpike(Detector[None]):
    name = "amount_spike"
    kinds = frozenset({"transaction"})

    def __init__(self, settings: AmountSpikeSettings) -> None:
        self.s = settings
        self.cooldown_seconds = settings.cooldown_seconds

    def new_state(self) -> None:
        return None

    def update(self, state: None, obs: Observation, ctx: CustomerContext) -> list[Finding]:
        if not isinstance(obs, TxObservation) or not obs.debit:
            return NO_FINDINGS
        s = self.s
        baseline = ctx.debit_baseline
        floor = s.min_amount_base.for_tier(ctx.tier)
        if ctx.segment == "corporate":
            floor *= s.corporate_min_amount_multiplier
        if len(baseline) < s.min_history_events or obs.amount < floor:
            return NO_FINDINGS
        log_median, log_mad = baseline.log_median_and_mad()
        median = math.exp(log_median)
        ratio = obs.amount_f / median
        min_ratio = s.min_ratio_to_median.for_tier(ctx.tier)
        if ratio < min_ratio:
            return NO_FINDINGS
        sigma = max(1.4826 * log_mad, s.min_log_mad)
        z = (math.log(obs.amount_f) - log_median) / sigma
        if z < s.min_robust_z.for_tier(ctx.tier) or self._recurring(obs, ctx):
            return NO_FINDINGS
        return [
            Finding(
                detector=self.name,
                severity=severity_by_ratio(ratio / min_ratio, (2.0, 4.0)),
                score=past_threshold_score(ratio, min_ratio),
                trigger_event_ids=(obs.event_id,),
                reason=(
                    f"Outgoing {obs.channel} of {obs.amount:.2f} is {ratio:.1f}x this customer's median "
                    f"outgoing amount of {median:.2f} (threshold {min_ratio:g}x for a {ctx.tier}-risk customer)."
                ),
                evidence={
                    "amount_base": str(obs.amount),
                    "baseline_median_base": round(median, 2),
                    "baseline_events": len(baseline),
                    "ratio_to_median": round(ratio, 3),
                    "robust_z": round(z, 3),
                    "min_ratio_to_median": min_ratio,
                    "min_robust_z": s.min_robust_z.for_tier(ctx.tier),
                    "new_counterparty": not ctx.knows_counterparty(obs.counterparty_id),
                },
                dedup_key="spike",
                anomalous_amount=True,
            )
        ]

    def _recurring(self, obs: TxObservation, ctx: CustomerContext) -> bool:
        if obs.counterparty_id is None:
            return False
        entry = ctx.counterparties.get(obs.counterparty_id)
        if entry is None or entry[0] < self.s.recurring_min_occurrences:
            return False
        # Within tolerance of the largest amount this payee has been paid: a variable invoice or rent, not a
        # spike. (The first large payment to a payee is judged on its own; only repeats are excused.)
        return obs.amount_f <= (1.0 + self.s.recurring_tolerance_ratio) * entry[3]

    def state_to_json(self, state: None) -> Any:
        return None

    def state_from_json(self, data: Any) -> None:
        return None
