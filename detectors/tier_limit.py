"""``tier_limit``: a debit above the per-transaction limit, or a day's debits above the daily limit, set for
the customer's risk tier (corporates get a multiple). Tightening limits for risky customers is the risk
officer's lever; this detector tells them when a limit is crossed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from config.detection import TierLimitSettings
from detectors import money
from detectors.base import NO_FINDINGS, Detector, per_tier
from detectors.context import CustomerContext
from detectors.day_totals import ZERO, DayTotals, day_number, day_text, evidence, from_dated_json
from detectors.findings import Finding, past_threshold_score, severity_by_ratio
from detectors.observation import Observation, TxObservation

MAX_TRACKED_DAYS: Final = 3
MAX_IDS_PER_DAY: Final = 50


class TierLimit(Detector[DayTotals]):
    """A debit over the tier's per-transaction limit, or a day's debits over its daily limit.

    >>> from decimal import Decimal
    >>> from config.detection import TierLimitSettings
    >>> from detectors.context import CustomerContext, DebitBaseline
    >>> from detectors.observation import TxObservation
    >>> limits = TierLimit(TierLimitSettings())
    >>> def debits(tier, *days_and_amounts):
    ...     ctx, state = CustomerContext("c", tier, 100, DebitBaseline(60)), limits.new_state()
    ...     txs = [TxObservation(f"t{i}", 0.0, d, Decimal(a), float(a), True, "transfer", "p", False) for i, (d, a) in enumerate(days_and_amounts)]
    ...     return [(f.evidence["limit_kind"], f.evidence["limit_base"]) for tx in txs for f in limits.update(state, tx, ctx)]
    >>> debits("high", ("2025-01-01", 60000)), debits("medium", ("2025-01-01", 60000))
    ([('per_transaction', '50000')], [])
    >>> debits("medium", *[("2025-01-01", 180000)] * 3), debits("medium", ("2025-01-01", 180000), ("2025-01-02", 180000), ("2025-01-03", 180000))
    ([('daily', '500000')], [])

    State: a ``DayTotals`` row per reporting day (its key the day number shifted, slot 0): the day's debit
    total and the ids of its first debits; the total is a ``Decimal`` while live and a decimal string in
    JSON (parsing and printing it on every debit cost more than the addition)."""

    name = "tier_limit"
    kinds = frozenset({"transaction"})

    def __init__(self, settings: TierLimitSettings) -> None:
        self.s = settings
        self.cooldown_seconds = settings.cooldown_seconds
        # tier -> ((per transaction, daily) for an individual, (per transaction, daily) for a corporate)
        factors = (Decimal(1), settings.corporate_limit_multiplier)
        self._limits = per_tier(
            lambda tier: tuple(
                (
                    settings.per_transaction_limit_base.for_tier(tier) * factor,
                    settings.daily_limit_base.for_tier(tier) * factor,
                )
                for factor in factors
            )
        )
        # the last reporting day seen and its row key, worked out once per day
        self._day = ""
        self._day_key = 0

    def new_state(self) -> DayTotals:
        return DayTotals()

    def update(self, state: DayTotals, obs: Observation, ctx: CustomerContext) -> list[Finding]:
        if not isinstance(obs, TxObservation) or not obs.debit:
            return NO_FINDINGS
        per_tx, daily = self._limits[ctx.tier][ctx.segment == "corporate"]
        if obs.day != self._day:
            self._day, self._day_key = obs.day, day_number(obs.day) << 3
        row = state.find(self._day_key)
        if row < 0:
            state.add_row(self._day_key)
            if len(state) > MAX_TRACKED_DAYS:
                state.keep_days(sorted(state.days())[-MAX_TRACKED_DAYS:])
                row = state.find(self._day_key)  # gone if older than every day kept
            else:
                row = len(state) - 1
        if row >= 0:
            total = state.add(row, obs.amount, obs.event_id, MAX_IDS_PER_DAY)
        else:  # a late debit of a day no longer tracked: judged on its own, not remembered
            total = money.add(ZERO, obs.amount)
        findings: list[Finding] = []
        # over the limit now and not before this debit (total - amount <= daily; all of it exact)
        crossed_daily = total > daily and money.add(daily, obs.amount) >= total
        if obs.amount > per_tx:
            # One event, one alert: a lone transaction over both limits is reported as the per-transaction
            # breach, with the daily breach in its evidence.
            findings.append(
                self._finding(obs, ctx, "per_transaction", obs.amount, per_tx, (obs.event_id,), crossed_daily)
            )
        if crossed_daily:
            ids = evidence(state.ids[row], obs.event_id) if row >= 0 else (obs.event_id,)
            if not findings or len(ids) > 1:
                findings.append(self._finding(obs, ctx, "daily", total, daily, ids, True))
        return findings

    def _finding(
        self,
        obs: TxObservation,
        ctx: CustomerContext,
        limit_kind: str,
        amount: Decimal,
        limit: Decimal,
        ids: tuple[str, ...],
        daily_limit_exceeded: bool,
    ) -> Finding:
        ratio = float(amount / limit)
        what = (
            "Outgoing transaction of"
            if limit_kind == "per_transaction"
            else f"Outgoing total on {obs.day} of"
        )
        return Finding(
            detector=self.name,
            severity=severity_by_ratio(ratio, (2.0, 5.0)),
            score=past_threshold_score(float(amount), float(limit)),
            trigger_event_ids=ids,
            reason=(
                f"{what} {amount:.2f} exceeds the {limit_kind.replace('_', '-')} limit of {limit:.0f} "
                f"for a {ctx.tier}-risk {ctx.segment} customer."
            ),
            evidence={
                "limit_kind": limit_kind,
                "amount_base": str(amount),
                "limit_base": str(limit),
                "tier": ctx.tier,
                "segment": ctx.segment,
                "reporting_day": obs.day,
                "daily_limit_exceeded": daily_limit_exceeded,
            },
            dedup_key=limit_kind if limit_kind == "per_transaction" else f"daily|{obs.day}",
        )

    def state_to_json(self, state: DayTotals) -> Any:
        return state.to_dated_json(_name_of, counted=False)

    def state_bytes(self, state: DayTotals) -> bytes | None:
        return state.to_bytes()

    def state_from_bytes(self, data: memoryview) -> DayTotals:
        return DayTotals.from_bytes(data)

    def state_from_json(self, data: Any) -> DayTotals:  # the day -> [total, ids]
        return from_dated_json(data, lambda day: day_number(day) << 3)


def _name_of(key: int) -> str:
    return day_text(key >> 3)
