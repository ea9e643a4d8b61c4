"""``sustained_shift``: over days, several debits at new merchants moderately but persistently above the
customer's baseline."""

from __future__ import annotations

import math
from typing import Any

from config.detection import SustainedShiftSettings
from detectors.base import NO_FINDINGS, Detector, per_tier
from detectors.context import CustomerContext
from detectors.excess_cusum import learn, standardised, step
from detectors.far_payments import far_run_report, note_far
from detectors.findings import Finding, severity_by_ratio
from detectors.observation import Observation, TxObservation
from detectors.shift_runs import Report, count_report, cusum_report, most_surprising_run
from detectors.shift_state import (
    DAY,
    ShiftState,
    count_day,
    forget_reported,
    is_new_payee,
    new_shift_state,
    slide_window,
    state_bytes,
    state_from_bytes,
    state_from_json,
    state_to_json,
    state_view,
)


class SustainedShift(Detector[ShiftState]):
    """A card or account drained in steps: no single debit is extreme, but more debits at merchants the
    customer never paid, each well above their usual amounts, than their own history makes likely; or card
    payments anywhere, each far above how widely this customer's own payments spread.

    A debit counts when it is a card or online payment (a trip abroad has its own habits and is left out)
    to a payee the customer has not paid before, at ``level_ratios_to_median[0]`` times their median debit
    or more. Its chance for this customer is their own share of such new-merchant debits times the share
    of their debits at least that high (from their baseline without the window's elevated debits, shrunk
    towards a log-normal tail with their robust spread, itself pooled with a wide prior spread while the
    history is short). Each level and each run of elevated debits ending now that starts on a day and spans
    ``min_elevated_days`` days (at most ``max_elevated_per_day`` a day: a spree is one evening) is tested
    among the window's debits with a beta-binomial: the customer's rate is known only as well as the debits
    behind it, so a short or bursty history asks for more. The smallest tail times the tests tried must be
    under the false-alert budget. Counting forgets how dear the debits were, so a CUSUM of every new-merchant
    payment's log excess over the median, in the customer's own spread of such payments
    (``detectors.excess_cusum``), also alerts once it crosses the decision interval that its
    ``cusum_false_alerts_per_customer_month`` and the customer's rate of new-merchant payments set, with at
    least ``cusum_min_debits`` elevated debits on ``cusum_min_days`` days behind it. Both judge against
    wide priors, which hide a narrow spender's drain: runs of card payments at any merchant, each far
    above the customer's own upper spread (``detectors.far_payments``), are tested as the count's runs.

    >>> from decimal import Decimal
    >>> from config.detection import SustainedShiftSettings
    >>> from detectors.context import CustomerContext, DebitBaseline
    >>> from detectors.observation import TxObservation
    >>> ctx = CustomerContext("c", "medium", 100, DebitBaseline(60))
    >>> for i in range(30):
    ...     ctx.debit_baseline.add(40.0 + i % 7, f"d{i}")
    ...     ctx.remember_counterparty(f"m{i % 5}", 40.0)
    >>> shift = SustainedShift(SustainedShiftSettings())
    >>> def drain(channel):  # every third payment 200 (about 5x the median) at a new shop, over six days
    ...     state = shift.new_state()
    ...     def debit(i, amount, payee):
    ...         obs = TxObservation(f"t{i}", i * 43200.0, "", Decimal(amount), float(amount), True, channel, payee, False)
    ...         return shift.update(state, obs, ctx)
    ...     return [f.trigger_event_ids for i in range(12) for f in debit(i, *((200, f"n{i}") if i % 3 == 0 else (42, "m1")))]
    >>> drain("card")  # far above this narrow spender's spread: two suffice (the engine's cooldown keeps one alert)
    [('t0', 't3'), ('t6', 't9')]
    >>> drain("online")  # the count test's four
    [('t0', 't3', 't6', 't9')]
    """

    name = "sustained_shift"
    kinds = frozenset({"transaction"})

    def __init__(self, settings: SustainedShiftSettings) -> None:
        self.s = settings
        self.cooldown_seconds = settings.cooldown_seconds
        self._min_amount = (
            float(settings.min_amount_base.individual),
            float(settings.min_amount_base.corporate),
        )
        self._window_days = max(1, settings.window_seconds // DAY)
        self._log_levels = [math.log(r) for r in settings.level_ratios_to_median]
        self._channels = frozenset(settings.channels)
        self._budgets = per_tier(settings.false_alert_budget_per_check.for_tier)
        self._cusum_budgets = per_tier(settings.cusum_false_alerts_per_customer_month.for_tier)
        self._far_budgets = per_tier(settings.far_false_alert_budget_per_check.for_tier)
        # read per debit: plain attributes (a pydantic one costs several times as much to read)
        self._min_history_events = settings.min_history_events
        self._halving = settings.history_halving_debits
        self._prior_log_sd = settings.cusum_prior_log_sd
        self._prior_weight = settings.cusum_prior_weight_payments
        self._reference = settings.cusum_reference_sds
        self._max_step = settings.cusum_max_step_sds
        self._window_seconds = settings.window_seconds
        self._log_far = math.log(settings.far_min_ratio_to_median)
        self._far_channels = frozenset(settings.far_channels)
        self._log_far_most = math.log(settings.far_max_ratio_to_median)

    def new_state(self) -> ShiftState:
        return new_shift_state(self.s.max_elevated_events, len(self._log_levels))

    def update(self, state: ShiftState, obs: Observation, ctx: CustomerContext) -> list[Finding]:
        if not isinstance(obs, TxObservation) or not obs.debit:
            return NO_FINDINGS
        s, baseline = self.s, ctx.debit_baseline
        day = int(obs.ts // DAY)
        if day < slide_window(state, day, self._window_days, baseline, self._halving):
            return NO_FINDINGS  # too late to belong to the window
        if len(baseline) < self._min_history_events:
            return NO_FINDINGS  # counted neither way: the customer's habits are not known yet
        count_day(state, day)
        history = state.history
        history[0] += 1
        if obs.cross_border or obs.channel not in self._channels:
            return NO_FINDINGS
        log_median = baseline.log_median()  # robust: a few pending drains hardly move it
        excess = math.log(obs.amount_f) - log_median
        large = obs.amount_f >= self._min_amount[ctx.segment == "corporate"]
        far = (
            note_far(self.s, state, obs, ctx, excess, log_median)
            if large and self._log_far <= excess <= self._log_far_most and obs.channel in self._far_channels
            else 0.0
        )
        if not is_new_payee(state, obs.counterparty_id, ctx):
            return self._far_findings(state, ctx, far, log_median) if far else NO_FINDINGS
        history[1] += 1
        if history[0] > self._halving:
            history[:] = [h / 2 for h in history]
            state.far_seen /= 2
        elevated = large and excess >= self._log_levels[0]
        cusum = state.cusum
        y = standardised(cusum, excess, self._prior_log_sd, self._prior_weight)
        if not elevated:  # elevated ones are learned once they leave the window unreported
            learn(cusum, excess, self._halving)
        step(cusum, y, obs.ts, self._reference, self._max_step, self._window_seconds)
        if not elevated:
            return self._far_findings(state, ctx, far, log_median) if far else NO_FINDINGS
        pending = {eid for _, eid, _ in state.elevated}  # before this one: out of the count test's baseline
        levels = [i for i, lv in enumerate(self._log_levels) if excess >= lv]
        for i in levels:
            history[2 + i] += 1
        state.elevated.add(obs.ts, obs.event_id, [levels[-1], obs.counterparty_id, str(obs.amount)])
        budget = self._budgets[ctx.tier]
        best = None
        if len(state.elevated) >= s.min_elevated_debits:  # fewer: no run to test, and no baseline to sort
            best = most_surprising_run(s, state, self._log_levels, baseline, pending, log_median, budget)
        found: Report | None
        if best is not None and best[0] <= budget:
            found = count_report(best, s.level_ratios_to_median, log_median, budget)
        else:
            found = cusum_report(s, state, self._window_days, self._cusum_budgets[ctx.tier], log_median)
            if found is None:
                return self._far_findings(state, ctx, far, log_median) if far else NO_FINDINGS
        return [self._report(state, found, log_median)]

    def _far_findings(
        self, state: ShiftState, ctx: CustomerContext, tail: float, log_median: float
    ) -> list[Finding]:
        """The far payments' test, once this payment joined its window (``detectors.far_payments``)."""
        far = state.far
        if far is None or len(far) < self.s.far_min_debits:
            return NO_FINDINGS
        found = far_run_report(self.s, state, list(far), tail, log_median, self._far_budgets[ctx.tier])
        return NO_FINDINGS if found is None else [self._report(state, found, log_median)]

    def _report(self, state: ShiftState, found: Report, log_median: float) -> Finding:
        """The finding; its elevated debits leave the state (``forget_reported``)."""
        s = self.s
        surprise, entries, reason, evidence = found
        forget_reported(state, entries, s.max_elevated_events)
        evidence.update(
            baseline_median_base=round(math.exp(log_median), 2),
            amounts_base=[str(p[2]) for _, _, p in entries],
            window_seconds=s.window_seconds,
        )
        return Finding(
            detector=self.name,
            severity=severity_by_ratio(surprise, (2.0, 4.0)),
            score=round(min(1.0, 1.0 - 1.0 / surprise), 6),
            trigger_event_ids=tuple(eid for _, eid, _ in entries),
            reason=reason,
            evidence=evidence,
            dedup_key="shift",
            anomalous_amount=True,
            unlearn_event_ids=tuple(eid for _, eid, _ in entries),
        )

    def state_to_json(self, state: ShiftState) -> Any:
        return state_to_json(state)

    def state_view(self, state: ShiftState) -> Any:
        return state_view(state)

    def state_from_json(self, data: Any) -> ShiftState:
        return state_from_json(data, self.s.max_elevated_events, len(self._log_levels))

    def state_bytes(self, state: ShiftState) -> bytes | None:
        return state_bytes(state)

    def state_from_bytes(self, data: memoryview) -> ShiftState:
        return state_from_bytes(data, self.s.max_elevated_events, len(self._log_levels))
