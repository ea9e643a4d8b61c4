"""``amount_spike``: a debit far above the customer's own baseline of debits."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from config.detection import AmountSpikeSettings
from detectors.base import NO_FINDINGS, Detector, per_tier
from detectors.context import CustomerContext
from detectors.findings import Finding, past_threshold_score, severity_by_ratio
from detectors.observation import Observation, TxObservation

#: how a reason names the debit, by channel (a transfer is a transfer)
_DEBIT_NAMES = {
    "card": "card payment",
    "online": "online payment",
    "atm": "ATM withdrawal",
    "cash": "cash withdrawal",
}


@dataclass(frozen=True, slots=True)
class _TierBars:
    """The settings of one risk tier, resolved once."""

    min_ratio_to_median: float
    min_robust_z: float
    max_required_ratio_to_median: float
    severity_floor: tuple[Decimal, Decimal]  # (individual, corporate)


class AmountSpike(Detector[None]):
    """One debit many times the customer's median debit (the shared ``DebitBaseline``: median and MAD of log
    amounts over the last debits, alerted amounts kept out) and above the largest debit they are known to
    make. The base bar is for push payments (a transfer or online-banking payment without a merchant
    category: irreversible once sent), how a compromised account is cashed out or a scammed customer pays.

    The bar is the tier's multiple of the median, raised while the history is short, lifted for customers
    whose spending varies (robust z) but never above ``max_required_ratio_to_median``: an extreme multiple
    alerts whoever the customer is. Merchant purchases (card rails: chargeback rights, and a car or a
    holiday is an ordinary big purchase) ask ``merchant_purchase_ratio_factor`` times more (None: not
    judged), except in the categories that move money on (crypto, quasi-cash, money transfer, betting:
    ``cash_out_merchant_categories``), which are cash-outs on card rails and ask the push payment's bar;
    cash ``cash_ratio_factor`` times more. A payee the
    customer has paid before asks ``known_payee_ratio_factor`` times more, unless this payment is over
    ``known_payee_max_ratio_to_largest_paid`` times what it was paid (a test payment does not make a mule
    known). Money never hides a spike; below the segment's severity floor the alert is one level lower. A
    repeat payment of a similar amount to a payee paid before is not a spike.

    >>> from config.detection import AmountSpikeSettings
    >>> from detectors.context import CustomerContext, DebitBaseline
    >>> from detectors.observation import TxObservation
    >>> from decimal import Decimal
    >>> ctx = CustomerContext("c", "medium", 100, DebitBaseline(60))
    >>> for i in range(12):
    ...     ctx.debit_baseline.add(20.0 + i, f"d{i}")
    >>> spike = AmountSpike(AmountSpikeSettings())
    >>> def transfer(amount):  # on day 0 of a customer first seen on day 0: a short history
    ...     obs = TxObservation("t", 0.0, "2025-01-01", Decimal(amount), float(amount), True, "transfer", "p", False)
    ...     return [(f.severity, f.evidence["required_ratio_to_median"]) for f in spike.update(None, obs, ctx)]
    >>> def card(amount):
    ...     obs = TxObservation("t", 0.0, "2025-01-01", Decimal(amount), float(amount), True, "card", "m", False)
    ...     return [(f.severity, f.evidence["required_ratio_to_median"]) for f in spike.update(None, obs, ctx)]
    >>> transfer(1200), transfer(1500), card(1500), card(7000)
    ([], [('low', 54.0)], [], [('medium', 270.0)])
    >>> crypto = TxObservation("t", 0.0, "2025-01-01", Decimal(1500), 1500.0, True, "card", "x", False, "6051")
    >>> [(f.severity, f.evidence["required_ratio_to_median"]) for f in spike.update(None, crypto, ctx)]
    [('low', 54.0)]
    """

    name = "amount_spike"
    kinds = frozenset({"transaction"})

    def __init__(self, settings: AmountSpikeSettings) -> None:
        self.s = settings
        self.cooldown_seconds = settings.cooldown_seconds
        # (individual, corporate) noise floors as floats: compared on every debit
        self._min_amount = (
            float(settings.min_amount_base.individual),
            float(settings.min_amount_base.corporate),
        )
        self._merchant_channels = frozenset(settings.merchant_channels)
        self._cash_channels = frozenset(settings.cash_channels)
        self._cash_out_categories = frozenset(settings.cash_out_merchant_categories)
        # read on every debit: plain attributes (a pydantic one costs several times as much to read)
        self._merchant_factor = settings.merchant_purchase_ratio_factor
        self._cash_factor = settings.cash_ratio_factor
        self._min_history_events = settings.min_history_events
        self._full_history_events = settings.full_history_events
        self._history_span = max(1, settings.full_history_events - settings.min_history_events)
        self._full_history_days = settings.full_history_days
        self._short_history_factor = settings.short_history_ratio_factor
        self._tiers = per_tier(
            lambda tier: _TierBars(
                settings.min_ratio_to_median.for_tier(tier),
                settings.min_robust_z.for_tier(tier),
                settings.max_required_ratio_to_median.for_tier(tier),
                (
                    settings.severity_floor_base.get("individual", tier),
                    settings.severity_floor_base.get("corporate", tier),
                ),
            )
        )

    def new_state(self) -> None:
        return None

    def update(self, state: None, obs: Observation, ctx: CustomerContext) -> list[Finding]:
        if not isinstance(obs, TxObservation) or not obs.debit:
            return NO_FINDINGS
        s, baseline, tier = self.s, ctx.debit_baseline, ctx.tier
        rail_factor = 1.0
        if obs.merchant_category in self._cash_out_categories:
            pass  # crypto, quasi-cash, a money transfer bought by card: a cash-out, the push payment's bar
        elif obs.merchant_category is not None or obs.channel in self._merchant_channels:
            merchant_factor = self._merchant_factor
            if merchant_factor is None:
                return NO_FINDINGS
            rail_factor = merchant_factor
        elif obs.channel in self._cash_channels:
            rail_factor = self._cash_factor
        bars = self._tiers[tier]
        n = len(baseline)
        if n < self._min_history_events or obs.amount_f < self._min_amount[ctx.segment == "corporate"]:
            return NO_FINDINGS
        log_median = baseline.log_median()
        median = baseline.median()
        ratio = obs.amount_f / median
        by_count = (self._full_history_events - n) / self._history_span
        full_days = self._full_history_days
        by_days = 1.0 - ctx.history_days(obs.ts) / full_days if full_days else 0.0
        shortfall = min(1.0, max(max(0.0, by_count), by_days))  # two at a time: compiled, a native max
        history_factor = (1.0 + (self._short_history_factor - 1.0) * shortfall) * rail_factor
        if bars.min_ratio_to_median >= 0.0 and ratio < bars.min_ratio_to_median * history_factor:
            # below the bar even for a new payee: a known payee's (a factor of at least 1 more) is higher
            # still, so the payee need not be looked up, as it was on nearly every debit
            return NO_FINDINGS
        if self._established(obs, ctx):
            history_factor *= s.known_payee_ratio_factor
        min_ratio = bars.min_ratio_to_median * history_factor
        if ratio < min_ratio:
            return NO_FINDINGS
        sigma = max(1.4826 * baseline.log_median_and_mad()[1], s.min_log_mad)
        z = (math.log(obs.amount_f) - log_median) / sigma
        # The spread gate as a multiple of the median, capped so it never hides an extreme multiple.
        bar = max(
            min_ratio,
            min(
                math.exp(bars.min_robust_z * sigma),
                bars.max_required_ratio_to_median * history_factor,
            ),
        )
        largest = ctx.largest_payment()
        if ratio < bar or obs.amount_f <= s.min_ratio_to_largest * largest or self._recurring(obs, ctx):
            return NO_FINDINGS
        severity = severity_by_ratio(ratio / bar, (2.0, 4.0))
        floor = bars.severity_floor[ctx.segment == "corporate"]
        if obs.amount < floor:
            severity = severity_by_ratio(ratio / bar, (2.0, 4.0), low="low")
        return [
            Finding(
                detector=self.name,
                severity=severity,
                score=past_threshold_score(ratio, bar),
                trigger_event_ids=(obs.event_id,),
                reason=(
                    f"Outgoing {_DEBIT_NAMES.get(obs.channel, obs.channel)} of {obs.amount:.2f} is {ratio:.1f}x this customer's median "
                    f"outgoing amount of {median:.2f} (threshold {bar:.1f}x for a {tier}-risk customer "
                    f"with {n} debits of history)."
                ),
                evidence={
                    "amount_base": str(obs.amount),
                    "baseline_median_base": round(median, 2),
                    "baseline_events": n,
                    "ratio_to_median": round(ratio, 3),
                    "robust_z": round(z, 3),
                    "required_ratio_to_median": round(bar, 3),
                    "baseline_largest_base": round(largest, 2),
                    "min_robust_z": bars.min_robust_z,
                    "severity_floor_base": str(floor),
                    "new_counterparty": not ctx.knows_counterparty(obs.counterparty_id),
                },
                dedup_key="spike",
                anomalous_amount=True,
            )
        ]

    def _established(self, obs: TxObservation, ctx: CustomerContext) -> bool:
        """A payee this customer has already paid: a larger bill from a relationship they set up themselves
        is far less often a drain than money to somebody new. Not so when this payment dwarfs what the
        payee was ever paid: fraudsters send a small test payment to a mule before the drain."""
        entry = None if obs.counterparty_id is None else ctx.counterparties.get(obs.counterparty_id)
        return (
            entry is not None
            and entry[0] >= self.s.recurring_min_occurrences
            and obs.amount_f <= self.s.known_payee_max_ratio_to_largest_paid * entry[1]
        )

    def _recurring(self, obs: TxObservation, ctx: CustomerContext) -> bool:
        if obs.counterparty_id is None:
            return False
        entry = ctx.counterparties.get(obs.counterparty_id)
        if entry is None or entry[0] < self.s.recurring_min_occurrences:
            return False
        # Within tolerance of the largest amount this payee has been paid: a variable invoice or rent, not a
        # spike. (The first large payment to a payee is judged on its own; only repeats are excused.)
        return obs.amount_f <= (1.0 + self.s.recurring_tolerance_ratio) * entry[1]

    def state_to_json(self, state: None) -> Any:
        return None

    def state_from_json(self, data: Any) -> None:
        return None
